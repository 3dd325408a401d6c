"""Snippets: the stretch of a message's text where the query's words are, with them marked."""

from __future__ import annotations

import re
import unicodedata

from mailarchive.search.query import And, Node, Not, Or, Phrase, Word

WIDTH = 220
MAX_TEXT = 64 * 1024  # snippets come from the start of long messages


def terms(node: Node) -> list[tuple[str, bool]]:
    """The positive words of a query (with whether each is a prefix), for highlighting."""
    found: list[tuple[str, bool]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, And | Or):
            stack.extend(item.items)
        elif isinstance(item, Word):
            found.append((item.text, item.prefix))
        elif isinstance(item, Phrase):
            found.extend((w, False) for w in item.words)
        elif isinstance(item, Not):
            continue
    return found


def _plain(text: str) -> str:
    """Lowercase without accents, keeping the length (so offsets map back to the original)."""
    if text.isascii():
        return text.lower()
    out = []
    for char in text:
        base = unicodedata.normalize("NFKD", char)[:1] or char
        out.append(base.lower() if len(base.lower()) == 1 else char)
    return "".join(out)


def _pattern(words: list[tuple[str, bool]]) -> re.Pattern[str] | None:
    pieces = []
    for word, prefix in sorted(words, key=lambda w: -len(w[0])):
        for token in re.findall(r"\w+", _plain(word)):
            pieces.append(re.escape(token) + (r"\w*" if prefix else r"(?!\w)"))
    if not pieces:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(pieces) + ")")


def snippet(text: str, words: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Up to WIDTH characters of `text` around the first match, as (piece, is_match) pairs."""
    flat = re.sub(r"\s+", " ", text[:MAX_TEXT]).strip()
    pattern = _pattern(words)
    plain = _plain(flat)
    first = pattern.search(plain) if pattern else None
    start = max(0, first.start() - WIDTH // 3) if first else 0
    end = min(len(flat), start + WIDTH)
    pieces: list[tuple[str, bool]] = [("…", False)] if start else []
    cursor = start
    for match in pattern.finditer(plain, start, end) if pattern else ():
        if match.start() > cursor:
            pieces.append((flat[cursor:match.start()], False))
        pieces.append((flat[match.start():match.end()], True))
        cursor = match.end()
    if cursor < end:
        pieces.append((flat[cursor:end], False))
    if end < len(flat):
        pieces.append(("…", False))
    return pieces

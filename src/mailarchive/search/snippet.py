"""Snippets: the stretch of a message's text where the query's words are, with them marked."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache

from mailarchive.search.query import And, Node, Not, Or, Phrase, Word

WIDTH = 220
MAX_TEXT = 64 * 1024  # snippets come from the start of long messages
# Raw characters taken either side of the first match before whitespace is collapsed: enough
# for WIDTH shown characters (a third before the match), however the whitespace falls.
BEFORE, AFTER = 3 * WIDTH, 6 * WIDTH
NARROW = (WIDTH, 2 * WIDTH)  # tried first: enough unless whitespace runs long
# A cut is moved out to whitespace, so that no address is split (and half left unhidden); a
# token longer than this is not cut at all.
MAX_TOKEN = 512
MAX_TRIES = 8  # matches tried before giving up: `clean` may hide them (in addresses)
MAX_FOLDS = 50_000  # distinct characters whose folding is remembered

Pieces = list[tuple[str, bool]]
# A token as the index's tokenizer (FTS5 unicode61) sees it: letters and digits; "_" parts
# words, so that `usbpr` is found in `dlc_usbpr_en` here as it is in the index.
_LETTER = r"[^\W_]"
_TOKEN = re.compile(f"{_LETTER}+")
_BLANK = re.compile(r"\s")
_NONBLANK = re.compile(r"\S")
_LAST_BLANK = re.compile(r".*\s", re.S)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class _Folds(dict[int, str]):
    """str.translate table: a character → its lower-case base letter (one character)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[:1] or char
        folded = base.lower() if len(base.lower()) == 1 else char
        if len(self) < MAX_FOLDS:
            self[code] = folded
        return folded


_FOLDS = _Folds()


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


def fold(text: str) -> str:
    """Lowercase without accents, keeping the length (so offsets map back to the original).
    Only the runs of non-ASCII characters go through the fold table: `str.translate` with a
    mapping looks up every character in Python (0.3 ms for 6,000 characters, where most mail
    holds a few accented names); `bytes.lower` changes ASCII letters only."""
    if text.isascii():
        return text.lower()
    lowered = text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")
    return _NON_ASCII.sub(_fold_run, lowered)


def _fold_run(run: re.Match[str]) -> str:
    return run.group().translate(_FOLDS)


class Finder:
    """The query's words in folded text, each a token that no letter or digit touches (a prefix
    may run on into more of them), as FTS5's unicode61 tokenizer sees words. Found with
    `str.find`: a regular expression made for each query cost more to compile (0.2 ms) than the
    searches it served."""

    def __init__(self, tokens: Sequence[tuple[str, bool]]) -> None:
        self.tokens = tuple(tokens)  # (folded token, prefix), in the order ties go to

    def search(self, plain: str, pos: int = 0, endpos: int | None = None
               ) -> tuple[int, int] | None:
        """The first match at or after `pos` (the text read as if it ended at `endpos`): its
        start and end; at one start, the earliest token wins."""
        end = len(plain) if endpos is None else min(endpos, len(plain))
        best: tuple[int, str, bool] | None = None
        for token, prefix in self.tokens:
            at = _next(plain, token, prefix, pos, end, end if best is None else best[0])
            if at is not None and (best is None or at < best[0]):
                best = (at, token, prefix)
        if best is None:
            return None
        at, token, prefix = best
        stop = at + len(token)
        while prefix and stop < end and plain[stop].isalnum():
            stop += 1
        return at, stop

    def finditer(self, plain: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
        """Every match from `pos` on, none overlapping, each after the one before."""
        found = self.search(plain, pos, endpos)
        while found is not None:
            yield found
            found = self.search(plain, found[1], endpos)


def _next(plain: str, token: str, prefix: bool, pos: int, end: int, before: int) -> int | None:
    """Where `token` first stands as a word (or, `prefix`, starts one) in plain[pos:end]
    (the text read as if it ended at `end`), if that is before `before`."""
    stop = min(end, before + len(token) - 1)  # an occurrence must start before `before`
    at = plain.find(token, pos, stop)
    while at >= 0:
        after = at + len(token)
        if (at == 0 or not plain[at - 1].isalnum()) and (
                prefix or after == end or not plain[after].isalnum()):
            return at
        at = plain.find(token, at + 1, stop)
    return None


@lru_cache(maxsize=256)
def finder(words: tuple[tuple[str, bool], ...]) -> Finder | None:
    """The query's words as a Finder: longer words first, as the marks should cover them."""
    tokens = [(token, prefix) for word, prefix in sorted(words, key=lambda w: -len(w[0]))
              for token in _TOKEN.findall(fold(word))]
    return Finder(tokens) if tokens else None


def _first(found: Finder, plain: str, start: int = 0) -> int | None:
    """Where the first match of the query's words in `plain` (from `start` on) starts."""
    match = found.search(plain, start)
    return match[0] if match else None


def _same(text: str) -> str:
    return text


def snippet(text: str, words: Sequence[tuple[str, bool]],
            clean: Callable[[str], str] = _same) -> Pieces:
    """Up to WIDTH characters of `text` around the first match, as (piece, is_match) pairs;
    `clean` is applied to the part of the text the snippet is cut from (it must keep
    whitespace-separated tokens apart, as hiding addresses does)."""
    return best_snippet([text], words, clean)


def best_snippet(texts: Sequence[str], words: Sequence[tuple[str, bool]],
                 clean: Callable[[str], str] = _same) -> Pieces:
    """The snippet of the first of `texts` in which a word matches (else the start of the
    first). Only a window around the match is cleaned, flattened and marked: the cost does not
    grow with the length of the message."""
    found = first_snippet(texts, words, clean)
    if found is not None:
        return found
    return opening(texts[0] if texts else "", words, clean)


def opening(text: str, words: Sequence[tuple[str, bool]],
            clean: Callable[[str], str] = _same) -> Pieces:
    """The start of `text` as a snippet (for a message whose text holds no word of the query),
    with any word marked that it shows."""
    return _marked(text[:MAX_TEXT], 0, finder(tuple(words)), clean)


def tokens_of(words: Sequence[tuple[str, bool]]) -> tuple[str, ...]:
    """The folded tokens a snippet looks for (see `finder`)."""
    found = finder(tuple(words))
    return tuple(token for token, _ in found.tokens) if found else ()


def first_snippet(texts: Sequence[str], words: Sequence[tuple[str, bool]],
                  clean: Callable[[str], str] = _same) -> Pieces | None:
    """`best_snippet` where a word matches (shown after `clean`); else None."""
    pattern = finder(tuple(words))
    if pattern is None:
        return None
    for text in texts:
        text = text[:MAX_TEXT]
        plain = fold(text)
        found = _first(pattern, plain)
        for _ in range(MAX_TRIES):
            if found is None:
                break
            pieces = _marked(text, found, pattern, clean)
            if any(matched for _, matched in pieces):
                return pieces
            found = _first(pattern, plain, found + 1)  # that match was hidden (an address)
    return None


def _cut(text: str, at: int, before: int = BEFORE, after: int = AFTER) -> tuple[int, int]:
    """Bounds of the window around `at`, moved out to whitespace (or to the ends of the text)."""
    low, high = max(0, at - before), min(len(text), at + after)
    if low > 0 and not text[low].isspace():
        blank = _LAST_BLANK.match(text, max(0, low - MAX_TOKEN), low)
        low = blank.end() - 1 if blank else 0
    if high < len(text):
        blank = _BLANK.search(text, high, high + MAX_TOKEN)
        high = blank.start() if blank else len(text)
    return low, high


def _marked(text: str, at: int, pattern: Finder | None, clean: Callable[[str], str]) -> Pieces:
    """The snippet around the match at `at`. A narrow window is cleaned first; it gives what
    the wide one would whenever it holds WIDTH characters around the match once whitespace is
    collapsed (most text), for a third of the cleaning and flattening."""
    windows = [_cut(text, at, *NARROW), _cut(text, at, BEFORE, AFTER)]
    if windows[0][0] < windows[1][0] or windows[0][1] > windows[1][1]:
        del windows[0]  # a token too long to cut stretched it past the wide one: no use
    for low, high in windows:
        flat = " ".join(clean(text[low:high]).split())  # runs of whitespace as one space
        plain = fold(flat)
        first = pattern.search(plain) if pattern else None
        start = max(0, first[0] - WIDTH // 3) if first else 0
        end = min(len(flat), start + WIDTH)
        # text left out: only whitespace beyond a cut is as if the window reached the end
        left_out = _NONBLANK.search(text, 0, low) is not None
        right_out = _NONBLANK.search(text, high) is not None
        if first and (not left_out or first[0] > WIDTH // 3) and (
                end < len(flat) or not right_out):
            break  # else too little text on one side: the wide window decides
    pieces: Pieces = [("…", False)] if start or left_out else []
    cursor = start
    for low_mark, high_mark in pattern.finditer(plain, start, end) if pattern else ():
        if low_mark > cursor:
            pieces.append((flat[cursor:low_mark], False))
        pieces.append((flat[low_mark:high_mark], True))
        cursor = high_mark
    if cursor < end:
        pieces.append((flat[cursor:end], False))
    if end < len(flat) or right_out:
        pieces.append(("…", False))
    return pieces

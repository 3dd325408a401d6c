"""What the search index sees of a message: pure text extraction and CJK segmentation."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from mailarchive.model import ParsedMessage

# Han, Hiragana, Katakana, Hangul and CJK punctuation: unicode61 would keep a whole run of them
# as one token, so each character becomes a token of its own (the query side does the same).
_CJK_CLASS = (r"([\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
              r"\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f])")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.I | re.S)
# Over lines joined by "\n" with one in front (so no other line break is left, and each pattern
# starts with a literal, which the engine skips to fast): a quoted line, and the signature's
# first line ("-- ": `line.rstrip() == "--"`).
_QUOTED_LINE = re.compile(r"\n[^\S\n]*[>|][^\n]*")
_SIGNATURE = re.compile(r"\n--[^\S\n]*(?=\n|\Z)")
_ASCII_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e")  # str.splitlines' but LF
MAX_FIELD = 200_000


@dataclass(frozen=True)
class Document:
    """The indexed fields of one message, in the FTS table's column order."""

    subject: str
    sender: str
    recipients: str
    body: str
    quoted: str
    filenames: str

    def columns(self) -> tuple[str, str, str, str, str, str]:
        return (self.subject, self.sender, self.recipients, self.body, self.quoted,
                self.filenames)


def segment(text: str) -> str:
    """Text with every CJK character set apart, so that each is a token."""
    if text.isascii():
        return text
    cjk = _cjk()
    return cjk.sub(r" \1 ", text) if cjk.search(text) else text


@cache
def _cjk() -> re.Pattern[str]:
    # compiled on first use: the big character class costs milliseconds of every start-up
    return re.compile(_CJK_CLASS)


def html_text(markup: str) -> str:
    return html.unescape(_TAG.sub(" ", markup))


def split_quoted(text: str) -> tuple[str, str]:
    """The author's own lines, and the quoted lines plus signature (which rank lower). Line by
    line in meaning, but by regular expressions over the whole text: a loop over the lines of
    every message is a good part of an import."""
    head, tail = _head_and_signature(text)
    return _QUOTED_LINE.sub("", head)[1:], _quoted(head, tail)


Signed = tuple[str, str | None]  # `_head_and_signature` of a text: made once, used thrice


def signed(text: str | Signed) -> Signed:
    """A text cut where its signature starts (as it is, if it already is), for `own_lines`,
    `quoted_lines` and `own_lines_hold` (a snippet asks all three of one text)."""
    return _head_and_signature(text) if isinstance(text, str) else text


def own_lines(text: str | Signed) -> str:
    """`split_quoted(text)[0]` alone (a snippet looks at the quoted lines only when the
    author's own hold none of the query's words)."""
    return _QUOTED_LINE.sub("", signed(text)[0])[1:]


def quoted_lines(text: str | Signed) -> str:
    """`split_quoted(text)[1]` alone."""
    return _quoted(*signed(text))


def _quoted(head: str, tail: str | None) -> str:
    quoted = "".join(_QUOTED_LINE.findall(head))[1:]
    if tail is None:
        return quoted
    return f"{quoted}\n{tail}" if quoted else tail


def own_lines_hold(text: str | Signed, tokens: Sequence[str],
                   fold: Callable[[str], str]) -> bool:
    """Whether one of `tokens` stands in a line that `own_lines` keeps, in `text` as `fold`
    folds it (keeping its length). It may say yes for a token inside a longer word, never no
    for one that `own_lines` holds: a snippet asks before it makes the author's text, since
    most hits of a rare word stand only in quoted lines."""
    head = signed(text)[0]
    plain = fold(head)
    for token in tokens:
        at = plain.find(token)
        while at >= 0:
            if not _QUOTED_LINE.match(head, plain.rfind("\n", 0, at)):
                return True
            at = plain.find(token, at + 1)
    return False


def _head_and_signature(text: str) -> tuple[str, str | None]:
    """The lines before the signature, joined by "\n" with one in front; and the signature's."""
    lines = "\n" + _joined_lines(text)
    signature = _SIGNATURE.search(lines)
    if signature is None:
        return lines, None
    return lines[:signature.start()], lines[signature.start() + 1:]


def _joined_lines(text: str) -> str:
    """`"\n".join(text.splitlines())`, without splitting ASCII text whose only line break is
    LF (each `in` is a fast scan; one regular expression for them all is slower than the split)."""
    if not text.isascii() or any(mark in text for mark in _ASCII_BREAKS):
        return "\n".join(text.splitlines())
    return text[:-1] if text.endswith("\n") else text


def document(parsed: ParsedMessage, subject: str) -> Document:
    own: list[str] = []
    quoted: list[str] = []
    for part in parsed.parts:
        if part.kind == "text":
            mine, theirs = split_quoted(part.text)
        elif part.kind == "html":
            mine, theirs = split_quoted(html_text(part.text))
        else:
            continue
        own.append(mine)
        quoted.append(theirs)
    files = " ".join(p.filename or "" for p in parsed.parts if p.filename)
    return Document(
        segment(subject),
        segment(f"{parsed.from_name} {parsed.from_addr}"),
        segment(f"{parsed.to} {parsed.cc}"[:MAX_FIELD]),
        segment("\n".join(own)[:MAX_FIELD]),
        segment("\n".join(quoted)[:MAX_FIELD]),
        segment(files),
    )

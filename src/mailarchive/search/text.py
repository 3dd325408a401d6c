"""What the search index sees of a message: pure text extraction and CJK segmentation."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache

from mailarchive.model import ParsedMessage

# Han, Hiragana, Katakana, Hangul and CJK punctuation: unicode61 would keep a whole run of them
# as one token, so each character becomes a token of its own (the query side does the same).
_CJK_CLASS = (r"([\u2e80-\u2fdf\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
              r"\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f])")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.I | re.S)
_QUOTE = re.compile(r"^\s*(>|\|)")
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
    """The author's own lines, and the quoted lines plus signature (which rank lower)."""
    own: list[str] = []
    other: list[str] = []
    in_signature = False
    for line in text.splitlines():
        if line.rstrip() == "--" and line.startswith("--"):
            in_signature = True
        (other if in_signature or _QUOTE.match(line) else own).append(line)
    return "\n".join(own), "\n".join(other)


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

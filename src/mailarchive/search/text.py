"""What the search index sees of a message: pure text extraction and CJK segmentation."""

from __future__ import annotations

import binascii
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from mailarchive import enriched
from mailarchive.decode import codec_for, decoded
from mailarchive.model import ParsedMessage
from mailarchive.parse import (
    DEFAULT_LIMITS,
    Leaf,
    content_charset,
    is_inline_text,
    media_type,
    message_from_bytes,
    payload_bytes,
    walk,
)

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
# Over the header block with a newline put in front (each pattern then starts with a literal,
# which the regular expression engine finds fast): a content header with its continuation lines,
# and a line the stdlib parser would not take for a header (it would start the body there).
_FIELDS = re.compile(rb"\n(content-type|content-transfer-encoding|content-disposition)[ \t]*:"
                     rb"([^\n]*(?:\n[ \t][^\n]*)*)", re.I)
_NOT_HEADER = re.compile(rb"\n(?![\041-\071\073-\176]*:|[\t ])")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.I)
_PLAIN_ENCODINGS = ("", "7bit", "8bit", "binary")


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


def text_parts(data: bytes) -> list[tuple[str, str]]:
    """(kind, text) of the text and HTML parts of a message's bytes, as `parse` finds them.
    One text part in 7bit, 8bit or quoted-printable, most list mail, is read without building
    the message: its three content headers are all that matter here."""
    head = _plain_head(data)
    if head is None:
        return _walked_text_parts(data)
    simple = _single_text(data, head)
    if simple is not None:
        return [simple]
    return _walked_text_parts(_content_headers_only(data, head) or data)


def _walked_text_parts(data: bytes) -> list[tuple[str, str]]:
    message, _defects = message_from_bytes(data)
    found = []
    for leaf in walk(message):
        text = _leaf_text(leaf) if isinstance(leaf, Leaf) else None
        if text is not None:
            found.append(text)
    return found


def _leaf_text(leaf: Leaf) -> tuple[str, str] | None:
    """(kind, text) of a leaf `parse` shows as text; the parts it shows as attachments are not
    decoded at all (a snippet has no use for megabytes of base64)."""
    part = leaf.part
    ctype = media_type(part)
    if leaf.hidden or not is_inline_text(ctype, str(part.get("content-disposition", ""))):
        return None
    text = _decoded(payload_bytes(part), content_charset(part))
    text = enriched.as_plain(ctype, text)
    return ("html" if ctype == "text/html" else "text"), text[:DEFAULT_LIMITS.max_text_chars]


_Head = tuple[int, list[re.Match[bytes]]]  # where the header block ends; its content fields


def _plain_head(data: bytes) -> _Head | None:
    """Where a plain header block ends (LF only, every line a field or a continuation), and
    its content header fields with their continuation lines, in order; None for any other
    block (the whole parse decides there)."""
    end = data.find(b"\n\n")  # no CR in the header block, so this is where `parse` ends it
    if end < 0 or b"\r" in data[:end] or data.startswith((b" ", b"\t", b"From ")):
        return None
    head = b"\n" + data[:end]
    if _NOT_HEADER.search(head):
        return None
    return end, list(_FIELDS.finditer(head))


def _content_headers_only(data: bytes, head: _Head) -> bytes | None:
    """The message with its content headers alone (list mail carries fifty header lines, and
    the parse made a field of each and searched them all for every look-up): the MIME tree,
    and so the text, are the same."""
    end, found = head
    if not found or end > DEFAULT_LIMITS.max_header_bytes:
        return None
    return b"".join(match.group(0) for match in found)[1:] + b"\n\n" + data[end + 2:]


def _single_text(data: bytes, head: _Head) -> tuple[str, str] | None:
    end, found = head
    fields: dict[str, str] = {}
    for match in found:
        fields.setdefault(match.group(1).decode().lower(), match.group(2).decode("latin-1"))
    ctype = fields.get("content-type", "text/plain")
    kind = {"text/plain": "text", "text/html": "html"}.get(ctype.split(";")[0].strip().lower())
    encoding = fields.get("content-transfer-encoding", "").strip().lower()
    disposition = fields.get("content-disposition", "").split(";")[0].strip().lower()
    if (kind is None or disposition == "attachment" or "*" in ctype
            or encoding not in (*_PLAIN_ENCODINGS, "quoted-printable")):
        return None
    body = data[end + 2:]
    if encoding == "quoted-printable":
        body = binascii.a2b_qp(body)
    charset = _CHARSET.search(ctype)
    return kind, _decoded(body, charset.group(1) if charset else None)


def _decoded(data: bytes, charset: str | None) -> str:
    """`decode_bytes` without its charset detector (tens of milliseconds on some mislabelled
    mail, too slow for a snippet): the declared charset, else UTF-8, else cp1252."""
    for codec in (codec_for(charset), "utf-8"):
        if codec is not None:
            try:
                return decoded(data, codec)
            except UnicodeDecodeError:
                pass
    return data.decode("cp1252", errors="replace")

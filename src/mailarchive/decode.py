"""Turning bytes and header values of unknown quality into text, without ever raising."""

from __future__ import annotations

import codecs
import email.header
import re

_FOLD = re.compile(r"\r?\n[ \t]+|\r(?!\n)")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "euc-kr",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ascii": "us-ascii",
    "utf8": "utf-8",
}


def codec_for(charset: str | None) -> str | None:
    """The Python codec name for a MIME charset, or None when Python does not know it."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if name == "us-ascii":
        return "ascii"
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def guess(data: bytes) -> str:
    """Best-effort text from bytes in no known charset: UTF-8, then a detector, then cp1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if len(data) <= 200_000:
        from charset_normalizer import from_bytes  # slow to import; rarely needed

        best = from_bytes(data).best()
        if best is not None:
            return str(best)
    return data.decode("cp1252", errors="replace")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode `data` declared as `charset`: the text, and a defect note when it had to guess."""
    codec = codec_for(charset)
    if codec is not None:
        try:
            return data.decode(codec), None
        except UnicodeDecodeError:
            if codec == "ascii":
                return guess(data), None if data.isascii() else _wrong(charset)
            return guess(data), _wrong(charset)
    if charset:
        return guess(data), f"unknown charset {charset[:40]!r}: guessed"
    return guess(data), None


def _wrong(charset: str | None) -> str:
    return f"text does not match its declared charset {str(charset)[:40]!r}: guessed"


def unescape_8bit(value: str) -> str:
    """Header text from compat32 carries raw 8-bit bytes as surrogates; decode them for real."""
    if value.isascii():
        return value
    try:
        raw = value.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return value
    return guess(raw)


def header_text(value: str | None) -> str:
    """A header value as display text: 8-bit bytes decoded, RFC 2047 words decoded, unfolded."""
    if not value:
        return ""
    text = _FOLD.sub(" ", unescape_8bit(value))
    if "=?" in text:
        text = _decode_words(text)
    return _CONTROLS.sub("", text).strip()


def _decode_words(text: str) -> str:
    try:
        chunks = email.header.decode_header(text)
    except Exception:  # noqa: BLE001 - HeaderParseError, binascii errors: show it undecoded
        return text
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, str(charset))[0])
    return "".join(out)

"""Turning bytes and header values of unknown quality into text, without ever raising."""

from __future__ import annotations

import codecs
import email.header
import re
from collections.abc import Sequence
from functools import cache

_FOLD = re.compile(r"\r?\n[ \t]+|\r(?!\n)")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_STRAY = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, as surrogateescape keeps it
# a stray byte next to another or to a decoded character (CJK byte pairs can pass for UTF-8)
_STRAY_RUN = re.compile("[\udc80-\udcff][^\x00-\x7f]|[^\x00-\x7f][\udc80-\udcff]")
_UNENDED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\Z")
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "euc-kr",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ascii": "us-ascii",
    "utf8": "utf-8",
}
# The ISO-8859 charsets have only invisible control characters at 0x80-0x9F, so text labelled
# with one that has them was written in something else: UTF-8 when it reads as UTF-8 (a
# compiler's quotes pasted into a Latin-9 mail), else the Windows code page of the same script,
# whose curly quotes, dashes and euro sign sit there (Outlook's "iso-8859-1"; the WHATWG Encoding
# Standard has browsers read Latin-1 as windows-1252 always).
_WINDOWS_PAGE = {"iso8859-1": "cp1252", "iso8859-15": "cp1252", "iso8859-2": "cp1250",
                 "iso8859-7": "cp1253", "iso8859-8": "cp1255", "iso8859-9": "cp1254",
                 "iso8859-13": "cp1257"}
_C1 = re.compile("[\x80-\x9f]")


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


def decoded(data: bytes, codec: str) -> str:
    """`data` in the Python codec `codec` (UnicodeDecodeError if it is not); for an ISO-8859
    charset, the control characters it cannot mean read as what was meant (see _WINDOWS_PAGE)."""
    text = data.decode(codec)
    if not codec.startswith("iso8859-") or _C1.search(text) is None:
        return text
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        page = _WINDOWS_PAGE.get(codec)
        return text if page is None else text.translate(_controls_in(page))


@cache
def _controls_in(page: str) -> dict[int, str]:
    """What a Windows code page has at 0x80-0x9F (the bytes it leaves unassigned stay controls)."""
    return {byte: bytes([byte]).decode(page) for byte in range(0x80, 0xA0)
            if bytes([byte]).decode(page, "ignore")}


def guess(data: bytes, hints: Sequence[str] = ()) -> str:
    """Best-effort text from bytes in no known charset: UTF-8; then `hints`, charsets the same
    message declares elsewhere (raw 8-bit headers are mostly in the body's charset); then, if
    the bytes that are not UTF-8 each stand alone (between ASCII), UTF-8 with those in
    Windows-1252; only runs of 8-bit bytes (East Asian multibyte charsets, Cyrillic words) go
    to a detector."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for charset in hints:
        codec = codec_for(charset)
        if codec is not None and codec not in ("ascii", "utf-8"):
            try:
                return decoded(data, codec)
            except UnicodeDecodeError:
                continue
    text = data.decode("utf-8", "surrogateescape")
    if _STRAY_RUN.search(text) is None or len(data) > 200_000:
        return _STRAY.sub(_as_cp1252, text)
    from charset_normalizer import from_bytes  # slow to import; rarely needed

    best = from_bytes(data).best()
    return str(best) if best is not None else _STRAY.sub(_as_cp1252, text)


def _as_cp1252(stray: re.Match[str]) -> str:
    """A byte that is not UTF-8, standing alone: in Western mail, Windows-1252 (a superset of
    Latin-1's letters). A detector does worse: charset-normalizer read "J<FC>rgen" as Urdu's
    cp1006 and "I<B4>m afraid" as Chinese."""
    return bytes([ord(stray.group()) - 0xDC00]).decode("cp1252", errors="replace")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode `data` declared as `charset`: the text, and a defect note when it had to guess."""
    codec = codec_for(charset)
    if codec is not None:
        try:
            return decoded(data, codec), None
        except UnicodeDecodeError:
            if codec == "ascii":
                return guess(data), None if data.isascii() else _wrong(charset)
            return guess(data), _wrong(charset)
    if charset:
        return guess(data), f"unknown charset {charset[:40]!r}: guessed"
    return guess(data), None


def _wrong(charset: str | None) -> str:
    return f"text does not match its declared charset {str(charset)[:40]!r}: guessed"


def unescape_8bit(value: str, hints: Sequence[str] = ()) -> str:
    """Header text from compat32 carries raw 8-bit bytes as surrogates; decode them for real."""
    raw = None if value.isascii() else _raw_bytes(value)
    return value if raw is None else guess(raw, hints)


def header_text(value: str | None, hints: Sequence[str] = ()) -> str:
    """A header value as display text: 8-bit bytes decoded, RFC 2047 words decoded, unfolded.
    `hints`: charsets declared elsewhere in the message, for raw 8-bit bytes (see `guess`)."""
    if not value:
        return ""
    text = _FOLD.sub(" ", value)
    if "=?" in text:
        if _UNENDED_WORD.search(text):
            text += "?="  # a header cut off inside its last encoded word: as mail clients do
        text = _decode_words(text, hints)
    else:
        text = unescape_8bit(text, hints)
    return _CONTROLS.sub("", text).strip()


def _decode_words(text: str, hints: Sequence[str]) -> str:
    """RFC 2047 words decoded with their own charsets, also when raw 8-bit bytes sit inside
    them (`=?iso-8859-1?Q?Fr<F6>sche?=`, <F6> a raw byte): each byte goes to its decoder."""
    raw = _raw_bytes(text)
    try:
        chunks = email.header.decode_header(text if raw is None else raw.decode("latin-1"))
    except Exception:  # noqa: BLE001 - HeaderParseError, binascii errors: show it undecoded
        return unescape_8bit(text, hints)
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):  # no encoded word after all
            out.append(unescape_8bit(text, hints))
        elif charset is not None:
            out.append(decode_bytes(chunk, str(charset))[0])
        elif raw is None:  # text already decoded: decode_header escaped what it could not take
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(guess(chunk, hints))
    return "".join(out)


def _raw_bytes(text: str) -> bytes | None:
    """The bytes of header text read as ASCII with 8-bit bytes as surrogates; None for text
    that holds other non-ASCII characters (already decoded)."""
    try:
        return text.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return None

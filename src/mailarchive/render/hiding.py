"""Addresses hidden in a message's raw bytes, for public downloads (`.eml`, mbox.gz).

The pages hide what they show (`filters`); a download must hide the same addresses wherever a
mail program would show them: in header fields (also inside RFC 2047 encoded words) and in text
parts (also behind base64, quoted-printable, or a charset that is not ASCII-compatible such as
UTF-16). The result stays a message that parses into the same MIME structure.

The common case costs a few regular-expression passes over bytes: the header section is read
with a cheap scanner, and the standard library's parser is used only for header sections that
scanner does not fully understand.
"""

from __future__ import annotations

import binascii
import codecs
import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import unquote
from functools import lru_cache

from mailarchive.parse import DEFAULT_LIMITS
from mailarchive.render import filters

# `ralf@x.org` -> `r...@x.org`, the same pattern as the pages, tried once per run of address
# characters (linear time). A quoted-printable escape that starts the run (`=3Dralf@x.org`) is
# kept whole. The replacement is shorter than what it replaces, so no line grows, and no MIME
# delimiter or base64 line (no `@` in its alphabet) is touched.
_RAW_ADDRESS = re.compile(filters.ADDRESS.encode("ascii"))
# The same matches found from their `@`: the pattern from it starts with a literal, which the
# engine skips to fast, where ADDRESS's look-behind must be tried at every position. The local
# part is then the run of address characters before the `@` (see `_hidden`).
_AT_DOMAIN = re.compile(rb"@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+")
_LOCAL_CHARS = bytes(c for c in range(128) if re.fullmatch(f"[{filters.ATOM}]", chr(c)))
_LOCAL_WINDOW = 256
_QP_ESCAPE = re.compile(rb"=[0-9A-Fa-f]{2}")
_ID_SCHEMES = (b"cid:", b"mid:")
_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} [^\r\n]*$", re.M)
_UU_END = re.compile(rb"^end[ \t\r]*$", re.M)

# identifiers, not addresses: the pages show them as they are, and a reader's mail program needs
# them intact to thread a downloaded mbox and to find a `cid:` image
_ID_FIELDS = frozenset({b"message-id", b"in-reply-to", b"references", b"content-id",
                        b"resent-message-id"})
# a header field: its first line and any continuation lines (same cuts as the standard library)
_FIELD = re.compile(rb"[^\r\n]*(?:\r?\n|\r)?(?:[ \t][^\r\n]*(?:\r?\n|\r)?)*")
# what the standard library's feed parser takes as a header line (anything else ends the section)
_SPECIAL_FIELDS = _ID_FIELDS | {b"content-type"}
_FIELD_NAME = re.compile(rb"([\041-\071\073-\176]*)[ \t]*:")
_BOUNDARY_PARAM = re.compile(rb"""(?i)[;\s]boundary[ \t]*=[ \t]*("[^"\r\n]*"|[^;\s]+)""")

# RFC 2047: a run of encoded words, which decoders join (the blanks between them are dropped)
_WORD = rb"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?="
_WORD_RUN = re.compile(_WORD + rb"(?:(?:[ \t]|\r?\n[ \t])+" + _WORD + rb")*")
_WORD_PARTS = re.compile(rb"=\?([^?\s]*)\?([bBqQ])\?([^?\s]*)\?=")
_Q_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_WORD_ROOM = 75

_SIMPLE_PARAM = re.compile(r'[ \t]*([^\s=;"*()<>@,\\]+)[ \t]*=[ \t]*("[^"\\]*"|[^;"\s()\\]*)[ \t]*')
_TEXT_ATTACHMENTS = ("application/x-patch", "application/x-diff")

Piece = bytes | tuple[bytes, int]  # rewritten bytes, or an inner MIME entity and its depth


def hide_addresses(data: bytes) -> bytes:
    """Every address in `data` (text in an ASCII-compatible charset) hidden; uuencoded blocks
    are left alone (their alphabet has `@`, and a shorter line would corrupt them)."""
    if b"@" not in data:
        return data
    if b"begin " not in data:
        return _hidden(data)
    out: list[bytes] = []
    last = 0
    while (begin := _UU_BEGIN.search(data, last)) and (end := _UU_END.search(data, begin.end())):
        out.append(_hidden(data[last:begin.start()]))
        out.append(data[begin.start():end.end()])
        last = end.end()
    out.append(_hidden(data[last:]))
    return b"".join(out)


def _hidden(data: bytes) -> bytes:
    """Every match of `_RAW_ADDRESS` shortened, found from each `@` (a test checks that the
    matches are the same as the pattern's own scan). A match of ADDRESS starts where a run of
    address characters does and takes the whole run (possessively) up to its `@`; the scan goes
    on after the match, so a run that starts inside the last match taken is no match."""
    out: list[bytes] = []
    last = 0
    for found in _AT_DOMAIN.finditer(data):
        at = found.start()
        start = _run_start(data, at)
        if start == at or start < last:
            continue
        out.append(data[last:start])
        out.append(_shortened(data, start, at, found.end()))
        last = found.end()
    if not out:
        return data
    out.append(data[last:])
    return b"".join(out)


def _run_start(data: bytes, at: int) -> int:
    """Where the run of address characters that ends at `at` starts."""
    size = _LOCAL_WINDOW
    while True:
        low = max(0, at - size)
        window = data[low:at]
        start = low + len(window.rstrip(_LOCAL_CHARS)) if window else at
        if start > low or low == 0:
            return start
        size *= 4  # a run longer than the window: look further back


def _shortened(data: bytes, start: int, at: int, end: int) -> bytes:
    """The address `data[start:end]` (its `@` at `at`) as shown: `r...@x.org`; an address
    right after `cid:` or `mid:` is an identifier, kept as it is."""
    if data[max(0, start - 4):start].lower() in _ID_SCHEMES:
        return data[start:end]
    local = data[start:at]
    keep = local[:3] if _QP_ESCAPE.match(local) else local[:1]
    return keep + b"...@" + data[at + 1:end]


# --- header fields -------------------------------------------------------------------------------

def hide_in_headers(head: bytes, fields: list[bytes] | None = None) -> bytes:
    """A header section with addresses hidden in every field but those that carry message ids."""
    if b"@" not in head and b"=?" not in head:
        return head
    out: list[bytes] = []
    plain: list[bytes] = []  # fields hidden together, in one pass
    for field in fields or _fields(head):
        if b"=?" not in field and (b"@" not in field or not _special(field)):
            plain.append(field)
            continue
        out.append(hide_addresses(b"".join(plain)))
        plain.clear()
        out.append(_hide_field(field))
    out.append(hide_addresses(b"".join(plain)))
    return b"".join(out)


def _special(field: bytes) -> bool:
    """Whether a field with an `@` needs more than hiding: ids are kept, boundaries too."""
    name = _FIELD_NAME.match(field)
    return name is not None and name.group(1).lower() in _SPECIAL_FIELDS


def _fields(head: bytes) -> list[bytes]:
    found = _FIELD.findall(head)
    if found and not found[-1]:
        found.pop()
    return found


def _hide_field(field: bytes) -> bytes:
    name = _FIELD_NAME.match(field)
    key = name.group(1).lower() if name else b""
    if key in _ID_FIELDS:
        return field
    if key == b"content-type":
        return _hide_content_type(field)
    return _hide_value(field)


def _hide_value(value: bytes) -> bytes:
    if b"=?" in value:
        value = _WORD_RUN.sub(_hide_words, value)
    return hide_addresses(value)


def _hide_content_type(field: bytes) -> bytes:
    """The boundary is the part's structure, never an address to hide (its delimiter lines in
    the body must still match it)."""
    found = _BOUNDARY_PARAM.search(field)
    if found is None:
        return _hide_value(field)
    start, end = found.span(1)
    return _hide_value(field[:start]) + field[start:end] + _hide_value(field[end:])


def _hide_words(run: re.Match[bytes]) -> bytes:
    """A run of encoded words, rewritten only if its decoded text holds an address."""
    words = _WORD_PARTS.findall(run.group(0))
    text = "".join(_decode_word(charset, kind, encoded) for charset, kind, encoded in words)
    hidden = _hide_text(text)
    if hidden == text:
        return run.group(0)
    charset = words[0][0].split(b"*", 1)[0].decode("ascii", "replace")
    newline = b"\r\n" if b"\r\n" in run.group(0) else b"\n"
    joiner = newline + b" " if newline in run.group(0) else b" "
    return joiner.join(_encode_words(hidden, charset))


def _decode_word(charset: bytes, kind: bytes, encoded: bytes) -> str:
    codec = _codec(charset.split(b"*", 1)[0].decode("ascii", "replace")) or "latin-1"
    try:
        if kind in b"bB":
            data = binascii.a2b_base64(encoded + b"=" * (-len(encoded) % 4))
        else:
            data = binascii.a2b_qp(encoded, header=True)
    except (binascii.Error, ValueError):
        return encoded.decode("ascii", "replace")
    return data.decode(codec, "replace")


def _encode_words(text: str, charset: str) -> list[bytes]:
    """`text` as encoded words of at most 75 characters, in its charset if that can hold it
    (else UTF-8), base64 or Q, whichever is shorter."""
    codec = _codec(charset)
    if codec is None or not _ascii_compatible(codec) or not _encodes(text, codec):
        charset, codec = "utf-8", "utf-8"
    prefix = f"=?{charset}?".encode("ascii", "replace")
    room = _WORD_ROOM - len(prefix) - len(b"B??=")
    words: list[bytes] = []
    chunk: list[bytes] = []
    size = q_size = 0  # the chunk's bytes, and its length in Q encoding
    for char in text:
        data = char.encode(codec)
        q_more = sum(1 if c in _Q_SAFE or c == 0x20 else 3 for c in data)
        if chunk and min(-(-(size + len(data)) // 3) * 4, q_size + q_more) > room:
            words.append(_word(prefix, b"".join(chunk)))
            chunk, size, q_size = [], 0, 0
        chunk.append(data)
        size, q_size = size + len(data), q_size + q_more
    words.append(_word(prefix, b"".join(chunk)))
    return words


def _word(prefix: bytes, data: bytes) -> bytes:
    b = binascii.b2a_base64(data, newline=False)
    q = b"".join(bytes((c,)) if c in _Q_SAFE else b"_" if c == 0x20 else b"=%02X" % c
                 for c in data)
    return prefix + (b"B?" + b if len(b) < len(q) else b"Q?" + q) + b"?="


def _hide_text(text: str) -> str:
    if "@" not in text:
        return text
    encoded = text.encode("utf-8", "surrogatepass")
    hidden = hide_addresses(encoded)
    return text if hidden == encoded else hidden.decode("utf-8", "surrogatepass")


# --- charsets ------------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _codec(charset: str | None) -> str | None:
    """The Python codec for a MIME charset name, or None for one Python does not know."""
    if not charset:
        return None
    try:
        return codecs.lookup(charset.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None


@lru_cache(maxsize=256)
def _ascii_compatible(codec: str) -> bool:
    """Whether addresses look the same in this codec as in ASCII (not so in UTF-16, UTF-7)."""
    if codec == "utf-7":
        return False
    sample = "Az09@.-_+=<>:"
    try:
        return sample.encode(codec) == sample.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeError:
        return False
    return True


def hide_in_text(data: bytes, charset: str | None = None) -> bytes:
    """Decoded text (an attachment's content) with its addresses hidden, in its charset; text
    that starts with a UTF-16 byte order mark is read as UTF-16 whatever the charset said."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        charset = "utf-16"
    return _hide_decoded(data, charset)


def _hide_decoded(data: bytes, charset: str | None) -> bytes:
    """Decoded content of a text part with its addresses hidden, still in its charset."""
    codec = _codec(charset)
    if codec is None or _ascii_compatible(codec):
        return hide_addresses(data)
    text = data.decode(codec, "replace")
    hidden = _hide_text(text)
    return data if hidden == text else hidden.encode(codec, "replace")


# --- MIME entities -------------------------------------------------------------------------------

def public_raw(data: bytes, hide: bool = True) -> bytes:
    """A message's bytes as a public download: exactly as stored when `hide` is off; otherwise
    with every address in the headers and text parts hidden, MIME structure untouched.

    Walked iteratively; past the MIME depth or part limits, what remains is treated as text
    (privacy wins)."""
    if not hide:
        return data
    out: list[bytes] = []
    todo: list[Piece] = [(data, 0)]
    entities = 0
    while todo:
        item = todo.pop()
        if isinstance(item, bytes):
            out.append(item)
            continue
        entity, depth = item
        entities += 1
        if depth > DEFAULT_LIMITS.max_depth or entities > DEFAULT_LIMITS.max_parts:
            out.append(hide_addresses(entity))
        else:
            todo.extend(reversed(_entity(entity, depth)))
    return b"".join(out)


def _entity(data: bytes, depth: int) -> list[Piece]:
    """One MIME entity cut into pieces: bytes (already rewritten) and inner entities to walk."""
    if data.startswith((b"\n", b"\r\n")):
        start = end = 0  # no header section at all: the body starts after this empty line
    else:
        found = _header_end(data)
        if found is None:
            return [hide_in_headers(data)]
        start, end = found
    head, gap, body = data[:start], data[start:end], data[end:]
    fields = _fields(head)
    try:
        pieces = _body(_Type.of(head, fields), body, depth)
    except Exception:  # noqa: BLE001 - headers the parser rejects: the body is taken as text
        pieces = [hide_addresses(body)]
    return [hide_in_headers(head, fields), gap, *pieces]


def _header_end(data: bytes) -> tuple[int, int] | None:
    """Where the first empty line (`\r?\n\r?\n`) starts and ends, found without a regex scan."""
    found = [at for at in (data.find(b"\n\n"), data.find(b"\n\r\n")) if at >= 0]
    if not found:
        return None
    at = min(found)
    end = at + (2 if data[at + 1] == 0x0A else 3)
    return (at - 1 if at > 0 and data[at - 1] == 0x0D else at), end


class _Type:
    """What the walk needs from a header section: content type, boundary, charset, encoding."""

    __slots__ = ("boundary", "charset", "ctype", "encoding")

    def __init__(self, ctype: str, boundary: str | None, charset: str | None,
                 encoding: str) -> None:
        self.ctype, self.boundary, self.charset, self.encoding = ctype, boundary, charset, encoding

    @classmethod
    def of(cls, head: bytes, fields: list[bytes]) -> _Type:
        found = _scan(fields)
        if found is not None:
            simple = _simple_type(*found)
            if simple is not None:
                return simple
        return cls._parsed(BytesHeaderParser(policy=compat32).parsebytes(head + b"\n\n"))

    @classmethod
    def _parsed(cls, headers: Message) -> _Type:
        charset = headers.get_param("charset")
        return cls(headers.get_content_type(), headers.get_boundary(),
                   charset if isinstance(charset, str) else None,
                   str(headers.get("content-transfer-encoding", "")).strip().lower())


def _scan(fields: list[bytes]) -> tuple[bytes | None, bytes | None] | None:
    """The first Content-Type and Content-Transfer-Encoding values, or None when a line is not
    a header field the way the standard library's parser sees it (it would end the section)."""
    ctype = encoding = None
    for field in fields:
        name = _FIELD_NAME.match(field)
        if name is None:
            return None
        key = name.group(1).lower()
        if key == b"content-type" and ctype is None:
            ctype = field[name.end():]
        elif key == b"content-transfer-encoding" and encoding is None:
            encoding = field[name.end():]
    return ctype, encoding


def _simple_type(ctype: bytes | None, encoding: bytes | None) -> _Type | None:
    """The type from plain header values, as `email` reads them; None when they use anything
    rarer (comments, RFC 2231 parameters, escapes), which is left to `email` itself."""
    cte = encoding.decode("latin-1").strip().lower() if encoding is not None else ""
    if ctype is None:
        return _Type("text/plain", None, None, cte)
    value = re.sub(r"\r?\n", "", ctype.decode("latin-1"))
    main, _, rest = value.partition(";")
    main = main.strip().lower()
    params: dict[str, str] = {}
    at = 0
    while at < len(rest):
        if rest[at] in "; \t":
            at += 1
            continue
        found = _SIMPLE_PARAM.match(rest, at)
        if found is None:
            return None
        params.setdefault(found.group(1).lower(), found.group(2))
        at = found.end()
    boundary = params.get("boundary")
    if boundary is not None:
        boundary = unquote(unquote(boundary)).rstrip()
    charset = params.get("charset")
    return _Type(main if main.count("/") == 1 else "text/plain", boundary,
                 unquote(charset) if charset is not None else None, cte)


def _body(kind: _Type, body: bytes, depth: int) -> list[Piece]:
    ctype, encoding = kind.ctype, kind.encoding
    if ctype.startswith("multipart/"):
        if kind.boundary:
            return _multipart(body, kind.boundary, depth)
        return [hide_addresses(body)]
    if ctype == "message/rfc822" and encoding not in ("base64", "quoted-printable"):
        return [(body, depth + 1)]
    text = ctype.startswith(("text/", "message/")) or ctype in _TEXT_ATTACHMENTS
    if encoding == "base64":
        return [_base64_text(body, kind.charset) if text else body]
    if encoding == "quoted-printable" and (text or body.isascii()):
        return [_qp_text(body, kind.charset if text else None)]
    if text:
        return [_plain_text(body, kind.charset)]
    if body.isascii() and b"\0" not in body:
        return [hide_addresses(body)]
    return [body]  # bytes of another kind: rewriting them could only corrupt them


def _multipart(body: bytes, boundary: str, depth: int) -> list[Piece]:
    marker = re.escape(boundary.encode("ascii", "surrogateescape"))
    delimiters = re.compile(rb"^--" + marker + rb"(--)?[ \t]*(?:\r?\n|\Z)", re.M)
    pieces: list[Piece] = []
    last = 0
    for found in delimiters.finditer(body):
        chunk = body[last:found.start()]
        pieces.append(hide_addresses(chunk) if last == 0 else (chunk, depth + 1))
        pieces.append(found.group(0))
        last = found.end()
        if found.group(1):
            pieces.append(hide_addresses(body[last:]))  # the epilogue
            return pieces
    tail = body[last:]
    pieces.append(hide_addresses(tail) if last == 0 else (tail, depth + 1))
    return pieces


def _plain_text(body: bytes, charset: str | None) -> bytes:
    """7bit, 8bit or binary text: rewritten in place, or through its charset if addresses
    do not look like ASCII in it."""
    codec = _codec(charset)
    if codec is None or _ascii_compatible(codec):
        return hide_addresses(body)
    return _hide_decoded(body, charset)


def _qp_text(body: bytes, charset: str | None) -> bytes:
    """Quoted-printable text: addresses hidden in place; if the decoded text still shows one
    (split by a soft line break, or written `ralf=40x.org`), the hidden text is re-encoded."""
    codec = _codec(charset)
    compatible = codec is None or _ascii_compatible(codec)
    first = hide_addresses(body) if compatible else body
    if compatible and b"=" not in first:
        return first
    decoded = binascii.a2b_qp(first)
    hidden = _hide_decoded(decoded, charset)
    if hidden == decoded:
        return first
    return _reencode(binascii.b2a_qp(hidden, istext=compatible), body)


def _base64_text(body: bytes, charset: str | None) -> bytes:
    """A base64 text part with its addresses hidden, re-encoded in lines of 76 characters."""
    try:
        decoded = binascii.a2b_base64(body)
    except binascii.Error:
        return body
    hidden = _hide_decoded(decoded, charset)
    if hidden == decoded:
        return body
    encoded = binascii.b2a_base64(hidden, newline=False)
    lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
    return _reencode(b"\n".join(lines), body)


def _reencode(encoded: bytes, original: bytes) -> bytes:
    """Re-encoded content with the original's line ends and trailing newlines."""
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    encoded = encoded.rstrip(b"\r\n")
    if newline == b"\r\n":
        encoded = encoded.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return encoded + original[len(original.rstrip(b"\r\n")):]


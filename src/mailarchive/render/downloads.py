"""Downloads: mbox.gz (mboxrd, streamed), raw messages with addresses hidden when the list asks,
and the headers that keep attachments inert."""

from __future__ import annotations

import binascii
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from urllib.parse import quote

from mailarchive.model import Part
from mailarchive.parse import DEFAULT_LIMITS, RASTER_IMAGES
from mailarchive.render import filters
from mailarchive.sources.mbox import envelope_line, quote_mboxrd
from mailarchive.store import MessageRow

ATTACHMENT_CSP = "default-src 'none'; sandbox"
GZIP = 31  # zlib wbits for a gzip wrapper; its header carries no time, so output is reproducible

# An address in raw bytes, hidden the way the pages hide it (`ralf@x.org` -> `r...@x.org`): the
# same pattern as `filters`, one attempt per run of address characters (linear time). A
# quoted-printable escape that starts the run (`=3Dralf@x.org`) is kept whole. The replacement is
# shorter than what it replaces, so no line grows, and no MIME delimiter or base64 line (no `@`
# in its alphabet) is touched.
_RAW_ADDRESS = re.compile(filters.ADDRESS.encode("ascii"))
_QP_ESCAPE = re.compile(rb"=[0-9A-Fa-f]{2}")
# identifiers, not addresses: the pages show them as they are, and a reader's mail program needs
# them intact to thread a downloaded mbox and to find a `cid:` image
_ID_FIELD = re.compile(rb"(?:message-id|in-reply-to|references|content-id|resent-message-id)"
                       rb"[ \t]*:", re.I)
_FIELD_START = re.compile(rb"(?<=[\r\n])(?=[^ \t\r\n])")
_ID_SCHEMES = (b"cid:", b"mid:")
_UU_BEGIN = re.compile(rb"^begin [0-7]{3,4} [^\r\n]*$", re.M)
_UU_END = re.compile(rb"^end[ \t\r]*$", re.M)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_TEXT_ATTACHMENTS = ("application/x-patch", "application/x-diff")


def hide_addresses(data: bytes) -> bytes:
    """Every address in `data` (text in an ASCII-compatible charset) hidden; uuencoded blocks
    are left alone (their alphabet has `@`, and a shorter line would corrupt them)."""
    if b"@" not in data:
        return data
    out: list[bytes] = []
    last = 0
    while (begin := _UU_BEGIN.search(data, last)) and (end := _UU_END.search(data, begin.end())):
        out.append(_RAW_ADDRESS.sub(_short, data[last:begin.start()]))
        out.append(data[begin.start():end.end()])
        last = end.end()
    out.append(_RAW_ADDRESS.sub(_short, data[last:]))
    return b"".join(out)


def _short(match: re.Match[bytes]) -> bytes:
    if match.string[max(0, match.start() - 4):match.start()].lower() in _ID_SCHEMES:
        return match.group(0)
    local, _, domain = match.group(0).rpartition(b"@")
    keep = local[:3] if _QP_ESCAPE.match(local) else local[:1]
    return keep + b"...@" + domain


def hide_in_headers(head: bytes) -> bytes:
    """A header section with addresses hidden in every field but those that carry message ids."""
    if b"@" not in head:
        return head
    return b"".join(field if _ID_FIELD.match(field) else hide_addresses(field)
                    for field in _FIELD_START.split(head))


def public_raw(data: bytes, hide: bool = True) -> bytes:
    """A message's bytes as a public download: exactly as stored when `hide` is off; otherwise
    with every address in the headers and text parts hidden, MIME structure untouched.

    Headers and 7bit/8bit/quoted-printable text are rewritten in place; base64 text parts are
    decoded, rewritten and re-encoded (only if an address was found); attachments that are not
    text, and base64 inside RFC 2047 encoded words, are left as they are. Walked iteratively;
    past the MIME depth or part limits, what remains is treated as text (privacy wins)."""
    if not hide:
        return data
    out: list[bytes] = []
    todo: list[bytes | tuple[bytes, int]] = [(data, 0)]
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


def _entity(data: bytes, depth: int) -> list[bytes | tuple[bytes, int]]:
    """One MIME entity cut into pieces: bytes (already rewritten) and inner entities to walk."""
    if data.startswith((b"\n", b"\r\n")):
        start = end = 0  # no header section at all: the body starts after this empty line
    else:
        found = _HEADER_END.search(data)
        if found is None:
            return [hide_in_headers(data)]
        start, end = found.start(), found.end()
    head, gap, body = data[:start], data[start:end], data[end:]
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\n\n")
        pieces = _body(headers, body, depth)
    except Exception:  # noqa: BLE001 - headers the parser rejects: the body is taken as text
        pieces = [hide_addresses(body)]
    return [hide_in_headers(head), gap, *pieces]


def _body(headers: Message, body: bytes, depth: int) -> list[bytes | tuple[bytes, int]]:
    ctype = headers.get_content_type()
    encoding = str(headers.get("content-transfer-encoding", "")).strip().lower()
    if ctype.startswith("multipart/"):
        boundary = headers.get_boundary()
        if boundary:
            return _multipart(body, boundary, depth)
        return [hide_addresses(body)]
    if ctype == "message/rfc822" and encoding not in ("base64", "quoted-printable"):
        return [(body, depth + 1)]
    text = ctype.startswith(("text/", "message/")) or ctype in _TEXT_ATTACHMENTS
    if encoding == "base64":
        return [_base64_text(body) if text else body]
    if text or (body.isascii() and b"\0" not in body):
        return [hide_addresses(body)]
    return [body]  # bytes of another kind: rewriting them could only corrupt them


def _multipart(body: bytes, boundary: str, depth: int) -> list[bytes | tuple[bytes, int]]:
    marker = re.escape(boundary.encode("ascii", "surrogateescape"))
    delimiters = re.compile(rb"^--" + marker + rb"(--)?[ \t]*(?:\r?\n|\Z)", re.M)
    pieces: list[bytes | tuple[bytes, int]] = []
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


def _base64_text(body: bytes) -> bytes:
    """A base64 text part with its addresses hidden, re-encoded in lines of 76 characters."""
    try:
        decoded = binascii.a2b_base64(body)
    except binascii.Error:
        return body
    hidden = hide_addresses(decoded)
    if hidden == decoded:
        return body
    newline = b"\r\n" if b"\r\n" in body else b"\n"
    encoded = binascii.b2a_base64(hidden, newline=False)
    lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
    trailing = body[len(body.rstrip(b"\r\n")):]
    return newline.join(lines) + (trailing or b"")


def mbox_gz(rows: Iterable[MessageRow], raw: Callable[[MessageRow], bytes],
            hide: bool = True) -> Iterator[bytes]:
    """The messages as one gzip-compressed mboxrd file, produced piece by piece; with `hide`,
    addresses are hidden in the From_ lines and the messages (see `public_raw`)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, GZIP)
    for row in rows:
        data = public_raw(raw(row), hide)
        envelope = envelope_line(row.envelope, row.from_addr, row.date)
        if hide:
            envelope = hide_addresses(envelope)
        chunk = [envelope, quote_mboxrd(data)]
        if not data.endswith(b"\n"):
            chunk.append(b"\n")
        chunk.append(b"\n")
        out = packer.compress(b"".join(chunk))
        if out:
            yield out
    yield packer.flush()


def public_attachment(part: Part, data: bytes, hide: bool = True) -> bytes:
    """An attachment as served: text (patches, logs, HTML served as text) with addresses hidden
    when the list asks; anything else exactly as sent."""
    text = part.content_type.startswith("text/") or part.content_type in _TEXT_ATTACHMENTS
    return hide_addresses(data) if hide and text else data


def disposition(kind: str, filename: str) -> str:
    """A Content-Disposition header: an ASCII fallback name, and the real one (RFC 5987)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                       for c in filename) or "download"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def served_type(part: Part, data: bytes) -> str:
    """The type an attachment is served as: raster images as themselves, text as plain text,
    everything else as opaque bytes (never HTML, SVG or script)."""
    if part.content_type in RASTER_IMAGES:
        return part.content_type
    if part.content_type.startswith("text/") or part.content_type in (
            "application/x-patch", "application/x-diff"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return "text/plain; charset=windows-1252"
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def raw_type(data: bytes) -> str:
    """The original message is shown as plain text, in the charset its bytes fit."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "text/plain; charset=iso-8859-1"
    return "text/plain; charset=utf-8"

"""Downloads: mbox.gz (mboxrd, streamed), raw messages with addresses hidden when the list asks,
and the headers that keep attachments inert."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

from mailarchive.model import Part
from mailarchive.parse import RASTER_IMAGES
from mailarchive.render.hiding import hide_addresses, hide_in_text, public_raw
from mailarchive.sources.mbox import envelope_line, quote_mboxrd
from mailarchive.store import MessageRow

__all__ = ["ATTACHMENT_CSP", "disposition", "hide_addresses", "mbox_gz",
           "primed", "public_attachment", "public_mbox_gz", "public_raw", "raw_type", "served_type"]

ATTACHMENT_CSP = "default-src 'none'; sandbox"
GZIP = 31  # zlib wbits for a gzip wrapper; its header carries no time, so output is reproducible
LEVEL = 4  # 4% larger than the default level 6, and about 40% less time (every message is packed
# twice by an export: in its thread and in its month)

_TEXT_ATTACHMENTS = ("application/x-patch", "application/x-diff")


def mbox_gz(rows: Iterable[MessageRow], raw: Callable[[MessageRow], bytes],
            hide: bool = True) -> Iterator[bytes]:
    """The messages as one gzip-compressed mboxrd file, produced piece by piece; with `hide`,
    addresses are hidden in the From_ lines and the messages (see `public_raw`)."""
    return public_mbox_gz(rows, lambda row: public_raw(raw(row), hide), hide)


def public_mbox_gz(rows: Iterable[MessageRow], public: Callable[[MessageRow], bytes],
                   hide: bool = True) -> Iterator[bytes]:
    """`mbox_gz` of messages already made public (`public_raw`); `hide` is for the From_ lines."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, GZIP)
    for row in rows:
        data = public(row)
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


def primed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks` with the first already made: a download that fails before its first byte (an
    archive that cannot be read) is answered with an error page, not a broken 200."""
    first = next(chunks, b"")
    return itertools.chain([first], chunks)


def public_attachment(part: Part, data: bytes, hide: bool = True) -> bytes:
    """An attachment as served: text (patches, logs, HTML served as text) with addresses hidden
    when the list asks; anything else exactly as sent."""
    text = part.content_type.startswith("text/") or part.content_type in _TEXT_ATTACHMENTS
    return hide_in_text(data) if hide and text else data


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

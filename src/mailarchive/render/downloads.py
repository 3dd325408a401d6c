"""Downloads: mbox.gz (mboxrd, streamed), and the headers that keep attachments inert."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

from mailarchive.model import Part
from mailarchive.parse import RASTER_IMAGES
from mailarchive.sources.mbox import envelope_line, quote_mboxrd
from mailarchive.store import MessageRow

ATTACHMENT_CSP = "default-src 'none'; sandbox"
GZIP = 31  # zlib wbits for a gzip wrapper; its header carries no time, so output is reproducible


def mbox_gz(rows: Iterable[MessageRow], raw: Callable[[MessageRow], bytes]) -> Iterator[bytes]:
    """The messages as one gzip-compressed mboxrd file, produced piece by piece."""
    packer = zlib.compressobj(6, zlib.DEFLATED, GZIP)
    for row in rows:
        data = raw(row)
        chunk = [envelope_line(row.envelope, row.from_addr, row.date), quote_mboxrd(data)]
        if not data.endswith(b"\n"):
            chunk.append(b"\n")
        chunk.append(b"\n")
        out = packer.compress(b"".join(chunk))
        if out:
            yield out
    yield packer.flush()


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

"""Reading mbox files (mboxrd or mboxo quoting) into the exact bytes of each message."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from typing import Any

from mailarchive.model import RawMessage, Span

QUOTINGS = ("mboxrd", "mboxo", "none")


def quote_mboxrd(data: bytes) -> bytes:
    """A message's bytes quoted for an mboxrd file."""
    if b"From " not in data:
        return data
    return re.sub(rb"(?m)^(>*From )", rb">\1", data)


_SEPARATOR = re.compile(rb"\n(\r?\n)From ")
_RD_LINES = re.compile(rb"(?m)^>(>*From )")
_O_LINES = re.compile(rb"(?m)^>(From )")
CHUNK = 8 << 20
SPAN = 1 << 20  # bytes a parsing process reads at a time (a few hundred messages)
_LOOK = 1 << 16  # bytes read at a time while looking for where the next message begins


def unquote_all(data: bytes, quoting: str) -> bytes:
    """A whole message's body with the mbox's From-quoting taken off."""
    if b">From " not in data or quoting == "none":
        return data
    return (_RD_LINES if quoting == "mboxrd" else _O_LINES).sub(rb"\1", data)


def read_mbox(stream: Any, origin: str, quoting: str = "mboxrd",
              base: int = 0) -> Iterator[RawMessage]:
    """Messages between From_ lines; a From_ line starts a message only after a blank line.
    Reads big chunks and splits with a regular expression (a per-line loop was the slowest
    part of a bulk import). `base`: where the stream starts in the file (for the origins)."""
    buffer = b""
    offset = base  # file offset of buffer[0]
    while True:
        chunk, cut_off = _read_chunk(stream)
        buffer += chunk
        cut = 0
        for match in _SEPARATOR.finditer(buffer):
            if match.start() + 1 > cut:
                yield _message(buffer[cut:match.start() + 1], f"{origin}:{offset + cut}", quoting)
                cut = match.end() - 5
        if cut_off is not None:
            raise cut_off  # the message the cut leaves unfinished is not kept
        if not chunk:
            break
        buffer, offset = buffer[cut:], offset + cut
    if buffer[cut:]:
        last = buffer[cut:]
        if last.endswith((b"\n\n", b"\n\r\n")):
            last = last[: -1 if last.endswith(b"\n\n") else -2]
        yield _message(last, f"{origin}:{offset + cut}", quoting)


def _read_chunk(stream: Any) -> tuple[bytes, EOFError | None]:
    """Up to CHUNK bytes. A truncated compressed file gives what it holds before the cut, with
    the error: one buffered read of the whole chunk would drop that part of it too."""
    read = getattr(stream, "read1", stream.read)
    pieces: list[bytes] = []
    size = 0
    while size < CHUNK:
        try:
            piece = read(CHUNK - size)
        except EOFError as error:
            return b"".join(pieces), error
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces), None


def spans(path: str, quoting: str, size: int = SPAN) -> Iterator[Span]:
    """A plain mbox file as spans of about `size` bytes, each cut where a message begins, so
    that `read_span` gives, span after span, the messages `read_mbox` gives for the file."""
    with open(path, "rb") as stream:
        total = os.fstat(stream.fileno()).st_size
        start = 0
        while start < total:
            end = _next_start(stream, start + size, total)
            yield Span(path, start, end, quoting)
            start = end


def _next_start(stream: Any, at: int, total: int) -> int:
    """The offset of the first From_ line after a blank line at or after `at` (or the end)."""
    while at < total:
        begin = max(0, at - 2)  # from the blank line before a From_ line at `at` itself
        stream.seek(begin)
        window = stream.read(at + _LOOK - begin)
        found = _SEPARATOR.search(window)
        if found is not None:
            return begin + found.end() - len(b"From ")
        if len(window) < at + _LOOK - begin:
            return total
        at += _LOOK - len(b"\n\r\nFrom ")  # the next window overlaps this one's tail
    return total


def read_span(span: Span) -> Iterator[RawMessage]:
    """The messages of a span of a plain mbox file, as `read_mbox` reads them from the file."""
    with open(span.path, "rb") as stream:
        stream.seek(span.start)
        data = stream.read(span.end - span.start)
    yield from read_mbox(io.BytesIO(data), span.path, span.quoting, span.start)


def _message(block: bytes, origin: str, quoting: str) -> RawMessage:
    """One block starting with its From_ line and ending before the blank separator line."""
    newline = block.find(b"\n")
    if newline < 0:
        return RawMessage(b"", origin, block[5:].rstrip(b"\r").decode("utf-8", "replace"))
    envelope = block[5:newline].rstrip(b"\r").decode("utf-8", "replace")
    return RawMessage(unquote_all(block[newline + 1:], quoting), origin, envelope)


def envelope_line(envelope: str | None, sender: str, date: int) -> bytes:
    """The From_ line for a message in an exported mbox."""
    if envelope:
        return b"From " + envelope.encode("utf-8", "replace") + b"\n"
    import time

    stamp = time.asctime(time.gmtime(date))
    who = sender if sender and " " not in sender else "MAILER-DAEMON"
    return f"From {who} {stamp}\n".encode()

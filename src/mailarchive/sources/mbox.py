"""Reading mbox files (mboxrd or mboxo quoting) into the exact bytes of each message."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from mailarchive.model import RawMessage

_RD_QUOTED = re.compile(rb"^>+From ")
QUOTINGS = ("mboxrd", "mboxo", "none")


def unquote(line: bytes, quoting: str) -> bytes:
    """One body line with the mbox's From-quoting taken off."""
    if line[:1] != b">":
        return line
    if quoting == "mboxrd" and _RD_QUOTED.match(line):
        return line[1:]
    if quoting == "mboxo" and line.startswith(b">From "):
        return line[1:]
    return line


def quote_mboxrd(data: bytes) -> bytes:
    """A message's bytes quoted for an mboxrd file."""
    if b"From " not in data:
        return data
    return re.sub(rb"(?m)^(>*From )", rb">\1", data)


def read_mbox(lines: Iterable[bytes], origin: str, quoting: str = "mboxrd") -> Iterator[RawMessage]:
    """Messages between From_ lines; a From_ line starts a message only after a blank line."""
    envelope: bytes | None = None
    body: list[bytes] = []
    start = offset = 0
    blank_before = True
    for line in lines:
        if blank_before and line.startswith(b"From "):
            if envelope is not None:
                yield _message(envelope, body, f"{origin}:{start}")
            envelope, body, start = line, [], offset
        else:
            body.append(unquote(line, quoting))
        offset += len(line)
        blank_before = line == b"\n" or line == b"\r\n"
    if envelope is not None:
        yield _message(envelope, body, f"{origin}:{start}")


def _message(envelope: bytes, body: list[bytes], origin: str) -> RawMessage:
    if body and body[-1] in (b"\n", b"\r\n"):
        body.pop()
    text = envelope[5:].rstrip(b"\r\n").decode("utf-8", "replace")
    return RawMessage(b"".join(body), origin, text)


def envelope_line(envelope: str | None, sender: str, date: int) -> bytes:
    """The From_ line for a message in an exported mbox."""
    if envelope:
        return b"From " + envelope.encode("utf-8", "replace") + b"\n"
    import time

    stamp = time.asctime(time.gmtime(date))
    who = sender if sender and " " not in sender else "MAILER-DAEMON"
    return f"From {who} {stamp}\n".encode()

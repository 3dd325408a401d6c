"""Where mail comes from: each reader yields RawMessage records and never parses mail."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from mailarchive.model import Located, RawMessage, Span
from mailarchive.sources.files import is_mbox_start, open_bytes
from mailarchive.sources.maildir import is_maildir, maildir_files, read_files, read_maildir
from mailarchive.sources.mbox import SPAN, read_mbox, read_span, spans


class SourceError(Exception):
    """A source that cannot be read at all; the message says which and why."""


def check(spec: str) -> None:
    """Fail early, with one line, on a source path that does not exist."""
    if spec != "-" and not Path(spec).exists():
        raise SourceError(f"{spec}: no such file or folder (give an mbox, a maildir, a folder "
                          "of .eml files, or - for standard input)")


def read(spec: str, quoting: str = "mboxrd") -> Iterator[RawMessage]:
    """Every message in one source: an mbox file, a maildir, a folder of messages, or '-'."""
    if spec == "-":
        yield from _read_stream(sys.stdin.buffer, "<stdin>", quoting)
        return
    path = Path(spec)
    if path.is_dir():
        yield from _read_folder(path, quoting)
    else:
        yield from _read_file(path, quoting)


def _unreadable(where: object, error: OSError) -> SourceError:
    """The one line a source that cannot be read gives."""
    return SourceError(f"{where}: cannot read it ({error.strerror or error})")


def items(spec: str, quoting: str = "mboxrd", size: int = SPAN
          ) -> Iterator[RawMessage | Located]:
    """What `read` gives, but a plain mbox file bigger than a span as spans, and a maildir's
    files in groups, which the parsing processes of a bulk import read themselves."""
    path = Path(spec)
    try:
        if spec != "-" and path.is_file() and _plain_mbox(path) and path.stat().st_size > size:
            yield from spans(spec, quoting, size)
        elif spec != "-" and path.is_dir() and is_maildir(path):
            yield from maildir_files(path)
        else:
            yield from read(spec, quoting)
    except OSError as error:
        raise _unreadable(path, error) from error


def read_items(item: Located) -> list[RawMessage]:
    """The messages of a span or of maildir files (in a parsing process), with a source's
    one-line error."""
    try:
        return list(read_span(item) if isinstance(item, Span) else read_files(item))
    except OSError as error:
        where = error.filename or (item.path if isinstance(item, Span) else item.paths[0])
        raise _unreadable(where, error) from error


def _plain_mbox(path: Path) -> bool:
    """An mbox file that is not compressed (a compressed one starts with its magic bytes)."""
    try:
        with open(path, "rb") as probe:
            return is_mbox_start(probe.read(5))
    except OSError:
        return False  # `read` says why


def _read_folder(path: Path, quoting: str) -> Iterator[RawMessage]:
    if is_maildir(path):
        yield from read_maildir(path)
        return
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        if not child.name.startswith("."):
            yield from _read_file(child, quoting)


def _read_file(path: Path, quoting: str) -> Iterator[RawMessage]:
    try:
        with open_bytes(path) as stream:
            yield from _read_stream(stream, str(path), quoting)
    except OSError as error:
        raise _unreadable(path, error) from error
    except EOFError as error:
        raise SourceError(f"{path}: the compressed file is truncated ({error}); the message it "
                          "cuts off is left out") from error


def _read_stream(stream: object, origin: str, quoting: str) -> Iterator[RawMessage]:
    peek = getattr(stream, "peek", None)
    head = peek(5)[:5] if callable(peek) else b""
    if is_mbox_start(head):
        yield from read_mbox(stream, origin, quoting)
    else:
        data = stream.read()  # type: ignore[attr-defined]
        if data:  # zero bytes hold no message (an empty mbox, a failed pipe): nothing to keep
            yield RawMessage(data, origin)

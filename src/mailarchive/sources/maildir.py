"""Reading maildir folders: every file in cur/ and new/, in name order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from mailarchive.model import Files, RawMessage

GROUP = 128  # files a parsing process reads at a time (see `maildir_files`)
GROUP_BYTES = 1 << 20


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def read_maildir(path: Path) -> Iterator[RawMessage]:
    for item in _messages(path):
        yield RawMessage(Path(item.path).read_bytes(), item.path)


def maildir_files(path: Path) -> Iterator[Files]:
    """The maildir's message files in `read_maildir`'s order, in groups for the parsing
    processes of a bulk import to read."""
    paths: list[str] = []
    size = 0
    for item in _messages(path):
        paths.append(item.path)
        size += item.stat().st_size
        if len(paths) == GROUP or size >= GROUP_BYTES:
            yield Files(tuple(paths), size)
            paths, size = [], 0
    if paths:
        yield Files(tuple(paths), size)


def read_files(files: Files) -> Iterator[RawMessage]:
    for name in files.paths:
        yield RawMessage(Path(name).read_bytes(), name)


def _messages(path: Path) -> Iterator[os.DirEntry[str]]:
    for sub in ("cur", "new"):
        with os.scandir(path / sub) as found:
            entries = sorted(found, key=lambda entry: entry.name)
        for entry in entries:
            if entry.is_file() and not entry.name.startswith("."):
                yield entry

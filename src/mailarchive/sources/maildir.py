"""Reading maildir folders: every file in cur/ and new/, in name order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mailarchive.model import RawMessage


def is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def read_maildir(path: Path) -> Iterator[RawMessage]:
    for sub in ("cur", "new"):
        for item in sorted((path / sub).iterdir()):
            if item.is_file() and not item.name.startswith("."):
                yield RawMessage(item.read_bytes(), str(item))

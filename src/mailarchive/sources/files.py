"""Opening files that may be compressed with gzip, xz or bzip2."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from pathlib import Path
from typing import BinaryIO

_MAGIC = {b"\x1f\x8b": gzip.open, b"\xfd7zXZ": lzma.open, b"BZh": bz2.open}


def open_bytes(path: Path) -> BinaryIO:
    """A buffered binary reader over the file's content, decompressed by its magic bytes."""
    with open(path, "rb") as probe:
        head = probe.read(6)
    for magic, opener in _MAGIC.items():
        if head.startswith(magic):
            raw: BinaryIO = opener(path, "rb")  # type: ignore[operator]
            return io.BufferedReader(raw, buffer_size=1 << 20)  # type: ignore[type-var]
    return open(path, "rb", buffering=1 << 20)


def is_mbox_start(head: bytes) -> bool:
    return head.startswith(b"From ")

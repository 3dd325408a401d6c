"""Opening files that may be compressed with gzip, xz or bzip2."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import BinaryIO

# the decompressor modules are imported only when a file needs one (start-up time)
_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ": "lzma", b"BZh": "bz2"}


def open_bytes(path: Path) -> BinaryIO:
    """A buffered binary reader over the file's content, decompressed by its magic bytes."""
    with open(path, "rb") as probe:
        head = probe.read(6)
    for magic, module in _MAGIC.items():
        if head.startswith(magic):
            # read as it is (it buffers, peeks and reads in pieces itself): a reader around it
            # would ask it for whole chunks, and a truncated file then gives none of its last
            decompressed: BinaryIO = importlib.import_module(module).open(path, "rb")
            return decompressed
    return open(path, "rb", buffering=1 << 20)


def is_mbox_start(head: bytes) -> bool:
    return head.startswith(b"From ")

"""The static export's memory: what it wrote last time (a hash per file, a signature per unit of
work), so a second run writes only what changed. Every path is checked to stay inside the folder."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".mailarchive-export.json"
FORMAT = 1
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)


class UnsafePath(ValueError):
    """A path that would leave the export folder (or is not a plain relative path)."""


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Manifest:
    files: dict[str, str] = field(default_factory=dict)  # path → content hash
    units: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # key → (sig, paths)

    @classmethod
    def load(cls, root: Path) -> Manifest:
        try:
            data = json.loads((root / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return cls()
        units = {k: (str(v[0]), [str(p) for p in v[1]]) for k, v in data["units"].items()}
        return cls({str(k): str(v) for k, v in data["files"].items()}, units)

    def save(self, root: Path) -> None:
        data = {"format": FORMAT, "files": self.files,
                "units": {k: [sig, paths] for k, (sig, paths) in self.units.items()}}
        temp = root / (MANIFEST + ".tmp")
        temp.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True), "utf-8")
        os.replace(temp, root / MANIFEST)


@dataclass
class Writer:
    """Writes files under `root` whose content differs from the last export's."""

    root: Path
    old: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)
    written: int = 0
    unchanged: int = 0
    _dirs: set[str] = field(default_factory=set)
    top: str = field(init=False)

    def __post_init__(self) -> None:
        self.top = str(self.root)

    def put(self, path: str, data: bytes) -> None:
        full = self.full(path)
        hashed = digest(data)
        self.files[path] = hashed
        if self.old.get(path) == hashed and os.path.isfile(full):
            self.unchanged += 1
            return
        self._ensure_dir(os.path.dirname(path))
        fd = os.open(full, _CREATE, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        self.written += 1

    def full(self, path: str) -> str:
        if (not path or path.startswith("/") or "\\" in path or "\x00" in path
                or any(p in ("", ".", "..") for p in path.split("/"))):
            raise UnsafePath(path)
        return os.path.join(self.top, path)

    def _ensure_dir(self, folder: str) -> None:
        """Create `folder` (a checked path relative to root) one level at a time, refusing to
        pass through a symlink."""
        if not folder or folder in self._dirs:
            return
        current = self.top
        made = ""
        for part in folder.split("/"):
            current = os.path.join(current, part)
            made = f"{made}/{part}" if made else part
            if made in self._dirs:
                continue
            try:
                os.mkdir(current)  # a folder made here is no link: only an existing one is checked
            except FileExistsError:  # made by another worker, or an earlier run
                if os.path.islink(current):
                    raise UnsafePath(f"{current} is a symbolic link; not writing through "
                                     "it") from None
                if not os.path.isdir(current):
                    raise
            self._dirs.add(made)

    def remove(self, path: str) -> None:
        """Delete a file an earlier export wrote that nothing produces any more (and any folder
        that leaves empty)."""
        full = self.full(path)
        real = os.path.realpath(os.path.dirname(full))
        top = os.path.realpath(self.top)
        if not (real == top or real.startswith(top + os.sep)) or not os.path.isfile(full):
            return
        os.unlink(full)
        folder = os.path.dirname(full)
        while folder != self.top and not os.listdir(folder):
            os.rmdir(folder)
            self._dirs.discard(os.path.relpath(folder, self.top).replace(os.sep, "/"))
            folder = os.path.dirname(folder)

"""The static export's memory: what it wrote last time (a hash per file, a signature per unit of
work), so a second run writes only what changed. Every path is checked to stay inside the folder."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST = ".mailarchive-export.json"
FORMAT = 1


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

    def put(self, path: str, data: bytes) -> None:
        full = self.full(path)
        hashed = digest(data)
        self.files[path] = hashed
        if self.old.get(path) == hashed and full.is_file():
            self.unchanged += 1
            return
        self._ensure_dir(full.parent)
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                     0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        self.written += 1

    def full(self, path: str) -> Path:
        pure = PurePosixPath(path)
        if (not path or pure.is_absolute() or "\\" in path or "\x00" in path
                or any(p in ("", ".", "..") for p in path.split("/"))):
            raise UnsafePath(path)
        return self.root / pure

    def _ensure_dir(self, folder: Path) -> None:
        """Create `folder` under root one level at a time, refusing to pass through a symlink."""
        if str(folder) in self._dirs:
            return
        current = self.root
        for part in folder.relative_to(self.root).parts:
            current = current / part
            if str(current) in self._dirs:
                continue
            if current.is_symlink():
                raise UnsafePath(f"{current} is a symbolic link; not writing through it")
            current.mkdir(exist_ok=True)
            self._dirs.add(str(current))
        self._dirs.add(str(folder))

    def remove(self, path: str) -> None:
        """Delete a file an earlier export wrote that nothing produces any more."""
        full = self.full(path)
        real = os.path.realpath(full.parent)
        top = os.path.realpath(self.root)
        if not (real == top or real.startswith(top + os.sep)) or not full.is_file():
            return
        full.unlink()
        folder = full.parent
        while folder != self.root and not any(folder.iterdir()):
            folder.rmdir()
            self._dirs.discard(str(folder))
            folder = folder.parent

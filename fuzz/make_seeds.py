"""Writes fuzz/seeds/: one file per message, from the project's fixtures and the real corpora.

    .venv/bin/python fuzz/make_seeds.py

The real messages are read from $MAILARCHIVE_CORPORA (default ../shared/corpora) and written
only into fuzz/seeds/, which git ignores: they are other people's mail and stay out of the
project.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
from pathlib import Path

from mailarchive import sources

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("MAILARCHIVE_CORPORA", ROOT.parent / "shared" / "corpora"))
SEEDS = ROOT / "fuzz" / "seeds"
SMALL = ("cpython-email", "enmime", "hyperkitty", "mime4j", "stalwart-mail-parser")
MAX_BYTES = 100_000


def fixtures() -> list[bytes]:
    found = [raw.data for raw in sources.read(str(ROOT / "samples" / "salon.mbox"))]
    for folder in ("hostile", "broken"):
        found += [p.read_bytes() for p in sorted((ROOT / "tests" / "data" / folder).glob("*.eml"))]
    return found


def real() -> list[bytes]:
    found: list[bytes] = []
    for name in SMALL:
        folder = CORPORA / name
        if folder.is_dir():
            found += [p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
                      and p.suffix in (".eml", ".msg", ".txt", ".raw")][:300]
    mips = CORPORA / "linux-mips" / "linux-mips-2004.mbox.xz"
    if mips.exists():
        found += [raw.data for raw in itertools.islice(sources.read(str(mips)), 300)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the fuzzer's seed messages.")
    parser.add_argument("--into", type=Path, default=SEEDS, help=f"default {SEEDS}")
    into = parser.parse_args().into
    into.mkdir(parents=True, exist_ok=True)
    written = 0
    for data in fixtures() + real():
        if len(data) <= MAX_BYTES:
            (into / hashlib.sha256(data).hexdigest()[:16]).write_bytes(data)
            written += 1
    print(f"{into}: {written} seeds")


if __name__ == "__main__":
    main()

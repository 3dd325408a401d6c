#!/usr/bin/env python3
"""Instructions a search costs, counted by valgrind (callgrind): a figure that does not drift
with the machine's speed, for comparing two versions of the code.

    .venv/bin/python bench/instructions.py                         # rare words, 60k archive
    .venv/bin/python bench/instructions.py --kind phrase --archive bench/out/search-archive

Runs the first --queries queries of a kind (from bench/search_bench.py's cached query sets) once
and twice under valgrind, each time after the same warm-up, and prints the difference divided
by the number of queries: one pass's instructions a query, start-up and warm-up left out. Needs
Debian's valgrind. About a minute for 100 rare-word queries.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from search_bench import forget_rankings, one_kind_parser


def inner(archive: str, queries_file: str, kind: str, count: int, passes: int) -> None:
    from mailarchive.search import service
    from mailarchive.search.kept import KEPT
    from mailarchive.store import Store

    queries = json.loads(Path(queries_file).read_text())[kind][:count]
    store = Store(archive, create=False)
    for q in queries:  # warm-up: statements prepared, pages cached
        service.search(store, q, per_page=20)
    for _ in range(passes):
        for q in queries:
            forget_rankings(KEPT)
            service.search(store, q, per_page=20)


def collected(args: argparse.Namespace, passes: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        run = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
             sys.executable, __file__, "--inner", str(passes), "--archive", args.archive,
             "--queries-file", args.queries_file, "--kind", args.kind,
             "--queries", str(args.queries)],
            capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or found is None:
        sys.exit(f"valgrind failed: {run.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = one_kind_parser(__doc__)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--inner", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inner:
        inner(args.archive, args.queries_file, args.kind, args.queries, args.inner)
        return
    once, twice = collected(args, 1), collected(args, 2)
    print(f"{args.kind}: {(twice - once) / args.queries / 1e6:.2f}M instructions a query "
          f"({args.queries} queries, {args.archive})")


if __name__ == "__main__":
    main()

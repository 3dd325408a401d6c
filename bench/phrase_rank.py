#!/usr/bin/env python3
"""The experiment behind `search/ranking.py`: phrase ranking at 1M without bm25's IDF pass.

For a query that is one phrase (or one word), FTS5's bm25 is IDF(phrase) x a per-row part, and
IDF is the same for every row: ranking by the per-row part alone gives the same order. FTS5
computes IDF by walking every match of the phrase in the whole index (`xQueryPhrase`), which is
half of a phrase query's time at 1M. Python's `sqlite3` cannot register an FTS5 ranking
function; apsw (PyPI, with its own SQLite) can. This script times, on the search benchmark's
1M archive and its 200 phrase queries (bench/search_bench.py makes both), the ranking statement
of `search/service.py` with bm25 (stdlib sqlite3 and apsw) and with a Python function that
computes bm25's per-row part (apsw), and checks that the top 20 of each query are the same.

It compares the stdlib's `sqlite3` (the system's SQLite) with apsw (a mailarchive dependency
since this experiment) from one read-only process:

    .venv/bin/python bench/phrase_rank.py [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"
DB = OUT / "search-archive" / "mailarchive.sqlite3"
QUERIES = OUT / "search-archive-queries-200-1.json"
YEAR = 31_557_600


def statement(score: str) -> str:
    boost = f"(1.0 + 0.25 / (1.0 + max(0, {int(time.time())} - m.date) / {YEAR}.0))"
    return (f"SELECT m.id, {score} * {boost}, m.date FROM fts JOIN messages m ON "
            "m.id = fts.rowid WHERE fts MATCH ? AND m.removed IS NULL "
            "ORDER BY fts.rowid DESC LIMIT 1001")


def timed(execute: Callable[[str, tuple[str]], list[Any]], sql: str, queries: list[str]
          ) -> tuple[list[float], dict[str, list[int]]]:
    times, tops = [], {}
    for query in queries:
        started = time.perf_counter()
        rows = execute(sql, (query,))
        times.append(time.perf_counter() - started)
        tops[query] = [r[0] for r in sorted(rows[:1000], key=lambda r: (r[1], -r[2]))[:20]]
    return times, tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    try:
        import apsw

        from mailarchive.search import ranking
    except ImportError:
        sys.exit("phrase_rank.py needs apsw and mailarchive: run it with the project's venv "
                 "Python")
    queries = json.loads(QUERIES.read_text())["phrase"]
    stdlib = sqlite3.connect(f"file:{DB}?mode=ro", uri=True)
    other = apsw.Connection(str(DB), flags=apsw.SQLITE_OPEN_READONLY)
    ranking.register(other)  # mailarchive's own `row_part`, as every archive connection has it
    bm25 = ranking.bm25_call()
    runs = {f"bm25, sqlite3 {sqlite3.sqlite_version}": (stdlib, bm25),
            f"bm25, apsw {apsw.sqlite_lib_version()}": (other, bm25),
            "row part in Python, apsw": (other, ranking.row_part_call()),
            "no ranking, sqlite3": (stdlib, "-1")}
    for connection, _ in runs.values():  # warm the page cache
        for query in queries:
            connection.execute(statement("-1"), (query,)).fetchall()
    tops: dict[str, dict[str, list[int]]] = {}
    for round_ in range(1, args.rounds + 1):
        for label, (connection, score) in runs.items():
            def execute(sql: str, params: tuple[str], c: Any = connection) -> list[Any]:
                return list(c.execute(sql, params).fetchall())
            times, tops[label] = timed(execute, statement(score), queries)
            times.sort()
            print(f"round {round_}  {label:32} p50 {statistics.median(times) * 1e3:6.1f} ms  "
                  f"p95 {times[int(len(times) * 0.95)] * 1e3:6.1f} ms")
    first, python = tops[next(iter(runs))], tops["row part in Python, apsw"]
    same = sum(first[q] == python[q] for q in queries)
    print(f"top 20 identical, bm25 (sqlite3) and the row part: {same} of {len(queries)} queries")


if __name__ == "__main__":
    main()

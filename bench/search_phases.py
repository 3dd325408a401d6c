#!/usr/bin/env python3
"""Where the time of a median search goes: `service.search` split by phase, in process.

    .venv/bin/python bench/search_phases.py                     # rare words, 60k archive
    .venv/bin/python bench/search_phases.py --kind phrase --rounds 5
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/search_phases.py   # the code of another commit

Runs the queries of a kind (from bench/search_bench.py's cached query sets) one after another,
nothing kept between them (as the benchmark times them), with a timer around each phase, and
prints the mean time of each phase over the queries between the 40th and 60th percentile of
the whole search's time: what the p50 is made of. The timers add about a microsecond a call.
Reads the database through a memory map, as the server does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search_bench import forget_rankings, one_kind_parser

# the names as `service` calls them (`text_parts` is a part of `_snippet`)
PHASES = ["parse_query", "plan", "_lists", "_ranking", "_by_id", "_raws", "to_row", "_snippet",
          "text_parts"]


def timed(spent: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
    return wrapper


def main() -> None:
    ap = one_kind_parser(__doc__)
    ap.add_argument("--rounds", type=int, default=3, help="the last round is reported")
    args = ap.parse_args()
    from mailarchive.search import service
    from mailarchive.search.kept import KEPT
    from mailarchive.store import Store

    spent: dict[str, float] = {}
    for name in PHASES:
        setattr(service, name, timed(spent, name, getattr(service, name)))
    store = Store(args.archive, create=False)
    store.map_for_reading()
    queries = json.loads(Path(args.queries_file).read_text())[args.kind]
    for _ in range(args.rounds):
        totals, phases = [], []
        for q in queries:
            forget_rankings(KEPT)
            spent.clear()
            started = time.perf_counter()
            hits = len(service.search(store, q, per_page=20).hits)
            totals.append(time.perf_counter() - started)
            phases.append((hits, dict(spent)))
    order = sorted(range(len(queries)), key=totals.__getitem__)
    band = order[len(order) * 2 // 5:len(order) * 3 // 5]
    print(f"{args.kind}, {len(queries)} queries, {args.archive}: the p40-p60 band, "
          f"{len(band)} queries, {sum(phases[i][0] for i in band) / len(band):.1f} hits each")
    print(f"  {'whole search':14} {sum(totals[i] for i in band) / len(band) * 1e6:7.1f} us")
    for name in PHASES:
        mean = sum(phases[i][1].get(name, 0.0) for i in band) / len(band)
        print(f"  {name:14} {mean * 1e6:7.1f} us")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Cold message pages in one process, as the server makes them: look-ups, a miss in the kept
pages, rendering, and keeping the page. No HTTP and no second process, so a change to the page
code shows up clearly, unlike with wrk on a busy machine.

    .venv/bin/python bench/cold_pages.py ARCHIVE [--pages 4000] [--seed 1] [--lookups]

ARCHIVE is an archive folder (e.g. one that bench/run.py --keep left); its kept pages
(`pages.sqlite3`) are removed before and after. The same seed gives the same pages, so two
versions of the code can be compared in turn: `PYTHONPATH=/other/checkout/src .venv/bin/python
bench/cold_pages.py ...`. `--lookups` times only what a request does before rendering.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from mailarchive.pagestore import PageStore
from mailarchive.render import SEARCHABLE, compile_templates
from mailarchive.render.site import Site
from mailarchive.store import Store


def forget_pages(folder: Path) -> None:
    for kept in folder.glob("pages.sqlite3*"):
        kept.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--pages", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookups", action="store_true", help="time the look-ups alone")
    args = parser.parse_args()
    forget_pages(args.archive)
    compile_templates()
    SEARCHABLE.set(True)  # as the server renders them: with a search box
    store = Store(args.archive, create=False)
    store.map_for_reading()
    pages = PageStore(args.archive)
    found = store.db.execute("SELECT l.name, m.num FROM messages m JOIN lists l "
                             "ON l.id = m.list_id WHERE m.removed IS NULL").fetchall()
    sample = random.Random(args.seed).sample(found, min(args.pages, len(found)))
    started = time.perf_counter()
    for name, num in sample:
        page = Site(store).message(str(name), str(num))
        if not args.lookups and pages.get(page) is None:
            pages.rendered(page)
    pages.flush()
    took = (time.perf_counter() - started) / len(sample)
    what = "look-ups of a cold page" if args.lookups else "a cold page"
    print(f"{took * 1000:.3f} ms {what} ({1 / took:.0f} a second on one core; "
          f"{len(sample)} pages, seed {args.seed})")
    forget_pages(args.archive)


if __name__ == "__main__":
    main()

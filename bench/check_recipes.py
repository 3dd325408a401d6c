#!/usr/bin/env python3
"""Text recipes on a whole real archive: each message's text as a snippet finds it with the
recipe its import keeps must be the text it finds without one, for the whole message and for
the starts of it a snippet reads (256 KiB, and 3,000 bytes, where the cut falls in most mail).

    .venv/bin/python bench/check_recipes.py                  # linux-mips, every year (about 20 s)
    .venv/bin/python bench/check_recipes.py --years 2005

Prints how many messages have each kind of recipe and each one that disagrees (exit status 1
if any does). The suite checks three years and the small corpora (`tests/test_corpora.py`).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from common import CORPUS_NAME, corpora_dir

from mailarchive import sources
from mailarchive.ingest import prepare
from mailarchive.parse import budgeted
from mailarchive.search.message_text import text_parts

CUTS = (256 * 1024, 3000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", default="1996-2015", help="a year or a range, e.g. 2004-2006")
    args = ap.parse_args()
    first, _, last = args.years.partition("-")
    years = range(int(first), int(last or first) + 1)
    kinds: Counter[str] = Counter()
    wrong = 0
    with budgeted():
        for year in years:
            path = corpora_dir() / CORPUS_NAME / f"{CORPUS_NAME}-{year}.mbox.xz"
            for raw in sources.read(str(path)):
                recipe = prepare(raw).text_recipe
                kinds[recipe.split(" ")[1]] += 1
                for data in (raw.data, *(raw.data[:cut] for cut in CUTS)):
                    if text_parts(data, recipe) != text_parts(data):
                        wrong += 1
                        print(f"{year}: {recipe!r} disagrees on {len(data)} bytes: {data[:120]!r}")
                        break
    total = sum(kinds.values())
    print(f"{total} messages ({args.years}): " + ", ".join(f"{n} {kind}" for kind, n
                                                          in kinds.most_common())
          + f"; {wrong} disagree")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()

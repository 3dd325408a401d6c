"""Coverage-guided fuzzing (atheris, libFuzzer) of everything that reads a message's bytes.

One input is one message. It goes through the import path (`ingest.prepare`: parse within the
time budget, search document, compression), the page body (`render.body`: parts, text and
sanitized HTML), the public download (`render.hiding.public_raw`) and a search hit's snippet
(`search.service._snippet`: its own reading of the text parts, with the text recipe kept at
import and without it, which must agree). Any exception is a bug;
so is output that does not round-trip (compressed bytes that do not decompress to the input).

    .venv/bin/pip install atheris
    .venv/bin/python fuzz/fuzz_message.py fuzz/seeds -max_total_time=300 -rss_limit_mb=2048

`fuzz/seeds` is made by `fuzz/make_seeds.py` from the project's own fixtures (and, where
../shared/corpora is present, from real messages, which are not copied into the project: the
folder is git-ignored). See fuzz/README.md.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["mailarchive"]):
    from mailarchive.ingest import prepare
    from mailarchive.model import RawMessage
    from mailarchive.packing import unpack
    from mailarchive.parse import Limits
    from mailarchive.render.body import parts_of, render_body
    from mailarchive.render.hiding import public_raw
    from mailarchive.search.service import _snippet
    from mailarchive.store import ListInfo

LIMITS = Limits(time_budget=0)  # libFuzzer has its own -timeout; SIGALRM would fight it
LIST = ListInfo(1, "fuzz", "Fuzz", "fuzz@example.org", "[Fuzz]", True)


def one_input(data: bytes) -> None:
    prepared = prepare(RawMessage(data, "fuzz"), "[Fuzz]", 1_800_000_000.0, LIMITS)
    assert unpack(prepared.packed) == data
    render_body(LIST, 1, parts_of(data), "fuzz/1/")
    public_raw(data)
    words = [("the", False), ("mail", True)]
    assert _snippet(data, prepared.text_recipe, words, True) == _snippet(data, None, words, True)
    cut = data[:len(data) // 2]  # as a snippet reads a long message: the recipe of all of it
    assert _snippet(cut, prepared.text_recipe, words, True) == _snippet(cut, None, words, True)


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

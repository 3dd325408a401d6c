"""Fuzzing the whole import → render path with mutated real messages (hypothesis).

Seeds are the project's own sample list and fixtures, plus real corpus messages where
../shared/corpora is present. Any crash, 5xx or unparseable page is a bug."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mailarchive import sources
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store
from mailarchive.web import create_app

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("MAILARCHIVE_CORPORA", ROOT.parent / "shared" / "corpora"))


def _seeds() -> list[bytes]:
    found = [raw.data for raw in itertools.islice(sources.read(str(ROOT / "samples" /
                                                                   "salon.mbox")), 20)]
    for folder in ("stalwart-mail-parser", "enmime"):
        if (CORPORA / folder).is_dir():
            found += [p.read_bytes() for p in sorted((CORPORA / folder).rglob("*.e*"))[:20]]
    return [s for s in found if len(s) < 200_000]


SEEDS = _seeds()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, max(0, len(data) - 1)))
        action = draw(st.sampled_from(["flip", "cut", "dup", "insert"]))
        if action == "flip" and data:
            data[where] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[where:where + draw(st.integers(1, 400))]
        elif action == "dup":
            data[where:where] = data[where:where + draw(st.integers(1, 400))]
        else:
            data[where:where] = draw(st.sampled_from([
                b"\n--", b"\nContent-Type: multipart/mixed; boundary=x\n", b"=?utf-8?b?", b"<",
                b"\r", b"\x00", b"\nContent-Transfer-Encoding: base64\n", b"=\n", b"\n\n"]))
    return bytes(data)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, TestClient]:
    folder = tmp_path_factory.mktemp("fuzz") / "archive"
    store = Store(folder)
    store.ensure_list("fuzz")
    return store, TestClient(create_app(folder, cache=False), raise_server_exceptions=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(mutated())
def test_mutated_real_mail_imports_and_renders(site: tuple[Store, TestClient],
                                               data: bytes) -> None:
    store, client = site
    mlist = store.get_list("fuzz")
    assert mlist is not None
    summary = ingest(store, mlist, [RawMessage(data, "fuzz")])
    assert summary.read == 1
    row = next(r for r, raw in store.iter_raw(mlist) if raw == data)
    for path in (f"/fuzz/msg{row.num}.html", f"/fuzz/thread/{row.thread}.html"):
        response = client.get(path)
        assert response.status_code in (200, 301), path
        if response.status_code == 200:
            html5lib.HTMLParser(strict=False).parse(response.text)
    assert client.get(f"/fuzz/msg{row.num}.eml").status_code == 200

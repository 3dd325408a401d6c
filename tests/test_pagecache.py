"""Rendered pages are kept for serving and dropped as soon as the archive changes."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.testclient import TestClient

from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.pagecache import PageCache
from mailarchive.store import Store
from mailarchive.web import create_app


def mail(i: int) -> RawMessage:
    data = (f"From: Writer <w@example.org>\nSubject: note {i}\nMessage-ID: <p{i}@x>\n"
            f"Date: Mon, 06 Jan 2025 1{i}:00:00 +0000\n\nbody {i}\n").encode()
    return RawMessage(data, "t")


def test_pages_are_replayed_until_an_import_or_removal(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    ingest(store, mlist, [mail(1)])
    client = TestClient(create_app(tmp_path / "a"))
    first = client.get("/l/")
    assert first.status_code == 200 and "note 2" not in first.text
    assert client.get("/l/").text == first.text
    assert client.get("/l/").headers["content-security-policy"]
    ingest(Store(tmp_path / "a"), mlist, [mail(2)])
    assert "note 2" in client.get("/l/").text
    assert client.get("/l/msg1.html").status_code == 200
    Store(tmp_path / "a").remove(mlist, 1, "spam")
    assert client.get("/l/msg1.html").status_code == 410
    assert client.get("/l/nothing-here").status_code == 404


def test_searches_are_kept_apart_and_follow_the_archive(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    ingest(store, mlist, [mail(1)])
    app = create_app(tmp_path / "a")
    client = TestClient(app)
    kept = [m for m in _middleware(app) if isinstance(m, PageCache)]
    assert [m.wanted("/search") for m in kept] == [True, False]  # outermost first
    first = client.get("/search?q=note")
    assert first.status_code == 200 and "msg1.html" in first.text
    assert "msg2.html" not in first.text
    api = client.get("/api/search?q=note").json()
    assert api["total"] == 1
    assert client.get("/search?q=note").text == first.text
    assert ("/search", b"q=note") in kept[0].pages and not kept[1].pages.get(("/search", b"q=note"))
    assert client.get("/search?q=%22unbalanced").status_code == 400
    assert ("/search", b"q=%22unbalanced") not in kept[0].pages  # errors are not kept
    ingest(Store(tmp_path / "a"), mlist, [mail(2)])
    assert "msg2.html" in client.get("/search?q=note").text  # delivered: findable at once
    assert client.get("/api/search?q=note").json()["total"] == 2
    Store(tmp_path / "a").remove(mlist, 2, "spam")
    assert "msg2.html" not in client.get("/search?q=note").text  # removed: gone at once
    assert client.get("/search.mbox.gz?q=note").status_code == 200
    assert not any(path == "/search.mbox.gz" for path, _ in kept[0].pages)


def _middleware(app: Starlette) -> list[object]:
    """The app's middleware instances, outermost first (built on the first request)."""
    TestClient(app).get("/")
    found, layer = [], app.middleware_stack
    while layer is not None:
        found.append(layer)
        layer = getattr(layer, "app", None)
    return found

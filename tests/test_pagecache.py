"""Rendered pages are kept for serving and dropped as soon as the archive changes."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
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

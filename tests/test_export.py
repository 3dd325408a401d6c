"""The static export: same pages as files, relative links that resolve, incremental re-runs."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import Archive, make
from mailarchive.export import export
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.render.downloads import public_raw
from mailarchive.render.manifest import MANIFEST, UnsafePath, Writer
from mailarchive.sources.mbox import read_mbox
from mailarchive.store import MessageRow, Store

LINK = re.compile(r'(?:href|src)="([^"]*)"')


@pytest.fixture(scope="module")
def site(archive: Archive, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    store = Store(archive.path, create=False)
    summary = export(store, out, workers=2)
    store.close()
    assert summary.written > 100 and summary.unchanged == 0
    return out


def _files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and p.name != MANIFEST}


def test_every_relative_link_resolves(site: Path) -> None:
    missing = []
    for page in site.rglob("*.html"):
        for link in LINK.findall(page.read_text("utf-8")):
            link = link.replace("&amp;", "&")
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//") or not parts.path:
                assert parts.scheme in ("http", "https", "ftp", "mailto", ""), link
                continue
            assert not link.startswith("/"), f"absolute link {link} in {page}"
            target = (page.parent / unquote(parts.path)).resolve()
            if link.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                missing.append((str(page.relative_to(site)), link))
    assert not missing, missing[:10]


def test_layout_matches_the_server(site: Path, archive: Archive) -> None:
    for path in ("index.html", "test/index.html", "test/2024/05/index.html",
                 "test/2024/05/date.html", "test/2024/05/author.html", "test/msg1.html",
                 "test/msg1.eml", "test/thread/1.html", "test/thread/1.mbox.gz",
                 "test/2024-05.mbox.gz", "test/feed.atom", "-/static/app.css",
                 "mid/a@t.example/index.html"):
        assert (site / path).is_file(), path
    stub = (site / "mid/a@t.example/index.html").read_text()
    assert 'content="0; url=../../test/msg1.html"' in stub
    store = Store(archive.path, create=False)
    mlist = store.get_list("test")
    assert mlist is not None
    row = store.message(mlist, 1)
    assert row is not None
    assert (site / "test/msg1.eml").read_bytes() == public_raw(store.raw(row), mlist.obfuscate)
    store.close()


def test_nothing_is_written_outside_or_through_links(site: Path) -> None:
    root = os.path.realpath(site)
    for path in site.rglob("*"):
        assert not path.is_symlink()
        assert os.path.realpath(path).startswith(root + os.sep)
    names = [p.name for p in site.rglob("*") if "/msg" in str(p.parent) and p.is_file()]
    assert not any(n.endswith((".html", ".svg", ".htm", ".xml")) for n in names
                   if not re.fullmatch(r"msg\d+\.html", n))


def test_writer_refuses_unsafe_paths(tmp_path: Path) -> None:
    writer = Writer(tmp_path / "out", {})
    (tmp_path / "out").mkdir()
    for bad in ("../x", "/etc/x", "a/../../x", "a\\..\\x", "a\x00b", "", "a//b"):
        with pytest.raises(UnsafePath):
            writer.put(bad, b"x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath):
        writer.put("link/file.html", b"x")
    assert not list((tmp_path / "elsewhere").iterdir())


def _small(folder: Path) -> Store:
    store = Store(folder)
    mlist = store.ensure_list("t", address="t@lists.example.org")
    messages = [make("a@t.example", "Alpha", 1), make("b@t.example", "Beta", 2),
                make("r@t.example", "Re: Alpha", 3, headers=["References: <a@t.example>"]),
                make("d@t.example", "Delta", 20)]
    ingest(store, mlist, (RawMessage(m, "t") for m in messages), workers=1)
    return store


def _add(store: Store, message: bytes) -> None:
    mlist = store.get_list("t")
    assert mlist is not None
    ingest(store, mlist, [RawMessage(message, "new")], workers=1)


def test_second_run_writes_nothing_and_a_new_message_only_what_it_touches(tmp_path: Path) -> None:
    store = _small(tmp_path / "archive")
    out = tmp_path / "site"
    first = export(store, out, workers=1)
    assert first.written > 20 and first.unchanged == 0
    again = export(store, out, workers=1)
    assert again.written == 0 and again.unchanged == first.written
    before = _files(out)
    _add(store, make("r2@t.example", "Re: Alpha", 4, headers=["References: <a@t.example>"]))
    third = export(store, out, workers=1)
    after = _files(out)
    changed = {p for p in after if before.get(p) != after[p]}
    # the new message, its thread (whose pages show it), its neighbours by date, the indexes
    assert changed == {
        "t/msg5.html", "t/msg5.eml", "mid/r2@t.example/index.html", "t/thread/1.html",
        "t/thread/1.mbox.gz", "t/msg1.html", "t/msg3.html", "t/msg4.html", "t/2024-05.mbox.gz",
        "t/2024/05/index.html", "t/2024/05/date.html", "t/2024/05/author.html", "t/index.html",
        "t/feed.atom", "index.html"}
    assert third.written == len(changed)
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == set(after)
    store.close()


def test_a_merged_thread_page_becomes_a_redirect(tmp_path: Path) -> None:
    store = _small(tmp_path / "archive")
    out = tmp_path / "site"
    export(store, out, workers=1)
    assert "Beta" in (out / "t/thread/2.html").read_text()
    _add(store, make("m@t.example", "Re: both", 5, headers=["References: <a@t.example> "
                                                                "<b@t.example>"]))
    summary = export(store, out, workers=1)
    stub = (out / "t/thread/2.html").read_text()
    assert 'http-equiv="refresh" content="0; url=1.html"' in stub
    assert not (out / "t/thread/2.mbox.gz").exists() and summary.removed == 1
    assert "Beta" in (out / "t/thread/1.html").read_text()
    assert export(store, out, workers=1).written == 0
    store.close()


def test_a_removed_message_leaves_a_tombstone(tmp_path: Path) -> None:
    store = _small(tmp_path / "archive")
    out = tmp_path / "site"
    export(store, out, workers=1)
    mlist = store.get_list("t")
    assert mlist is not None and store.remove(mlist, 2, "spam")
    export(store, out, workers=1)
    page = (out / "t/msg2.html").read_text()
    assert "Message removed" in page and "spam" in page and "Beta" not in page
    assert not (out / "t/msg2.eml").exists() and not (out / "mid/b@t.example").exists()
    assert "Beta" not in (out / "t/2024/05/date.html").read_text()
    store.close()


def _unpack(path: Path) -> list[bytes]:
    return [raw.data for raw in read_mbox(io.BytesIO(gzip.decompress(path.read_bytes())), "x")]


def _public(store: Store, rows: list[MessageRow]) -> list[bytes]:
    return [public_raw(store.raw(row)) for row in rows]


def test_mboxes_carry_each_message_hidden_once_and_reused(tmp_path: Path) -> None:
    """Each message is hidden once, for its `.eml`; its thread's and its month's mbox reuse
    those bytes, also in a later run that re-renders the month but not the thread, and also
    when the `.eml` is gone (it is then hidden again)."""
    store = _small(tmp_path / "archive")
    mlist = store.get_list("t")
    assert mlist is not None and mlist.obfuscate
    out = tmp_path / "site"
    export(store, out, workers=1)
    rows = store.messages_by_date(mlist)
    assert b"tess@test.example" in store.raw(rows[0])
    for row in rows:
        eml = (out / f"t/msg{row.num}.eml").read_bytes()
        assert eml == public_raw(store.raw(row)) and b"tess@test.example" not in eml
    assert _unpack(out / "t/2024-05.mbox.gz") == _public(store, rows)
    thread = [r for r in rows if r.thread == 1]
    assert _unpack(out / "t/thread/1.mbox.gz") == _public(store, thread)
    (out / "t/msg2.eml").unlink()
    _add(store, make("late@t.example", "Late", 30))
    summary = export(store, out, workers=1)
    assert "t/msg2.eml" not in {p for p in _files(out)} and summary.written < 20
    assert _unpack(out / "t/2024-05.mbox.gz") == _public(store, store.messages_by_date(mlist))
    store.close()


def test_a_list_that_shows_addresses_exports_its_bytes_as_stored(tmp_path: Path) -> None:
    store = Store(tmp_path / "archive")
    mlist = store.ensure_list("open", obfuscate=False)
    ingest(store, mlist, [RawMessage(make("o@t.example", "Open", 3), "t")], workers=1)
    out = tmp_path / "site"
    export(store, out, workers=1)
    row = store.messages_by_date(mlist)[0]
    assert (out / "open/msg1.eml").read_bytes() == store.raw(row)
    assert _unpack(out / "open/2024-05.mbox.gz") == [store.raw(row)]
    assert _unpack(out / "open/thread/1.mbox.gz") == [store.raw(row)]
    store.close()


def test_mail_in_a_new_month_leaves_the_old_months_alone(tmp_path: Path) -> None:
    store = _small(tmp_path / "archive")
    out = tmp_path / "site"
    export(store, out, workers=1)
    before = _files(out)
    late = make("june@t.example", "June", 20).replace(b"May 2024", b"Jun 2024")
    _add(store, late)
    summary = export(store, out, workers=1)
    after = _files(out)
    changed = {p for p in after if before.get(p) != after[p]}
    new_month = {"t/2024-06.mbox.gz", "t/2024/06/index.html", "t/2024/06/date.html",
                 "t/2024/06/author.html"}
    assert new_month <= changed and "t/msg5.eml" in changed and "t/thread/5.mbox.gz" in changed
    assert "t/2024-05.mbox.gz" not in changed, "May's messages are the same"
    assert "t/2024/05/index.html" in changed, "May's pages now link to the month after"
    assert "t/msg4.html" in changed, "the previous message by date links to the new one"
    assert not {"t/msg1.html", "t/msg2.html", "t/msg1.eml", "t/thread/1.html"} & changed
    assert summary.written == len(changed) and summary.removed == 0
    store.close()

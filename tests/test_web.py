"""The server, through Starlette's TestClient: every route of the URL layout, errors, headers."""

from __future__ import annotations

import gzip
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import html5lib  # type: ignore[import-untyped]
import pytest
from starlette.testclient import TestClient

from conftest import CORPORA, Archive, make
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.render import months
from mailarchive.render.body import parts_of
from mailarchive.render.downloads import public_raw
from mailarchive.sources.mbox import read_mbox
from mailarchive.store import Store
from mailarchive.web import PAGE_CSP, create_app

PAGES = ["/", "/test/", "/test/2024/05/", "/test/2024/05/?by=date", "/test/2024/05/?by=author",
         "/test/2024/05/index.html", "/test/2024/05/date.html", "/test/2024/05/author.html",
         "/test/msg1.html", "/test/msg4.html", "/test/msg5.html", "/test/msg7.html",
         "/test/thread/1.html", "/test2/msg1.html"]


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[TestClient]:
    # uncached: some tests change rendering settings (page sizes) between requests
    with TestClient(create_app(archive.path, cache=False),
                    raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(archive: Archive) -> Iterator[Store]:
    opened = Store(archive.path, create=False)
    yield opened
    opened.close()


def assert_safe_headers(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    csp = headers["content-security-policy"]
    assert "script-src" not in csp and "'unsafe-inline'" not in csp
    assert "default-src 'none'" in csp


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_valid_html_with_safe_headers(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGE_CSP
    assert_safe_headers(response)
    html5lib.HTMLParser(strict=True).parse(response.text)
    assert '<html lang="en">' in response.text and '<main id="main"' in response.text
    assert "<script" not in response.text


def test_every_list_and_month_page_renders(client: TestClient, archive: Archive,
                                           store: Store) -> None:
    for name in archive.lists:
        mlist = store.get_list(name)
        assert mlist is not None
        assert client.get(f"/{name}/").status_code == 200
        assert client.get(f"/{name}/feed.atom").status_code == 200
        for month, _ in store.months(mlist):
            year, mm = month.split("-")
            for order in months.ORDER_LABELS:
                assert client.get(f"/{name}/{year}/{mm}/?by={order}").status_code == 200


@pytest.mark.parametrize("name", ["hostile", "broken", "salon", "lm"])
def test_every_message_and_thread_renders(client: TestClient, archive: Archive, store: Store,
                                          name: str) -> None:
    if name not in archive.lists:  # only "lm" can be missing: real mail, read from the corpora
        pytest.skip(f"real-mail corpora not found at {CORPORA} (set MAILARCHIVE_CORPORA)")
    mlist = store.get_list(name)
    assert mlist is not None
    for row in store.iter_messages(mlist):
        page = client.get(f"/{name}/msg{row.num}.html")
        assert page.status_code == 200, row.num
        assert "<script" not in page.text
        assert not re.search(r"(href|src)=\"\s*(javascript|vbscript|data):", page.text, re.I)
        assert client.get(f"/{name}/thread/{row.thread}.html").status_code == 200
        if mlist.obfuscate and row.from_addr.count("@") == 1:
            assert row.from_addr not in page.text


@pytest.mark.parametrize("path", [
    "/nope/", "/nope/msg1.html", "/test/msg0.html", "/test/msg999.html", "/test/msgabc.html",
    "/test/msg99999999999999999999999999.html", "/test/msg1.html.html", "/test/2024/13/",
    "/test/2024/05/?by=size", "/test/2024/05/?page=9", "/test/2024/05/?page=x",
    "/test/2024/05/date-0.html", "/test/2024/05/index-2.html", "/test/1999/01/",
    "/test/thread/999.html", "/test/thread/x.html", "/test/msg1/99/x.bin", "/test/msg1/x/y",
    "/test/1999-01.mbox.gz", "/test/thread/999.mbox.gz", "/mid/nobody@nowhere", "/-/static/x",
    "/test/msg1.eml/x", "/mid/", "/test/२०२४/05/",
])
def test_not_found_is_a_real_page(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 404, path
    assert "<h1>Not found</h1>" in response.text
    assert_safe_headers(response)
    html5lib.HTMLParser(strict=True).parse(response.text)


def test_head_and_slashless_urls(client: TestClient) -> None:
    assert client.head("/test/msg1.html").status_code == 200
    assert client.get("/test", follow_redirects=False).headers["location"] == "/test/"
    moved = client.get("/test/2024/05", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/test/2024/05/"


def test_mid_redirects_to_the_first_copy(client: TestClient) -> None:
    for path in ("/mid/a@t.example", "/mid/a@t.example/", "/mid/%3Ca@t.example%3E"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 302 and response.headers["location"] == "/test/msg1.html"
    odd = client.get("/mid/x%2Fy%3Fz%23w@t.example", follow_redirects=False)
    assert odd.headers["location"] == "/test/msg6.html"
    page = client.get("/test/msg1.html").text
    assert 'href="../test2/msg1.html"' in page
    assert 'href="../mid/a@t.example/"' in page


def test_merged_thread_redirects(client: TestClient) -> None:
    moved = client.get("/test/thread/2.html", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/test/thread/1.html"
    mbox = client.get("/test/thread/2.mbox.gz", follow_redirects=False)
    assert mbox.headers["location"] == "/test/thread/1.mbox.gz"
    assert "Beta" in client.get("/test/thread/1.html").text


def _unpack(data: bytes) -> list[bytes]:
    return [raw.data for raw in read_mbox(io.BytesIO(gzip.decompress(data)), "download")]


@pytest.mark.parametrize("name", ["test", "salon"])
def test_mbox_downloads_give_back_the_original_bytes(client: TestClient, store: Store,
                                                     archive: Archive, name: str) -> None:
    if name not in archive.lists:
        pytest.skip("no sample list")
    mlist = store.get_list(name)
    assert mlist is not None
    for month, _ in store.months(mlist):
        response = client.get(f"/{name}/{month}.mbox.gz")
        assert response.headers["content-type"] == "application/gzip"
        assert response.headers["content-disposition"].startswith("attachment;")
        rows = store.month_messages(mlist, month)
        assert _unpack(response.content) == [public_raw(store.raw(row), mlist.obfuscate)
                                             for row in rows]
    thread = client.get(f"/{name}/thread/1.mbox.gz")
    rows = store.thread_messages(mlist, 1)
    assert _unpack(thread.content) == [public_raw(store.raw(row), mlist.obfuscate) for row in rows]


def test_raw_message_is_inert_text(client: TestClient, store: Store, archive: Archive) -> None:
    mlist = store.get_list("hostile") or store.get_list("test")
    assert mlist is not None
    for row in list(store.iter_messages(mlist))[:10]:
        response = client.get(f"/{mlist.name}/msg{row.num}.eml")
        assert response.content == public_raw(store.raw(row), mlist.obfuscate)
        assert response.headers["content-type"].startswith("text/plain; charset=")
        assert response.headers["content-disposition"].startswith("inline;")
        assert "sandbox" in response.headers["content-security-policy"]
        assert_safe_headers(response)


def test_attachments_are_downloads(client: TestClient, store: Store, archive: Archive) -> None:
    seen = 0
    for name in ("hostile", "salon"):
        mlist = store.get_list(name)
        for row in store.iter_messages(mlist) if mlist else []:
            for part in parts_of(store.raw(row)):
                if part.kind != "attachment":
                    continue
                response = client.get(f"/{name}/msg{row.num}/{part.index}/whatever")
                seen += 1
                disposition = response.headers["content-disposition"]
                assert re.match(r"attachment; filename=\"[ -~]+\"; filename\*=UTF-8''\S+$",
                                disposition), disposition
                assert "sandbox" in response.headers["content-security-policy"]
                ctype = response.headers["content-type"]
                assert "html" not in ctype and "svg" not in ctype and "xml" not in ctype
                assert_safe_headers(response)
    assert seen >= 3


def test_remote_images_only_with_consent(client: TestClient) -> None:
    page = client.get("/test/msg5.html")
    assert "images.example.com" not in page.text and "msg5.html?images=1" in page.text
    shown = client.get("/test/msg5.html?images=1")
    assert "images.example.com/x.png" in shown.text
    assert "img-src 'self' data: https:" in shown.headers["content-security-policy"]
    assert "<script" not in shown.text and "javascript:" not in shown.text


def test_message_page_shows_what_it_should(client: TestClient) -> None:
    page = client.get("/test/msg3.html").text
    assert "T...@test.example" in page or "t...@test.example" in page
    assert "tess@test.example" not in page
    assert "2024-05-03 08:00 UTC" in page and "+0200" in page
    assert "mailto:test@lists.example.org?In-Reply-To=%3Cc%40t.example%3E&amp;subject=Re%3A" in page
    replied = page[page.index("<h2>In reply to</h2>"):]
    assert replied.index('href="msg2.html"') < replied.index("</ul>")  # the last reference
    assert 'href="msg3.eml"' in page and 'href="thread/1.html"' in page
    flowed = client.get("/test/msg4.html").text
    assert 'href="https://example.org/a/very/long/path"' in flowed
    assert '<details class="quote"' in flowed and '<details class="sig">' in flowed
    no_id = client.get("/test/msg8.html").text
    assert "synthetic" in no_id


def test_defects_and_date_notes_are_visible(client: TestClient, store: Store,
                                            archive: Archive) -> None:
    if "broken" not in archive.lists:
        pytest.skip("no broken test mail")
    mlist = store.get_list("broken")
    assert mlist is not None
    rows = list(store.iter_messages(mlist))
    damaged = next(r for r in rows if r.defects and r.date_source == "date")
    assert "This message is damaged or unusual" in client.get(
        f"/broken/msg{damaged.num}.html").text
    undated = next(r for r in rows if r.date_source != "date")
    page = client.get(f"/broken/msg{undated.num}.html").text
    assert "date was taken from" in page and ": no usable Date header." in page


def test_feed_is_atom_without_addresses(client: TestClient) -> None:
    response = client.get("/test/feed.atom")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 8
    assert all(e.find("a:id", ns).text.startswith("urn:uuid:") for e in entries)  # type: ignore[union-attr]
    assert "tess@test.example" not in response.text


def test_month_pages_link_by_file_name(client: TestClient, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    monkeypatch.setattr(months, "PAGE_SIZE", 3)
    first = client.get("/test/2024/05/").text
    assert 'href="thread-2.html"' in first and 'href="date.html"' in first
    assert 'href="author.html"' in first and 'href="../../2024-05.mbox.gz"' in first
    assert client.get("/test/2024/05/thread-2.html").status_code == 200
    assert client.get("/test/2024/05/?page=2").text == client.get(
        "/test/2024/05/thread-2.html").text
    assert client.get("/test/2024/05/?by=date&page=3").text == client.get(
        "/test/2024/05/date-3.html").text


def test_static_css(client: TestClient) -> None:
    response = client.get("/-/static/app.css")
    assert response.status_code == 200 and "prefers-color-scheme" in response.text
    assert_safe_headers(response)


def test_templates_compiled_before_the_server_starts_are_not_compiled_again(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve` compiles every template before it forks its processes: no request compiles one
    (3-40 ms a template in a slow hour; the first search after a start took 75-88 ms before,
    35-46 ms after)."""
    from mailarchive.render import ENV, compile_templates

    assert ENV.cache is not None
    ENV.cache.clear()
    compile_templates()

    def compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a template compiled during a request: {args[1:2]}")

    monkeypatch.setattr(ENV, "compile", compiling)
    for path in [*PAGES, "/search?q=hello", "/test/feed.atom", "/no-such-list/"]:
        assert client.get(path).status_code in (200, 404), path


def _threads_by_last_date(store: Store, list_id: int) -> list[tuple[int, int, int]]:
    """Every thread as (last date, thread, messages), newest first: the reference for
    `recent_threads` (what grouping every message by thread gives)."""
    rows = store.db.execute("SELECT max(date), thread, count(*) FROM messages WHERE list_id = ? "
                            "AND removed IS NULL GROUP BY thread", (list_id,)).fetchall()
    return sorted(((int(d), int(t), int(n)) for d, t, n in rows), reverse=True)


def _assert_recent_threads(store: Store, mlist: object, limit: int) -> None:
    want = _threads_by_last_date(store, mlist.id)  # type: ignore[attr-defined]
    got = store.recent_threads(mlist, limit)  # type: ignore[arg-type]
    assert [last for _, _, last in got] == [d for d, _, _ in want[:limit]]
    by_thread = {t: (d, n) for d, t, n in want}
    for first, count, last in got:
        assert by_thread[first.thread] == (last, count)
        oldest = store.db.execute("SELECT min(date) FROM messages WHERE list_id = ? AND "
                                  "thread = ? AND removed IS NULL",
                                  (first.list_id, first.thread)).fetchone()[0]
        assert first.date == oldest
    if len(want) > limit > 0:  # ties at the cut may go either way; none above it may be left
        cut = want[limit - 1][0]
        assert {t for d, t, _ in want if d > cut} <= {f.thread for f, _, _ in got}


def test_recent_threads_are_those_with_the_newest_messages(store: Store, archive: Archive) -> None:
    """The list page's recent threads, found by reading the newest messages backwards, are the
    threads that grouping every message ranks first, with their counts and first messages."""
    for name in archive.lists:
        mlist = store.get_list(name)
        assert mlist is not None
        for limit in (1, 3, 20, 100, 100_000):
            _assert_recent_threads(store, mlist, limit)


def test_recent_threads_leave_out_removed_messages(tmp_path: Path) -> None:
    store = Store(tmp_path)
    mlist = store.ensure_list("t")
    mails = [make("a1@t.example", "Alpha", 1), make("b1@t.example", "Beta", 2),
             make("a2@t.example", "Re: Alpha", 3, headers=["In-Reply-To: <a1@t.example>"])]
    ingest(store, mlist, [RawMessage(m, "t") for m in mails], workers=1)
    assert [(f.subject, n) for f, n, _ in store.recent_threads(mlist, 5)] == [("Alpha", 2),
                                                                               ("Beta", 1)]
    assert store.remove(mlist, 3, "asked")
    assert [(f.subject, n) for f, n, _ in store.recent_threads(mlist, 5)] == [("Beta", 1),
                                                                               ("Alpha", 1)]
    assert store.remove(mlist, 1, "asked")
    assert [(f.subject, n) for f, n, _ in store.recent_threads(mlist, 5)] == [("Beta", 1)]
    _assert_recent_threads(store, mlist, 5)
    store.close()


def _months_by_reading_every_message(store: Store, list_id: int) -> list[tuple[str, int]]:
    return [(m, n) for m, n in store.db.execute(
        "SELECT month, count(*) FROM messages WHERE list_id = ? AND removed IS NULL "
        "GROUP BY month ORDER BY month DESC", (list_id,))]


def test_month_counts_and_summary_are_those_of_every_message(store: Store,
                                                             archive: Archive) -> None:
    """The list and home pages count months from the month index (less removed messages):
    the same as reading every message."""
    for name in archive.lists:
        mlist = store.get_list(name)
        assert mlist is not None
        assert store.months(mlist) == _months_by_reading_every_message(store, mlist.id)
        stats = store.stats(mlist)
        assert store.summary(mlist) == (stats["messages"], stats["last"])


def test_month_counts_and_summary_leave_out_removed_messages(tmp_path: Path) -> None:
    store = Store(tmp_path)
    mlist = store.ensure_list("t")
    mails = [make("a@t.example", "May one", 1), make("b@t.example", "May two", 2),
             make("c@t.example", "", 3),  # an empty subject, as removal leaves one
             make("d@t.example", "June", 4).replace(b"May 2024", b"Jun 2024")]
    ingest(store, mlist, [RawMessage(m, "t") for m in mails], workers=1)
    assert store.months(mlist) == [("2024-06", 1), ("2024-05", 3)]
    for num in (4, 2):
        assert store.remove(mlist, num, "asked")
        assert store.months(mlist) == _months_by_reading_every_message(store, mlist.id)
        stats = store.stats(mlist)
        assert store.summary(mlist) == (stats["messages"], stats["last"])
    assert store.months(mlist) == [("2024-05", 2)]
    store.close()


def test_removed_message_is_gone(tmp_path: Path) -> None:
    store = Store(tmp_path)
    mlist = store.ensure_list("t")
    ingest(store, mlist, [RawMessage(make("gone@t.example", "Secret", 1), "t")], workers=1)
    assert store.remove(mlist, 1, "posted by mistake")
    with TestClient(create_app(tmp_path)) as local:
        page = local.get("/t/msg1.html")
        assert page.status_code == 410 and "posted by mistake" in page.text
        assert "Secret" not in page.text
        assert local.get("/t/msg1.eml").status_code == 410
        assert local.get("/mid/gone@t.example").status_code == 404
    store.close()


def test_a_list_of_one_message_has_no_empty_navigation(tmp_path: Path) -> None:
    """Nothing before, after or around it: no "Browse" heading over nothing, no empty landmark."""
    store = Store(tmp_path)
    mlist = store.ensure_list("t")
    ingest(store, mlist, [RawMessage(make("only@t.example", "Alone", 1), "t")], workers=1)
    ingest(store, mlist, [RawMessage(make("next@t.example", "Second", 2), "t")], workers=1)
    with TestClient(create_app(tmp_path)) as local:
        assert "<h2>Browse</h2>" in local.get("/t/msg1.html").text
        assert store.remove(mlist, 2, "test")
        alone = local.get("/t/msg1.html").text
        assert "Alone" in alone and "Browse" not in alone and 'class="around"' not in alone
    store.close()


def test_copies_of_a_message_link_each_other_in_one_list_and_across_lists(
        tmp_path: Path) -> None:
    """Two messages with one Message-ID (a resend) link each other; so do copies in two
    lists (an archive of one list finds them in the thread, of more by Message-ID)."""
    store = Store(tmp_path)
    first = store.ensure_list("first")
    ingest(store, first, [RawMessage(make("same@t.example", "Sent once", 1), "t"),
                          RawMessage(make("other@t.example", "Between", 2), "t"),
                          RawMessage(make("same@t.example", "Sent again", 3), "t")], workers=1)
    with TestClient(create_app(tmp_path, cache=False)) as local:
        page = local.get("/first/msg1.html").text
        assert "Other copies of this message" in page and 'href="msg3.html"' in page
        assert "Other copies" not in local.get("/first/msg2.html").text
        second = store.ensure_list("second")
        ingest(store, second, [RawMessage(make("same@t.example", "Sent once", 1), "t")],
               workers=1)
        page = local.get("/first/msg3.html").text
        assert 'href="msg1.html"' in page and 'href="../second/msg1.html"' in page
    store.close()

"""Search over HTTP: the page, the JSON API, the Atom feed and mbox download of a search, errors
(400 with a clear sentence, never a 500), escaping, the search box, and a browser run."""

from __future__ import annotations

import gzip
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import html5lib  # type: ignore[import-untyped]
import pytest
from starlette.testclient import TestClient

import test_browser
from conftest import Archive, _raws, add, list_messages
from mailarchive import web_search
from mailarchive.export import export
from mailarchive.render.downloads import public_raw
from mailarchive.search.service import all_matches
from mailarchive.sources.mbox import read_mbox
from mailarchive.store import Store
from mailarchive.web import PAGE_CSP, create_app

# the browser test's fixtures: a real server, Chromium, and the screenshot folder
server, chromium, shots = test_browser.server, test_browser.chromium, test_browser.shots
CHROMIUM, SIZES = test_browser.CHROMIUM, test_browser.SIZES
ATOM = "{http://www.w3.org/2005/Atom}"
HIT_FIELDS = {"list", "number", "message_id", "subject", "from", "date", "url", "snippet",
              "highlights", "thread_hits"}
# (query, words the error message must contain)
MALFORMED = [
    ('"little prince', "Unbalanced quote"),
    ("(rose OR fox prince", "Unbalanced brackets"),
    ("rose OR fox)", "Unbalanced brackets"),
    (" ".join(f"w{i}" for i in range(10_000)), "Query too long"),
    ("a " * 999, "terms"),
    ("date:2024-13", "Invalid date"),
    ("date:yesterday", "Invalid date"),
    ("date:2024-02-30..2024-03-01", "Invalid date"),
    ("((((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))))", "nested"),
    ("prince AND", '"AND" needs'),
    ("-prince", "Only excluded terms"),
    ("from:", 'after "from:"'),
    ("*", "No words"),
    ('"><script>alert(1)</script>', "Unbalanced quote"),
]
# FTS5 syntax typed raw is only ever searched for as words: an answer, never a server error
INJECTED = ["NEAR(rose fox)", "subject:* OR", "{subject sender}:rose", "^prince", "rose:fox",
            "prince NEAR/3 rose", "'); DROP TABLE messages; --", "\x00prince", "rose\u202e",
            "prince*", "pr*", "\"\"", "rank:bm25(fts)", "a\"b\"c"]


@pytest.fixture(scope="module")
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(archive.path), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(archive: Archive) -> Iterator[Store]:
    opened = Store(archive.path, create=False)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def salon(archive: Archive) -> str:
    if "salon" not in archive.lists:
        pytest.skip("no sample list")
    return "salon"


def api(client: TestClient, **params: object) -> dict[str, object]:
    response = client.get("/api/search", params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data: dict[str, object] = response.json()
    return data


def hits(data: dict[str, object]) -> list[dict[str, object]]:
    found = data["hits"]
    assert isinstance(found, list)
    return found


def test_the_page_lists_results_with_marked_words(client: TestClient, salon: str) -> None:
    response = client.get("/search", params={"q": "prince", "list": salon})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == PAGE_CSP
    html5lib.HTMLParser(strict=True).parse(response.text)
    text = response.text
    assert "<script" not in text
    assert 'role="search"' in text and '<label for="q">' in text and "<h1>" in text
    assert re.search(r'<p class="count" role="status">\s*11 messages match', text)
    assert "<mark>Prince</mark>" in text
    assert text.count('<ol class="hits"') == 1 and text.count("<h3>") == 11
    # each result: subject linked (relative to /search), sender, date, list
    assert 'href="salon/msg12.html"' in text and 'href="salon/"' in text
    assert "Alice Martin" in text and '<time datetime="2025-01-10T' in text
    assert 'id="syntax"' in text and "date:2024-08-01..2024-08-31" in text
    assert 'id="site-q"' not in text  # the page's own form replaces the header's box


def test_an_empty_search_shows_the_form_and_help(client: TestClient) -> None:
    response = client.get("/search")
    assert response.status_code == 200
    assert 'id="q"' in response.text and "How to search" in response.text
    assert 'class="hits"' not in response.text and 'role="alert"' not in response.text


def test_api_fields(client: TestClient, store: Store, salon: str) -> None:
    data = api(client, q="prince", list=salon)
    assert set(data) == {"query", "total", "total_exact", "page", "per_page", "hits"}
    assert (data["query"], data["total"], data["page"], data["per_page"]) == ("prince", 11, 1, 20)
    mlist = store.get_list(salon)
    assert mlist is not None
    for hit in hits(data):
        assert set(hit) == HIT_FIELDS
        row = store.message(mlist, hit["number"])  # type: ignore[arg-type]
        assert row is not None and hit["list"] == salon
        assert hit["message_id"] == row.message_id and hit["date"] == row.date
        assert hit["from"] == row.from_name and hit["url"] == f"/salon/msg{row.num}.html"
        assert isinstance(hit["subject"], str) and "Prince" in hit["subject"] or hit["snippet"]
        snippet = hit["snippet"]
        assert isinstance(snippet, str)
        for start, end in hit["highlights"]:  # type: ignore[attr-defined]
            assert snippet[start:end].lower() == "prince"
        assert hit["thread_hits"] == 1
        assert client.get(str(hit["url"])).status_code == 200
    assert any(hit["highlights"] for hit in hits(data))


def test_pagination(client: TestClient, salon: str) -> None:
    seen = []
    for page in (1, 2, 3):
        data = api(client, q="prince", list=salon, per_page=4, page=page)
        assert data["page"] == page and data["per_page"] == 4 and data["total"] == 11
        seen += [hit["number"] for hit in hits(data)]
    assert len(seen) == 11 == len(set(seen))
    assert hits(api(client, q="prince", list=salon, per_page=4, page=4)) == []
    second = client.get("/search", params={"q": "prince", "page": "2", "list": salon}).text
    assert "0 messages" not in second
    many = client.get("/search", params={"q": "salon OR meeting OR prince", "list": salon}).text
    assert 'aria-label="Result pages"' in many and 'rel="next"' in many
    assert 'href="search?q=salon+OR+meeting+OR+prince&amp;list=salon&amp;page=2"' in many
    page2 = client.get("/search", params={"q": "salon OR meeting OR prince", "list": salon,
                                          "page": "2"}).text
    assert 'rel="prev"' in page2 and 'aria-current="page" aria-label="Page 2"' in page2
    assert re.search(r"showing 21–", page2)


def test_sort_by_date(client: TestClient, salon: str) -> None:
    data = api(client, q="meeting", list=salon, sort="date", per_page=100)
    dates = [hit["date"] for hit in hits(data)]
    assert len(dates) > 3 and dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    relevance = [hit["number"] for hit in hits(api(client, q="meeting", list=salon,
                                                       per_page=100))]
    assert sorted(relevance) == sorted(hit["number"] for hit in hits(data))  # type: ignore[type-var]
    page = client.get("/search", params={"q": "meeting", "sort": "date"}).text
    assert '<a href="search?q=meeting&amp;sort=date" aria-current="page">Newest first' in page
    assert '<input type="hidden" name="sort" value="date">' in page


def test_group_by_thread(client: TestClient, store: Store, salon: str) -> None:
    every = api(client, q="prince", list=salon, per_page=100)
    grouped = api(client, q="prince", list=salon, per_page=100, group="thread")
    mlist = store.get_list(salon)
    assert mlist is not None

    def thread(hit: dict[str, object]) -> int:
        row = store.message(mlist, hit["number"])  # type: ignore[arg-type, union-attr]
        assert row is not None
        return row.thread

    threads = [thread(hit) for hit in hits(grouped)]
    assert len(threads) == len(set(threads)) == grouped["total"]
    assert set(threads) == {thread(hit) for hit in hits(every)}
    assert sum(hit["thread_hits"] for hit in hits(grouped)) == every["total"]  # type: ignore[misc]
    page = client.get("/search", params={"q": "prince", "list": salon, "group": "thread"}).text
    assert "threads match" in page and "matching messages in this thread" in page
    assert re.search(r'href="salon/thread/\d+\.html"', page)


def test_list_scope(client: TestClient) -> None:
    everywhere = {hit["list"] for hit in hits(api(client, q="alpha", per_page=100))}
    assert {"test", "test2"} <= everywhere
    for name in ("test", "test2"):
        assert {hit["list"] for hit in hits(api(client, q="alpha", list=name))} == {name}
    assert {hit["list"] for hit in hits(api(client, q="alpha list:test2"))} == {"test2"}
    page = client.get("/search", params={"q": "alpha", "list": "test"}).text
    assert '<a href="search?q=alpha">Search all lists</a>' in page
    assert '<option value="test" selected>' in page
    assert "Search all lists" not in client.get("/search", params={"q": "alpha"}).text


def test_atom_feed_of_a_search(client: TestClient, salon: str) -> None:
    response = client.get("/search.atom", params={"q": "prince", "list": salon})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    assert "prince" in (feed.findtext(f"{ATOM}title") or "")
    assert (feed.findtext(f"{ATOM}id") or "").startswith("urn:uuid:")
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert links["self"] == "search.atom?q=prince&list=salon"
    assert links["alternate"] == "search?q=prince&list=salon"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 11
    updated = [e.findtext(f"{ATOM}updated") or "" for e in entries]
    assert updated == sorted(updated, reverse=True)
    for entry in entries:
        for child in ("title", "id", "updated", "author/" + ATOM + "name", "summary"):
            assert entry.find(ATOM + child) is not None, child
        href = entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
        assert href is not None and re.fullmatch(r"salon/msg\d+\.html", href)
    assert client.get("/search.atom", params={"q": "prince"}).status_code == 200


def _unpack(data: bytes) -> list[bytes]:
    return [raw.data for raw in read_mbox(io.BytesIO(gzip.decompress(data)), "download")]


def test_mbox_of_a_search_is_the_matching_messages(client: TestClient, store: Store) -> None:
    """As the month downloads: the stored bytes, with addresses hidden where the list hides them
    (in a search of all lists, where any list does)."""
    for params in ({"q": "hello"}, {"q": "hello", "list": "test"}, {"q": "nothingmatchesthis"}):
        response = client.get("/search.mbox.gz", params=params)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/gzip"
        assert response.headers["content-disposition"].startswith("attachment;")
        rows = list(all_matches(store, params["q"], params.get("list")))
        assert _unpack(response.content) == [public_raw(store.raw(row)) for row in rows]
        assert len(rows) > 3 or params["q"] == "nothingmatchesthis"


def test_mbox_of_a_search_gives_back_the_original_bytes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    add(store, "open", _raws(list_messages(), "open"))
    store.ensure_list("open", obfuscate=False)
    with TestClient(create_app(tmp_path)) as client:
        response = client.get("/search.mbox.gz", params={"q": "hello OR alpha OR fix"})
        assert response.headers["content-disposition"].startswith('attachment; filename="search')
        rows = list(all_matches(store, "hello OR alpha OR fix"))
        assert len(rows) >= 6
        assert _unpack(response.content) == [store.raw(row) for row in rows]
    store.close()


@pytest.mark.parametrize(("query", "words"), MALFORMED)
def test_a_malformed_query_gets_400_and_a_clear_message(client: TestClient, query: str,
                                                        words: str) -> None:
    data = client.get("/api/search", params={"q": query})
    assert data.status_code == 400
    assert set(data.json()) == {"error"} and words in data.json()["error"]
    message = data.json()["error"]
    page = client.get("/search", params={"q": query})
    assert page.status_code == 400
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    html5lib.HTMLParser(strict=True).parse(page.text)
    assert 'role="alert"' in page.text and 'aria-invalid="true"' in page.text
    escaped = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.replace('"', "&#34;") in page.text
    assert "<script>" not in page.text
    for path in ("/search.atom", "/search.mbox.gz"):
        other = client.get(path, params={"q": query})
        assert other.status_code == 400 and 'role="alert"' in other.text


@pytest.mark.parametrize("query", INJECTED)
def test_fts_syntax_typed_raw_is_searched_as_words(client: TestClient, query: str) -> None:
    for path in ("/search", "/api/search", "/search.atom", "/search.mbox.gz"):
        response = client.get(path, params={"q": query})
        assert response.status_code in (200, 400), (path, response.text[:300])
        if path == "/api/search":
            fields = {"query", "total", "total_exact", "page", "per_page", "hits"}
            assert set(response.json()) == ({"error"} if response.status_code == 400 else fields)


def test_a_search_that_runs_too_long_is_stopped(client: TestClient,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web_search, "TIME_LIMIT", 0.0)
    response = client.get("/api/search", params={"q": "hello OR alpha", "group": "thread"})
    assert response.status_code == 400 and "took too long" in response.json()["error"]
    monkeypatch.undo()
    assert client.get("/api/search", params={"q": "hello"}).status_code == 200


@pytest.mark.parametrize(("params", "words"), [
    ({"sort": "size"}, "Invalid sort"), ({"group": "author"}, "Invalid group"),
    ({"page": "0"}, "Invalid page"), ({"page": "x"}, "Invalid page"),
    ({"page": "1001"}, "Invalid page"), ({"per_page": "101"}, "Invalid per_page"),
    ({"list": "nope"}, "no list called"), ({"list": "../etc"}, "no list called"),
    ({"q": ""}, "Empty query"), ({"q": "   "}, "Empty query"),
])
def test_bad_parameters_get_400(client: TestClient, params: dict[str, str], words: str) -> None:
    response = client.get("/api/search", params={"q": "prince", **params})
    assert response.status_code == 400 and words in response.json()["error"]
    if "per_page" not in params and params.get("q", "x").strip():
        page = client.get("/search", params={"q": "prince", **params})
        assert page.status_code == 400 and words in page.text


def test_the_query_is_escaped_where_it_is_echoed(client: TestClient) -> None:
    for query in ('"><script>alert(1)</script>', 'prince "<img src=x onerror=alert(1)>"',
                  "prince </title><script>x</script>"):
        response = client.get("/search", params={"q": query})
        assert response.status_code in (200, 400)
        assert "<script>" not in response.text and "<img" not in response.text
        assert "&lt;script&gt;" in response.text or "&lt;img" in response.text
        html5lib.HTMLParser(strict=True).parse(response.text)
        feed = client.get("/search.atom", params={"q": query})
        if feed.status_code == 200:
            ET.fromstring(feed.content)
            assert b"<script>" not in feed.content


def _box(text: str) -> re.Match[str] | None:
    return re.search(r'<form class="searchbox" role="search" method="get" action="([^"]*)">'
                     r'(.*?)</form>', text, re.S)


@pytest.mark.parametrize(("path", "action", "scope"), [
    ("/", "search", None), ("/test/", "../search", "test"),
    ("/test/2024/05/", "../../../search", "test"), ("/test/msg1.html", "../search", "test"),
    ("/test/thread/1.html", "../../search", "test"), ("/nope/", "../search", None),
])
def test_every_page_has_a_search_box_scoped_to_its_list(client: TestClient, path: str,
                                                        action: str, scope: str | None) -> None:
    box = _box(client.get(path).text)
    assert box is not None and box.group(1) == action
    assert '<label for="site-q"' in box.group(2) and 'name="q"' in box.group(2)
    hidden = re.search(r'<input type="hidden" name="list" value="([^"]*)">', box.group(2))
    assert (hidden.group(1) if hidden else None) == scope


def test_the_box_on_a_list_page_leads_to_scoped_results(client: TestClient) -> None:
    box = _box(client.get("/test/msg1.html").text)
    assert box is not None
    target = urljoin("/test/msg1.html", box.group(1))
    results = client.get(target, params={"q": "alpha", "list": "test"})
    assert target == "/search" and results.status_code == 200
    assert "Search all lists" in results.text and "<mark>Alpha</mark>" in results.text


def test_the_static_export_has_no_search(tmp_path: Path) -> None:
    store = Store(tmp_path / "archive")
    add(store, "test", _raws(list_messages(), "test"))
    export(store, tmp_path / "site", workers=1)
    store.close()
    pages = list((tmp_path / "site").rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text("utf-8")
        assert 'role="search"' not in text and "searchbox" not in text, page


# --- in a real browser ---------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
def test_searching_from_a_list_page_in_a_browser(server: str, chromium: object, archive: Archive,
                                                 shots: Path) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    name, query = ("salon", "prince") if "salon" in archive.lists else ("test", "alpha")
    problems = []
    for width, height in SIZES.values():
        context = chromium.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
        page = context.new_page()
        page.goto(f"{server}/{name}/")
        test_browser.screenshot(page, shots / f"search-box-{width}.png")
        box = page.get_by_role("search")
        box.get_by_role("searchbox").fill(query)
        box.get_by_role("button", name="Search").click()
        page.wait_for_url(f"{server}/search?q={query}&list={name}")
        assert page.locator("ol.hits > li").count() > 0
        assert page.locator("ol.hits mark").count() > 0
        assert "match" in page.get_by_role("status").inner_text()
        for kind in ("results", "error"):
            if kind == "error":
                page.goto(f"{server}/search?q=%22little+prince&list={name}")
                assert page.get_by_role("alert").count() == 1
            test_browser.screenshot(page, shots / f"search-{kind}-{width}.png")
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"search {kind} scroll sideways at {width}px ({scroll}px)"
            problems += [(kind, width, v["id"], v["impact"], v["help"]) for v in
                         Axe().run(page).response["violations"]
                         if v["impact"] in ("serious", "critical")]
        context.close()
    assert not problems, problems

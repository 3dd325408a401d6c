"""Search over HTTP (server only): the search page, its Atom feed and mbox download, the JSON API.

    /search?q=...          the page: ranked results with highlighted snippets, paginated
    /search.atom?q=...     the newest matching messages as an Atom feed, to follow a topic
    /search.mbox.gz?q=...  every matching message as one mboxrd file, streamed
    /api/search?q=...      one page of results as JSON (the fields of `search.api`)

Parameters: q, list (scope), sort (relevance|date), group (thread), page; the API also takes
per_page. A malformed query or parameter answers 400 with the one-sentence reason, as a page or as
{"error": ...}. Searches run under a time limit, so no query can hold a worker for long.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import apsw
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mailarchive.render import SEARCHABLE, downloads, feeds, filters, render, urls
from mailarchive.render.body import parts_of
from mailarchive.render.pages import author_of, stamp_iso, stamp_utc, subject_of
from mailarchive.search.api import results_json
from mailarchive.search.query import QueryError, parse_query
from mailarchive.search.service import (
    MAX_PAGE,
    SORTS,
    Hit,
    Results,
    all_matches,
    lists_of,
    search,
)
from mailarchive.search.snippet import snippet, terms
from mailarchive.store import Store

HERE = "search"
PER_PAGE = 20
MAX_PER_PAGE = 100
TIME_LIMIT = 10.0  # seconds one search may run before it is stopped
PAGE_WINDOW = 2  # page links shown either side of the current one
_log = logging.getLogger(__name__)

HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"


class BadRequest(Exception):
    """A malformed query or parameter; the text is one sentence for the user."""


class Searchable:
    """ASGI middleware: pages rendered inside a request of the server show the search box."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = SEARCHABLE.set(True)
        try:
            await self.app(scope, receive, send)
        finally:
            SEARCHABLE.reset(token)


@dataclass(frozen=True)
class Params:
    q: str
    list_name: str | None
    sort: str
    group: bool
    page: int
    per_page: int = PER_PAGE

    def target(self, path: str = HERE, **changes: Any) -> str:
        """The site target of this search with some parameters changed (defaults left out)."""
        values = {"q": self.q, "list": self.list_name or "", "sort": self.sort,
                  "group": "thread" if self.group else "", "page": self.page, **changes}
        pairs = [(k, v) for k, v in values.items()
                 if v not in ("", None) and not (k == "sort" and v == "relevance")
                 and not (k == "page" and v == 1)]
        return f"{path}?{urlencode(pairs)}" if pairs else path


@dataclass(frozen=True)
class HitView:
    subject: list[tuple[str, bool]]
    author: str
    date: str
    iso: str
    list_name: str
    target: str
    list_target: str
    thread_target: str
    thread_hits: int
    snippet: list[tuple[str, bool]]


def routes(folder: str | Path, store: Callable[[], Store]) -> list[Route]:
    """The search routes; `store()` gives this thread's store, `folder` is the archive."""
    handlers = _Handlers(folder, store)
    return [
        Route("/search", handlers.page),
        Route("/search.atom", handlers.atom),
        Route("/search.mbox.gz", handlers.mbox),
        Route("/api/search", handlers.api),
    ]


def _whole(text: str, low: int, high: int, name: str) -> int:
    if not (text.isascii() and text.isdigit() and 0 < len(text) <= 9) or not (
            low <= int(text) <= high):
        raise BadRequest(f"Invalid {name} “{filters.clean(text[:20])}”: "
                         f"use a whole number from {low} to {high}.")
    return int(text)


def read_params(request: Request, store: Store, *, api: bool = False) -> Params:
    """The search parameters of a request, checked (not yet the query); raises BadRequest."""
    query = request.query_params
    q = query.get("q", "")
    list_name = query.get("list", "").strip() or None
    if list_name is not None and (not urls.list_ok(list_name) or store.get_list(list_name) is None):
        raise BadRequest(f"There is no list called “{filters.clean(list_name[:64])}” in this "
                         "archive; leave the list out to search all lists.")
    sort = query.get("sort", "") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"Invalid sort “{filters.clean(sort[:20])}”: use sort=relevance "
                         "(the default) or sort=date (newest first).")
    group = query.get("group", "")
    if group not in ("", "thread", "none"):
        raise BadRequest(f"Invalid group “{filters.clean(group[:20])}”: use group=thread to "
                         "show one result per thread, or leave it out.")
    page = _whole(query.get("page", "") or "1", 1, MAX_PAGE, "page")
    per_page = PER_PAGE
    if api:
        per_page = _whole(query.get("per_page", "") or str(PER_PAGE), 1, MAX_PER_PAGE, "per_page")
    return Params(filters.clean(q), list_name, sort, group == "thread", page, per_page)


@contextmanager
def time_limit(store: Store, seconds: float | None = None) -> Iterator[None]:
    """Stop SQLite if a search runs longer than `seconds` (it raises InterruptError)."""
    deadline = time.monotonic() + (TIME_LIMIT if seconds is None else seconds)
    store.db.set_progress_handler(lambda: time.monotonic() > deadline, 1_000)
    try:
        yield
    finally:
        store.db.set_progress_handler(None, 0)


def run(store: Store, params: Params) -> Results:
    """One page of results; BadRequest for a query that is malformed or takes too long."""
    try:
        with time_limit(store):
            return search(store, params.q, list_name=params.list_name, sort=params.sort,
                          page=params.page, per_page=params.per_page, group=params.group)
    except QueryError as error:
        raise BadRequest(str(error)) from None
    except apsw.InterruptError as error:
        _log.warning("search %r stopped: %s", params.q[:200], error)
        raise BadRequest("This search took too long: add words or a date: range to narrow "
                         "it down.") from None


def hit_view(hit: Hit, hide: bool, words: list[tuple[str, bool]]) -> HitView:
    """One result as the page shows it: the subject with the query's words marked too."""
    row = hit.message
    return HitView(snippet(subject_of(row, hide), words), author_of(row, hide),
                   stamp_utc(row.date), stamp_iso(row.date), hit.list_name,
                   urls.message(hit.list_name, row.num), urls.list_dir(hit.list_name),
                   urls.thread(hit.list_name, row.thread),
                   hit.thread_hits, hit.snippet)


def page_links(params: Params, total: int) -> list[tuple[int, str]]:
    """(number, target) of the result pages around the current one, first and last included."""
    last = min(MAX_PAGE, max(1, math.ceil(total / params.per_page)))
    wanted = {1, last, *range(params.page - PAGE_WINDOW, params.page + PAGE_WINDOW + 1)}
    return [(n, params.target(page=n)) for n in sorted(wanted) if 1 <= n <= last]


def search_html(store: Store, params: Params | None, error: str | None = None,
                q: str = "", results: Results | None = None) -> str:
    """The search page: the form, the help, and results or an error."""
    lists = [m.name for m in lists_of(store) if urls.list_ok(m.name)]
    context: dict[str, Any] = {
        "q": params.q if params else filters.clean(q), "lists": lists, "error": error,
        "list_name": params.list_name if params else None,
        "sort": params.sort if params else "relevance", "group": bool(params and params.group),
        "crumbs": [(HERE, "Search")], "results": None,
    }
    if params is not None and results is not None:
        hide = {m.name: m.obfuscate for m in lists_of(store)}
        words = terms(parse_query(params.q))
        last = min(MAX_PAGE, max(1, math.ceil(results.total / params.per_page)))
        first = (results.page - 1) * params.per_page + 1
        context.update(
            results=results, first=first, last_shown=first + len(results.hits) - 1,
            hits=[hit_view(h, hide.get(h.list_name, True), words) for h in results.hits],
            pages=page_links(params, results.total),
            page=results.page, last_page=last,
            prev=params.target(page=results.page - 1) if results.page > 1 else None,
            next=params.target(page=results.page + 1) if results.page < last else None,
            sorts=[("relevance", "Best match", params.target(sort="relevance", page=1)),
                   ("date", "Newest first", params.target(sort="date", page=1))],
            groups=[(False, "Every message", params.target(group="", page=1)),
                    (True, "One per thread", params.target(group="thread", page=1))],
            all_lists=params.target(list="", page=1) if params.list_name else None,
            feed=params.target("search.atom", sort="", group="", page=1),
            mbox=params.target("search.mbox.gz", sort="", group="", page=1),
        )
    return render("search.html", HERE, **context)


def search_atom(store: Store, params: Params) -> str:
    """The newest matching messages as an Atom feed (the list feed's template and excerpts)."""
    latest = Params(params.q, params.list_name, "date", False, 1, feeds.FEED_SIZE)
    results = run(store, latest)
    hide = {m.name: m.obfuscate for m in lists_of(store)}
    entries = []
    for hit in results.hits:
        row, secret = hit.message, hide.get(hit.list_name, True)
        entries.append({
            "title": subject_of(row, secret),
            "id": feeds._id(hit.list_name, row.num, row.message_id),
            "updated": stamp_iso(row.date), "author": author_of(row, secret),
            "target": urls.message(hit.list_name, row.num),
            "summary": feeds.excerpt(parts_of(store.raw(row)), secret),
        })
    where = f" in {params.list_name}" if params.list_name else ""
    self_target = latest.target("search.atom", sort="")
    return render("feed.xml", self_target, entries=entries,
                  title=f"Search{where}: {params.q}",
                  feed_id=feeds._id("search", params.list_name or "", params.q),
                  updated=stamp_iso(max((h.message.date for h in results.hits), default=0)),
                  self_target=self_target, list_target=latest.target(sort=""))


def mbox_chunks(folder: str | Path, q: str, list_name: str | None) -> Iterator[bytes]:
    """Every matching message as one gzip-compressed mboxrd file, made by the function that makes
    the month downloads. Addresses are hidden as that list's downloads hide them; a search of
    all lists hides them if any list does (one file has one rule, and privacy wins).

    The download is read through its own connection: a response is streamed from whichever
    worker thread is free, and the store of one thread must not be left to another."""
    store = Store(folder, create=False)
    try:
        hide = any(m.obfuscate for m in store.lists() if list_name in (None, m.name))
        yield from downloads.mbox_gz(all_matches(store, q, list_name), store.raw, hide)
    finally:
        store.close()


class _Handlers:
    def __init__(self, folder: str | Path, store: Callable[[], Store]) -> None:
        self.folder = folder
        self.store = store

    def page(self, request: Request) -> Response:
        store = self.store()
        try:
            params = read_params(request, store)
        except BadRequest as error:
            return self.bad(request, store, error)
        if not params.q.strip():
            return _html(search_html(store, params))
        try:
            results = run(store, params)
        except BadRequest as error:
            return self.bad(request, store, error, params)
        return _html(search_html(store, params, results=results))

    def api(self, request: Request) -> Response:
        store = self.store()
        try:
            results = run(store, read_params(request, store, api=True))
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, 400)
        base = request.scope.get("root_path", "") + "/"
        return JSONResponse(results_json(store, results, base))

    def atom(self, request: Request) -> Response:
        store = self.store()
        try:
            text = search_atom(store, read_params(request, store))
        except BadRequest as error:
            return self.bad(request, store, error)
        return Response(text.encode("utf-8", "replace"), media_type=ATOM)

    def mbox(self, request: Request) -> Response:
        store = self.store()
        try:
            params = read_params(request, store)
            parse_query(params.q)
        except (BadRequest, QueryError) as error:
            return self.bad(request, store, error)
        name = f"{params.list_name}-search.mbox.gz" if params.list_name else "search.mbox.gz"
        chunks = downloads.primed(mbox_chunks(self.folder, params.q, params.list_name))
        return StreamingResponse(chunks, media_type="application/gzip", headers={
            "content-disposition": downloads.disposition("attachment", name),
            "content-security-policy": downloads.ATTACHMENT_CSP})

    @staticmethod
    def bad(request: Request, store: Store, error: Exception, params: Params | None = None
            ) -> Response:
        """The search page with the reason the request cannot be answered, as a 400."""
        q = request.query_params.get("q", "")
        return _html(search_html(store, params, str(error), q), 400)


def _html(text: str, status: int = 200) -> Response:
    return Response(text.encode("utf-8", "replace"), status, media_type=HTML)

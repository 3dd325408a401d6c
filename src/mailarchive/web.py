"""The web server: the URL layout (docs/urls.md) mapped onto `render.site`, with safe headers.

No logic of its own beyond reading the request and choosing a response. Every response carries a
Content-Security-Policy without script; downloads carry their own sandboxing policy.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailarchive import web_search
from mailarchive.pagecache import SEARCHES_KEPT, PageCache
from mailarchive.pagestore import PageStore
from mailarchive.render import downloads, urls, views
from mailarchive.render.body import filename_of
from mailarchive.render.site import Gone, Moved, NotFound, Page, Site
from mailarchive.store import DatabaseError, MessageRow, Store, trouble

PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
IMAGES_CSP = PAGE_CSP.replace("img-src 'self' data:", "img-src 'self' data: https: http:")
HEADERS = {
    "content-security-policy": PAGE_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "interest-cohort=(), browsing-topics=()",
}
HEADER_PAIRS = [(name.encode(), value.encode()) for name, value in HEADERS.items()]
HTML = "text/html; charset=utf-8"
ARCHIVE_VARIABLE = "MAILARCHIVE_SERVE_ARCHIVE"  # how `serve --workers N` tells each worker
_YEAR = re.compile(r"[0-9]{4}\Z")
_MM = re.compile(r"(0[1-9]|1[0-2])\Z")
_MONTH_FILE = re.compile(r"(index|thread|date|author)(?:-([0-9]{1,6}))?\.html\Z")


class SecurityHeaders:
    """Adds the safe defaults to every response that did not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_safely(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in HEADER_PAIRS if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_safely)


def _no_delay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class OneSend:
    """A transport that gives the socket what is written in one turn of the event loop at once.

    uvicorn writes a response's head and its body separately; with Nagle's algorithm off each
    write is its own system call and its own packet, and the first of the two was a tenth of a
    server process's time on cold message pages. Writes are held until the loop's next turn
    (or until HELD_BYTES are waiting, so a stream stays under flow control)."""

    HELD_BYTES = 65536

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.held: list[bytes] = []
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.held:
            asyncio.get_running_loop().call_soon(self.flush)
        self.held.append(bytes(data))
        self.size += len(data)
        if self.size >= self.HELD_BYTES:
            self.flush()

    def flush(self) -> None:
        if not self.held:
            return
        data = self.held[0] if len(self.held) == 1 else b"".join(self.held)
        self.held, self.size = [], 0
        if not self.transport.is_closing():
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def abort(self) -> None:
        self.held, self.size = [], 0
        self.transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class NoDelayHTTP(H11Protocol):
    """uvicorn's HTTP/1.1 with Nagle's algorithm off on every connection, each response sent
    with one system call (`OneSend`). With `--workers`, uvicorn binds a socket that asyncio does
    not take for TCP, so it leaves Nagle on, and each response then waits for the client's
    delayed ACK: 40 ms a request."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(OneSend(transport))  # type: ignore[arg-type]


class NoDelayHttpTools(HttpToolsProtocol):
    """The same with uvicorn's httptools parser (C; what `serve` uses: a page costs half the
    time h11's pure-Python parsing does)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(OneSend(transport))  # type: ignore[arg-type]


class Stores:
    """One store connection per thread: request handlers run in a thread pool."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = folder
        self.local = threading.local()
        Store(folder, create=False).close()  # fail at start, not on the first request

    def get(self) -> Store:
        store: Store | None = getattr(self.local, "store", None)
        if store is None:
            store = self.local.store = Store(self.folder, create=False)
            store.map_for_reading()
        return store

    def raw(self, row: MessageRow) -> bytes:
        return self.get().raw(row)


def html(text: str, status: int = 200, csp: str | None = None) -> Response:
    headers = {"content-security-policy": csp} if csp else None
    return Response(text.encode("utf-8", "replace"), status, headers, HTML)


def site_path(request: Request, target: str) -> str:
    return f"{request.scope.get('root_path', '')}/{target}"


def create_app(folder: str | Path, cache: bool = True, pages: PageStore | None = None
               ) -> Starlette:
    """The ASGI app serving the archive in `folder` (`cache`: keep rendered pages, in memory
    and in the archive folder: `pages`, by default the folder's own, see `pagestore`)."""
    stores = Stores(folder)
    if cache and pages is None:
        pages = open_pages(folder)
    elif not cache:
        pages = None
    handlers = _Handlers(stores, pages)
    routes = [
        Route("/", handlers.home),
        Mount("/-/static", StaticFiles(packages=[("mailarchive.render", "static")]),
              name="static"),
        Route("/mid/{mid:path}", handlers.mid),
        *web_search.routes(folder, stores.get),
        Route("/{name}", handlers.add_slash),
        Route("/{name}/", handlers.list_page),
        Route("/{name}/feed.atom", handlers.feed),
        Route("/{name}/msg{num}.html", handlers.message),
        Route("/{name}/msg{num}.eml", handlers.raw),
        Route("/{name}/msg{num}/{k}/{filename:path}", handlers.attachment),
        Route("/{name}/thread/{num}.html", handlers.thread),
        Route("/{name}/thread/{num}.mbox.gz", handlers.thread_mbox),
        Route("/{name}/{year}-{mm}.mbox.gz", handlers.month_mbox),
        Route("/{name}/{year}/{mm}", handlers.add_slash),
        Route("/{name}/{year}/{mm}/", handlers.month),
        Route("/{name}/{year}/{mm}/{file}", handlers.month_file),
    ]
    handlers_for: dict[Any, Callable[..., Any]] = {
        NotFound: _not_found, HTTPException: _http_error, Moved: _moved, Gone: _gone,
        DatabaseError: _database_error(folder), Exception: _server_error,
    }

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if pages is not None:
            pages.flush()

    app = Starlette(routes=routes, exception_handlers=handlers_for, lifespan=lifespan)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(web_search.Searchable)
    if cache:
        app.add_middleware(PageCache, folder=folder)
        app.add_middleware(PageCache, folder=folder, size=SEARCHES_KEPT, searches=True)
    return app


def app_from_environment() -> Starlette:
    """The app for one of `serve --workers N`'s processes (uvicorn imports it by name)."""
    return create_app(os.environ[ARCHIVE_VARIABLE])


def open_pages(folder: str | Path) -> PageStore | None:
    """The archive's kept pages, or None (said once) where they cannot be kept."""
    try:
        return PageStore(folder)
    except (DatabaseError, OSError) as error:
        print(f"mailarchive: not keeping rendered pages in {folder} ({error})", file=sys.stderr)
        return None


def _not_found(request: Request, error: Exception) -> Response:
    explanation = str(error) if isinstance(error, NotFound) else "There is no page at this address."
    return html(views.error_html(_here(request), "Not found", explanation), 404)


def _gone(request: Request, error: Exception) -> Response:
    return html(views.error_html(_here(request), "Message removed", str(error)), 410)


def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, HTTPException) else 500
    if status == 404:
        return _not_found(request, error)
    text = views.error_html(_here(request), f"Error {status}", "This request cannot be served.")
    return html(text, status)


def _moved(request: Request, error: Exception) -> Response:
    target = error.target if isinstance(error, Moved) else ""
    return RedirectResponse(site_path(request, target), 301)


def _database_error(folder: str | Path) -> Callable[[Request, Exception], Response]:
    """SQLite's failures (a damaged file, a full disk): one line in the log saying what to do,
    instead of a traceback for every request, and a 503 page."""

    def answer(request: Request, error: Exception) -> Response:
        print(f"mailarchive: {request.url.path}: {trouble(error, folder)}", file=sys.stderr)
        text = views.error_html(_here(request), "Archive unavailable",
                                "The archive cannot be read at the moment. The problem has "
                                "been logged.")
        return html(text, 503)

    return answer


def _server_error(request: Request, error: Exception) -> Response:
    text = views.error_html(_here(request), "Something went wrong",
                            "This page could not be shown. The problem has been logged.")
    return html(text, 500)


def _here(request: Request) -> str:
    """The site path of the request as the browser sees it (still percent-encoded, so a %2F
    is no folder), so an error page's relative links work from where it is."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    return path.removeprefix(request.scope.get("root_path", "")).lstrip("/")


class _Handlers:
    """One method per route; each reads the request and asks the site for the answer."""

    def __init__(self, stores: Stores, pages: PageStore | None) -> None:
        self.stores = stores
        self.pages = pages

    async def kept(self, page: Page) -> Response:
        """A page from the archive's kept pages, rendered (and kept) if it is not there.

        Finding the page's inputs and its kept copy takes a few index seeks, done here on the
        event loop, and so is rendering a page known to be quick (handing a millisecond's work
        to a thread costs a fifth as much again, and the GIL lets it run no sooner); slower
        pages go to the thread pool, so that they do not hold up the others."""
        found = self.pages.get(page) if self.pages is not None else None
        if found is None:
            render = self.pages.rendered if self.pages is not None else _encoded
            found = render(page) if page.quick else await run_in_threadpool(render, page)
        return Response(found, media_type=HTML)

    def site(self) -> Site:
        return Site(self.stores.get())

    def home(self, request: Request) -> Response:
        return html(self.site().home())

    def add_slash(self, request: Request) -> Response:
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        p = request.path_params
        month = "year" not in p or _month_ok(p["year"], p["mm"])
        if urls.list_ok(p["name"]) and month:
            return RedirectResponse(site_path(request, path.lstrip("/") + "/"), 301)
        raise NotFound("There is no page at this address.")

    def list_page(self, request: Request) -> Response:
        return html(self.site().list_page(request.path_params["name"]))

    def feed(self, request: Request) -> Response:
        text = self.site().feed(request.path_params["name"])
        return Response(text.encode("utf-8", "replace"),
                        media_type="application/atom+xml; charset=utf-8")

    async def message(self, request: Request) -> Response:
        images = request.query_params.get("images") == "1"
        page = self.site().message(request.path_params["name"], request.path_params["num"],
                                   images)
        if images:
            return html(await run_in_threadpool(page.render), csp=IMAGES_CSP)
        return await self.kept(page)

    def raw(self, request: Request) -> Response:
        p = request.path_params
        data = self.site().raw(p["name"], p["num"])
        name = f"msg{p['num']}.eml"
        return Response(data, media_type=downloads.raw_type(data), headers={
            "content-disposition": downloads.disposition("inline", name),
            "content-security-policy": downloads.ATTACHMENT_CSP})

    def attachment(self, request: Request) -> Response:
        p = request.path_params
        part, data = self.site().attachment(p["name"], p["num"], p["k"])
        return Response(data, media_type=downloads.served_type(part, data), headers={
            "content-disposition": downloads.disposition("attachment", filename_of(part)),
            "content-security-policy": downloads.ATTACHMENT_CSP})

    def thread(self, request: Request) -> Response:
        p = request.path_params
        return html(self.site().thread_page(p["name"], p["num"]))

    def thread_mbox(self, request: Request) -> Response:
        p = request.path_params
        chunks = self.site().thread_mbox(p["name"], p["num"], self.stores.raw)
        return _mbox(chunks, f"{p['name']}-thread-{p['num']}.mbox.gz")

    def month_mbox(self, request: Request) -> Response:
        p = request.path_params
        if not _month_ok(p["year"], p["mm"]):
            raise NotFound("There is no such month.")
        chunks = self.site().month_mbox(p["name"], p["year"], p["mm"], self.stores.raw)
        return _mbox(chunks, f"{p['name']}-{p['year']}-{p['mm']}.mbox.gz")

    async def month(self, request: Request) -> Response:
        order = request.query_params.get("by", "thread")
        page = urls.number(request.query_params.get("page", "1"))
        return await self._month(request, order, page)

    async def month_file(self, request: Request) -> Response:
        match = _MONTH_FILE.match(request.path_params["file"])
        if match is None:
            raise NotFound("There is no page at this address.")
        order = "thread" if match.group(1) == "index" else match.group(1)
        page = urls.number(match.group(2)) if match.group(2) else 1
        if match.group(1) == "index" and match.group(2):
            page = None
        return await self._month(request, order, page)

    async def _month(self, request: Request, order: str, page: int | None) -> Response:
        p = request.path_params
        if page is None or not _month_ok(p["year"], p["mm"]):
            raise NotFound("There is no such month or page.")
        return await self.kept(self.site().month(p["name"], p["year"], p["mm"], order, page))

    def mid(self, request: Request) -> Response:
        wanted = request.path_params["mid"]
        site = self.site()
        for candidate in dict.fromkeys((wanted, wanted.removesuffix("/"),
                                        wanted.removesuffix("/").strip("<>"))):
            try:
                return RedirectResponse(site_path(request, site.mid(candidate)), 302)
            except NotFound:
                continue
        raise NotFound("No message in this archive has the Message-ID "
                       f"“{wanted.removesuffix('/')[:200]}”.")


def _encoded(page: Page) -> bytes:
    return page.render().encode("utf-8", "replace")


def _month_ok(year: str, mm: str) -> bool:
    return bool(_YEAR.match(year) and _MM.match(mm))


def _mbox(chunks: Any, filename: str) -> Response:
    return StreamingResponse(downloads.primed(chunks), media_type="application/gzip", headers={
        "content-disposition": downloads.disposition("attachment", filename),
        "content-security-policy": downloads.ATTACHMENT_CSP})

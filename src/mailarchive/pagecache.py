"""Rendered pages kept in memory for serving, dropped as soon as the archive changes.

The archive changes only by commits from another connection (an import, a removal), and
SQLite's `PRAGMA data_version` tells exactly that, for the price of one tiny query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mailarchive.store import DB_NAME, connect, one

CACHED_TYPES = (b"text/html", b"application/atom+xml", b"application/json")
SKIPPED = ("/search", "/api/")
SEARCHES = ("/search", "/search.atom", "/api/search")
MAX_PAGE_BYTES = 2 << 20
SEARCHES_KEPT = 512  # searches are kept apart: their many queries must not push pages out


def is_page(path: str) -> bool:
    return not path.startswith(SKIPPED)


def is_search(path: str) -> bool:
    """The searches whose answer is a page of results (not the streamed mbox download)."""
    return path in SEARCHES


class PageCache:
    """ASGI middleware: GET responses of pages and feeds (or, with `searches`, of searches),
    replayed until the data changes."""

    def __init__(self, app: ASGIApp, folder: str | Path, size: int = 4096,
                 searches: bool = False) -> None:
        self.app = app
        self.size = size
        self.wanted = is_search if searches else is_page
        self.db = connect(Path(folder) / DB_NAME)  # used under self.lock only
        self.lock = threading.Lock()
        self.version: int | None = None
        self.pages: OrderedDict[tuple[str, bytes], list[Message]] = OrderedDict()

    def _current(self) -> None:
        with self.lock:
            version = one(self.db, "PRAGMA data_version")[0]
            if version != self.version:
                self.pages.clear()
                self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "GET" or not self.wanted(path):
            await self.app(scope, receive, send)
            return
        self._current()
        key = (path, scope.get("query_string", b""))
        found = self.pages.get(key)
        if found is not None:
            for message in found:
                await send(message)
            return
        kept: list[Message] = []
        await self.app(scope, receive, self._keeping(send, kept))
        if _cacheable(kept):
            with self.lock:
                self.pages[key] = kept
                while len(self.pages) > self.size:
                    self.pages.popitem(last=False)

    def _keeping(self, send: Send, kept: list[Message]) -> Any:
        async def keep(message: Message) -> None:
            kept.append(message)
            await send(message)
        return keep


def _cacheable(messages: list[Message]) -> bool:
    if not messages or messages[0].get("status") != 200:
        return False
    headers = dict(messages[0].get("headers", []))
    if not headers.get(b"content-type", b"").startswith(CACHED_TYPES):
        return False
    return sum(len(m.get("body", b"")) for m in messages[1:]) <= MAX_PAGE_BYTES

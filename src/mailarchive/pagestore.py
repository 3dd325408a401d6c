"""Rendered pages kept in the archive folder (`pages.sqlite3`), so that a page rendered once is
served from storage later, also after the server restarts.

Each page is kept under its target with a stamp: a digest of everything it was made from (the
rows and bytes it shows, its list's settings; see `render.site.Page`) and of the code and
libraries that made it. A request computes the page's stamp afresh from the store (a few index
seeks) and uses the kept page only if the stamps are equal. An import, a removal, a changed
setting or new code changes the stamps of exactly the pages they touch, so a stale page is never
served, and the others stay valid.

Pages are compressed with zlib, with a preset dictionary of the markup every page repeats and of
the message's own bytes, whose text the page shows again. The pages are a cache: deleting the
file loses nothing. They take at most the room the archive leaves below the size of its mail
(`room`): the archive folder stays no larger than the mail it keeps.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from mailarchive.render.site import Page, Site
from mailarchive.store import DB_NAME, ListInfo, Store

PAGES_NAME = "pages.sqlite3"
ZDICT_MAX = 32768
FLUSH_PAGES = 64  # pages rendered by requests are written in batches of this many...
FLUSH_SECONDS = 1.0  # ...or after this long
LIBRARIES = ("jinja2", "markupsafe", "nh3", "charset-normalizer")


@cache
def code_signature() -> bytes:
    """Changes whenever the code, templates or libraries that make the pages change."""
    from mailarchive.export import code_signature as source_signature

    versions = [(name, _version(name)) for name in LIBRARIES]
    text = repr((source_signature(), versions, sys.version))
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


@cache
def _markup() -> bytes:
    from mailarchive.render import views

    return views.sample_html().encode()


def dictionary(shared: bytes) -> bytes:
    """The preset dictionary of a page: the markup every page has, after the text it shares
    (zlib looks back at most 32 KiB, nearest first)."""
    markup = _markup()
    return shared[-(ZDICT_MAX - len(markup)):] + markup


def pack(html: bytes, shared: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY,
                              dictionary(shared))
    return packer.compress(html) + packer.flush()


def unpack(blob: bytes, shared: bytes) -> bytes | None:
    try:
        return zlib.decompressobj(zdict=dictionary(shared)).decompress(blob)
    except zlib.error:
        return None


def key(target: str) -> int:
    """A page's row: a 64-bit hash of its target."""
    digest = hashlib.blake2b(target.encode("utf-8", "backslashreplace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def room(folder: Path) -> int:
    """Bytes the pages may take: the size of the archive's mail as it came in, less the rest
    of the archive folder."""
    db = sqlite3.connect(f"file:{folder / DB_NAME}?mode=ro", uri=True)
    try:
        mail = int(db.execute("SELECT total(size) FROM messages").fetchone()[0])
    finally:
        db.close()
    rest = sum(p.stat().st_size for p in folder.iterdir()
               if p.is_file() and not p.name.startswith(PAGES_NAME))
    return max(0, mail - rest)


class PageStore:
    """The kept pages of one archive folder; safe to share between threads and processes."""

    def __init__(self, folder: str | Path, budget: int | None = None) -> None:
        self.folder = Path(folder)
        self.path = self.folder / PAGES_NAME
        self.budget = room(self.folder) if budget is None else budget
        self.code = code_signature()
        self.local = threading.local()
        self.lock = threading.Lock()
        self.pending: dict[str, tuple[bytes, bytes]] = {}
        self.flushed = time.monotonic()
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")
        # Rows are only ever appended (so pages stay full) and found by a 64-bit hash of their
        # target (a small index).
        db.execute("CREATE TABLE IF NOT EXISTS pages (id INTEGER PRIMARY KEY, "
                   "key INTEGER NOT NULL, stamp BLOB NOT NULL, body BLOB NOT NULL)")
        db.execute("CREATE UNIQUE INDEX IF NOT EXISTS pages_key ON pages (key)")
        self.full = self.size() >= self.budget

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self.local, "db", None)
        if db is None:
            db = self.local.db = sqlite3.connect(self.path, isolation_level=None, timeout=5)
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    def stamp(self, page: Page) -> bytes:
        """The page's stamp with the code's and its target's: two targets that share a key
        (one chance in 2**64) never share a stamp."""
        text = self.code + page.target.encode("utf-8", "backslashreplace") + page.stamp
        return hashlib.blake2b(text, digest_size=16).digest()

    def get(self, page: Page) -> bytes | None:
        """The page's HTML if it is kept and was made from exactly its current inputs."""
        found = self._db().execute("SELECT stamp, body FROM pages WHERE key = ?",
                                   (key(page.target),)).fetchone()
        if found is None or found[0] != self.stamp(page):
            return None
        return unpack(found[1], page.shared)

    def rendered(self, page: Page) -> bytes:
        """The page's HTML rendered now, and kept (in batches: see `flush`) if there is room."""
        html = page.render().encode("utf-8", "replace")
        if self.full:
            return html
        with self.lock:
            self.pending[page.target] = (self.stamp(page), pack(html, page.shared))
            due = (len(self.pending) >= FLUSH_PAGES
                   or time.monotonic() - self.flushed > FLUSH_SECONDS)
        if due:
            self.flush()
        return html

    def flush(self) -> None:
        """Write the pages rendered since the last flush (a failure only loses cache)."""
        with self.lock:
            batch, self.pending = self.pending, {}
            self.flushed = time.monotonic()
        if batch:
            try:
                self.write([(key(target), *kept) for target, kept in batch.items()])
            except sqlite3.Error:
                pass

    def write(self, pages: list[tuple[int, bytes, bytes]]) -> int:
        """Keep (key, stamp, body) rows in one transaction: new pages only while there is
        room, replacements always. The number kept."""
        db = self._db()
        kept = 0
        db.execute("BEGIN IMMEDIATE")
        try:
            self.full = self.size() >= self.budget
            for number, stamp, body in pages:
                done = db.execute("UPDATE pages SET stamp = ?, body = ? WHERE key = ?",
                                  (stamp, body, number)).rowcount
                if done <= 0 and not self.full:
                    done = db.execute("INSERT INTO pages (key, stamp, body) VALUES (?, ?, ?)",
                                      (number, stamp, body)).rowcount
                kept += max(0, done)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return kept

    def size(self) -> int:
        """Bytes the kept pages take (once the write-ahead log is folded in)."""
        db = self._db()
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * db.execute("PRAGMA page_size").fetchone()[0])

    def stamps(self) -> dict[int, bytes]:
        """Every kept page's key and stamp."""
        return {int(k): bytes(s) for k, s in self._db().execute("SELECT key, stamp FROM pages")}

    def checkpoint(self) -> None:
        self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.flush()
        db: sqlite3.Connection | None = getattr(self.local, "db", None)
        if db is not None:
            db.close()
            self.local.db = None


@dataclass
class Filled:
    """What `fill` did."""

    rendered: int = 0
    current: int = 0  # already kept with the right stamp
    skipped: int = 0  # not kept: no room left
    size: int = 0
    budget: int = 0

    def line(self) -> str:
        mib = 1 << 20
        return (f"rendered {self.rendered}, already current {self.current}, no room for "
                f"{self.skipped}; kept pages take {self.size / mib:.1f} MiB of "
                f"{self.budget / mib:.1f} MiB allowed")


BATCH = 200


def fill(folder: str | Path, lists: list[str] | None = None, budget: int | None = None,
         progress: Callable[[int], None] | None = None) -> Filled:
    """Render and keep the month indexes (by thread) and the message pages (newest first)
    that are not kept yet or are out of date, until the room runs out."""
    from mailarchive.render import SEARCHABLE

    store = Store(folder, create=False)
    pages = PageStore(folder, budget)
    done = Filled(budget=pages.budget)
    token = SEARCHABLE.set(True)  # the server's pages have the search box
    try:
        known = pages.stamps()
        batch: list[tuple[int, bytes, bytes]] = []
        for page in _pages(Site(store), lists):
            number, stamp = key(page.target), pages.stamp(page)
            if known.get(number) == stamp:
                done.current += 1
            elif pages.full and number not in known:
                done.skipped += 1
            else:
                html = _render(page)
                if html is not None:
                    batch.append((number, stamp, pack(html, page.shared)))
            if len(batch) >= BATCH:
                _write(pages, batch, done)
            if progress:
                progress(1)
        _write(pages, batch, done)
        pages.checkpoint()
        done.size = pages.size()
    finally:
        SEARCHABLE.reset(token)
        pages.close()
        store.close()
    return done


def _render(page: Page) -> bytes | None:
    from mailarchive.render.site import NotFound

    try:
        return page.render().encode("utf-8", "replace")
    except NotFound:
        return None  # a month page past the last (threads are not cut, so there can be fewer)


def _write(pages: PageStore, batch: list[tuple[int, bytes, bytes]], done: Filled) -> None:
    kept = pages.write(batch)
    done.rendered += kept
    done.skipped += len(batch) - kept
    batch.clear()


def _pages(site: Site, lists: list[str] | None) -> Iterator[Page]:
    from mailarchive.render.months import PAGE_SIZE
    from mailarchive.render.site import Gone, NotFound

    for mlist in _lists(site.store, lists):
        for month, number in site.store.months(mlist):
            year, mm = month.split("-")
            for page in range(1, -(-number // PAGE_SIZE) + 1):
                yield site.month(mlist.name, year, mm, "thread", page)
        for num in site.store.numbers_by_date(mlist):
            try:
                yield site.message(mlist.name, str(num))
            except (NotFound, Gone):
                continue  # removed since the walk began


def _lists(store: Store, names: list[str] | None) -> list[ListInfo]:
    return [m for m in store.lists() if names is None or m.name in names]


def count(folder: str | Path, lists: list[str] | None = None) -> int:
    """About how many pages `fill` looks at (for a progress bar)."""
    store = Store(folder, create=False)
    try:
        return sum(int(store.stats(m)["messages"] or 0) + len(store.months(m))
                   for m in _lists(store, lists))
    finally:
        store.close()


def nice() -> None:
    """Make this process yield the processor to anything else (the warmer in `serve`)."""
    try:
        os.nice(19)
    except OSError:
        pass


def warm(folder: str) -> None:
    """`fill` at the lowest priority, for `serve` to run in a background process."""
    nice()
    try:
        done = fill(folder)
    except (sqlite3.Error, OSError) as error:
        print(f"mailarchive: pages not rendered ahead ({error})", file=sys.stderr)
        return
    print(f"mailarchive: pages rendered ahead: {done.line()}", file=sys.stderr)

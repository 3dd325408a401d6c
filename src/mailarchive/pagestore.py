"""Rendered pages kept in the archive folder (`pages.sqlite3`), so that a page rendered once is
served from storage later, also after the server restarts.

Each page is kept under its target with a stamp: a digest of everything it was made from (the
rows and bytes it shows, its list's settings; see `render.site.Page`) and of the code and
libraries that made it. A request computes the page's stamp afresh from the store (a few index
seeks) and uses the kept page only if the stamps are equal. An import, a removal, a changed
setting or new code changes the stamps of exactly the pages they touch, so a stale page is never
served, and the others stay valid.

Pages are compressed with Zstandard, with a prefix (a one-use dictionary) of the markup every
page repeats and of the message's own bytes, whose text the page shows again. The pages are a
cache: deleting the file loses nothing. They take at most the room the archive leaves below the
size of its mail (`room`): the archive folder stays no larger than the mail it keeps.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import apsw

from mailarchive.packing import zstd
from mailarchive.render.site import Page, Site
from mailarchive.store import DB_NAME, DatabaseError, ListInfo, Store, connect, one

PAGES_NAME = "pages.sqlite3"
ZDICT_MAX = 131072  # the dictionary: the end of the shared text, then the markup
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
    """The dictionary of a page: the markup every page has, after the text it shares (at most
    128 KiB: on 600 random pages, 879 bytes a page against 930 with 32 KiB, and no slower)."""
    markup = _markup()
    return shared[-(ZDICT_MAX - len(markup)):] + markup


PAGE_LEVEL = 4  # 600 random linux-mips message pages: 0.062 ms and 879 bytes a page, against
# zlib level 6's 0.125 ms and 905 bytes (packing is part of serving a page the first time)


def pack(html: bytes, shared: bytes) -> bytes:
    return bytes(zstd().compress(html, level=PAGE_LEVEL, zstd_dict=_prefix(shared)))


def unpack(blob: bytes, shared: bytes) -> bytes | None:
    try:
        return bytes(zstd().decompress(blob, zstd_dict=_prefix(shared)))
    except zstd().ZstdError:
        return None


def _prefix(shared: bytes) -> Any:
    """The page's dictionary as a Zstandard prefix: no dictionary to digest for one use."""
    return zstd().ZstdDict(dictionary(shared), is_raw=True).as_prefix


def page_stamp(code: bytes, page: Page) -> bytes:
    """The page's stamp with the code's and its target's: two targets that share a key
    (one chance in 2**64) never share a stamp."""
    text = code + page.target.encode("utf-8", "backslashreplace") + page.stamp
    return hashlib.blake2b(text, digest_size=16).digest()


def key(target: str) -> int:
    """A page's row: a 64-bit hash of its target."""
    digest = hashlib.blake2b(target.encode("utf-8", "backslashreplace"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def room(folder: Path) -> int:
    """Bytes the pages may take: the size of the archive's mail as it came in, less the rest
    of the archive folder."""
    db = connect(folder / DB_NAME, readonly=True)
    try:
        mail = int(one(db, "SELECT total(size) FROM messages")[0])
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

    def _db(self) -> apsw.Connection:
        db: apsw.Connection | None = getattr(self.local, "db", None)
        if db is None:
            db = self.local.db = connect(self.path, busy_ms=5000)
            db.execute("PRAGMA synchronous=NORMAL")
        return db

    def stamp(self, page: Page) -> bytes:
        return page_stamp(self.code, page)

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
            except DatabaseError:
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
                db.execute("UPDATE pages SET stamp = ?, body = ? WHERE key = ?",
                           (stamp, body, number))
                done = db.changes()
                if done <= 0 and not self.full:
                    db.execute("INSERT INTO pages (key, stamp, body) VALUES (?, ?, ?)",
                               (number, stamp, body))
                    done = db.changes()
                kept += max(0, done)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return kept

    def size(self) -> int:
        """Bytes the kept pages take (once the write-ahead log is folded in)."""
        db = self._db()
        pages, free = one(db, "PRAGMA page_count")[0], one(db, "PRAGMA freelist_count")[0]
        return int((pages - free) * one(db, "PRAGMA page_size")[0])

    def stamps(self) -> dict[int, bytes]:
        """Every kept page's key and stamp."""
        return {int(k): bytes(s) for k, s in self._db().execute("SELECT key, stamp FROM pages")}

    def checkpoint(self) -> None:
        self._db().execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.flush()
        db: apsw.Connection | None = getattr(self.local, "db", None)
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
        done = (f"rendered {self.rendered}, already current {self.current}, no room for "
                f"{self.skipped}")
        if self.skipped and self.budget <= 0:
            return (f"{done} (the archive folder is already as large as its mail, so no pages "
                    "are kept: they are rendered when asked for)")
        room = (f"; kept pages take {self.size / mib:.1f} MiB of {self.budget / mib:.1f} MiB "
                "allowed")
        return done + room + (" (the others are rendered when asked for)" if self.skipped else "")


BATCH = 200
CHUNK = 32  # pages a worker renders at a time
POOL_MIN = 2 * CHUNK  # fewer pages than this are rendered in this process

Spec = tuple[str, str, str, int]  # ("month", list, month, page) or ("message", list, "", number)
Made = tuple[int, bytes, bytes] | str  # (key, stamp, packed page), or "current", "skip", "none"


def fill(folder: str | Path, lists: list[str] | None = None, budget: int | None = None,
         progress: Callable[[int], None] | None = None, jobs: int = 0) -> Filled:
    """Render and keep the month indexes (by thread) and the message pages (newest first)
    that are not kept yet or are out of date, until the room runs out; in `jobs` processes
    (default: one per core)."""
    store = Store(folder, create=False)
    try:
        specs = list(_specs(store, lists))
    finally:
        store.close()  # the renderers have their own connections
    pages = PageStore(folder, budget)
    done = Filled(budget=pages.budget)
    try:
        batch: list[tuple[int, bytes, bytes]] = []
        for made in _made(folder, specs, pages, jobs or os.cpu_count() or 1):
            if made == "current":
                done.current += 1
            elif made == "skip":
                done.skipped += 1
            elif not isinstance(made, str):
                batch.append(made)
            if len(batch) >= BATCH:
                _write(pages, batch, done)
            if progress:
                progress(1)
        _write(pages, batch, done)
        pages.checkpoint()
        done.size = pages.size()
    finally:
        pages.close()
    return done


class _Renderer:
    """Turns page specs into kept rows, in one process (each worker has its own)."""

    def __init__(self, folder: str | Path, known: dict[int, bytes], code: bytes,
                 full: Callable[[], bool]) -> None:
        self.folder, self.known, self.code, self.full = folder, known, code, full
        self.site: Site | None = None

    def make(self, spec: Spec) -> Made:
        from mailarchive.render import SEARCHABLE

        if self.site is None:
            self.site = Site(Store(self.folder, create=False))
        token = SEARCHABLE.set(True)  # the server's pages have the search box
        try:
            page = _page(self.site, spec)
            if page is None:
                return "none"
            number, stamp = key(page.target), page_stamp(self.code, page)
            if self.known.get(number) == stamp:
                return "current"
            if self.full() and number not in self.known:
                return "skip"
            html = _render(page)
            return "none" if html is None else (number, stamp, pack(html, page.shared))
        finally:
            SEARCHABLE.reset(token)

    def close(self) -> None:
        if self.site is not None:
            self.site.store.close()


_RENDERER: _Renderer | None = None  # a worker's, inherited from the parent when it forks


def _made(folder: str | Path, specs: list[Spec], pages: PageStore, jobs: int) -> Iterator[Made]:
    """What each spec gives, in order: rendered here, or by `jobs` forked processes that
    learn through a shared flag when the room has run out."""
    global _RENDERER
    known = pages.stamps()
    if jobs <= 1 or len(specs) < POOL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        renderer = _Renderer(folder, known, pages.code, lambda: pages.full)
        try:
            yield from (renderer.make(spec) for spec in specs)
        finally:
            renderer.close()
        return
    context = multiprocessing.get_context("fork")
    full = context.Value("b", pages.full, lock=False)
    _RENDERER = _Renderer(folder, known, pages.code, lambda: bool(full.value))
    chunks = [specs[i:i + CHUNK] for i in range(0, len(specs), CHUNK)]
    try:
        with context.Pool(jobs) as pool:
            for made in pool.imap(_make_chunk, chunks):
                full.value = pages.full
                yield from made
    finally:
        _RENDERER = None


def _make_chunk(specs: list[Spec]) -> list[Made]:
    assert _RENDERER is not None
    return [_RENDERER.make(spec) for spec in specs]


def _page(site: Site, spec: Spec) -> Page | None:
    from mailarchive.render.site import Gone, NotFound

    kind, name, month, number = spec
    try:
        if kind == "month":
            year, mm = month.split("-")
            return site.month(name, year, mm, "thread", number)
        return site.message(name, str(number))
    except (NotFound, Gone):
        return None  # removed since the walk began


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


def _specs(store: Store, lists: list[str] | None) -> Iterator[Spec]:
    from mailarchive.render.months import PAGE_SIZE

    for mlist in _lists(store, lists):
        for month, number in store.months(mlist):
            for page in range(1, -(-number // PAGE_SIZE) + 1):
                yield "month", mlist.name, month, page
        for num in store.numbers_by_date(mlist):
            yield "message", mlist.name, "", num


def _lists(store: Store, names: list[str] | None) -> list[ListInfo]:
    return [m for m in store.lists() if names is None or m.name in names]


def count(folder: str | Path, lists: list[str] | None = None) -> int:
    """About how many pages `fill` looks at (for a progress bar)."""
    store = Store(folder, create=False)
    try:
        total = 0
        for mlist in _lists(store, lists):
            months = store.months(mlist)
            total += sum(n for _, n in months) + len(months)  # message pages, month pages
        return total
    finally:
        store.close()


def nice() -> None:
    """Make this process yield the processor to anything else (the warmer in `serve`)."""
    try:
        os.nice(19)
    except OSError:
        pass


def warm(folder: str) -> None:
    """`fill` at the lowest priority, for `serve` to run in a background process (a daemon,
    so that it ends with the server: it may have no workers of its own)."""
    nice()
    try:
        done = fill(folder, jobs=1)
    except (DatabaseError, OSError) as error:
        print(f"mailarchive: pages not rendered ahead ({error})", file=sys.stderr)
        return
    print(f"mailarchive: pages rendered ahead: {done.line()}", file=sys.stderr)

"""The static export: the server's pages, at the same paths, with relative links, as plain files.

Work is cut into units (a thread with its messages; a month with its indexes and mbox), each with
a signature of everything it is made from. A unit whose signature is in the manifest is skipped;
any other is rendered (in a pool of processes) and only files whose bytes changed are written.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import multiprocessing.pool
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mailarchive.render import downloads, feeds, months, static_bytes, urls, views
from mailarchive.render.body import (
    Body,
    filename_of,
    parts_and_payloads,
    parts_of,
    portable,
    render_body,
)
from mailarchive.render.manifest import Manifest, Writer
from mailarchive.render.pages import (
    MonthLink,
    ThreadSummary,
    list_summary,
    month_link,
    nav,
    shape,
    thread_summary,
)
from mailarchive.render.site import tombstone_text
from mailarchive.store import ListInfo, MessageRow, Store

RECENT_THREADS = 20
_THREAD_PAGE = re.compile(r"([^/]+)/thread/([0-9]{1,9})\.html\Z")
_MESSAGE_PAGE = re.compile(r"([^/]+)/msg([0-9]{1,9})\.html\Z")


@dataclass
class Summary:
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (f"{self.written} files written, {self.unchanged} unchanged, {self.removed} removed "
                f"in {self.seconds:.1f} s")


@dataclass
class ListData:
    """One list, whole: its messages by date, by thread and by month."""

    info: ListInfo
    rows: list[MessageRow]
    position: dict[int, int] = field(default_factory=dict)
    threads: dict[int, list[MessageRow]] = field(default_factory=dict)
    by_month: dict[str, list[MessageRow]] = field(default_factory=dict)
    _months: list[MonthLink] = field(default_factory=list)

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            self.position[row.num] = i
            self.threads.setdefault(row.thread, []).append(row)
            self.by_month.setdefault(row.month, []).append(row)

    def months(self) -> list[MonthLink]:
        if not self._months:
            self._months = [month_link(self.info, m, len(self.by_month[m]))
                            for m in sorted(self.by_month, reverse=True)]
        return self._months

    def around(self, row: MessageRow) -> tuple[MessageRow | None, MessageRow | None]:
        at = self.position[row.num]
        return (self.rows[at - 1] if at > 0 else None,
                self.rows[at + 1] if at + 1 < len(self.rows) else None)


@dataclass
class State:
    """Everything a unit needs, built once; forked workers inherit it instead of unpickling it."""

    archive: Path
    out: Path
    code: str
    lists: dict[str, ListData]
    copies: dict[str, list[tuple[str, int]]]
    old: Manifest
    _store: tuple[int, Store] | None = None

    def store(self) -> Store:
        """This process's own connection (a forked child must not share its parent's)."""
        if self._store is None or self._store[0] != os.getpid():
            self._store = (os.getpid(), Store(self.archive, create=False))
        return self._store[1]


_STATE: State | None = None
_MADE: set[str] = set()  # folders this process has made or found (one check each, not per unit)

Unit = tuple[str, str, str, str]  # (kind, list, thread id or month, signature)
Done = tuple[str, str, dict[str, str], int, int]  # (key, signature, files, written, unchanged)


def code_signature() -> str:
    """Changes whenever the code or templates that make the pages change."""
    hasher = hashlib.sha256()
    root = resources.files("mailarchive")
    stack = [root]
    while stack:
        folder = stack.pop()
        for item in sorted(folder.iterdir(), key=lambda i: i.name):
            if item.is_dir() and item.name != "__pycache__":
                stack.append(item)
            elif item.name.endswith((".py", ".html", ".xml", ".css", ".sql")):
                hasher.update(item.name.encode() + item.read_bytes())
    return hasher.hexdigest()


def _sig(*parts: object) -> str:
    return hashlib.blake2b(repr(parts).encode("utf-8", "replace"), digest_size=16).hexdigest()


def build_state(store: Store, archive: Path, out: Path, old: Manifest) -> State:
    lists = {m.name: ListData(m, store.messages_by_date(m)) for m in store.lists()
             if urls.list_ok(m.name)}
    first: dict[str, list[tuple[int, str, int]]] = {}
    for data in lists.values():
        for row in data.rows:
            first.setdefault(row.message_id, []).append((row.id, data.info.name, row.num))
    copies = {mid: [(name, num) for _, name, num in sorted(found)]
              for mid, found in first.items() if len(found) > 1 or urls.mid_ok(mid)}
    return State(archive, out, code_signature(), lists, copies, old)


def units(state: State) -> Iterator[Unit]:
    for name, data in state.lists.items():
        shown = {row.num: repr(row) for row in data.rows}  # all a page shows of a row, made once
        for thread_id, rows in data.threads.items():
            keys = [shown[row.num] for row in rows]
            around = [[shown[o.num] if o else "" for o in data.around(row)] for row in rows]
            mine = [state.copies.get(row.message_id) for row in rows]
            yield "thread", name, str(thread_id), _sig(state.code, data.info, keys, around, mine)
        links = data.months()
        for month, rows in data.by_month.items():
            keys = [shown[row.num] for row in rows]
            yield "month", name, month, _sig(state.code, data.info, keys,
                                            months.neighbours(links, month))


def _weight(state: State, unit: Unit) -> int:
    data = state.lists[unit[1]]
    if unit[0] == "month":
        return 3 * len(data.by_month[unit[2]])
    return len(data.threads[int(unit[2])])


def run_unit(unit: Unit) -> Done:
    assert _STATE is not None
    kind, name, ident, sig = unit
    writer = Writer(_STATE.out, _STATE.old.files, _dirs=_MADE)
    if kind == "thread":
        _thread_unit(_STATE, _STATE.lists[name], int(ident), writer)
    else:
        _month_unit(_STATE, _STATE.lists[name], ident, writer)
    return f"{kind}:{name}:{ident}", sig, writer.files, writer.written, writer.unchanged


def _thread_unit(state: State, data: ListData, thread_id: int, writer: Writer) -> None:
    info, rows = data.info, data.threads[thread_id]
    tree = shape(info, rows)
    public: dict[int, bytes] = {}
    bodies = {}
    rendered: dict[int, Body] = {}
    for row in rows:
        raw = state.store().raw(row)
        parts, payloads = parts_and_payloads(raw)
        bodies[row.num] = parts
        public[row.num] = downloads.public_raw(raw, info.obfuscate)  # hidden once, used twice
        writer.put(urls.file_of(urls.raw(info.name, row.num)), public[row.num])
        for part in parts:
            if part.kind == "attachment":
                target = urls.attachment(info.name, row.num, part.index, filename_of(part))
                writer.put(urls.file_of(target),
                           downloads.public_attachment(part, payloads[part.index], info.obfuscate))
        copies = state.copies.get(row.message_id, [])
        body = render_body(info, row.num, parts, urls.message(info.name, row.num))
        if portable(parts):
            rendered[row.num] = body  # the thread page shows it again
        page = views.message_html(info, row, parts, nav(info, row, data.around(row), tree, copies),
                                  body=body)
        writer.put(urls.file_of(urls.message(info.name, row.num)), page.encode("utf-8", "replace"))
        if urls.mid_ok(row.message_id) and copies[:1] == [(info.name, row.num)]:
            stub = urls.mid(row.message_id)
            html = views.redirect_html(stub, urls.message(info.name, row.num))
            writer.put(urls.file_of(stub), html.encode("utf-8", "replace"))
    page = views.thread_html(info, thread_id, rows, bodies, tree, rendered)
    writer.put(urls.file_of(urls.thread(info.name, thread_id)), page.encode("utf-8", "replace"))
    mbox = b"".join(downloads.public_mbox_gz(rows, lambda r: public[r.num], info.obfuscate))
    writer.put(urls.file_of(urls.thread_mbox(info.name, thread_id)), mbox)


def _month_unit(state: State, data: ListData, month: str, writer: Writer) -> None:
    info, rows = data.info, data.by_month[month]
    links = data.months()
    current = next(link for link in links if link.month == month)
    around = months.neighbours(links, month)
    for order in months.ORDER_LABELS:
        pages = months.paginate(info, rows, order)
        for number, entries in enumerate(pages, 1):
            view = months.month_page(info, current, order, number, entries, len(pages), around)
            html = views.month_html(info, view)
            writer.put(urls.file_of(urls.month(info.name, month, order, number)),
                       html.encode("utf-8", "replace"))
    mbox = b"".join(downloads.public_mbox_gz(rows, lambda r: _public(state, info, r),
                                             info.obfuscate))
    writer.put(urls.file_of(urls.month_mbox(info.name, month)), mbox)


def _public(state: State, info: ListInfo, row: MessageRow) -> bytes:
    """A message's public bytes: its `.eml`, which the thread units (all done before any month
    unit) wrote or found unchanged; made again only if that file is gone."""
    try:
        with open(state.out / urls.file_of(urls.raw(info.name, row.num)), "rb") as eml:
            return eml.read()
    except OSError:
        return downloads.public_raw(state.store().raw(row), info.obfuscate)


def _run(todo: list[Unit], workers: int) -> Iterable[Done]:
    """Every unit done, thread units first: a month's mbox reuses their `.eml` files."""
    phases = [[u for u in todo if u[0] == "thread"], [u for u in todo if u[0] != "thread"]]
    if workers <= 1 or len(todo) < 50 or "fork" not in multiprocessing.get_all_start_methods():
        return (done for phase in phases for done in map(run_unit, phase))
    # the state's objects leave the collector's reach: a worker's collections then do not
    # write to (and so copy) every page of the state it shares with the parent
    gc.freeze()
    return _pooled(multiprocessing.get_context("fork").Pool(workers), phases, workers)


def _pooled(pool: multiprocessing.pool.Pool, phases: list[list[Unit]],
            workers: int) -> Iterator[Done]:
    try:
        with pool:
            for phase in phases:
                chunk = max(1, min(64, len(phase) // (workers * 8)))
                yield from pool.imap_unordered(run_unit, phase, chunk)
    finally:
        gc.unfreeze()


def _singles(state: State, writer: Writer) -> None:
    """The pages every change touches and that are cheap: home, list pages, feeds, the CSS."""
    summaries = []
    for data in state.lists.values():
        info = data.info
        latest = data.rows[-1].date if data.rows else None
        summary = list_summary(info, len(data.rows), latest)
        summaries.append(summary)
        html = views.list_html(info, summary, data.months(), _recent(data))
        writer.put(urls.file_of(urls.list_dir(info.name)), html.encode("utf-8", "replace"))
        newest = sorted(data.rows, key=lambda r: (r.date, r.num), reverse=True)[:feeds.FEED_SIZE]
        bodies = {r.num: parts_of(state.store().raw(r)) for r in newest}
        feed = feeds.feed_xml(info, newest, bodies)
        writer.put(urls.file_of(urls.feed(info.name)), feed.encode("utf-8", "replace"))
    writer.put("index.html", views.home_html(summaries).encode("utf-8", "replace"))
    writer.put(urls.file_of(urls.static("app.css")), static_bytes("app.css"))


def _recent(data: ListData) -> list[ThreadSummary]:
    latest = sorted(data.threads.items(), key=lambda kv: (kv[1][-1].date, kv[0]), reverse=True)
    return [thread_summary(data.info, rows[0], len(rows), max(r.date for r in rows))
            for _, rows in latest[:RECENT_THREADS]]


def _stale(state: State, writer: Writer, new: Manifest) -> int:
    """Files the last export wrote that nothing makes now: a merged thread's page becomes a
    redirect to the thread it joined, a removed message's page its tombstone; the rest goes."""
    removed = 0
    for path in sorted(set(state.old.files) - set(new.files) - set(writer.files)):
        page = _replacement(state, path)
        if page is not None:
            writer.put(path, page.encode("utf-8", "replace"))
            continue
        writer.remove(path)
        removed += 1
    return removed


def _replacement(state: State, path: str) -> str | None:
    thread = _THREAD_PAGE.match(path)
    if thread and thread.group(1) in state.lists:
        data = state.lists[thread.group(1)]
        current = state.store().thread_of(data.info, int(thread.group(2)))
        if current is not None and current in data.threads:
            return views.redirect_html(path, urls.thread(data.info.name, current))
    message = _MESSAGE_PAGE.match(path)
    if message and message.group(1) in state.lists:
        info = state.lists[message.group(1)].info
        reason = state.store().tombstone(info, int(message.group(2)))
        if reason is not None:
            text = tombstone_text(info, int(message.group(2)), reason)
            return views.error_html(path, "Message removed", text)
    return None


def _plan(state: State, new: Manifest, summary: Summary) -> list[Unit]:
    """The units to render: those whose signature the last export did not record. The others'
    files are carried over into the new manifest as they are."""
    old, todo = state.old, []
    for unit in units(state):
        key = f"{unit[0]}:{unit[1]}:{unit[2]}"
        kept = old.units.get(key)
        if kept and kept[0] == unit[3] and all(p in old.files for p in kept[1]):
            new.units[key] = kept
            new.files.update((p, old.files[p]) for p in kept[1])
            summary.unchanged += len(kept[1])
        else:
            todo.append(unit)
    todo.sort(key=lambda unit: -_weight(state, unit))  # big units first: no long tail
    return todo


def export(store: Store, out: str | Path, workers: int = 0) -> Summary:
    """Write (or bring up to date) the static site for every list of `store` in folder `out`."""
    global _STATE
    started = time.monotonic()
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    _STATE = state = build_state(store, store.folder, root, Manifest.load(root))
    _MADE.clear()
    summary, new = Summary(), Manifest()
    todo = _plan(state, new, summary)
    for key, sig, files, written, unchanged in _run(todo, workers or os.cpu_count() or 1):
        new.units[key] = (sig, sorted(files))
        new.files.update(files)
        summary.written += written
        summary.unchanged += unchanged
    writer = Writer(root, state.old.files)
    _singles(state, writer)
    summary.removed = _stale(state, writer, new)
    new.files.update(writer.files)
    summary.written += writer.written
    summary.unchanged += writer.unchanged
    new.save(root)
    _STATE = None
    summary.seconds = time.monotonic() - started
    return summary

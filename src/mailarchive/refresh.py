"""Re-derive what the archive knows of each message from its stored bytes, with this version's
parser: the original bytes are kept so that a parser fix (a charset read better, a date found)
can reach mail archived before it.

Subjects, senders, dates, attachment counts, defects and the search index are made again.
Numbers, Message-IDs and threads stay as they are: permalinks and thread pages do not move.
The whole archive is done in one transaction (the search index is shared by its lists and a
contentless FTS5 table can only be emptied whole), so a refresh that is stopped changes nothing.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailarchive.parse import DEFAULT_LIMITS, Limits, budgeted, parse_safely
from mailarchive.search.message_text import text_recipe
from mailarchive.store import ListInfo, MessageRow, Record, Store, record

CHUNK = 500
AHEAD = 4  # chunks with the workers at once

# a worker's job: (message id, bytes, envelope, clock for "now") of one list, its subject prefix
Job = tuple[list[tuple[int, bytes, str | None, float]], str, Limits]
Fields = tuple[int, Record]


@dataclass
class Summary:
    messages: int = 0
    changed: int = 0

    def line(self) -> str:
        return f"{self.messages} messages read again, {self.changed} with changed details"


def refresh(store: Store, workers: int = 0, limits: Limits = DEFAULT_LIMITS,
            progress: Callable[[int], None] | None = None) -> Summary:
    """Re-parse every stored message of every list and rebuild the search index."""
    summary = Summary()
    pool = (multiprocessing.get_context("fork").Pool(workers)
            if workers > 1 and "fork" in multiprocessing.get_all_start_methods() else None)
    try:
        with store.batch():
            store.clear_index()
            for mlist in store.lists():
                for fields in _parsed(pool, _jobs(store, mlist, limits)):
                    for row_id, item in fields:
                        summary.messages += 1
                        summary.changed += store.redescribe(row_id, item)
                        store.index(row_id, item.columns)
                    if progress:
                        progress(len(fields))
            store.fold_search_index(summary.messages)
    finally:
        if pool is not None:
            pool.terminate()
    return summary


def _parsed(pool: multiprocessing.pool.Pool | None, jobs: Iterator[Job]) -> Iterator[list[Fields]]:
    """The jobs' results in order, AHEAD of them with the workers; the jobs are read here, in
    the thread that writes (the archive's connection is not shared with the pool's threads)."""
    if pool is None:
        yield from map(_reparse, jobs)
        return
    ahead: deque[multiprocessing.pool.AsyncResult[list[Fields]]] = deque()
    for job in jobs:
        ahead.append(pool.apply_async(_reparse, (job,)))
        if len(ahead) > AHEAD:
            yield ahead.popleft().get()
    while ahead:
        yield ahead.popleft().get()


def _jobs(store: Store, mlist: ListInfo, limits: Limits) -> Iterator[Job]:
    """The list's messages with their bytes, CHUNK at a time, by number. Each chunk's rows are
    read whole before anything is written (a running scan could see the rows the writes
    change), and no more than a chunk at a time: memory stays flat however long the list
    (refreshing a million messages peaked at 1.4 GiB with all their rows read first, 157 MiB
    so)."""
    after = 0
    while rows := store.kept(mlist, after, CHUNK):
        chunk = [(row.id, store.raw(row), row.envelope, _clock(row)) for row in rows]
        yield chunk, mlist.subject_prefix or "", limits
        after = rows[-1].num


def _clock(row: MessageRow) -> float:
    """The "now" a message is parsed at: the time of import for one dated by it (so that it
    keeps that date when no better one is found), else the present."""
    return float(row.date) if row.date_source == "import" else time.time()


def _reparse(job: Job) -> list[Fields]:
    messages, prefix, limits = job
    with budgeted():
        return [(row_id, _record(data, envelope, now, limits, prefix))
                for row_id, data, envelope, now in messages]


def _record(data: bytes, envelope: str | None, now: float, limits: Limits, prefix: str) -> Record:
    parsed = parse_safely(data, envelope, now, limits)
    return record(parsed, b"", b"", len(data), envelope, prefix,
                  text_recipe(data, parsed.tree))

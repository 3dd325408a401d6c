"""The one ingest path shared by bulk import and live delivery: parse → dedupe → store → thread."""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from mailarchive.memory import release
from mailarchive.model import Files, Located, RawMessage, Span
from mailarchive.packing import pack
from mailarchive.packing import train as train_dictionary
from mailarchive.parse import DEFAULT_LIMITS, Limits, budgeted, parse_safely
from mailarchive.search.message_text import text_recipe
from mailarchive.store import ListInfo, Record, Store, record

if TYPE_CHECKING:
    from multiprocessing.pool import AsyncResult, Pool

CHUNK = 2000
CHUNK_BYTES = 8 << 20  # so that memory depends on neither the archive's size nor its mail's
AHEAD = 2  # chunks with the workers at once
WORKER_NICENESS = 5


@dataclass
class Summary:
    read: int = 0
    added: int = 0
    present: int = 0
    defective: int = 0

    def line(self) -> str:
        return (f"read {self.read}, added {self.added}, already present {self.present}, "
                f"archived with defects {self.defective}")


def prepare(raw: RawMessage, subject_prefix: str = "", now: float | None = None,
            limits: Limits = DEFAULT_LIMITS, zdict: bytes | None = None) -> Record:
    """Everything CPU-heavy about storing a message (parse, search text, packing), done before
    the archive is touched: in a worker process during an import."""
    digest = hashlib.sha256(raw.data).digest()
    return _prepare(raw.data, raw.envelope, digest, subject_prefix, now, limits, zdict)


def _prepare(data: bytes, envelope: str | None, digest: bytes, subject_prefix: str,
             now: float | None, limits: Limits, zdict: bytes | None) -> Record:
    parsed = parse_safely(data, envelope, now, limits)
    return record(parsed, digest, pack(data, zdict), len(data), envelope, subject_prefix,
                  text_recipe(data, parsed.tree))


# A worker's job: messages as (bytes, envelope, digest), which cross to it faster than
# RawMessages (the digest is the one deduplication already took).
Job = tuple[list[tuple[bytes, str | None, bytes]], str, Limits, bytes | None]


def _prepare_all(job: Job) -> list[Record]:
    raws, subject_prefix, limits, zdict = job
    zdict = _one_copy(zdict)
    now = time.time()
    with budgeted():
        return [_prepare(data, envelope, digest, subject_prefix, now, limits, zdict)
                for data, envelope, digest in raws]


_DICTIONARY: bytes | None = None  # the first copy of the dictionary this process was sent


def _one_copy(zdict: bytes | None) -> bytes | None:
    """The same object for every copy of the dictionary a job brings (each job unpickles its
    own): `pack` finds its compressor by the dictionary, and an equal copy cost a comparison of
    all its 110 KB for each message (5 us of about 35)."""
    global _DICTIONARY
    if zdict is None:
        return None
    if zdict != _DICTIONARY:
        _DICTIONARY = zdict
    return _DICTIONARY


class Prepared(NamedTuple):
    """What the parsing processes give back: the new messages, and for mail they read
    themselves (`Located`) how many messages they read and found already archived."""

    records: list[Record]
    read: int = 0
    present: int = 0


def _prepare_in_worker(job: Job) -> Prepared:
    prepared = Prepared(_prepare_all(job))
    release()
    return prepared


# A job of mail a parsing process reads itself (a span of an mbox, maildir files), and what
# parsing and finding the archived messages need.
LocatedJob = tuple[Located, ListInfo, str, Limits, bytes | None, str]


def _prepare_located(job: LocatedJob) -> Prepared:
    """Read the mail, leave out what the archive already holds (`_new`, as for messages read
    by the storing process), and prepare the rest."""
    from mailarchive.sources import read_items

    located, mlist, subject_prefix, limits, zdict, archive = job
    raws = read_items(located)
    counted = Summary()
    fresh, _ = _new(_reader(archive), mlist, raws, counted, set())
    records = _prepare_all((_messages(fresh), subject_prefix, limits, zdict))
    return Prepared(records, len(raws), counted.present)


def _prepare_located_in_worker(job: LocatedJob) -> Prepared:
    prepared = _prepare_located(job)
    release()
    return prepared


_READERS: dict[tuple[int, str], Store] = {}


def _reader(archive: str) -> Store:
    """This process's own connection to the archive, for finding archived messages (a forked
    process must not use its parent's; WAL lets it read while the parent writes)."""
    key = (os.getpid(), archive)
    if key not in _READERS:
        _READERS[key] = Store(archive, create=False)
    return _READERS[key]


def store_all(store: Store, mlist: ListInfo, prepared: list[Record], summary: Summary) -> None:
    """Write one batch of prepared messages in one transaction. Those stored since the batch was
    deduplicated (a live delivery meanwhile) are found with one statement per 500, and a message
    twice in the batch (in two spans, each deduplicated apart) is stored once."""
    with store.batch():
        stored = store.present(mlist, [item.digest for item in prepared])
        for item in prepared:
            if item.digest in stored or store.add(mlist, item, checked=True) is None:
                summary.present += 1
                continue
            stored.add(item.digest)
            summary.added += 1
            summary.defective += bool(item.defects)


def add_one(store: Store, mlist: ListInfo, raw: RawMessage,
            limits: Limits = DEFAULT_LIMITS) -> int | None:
    """Archive one message in its own transaction (live delivery): its number in the list, or
    None if it is already there. Parsed in this process: a pool costs more than one message."""
    digest = hashlib.sha256(raw.data).digest()
    if store.has(mlist, digest):
        return None  # hashing is cheap; parsing is not
    item = _prepare(raw.data, raw.envelope, digest, mlist.subject_prefix, None, limits,
                    store.dictionary())
    with store.batch():
        return store.add(mlist, item)


def _batches(items: Iterable[RawMessage | Located], count: int, size: int
             ) -> Iterator[list[RawMessage | Located]]:
    """Runs of at most `count` messages and (but for one big message) `size` bytes; mail the
    parsing processes read (spans of mbox files, maildir files) in runs of their own."""
    batch: list[RawMessage | Located] = []
    total = 0
    for item in items:
        length = _length(item)
        if batch and (isinstance(item, RawMessage) != isinstance(batch[0], RawMessage)
                      or total + length > size or len(batch) == count):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += length
    if batch:
        yield batch


def _new(store: Store, mlist: ListInfo, chunk: list[RawMessage], summary: Summary,
         pending: set[bytes]) -> tuple[list[tuple[RawMessage, bytes]], set[bytes]]:
    """The messages of a chunk not yet in the archive nor in the `pending` (not yet stored)
    chunk (hashing is cheap; parsing is not), with their digests, and the digests of the
    chunk."""
    digests = [hashlib.sha256(raw.data).digest() for raw in chunk]
    stored = store.present(mlist, digests)
    fresh = []
    seen: set[bytes] = set()
    for raw, digest in zip(chunk, digests, strict=True):
        if digest in seen or digest in pending or digest in stored:
            summary.present += 1
        else:
            seen.add(digest)
            fresh.append((raw, digest))
    return fresh, seen


def _messages(fresh: list[tuple[RawMessage, bytes]]) -> list[tuple[bytes, str | None, bytes]]:
    """Messages with their digests as a job carries them (see `Job`)."""
    return [(raw.data, raw.envelope, digest) for raw, digest in fresh]


def _length(item: RawMessage | Located) -> int:
    if isinstance(item, Span):
        return item.end - item.start
    return item.size if isinstance(item, Files) else len(item.data)


def ingest(store: Store, mlist: ListInfo, items: Iterable[RawMessage | Located],
           workers: int = 0,
           progress: Callable[[int], None] | None = None,
           limits: Limits = DEFAULT_LIMITS) -> Summary:
    """Archive every message of `items` (messages, or mail to read: see `Located`) into `mlist`;
    parsing runs in `workers` processes, up to AHEAD batches ahead of this one, which stores
    them in order."""
    summary = Summary()
    zdict = store.dictionary()
    pool = _pool(workers) if workers > 0 else None
    # the batches with the workers, with the digests of the messages this process read for them
    # (not yet stored, so not found by `present`)
    ahead: deque[tuple[AsyncResult[Prepared], set[bytes]]] = deque()
    failed: list[Exception] = []
    try:
        for batch in _batches(_until_failure(items, failed), CHUNK, CHUNK_BYTES):
            located = [item for item in batch if not isinstance(item, RawMessage)]
            chunk = [item for item in batch if isinstance(item, RawMessage)]
            if located and zdict is None:  # the dictionary learns from the first mail: read here
                try:
                    chunk, located = _read_here(located), []
                except Exception as error:  # as a failing source: what came before is stored
                    failed.append(error)
                    break
            if located:
                ahead.append((_start_located(pool, located, (mlist, mlist.subject_prefix, limits,
                                                             zdict, str(store.folder))), set()))
            else:
                summary.read += len(chunk)
                zdict = _start_read(store, mlist, chunk, ahead, summary, (pool, limits, zdict))
                if progress:
                    progress(len(chunk))
            if len(ahead) > (AHEAD if pool is not None else 0):
                _store_next(store, mlist, ahead, summary, progress)
                release()
        while ahead:
            _store_next(store, mlist, ahead, summary, progress)
    finally:
        if pool is not None:
            pool.terminate()
    if failed:
        raise failed[0]
    return summary


def _until_failure(items: Iterable[RawMessage | Located], failed: list[Exception]
                   ) -> Iterator[RawMessage | Located]:
    """`items` until reading them fails (an unreadable or truncated file): the failure is kept
    in `failed`, to be raised once what was read before it is stored."""
    try:
        yield from items
    except Exception as error:
        failed.append(error)


def _start_read(store: Store, mlist: ListInfo, chunk: list[RawMessage],
                ahead: deque[tuple[AsyncResult[Prepared], set[bytes]]], summary: Summary,
                how: tuple[Pool | None, Limits, bytes | None]) -> bytes | None:
    """Send the workers the messages of a chunk read here that neither the archive nor the
    batches ahead hold; the archive's dictionary (trained on them if it had none)."""
    pool, limits, zdict = how
    pending = set().union(*(digests for _, digests in ahead))
    fresh, digests = _new(store, mlist, chunk, summary, pending)
    zdict = zdict or _dictionary(store, [raw for raw, _ in fresh])
    job = (_messages(fresh), mlist.subject_prefix, limits, zdict)
    ahead.append((_start(pool, job), digests))
    return zdict


def _store_next(store: Store, mlist: ListInfo,
                ahead: deque[tuple[AsyncResult[Prepared], set[bytes]]], summary: Summary,
                progress: Callable[[int], None] | None) -> None:
    prepared = ahead.popleft()[0].get()
    summary.read += prepared.read
    summary.present += prepared.present
    store_all(store, mlist, prepared.records, summary)
    if progress and prepared.read:
        progress(prepared.read)


def _read_here(located: list[Located]) -> list[RawMessage]:
    from mailarchive.sources import read_items

    return [raw for item in located for raw in read_items(item)]


def _pool(workers: int) -> Pool:
    import multiprocessing  # only bulk imports need it (start-up time of adding one message)

    return multiprocessing.get_context("fork").Pool(workers, initializer=_yield_to_the_store)


def _yield_to_the_store() -> None:
    """Workers run below the storing process: it is an import's one serial stage, and with
    equal shares of two cores among three processes it got two thirds of one and the workers
    waited for it (an import used 86% of the machine)."""
    os.nice(WORKER_NICENESS)


class _Done:
    """An already-computed result, for running without a pool."""

    def __init__(self, value: Prepared) -> None:
        self.value = value

    def get(self) -> Prepared:
        return self.value


def _dictionary(store: Store, fresh: list[RawMessage]) -> bytes | None:
    """Train the archive's compression dictionary on its first sizeable chunk of mail."""
    zdict = train_dictionary([raw.data for raw in fresh])
    if zdict is not None:
        store.save_dictionary(zdict)
    return zdict


def _start(pool: Pool | None, job: Job) -> AsyncResult[Prepared]:
    if pool is None:
        return _Done(Prepared(_prepare_all(job)))  # type: ignore[return-value]
    fresh, prefix, limits, zdict = job
    size = max(1, len(fresh) // 16)
    parts = [(fresh[i:i + size], prefix, limits, zdict) for i in range(0, len(fresh), size)]
    return _Joined(pool.map_async(_prepare_in_worker, parts))  # type: ignore[return-value]


def _start_located(pool: Pool | None, located: list[Located],
                   rest: tuple[ListInfo, str, Limits, bytes | None, str]
                   ) -> AsyncResult[Prepared]:
    jobs = [(item, *rest) for item in located]
    if pool is None:
        return _Done(_joined([_prepare_located(job) for job in jobs]))  # type: ignore[return-value]
    return _Joined(pool.map_async(_prepare_located_in_worker, jobs))  # type: ignore[return-value]


class _Joined:
    """The results of a batch's parts, as one."""

    def __init__(self, result: AsyncResult[list[Prepared]]) -> None:
        self.result = result

    def get(self) -> Prepared:
        return _joined(self.result.get())


def _joined(parts: list[Prepared]) -> Prepared:
    return Prepared([record for part in parts for record in part.records],
                    sum(part.read for part in parts), sum(part.present for part in parts))

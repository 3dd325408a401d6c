"""What searches keep between requests: each query's ranking and the archive's lists.

One store per process, shared by every connection (the web server has one per thread), and
emptied whenever an archive changes. Each connection notices changes for itself: SQLite's
`data_version` moves when another connection commits, `total_changes` when this one writes.
A value computed while a change was being noticed elsewhere is not kept (the generation
moved on), so no stale ranking outlives the change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar, cast
from weakref import WeakKeyDictionary

from mailarchive.store import Store, one

T = TypeVar("T")
SIZE = 256  # values kept (a ranking is 8 KB at most)


class Kept:
    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.values: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self.generation = 0
        self.seen: WeakKeyDictionary[Store, tuple[int, int]] = WeakKeyDictionary()

    def get(self, store: Store, key: tuple[object, ...], compute: Callable[[], T],
            generation: int | None = None) -> T:
        """The value kept for `key` in this store's archive, else `compute()` (then kept).
        `generation`: what `fresh(store)` gave just before, for a caller that gets several
        values at once (each check is a statement)."""
        if generation is None:
            generation = self.fresh(store)
        full = (str(store.folder), *key)
        with self.lock:
            if full in self.values:
                self.values.move_to_end(full)
                return cast(T, self.values[full])
        value = compute()
        with self.lock:
            if self.generation == generation:
                self.values[full] = value
                if len(self.values) > self.size:
                    self.values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.values.clear()
            self.generation += 1

    def fresh(self, store: Store) -> int:
        """The generation, after emptying the store if this connection sees a change."""
        version = (int(one(store.db, "PRAGMA data_version")[0]),
                   store.db.total_changes())
        with self.lock:
            changed = self.seen.get(store) != version
            self.seen[store] = version
        if changed:
            self.clear()
        with self.lock:
            return self.generation


KEPT = Kept()
# how many rows each phrase of a query matches, for bm25's IDF: kept apart (each is a number,
# and queries share their words)
PHRASE_HITS = Kept(4096)

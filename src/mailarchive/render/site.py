"""The live site: each page fetched from the store on request and rendered.

The static export builds the same pages from whole-list data; both end in `views` and `feeds`.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mailarchive.model import Part
from mailarchive.render import SEARCHABLE, downloads, feeds, months, urls, views
from mailarchive.render.body import attachment_of, parts_of
from mailarchive.render.pages import (
    ThreadOrder,
    list_summary,
    message_nav,
    month_link,
    thread_order,
    thread_summary,
)
from mailarchive.store import ListInfo, MessageRow, Store, copies_in, to_row

RECENT_THREADS = 20
QUICK_BYTES = 32768  # a message page renders in about a millisecond up to this size of mail...
QUICK_THREAD = 200  # ...in a thread of up to this many messages
KEPT_THREADS = 1024  # thread orders kept per process (a big thread's is most of its page's work)


class NotFound(Exception):
    """No such page: an unknown list, message, month or page number."""


class Gone(Exception):
    """A message that was removed; the text gives the reason (its tombstone)."""


class Moved(Exception):
    """The page lives at another target now (e.g. a thread merged into an older one)."""

    def __init__(self, target: str, number: int = 0) -> None:
        super().__init__(target)
        self.target = target
        self.number = number


@dataclass(frozen=True)
class Page:
    """A page before rendering: `stamp` digests everything it is made from (rows, bytes,
    settings), so two pages with the same target and stamp are the same page."""

    target: str
    stamp: bytes
    render: Callable[[], str]
    shared: bytes = b""  # text the page repeats (a message's bytes): a compression dictionary
    quick: bool = False  # renders in about a millisecond (a message page of small mail)


def stamp(*inputs: object) -> bytes:
    """A digest of a page's inputs: every field of every row and setting it is made from, so
    any change in what a page shows changes its stamp. (marshal's version 2 writes values
    without back-references, so equal inputs give equal bytes; it is twice as fast as repr.)"""
    data = marshal.dumps(tuple(_fields(value) for value in inputs), 2)
    return hashlib.blake2b(data, digest_size=16).digest()


def _fields(value: object) -> Any:
    """Rows and settings (dataclasses) as tuples of their fields, also inside a tuple; rows
    fetched as tuples are taken as they are (marshal refuses anything else, loudly)."""
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, *vars(value).values())
    if isinstance(value, tuple):
        return tuple(_fields(item) for item in value)
    return tuple(value) if isinstance(value, list) else value


def tombstone_text(mlist: ListInfo, num: int, reason: str) -> str:
    return f"Message {num} of {mlist.name} was removed from the archive. Reason: {reason}"


_orders: OrderedDict[bytes, ThreadOrder] = OrderedDict()
_orders_lock = threading.Lock()


def _order(mlist: ListInfo, digest: bytes, fields: Sequence[tuple[Any, ...]]) -> ThreadOrder:
    """The thread's display order, kept by the digest of its list and rows: any change to
    either is a new digest, so a kept order is never stale."""
    with _orders_lock:
        found = _orders.get(digest)
        if found is not None:
            _orders.move_to_end(digest)
            return found
    made = thread_order(mlist, [to_row(f) for f in fields])
    with _orders_lock:
        _orders[digest] = made
        while len(_orders) > KEPT_THREADS:
            _orders.popitem(last=False)
    return made


class Site:
    def __init__(self, store: Store) -> None:
        self.store = store

    def mlist(self, name: str) -> ListInfo:
        found = self.store.get_list(name) if urls.list_ok(name) else None
        if found is None:
            raise NotFound(f"There is no list called “{name}” in this archive.")
        return found

    def row(self, mlist: ListInfo, text: str) -> MessageRow:
        num = urls.number(text)
        found = self.store.message(mlist, num) if num is not None else None
        if found is None and num is not None:
            reason = self.store.tombstone(mlist, num)
            if reason is not None:
                raise Gone(tombstone_text(mlist, num, reason))
        if found is None:
            raise NotFound(f"The list {mlist.name} has no message {text[:20]}.")
        return found

    def home(self) -> str:
        summaries = []
        for mlist in self.store.lists():
            summaries.append(list_summary(mlist, *self.store.summary(mlist)))
        return views.home_html(summaries)

    def list_page(self, name: str) -> str:
        mlist = self.mlist(name)
        counts = self.store.months(mlist)
        info = list_summary(mlist, sum(n for _, n in counts), self.store.last_date(mlist))
        links = [month_link(mlist, m, c) for m, c in counts]
        threads = [thread_summary(mlist, first, count, last_date) for first, count, last_date
                   in self.store.recent_threads(mlist, RECENT_THREADS)]
        return views.list_html(mlist, info, links, threads)

    def month_page(self, name: str, year: str, mm: str, order: str, page: int) -> str:
        return self.month(name, year, mm, order, page).render()

    def month(self, name: str, year: str, mm: str, order: str, number: int) -> Page:
        """A month index page (`NotFound` when rendered past its last page)."""
        mlist = self.mlist(name)
        month = f"{year}-{mm}"
        fields = self.store.month_fields(mlist, month) if order in months.ORDER_LABELS else []
        if not fields:
            raise NotFound(f"The list {mlist.name} has no messages in {month}.")
        before, after = self.store.month_neighbours(mlist, month)
        around = tuple(month_link(mlist, m, 0) if m else None for m in (before, after))

        def render() -> str:
            rows = [to_row(f) for f in fields]
            pages = months.paginate(mlist, rows, order)
            if not 1 <= number <= len(pages):
                raise NotFound(f"The {month} index of {mlist.name} has only {len(pages)} pages.")
            view = months.month_page(mlist, month_link(mlist, month, len(rows)), order, number,
                                     pages[number - 1], len(pages), (around[0], around[1]))
            return views.month_html(mlist, view)

        return Page(urls.month(mlist.name, month, order, number),
                    stamp("month", SEARCHABLE.get(), months.PAGE_SIZE, mlist, order, number,
                          fields, around),
                    render)

    def message_page(self, name: str, num: str, images: bool = False) -> str:
        return self.message(name, num, images).render()

    def message(self, name: str, num: str, images: bool = False) -> Page:
        mlist = self.mlist(name)
        row = self.row(mlist, num)
        raw = self.store.raw(row)
        around = self.store.neighbour_rows(row)
        thread = self.store.thread_fields(mlist, row.thread)
        copies = self._copies(mlist, row, thread)
        thread_digest = stamp(mlist, thread)

        def render() -> str:
            links = message_nav(mlist, row, around, _order(mlist, thread_digest, thread), copies)
            return views.message_html(mlist, row, parts_of(raw), links, images, dynamic=True)

        digest = hashlib.blake2b(raw, digest_size=16).digest()
        return Page(urls.message(mlist.name, row.num),
                    stamp("message", SEARCHABLE.get(), images, mlist, row, digest, around,
                          copies, thread_digest), render, raw,
                    len(raw) <= QUICK_BYTES and len(thread) <= QUICK_THREAD)

    def _copies(self, mlist: ListInfo, row: MessageRow,
                thread: Sequence[tuple[Any, ...]]) -> list[tuple[str, int]]:
        """Where the copies of a message are: (list name, number), this one included. In an
        archive of one list they are in its thread (`copies_in`): no look-up by Message-ID."""
        if self.store.single_list():
            return [(mlist.name, num) for num in copies_in(thread, row.message_id)]
        found = self.store.by_message_id(row.message_id)
        names = ({mlist.id: mlist.name} if all(c.list_id == mlist.id for c in found)
                 else {m.id: m.name for m in self.store.lists()})
        return [(names.get(c.list_id, ""), c.num) for c in found]

    def thread_rows(self, name: str, num: str) -> tuple[ListInfo, int, list[MessageRow]]:
        """A thread's messages; `Moved` when `num` is a message now in a thread of another id."""
        mlist = self.mlist(name)
        number = urls.number(num)
        current = self.store.thread_of(mlist, number) if number is not None else None
        rows = self.store.thread_messages(mlist, number) if number is not None else []
        if current is not None and current != number:
            raise Moved(urls.thread(mlist.name, current), current)
        if not rows or number is None:
            raise NotFound(f"The list {mlist.name} has no thread {num[:20]}.")
        return mlist, number, rows

    def thread_page(self, name: str, num: str) -> str:
        mlist, number, rows = self.thread_rows(name, num)
        parts = {row.num: parts_of(self.store.raw(row)) for row in rows}
        return views.thread_html(mlist, number, rows, parts)

    def feed(self, name: str) -> str:
        mlist = self.mlist(name)
        rows = self.store.recent(mlist, feeds.FEED_SIZE)
        return feeds.feed_xml(mlist, rows, {r.num: parts_of(self.store.raw(r)) for r in rows})

    def raw(self, name: str, num: str) -> bytes:
        """A message's bytes as a public download (addresses hidden if the list asks)."""
        mlist = self.mlist(name)
        return downloads.public_raw(self.store.raw(self.row(mlist, num)), mlist.obfuscate)

    def attachment(self, name: str, num: str, index: str) -> tuple[Part, bytes]:
        mlist = self.mlist(name)
        row = self.row(mlist, num)
        k = urls.number(index) if index != "0" else 0
        found = attachment_of(self.store.raw(row), k) if k is not None else None
        if found is None:
            raise NotFound(f"Message {row.num} of {mlist.name} has no part {index[:20]}.")
        part, data = found
        return part, downloads.public_attachment(part, data, mlist.obfuscate)

    def month_mbox(self, name: str, year: str, mm: str, raw: Callable[[MessageRow], bytes]
                   ) -> Iterator[bytes]:
        mlist = self.mlist(name)
        rows = self.store.month_messages(mlist, f"{year}-{mm}")
        if not rows:
            raise NotFound(f"The list {mlist.name} has no messages in {year}-{mm}.")
        return downloads.mbox_gz(rows, raw, mlist.obfuscate)

    def thread_mbox(self, name: str, num: str, raw: Callable[[MessageRow], bytes]
                    ) -> Iterator[bytes]:
        try:
            mlist, _, rows = self.thread_rows(name, num)
        except Moved as moved:
            raise Moved(urls.thread_mbox(name, moved.number), moved.number) from None
        return downloads.mbox_gz(rows, raw, mlist.obfuscate)

    def mid(self, message_id: str) -> str:
        """Where a Message-ID's first copy lives."""
        copies = self.store.by_message_id(message_id)
        names = {m.id: m.name for m in self.store.lists()}
        for copy in copies:
            name = names.get(copy.list_id)
            if name is not None and urls.list_ok(name):
                return urls.message(name, copy.num)
        raise NotFound("No message in this archive has that Message-ID.")

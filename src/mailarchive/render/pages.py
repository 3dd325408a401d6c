"""View-models: plain records the templates print. Pure functions of rows and parts; no I/O.

Every string from mail passes `filters` here (addresses obfuscated as the list asks), so templates
only ever print it escaped. Links are targets (site paths); templates make them relative.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from mailarchive import thread
from mailarchive.model import Part
from mailarchive.render import filters, urls
from mailarchive.render.body import Body, render_body
from mailarchive.store import ListInfo, MessageRow

DATE_NOTES = {"received": "the Received header", "envelope": "the mbox envelope (From_ line)",
              "import": "the time it was imported"}


@dataclass(frozen=True)
class Entry:
    """One message as a line in an index: what links to it and who wrote it when."""

    num: int
    target: str
    subject: str
    author: str
    date: str
    iso: str
    depth: int = 0
    same_subject: bool = False  # a reply under the thread's own subject: shown by author only


@dataclass(frozen=True)
class TreeItem:
    entry: Entry
    child: bool  # the next item is its first reply: open a nested list
    closes: int  # otherwise: how many nested lists end after it


MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # calendar's depend on the locale


def stamp_utc(stamp: int, fmt: str = "%Y-%m-%d %H:%M") -> str:
    try:
        return time.strftime(fmt, time.gmtime(stamp))
    except (OverflowError, OSError, ValueError):
        return "unknown date"


def stamp_iso(stamp: int) -> str:
    return stamp_utc(stamp, "%Y-%m-%dT%H:%M:%SZ")


def stamp_local(stamp: int, offset: int) -> str:
    """The date as the sender's clock showed it, with their offset."""
    sign = "-" if offset < 0 else "+"
    hours, minutes = divmod(abs(offset), 60)
    return f"{stamp_utc(stamp + offset * 60, '%a, %d %b %Y %H:%M')} {sign}{hours:02d}{minutes:02d}"


def subject_of(row: MessageRow, hide: bool) -> str:
    return filters.obfuscate_text(row.subject, hide).strip() or "(no subject)"


def author_of(row: MessageRow, hide: bool) -> str:
    name = row.from_name or row.from_addr or "(unknown sender)"
    return filters.obfuscate_text(name, hide)


def entry(mlist: ListInfo, row: MessageRow, depth: int = 0) -> Entry:
    return Entry(row.num, urls.message(mlist.name, row.num), subject_of(row, mlist.obfuscate),
                 author_of(row, mlist.obfuscate), stamp_utc(row.date), stamp_iso(row.date), depth)


def tree(entries: Sequence[Entry]) -> list[TreeItem]:
    """Flat entries with depths → items that say how to nest <ul>s, without recursion."""
    items = []
    for i, item in enumerate(entries):
        following = entries[i + 1].depth if i + 1 < len(entries) else 0
        child = following > item.depth
        items.append(TreeItem(item, child, 0 if child else max(0, item.depth - following)))
    return items


def thread_entries(mlist: ListInfo, rows: Sequence[MessageRow]) -> list[Entry]:
    """A thread's (or part of one's) messages in tree order, depth capped for display."""
    return shape(mlist, rows).entries


# --- the message page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageView:
    """One message with its body: the message page's main part, and each article of a thread."""

    entry: Entry
    from_addr: str
    date_local: str
    date_note: str | None
    message_id: str
    permalink: str
    raw: str
    body: Body
    defects: tuple[str, ...]


@dataclass(frozen=True)
class Nav:
    """Where a message sits: by date, in its thread, what it answers and what answers it."""

    prev: Entry | None = None
    next: Entry | None = None
    thread_prev: Entry | None = None
    thread_next: Entry | None = None
    parent: Entry | None = None
    replies: list[Entry] = field(default_factory=list)
    thread: str = ""
    thread_size: int = 1
    copies: list[tuple[str, str]] = field(default_factory=list)


def message_view(mlist: ListInfo, row: MessageRow, parts: Sequence[Part], here: str,
                 images: bool = False, body: Body | None = None) -> MessageView:
    """`body`: the message's body already rendered for another page (see `body.portable`)."""
    hide = mlist.obfuscate
    permalink = urls.mid(row.message_id) if urls.mid_ok(row.message_id) else urls.message(
        mlist.name, row.num)
    note = DATE_NOTES.get(row.date_source)
    taken = f": date taken from {row.date_source}"  # how parse ends the defect that says why
    why = next((d.removesuffix(taken) for d in row.defects if d.endswith(taken)),
               "no usable Date header")
    return MessageView(
        entry(mlist, row), filters.obfuscate(filters.clean(row.from_addr), hide),
        stamp_local(row.date, row.tz_offset),
        f"This message’s date was taken from {note}: {filters.clean(why)}." if note else None,
        filters.clean(row.message_id), permalink, urls.raw(mlist.name, row.num),
        body or render_body(mlist, row.num, parts, here, images),
        tuple(filters.obfuscate_text(d, hide) for d in row.defects
              if not (note and d.endswith(taken))))


@dataclass(frozen=True)
class Shape:
    """A thread's tree, computed once for all of its messages' pages."""

    entries: list[Entry]
    by_num: dict[int, Entry]
    parents: dict[int, int | None]
    target: str


def shape(mlist: ListInfo, thread_rows: Sequence[MessageRow]) -> Shape:
    by_row = {row.num: row for row in thread_rows}
    placed = [p for p in thread.order(r.member() for r in thread_rows) if p.num in by_row]
    entries = [entry(mlist, by_row[p.num], min(p.depth, filters.MAX_DEPTH)) for p in placed]
    root = ""
    for i, item in enumerate(entries):
        subject = thread.normalize_subject(item.subject)
        if item.depth == 0:
            root = subject
        elif subject == root:
            entries[i] = replace(item, same_subject=True)
    target = urls.thread(mlist.name, thread_rows[0].thread) if thread_rows else ""
    return Shape(entries, {e.num: e for e in entries}, {p.num: p.parent for p in placed}, target)


def nav(mlist: ListInfo, row: MessageRow, neighbours: tuple[MessageRow | None, MessageRow | None],
        tree_of: Shape, copies: Sequence[tuple[str, int]]) -> Nav:
    """The message page's navigation, from its date neighbours, its thread and its other copies."""
    order = tree_of.entries
    at = next((i for i, e in enumerate(order) if e.num == row.num), -1)
    parent = tree_of.parents.get(row.num)
    return Nav(
        prev=entry(mlist, neighbours[0]) if neighbours[0] else None,
        next=entry(mlist, neighbours[1]) if neighbours[1] else None,
        thread_prev=order[at - 1] if at > 0 else None,
        thread_next=order[at + 1] if 0 <= at < len(order) - 1 else None,
        parent=tree_of.by_num.get(parent) if parent is not None else None,
        replies=[e for e in order if tree_of.parents.get(e.num) == row.num],
        thread=tree_of.target or urls.thread(mlist.name, row.thread), thread_size=len(order),
        copies=[(urls.message(name, num), f"{name}, message {num}") for name, num in copies
                if (name, num) != (mlist.name, row.num) and urls.list_ok(name)])


@dataclass(frozen=True)
class ThreadOrder:
    """A thread's rows in display order: the part of its pages' navigation that all of its
    messages share (the server keeps it per thread, see `site`)."""

    by_row: dict[int, MessageRow]
    placed: list[thread.Placed]
    index: dict[int, int]  # num -> position in `placed`
    target: str


def thread_order(mlist: ListInfo, thread_rows: Sequence[MessageRow]) -> ThreadOrder:
    by_row = {r.num: r for r in thread_rows}
    placed = [p for p in thread.order(r.member() for r in thread_rows) if p.num in by_row]
    target = urls.thread(mlist.name, thread_rows[0].thread) if thread_rows else ""
    return ThreadOrder(by_row, placed, {p.num: i for i, p in enumerate(placed)}, target)


def message_nav(mlist: ListInfo, row: MessageRow,
                neighbours: tuple[MessageRow | None, MessageRow | None],
                order: ThreadOrder, copies: Sequence[tuple[str, int]]) -> Nav:
    """`nav(..., shape(thread_rows), ...)` for one page, making entries only for the messages
    it links to rather than for the whole thread (the server renders one page at a time)."""
    placed, by_row = order.placed, order.by_row
    at = order.index.get(row.num, -1)

    def entry_at(i: int) -> Entry:
        made = entry(mlist, by_row[placed[i].num], min(placed[i].depth, filters.MAX_DEPTH))
        root = next((j for j in range(i, -1, -1) if placed[j].depth == 0), None)
        subject = (thread.normalize_subject(subject_of(by_row[placed[root].num],
                                                        mlist.obfuscate))
                   if root is not None else "")
        if i != root and thread.normalize_subject(made.subject) == subject:
            made = replace(made, same_subject=True)
        return made

    parent = placed[at].parent if at >= 0 else None
    return Nav(
        prev=entry(mlist, neighbours[0]) if neighbours[0] else None,
        next=entry(mlist, neighbours[1]) if neighbours[1] else None,
        thread_prev=entry_at(at - 1) if at > 0 else None,
        thread_next=entry_at(at + 1) if 0 <= at < len(placed) - 1 else None,
        parent=entry_at(order.index[parent]) if parent in order.index else None,
        replies=[entry_at(i) for i, p in enumerate(placed) if p.parent == row.num],
        thread=order.target or urls.thread(mlist.name, row.thread), thread_size=len(placed),
        copies=[(urls.message(name, num), f"{name}, message {num}") for name, num in copies
                if (name, num) != (mlist.name, row.num) and urls.list_ok(name)])


def reply_link(mlist: ListInfo, row: MessageRow) -> str | None:
    """A mailto: that answers on the list, threaded under this message."""
    if not mlist.address or "@" not in mlist.address:
        return None
    subject = row.subject if thread.is_reply(row.subject) else f"Re: {row.subject}"
    query = f"In-Reply-To={quote('<' + row.message_id + '>', safe='')}&subject={quote(subject)}"
    return f"mailto:{quote(mlist.address, safe='@')}?{query}"


# --- index pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSummary:
    target: str
    name: str
    title: str
    messages: int
    latest: str
    latest_iso: str


@dataclass(frozen=True)
class MonthLink:
    month: str  # yyyy-mm
    label: str
    target: str
    mbox: str
    count: int


@dataclass(frozen=True)
class ThreadSummary:
    first: Entry
    target: str
    count: int
    last: str
    last_iso: str


def list_summary(mlist: ListInfo, messages: int, latest: int | None) -> ListSummary:
    return ListSummary(urls.list_dir(mlist.name), mlist.name, filters.clean(mlist.title),
                       messages, stamp_utc(latest) if latest else "no messages yet",
                       stamp_iso(latest) if latest else "")


def month_link(mlist: ListInfo, month: str, count: int) -> MonthLink:
    year, mm = month.split("-")
    label = MONTH_NAMES[int(mm) - 1] if mm.isdigit() and 0 < int(mm) < 13 else mm
    return MonthLink(month, f"{label} {year}", urls.month(mlist.name, month),
                     urls.month_mbox(mlist.name, month), count)


def by_year(links: Sequence[MonthLink]) -> list[tuple[str, list[MonthLink]]]:
    years: dict[str, list[MonthLink]] = {}
    for link in links:
        years.setdefault(link.month[:4], []).append(link)
    return list(years.items())


def thread_summary(mlist: ListInfo, first: MessageRow, count: int, last: int) -> ThreadSummary:
    return ThreadSummary(entry(mlist, first), urls.thread(mlist.name, first.thread), count,
                         stamp_utc(last), stamp_iso(last))


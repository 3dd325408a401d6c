"""The month index: by thread (a nested tree), by date, by author; cut into pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailarchive.render import urls
from mailarchive.render.pages import Entry, MonthLink, TreeItem, entry, thread_entries, tree
from mailarchive.store import ListInfo, MessageRow

PAGE_SIZE = 250
ORDER_LABELS = {"thread": "By thread", "date": "By date", "author": "By author"}


@dataclass(frozen=True)
class MonthPage:
    month: MonthLink
    order: str
    page: int
    pages: list[tuple[int, str]]  # every page of this order: (number, target)
    orders: list[tuple[str, str, str]]  # (order, label, target of its first page)
    items: list[TreeItem]  # by thread
    entries: list[Entry]  # by date
    authors: list[tuple[str, list[Entry]]]  # by author
    prev: MonthLink | None
    next: MonthLink | None


def paginate(mlist: ListInfo, rows: Sequence[MessageRow], order: str) -> list[list[Entry]]:
    """The month's entries in `order`, cut into pages (a thread is only cut when over a page)."""
    if order == "date":
        ordered = [entry(mlist, r) for r in sorted(rows, key=lambda r: (r.date, r.num))]
        return _chunks(ordered) or [[]]
    if order == "author":
        ordered = sorted((entry(mlist, r) for r in rows),
                         key=lambda e: (e.author.casefold(), e.iso, e.num))
        return _chunks(ordered) or [[]]
    return _pack(_thread_groups(mlist, rows)) or [[]]


def _chunks(entries: list[Entry]) -> list[list[Entry]]:
    return [entries[i:i + PAGE_SIZE] for i in range(0, len(entries), PAGE_SIZE)]


def _thread_groups(mlist: ListInfo, rows: Sequence[MessageRow]) -> list[list[Entry]]:
    groups: dict[int, list[MessageRow]] = {}
    for row in sorted(rows, key=lambda r: (r.date, r.num)):
        groups.setdefault(row.thread, []).append(row)
    return [thread_entries(mlist, group) for group in groups.values()]


def _pack(groups: list[list[Entry]]) -> list[list[Entry]]:
    pages: list[list[Entry]] = []
    current: list[Entry] = []
    for group in groups:
        if current and len(current) + len(group) > PAGE_SIZE:
            pages.append(current)
            current = []
        current.extend(group)
        while len(current) > PAGE_SIZE:
            pages.append(current[:PAGE_SIZE])
            current = current[PAGE_SIZE:]
    if current:
        pages.append(current)
    return pages


def by_author(entries: list[Entry]) -> list[tuple[str, list[Entry]]]:
    groups: list[tuple[str, list[Entry]]] = []
    for item in entries:
        if not groups or groups[-1][0] != item.author:
            groups.append((item.author, []))
        groups[-1][1].append(item)
    return groups


def month_page(mlist: ListInfo, month: MonthLink, order: str, page: int,
               entries: list[Entry], count: int, around: tuple[MonthLink | None, MonthLink | None]
               ) -> MonthPage:
    """Page `page` (of `count`) of the month index in `order`."""
    name = mlist.name
    return MonthPage(
        month, order, page,
        [(n, urls.month(name, month.month, order, n)) for n in range(1, count + 1)],
        [(o, label, urls.month(name, month.month, o)) for o, label in ORDER_LABELS.items()],
        tree(entries) if order == "thread" else [],
        entries if order == "date" else [],
        by_author(entries) if order == "author" else [],
        around[0], around[1])


def neighbours(months: Sequence[MonthLink], month: str) -> tuple[MonthLink | None,
                                                                  MonthLink | None]:
    """The months before and after `month` (`months` newest first, as the store gives them)."""
    ordered = sorted(months, key=lambda m: m.month)
    at = [m.month for m in ordered].index(month)
    return (ordered[at - 1] if at > 0 else None,
            ordered[at + 1] if at + 1 < len(ordered) else None)

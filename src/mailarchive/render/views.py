"""Whole pages as HTML: view-models (pages, months) poured into templates. No I/O."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import replace

from mailarchive.model import Part
from mailarchive.render import SEARCHABLE, render, urls
from mailarchive.render.body import Body
from mailarchive.render.months import MonthPage
from mailarchive.render.pages import (
    ListSummary,
    MonthLink,
    Nav,
    Shape,
    ThreadSummary,
    by_year,
    entry,
    message_view,
    month_link,
    reply_link,
    shape,
    subject_of,
    tree,
)
from mailarchive.store import ListInfo, MessageRow


def home_html(lists: Sequence[ListSummary]) -> str:
    return render("home.html", "", lists=lists)


def list_html(mlist: ListInfo, info: ListSummary, months: Sequence[MonthLink],
              threads: Sequence[ThreadSummary]) -> str:
    here = urls.list_dir(mlist.name)
    return render("list.html", here, info=info, address=mlist.address, years=by_year(months),
                  threads=threads, feed=urls.feed(mlist.name), crumbs=[(here, mlist.name)])


def month_html(mlist: ListInfo, page: MonthPage) -> str:
    here = urls.month(mlist.name, page.month.month, page.order, page.page)
    crumbs = [(urls.list_dir(mlist.name), mlist.name), (page.month.target, page.month.label)]
    return render("month.html", here, page=page, list_name=mlist.name, crumbs=crumbs)


def _crumbs(mlist: ListInfo, row: MessageRow, here: str, title: str) -> list[tuple[str, str]]:
    month = month_link(mlist, row.month, 0)
    return [(urls.list_dir(mlist.name), mlist.name), (month.target, month.label), (here, title)]


def message_html(mlist: ListInfo, row: MessageRow, parts: Sequence[Part], nav: Nav,
                 images: bool = False, dynamic: bool = False, body: Body | None = None) -> str:
    """The message page. `dynamic`: served live, so "?images=1" can show remote images."""
    here = urls.message(mlist.name, row.num)
    view = message_view(mlist, row, parts, here, images, body)
    images_link = (here + "?images=1" if dynamic and view.body.blocked_images and not images
                   else None)
    return render("message.html", here, m=view, nav=nav, reply=reply_link(mlist, row),
                  images_link=images_link, list_name=mlist.name,
                  list_target=urls.list_dir(mlist.name),
                  crumbs=_crumbs(mlist, row, here, f"message {row.num}"))


def thread_html(mlist: ListInfo, thread: int, rows: Sequence[MessageRow],
                parts: Mapping[int, Sequence[Part]], tree_of: Shape | None = None,
                bodies: Mapping[int, Body] | None = None) -> str:
    """A whole thread, every message with its body, as a tree (`bodies`: some already
    rendered, that read the same from any page)."""
    here = urls.thread(mlist.name, thread)
    entries = (tree_of or shape(mlist, rows)).entries
    by_num = {row.num: row for row in rows}
    made = bodies or {}
    views = [replace(message_view(mlist, by_num[e.num], parts.get(e.num, ()), here,
                                  body=made.get(e.num)), entry=e) for e in entries]
    subject = subject_of(by_num[entries[0].num], mlist.obfuscate) if entries else "(empty)"
    first = by_num[entries[0].num] if entries else rows[0]
    return render("thread.html", here, subject=subject, messages=views, items=tree(entries),
                  mbox=urls.thread_mbox(mlist.name, thread),
                  crumbs=_crumbs(mlist, first, here, "thread"))


def sample_html() -> str:
    """A message page and a month page of made-up mail: the markup that every page repeats, as
    a compression dictionary for stored pages (the same for as long as the code is)."""
    mlist = ListInfo(0, "list", "list", "list@example.org", "", True)
    rows = [MessageRow(n, 0, n, f"{n}@example.org", False, None, (), "Re: a subject", "A Sender",
                       "sender@example.org", 1_000_000_000 + n, 0, "date", "2001-09", 1, 0, 0,
                       (), None) for n in (1, 2, 3)]
    entries = [entry(mlist, row) for row in rows]
    nav = Nav(entries[0], entries[2], entries[0], entries[2], entries[0], entries[2:],
              urls.thread("list", 1), 3)
    month = month_link(mlist, "2001-09", 3)
    page = MonthPage(month, "thread", 1, [(1, month.target)], [], tree(entries), [], [], month,
                     month)
    token = SEARCHABLE.set(True)
    try:
        return (message_html(mlist, rows[1], (), nav, dynamic=True) + month_html(mlist, page))
    finally:
        SEARCHABLE.reset(token)


def error_html(here: str, heading: str, explanation: str) -> str:
    return render("error.html", here, heading=heading, explanation=explanation)


def redirect_html(here: str, target: str) -> str:
    """A page that sends the browser on to `target` (for static files that moved)."""
    link = html.escape(urls.relative(here, target))
    return _REDIRECT.format(link=link)


# written for every Message-ID in an export: plain formatting is many times faster than Jinja
_REDIRECT = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url={link}">
<link rel="canonical" href="{link}">
<title>Moved</title>
</head>
<body>
<main><p>This page is now at <a href="{link}">{link}</a>.</p></main>
</body>
</html>
"""

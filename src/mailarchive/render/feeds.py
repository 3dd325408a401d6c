"""Atom feeds (RFC 4287): a list's latest messages, with short plain-text excerpts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from mailarchive.model import Part
from mailarchive.render import filters, render, urls
from mailarchive.render.pages import author_of, stamp_iso, subject_of
from mailarchive.render.sanitize import to_text
from mailarchive.store import ListInfo, MessageRow

FEED_SIZE = 30
EXCERPT = 600


def _id(*parts: object) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "mailarchive:" + ":".join(map(str, parts))).urn


def excerpt(parts: Sequence[Part], hide: bool) -> str:
    """The start of what the sender wrote: quoted lines left out, whitespace folded."""
    for part in parts:
        if part.kind not in ("text", "html"):
            continue
        text = part.text if part.kind == "text" else to_text(part.text)
        own = [line for line in text[: EXCERPT * 20].splitlines()
               if not line.lstrip().startswith(">")]
        folded = " ".join(" ".join(own).split())
        if folded:
            short = folded if len(folded) <= EXCERPT else folded[:EXCERPT].rsplit(" ", 1)[0] + " …"
            return filters.obfuscate_text(short, hide)
    return ""


def feed_xml(mlist: ListInfo, rows: Sequence[MessageRow],
             parts: Mapping[int, Sequence[Part]]) -> str:
    """The list's feed; `rows` newest first, `parts` the bodies of those shown."""
    hide = mlist.obfuscate
    entries = [{
        "title": subject_of(row, hide), "id": _id(mlist.name, row.num, row.message_id),
        "updated": stamp_iso(row.date), "author": author_of(row, hide),
        "target": urls.message(mlist.name, row.num),
        "summary": excerpt(parts.get(row.num, ()), hide),
    } for row in rows]
    updated = stamp_iso(max((row.date for row in rows), default=0))
    return render("feed.xml", urls.feed(mlist.name), entries=entries,
                  title=filters.clean(mlist.title or mlist.name), feed_id=_id(mlist.name),
                  updated=updated, self_target=urls.feed(mlist.name),
                  list_target=urls.list_dir(mlist.name))

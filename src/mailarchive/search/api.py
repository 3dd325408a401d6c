"""Search results as JSON: the fields of `GET /api/search` and `mailarchive search --json`."""

from __future__ import annotations

from typing import Any

from mailarchive.render import urls
from mailarchive.render.filters import obfuscate_text
from mailarchive.search.service import Hit, Results, lists_of
from mailarchive.store import Store


def hit_json(hit: Hit, hide: bool, base: str = "/") -> dict[str, Any]:
    row = hit.message
    text = "".join(piece for piece, _ in hit.snippet)
    marks, offset = [], 0
    for piece, matched in hit.snippet:
        if matched:
            marks.append([offset, offset + len(piece)])
        offset += len(piece)
    return {
        "list": hit.list_name,
        "number": row.num,
        "message_id": row.message_id,
        "subject": obfuscate_text(row.subject, hide),
        "from": obfuscate_text(row.from_name, hide),
        "date": row.date,
        "url": base + urls.message(hit.list_name, row.num),
        "snippet": text,
        "highlights": marks,
        "thread_hits": hit.thread_hits,
    }


def results_json(store: Store, results: Results, base: str = "/") -> dict[str, Any]:
    hide = {m.name: m.obfuscate for m in lists_of(store)}
    return {
        "query": results.query,
        "total": results.total,
        "total_exact": results.total_exact,
        "page": results.page,
        "per_page": results.per_page,
        "hits": [hit_json(h, hide.get(h.list_name, True), base) for h in results.hits],
    }

"""Running a search: query text → ranked hits with snippets (what the web and CLI call)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from mailarchive.parse import parse_safely
from mailarchive.render.filters import obfuscate_text
from mailarchive.search.fts5 import WEIGHTS, YEAR, Plan, plan
from mailarchive.search.query import parse_query
from mailarchive.search.snippet import MAX_TEXT, snippet, terms
from mailarchive.search.text import html_text, split_quoted
from mailarchive.store import COLUMNS, ListInfo, MessageRow, Store, to_row

SORTS = ("relevance", "date")
MESSAGE_COLUMNS = ", ".join(f"m.{c.strip()}" for c in COLUMNS.split(","))
MAX_PAGE = 1000
# Relevance ranks the most recently archived matches of a query, at most this many: bm25 over a
# common word's every match costs seconds at a million messages; the newest matches are cheap.
RANK_WINDOW = 5000
# Counting a common word's every match costs more than the search: stop at this many.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class Hit:
    list_name: str
    message: MessageRow
    snippet: list[tuple[str, bool]]
    thread_hits: int = 1


@dataclass(frozen=True)
class Results:
    query: str
    total: int
    hits: list[Hit]
    page: int
    per_page: int
    total_exact: bool = True  # False: at least `total` (counting stops at COUNT_CAP)


def _sql(p: Plan, lists: dict[str, int], scoped: str | None) -> tuple[str, str, list[object]]:
    """FROM/WHERE clauses and the score expression for a plan."""
    where = ["m.removed IS NULL", *p.where]
    params: list[object] = []
    if p.match is not None:
        source = "fts JOIN messages m ON m.id = fts.rowid"
        where.insert(0, "fts MATCH ?")
        params.append(p.match)
        score = (f"bm25(fts, {WEIGHTS}) * (1.0 + 0.25 / (1.0 + max(0, {int(time.time())} - m.date)"
                 f" / {YEAR}.0))")
    else:
        source, score = "messages m", "-m.date"
    params.extend(p.params)
    if scoped is not None:
        where.append("m.list_id = ?")
        params.append(lists.get(scoped, -1))
    elif p.match is None:
        where.append("m.list_id IN (SELECT id FROM lists)")  # lets SQLite walk messages_date
    return f"FROM {source} WHERE " + " AND ".join(where), score, params


def _lists(store: Store) -> tuple[dict[str, int], dict[int, ListInfo]]:
    lists = store.lists()
    return {m.name: m.id for m in lists}, {m.id: m for m in lists}


def search(store: Store, text: str, *, list_name: str | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 20, group: bool = False) -> Results:
    """One page of results; raises QueryError (a clear sentence) for a malformed query."""
    node = parse_query(text)
    by_name, by_id = _lists(store)
    query_plan = plan(node, by_name)
    body, score, params = _sql(query_plan, by_name, list_name)
    by_date = sort == "date" or query_plan.match is None
    order = "m.date DESC, m.id DESC" if by_date else "score, m.date DESC"
    page = max(1, min(page, MAX_PAGE))
    ranked_body, ranked_params = body, params
    if not by_date:
        ranked_body, ranked_params = _window(store, body, params)
    if group:
        inner = f"SELECT {MESSAGE_COLUMNS}, {score} AS score {ranked_body}"
        order = order.replace("m.", "")
        sql = (f"WITH hits AS MATERIALIZED ({inner}) SELECT *, min(score), count(*) FROM hits "
               "GROUP BY list_id, thread "
               f"ORDER BY {order.replace('score', 'min(score)')} LIMIT ? OFFSET ?")
        total_sql = f"SELECT DISTINCT m.list_id, m.thread {body}"
    else:
        sql = (f"SELECT {MESSAGE_COLUMNS}, {score} AS score, 1 {ranked_body} ORDER BY {order} "
               "LIMIT ? OFFSET ?")
        total_sql = f"SELECT 1 {body}"
    rows = store.db.execute(sql, (*ranked_params, per_page, (page - 1) * per_page)).fetchall()
    total = store.db.execute(f"SELECT count(*) FROM ({total_sql} LIMIT {COUNT_CAP + 1})",
                             params).fetchone()[0]
    words = terms(node)
    hits = []
    for r in rows:
        message, mlist = to_row(r), by_id[r[1]]
        hits.append(Hit(mlist.name, message, _snippet(store, message, words, mlist.obfuscate),
                        r[-1]))
    return Results(text, min(int(total), COUNT_CAP), hits, page, per_page,
                   total_exact=total <= COUNT_CAP)


def _window(store: Store, body: str, params: list[object]) -> tuple[str, list[object]]:
    """The query restricted to the newest RANK_WINDOW text matches (by archive order)."""
    row = store.db.execute("SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY rowid DESC "
                           "LIMIT 1 OFFSET ?", (params[0], RANK_WINDOW - 1)).fetchone()
    if row is None:
        return body, params
    return body.replace("fts MATCH ?", "fts MATCH ? AND fts.rowid >= ?", 1), [
        params[0], row[0], *params[1:]]


def all_matches(store: Store, text: str, list_name: str | None = None) -> Iterator[MessageRow]:
    """Every matching message, newest first, streamed (for mbox downloads and feeds)."""
    node = parse_query(text)
    by_name, _ = _lists(store)
    body, _score, params = _sql(plan(node, by_name), by_name, list_name)
    for row in store.db.execute(f"SELECT {MESSAGE_COLUMNS} {body} ORDER BY m.date DESC", params):
        yield to_row(row)


def _snippet(store: Store, message: MessageRow, words: list[tuple[str, bool]],
             hide: bool) -> list[tuple[str, bool]]:
    """Prefer the author's own words; fall back to the quoted text where only it matches."""
    parsed = parse_safely(store.raw(message), message.envelope)
    own: list[str] = []
    quoted: list[str] = []
    for part in parsed.parts:
        if part.kind in ("text", "html"):
            mine, theirs = split_quoted(part.text if part.kind == "text" else html_text(part.text))
            own.append(mine)
            quoted.append(theirs)
    first = snippet(obfuscate_text("\n".join(own)[:MAX_TEXT], hide), words)
    if any(matched for _, matched in first) or not any(quoted):
        return first
    second = snippet(obfuscate_text("\n".join(quoted)[:MAX_TEXT], hide), words)
    return second if any(matched for _, matched in second) else first

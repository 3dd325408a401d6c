"""Running a search: query text → ranked hits with snippets (what the web and CLI call)."""

from __future__ import annotations

import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from mailarchive.render.filters import obfuscate_text
from mailarchive.search.fts5 import YEAR, Plan, plan
from mailarchive.search.kept import KEPT, PHRASE_HITS
from mailarchive.search.message_text import text_parts
from mailarchive.search.query import And, DateRange, ListIs, Node, parse_query
from mailarchive.search.ranking import bm25_call, row_part_call, weighted_call
from mailarchive.search.snippet import (
    MAX_TEXT,
    Pieces,
    first_snippet,
    fold,
    opening,
    terms,
    tokens_of,
)
from mailarchive.search.text import (
    html_text,
    own_lines,
    own_lines_hold,
    quoted_lines,
    signed,
)
from mailarchive.store import (
    COLUMNS,
    DamagedError,
    ListInfo,
    MessageRow,
    Store,
    one,
    to_row,
    trouble,
)

SORTS = ("relevance", "date")
MESSAGE_COLUMNS = ", ".join(f"m.{c.strip()}" for c in COLUMNS.split(","))
MAX_PAGE = 1000
# Relevance ranks the most recently archived matches of a query, at most this many: bm25 over a
# common word's every match costs seconds at a million messages; the newest matches are cheap.
RANK_WINDOW = 1000
# Counting a common word's every match costs more than the search: stop at this many.
COUNT_CAP = 1000
MAX_UNION = 100  # lists merged in one statement by _newest_by_list (SQLite allows 500)
# Snippets read the start of a message: a text part after megabytes of attachments is not worth
# parsing them for.
MAX_RAW = 256 * 1024
DAY = 86_400

Rows = list[Any]  # rows of MESSAGE_COLUMNS, score and the thread's number of matches


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


def _sql(p: Plan, lists: dict[str, int], scoped: str | None,
         hits: list[int] | None = None) -> tuple[str, str, list[object]]:
    """FROM/WHERE clauses and the score expression for a plan (`hits`: how many rows each
    phrase matches, from `_phrase_hits`; without them a query of several phrases is scored by
    FTS5's bm25, which counts them again)."""
    where = ["m.removed IS NULL", *p.where]
    params: list[object] = []
    if p.match is not None:
        source = "fts JOIN messages m ON m.id = fts.rowid"
        where.insert(0, "fts MATCH ?")
        params.append(p.match)
        relevance = (row_part_call() if p.one_phrase else
                     weighted_call(hits) if hits is not None else bm25_call())
        score = (f"{relevance} * (1.0 + 0.25 / (1.0 + max(0, {today()} - m.date)"
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


def today() -> int:
    """The start of this day (UTC), the "now" of the recency boost: it is written into the
    ranking statement, which SQLite then prepares once a day rather than once a second (15 us
    of a rare word's search)."""
    return int(time.time()) // DAY * DAY


def _lists(store: Store, generation: int | None = None
           ) -> tuple[dict[str, int], dict[int, ListInfo]]:
    lists = lists_of(store, generation)
    return {m.name: m.id for m in lists}, {m.id: m for m in lists}


def lists_of(store: Store, generation: int | None = None) -> list[ListInfo]:
    """The archive's lists (kept until the archive changes: every search needs them)."""
    return KEPT.get(store, ("lists",), store.lists, generation)


def search(store: Store, text: str, *, list_name: str | None = None, sort: str = "relevance",
           page: int = 1, per_page: int = 20, group: bool = False) -> Results:
    """One page of results; raises QueryError (a clear sentence) for a malformed query."""
    node = parse_query(text)
    generation = KEPT.fresh(store)  # once: the lists and the ranking are kept alike
    by_name, by_id = _lists(store, generation)
    query_plan = plan(node, by_name)
    page = max(1, min(page, MAX_PAGE))
    limit, offset = per_page, (page - 1) * per_page
    if group:
        rows, total = _grouped(store, query_plan, by_name, list_name, sort, limit, offset)
    elif query_plan.match is not None and sort != "date":
        rows, total = _ranked(store, query_plan, by_name, list_name, limit, offset,
                              (text, list_name), generation)
    elif query_plan.match is None and _dates_only(node) and len(by_id) <= MAX_UNION:
        rows, total = _newest_by_list(store, query_plan, by_name, list_name, limit, offset)
    else:
        rows, total = _newest(store, query_plan, by_name, list_name, limit, offset)
    words = terms(node)
    raws = _raws(store, [r[0] for r in rows])
    hits = []
    for r in rows:
        message, mlist = to_row(r), by_id[r[1]]
        pieces = _snippet(*raws.get(message.id, (b"", None)), words, mlist.obfuscate)
        hits.append(Hit(mlist.name, message, pieces, r[-1]))
    return Results(text, min(total, COUNT_CAP), hits, page, per_page,
                   total_exact=total <= COUNT_CAP)


def _count(store: Store, sql: str, params: list[object]) -> int:
    """How many rows `sql` gives, counting no further than COUNT_CAP + 1."""
    row = one(store.db, f"SELECT count(*) FROM ({sql} LIMIT {COUNT_CAP + 1})", params)
    return int(row[0])


def _ranked(store: Store, p: Plan, lists: dict[str, int], scoped: str | None, limit: int,
            offset: int, key: tuple[object, ...], generation: int) -> tuple[Rows, int]:
    """Best matches first. The ranking of a query is kept (until the archive changes), so
    that its next pages, and the same search again, cost only their rows and snippets."""
    ids, total = KEPT.get(store, ("ranking", *key), lambda: _ranking(store, p, lists, scoped),
                          generation)
    return _by_id(store, list(ids[offset:offset + limit])), total


def _ranking(store: Store, p: Plan, lists: dict[str, int], scoped: str | None
             ) -> tuple[array[int], int]:
    """Ids of the best matches among the newest RANK_WINDOW, and how many matches there are
    (up to the cap). One pass over the newest matches (which FTS5 gives in id order) scores
    and counts them: bm25 over a common word's every match would cost seconds at a million
    messages."""
    body, score, params = _sql(p, lists, scoped, _phrase_hits(store, p))
    scored: list[Any] = store.db.execute(
        f"SELECT m.id, {score}, m.date {body} ORDER BY fts.rowid DESC LIMIT ?",
        (*params, max(COUNT_CAP, RANK_WINDOW) + 1)).fetchall()
    best = sorted(scored[:RANK_WINDOW], key=lambda r: (r[1], -r[2]))
    return array("q", (int(r[0]) for r in best)), len(scored)


def _phrase_hits(store: Store, p: Plan) -> list[int] | None:
    """How many rows each phrase of a query of several phrases matches (bm25's IDF needs them).
    Kept until the archive changes: FTS5 would count them for every statement, walking a common
    word's every match (5-20 ms at a million messages), and queries share their words."""
    if p.match is None or p.one_phrase:
        return None
    generation = PHRASE_HITS.fresh(store)
    return [PHRASE_HITS.get(store, (phrase,), partial(_count_phrase_rows, store, phrase),
                            generation) for phrase in p.phrases]


def _count_phrase_rows(store: Store, phrase: str) -> int:
    """How many rows match `phrase`, counted by an SQL statement (once, then kept)."""
    return int(one(store.db, "SELECT count(*) FROM fts WHERE fts MATCH ?", (phrase,))[0])


def _by_id(store: Store, ids: list[int]) -> Rows:
    """The rows of some messages, in the order given."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = {r[0]: r for r in store.db.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id IN ({marks})", ids)}
    return [(*found[i], None, 1) for i in ids if i in found]


def _newest_matches(store: Store, body: str, params: list[object]) -> list[int]:
    """Ids of the newest matches (by archive order), enough to count to the cap and to bound
    the ranking window."""
    rows = store.db.execute(f"SELECT m.id {body} ORDER BY fts.rowid DESC LIMIT ?",
                            (*params, max(COUNT_CAP, RANK_WINDOW) + 1))
    return [int(r[0]) for r in rows]


def _window(body: str, params: list[object], newest: list[int]) -> tuple[str, list[object]]:
    """The query restricted to the newest RANK_WINDOW matches, if it has more. (A range of ids:
    `rowid IN (...)` makes FTS5 start the whole query over for each id.)"""
    if len(newest) < RANK_WINDOW:
        return body, params
    return body.replace("fts MATCH ?", "fts MATCH ? AND fts.rowid >= ?", 1), [
        params[0], newest[RANK_WINDOW - 1], *params[1:]]


def _newest(store: Store, p: Plan, lists: dict[str, int], scoped: str | None, limit: int,
            offset: int) -> tuple[Rows, int]:
    body, _score, params = _sql(p, lists, scoped)
    rows = store.db.execute(f"SELECT {MESSAGE_COLUMNS}, -m.date AS score, 1 {body} "
                            "ORDER BY m.date DESC, m.id DESC LIMIT ? OFFSET ?",
                            (*params, limit, offset)).fetchall()
    return rows, _count(store, f"SELECT 1 {body}", params)


def _dates_only(node: Node) -> bool:
    """Whether a query only picks dates and lists (so each list's date index answers it)."""
    items = node.items if isinstance(node, And) else (node,)
    return all(isinstance(item, DateRange | ListIs) for item in items)


def _newest_by_list(store: Store, p: Plan, lists: dict[str, int], scoped: str | None,
                    limit: int, offset: int) -> tuple[Rows, int]:
    """Newest first, each list's newest read backwards from its date index and merged: ordering
    the whole range by (date, id) would read every message in it."""
    ids = [lists.get(scoped, -1)] if scoped is not None else list(lists.values())
    where = " AND ".join(["m.list_id = ?", "m.removed IS NULL", *p.where])
    one = (f"SELECT * FROM (SELECT {MESSAGE_COLUMNS}, -m.date AS score, 1 FROM messages m "
           f"WHERE {where} ORDER BY m.date DESC, m.num DESC LIMIT ?)")
    params: list[object] = []
    for list_id in ids:
        params.extend((list_id, *p.params, limit + offset))
    rows = store.db.execute(" UNION ALL ".join([one] * len(ids)) +
                            " ORDER BY date DESC, id DESC LIMIT ? OFFSET ?",
                            (*params, limit, offset)).fetchall() if ids else []
    body, _score, count_params = _sql(p, lists, scoped)
    return rows, _count(store, f"SELECT 1 {body}", count_params)


def _grouped(store: Store, p: Plan, lists: dict[str, int], scoped: str | None, sort: str,
             limit: int, offset: int) -> tuple[Rows, int]:
    """One row per thread: its best (or newest) match, with the thread's number of matches."""
    body, score, params = _sql(p, lists, scoped, _phrase_hits(store, p))
    by_date = sort == "date" or p.match is None
    order = "date DESC, id DESC" if by_date else "min(score), date DESC"
    ranked_body, ranked_params = body, params
    if not by_date:
        ranked_body, ranked_params = _window(body, params, _newest_matches(store, body, params))
    inner = f"SELECT {MESSAGE_COLUMNS}, {score} AS score {ranked_body}"
    rows = store.db.execute(f"WITH hits AS MATERIALIZED ({inner}) SELECT *, min(score), count(*) "
                            f"FROM hits GROUP BY list_id, thread ORDER BY {order} LIMIT ? OFFSET ?",
                            (*ranked_params, limit, offset)).fetchall()
    return rows, _count(store, f"SELECT DISTINCT m.list_id, m.thread {body}", params)


def all_matches(store: Store, text: str, list_name: str | None = None) -> Iterator[MessageRow]:
    """Every matching message, newest first, streamed (for mbox downloads and feeds)."""
    node = parse_query(text)
    by_name, _ = _lists(store)
    body, _score, params = _sql(plan(node, by_name), by_name, list_name)
    for row in store.db.execute(f"SELECT {MESSAGE_COLUMNS} {body} ORDER BY m.date DESC", params):
        yield to_row(row)


def _raws(store: Store, ids: list[int]) -> dict[int, tuple[bytes, str | None]]:
    """The start of some messages' bytes, as much as a snippet reads, and their text recipes.
    A message whose stored bytes are damaged is shown without a snippet, and logged."""
    damaged: list[DamagedError] = []
    found = store.raws(ids, MAX_RAW, damaged)
    for error in damaged:
        print(f"mailarchive: search: {trouble(error, store.folder)}", file=sys.stderr)
    return found


def _snippet(data: bytes, recipe: str | None, words: list[tuple[str, bool]], hide: bool
             ) -> Pieces:
    """Prefer the author's own words; fall back to the quoted text where only it matches. The
    author's text is made first only where a word stands in one of its lines: most hits of a
    rare word are in quoted text."""
    texts = [signed((text if kind == "text" else html_text(text[:4 * MAX_TEXT]))[:MAX_TEXT])
             for kind, text in text_parts(data, recipe)]
    clean = partial(obfuscate_text, on=hide)
    tokens = tokens_of(words)
    if any(own_lines_hold(text, tokens, fold) for text in texts):
        found = first_snippet(["\n".join(map(own_lines, texts))], words, clean)
        if found is not None:
            return found
    found = first_snippet(["\n".join(map(quoted_lines, texts))], words, clean)
    if found is not None:
        return found
    return opening("\n".join(map(own_lines, texts)), words, clean)

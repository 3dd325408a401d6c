"""The SQLite FTS5 backend: a query tree → one SQL statement over `messages` and `fts`.

FTS-only parts of a query become one MATCH expression (ranked by bm25); list, date, mid and
attachment filters become plain SQL conditions beside it. A tree that mixes the two inside an OR
falls back to `m.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)` per text term. No user text ever
reaches MATCH unquoted: every word is a double-quoted FTS5 string.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mailarchive.search.query import (
    And,
    DateRange,
    HasAttachment,
    ListIs,
    MessageId,
    Node,
    Not,
    Or,
    Phrase,
    Word,
)
from mailarchive.search.text import segment

COLUMNS = {None: None, "from": "sender", "to": "recipients", "cc": "recipients",
           "subject": "subject", "filename": "filenames"}
YEAR = 31_557_600


@dataclass(frozen=True)
class Plan:
    """A compiled query: the MATCH expression (or None) and the SQL conditions beside it."""

    match: str | None
    where: tuple[str, ...]
    params: tuple[object, ...]
    one_phrase: bool = False  # MATCH has one positive phrase: bm25's IDF is the same for all rows
    phrases: tuple[str, ...] = ()  # each phrase of MATCH on its own, numbered as FTS5 numbers them


def _quoted(text: str) -> str:
    return '"' + segment(text).replace('"', '""') + '"'


def _column(field: str | None) -> str:
    column = COLUMNS.get(field)
    return f"{column} : " if column else ""


def match_expression(node: Node) -> str:
    """The FTS5 MATCH text for a tree of Word/Phrase/And/Or/Not (with a positive term)."""
    if isinstance(node, Word):
        return _column(node.field) + _quoted(node.text) + (" *" if node.prefix else "")
    if isinstance(node, Phrase):
        return _column(node.field) + _quoted(" ".join(node.words))
    if isinstance(node, Or):
        return "(" + " OR ".join(match_expression(i) for i in node.items) + ")"
    if isinstance(node, And):
        positive = [match_expression(i) for i in node.items if not isinstance(i, Not)]
        negative = [match_expression(i.item) for i in node.items if isinstance(i, Not)]
        text = "(" + " AND ".join(positive) + ")"
        return "(" + " NOT ".join([text, *negative]) + ")" if negative else text
    if isinstance(node, Not):
        raise ValueError("a negation needs a positive term beside it")
    raise TypeError(f"not a text term: {node!r}")


def phrases(node: Node) -> Iterator[Word | Phrase]:
    """The phrases of a text tree in the order `match_expression` writes them, which is the
    order FTS5 numbers them in (a phrase with no tokens, like `"-"`, keeps its number)."""
    if isinstance(node, Word | Phrase):
        yield node
    elif isinstance(node, Or):
        for item in node.items:
            yield from phrases(item)
    elif isinstance(node, And):
        for item in node.items:
            if not isinstance(item, Not):
                yield from phrases(item)
        for item in node.items:
            if isinstance(item, Not):
                yield from phrases(item.item)


def is_text(node: Node) -> bool:
    """Whether a tree holds only full-text terms (so one MATCH can answer it)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, And | Or):
            stack.extend(item.items)
        elif isinstance(item, Not):
            stack.append(item.item)
        elif not isinstance(item, Word | Phrase):
            return False
    return True


def condition(node: Node, lists: dict[str, int]) -> tuple[str, list[object]]:
    """Any tree as an SQL condition on `m` (text terms as FTS sub-queries)."""
    if isinstance(node, Word | Phrase):
        return "m.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)", [match_expression(node)]
    if isinstance(node, ListIs):
        return "m.list_id = ?", [lists.get(node.name, -1)]
    if isinstance(node, MessageId):
        return "m.message_id = ?", [node.value]
    if isinstance(node, HasAttachment):
        return "m.attachments > 0", []
    if isinstance(node, DateRange):
        return _dates(node)
    if isinstance(node, Not):
        sql, params = condition(node.item, lists)
        return f"NOT ({sql})", params
    joiner = " AND " if isinstance(node, And) else " OR "
    parts = [condition(item, lists) for item in node.items]
    return "(" + joiner.join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]


def _dates(node: DateRange) -> tuple[str, list[object]]:
    sql: list[str] = []
    params: list[object] = []
    if node.start is not None:
        sql.append("m.date >= ?")
        params.append(node.start)
    if node.end is not None:
        sql.append("m.date < ?")
        params.append(node.end)
    return "(" + " AND ".join(sql or ["1"]) + ")", params


def plan(node: Node, lists: dict[str, int]) -> Plan:
    """Split a tree into one ranked MATCH and plain conditions, where its shape allows."""
    items = node.items if isinstance(node, And) else (node,)
    text = [i for i in items if is_text(i) and not isinstance(i, Not)]
    text_negated = [i for i in items if isinstance(i, Not) and is_text(i.item)]
    rest = [i for i in items if i not in text and i not in text_negated]
    if not text:
        rest += text_negated
        text_negated = []
    tree = And((*text, *text_negated))
    match = match_expression(tree) if text else None
    where: list[str] = []
    params: list[object] = []
    for item in rest:
        sql, values = condition(item, lists)
        where.append(sql)
        params.extend(values)
    one_phrase = len(text) == 1 and isinstance(text[0], Word | Phrase)
    each = tuple(match_expression(p) for p in phrases(tree)) if text else ()
    return Plan(match, tuple(where), tuple(params), one_phrase, each)

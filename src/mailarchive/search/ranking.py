"""Relevance in SQLite: bm25's weights, and bm25 without FTS5's IDF pass.

FTS5's bm25 is the sum, over the query's phrases, of IDF(phrase) x a per-row part. FTS5 works
out each phrase's IDF once per statement by walking every match of the phrase in the whole index,
however few rows are then scored: half of a phrase query's time at a million messages. When the
query has one phrase (one word, one quoted phrase, with or without a field, and perhaps negated
terms, which match no instance in a hit), IDF is the same for every row, so the per-row part
alone gives bm25's order: `row_part`, registered on every archive connection, is that part.
(bench/phrase_rank.py checked the same top 20 for 200 of 200 phrase queries at 1M.) A query of
several phrases is ranked by `weighted_rank`, which is bm25 from the number of rows each phrase
matches, counted by the caller (who keeps the counts: queries share their words).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import apsw

# bm25 weights for subject, sender, recipients, body, quoted, filenames: quoted text and
# signatures count, but well below the author's own words.
WEIGHTS = (4.0, 2.0, 1.0, 1.0, 0.25, 1.0)
K1, B = 1.2, 0.75  # FTS5's bm25 constants
ROW_PART = "row_part"
WEIGHTED = "weighted_rank"


def bm25_call(table: str = "fts") -> str:
    return f"bm25({table}, {', '.join(map(str, WEIGHTS))})"


def row_part_call(table: str = "fts") -> str:
    return f"{ROW_PART}({table})"


def weighted_call(hits: Sequence[int], table: str = "fts") -> str:
    """`weighted_rank` given how many rows each phrase of the query matches, in FTS5's order."""
    return f"{WEIGHTED}({', '.join([table, *(str(int(n)) for n in hits)])})"


def _average_length(api: apsw.FTS5ExtensionApi) -> float:
    return float(api.column_total_size(-1)) / max(1, api.row_count)


def _frequency(api: apsw.FTS5ExtensionApi, phrase: int) -> float:
    """The weighted count of a phrase in this row. Only the columns that hold the phrase: lists
    of offsets for all six made a common word's ranking at a million messages take a fifth
    longer (3.2 against 2.6 ms)."""
    freq = 0.0
    for column in api.phrase_columns(phrase):
        hits = len(api.phrase_column_offsets(phrase, column))
        freq += WEIGHTS[column] * hits if column < len(WEIGHTS) else hits
    return freq


def row_part(api: apsw.FTS5ExtensionApi, *_args: Any) -> float:
    """bm25 of the query's first phrase without its IDF factor: the weighted count of the
    phrase in this row, saturated, against the row's length and the average (as fts5_aux.c)."""
    average: float | None = api.aux_data
    if average is None:
        average = api.aux_data = _average_length(api)
    freq = _frequency(api, 0)
    length = float(api.column_size(-1))
    return -(freq * (K1 + 1.0) / (freq + K1 * (1.0 - B + B * length / average)))


def idf(rows: int, hits: int) -> float:
    """A phrase's IDF as fts5_aux.c works it out (never zero or below)."""
    value = math.log((rows - hits + 0.5) / (hits + 0.5))
    return value if value > 0.0 else 1e-6


def weighted_rank(api: apsw.FTS5ExtensionApi, *hits: Any) -> float:
    """bm25 of this row, from `hits`: how many rows each phrase matches. Without them (or with
    a number of them that is not the query's number of phrases) it counts them as bm25 does."""
    state: tuple[float, list[float]] | None = api.aux_data
    if state is None:
        if len(hits) != api.phrase_count:
            hits = tuple(_rows_of_phrase(api, phrase) for phrase in range(api.phrase_count))
        state = api.aux_data = (_average_length(api),
                                [idf(api.row_count, int(n)) for n in hits])
    average, idfs = state
    saturation = K1 * (1.0 - B + B * float(api.column_size(-1)) / average)
    score = 0.0
    for phrase, weight in enumerate(idfs):
        freq = _frequency(api, phrase)
        score += weight * (freq * (K1 + 1.0) / (freq + saturation))
    return -score


def _rows_of_phrase(api: apsw.FTS5ExtensionApi, phrase: int) -> int:
    """How many rows match the query's phrase number `phrase`, counted inside a statement
    (where no kept count was given)."""
    found = [0]

    def count(_api: apsw.FTS5ExtensionApi, _closure: Any) -> None:
        found[0] += 1

    api.query_phrase(phrase, count, None)
    return found[0]


def register(db: apsw.Connection) -> None:
    db.register_fts5_function(ROW_PART, row_part)
    db.register_fts5_function(WEIGHTED, weighted_rank)

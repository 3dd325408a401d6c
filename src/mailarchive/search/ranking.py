"""Relevance in SQLite: bm25's weights, and bm25 without its IDF pass for one-phrase queries.

FTS5's bm25 is the sum, over the query's phrases, of IDF(phrase) x a per-row part. FTS5 works
out each phrase's IDF once per statement by walking every match of the phrase in the whole index,
however few rows are then scored: half of a phrase query's time at a million messages. When the
query has one phrase (one word, one quoted phrase, with or without a field, and perhaps negated
terms, which match no instance in a hit), IDF is the same for every row, so the per-row part
alone gives bm25's order: `row_part`, registered on every archive connection, is that part.
(bench/phrase_rank.py checked the same top 20 for 200 of 200 phrase queries at 1M.)
"""

from __future__ import annotations

from typing import Any

import apsw

# bm25 weights for subject, sender, recipients, body, quoted, filenames: quoted text and
# signatures count, but well below the author's own words.
WEIGHTS = (4.0, 2.0, 1.0, 1.0, 0.25, 1.0)
K1, B = 1.2, 0.75  # FTS5's bm25 constants
ROW_PART = "row_part"


def bm25_call(table: str = "fts") -> str:
    return f"bm25({table}, {', '.join(map(str, WEIGHTS))})"


def row_part_call(table: str = "fts") -> str:
    return f"{ROW_PART}({table})"


def row_part(api: apsw.FTS5ExtensionApi, *_args: Any) -> float:
    """bm25 of the query's first phrase without its IDF factor: the weighted count of the
    phrase in this row, saturated, against the row's length and the average (as fts5_aux.c)."""
    average: float | None = api.aux_data
    if average is None:
        average = api.aux_data = api.column_total_size(-1) / max(1, api.row_count)
    freq = 0.0
    # only the columns that hold the phrase: lists of offsets for all six made a common word's
    # ranking at a million messages take a fifth longer (3.2 against 2.6 ms)
    for column in api.phrase_columns(0):
        hits = len(api.phrase_column_offsets(0, column))
        freq += WEIGHTS[column] * hits if column < len(WEIGHTS) else hits
    length = float(api.column_size(-1))
    return -(freq * (K1 + 1.0) / (freq + K1 * (1.0 - B + B * length / average)))


def register(db: apsw.Connection) -> None:
    db.register_fts5_function(ROW_PART, row_part)

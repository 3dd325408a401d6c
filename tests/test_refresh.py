"""refresh: what was derived from the stored bytes is made again by this version's parser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mailarchive.parse
from mailarchive.ingest import ingest
from mailarchive.refresh import refresh
from mailarchive.search.service import search
from mailarchive.store import Store
from test_ingest import THREAD, raws, threads

UNDATED = b"From: Ann <ann@example.org>\nSubject: no date at all\nMessage-ID: <u@x>\n\nHi\n"


def archive_by_an_older_parser(folder: Path, monkeypatch: pytest.MonkeyPatch,
                               undated: bool = True) -> Store:
    """An archive whose subjects and senders an older parser read differently: every header
    text it decoded ends in a word this version does not write."""
    decode = mailarchive.parse.header_text
    with monkeypatch.context() as patch:
        patch.setattr(mailarchive.parse, "header_text",
                      lambda value, hints=(): f"{decode(value, hints)} zzstale")
        store = Store(folder)
        mlist = store.ensure_list("salon", subject_prefix="[Salon]")
        ingest(store, mlist, raws(*THREAD, *([UNDATED] if undated else [])))
    return store


def hits(store: Store, query: str) -> int:
    return search(store, query).total


def test_refresh_remakes_details_and_search_but_keeps_numbers_and_threads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = archive_by_an_older_parser(tmp_path / "a", monkeypatch)
    mlist = store.get_list("salon")
    assert mlist is not None
    assert store.remove(mlist, 5, "asked by its author")
    before = {row.num: row for row in store.iter_messages(mlist)}
    undated = next(row for row in before.values() if row.message_id == "u@x")
    assert undated.date_source == "import" and hits(store, "zzstale") == 6
    grouped = threads(store, "salon")

    summary = refresh(store)

    assert (summary.messages, summary.changed) == (6, 6)  # message 5 is a tombstone: no bytes
    after = {row.num: row for row in store.iter_messages(mlist)}
    assert after.keys() == before.keys() and threads(store, "salon") == grouped
    assert not any("zzstale" in row.subject + row.from_name for row in after.values())
    now = mailarchive.parse.parse(THREAD[1])
    assert (after[2].subject, after[2].from_name) == ("Re: Books", now.from_name)
    assert after[undated.num].date == undated.date  # dated by its import: it keeps that date
    assert hits(store, "zzstale") == 0 and hits(store, "subject:books") == 4
    assert hits(store, "subject:topic") == 1  # of two: message 5 was removed
    assert store.tombstone(mlist, 5) == "asked by its author"
    assert refresh(store).changed == 0


def test_refresh_in_worker_processes_gives_the_same_archive(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serial = archive_by_an_older_parser(tmp_path / "serial", monkeypatch, undated=False)
    pooled = archive_by_an_older_parser(tmp_path / "pooled", monkeypatch, undated=False)
    refresh(serial)
    refresh(pooled, workers=2)
    rows = [sorted(map(repr, s.iter_messages(s.lists()[0]))) for s in (serial, pooled)]
    assert rows[0] == rows[1] and hits(pooled, "zzstale") == 0 and hits(pooled, "books") == 4


def test_refresh_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive_by_an_older_parser(tmp_path / "a", monkeypatch).close()
    done = subprocess.run([sys.executable, "-m", "mailarchive", "refresh", "--archive",
                           str(tmp_path / "a")], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("7 messages read again, 7 with changed details")
    stats = subprocess.run([sys.executable, "-m", "mailarchive", "search", "zzstale", "--json",
                            "--archive", str(tmp_path / "a")], capture_output=True, text=True,
                           check=False)
    assert json.loads(stats.stdout)["total"] == 0
    missing = subprocess.run([sys.executable, "-m", "mailarchive", "refresh", "--archive",
                              str(tmp_path / "nothing")], capture_output=True, text=True,
                             check=False)
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1


def test_refresh_reads_a_long_list_a_chunk_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mailarchive.refresh

    store = archive_by_an_older_parser(tmp_path / "a", monkeypatch)
    mlist = store.get_list("salon")
    assert mlist is not None
    assert store.remove(mlist, 3, "asked by its author")  # a gap inside a chunk
    monkeypatch.setattr(mailarchive.refresh, "CHUNK", 2)
    summary = refresh(store, workers=2)
    assert (summary.messages, summary.changed) == (6, 6) and hits(store, "zzstale") == 0
    assert [row.num for row in store.kept(mlist, 2, 2)] == [4, 5]

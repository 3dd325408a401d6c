"""Store + ingest: idempotency, numbering, incremental threading in any arrival order."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store


def mail(mid: str | None, subject: str, refs: str = "", day: int = 1, body: str = "Hi\n") -> bytes:
    lines = [f"From: Person {subject} <p@example.org>", f"Subject: {subject}",
             f"Date: Mon, {day:02d} Jun 2025 10:00:00 +0000"]
    if mid:
        lines.append(f"Message-ID: <{mid}>")
    if refs:
        lines.append(f"References: {refs}")
    return ("\n".join(lines) + "\n\n" + body).encode()


def raws(*messages: bytes) -> list[RawMessage]:
    return [RawMessage(m, f"test:{i}") for i, m in enumerate(messages)]


def threads(store: Store, name: str) -> set[frozenset[str]]:
    mlist = store.get_list(name)
    assert mlist is not None
    groups: dict[int, set[str]] = {}
    for row in store.iter_messages(mlist):
        groups.setdefault(row.thread, set()).add(row.message_id)
    return {frozenset(g) for g in groups.values()}


THREAD = [
    mail("a@x", "[Salon] Books", day=1),
    mail("b@x", "Re: [Salon] Books", "<a@x>", day=2),
    mail("c@x", "Re: [Salon] Books", "<a@x> <b@x>", day=3),
    mail("d@x", "Re: [Salon] Books", "<a@x> <ghost@x> <d0@x>", day=4),
    mail("e@x", "Other topic", day=5),
    mail("f@x", "Re: [Salon] Other topic", day=6),  # no References: joined by subject
]
EXPECTED = {frozenset({"a@x", "b@x", "c@x", "d@x"}), frozenset({"e@x", "f@x"})}


def test_threads_are_the_same_in_every_arrival_order(tmp_path: Path) -> None:
    for i, perm in enumerate(itertools.islice(itertools.permutations(range(5)), 0, 120, 7)):
        store = Store(tmp_path / f"a{i}")
        mlist = store.ensure_list("salon", subject_prefix="[Salon]")
        ingest(store, mlist, raws(*(THREAD[j] for j in perm), THREAD[5]))
        assert threads(store, "salon") == EXPECTED, perm


def test_import_is_idempotent_and_numbers_are_stable(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("salon", subject_prefix="[Salon]")
    first = ingest(store, mlist, raws(*THREAD[:3]))
    assert (first.read, first.added, first.present) == (3, 3, 0)
    again = ingest(store, mlist, raws(*THREAD))
    assert (again.read, again.added, again.present) == (6, 3, 3)
    nums = {row.message_id: row.num for row in store.iter_messages(mlist)}
    assert nums == {"a@x": 1, "b@x": 2, "c@x": 3, "d@x": 4, "e@x": 5, "f@x": 6}
    row = store.message(mlist, 2)
    assert row is not None and row.subject == "Re: Books"
    assert store.raw(row) == THREAD[1]


def test_duplicate_message_id_with_other_content_is_kept(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    summary = ingest(store, mlist, raws(mail("a@x", "one"), mail("a@x", "one", body="Other\n")))
    assert summary.added == 2
    assert [r.num for r in store.by_message_id("a@x")] == [1, 2]


def test_parallel_ingest_matches_serial(tmp_path: Path) -> None:
    messages = [mail(f"m{i}@x", f"s{i % 7}", f"<m{i // 2}@x>" if i else "", day=1 + i % 28)
                for i in range(300)]
    serial, parallel = Store(tmp_path / "s"), Store(tmp_path / "p")
    ingest(serial, serial.ensure_list("l"), raws(*messages))
    ingest(parallel, parallel.ensure_list("l"), raws(*messages), workers=2)
    assert threads(serial, "l") == threads(parallel, "l")
    assert len(threads(serial, "l")) == 1


def test_missing_message_id_reimports_as_same_message(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    anonymous = mail(None, "no id")
    ingest(store, mlist, raws(anonymous))
    assert ingest(store, mlist, raws(anonymous)).present == 1
    row = store.message(mlist, 1)
    assert row is not None and row.synthetic_id


def test_compression_dictionary_is_trained_once_and_round_trips(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    first = [mail(f"d{i}@x", f"subject {i}", day=1 + i % 28) for i in range(250)]
    ingest(store, mlist, raws(*first), workers=2)
    zdict = store.dictionary()
    assert zdict is not None and b"Subject: subject" in zdict
    later = [mail(f"e{i}@x", f"later {i}") for i in range(3)]
    ingest(store, mlist, raws(*later))
    assert store.dictionary() == zdict
    stored = {row.message_id: data for row, data in store.iter_raw(mlist)}
    assert [stored[f"d{i}@x"] for i in range(250)] == first
    assert [stored[f"e{i}@x"] for i in range(3)] == later
    small = Store(tmp_path / "b")
    ingest(small, small.ensure_list("l"), raws(*later))
    assert small.dictionary() is None


def test_repeats_across_chunk_boundaries_are_stored_once(tmp_path: Path, monkeypatch) -> None:
    import mailarchive.ingest as ingest_module

    monkeypatch.setattr(ingest_module, "CHUNK", 3)
    distinct = [mail(f"m{i}@x", f"Subject {i}", day=1 + i % 28) for i in range(10)]
    # each message again one, two and five chunks later, and twice within its own chunk
    stream = [distinct[i % 10] for i in (0, 0, 1, 2, 3, 0, 4, 1, 5, 6, 2, 7, 8, 9, 3, 9, 0)]
    for workers in (0, 2):
        store = Store(tmp_path / f"w{workers}")
        summary = ingest(store, store.ensure_list("t"), raws(*stream), workers=workers)
        assert (summary.read, summary.added, summary.present) == (17, 10, 7)
        mlist = store.get_list("t")
        assert mlist is not None
        assert sorted(r.message_id for r in store.iter_messages(mlist)) == sorted(
            f"m{i}@x" for i in range(10))


def test_present_finds_stored_digests_across_its_batches(tmp_path: Path) -> None:
    import hashlib

    store = Store(tmp_path / "a")
    mlist = store.ensure_list("salon", subject_prefix="[Salon]")
    other = store.ensure_list("other")
    ingest(store, mlist, raws(*THREAD[:3]))
    stored = [hashlib.sha256(m).digest() for m in THREAD[:3]]
    absent = [hashlib.sha256(b"%d" % i).digest() for i in range(1200)]
    asked = absent[:499] + stored[:1] + absent[499:999] + stored[1:] + absent[999:]
    assert store.present(mlist, asked) == set(stored)
    assert store.present(other, asked) == set()
    assert store.present(mlist, []) == set()


def test_a_chunk_skips_what_was_stored_after_it_was_deduplicated(tmp_path: Path) -> None:
    """A live delivery may store a message between a chunk's deduplication and its store."""
    from mailarchive.ingest import Summary, prepare, store_all

    store = Store(tmp_path / "a")
    mlist = store.ensure_list("salon", subject_prefix="[Salon]")
    records = [prepare(raw, "[Salon]") for raw in raws(*THREAD[:3])]
    first, again = Summary(), Summary()
    store_all(store, mlist, records[1:2], first)  # delivered meanwhile
    store_all(store, mlist, records, again)
    assert (first.added, again.added, again.present) == (1, 2, 1)
    assert sorted(r.message_id for r in store.iter_messages(mlist)) == ["a@x", "b@x", "c@x"]


def test_a_worker_keeps_one_copy_of_the_dictionary_its_jobs_bring() -> None:
    """Each job unpickles its own copy; the packer is found by the dictionary, so every equal
    copy must come back as the first (identity, not a comparison of 110 KB a message)."""
    from mailarchive import ingest

    first, again, other = b"\x37\xa4\x30\xec" + bytes(1000), bytearray(4 + 1000), b"x" * 1004
    again[:4] = b"\x37\xa4\x30\xec"
    assert ingest._one_copy(first) is first
    assert ingest._one_copy(bytes(again)) is first
    assert ingest._one_copy(None) is None
    assert ingest._one_copy(other) is other  # a new dictionary replaces the old
    assert ingest._one_copy(first) is first


def test_series_that_name_the_id_y_stay_apart(tmp_path: Path) -> None:
    """`In-Reply-To: <y>` (an answer typed at git send-email's prompt) on two unrelated patch
    series must not join them through a missing message "y"."""
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    first = mail("1@x", "[PATCH] one", "<y>", day=1)
    second = mail("2@x", "[PATCH] two", "<y>", day=2)
    ingest(store, mlist, raws(first, second))
    assert threads(store, "l") == {frozenset({"1@x"}), frozenset({"2@x"})}


def _mbox(path: Path, messages: list[bytes]) -> None:
    from mailarchive.sources.mbox import quote_mboxrd

    path.write_bytes(b"".join(b"From p@example.org Mon Jun  2 10:00:00 2025\n" + quote_mboxrd(m)
                              + b"\n" for m in messages))


def test_spans_read_by_the_workers_archive_what_reading_here_archives(
        tmp_path: Path, monkeypatch) -> None:
    """A plain mbox file given as spans (its parsing processes read and deduplicate them) ends as
    the same archive, numbers included, as the file read by the storing process; repeats within
    a span and across spans are stored once, and a second import finds every message there.
    Only the first batch is read by the storing process (the dictionary learns from it)."""
    import mailarchive.ingest as ingest_module
    from mailarchive import sources

    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 110_000)  # a first batch of 250 or so
    read_here: list[int] = []
    monkeypatch.setattr(ingest_module, "_read_here", lambda spans: read_here.append(
        len(spans)) or [raw for span in spans for raw in sources.read_items(span)])

    distinct = [mail(f"m{i}@x", f"Subject {i}", f"<m{i // 3}@x>" if i else "", day=1 + i % 28,
                     body="word " * (i % 50) + "\n") for i in range(300)]
    stream = distinct + distinct[:40] + [distinct[7]] * 3 + distinct[250:]
    path = tmp_path / "list.mbox"
    _mbox(path, stream)
    expected: list[tuple[int, str, int]] | None = None
    for name, workers, size in (("read", 0, 0), ("here", 0, 2000), ("pool", 2, 2000),
                                ("tiny", 2, 1)):
        store = Store(tmp_path / name)
        mlist = store.ensure_list("l")
        items = (sources.read(str(path)) if not size
                 else list(sources.items(str(path), size=size)))
        summary = ingest(store, mlist, items, workers=workers)
        assert (summary.read, summary.added, summary.present) == (393, 300, 93), name
        assert len(read_here) == (1 if size else 0), name  # the rest went as spans
        read_here.clear()
        rows = [(r.num, r.message_id, r.thread) for r in store.iter_messages(mlist)]
        expected = expected or rows
        assert rows == expected, name
        again = ingest(store, mlist, sources.items(str(path), size=size or 2000), workers=workers)
        assert (again.read, again.added, again.present) == (393, 0, 393), name


def test_a_span_that_cannot_be_read_is_one_clear_error(tmp_path: Path) -> None:
    import pytest

    from mailarchive import sources

    path = tmp_path / "list.mbox"
    _mbox(path, [mail(f"m{i}@x", f"Subject {i}") for i in range(300)])
    items = list(sources.items(str(path), size=5000))
    path.unlink()
    store = Store(tmp_path / "a")
    for workers in (0, 2):
        with pytest.raises(sources.SourceError, match=f"{path}: cannot read it"):
            ingest(store, store.ensure_list("l"), items, workers=workers)


def test_maildir_files_read_by_the_workers_archive_what_reading_here_archives(
        tmp_path: Path, monkeypatch) -> None:
    """A maildir given as groups of files (its parsing processes read them) ends as the same
    archive, numbers included, as the maildir read by the storing process, in name order."""
    import mailarchive.ingest as ingest_module
    import mailarchive.sources.maildir as maildir_module
    from mailarchive import sources
    from mailarchive.model import Files

    monkeypatch.setattr(ingest_module, "CHUNK_BYTES", 110_000)
    monkeypatch.setattr(maildir_module, "GROUP", 7)
    folder = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    distinct = [mail(f"m{i}@x", f"Subject {i}", f"<m{i // 3}@x>" if i else "", day=1 + i % 28,
                     body="word " * (i % 50) + "\n") for i in range(300)]
    for i, data in enumerate(distinct + distinct[:30]):
        sub = "new" if i % 5 == 0 else "cur"
        (folder / sub / f"{1000 + (i * 7919) % 997}.{i}:2,S").write_bytes(data)
    (folder / "cur" / ".hidden").write_bytes(b"not mail")
    assert all(isinstance(item, Files) for item in sources.items(str(folder)))
    expected: list[tuple[int, str, int]] | None = None
    for name, workers, located in (("read", 0, False), ("here", 0, True), ("pool", 2, True)):
        store = Store(tmp_path / name)
        mlist = store.ensure_list("l")
        items = sources.items(str(folder)) if located else sources.read(str(folder))
        summary = ingest(store, mlist, items, workers=workers)
        assert (summary.read, summary.added, summary.present) == (330, 300, 30), name
        rows = [(r.num, r.message_id, r.thread) for r in store.iter_messages(mlist)]
        expected = expected or rows
        assert rows == expected, name
    missing = list(sources.items(str(folder)))
    (folder / "new" / sorted(p.name for p in (folder / "new").iterdir())[-1]).unlink()
    store = Store(tmp_path / "gone")
    import pytest

    with pytest.raises(sources.SourceError, match="md/new/.*: cannot read it"):
        ingest(store, store.ensure_list("l"), missing, workers=2)


def test_what_was_read_before_a_source_fails_is_stored(tmp_path: Path, monkeypatch) -> None:
    """A source that fails half-way (a truncated or unreadable file) stops the import with its
    error, once every message read before it is stored, also those the workers had in hand."""
    import pytest

    import mailarchive.ingest as ingest_module
    from mailarchive import sources

    monkeypatch.setattr(ingest_module, "CHUNK", 10)

    def failing() -> Iterator[RawMessage]:
        yield from raws(*(mail(f"m{i}@x", f"Subject {i}") for i in range(45)))
        raise sources.SourceError("list.mbox.xz: the compressed file is truncated")

    for workers in (0, 2):
        store = Store(tmp_path / f"w{workers}")
        mlist = store.ensure_list("l")
        with pytest.raises(sources.SourceError, match="truncated"):
            ingest(store, mlist, failing(), workers=workers)
        assert [r.message_id for r in store.iter_messages(mlist)] == [
            f"m{i}@x" for i in range(45)]


def test_a_message_in_two_spans_of_one_batch_is_stored_once(tmp_path: Path) -> None:
    """Each span is deduplicated by the process that reads it, apart from the others: a message
    that two spans of one batch both hold reaches the storing process twice, which stores it
    once (it failed on the archive's unique digest)."""
    from mailarchive import sources

    messages = [mail(f"m{i}@x", f"Subject {i}", body="x " * 30 + "\n") for i in range(100)]
    _mbox(tmp_path / "twice.mbox", messages + messages)
    for workers in (0, 2):
        store = Store(tmp_path / f"w{workers}")
        mlist = store.ensure_list("l")
        ingest(store, mlist, raws(*(mail(f"t{i}@x", f"Train {i}") for i in range(250))))
        assert store.dictionary() is not None  # so every span goes to the parsing processes
        items = list(sources.items(str(tmp_path / "twice.mbox"), size=2000))
        assert len(items) > 10
        summary = ingest(store, mlist, items, workers=workers)
        assert (summary.read, summary.added, summary.present) == (200, 100, 100)
        numbers = {r.message_id: r.num for r in store.iter_messages(mlist)}
        assert [numbers[f"m{i}@x"] for i in range(100)] == list(range(251, 351))


def test_a_span_read_here_that_fails_keeps_the_batches_before_it(tmp_path: Path) -> None:
    """Until the archive has a dictionary, spans are read by the storing process; one that
    cannot be read is a failing source too: the batches before it are stored."""
    import pytest

    from mailarchive import sources

    path = tmp_path / "list.mbox"
    _mbox(path, [mail(f"m{i}@x", f"Subject {i}") for i in range(300)])
    spans = list(sources.items(str(path), size=5000))
    path.unlink()
    first = raws(*(mail(f"f{i}@x", f"First {i}") for i in range(20)))  # too few for a dictionary
    for workers in (0, 2):
        store = Store(tmp_path / f"w{workers}")
        mlist = store.ensure_list("l")
        with pytest.raises(sources.SourceError, match="cannot read it"):
            ingest(store, mlist, [*first, *spans], workers=workers)
        assert store.dictionary() is None
        assert [r.message_id for r in store.iter_messages(mlist)] == [f"f{i}@x" for i in range(20)]

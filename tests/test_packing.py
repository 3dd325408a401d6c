"""Packing of original bytes: Zstandard for new mail, zlib read back from older archives."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailarchive import packing
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store


def mail(n: int) -> bytes:
    return (f"From: Writer {n % 7} <w{n % 7}@example.org>\nTo: list@example.org\n"
            f"Subject: topic {n % 13}\nMessage-ID: <p{n}@example.org>\n"
            f"Date: Mon, {1 + n % 28} Sep 2001 10:00:00 +0000\n\n"
            f"Body {n} with words that repeat, and some that do not: {n * 7919}.\n").encode()


SAMPLES = [mail(n) for n in range(400)]
ZSTD_DICT = packing.train(SAMPLES)
ZLIB_DICT = b"".join(m.split(b"\n\n")[0] for m in SAMPLES)[-32768:]  # as older archives had


@given(st.binary(max_size=5000))
def test_any_bytes_come_back_exactly(data: bytes) -> None:
    assert ZSTD_DICT is not None
    for zdict in (None, ZSTD_DICT):
        packed = packing.pack(data, zdict)
        assert packed[:4] == packing.ZSTD_MAGIC
        wanted = packing.dictionary_wanted(packed)
        assert wanted == (packing.dictionary_id(zdict) if zdict else None)
        assert packing.unpack(packed, zdict) == data


@given(st.binary(max_size=5000), st.integers(1, 6000))
def test_the_first_bytes_alone_come_back(data: bytes, limit: int) -> None:
    """A snippet reads at most the first `limit` bytes of a message: exactly those."""
    for zdict in (None, ZSTD_DICT, ZLIB_DICT):
        packed = packing.pack(data, zdict)
        assert packing.unpack(packed, zdict, limit) == data[:limit]


def test_a_cut_off_message_is_an_error_not_a_shorter_message() -> None:
    for zdict in (None, ZSTD_DICT, ZLIB_DICT):
        packed = packing.pack(mail(3) * 20, zdict)
        with pytest.raises(packing.Unreadable):
            packing.unpack(packed[:-5], zdict)
        damaged = packed[:len(packed) // 2] + b"\xff" * 8 + packed[len(packed) // 2 + 8:]
        with pytest.raises(packing.Unreadable):
            packing.unpack(damaged, zdict)


def test_a_byte_changed_in_a_packed_message_never_reads_as_other_bytes() -> None:
    """Each frame carries a checksum of its content: a byte a disk changed fails to read (or,
    where the bit changed does not matter, reads as the same bytes), never as other bytes."""
    assert ZSTD_DICT is not None
    for zdict in (None, ZSTD_DICT):
        data = mail(11) * 3
        packed = packing.pack(data, zdict)
        failed = 0
        for at in range(4, len(packed)):  # all but the magic number, which names the format
            changed = packed[:at] + bytes([packed[at] ^ 0x20]) + packed[at + 1:]
            try:
                assert packing.unpack(changed, zdict) == data, at
            except packing.Unreadable:
                failed += 1
        assert failed >= len(packed) - 6, (failed, len(packed))


def test_a_trained_dictionary_makes_small_mail_smaller() -> None:
    assert ZSTD_DICT is not None and packing.is_zstd_dictionary(ZSTD_DICT)
    message = mail(1000)
    assert len(packing.pack(message, ZSTD_DICT)) < 0.7 * len(packing.pack(message))
    assert packing.train(SAMPLES[:10]) is None  # too few to learn from


def test_zlib_streams_of_older_archives_are_still_read() -> None:
    zdict = ZLIB_DICT
    message = mail(5)
    plain = zlib.compress(message, 9)
    primed = zlib.compressobj(4, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    with_dict = primed.compress(message) + primed.flush()
    assert packing.dictionary_wanted(plain) is None
    assert packing.dictionary_wanted(with_dict) == zlib.adler32(zdict)
    assert packing.unpack(plain) == message
    assert packing.unpack(with_dict, zdict) == message
    assert packing.pack(message, zdict)[:1] == b"\x78"  # an old archive's dictionary: zlib


def raws(*messages: bytes) -> list[RawMessage]:
    return [RawMessage(m, f"test:{i}") for i, m in enumerate(messages)]


def test_an_archive_with_an_old_zlib_dictionary_keeps_working(tmp_path: Path) -> None:
    """An archive made before Zstandard: its zlib dictionary stays, old and new mail read back."""
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    zdict = b"".join(m.split(b"\n\n")[0] for m in SAMPLES)[-32768:]
    store.save_dictionary(zdict)
    ingest(store, mlist, raws(*SAMPLES[:300]))
    assert store.dictionary() == zdict
    stored = [data for _, data in store.iter_raw(mlist)]
    assert stored == SAMPLES[:300]
    blobs = [bytes(b) for (b,) in store.db.execute("SELECT data FROM raw")]
    assert all(packing.dictionary_wanted(b) == zlib.adler32(zdict) for b in blobs)


def test_a_new_archive_packs_with_zstandard_and_its_own_dictionary(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")
    ingest(store, mlist, raws(*SAMPLES))
    zdict = store.dictionary()
    assert zdict is not None and packing.is_zstd_dictionary(zdict)
    blobs = [bytes(b) for (b,) in store.db.execute("SELECT data FROM raw")]
    assert {packing.dictionary_wanted(b) for b in blobs} == {packing.dictionary_id(zdict)}
    reopened = Store(tmp_path / "a", create=False)
    assert [data for _, data in reopened.iter_raw(mlist)] == SAMPLES


def test_a_frame_that_does_not_say_its_size_is_read_whole_or_in_part() -> None:
    """Frames written in pieces do not carry their size: they are read all the same."""
    data = mail(7) * 50
    for zdict in (None, ZSTD_DICT):
        assert zdict is None or ZSTD_DICT is not None
        writer = packing.zstd().ZstdCompressor(
            zstd_dict=packing.zstd().ZstdDict(zdict) if zdict else None)
        frame = writer.compress(data[:100]) + writer.compress(data[100:]) + writer.flush()
        assert packing.zstd().get_frame_info(frame).decompressed_size is None
        assert packing.unpack(frame, zdict) == data
        assert packing.unpack(frame, zdict, 500) == data[:500]
        with pytest.raises(packing.Unreadable):
            packing.unpack(frame[:-5], zdict)


def test_threads_reading_at_once_each_get_their_own_message() -> None:
    """The server reads messages from several threads; each thread has its own decompressor."""
    from concurrent.futures import ThreadPoolExecutor

    assert ZSTD_DICT is not None
    messages = [mail(n) * (1 + n % 40) for n in range(400)]
    packed = [packing.pack(m, ZSTD_DICT) for m in messages]

    def read(n: int) -> bool:
        return all(packing.unpack(packed[k], ZSTD_DICT) == messages[k]
                   for k in range(n % 7, len(packed), 7))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(read, range(56)))

"""Sources: mbox quoting, compression, maildir, folders, exact bytes."""

from __future__ import annotations

import gzip
import io
import lzma
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailarchive import sources
from mailarchive.sources.mbox import quote_mboxrd, read_mbox

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("MAILARCHIVE_CORPORA", ROOT.parent / "shared" / "corpora"))
ONE = b"From: a@example.org\nSubject: one\n\nFrom the start\n>From quoted\n>>From twice\n"
TWO = b"From: b@example.org\nSubject: two\n\nplain\n"


def mboxrd(*messages: bytes) -> bytes:
    return b"".join(b"From a@example.org Mon Jan  6 10:00:00 2025\n" + quote_mboxrd(m) + b"\n"
                    for m in messages)


def test_mboxrd_round_trip_is_exact() -> None:
    data = mboxrd(ONE, TWO)
    assert b"\n>From the start\n>>From quoted\n>>>From twice\n" in data
    got = list(read_mbox(io.BytesIO(data), "x"))
    assert [m.data for m in got] == [ONE, TWO]
    assert got[0].envelope == "a@example.org Mon Jan  6 10:00:00 2025"


def test_mboxo_unquotes_only_one_level() -> None:
    data = b"From x Mon Jan  6 10:00:00 2025\nSubject: s\n\n>From a\n>>From b\n"
    got = list(read_mbox(io.BytesIO(data), "x", "mboxo"))
    assert got[0].data == b"Subject: s\n\nFrom a\n>>From b\n"


def test_from_line_inside_paragraph_does_not_split() -> None:
    data = b"From x Mon Jan  6 10:00:00 2025\nSubject: s\n\nline\nFrom here on\n"
    assert len(list(read_mbox(io.BytesIO(data), "x"))) == 1


@pytest.mark.parametrize("suffix,compress", [(".mbox", bytes), (".mbox.gz", gzip.compress),
                                             (".mbox.xz", lzma.compress)])
def test_compressed_mbox_files(tmp_path: Path, suffix: str, compress: object) -> None:
    path = tmp_path / f"list{suffix}"
    path.write_bytes(compress(mboxrd(ONE, TWO)))  # type: ignore[operator]
    assert [m.data for m in sources.read(str(path))] == [ONE, TWO]


def test_maildir_and_eml_folder(tmp_path: Path) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    (tmp_path / "md" / "cur" / "1:2,S").write_bytes(ONE)
    (tmp_path / "md" / "new" / "2").write_bytes(TWO)
    assert [m.data for m in sources.read(str(tmp_path / "md"))] == [ONE, TWO]
    (tmp_path / "eml" / "deep").mkdir(parents=True)
    (tmp_path / "eml" / "a.eml").write_bytes(ONE)
    (tmp_path / "eml" / "deep" / "b.eml").write_bytes(TWO)
    assert sorted(m.data for m in sources.read(str(tmp_path / "eml"))) == sorted([ONE, TWO])


def test_missing_source_is_one_clear_error() -> None:
    with pytest.raises(sources.SourceError, match="no such file or folder"):
        sources.check("/nonexistent/list.mbox")


def test_chunk_boundaries_and_crlf(monkeypatch: pytest.MonkeyPatch) -> None:
    import mailarchive.sources.mbox as mbox

    messages = [f"Subject: {i}\n\n{'x' * (i * 7)}\nFrom inside\n".encode() for i in range(60)]
    data = mboxrd(*messages)
    for size in (1, 5, 13, 64, 1000):
        monkeypatch.setattr(mbox, "CHUNK", size)
        assert [m.data for m in read_mbox(io.BytesIO(data), "x")] == messages
    crlf = (b"From a Mon Jan  6 10:00:00 2025\r\nS: 1\r\n\r\nbody\r\n\r\n"
            b"From b Mon Jan  6 1\r\nS: 2\r\n")
    got = [m.data for m in read_mbox(io.BytesIO(crlf), "x")]
    assert got == [b"S: 1\r\n\r\nbody\r\n", b"S: 2\r\n"]


def _by_spans(path: Path, size: int, quoting: str = "mboxrd") -> list[object]:
    from mailarchive.sources.mbox import read_span, spans

    found = list(spans(str(path), quoting, size))
    assert [s.start for s in found[1:]] == [s.end for s in found[:-1]]  # no gap, no overlap
    return [raw for span in found for raw in read_span(span)]


@pytest.mark.parametrize("look", [9, 12, 1 << 16])
def test_spans_read_what_the_whole_file_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              look: int) -> None:
    """A bulk import's parsing processes read plain mbox files in spans: cut anywhere, the spans
    give the same messages (bytes, envelopes and origins) as reading the file from the start.
    (`look`: how far the search for a message's start reads at a time.)"""
    import mailarchive.sources.mbox as mbox

    monkeypatch.setattr(mbox, "_LOOK", look)
    messages = [f"Subject: {i}\n\n{'x' * (i * 37)}\nFrom inside\n\n>From quoted\n".encode()
                for i in range(40)]
    crlf = (b"From a Mon Jan  6 10:00:00 2025\r\nS: 1\r\n\r\nbody\r\n\r\n"
            b"From b Mon Jan  6 1\r\nS: 2\r\n\r\nFrom c Mon Jan  6 1\r\nS: 3\r\n\r\n")
    for name, data in (("rd", mboxrd(*messages)), ("crlf", crlf),
                       ("unended", mboxrd(*messages)[:-2])):
        path = tmp_path / f"{name}.mbox"
        path.write_bytes(data)
        whole = list(read_mbox(io.BytesIO(data), str(path)))
        for size in (1, 2, 3, 50, 333, 4096, len(data), len(data) + 1):
            assert _by_spans(path, size) == whole, (name, size)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"real-mail corpora not found at {CORPORA} "
                    "(set MAILARCHIVE_CORPORA to the folder holding linux-mips/)")
def test_spans_of_a_real_mbox_read_what_the_whole_file_reads(tmp_path: Path) -> None:
    path = tmp_path / "linux-mips-1997.mbox"
    path.write_bytes(lzma.decompress((CORPORA / "linux-mips" / "linux-mips-1997.mbox.xz")
                                     .read_bytes()))
    whole = list(sources.read(str(path)))
    assert len(whole) > 1000
    for size in (20_000, 1 << 20):
        assert _by_spans(path, size) == whole


def test_items_gives_spans_only_for_big_plain_mbox_files(tmp_path: Path) -> None:
    from mailarchive.model import Span

    data = mboxrd(ONE, TWO) * 50
    (tmp_path / "big.mbox").write_bytes(data)
    (tmp_path / "big.mbox.gz").write_bytes(gzip.compress(data))
    (tmp_path / "one.eml").write_bytes(ONE)
    spans = list(sources.items(str(tmp_path / "big.mbox"), size=1000))
    assert len(spans) > 2 and all(isinstance(s, Span) for s in spans)
    assert list(sources.items(str(tmp_path / "big.mbox"), size=len(data))) == list(
        sources.read(str(tmp_path / "big.mbox")))  # no bigger than a span: read as it is
    for name in ("big.mbox.gz", "one.eml"):
        assert list(sources.items(str(tmp_path / name), size=10)) == list(
            sources.read(str(tmp_path / name)))


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from([b"From ", b"\n", b"\r\n", b"\n\n", b">From ", b"x",
                                        b"Subject: a\n", b"\n\nFrom b\n", b"\r\n\r\nFrom "]),
                       max_size=60),
       size=st.integers(1, 80))
def test_spans_read_what_the_whole_file_reads_whatever_the_bytes(
        tmp_path: Path, pieces: list[bytes], size: int) -> None:
    data = b"From a Mon Jan  6 10:00:00 2025\n" + b"".join(pieces)
    path = tmp_path / "any.mbox"
    path.write_bytes(data)
    assert _by_spans(path, size) == list(read_mbox(io.BytesIO(data), str(path)))

"""Sources: mbox quoting, compression, maildir, folders, exact bytes."""

from __future__ import annotations

import gzip
import io
import lzma
from pathlib import Path

import pytest

from mailarchive import sources
from mailarchive.sources.mbox import quote_mboxrd, read_mbox

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

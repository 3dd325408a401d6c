"""A damaged archive database: every command says so in one line, with what to do, and the
server answers 503 pages and logs one line a request, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import apsw
import pytest
from starlette.testclient import TestClient

from mailarchive.store import DB_NAME
from mailarchive.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "salon.mbox"
ADVICE = "restore it from a backup, or save what is readable with: sqlite3 "


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailarchive", *args], capture_output=True,
                          text=True, check=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "archive"
    done = cli("import", "salon", str(SAMPLE), "--archive", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


def copy_of(sample: Path, into: Path) -> Path:
    """The sample archive's database alone, with its write-ahead log folded in."""
    into.mkdir()
    db = apsw.Connection(str(sample / DB_NAME))
    db.execute(f"VACUUM INTO '{into / DB_NAME}'")
    db.close()
    return into


def overwrite_page(folder: Path, table: str) -> None:
    """Garbage over the first page of `table`'s b-tree, as a failing disk leaves it."""
    db = apsw.Connection(str(folder / DB_NAME))
    size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.close()
    with open(folder / DB_NAME, "r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\xa5" * size)


@pytest.fixture
def damaged(sample: Path, tmp_path: Path) -> Path:
    folder = copy_of(sample, tmp_path / "damaged")
    overwrite_page(folder, "messages")
    return folder


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("args", [
    ["stats"], ["search", "prince"], ["export-mbox", "salon", "-o", "{tmp}/out.mbox"],
    ["export", "{tmp}/site"], ["remove", "salon", "3", "--reason", "spam"],
    ["import", "salon", "{tmp}/new.eml"],
])
def test_every_command_says_the_database_is_damaged(damaged: Path, tmp_path: Path,
                                                     args: list[str]) -> None:
    (tmp_path / "new.eml").write_bytes(b"From: a@example.org\nMessage-ID: <new@x>\n\nHi\n")
    args = [a.format(tmp=tmp_path) for a in args]
    line = one_line(cli(*args, "--archive", str(damaged)))
    assert "the database is damaged (database disk image is malformed)" in line
    assert ADVICE + str(damaged / DB_NAME) + " .recover" in line


def test_a_damaged_schema_is_named_as_such(sample: Path, tmp_path: Path) -> None:
    folder = copy_of(sample, tmp_path / "schema")
    with open(folder / DB_NAME, "r+b") as file:
        file.seek(100)  # page 1, after the file header: the schema's b-tree
        file.write(b"\xa5" * 4000)
    line = one_line(cli("stats", "--archive", str(folder)))
    assert "the database is damaged (" in line and ADVICE in line


def test_message_bytes_damaged_into_another_type_are_no_traceback(sample: Path,
                                                                  tmp_path: Path) -> None:
    folder = copy_of(sample, tmp_path / "typed")
    db = apsw.Connection(str(folder / DB_NAME))
    db.execute("UPDATE raw SET data = 5 WHERE rowid = (SELECT min(rowid) FROM raw)")
    db.close()
    line = one_line(cli("export-mbox", "salon", "-o", str(tmp_path / "x"), "--archive",
                        str(folder)))
    assert ("the database is damaged (message 1 of salon: a stored message is int, not bytes)"
            in line)


def test_message_bytes_cut_short_inside_their_compression_are_no_traceback(
        sample: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A stored message whose compressed bytes lost their end: SQLite cannot tell, the
    decompressor can; a command that reads it says so in one line naming the message, the
    server answers 503 for that message alone, and a search shows it without a snippet."""
    folder = copy_of(sample, tmp_path / "cut")
    db = apsw.Connection(str(folder / DB_NAME))
    rowid, data = db.execute("SELECT rowid, data FROM raw ORDER BY length(data) DESC").fetchone()
    db.execute("UPDATE raw SET data = ? WHERE rowid = ?", (data[:len(data) // 2], rowid))
    number, subject = db.execute("SELECT num, subject FROM messages WHERE id = ?",
                                 (rowid,)).fetchone()
    db.close()
    line = one_line(cli("export-mbox", "salon", "-o", str(tmp_path / "x"), "--archive",
                        str(folder)))
    assert (f"the database is damaged (message {number} of salon: a packed message does not "
            "decompress (") in line, line
    assert ADVICE in line
    line = one_line(cli("export", str(tmp_path / "site"), "--archive", str(folder)))
    assert f"the database is damaged (message {number} of salon: a packed message" in line
    capfd.readouterr()
    with TestClient(create_app(folder, cache=False), raise_server_exceptions=False) as web:
        assert web.get(f"/salon/msg{number}.eml").status_code == 503
        assert web.get(f"/salon/msg{number}.html").status_code == 503
        assert web.get("/salon/").status_code == 200  # the rest of the archive still reads
        log = capfd.readouterr().err
        assert "Traceback" not in log and f"message {number} of salon: a packed message" in log
        found = web.get("/api/search", params={"q": f'"{subject}"'})
    assert found.status_code == 200  # the hit is shown, without a snippet
    assert [(hit["number"], hit["snippet"]) for hit in found.json()["hits"]
            if hit["number"] == number] == [(number, "")]
    log = capfd.readouterr().err
    assert "Traceback" not in log and f"message {number} of salon: a packed message" in log


def test_the_server_answers_503_and_logs_one_line_a_request(
        damaged: Path, capfd: pytest.CaptureFixture[str]) -> None:
    paths = ["/", "/salon/", "/salon/msg3.html", "/salon/2025/01/", "/salon/feed.atom",
             "/salon/msg3.eml", "/salon/2025-01.mbox.gz", "/salon/thread/1.mbox.gz",
             "/search?q=prince", "/api/search?q=prince", "/search.atom?q=prince",
             "/search.mbox.gz?q=prince"]
    with TestClient(create_app(damaged, cache=False), raise_server_exceptions=False) as web:
        statuses = {path: web.get(path).status_code for path in paths}
        page = web.get("/salon/msg3.html").text
    assert statuses == dict.fromkeys(paths, 503)
    assert "The archive cannot be read at the moment" in page
    log = capfd.readouterr().err.strip().splitlines()
    assert len(log) == len(paths) + 1 and "Traceback" not in "\n".join(log)
    assert all("the database is damaged" in line and ADVICE in line for line in log)


def test_stored_bytes_that_decompress_to_other_bytes_stop_the_lossless_export(
        sample: Path, tmp_path: Path) -> None:
    """Stored bytes that decompress without an error to other bytes (a frame written before
    frames carried a checksum, changed on disk; here, a frame made of other bytes):
    `export-mbox` promises the original bytes, so it checks each message's SHA-256."""
    from mailarchive import packing

    folder = copy_of(sample, tmp_path / "changed")
    db = apsw.Connection(str(folder / DB_NAME))
    rowid, number = db.execute("SELECT id, num FROM messages ORDER BY num LIMIT 1 OFFSET 3"
                               ).fetchone()
    (data,) = db.execute("SELECT data FROM raw WHERE id = ?", (rowid,)).fetchone()
    original = packing.unpack(data)  # the sample is too small for a dictionary
    db.execute("UPDATE raw SET data = ? WHERE id = ?",
               (packing.pack(original.replace(b"Subject:", b"Subject: X", 1)), rowid))
    db.close()
    line = one_line(cli("export-mbox", "salon", "-o", str(tmp_path / "out.mbox"), "--archive",
                        str(folder)))
    assert f"message {number} of salon is not the bytes archived (its SHA-256 differs)" in line
    assert ADVICE in line
    assert not (tmp_path / "out.mbox").exists()  # no cut-off mbox left to pass for a whole one
    # what is not a regular file (/dev/null, a pipe) is left where it is
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: fifo.read_bytes())
    reader.start()
    one_line(cli("export-mbox", "salon", "-o", str(fifo), "--archive", str(folder)))
    reader.join()
    assert fifo.is_fifo()

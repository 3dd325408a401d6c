"""An import killed with SIGKILL at any point, then run again, ends with every message once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailarchive.sources.mbox import quote_mboxrd
from mailarchive.store import DatabaseError, Store, connect, one

COUNT = 6000


def write_mbox(path: Path) -> None:
    with path.open("wb") as out:
        for i in range(COUNT):
            parent = f"References: <m{i // 3}@example.org>\n" if i % 3 else ""
            body = f"Message {i}.\nFrom the middle of a line.\n\n-- \nsig\n" * 5
            message = (f"From: Sender {i % 50} <s{i % 50}@example.org>\nSubject: topic {i // 3}\n"
                       f"Message-ID: <m{i}@example.org>\n{parent}"
                       f"Date: Mon, 06 Jan 2025 10:{i % 60:02d}:00 +0000\n\n{body}").encode()
            out.write(b"From s@example.org Mon Jan  6 10:00:00 2025\n" + quote_mboxrd(message)
                      + b"\n")


def run_import(archive: Path, mbox: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "mailarchive", "import", "--archive",
                             str(archive), "big", str(mbox)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def stored(archive: Path) -> int:
    try:
        db = connect(archive / "mailarchive.sqlite3", busy_ms=50, readonly=True)
    except DatabaseError:
        return 0
    try:
        return int(one(db, "SELECT count(*) FROM messages")[0])
    except DatabaseError:
        return 0
    finally:
        db.close()


def wait_for(archive: Path, count: int) -> None:
    deadline = time.monotonic() + 60
    while stored(archive) < count and time.monotonic() < deadline:
        time.sleep(0.005)


@pytest.mark.parametrize("kill_after", [0, 1, 2001])
def test_sigkill_then_rerun_keeps_every_message_once(tmp_path: Path, kill_after: int) -> None:
    """Killed before anything is stored, while the first chunk is written, and mid-import."""
    mbox = tmp_path / "big.mbox"
    write_mbox(mbox)
    archive = tmp_path / "archive"
    victim = run_import(archive, mbox)
    if kill_after:
        wait_for(archive, kill_after)
    else:
        time.sleep(0.1)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL, "the first import ended before it was killed"
    finish = run_import(archive, mbox)
    out, err = finish.communicate(timeout=120)
    assert finish.returncode == 0, err.decode()
    store = Store(archive, create=False)
    mlist = store.get_list("big")
    assert mlist is not None
    rows = list(store.iter_messages(mlist))
    assert len(rows) == COUNT
    assert len({r.message_id for r in rows}) == COUNT
    assert sorted(r.num for r in rows) == list(range(1, COUNT + 1))
    assert b"read 6000" in out
    threads = {r.thread for r in rows}
    assert len(threads) == COUNT // 3

"""Live delivery over LMTP: a real `mailarchive lmtp` process, spoken to by smtplib."""

from __future__ import annotations

import asyncio
import json
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import apsw
import pytest
from aiosmtpd.smtp import Envelope, Session
from starlette.testclient import TestClient

from conftest import free_port
from mailarchive import lmtp
from mailarchive.store import ListInfo, Store
from mailarchive.web import create_app

MAILARCHIVE = [sys.executable, "-m", "mailarchive"]
MESSAGE = ("From: Tess Tester <tess@test.example>\r\nTo: salon@lists.example.org\r\n"
           "Subject: [Salon] Delivered live\r\nDate: Thu, 03 Dec 2026 09:00:00 +0100\r\n"
           "Message-ID: <live-1@test.example>\r\nContent-Type: text/plain; charset=utf-8\r\n"
           "\r\nA zebracorn arrived by LMTP.\r\n.A line starting with a dot.\r\n"
           "Grüße\r\n").encode()


def mailarchive(*args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAILARCHIVE, *args, "--archive", str(folder)], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "archive"
    done = mailarchive("configure", "salon", "--create", "--address", "salon@lists.example.org",
                       "--subject-prefix", "[Salon]", folder=path)
    assert done.returncode == 0, done.stderr
    assert mailarchive("configure", "other", "--create", folder=path).returncode == 0
    return path


def start(folder: Path, *where: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*MAILARCHIVE, "lmtp", "--archive", str(folder), *where],
                            stderr=subprocess.PIPE, text=True)


def wait_listening(process: subprocess.Popen[str], connect: Callable[[], socket.socket]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            connect().close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the LMTP server never listened")


@pytest.fixture
def server(folder: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = start(folder, "--port", str(port))
    wait_listening(process, lambda: socket.create_connection(("127.0.0.1", port), timeout=1))
    yield process, port
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def deliver(client: smtplib.LMTP, sender: str, recipients: list[str],
            data: bytes) -> tuple[dict[str, int], list[tuple[int, bytes]]]:
    """One LMTP transaction: the RCPT codes, and DATA's replies (one per accepted recipient;
    smtplib reads only the first itself)."""
    client.ehlo_or_helo_if_needed()  # LHLO, from smtplib.LMTP
    code, _ = client.mail(sender)
    assert code == 250
    rcpt = {address: client.rcpt(address)[0] for address in recipients}
    accepted = [a for a in recipients if rcpt[a] == 250]
    replies = [client.data(data)]
    replies += [client.getreply() for _ in accepted[1:]]
    return rcpt, replies


def test_a_delivered_message_is_archived_once_per_list_and_served_at_once(
        folder: Path, server: tuple[subprocess.Popen[str], int]) -> None:
    _process, port = server
    with smtplib.LMTP("127.0.0.1", port) as client:
        rcpt, replies = deliver(client, "tess@test.example",
                                ["salon@lists.example.org", "SALON+archive@lists.example.org",
                                 "other@elsewhere.example", "nobody@lists.example.org"], MESSAGE)
        assert rcpt["nobody@lists.example.org"] == 550
        assert [code for code, _ in replies] == [250, 250, 250]
        assert b"archived as salon/msg1" in replies[0][1]
        assert replies[1] == replies[0]  # one copy for two addresses of the same list
        assert b"archived as other/msg1" in replies[2][1]
        _, again = deliver(client, "tess@test.example", ["salon@lists.example.org"], MESSAGE)
        assert again[0][0] == 250 and b"already in the archive" in again[0][1]

    stats = json.loads(mailarchive("stats", "--json", folder=folder).stdout)
    assert {s["list"]: s["messages"] for s in stats} == {"salon": 1, "other": 1}
    exported = mailarchive("export-mbox", "salon", folder=folder).stdout.encode()
    first, _, rest = exported.partition(b"\n")
    assert first.startswith(b"From tess@test.example ")
    assert rest == MESSAGE.replace(b"\r\n", b"\n") + b"\n"  # dots unstuffed, LF line ends
    found = json.loads(mailarchive("search", "zebracorn", "--json", folder=folder).stdout)
    assert {hit["list"] for hit in found["hits"]} == {"salon", "other"}
    with TestClient(create_app(folder, cache=False)) as web:
        page = web.get("/salon/msg1.html")
        assert page.status_code == 200
        assert "Delivered live" in page.text and "[Salon]" not in page.text
        assert "Grüße" in page.text


def test_long_lines_and_8bit_headers_are_taken_as_they_come(
        folder: Path, server: tuple[subprocess.Popen[str], int]) -> None:
    _process, port = server
    long_line = b"x" * 5000
    data = MESSAGE.replace(b"Subject: [Salon] Delivered live", "Subject: Çà et là".encode())
    data += long_line + b"\r\n"
    with smtplib.LMTP("127.0.0.1", port) as client:
        _, replies = deliver(client, "tess@test.example", ["salon@lists.example.org"], data)
    assert replies[0][0] == 250
    exported = mailarchive("export-mbox", "salon", folder=folder).stdout.encode()
    assert exported.split(b"\n", 1)[1] == data.replace(b"\r\n", b"\n") + b"\n"


def test_unknown_recipients_are_refused_and_nothing_is_stored(
        folder: Path, server: tuple[subprocess.Popen[str], int]) -> None:
    _process, port = server
    with smtplib.LMTP("127.0.0.1", port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("tess@test.example", ["ghost@lists.example.org"], MESSAGE)
        code, text = refused.value.recipients["ghost@lists.example.org"]
        assert code == 550 and b"no list" in text
    stats = json.loads(mailarchive("stats", "--json", folder=folder).stdout)
    assert sum(s["messages"] for s in stats) == 0


def test_the_server_stops_cleanly_on_sigterm(server: tuple[subprocess.Popen[str], int]) -> None:
    process, port = server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_a_unix_socket_replaces_a_stale_one_and_refuses_a_live_one(folder: Path,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "lmtp.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody answers: what a killed server leaves
    process = start(folder, "--socket", str(path))
    try:
        wait_listening(process, lambda: _unix(path))
        assert path.stat().st_mode & 0o007 == 0
        with smtplib.LMTP(str(path)) as client:
            _, replies = deliver(client, "", ["salon"], MESSAGE)  # bounce sender; bare name
            assert replies[0][0] == 250
        second = mailarchive("lmtp", "--socket", str(path), folder=folder)
        assert second.returncode == 1
        assert second.stderr.strip().splitlines() == [
            f"Error: cannot listen on {path}: another server is listening there"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    assert not path.exists()
    exported = mailarchive("export-mbox", "salon", folder=folder).stdout
    assert exported.startswith("From MAILER-DAEMON ")


def _unix(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def test_bad_places_to_listen_get_one_line(folder: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = mailarchive("lmtp", "--port", str(port), folder=folder)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port} (")
    assert len(done.stderr.strip().splitlines()) == 1
    plain = tmp_path / "not-a-socket"
    plain.write_text("keep me")
    done = mailarchive("lmtp", "--socket", str(plain), folder=folder)
    assert done.stderr.strip() == f"Error: cannot listen on {plain}: it exists and is not a socket"
    assert plain.read_text() == "keep me"


def test_an_archive_without_lists_is_refused_with_what_to_do(tmp_path: Path) -> None:
    Store(tmp_path / "empty").close()
    done = mailarchive("lmtp", folder=tmp_path / "empty")
    assert done.returncode == 1
    assert "configure LIST --create" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_storage_failure_answers_451_and_stores_nothing(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(folder, create=False)
    handler = lmtp.Delivery(store)

    def failing(*args: object, **kwargs: object) -> int | None:
        raise apsw.FullError("database or disk is full")

    envelope = Envelope()
    envelope.mail_from = "tess@test.example"
    envelope.original_content = MESSAGE

    async def transaction() -> str:
        session = Session(asyncio.get_running_loop())
        reply = await handler.handle_RCPT(None, session, envelope,  # type: ignore[arg-type]
                                          "salon@lists.example.org", [])
        assert reply.startswith("250 ")
        return await handler.handle_DATA(None, session, envelope)  # type: ignore[arg-type]

    monkeypatch.setattr(lmtp, "add_one", failing)
    assert asyncio.run(transaction()).startswith("451 4.3.0 ")
    assert store.stats(_salon(store))["messages"] == 0
    monkeypatch.undo()
    envelope.rcpt_tos.clear()
    assert asyncio.run(transaction()) == "250 2.0.0 archived as salon/msg1"  # the retry
    store.close()


def _salon(store: Store) -> ListInfo:
    found = store.get_list("salon")
    assert found is not None
    return found


LISTS = [ListInfo(1, "salon", "Salon", "salon@lists.example.org", "", True),
         ListInfo(2, "dev", "Dev", "", "", True),
         ListInfo(3, "announce", "News", "dev@other.example", "", True)]


@pytest.mark.parametrize(("address", "expected"), [
    ("salon@lists.example.org", "salon"),
    ("<Salon@Lists.Example.org>", "salon"),
    ("salon+archive@lists.example.org", "salon"),
    ("salon@anywhere.example", "salon"),  # by name: the archive may sit behind any domain
    ("dev@lists.example.org", "dev"),
    ("dev@other.example", "announce"),  # a list's own address wins over another list's name
    ("dev", "dev"),
    ("nobody@lists.example.org", None),
    ("", None),
])
def test_recipients_name_lists_by_address_or_name(address: str, expected: str | None) -> None:
    found = lmtp.list_for(address, LISTS)
    assert (found.name if found else None) == expected


def test_the_envelope_line_names_the_sender_or_the_mailer_daemon() -> None:
    epoch = "Thu Jan  1 00:00:00 1970"
    assert lmtp.envelope_of("<tess@test.example>", 0) == f"tess@test.example {epoch}"
    assert lmtp.envelope_of("", 0).startswith("MAILER-DAEMON ")
    assert lmtp.envelope_of("a b@c", 0).startswith("MAILER-DAEMON ")

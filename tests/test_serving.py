"""`mailarchive serve` as a user runs it: real processes on a real port."""

from __future__ import annotations

import asyncio
import base64
import gzip
import http.client
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, make
from mailarchive import serving
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store
from mailarchive.web import OneSend

MAILARCHIVE = [sys.executable, "-m", "mailarchive"]


# random bytes do not compress: the month's mbox.gz is bigger than what OneSend holds back
BIG = base64.encodebytes(random.Random(5).randbytes(200_000)).decode()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = Store(tmp_path / "archive")
    mail = [RawMessage(make(f"m{i}@s.example", f"Topic {i}", 1 + i), "test") for i in range(5)]
    mail.append(RawMessage(make("big@s.example", "Topic big", 9, body=BIG), "test"))
    ingest(store, store.ensure_list("s"), mail)
    store.close()
    return tmp_path / "archive"


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1].decode()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listened on port {port}")


def serve(folder: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """`mailarchive serve` started for real, once it listens."""
    process = subprocess.Popen(
        [*MAILARCHIVE, "serve", "--archive", str(folder), "--port", str(port), "--workers",
         str(workers), "--no-warm"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(port, process)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return process


@pytest.mark.skipif(not serving.spread_by_kernel(), reason="SO_REUSEPORT spreading is Linux's")
def test_the_kernel_spreads_connections_over_the_processes_sockets() -> None:
    port = free_port()
    sockets = serving.listen("127.0.0.1", port, 2)
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
    try:
        time.sleep(0.2)
        accepted = []
        for sock in sockets:
            sock.setblocking(False)
            count = 0
            while True:
                try:
                    sock.accept()[0].close()
                    count += 1
                except BlockingIOError:
                    break
            accepted.append(count)
        assert sum(accepted) == 64 and min(accepted) > 0, accepted
    finally:
        for each in clients + sockets:
            each.close()


def test_serve_answers_on_every_connection_and_stops_cleanly(folder: Path) -> None:
    port = free_port()
    process = serve(folder, port, 2)
    try:
        connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                       for _ in range(8)]
        for round_ in range(3):  # kept-alive connections, each asked again
            for i, connection in enumerate(connections):
                connection.request("GET", f"/s/msg{1 + (i + round_) % 5}.html")
                response = connection.getresponse()
                body = response.read()
                assert response.status == 200 and b"Topic" in body
        for connection in connections:
            connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()
    assert b"with 2 processes" in err or not serving.spread_by_kernel()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


def test_one_send_gives_a_turns_writes_to_the_socket_at_once() -> None:
    async def writes() -> list[list[bytes]]:
        recorder = Recorder()
        transport = OneSend(recorder)  # type: ignore[arg-type]
        seen = []
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(b"body")
        seen.append(list(recorder.sent))  # nothing yet: held until the loop turns
        await asyncio.sleep(0)
        seen.append(list(recorder.sent))
        transport.write(b"x" * OneSend.HELD_BYTES)  # past the limit: sent at once
        seen.append(list(recorder.sent[1:]))
        transport.write(b"last")
        transport.close()  # what is held goes before the connection closes
        seen.append(recorder.sent[2:] + [b"closed" if recorder.closed else b"open"])
        seen.append([transport.get_extra_info("peername").encode()])
        return seen

    assert asyncio.run(writes()) == [
        [], [b"HTTP/1.1 200 OK\r\n\r\nbody"], [b"x" * OneSend.HELD_BYTES], [b"last", b"closed"],
        [b"info peername"]]


def test_kept_alive_responses_arrive_whole(folder: Path) -> None:
    """Through the real server: a HEAD (a head without a body), a page, and a download bigger
    than what OneSend holds back, one after the other on one connection."""
    port = free_port()
    process = serve(folder, port, 1)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(2):
            connection.request("HEAD", "/s/msg1.html")
            head = connection.getresponse()
            assert head.status == 200 and head.read() == b""
            connection.request("GET", "/s/msg2.html")
            page = connection.getresponse()
            assert page.status == 200 and b"Topic 1" in page.read()
            connection.request("GET", "/s/2024-05.mbox.gz")
            download = connection.getresponse()
            mbox = gzip.decompress(download.read())
            assert download.status == 200 and len(mbox) > 2 * OneSend.HELD_BYTES
            assert mbox.count(b"\nFrom ") + mbox.startswith(b"From ") == 6
            assert BIG.encode() in mbox
        connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert b"Traceback" not in err, err.decode()


def test_a_taken_port_is_one_clear_line(folder: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*MAILARCHIVE, "serve", "--archive", str(folder), "--port",
                               str(port), "--no-warm"], capture_output=True, timeout=60,
                              env={**os.environ, "COLUMNS": "200"})
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 1
    assert len(lines) == 1 and f"cannot listen on 127.0.0.1:{port}" in lines[0], lines

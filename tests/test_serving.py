"""`mailarchive serve` as a user runs it: real processes on a real port."""

from __future__ import annotations

import http.client
import os
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

MAILARCHIVE = [sys.executable, "-m", "mailarchive"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = Store(tmp_path / "archive")
    mail = [RawMessage(make(f"m{i}@s.example", f"Topic {i}", 1 + i), "test") for i in range(5)]
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
    process = subprocess.Popen(
        [*MAILARCHIVE, "serve", "--archive", str(folder), "--port", str(port), "--workers", "2",
         "--no-warm"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(port, process)
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

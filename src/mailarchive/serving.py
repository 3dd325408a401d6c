"""`serve`'s processes: one server process per core, each with its own listening socket.

uvicorn's `--workers` shares one listening socket among its processes, and whichever process
wakes first accepts a connection. Clients that keep their connections open (browsers, a
reverse proxy, a load generator) then all land on one process while the others idle: on 2
cores, 16 keep-alive connections gave about 400 requests/s, one core busy. On Linux each process
here binds its own socket to the same port with SO_REUSEPORT, and the kernel spreads new
connections over them evenly. Elsewhere, uvicorn's own workers are used.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

APP = "mailarchive.web:app_from_environment"
BACKLOG = 2048


class ListenError(Exception):
    """The address cannot be listened on; the message says why and what to do."""


def spread_by_kernel() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A socket listening on host:port (shared with the other processes when `reuse_port`)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise ListenError(f"cannot listen on {host}: {error.strerror}; give an address "
                          "such as 127.0.0.1 with --host") from error
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port} ({error.strerror}); is another "
                          "server running there? Choose another --port") from error
    sock.set_inheritable(True)
    return sock


def listen(host: str, port: int, workers: int) -> list[socket.socket]:
    """The listening sockets `run` serves on: one per process where the kernel spreads
    connections, else none (uvicorn binds its own; the address is checked free here, so that a
    taken port is one clear line before anything starts)."""
    if workers > 1 and spread_by_kernel():
        return [listening_socket(host, port, True) for _ in range(workers)]
    listening_socket(host, port, False).close()
    return []


def run(options: dict[str, Any], workers: int, sockets: list[socket.socket]) -> None:
    """Serve `APP` (its archive in the environment) with `workers` processes until stopped."""
    if not sockets:
        uvicorn.run(APP, factory=True, workers=workers if workers > 1 else None, **options)
        return
    print(f"mailarchive: serving on http://{_shown(options['host'])}:{options['port']} with "
          f"{len(sockets)} processes (Press CTRL+C to quit)", file=sys.stderr)
    _supervise(options, sockets)


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _worker(options: dict[str, Any], sock: socket.socket) -> None:
    # uvicorn catches these while it serves, and raises the caught one again once it has shut
    # down: ignored, the process then ends normally (the supervisor's handlers are not ours).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    config = uvicorn.Config(APP, factory=True, **options)
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(options: dict[str, Any], sockets: list[socket.socket]) -> None:
    """Start one process per socket, start again any that dies, stop them all on a signal."""
    context = multiprocessing.get_context("fork")
    running: dict[int, BaseProcess] = {}
    stopping = False

    def start(index: int) -> None:
        process = context.Process(target=_worker, args=(options, sockets[index]), daemon=True)
        process.start()
        running[index] = process

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True
        for process in running.values():
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(len(sockets)):
            start(index)
        while running:
            wait([p.sentinel for p in running.values()])
            for index, process in list(running.items()):
                if process.is_alive():
                    continue
                process.join()
                del running[index]
                if not stopping:
                    print(f"mailarchive: server process {process.pid} ended "
                          f"(exit {process.exitcode}); starting another", file=sys.stderr)
                    start(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for sock in sockets:
            sock.close()

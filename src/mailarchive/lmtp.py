"""Live delivery: an LMTP server (aiosmtpd) that archives each message as it arrives.

A mail server (Postfix, Exim, OpenSMTPD) hands the list's mail over LMTP; every recipient names a
list, and gets its own reply: 250 once the message is committed to the archive, 550 for an address
that is no list here (the sender is told), 451 when the archive could not take it (the mail server
keeps the message and tries again), so nothing is lost either way.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from mailarchive.ingest import add_one
from mailarchive.model import RawMessage
from mailarchive.parse import DEFAULT_LIMITS, Limits
from mailarchive.store import DatabaseError, ListInfo, Store, trouble

DEFAULT_PORT = 8024  # Mailman 3's LMTP port: what mail servers next to a list manager expect
MAX_MESSAGE = 64 << 20


class ListenError(Exception):
    """The server cannot listen where it was asked to (one line, for the command)."""


def list_for(address: str, lists: list[ListInfo]) -> ListInfo | None:
    """The list a recipient address delivers to: the list whose posting address it is, else the
    list named by its local part; a `+detail` is ignored in both (salon+archive@ is salon@)."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if not local:
        local, domain = domain, ""
    base = local.split("+", 1)[0]
    wanted = {f"{base}@{domain}", f"{local}@{domain}"} if domain else set()
    for mlist in lists:
        if mlist.address and mlist.address.strip().lower() in wanted:
            return mlist
    return next((mlist for mlist in lists if mlist.name.lower() == base), None)


def to_stored(data: bytes) -> bytes:
    """Mail travels with CRLF line ends and is kept with LF, as a local delivery agent writes it
    into an mbox or a maildir: the same message imported later from the list's mbox is then
    recognised as already archived."""
    return data.replace(b"\r\n", b"\n")


def envelope_of(mail_from: str | None, now: float) -> str:
    """The mbox From_ line (without "From ") for a message received now from `mail_from`."""
    sender = (mail_from or "").strip("<>") or "MAILER-DAEMON"
    if any(c.isspace() for c in sender):
        sender = "MAILER-DAEMON"
    return f"{sender} {time.asctime(time.gmtime(now))}"


@dataclass
class Delivery:
    """The aiosmtpd handler: one store, written by one delivery at a time (the event loop's)."""

    store: Store
    limits: Limits = DEFAULT_LIMITS

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        mlist = list_for(address, self.store.lists())
        if mlist is None:
            return _no_list(address)
        envelope.rcpt_tos.append(address)
        return f"250 2.1.5 <{address}> goes to the list {mlist.name}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        raw = RawMessage(to_stored(data), "lmtp", envelope_of(envelope.mail_from, time.time()))
        lists = self.store.lists()
        done: dict[int, str] = {}
        replies = []
        for address in envelope.rcpt_tos:
            mlist = list_for(address, lists)
            if mlist is None:  # removed between RCPT and DATA
                replies.append(_no_list(address))
                continue
            if mlist.id not in done:
                done[mlist.id] = self.deliver(mlist, raw)
            replies.append(done[mlist.id])
        return "\r\n".join(replies)

    def deliver(self, mlist: ListInfo, raw: RawMessage) -> str:
        try:
            num = add_one(self.store, mlist, raw, self.limits)
        except Exception as error:  # the mail server keeps the message and retries: never lost
            why = trouble(error, self.store.folder) if isinstance(error, DatabaseError) else error
            print(f"mailarchive lmtp: could not archive a message for {mlist.name}: {why}",
                  file=sys.stderr, flush=True)
            return f"451 4.3.0 could not archive the message for {mlist.name}; try again later"
        if num is None:
            return f"250 2.0.0 already in the archive of {mlist.name}"
        return f"250 2.0.0 archived as {mlist.name}/msg{num}"


def _no_list(address: str) -> str:
    return f"550 5.1.1 <{address}>: no list with this address in this archive"


class ArchiveLMTP(LMTP):
    # RFC 5321's 1,000 octets a line is not what real mail keeps to (long HTML and base64-less
    # attachments); refusing it would bounce a list's message, so any line fits a message's size
    line_length_limit = MAX_MESSAGE


def _factory(handler: Delivery) -> LMTP:
    return ArchiveLMTP(handler, data_size_limit=MAX_MESSAGE, enable_SMTPUTF8=True,
                       hostname=socket.getfqdn(), ident="mailarchive")


def _free_socket(path: Path) -> None:
    """Remove a socket file left by a server that is gone; refuse one that is still answered."""
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise ListenError(f"cannot listen on {path}: it exists and is not a socket")
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()
            return
    raise ListenError(f"cannot listen on {path}: another server is listening there")


async def _open(handler: Delivery, host: str, port: int,
                socket_path: str | None) -> tuple[asyncio.AbstractServer, str]:
    loop = asyncio.get_running_loop()
    if socket_path:
        path = Path(socket_path)
        _free_socket(path)
        try:
            server = await loop.create_unix_server(lambda: _factory(handler), str(path))
        except OSError as error:
            raise ListenError(f"cannot listen on {path} ({error.strerror or error})") from error
        return server, str(path)
    try:
        server = await loop.create_server(lambda: _factory(handler), host, port,
                                          reuse_address=True)
    except OSError as error:
        raise ListenError(f"cannot listen on {host}:{port} ({error.strerror or error}); "
                          "choose another --port or stop the server using it") from error
    return server, f"{host}:{port}"


async def _serve(handler: Delivery, host: str, port: int, socket_path: str | None) -> None:
    server, where = await _open(handler, host, port, socket_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    print(f"mailarchive lmtp: taking mail on {where} (stop with Ctrl-C)", file=sys.stderr,
          flush=True)
    async with server:
        await stop.wait()
    if socket_path:
        Path(socket_path).unlink(missing_ok=True)


def serve(store: Store, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          socket_path: str | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
    """Take mail over LMTP until SIGINT or SIGTERM; raises ListenError if it cannot listen."""
    if socket_path:
        os.umask(0o007)  # the mail server's group may connect; nobody else
    asyncio.run(_serve(Delivery(store, limits), host, port, socket_path))

"""Shared fixtures: one small archive built once per session, from the sample list, a slice of the
real linux-mips archive, the hostile and broken test mail, and a few messages made here."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailarchive import sources
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "salon.mbox"
DATA = ROOT / "tests" / "data"
CORPORA = Path(os.environ.get("MAILARCHIVE_CORPORA", ROOT.parent / "shared" / "corpora"))
LINUX_MIPS = CORPORA / "linux-mips" / "linux-mips-1997.mbox.xz"
REAL_MESSAGES = 120


def pytest_configure(config: pytest.Config) -> None:
    # Starlette's TestClient still works with httpx; it only warns that httpx2 is preferred.
    config.addinivalue_line(
        "filterwarnings", "ignore:Using `httpx` with `starlette.testclient`:UserWarning")


def make(mid: str | None, subject: str, day: int, body: str = "Hello.\n",
         headers: Iterable[str] = (), content_type: str = "text/plain; charset=utf-8") -> bytes:
    """A small message as bytes, dated May 2024."""
    lines = ["From: Tess Tester <tess@test.example>", "To: test@lists.example.org",
             f"Subject: {subject}", f"Date: Wed, {day:02d} May 2024 10:00:00 +0200",
             *([f"Message-ID: <{mid}>"] if mid else []), *headers, "MIME-Version: 1.0",
             f"Content-Type: {content_type}", "Content-Transfer-Encoding: 8bit", "", body]
    return "\n".join(lines).encode("utf-8")


FLOWED = ("Alice wrote:\n> This quoted line is soft  \n> broken in two.\n>> and nested\n\n"
          "See https://example.org/a/very/long/ \npath for details.\n\n-- \nTess\n")
HTML = ('<html><body><p>Look: <img src="https://images.example.com/x.png" alt="a cat">'
        '<a href="javascript:alert(1)">bad</a> <a href="https://ok.example/">good</a></p>'
        '<script>window.__pwned=1</script></body></html>\n')
PATCH = ("Please apply.\n\nSigned-off-by: Tess Tester <tess@test.example>\n---\n"
         "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-old\n+new\n-- \n2.1\n")


def list_messages() -> list[bytes]:
    """The `test` list: two threads that a later message merges, flowed text, HTML, a patch."""
    return [
        make("a@t.example", "Alpha", 1),
        make("b@t.example", "Beta", 2),
        make("c@t.example", "Re: Alpha", 3, headers=["In-Reply-To: <a@t.example>",
                                                     "References: <a@t.example> <b@t.example>"]),
        make("flowed@t.example", "Flowed", 4, FLOWED,
             content_type="text/plain; charset=utf-8; format=flowed; delsp=yes"),
        make("html@t.example", "Només HTML ünïcode", 5, HTML, content_type="text/html"),
        make("x/y?z#w@t.example", "Odd id", 6),
        make("patch@t.example", "[PATCH] fix x", 7, PATCH),
        make(None, "No id at all", 8),
    ]


def _raws(blobs: Iterable[bytes], origin: str) -> Iterator[RawMessage]:
    for i, blob in enumerate(blobs):
        yield RawMessage(blob, f"{origin}:{i}")


def _files(folder: Path) -> Iterator[RawMessage]:
    for path in sorted(folder.glob("*.eml")):
        yield RawMessage(path.read_bytes(), str(path))


def add(store: Store, name: str, raws: Iterable[RawMessage], **settings: str) -> None:
    mlist = store.ensure_list(name, settings.get("title"), settings.get("address"),
                              settings.get("prefix"))
    ingest(store, mlist, raws, workers=1)


@dataclass(frozen=True)
class Archive:
    path: Path
    lists: tuple[str, ...]


def build(folder: Path, real: bool = True) -> Archive:
    store = Store(folder)
    names = []
    if SAMPLE.exists():
        add(store, "salon", sources.read(str(SAMPLE)), title="The Salon",
            address="salon@lists.example.org", prefix="[Salon]")
        names.append("salon")
    if real and LINUX_MIPS.exists():
        add(store, "lm", itertools.islice(sources.read(str(LINUX_MIPS)), REAL_MESSAGES),
            address="linux-mips@linux-mips.org")
        names.append("lm")
    for name in ("hostile", "broken"):
        if (DATA / name).is_dir():
            add(store, name, _files(DATA / name))
            names.append(name)
    add(store, "test", _raws(list_messages(), "test"), address="test@lists.example.org")
    add(store, "test2", _raws(list_messages()[:1], "test2"))
    store.close()
    return Archive(folder, (*names, "test", "test2"))


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build(tmp_path_factory.mktemp("archive"))


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on (for a server a test starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

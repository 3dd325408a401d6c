"""Rendered pages kept in the archive folder (pagestore): served from storage while, and only
while, everything they were made from is unchanged."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from starlette.testclient import TestClient
from uvicorn.server import ServerState

from conftest import Archive, make
from mailarchive import pagestore
from mailarchive.cli import main
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.pagestore import PageStore
from mailarchive.render import views
from mailarchive.render.pages import message_nav, nav, shape, thread_order
from mailarchive.store import ListInfo, Store, connect
from mailarchive.web import NoDelayHTTP, NoDelayHttpTools, create_app

ROOM = 1 << 30


def raw(blob: bytes) -> RawMessage:
    return RawMessage(blob, "test")


def first_mail() -> list[RawMessage]:
    return [raw(make("a@k.example", "Alpha", 1)),
            raw(make("b@k.example", "Beta", 3, "Beta text, by tess@test.example.\n")),
            raw(make("c@k.example", "Gamma", 9))]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    store = Store(tmp_path / "archive")
    ingest(store, store.ensure_list("k"), first_mail())
    store.close()
    return tmp_path / "archive"


def served(folder: Path, path: str, room: int = ROOM) -> str:
    """The page as a freshly started server answers it (its pages written when it stops)."""
    with TestClient(create_app(folder, pages=PageStore(folder, room))) as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return str(response.text)


def rendered(folder: Path, path: str) -> str:
    """The page rendered now, from nothing kept."""
    with TestClient(create_app(folder, cache=False)) as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return str(response.text)


def refuse(*args: object, **kwargs: object) -> str:
    raise AssertionError("rendered again, not served from storage")


def kept_count(folder: Path) -> int:
    return len(PageStore(folder, ROOM).stamps())


def mlist(folder: Path) -> tuple[Store, ListInfo]:
    store = Store(folder)
    found = store.get_list("k")
    assert found is not None
    return store, found


def test_a_page_rendered_once_is_served_from_storage_after_a_restart(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = served(folder, "/k/msg2.html")
    month = served(folder, "/k/2024/05/")
    assert kept_count(folder) == 2
    assert (folder / pagestore.PAGES_NAME).exists()

    monkeypatch.setattr(views, "message_html", refuse)
    monkeypatch.setattr(views, "month_html", refuse)
    assert served(folder, "/k/msg2.html") == first
    assert served(folder, "/k/2024/05/index.html") == month
    assert "Beta text" in first and "Alpha" in month


def test_a_reply_changes_the_pages_it_shows_on(folder: Path) -> None:
    paths = ["/k/msg1.html", "/k/msg2.html", "/k/2024/05/", "/k/2024/05/date.html"]
    before = {path: served(folder, path) for path in paths}
    store, found = mlist(folder)
    ingest(store, found, [raw(make("r@k.example", "Re: Alpha", 2,
                                   headers=["In-Reply-To: <a@k.example>"]))])
    for path in paths:
        now = served(folder, path)
        assert now != before[path], path
        assert now == rendered(folder, path), path
        assert "msg4.html" in now, path  # a reply (msg1), a neighbour by date (msg2), an entry


def test_unrelated_pages_stay_kept_after_an_import(folder: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    page = served(folder, "/k/msg1.html")
    store, found = mlist(folder)
    ingest(store, found, [raw(make("z@k.example", "Zeta", 28).replace(b"May", b"Jun"))])

    monkeypatch.setattr(views, "message_html", refuse)
    assert served(folder, "/k/msg1.html") == page


def test_a_removal_changes_its_neighbours_and_its_month(folder: Path) -> None:
    paths = ["/k/msg1.html", "/k/msg3.html", "/k/2024/05/"]
    before = {path: served(folder, path) for path in paths}
    assert all("msg2.html" in text for text in before.values())
    served(folder, "/k/msg2.html")
    store, found = mlist(folder)
    assert store.remove(found, 2, "asked by its author")
    for path in paths:
        now = served(folder, path)
        assert "msg2.html" not in now and now == rendered(folder, path), path
    with TestClient(create_app(folder, pages=PageStore(folder, ROOM))) as client:
        gone = client.get("/k/msg2.html")
    assert gone.status_code == 410 and "asked by its author" in gone.text


@pytest.mark.parametrize("setting, shown", [
    (["--no-obfuscate"], "tess@test.example"),
    (["--address", "k@lists.example"], "mailto:k@lists.example"),
    (["--subject-prefix", "[Beta]"], None),
])
def test_a_setting_changes_the_pages(folder: Path, setting: list[str], shown: str | None) -> None:
    before = served(folder, "/k/msg2.html")
    month = served(folder, "/k/2024/05/")
    result = CliRunner().invoke(main, ["configure", "k", *setting, "--archive", str(folder)])
    assert result.exit_code == 0, result.output
    after = served(folder, "/k/msg2.html")
    assert after == rendered(folder, "/k/msg2.html")
    assert served(folder, "/k/2024/05/") == rendered(folder, "/k/2024/05/")
    if shown is not None:
        assert shown not in before and shown in after
    else:  # the prefix only applies to mail imported later: the same page, kept anew
        assert after == before and month == served(folder, "/k/2024/05/")


def test_new_code_renders_anew(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served(folder, "/k/msg1.html")
    calls: list[int] = []
    original = views.message_html

    def counting(*args: object, **kwargs: object) -> str:
        calls.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(views, "message_html", counting)
    served(folder, "/k/msg1.html")
    assert calls == []
    monkeypatch.setattr(pagestore, "code_signature", lambda: b"another version")
    served(folder, "/k/msg1.html")
    assert calls == [1]


def test_the_code_signature_follows_the_templates(tmp_path: Path) -> None:
    source = Path(pagestore.__file__).parent
    copy = tmp_path / "src" / "mailarchive"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    program = "from mailarchive import pagestore; print(pagestore.code_signature().hex())"

    def signature() -> str:
        env = {**os.environ, "PYTHONPATH": str(copy.parent)}
        return subprocess.run([sys.executable, "-c", program], env=env, check=True,
                              capture_output=True, text=True).stdout

    first = signature()
    assert first == signature()
    template = copy / "render" / "templates" / "message.html"
    template.write_text(template.read_text().replace("Whole thread", "The whole thread"))
    assert signature() != first


def test_no_room_no_pages_but_every_page_served(folder: Path) -> None:
    assert served(folder, "/k/msg1.html", room=0) == rendered(folder, "/k/msg1.html")
    assert kept_count(folder) == 0


def test_the_room_is_what_the_mail_leaves(folder: Path) -> None:
    store = Store(folder, create=False)
    mail = sum(row.size for m in store.lists() for row in store.iter_messages(m))
    store.close()
    rest = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()
               and not p.name.startswith(pagestore.PAGES_NAME))
    assert pagestore.room(folder) == max(0, mail - rest)


def test_render_command(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagestore, "room", lambda folder: ROOM)
    result = CliRunner().invoke(main, ["render", "k", "--archive", str(folder)])
    assert result.exit_code == 0, result.output
    # 3 messages, 1 month index
    assert "rendered 4, already current 0, no room for 0" in result.output
    again = CliRunner().invoke(main, ["render", "--archive", str(folder)])
    assert "rendered 0, already current 4" in again.output
    text = served(folder, "/k/msg3.html")
    assert text == rendered(folder, "/k/msg3.html")
    missing = CliRunner().invoke(main, ["render", "nope", "--archive", str(folder)])
    assert missing.exit_code != 0 and "no list called 'nope'" in missing.output
    nowhere = CliRunner().invoke(main, ["render", "--archive", str(folder / "nowhere")])
    assert nowhere.exit_code != 0 and "Traceback" not in nowhere.output
    assert len(nowhere.output.strip().splitlines()) == 1


def test_render_says_why_no_page_is_kept(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagestore, "room", lambda folder: 0)
    result = CliRunner().invoke(main, ["render", "k", "--archive", str(folder)])
    assert result.exit_code == 0, result.output
    assert "no room for 4 (the archive folder is already as large as its mail" in result.output
    assert "rendered when asked for" in result.output


def test_pages_served_from_storage_after_render(folder: Path) -> None:
    assert pagestore.fill(folder, budget=ROOM).rendered == 4
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(views, "message_html", refuse)
        monkeypatch.setattr(views, "month_html", refuse)
        for path in ("/k/msg1.html", "/k/msg2.html", "/k/msg3.html", "/k/2024/05/"):
            assert "<main" in served(folder, path)


def test_render_in_worker_processes_keeps_what_one_process_keeps(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enough pages for the pool: the same rows kept, the same counts; with too little room,
    the workers learn that it ran out and the count of pages left out is exact."""
    folders = []
    for name in ("one", "pool", "small"):
        store = Store(tmp_path / name)
        mail = [raw(make(f"m{i}@k.example", f"Subject {i % 7}", 1 + i % 28, f"Text {i}.\n"))
                for i in range(2 * pagestore.POOL_MIN)]
        ingest(store, store.ensure_list("k"), mail)
        store.close()
        folders.append(tmp_path / name)
    alone = pagestore.fill(folders[0], budget=ROOM, jobs=1)
    pooled = pagestore.fill(folders[1], budget=ROOM, jobs=2)
    assert alone.line() == pooled.line() and alone.rendered == 2 * pagestore.POOL_MIN + 1

    def rows(folder: Path) -> set[tuple[object, ...]]:
        db = connect(folder / pagestore.PAGES_NAME)
        try:
            return set(db.execute("SELECT key, stamp, body FROM pages"))
        finally:
            db.close()

    assert rows(folders[0]) == rows(folders[1])
    again = pagestore.fill(folders[1], budget=ROOM, jobs=2)
    assert (again.rendered, again.current) == (0, alone.rendered)
    monkeypatch.setattr(pagestore, "BATCH", 16)  # room is looked at before each batch
    cramped = pagestore.fill(folders[2], budget=20_000, jobs=2)
    assert 0 < cramped.rendered < alone.rendered
    assert cramped.rendered + cramped.skipped == alone.rendered
    assert len(rows(folders[2])) == cramped.rendered


def test_one_page_nav_is_the_whole_thread_nav(archive: Archive) -> None:
    store = Store(archive.path, create=False)
    names = {m.id: m.name for m in store.lists()}
    checked = 0
    for found in store.lists():
        for row in store.messages_by_date(found):
            rows = store.thread_messages(found, row.thread)
            around = store.neighbour_rows(row)
            copies = [(names[c.list_id], c.num) for c in store.by_message_id(row.message_id)]
            assert message_nav(found, row, around, thread_order(found, rows), copies) == nav(
                found, row, around, shape(found, rows), copies)
            checked += 1
    store.close()
    assert checked > 100


@pytest.mark.parametrize("kind", [NoDelayHTTP, NoDelayHttpTools])
def test_connections_send_without_delay(folder: Path, kind: Any) -> None:
    """With --workers, uvicorn listens on a socket asyncio does not take for TCP; our protocol
    still turns Nagle's algorithm off, or every response waits 40 ms for a delayed ACK."""
    config = uvicorn.Config(create_app(folder, cache=False), http=kind, log_level="error")
    config.load()
    made: list[Any] = []

    def protocol() -> Any:
        made.append(kind(config=config, server_state=ServerState(), app_state={}))
        return made[-1]

    async def connect() -> int:
        listener = socket.socket(socket.AF_INET)  # as uvicorn binds it for its workers
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(protocol, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        for _ in range(100):
            if made and made[0].transport is not None:
                break
            await asyncio.sleep(0.01)
        sock = made[0].transport.get_extra_info("socket")
        value = int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()
        server.close()
        return value

    assert asyncio.run(connect()) == 1

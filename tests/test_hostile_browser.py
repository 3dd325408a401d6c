"""Hostile mail in a real browser: every hostile (and broken) message's page and its thread page,
opened in headless Chromium against a real server. Nothing may run (the payloads set
`window.__pwned`, which must stay unset), nothing may leave for another host (every such request
is recorded and aborted), no dialog may open and no page may navigate away. With ?images=1,
remote images (and only images) may be requested, and still nothing runs.

CSP violation reports from the console are collected and shown when a test fails: they say what
the page held back, which is the policy doing its work, not a failure in itself."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from mailarchive.store import Store
from mailarchive.web import create_app
from test_hostile import LISTS, build_hostile

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
CANARY = "[typeof window.__pwned, typeof top.__pwned]"
SETTLE_MS = 60  # after load: time for timers, autofocus, animations and meta refresh to fire

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Archive:
    base: str
    messages: list[str]  # message page paths
    threads: list[str]  # thread page paths


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    if not (Path(__file__).parent / "data" / "hostile").is_dir():
        pytest.skip("no hostile test mail")
    folder = build_hostile(tmp_path_factory.mktemp("hostile-browser"))
    store = Store(folder, create=False)
    messages, threads = [], []
    for name in LISTS:
        mlist = store.get_list(name)
        assert mlist is not None
        rows = list(store.iter_messages(mlist))
        messages += [f"/{name}/msg{r.num}.html" for r in rows]
        threads += sorted({f"/{name}/thread/{r.thread}.html" for r in rows})
    store.close()
    port = _free_port()
    config = uvicorn.Config(create_app(folder), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield Archive(f"http://127.0.0.1:{port}", messages, threads)
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                              headless=True)
        yield launched
        launched.close()


@dataclass
class Visit:
    """What happened while pages were open: requests off the site, scripts run, and so on."""

    base: str
    current: str = ""
    offsite: list[tuple[str, str, str]] = field(default_factory=list)  # (page, type, url)
    problems: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)

    def elsewhere(self, url: str) -> bool:
        parts = urlsplit(url)
        return (f"{parts.scheme}://{parts.netloc}" != self.base
                and parts.scheme not in ("data", "blob", "about"))

    def route(self, route: Any) -> None:
        """Only requests for another host come here (see `elsewhere`): noted, then aborted."""
        self.offsite.append((self.current, route.request.resource_type, route.request.url))
        route.abort()

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp.append(f"{self.current}: {message.text[:200]}")

    def dialog(self, dialog: Any) -> None:
        self.problems.append(f"{self.current}: a {dialog.type} dialog opened")
        dialog.dismiss()


def visit(browser: Any, base: str, paths: list[str]) -> Visit:
    """Open each page in turn in one fresh context and check it once loaded and settled."""
    seen = Visit(base)
    context = browser.new_context(service_workers="block")
    context.route(seen.elsewhere, seen.route)
    page = context.new_page()
    page.on("console", seen.console)
    page.on("dialog", seen.dialog)
    page.on("popup", lambda popup: seen.problems.append(f"{seen.current}: a popup opened"))
    for path in paths:
        seen.current = path
        response = page.goto(base + path, wait_until="load")
        if response is None or response.status != 200:
            seen.problems.append(f"{path}: status {response.status if response else None}")
        page.wait_for_timeout(SETTLE_MS)
        if page.url != base + path:
            seen.problems.append(f"{path}: navigated to {page.url}")
        try:
            ran = page.evaluate(CANARY)
        except Exception as error:  # noqa: BLE001 - a page that took the document away
            ran = f"the page could not be inspected: {str(error)[:100]}"
        if ran != ["undefined", "undefined"]:
            seen.problems.append(f"{path}: script ran or the page changed ({ran})")
    context.close()
    return seen


def _report(seen: Visit) -> str:
    return f"{seen.problems[:10]} offsite={seen.offsite[:10]} csp-reports={seen.csp[:10]}"


def test_hostile_pages_run_nothing_and_load_nothing(browser: Any, served: Archive) -> None:
    seen = visit(browser, served.base, served.messages + served.threads)
    assert not seen.problems, _report(seen)
    assert not seen.offsite, _report(seen)


def test_images_load_only_when_asked_and_still_nothing_runs(browser: Any,
                                                            served: Archive) -> None:
    hostile = [p + "?images=1" for p in served.messages if p.startswith("/hostile/")]
    seen = visit(browser, served.base, hostile)
    assert not seen.problems, _report(seen)
    kinds = {kind for _, kind, _ in seen.offsite}
    assert kinds == {"image"}, _report(seen)
    hosts = {urlsplit(url).hostname for _, _, url in seen.offsite}
    assert "evil.example" in hosts, "the reader asked: the remote images are requested"
    assert len({page for page, _, _ in seen.offsite}) >= 3

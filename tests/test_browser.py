"""A real browser (Debian's Chromium, headless) against a real server: layout at phone and desktop
sizes, accessibility (axe-core), and hostile mail staying inert. Screenshots are kept for people
to look at in /tmp/mailarchive-shots."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from conftest import Archive
from mailarchive.store import Store
from mailarchive.web import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
SIZES = {"phone": (390, 844), "desktop": (1280, 900)}
SHOTS = Path("/tmp/mailarchive-shots")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(archive: Archive) -> Iterator[str]:
    port = _free_port()
    config = uvicorn.Config(create_app(archive.path), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages(archive: Archive) -> dict[str, str]:
    """One page of each kind, from the sample list when there is one."""
    name = "salon" if "salon" in archive.lists else "test"
    store = Store(archive.path, create=False)
    mlist = store.get_list(name)
    assert mlist is not None
    rows = list(store.iter_messages(mlist))
    month = rows[0].month.replace("-", "/")
    richest = max(rows, key=lambda r: (r.attachments, r.size))
    store.close()
    return {"home": "/", "list": f"/{name}/", "month": f"/{name}/{month}/",
            "message": f"/{name}/msg{richest.num}.html", "reply": f"/{name}/msg2.html",
            "thread": f"/{name}/thread/{rows[0].thread}.html"}


def screenshot(page: object, path: Path) -> None:
    """Chromium sometimes refuses one capture ("Unable to capture screenshot", most often the first
    after a cold start) and takes the same picture when asked again; the pictures are for people to
    look at, so a refusal is retried rather than failing a test about layout."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
            return
        except Error as error:
            if "Unable to capture screenshot" not in str(error) or attempt == 2:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("shots")
    yield folder
    SHOTS.mkdir(exist_ok=True)
    for shot in folder.glob("*.png"):
        shutil.copy(shot, SHOTS / shot.name)


@pytest.mark.parametrize("size", SIZES)
def test_pages_look_right_and_pass_axe(server: str, chromium: object, pages: dict[str, str],
                                       shots: Path, size: str) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    width, height = SIZES[size]
    context = chromium.new_context(viewport={"width": width, "height": height})  # type: ignore[attr-defined]
    page = context.new_page()
    axe = Axe()
    problems = []
    for kind, path in pages.items():
        response = page.goto(server + path)
        assert response is not None and response.status == 200, path
        screenshot(page, shots / f"{kind}-{width}.png")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} scrolls sideways at {width}px ({scroll}px wide)"
        results = axe.run(page)
        problems += [(path, v["id"], v["impact"], v["help"]) for v in
                     results.response["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    assert not problems, problems


def test_dark_mode(server: str, chromium: object, pages: dict[str, str], shots: Path) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844},  # type: ignore[attr-defined]
                                   color_scheme="dark")
    page = context.new_page()
    page.goto(server + pages["reply"])
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    screenshot(page, shots / "message-dark-390.png")
    context.close()


def test_quotes_fold_without_javascript(server: str, chromium: object) -> None:
    context = chromium.new_context(java_script_enabled=False)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(server + "/test/msg4.html")
    quote = page.locator("details.quote").first
    assert quote.get_attribute("open") is not None
    quote.locator("summary").first.click()
    assert quote.get_attribute("open") is None
    context.close()


def test_hostile_mail_runs_nothing_and_loads_nothing(server: str, chromium: object,
                                                     archive: Archive) -> None:
    if "hostile" not in archive.lists:
        pytest.skip("no hostile test mail")
    store = Store(archive.path, create=False)
    mlist = store.get_list("hostile")
    assert mlist is not None
    paths = [f"/hostile/msg{r.num}.html" for r in store.iter_messages(mlist)]
    paths += [f"/hostile/thread/{r.thread}.html" for r in store.iter_messages(mlist)][:5]
    store.close()
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    for path in paths:
        page.goto(server + path)
        assert page.evaluate("typeof window.__pwned") == "undefined", path
    context.close()
    assert not [url for url in requests if not url.startswith(server)]

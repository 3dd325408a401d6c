"""Hostile mail against every output (invariants 4 and 5).

The hostile and broken test mail (tests/data) is imported into an archive of its own, with
addresses hidden as lists have them by default. Then every output is checked: every page the
server links to (crawled from the home page, plus each message with ?images=1) is parsed with a
real HTML parser (html5lib) and must carry no active content and the safe headers; every
download and attachment must carry its own sandboxing headers and a safe file name; the Atom
feeds must be well-formed with nothing but text in them; the search page, feed and JSON API
likewise; and every file of a static export must lie inside its folder, under a safe name.
Addresses must be hidden in all of it. The raw downloads' address hiding is tested with both
settings, and the administrator's `export-mbox` stays byte-exact.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import html5lib  # type: ignore[import-untyped]
import nh3
import pytest
from starlette.testclient import TestClient

from mailarchive.cli import write_mbox
from mailarchive.export import export
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.parse import RASTER_IMAGES
from mailarchive.render import filters, urls
from mailarchive.render.body import filename_of, parts_and_payloads, parts_of
from mailarchive.render.downloads import hide_addresses, public_raw
from mailarchive.render.manifest import MANIFEST
from mailarchive.render.sanitize import MAX_NESTING, sanitize
from mailarchive.sources.mbox import read_mbox
from mailarchive.store import Store
from mailarchive.web import create_app

DATA = Path(__file__).parent / "data"
LISTS = ("hostile", "broken")
SERVER = "http://testserver"
ADDRESS = re.compile(filters.ADDRESS)

# --- the archive ----------------------------------------------------------------------------


def build_hostile(folder: Path) -> Path:
    """An archive with the `hostile` and `broken` lists (addresses hidden, the default)."""
    store = Store(folder)
    for name in LISTS:
        mlist = store.ensure_list(name)
        assert mlist.obfuscate, "lists hide addresses unless told otherwise"
        raws = [RawMessage(p.read_bytes(), str(p)) for p in sorted((DATA / name).glob("*.eml"))]
        ingest(store, mlist, raws, workers=1)
    store.close()
    return folder


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (DATA / "hostile").is_dir():
        pytest.skip("no hostile test mail")
    return build_hostile(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def client(hostile: Path) -> Iterator[TestClient]:
    with TestClient(create_app(hostile), raise_server_exceptions=True) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def store(hostile: Path) -> Iterator[Store]:
    opened = Store(hostile, create=False)
    yield opened
    opened.close()


# --- the checker: active content in HTML ----------------------------------------------------

# elements that run, embed, navigate or restyle, whatever their attributes
FORBIDDEN = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "svg",
    "math", "template", "noscript", "portal", "fencedframe", "isindex", "textarea", "keygen",
    "audio", "video", "source", "track", "picture", "canvas", "marquee", "param", "image", "use",
    "foreignobject", "set", "animate", "xmp", "noembed", "noframes", "plaintext", "area", "map",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "srcset", "poster", "background", "data", "codebase",
    "cite", "longdesc", "lowsrc", "dynsrc", "ping", "manifest", "icon", "archive", "classid",
    "usemap", "profile", "xlink:href",
})
# attributes whose URL the browser fetches by itself, without the reader asking
LOADING = frozenset({"src", "srcset", "poster", "background", "data", "codebase", "lowsrc",
                     "dynsrc", "manifest", "icon", "archive", "classid", "ping"})
NAVIGATION_SCHEMES = frozenset({"http", "https", "ftp", "mailto"})
CSS_ACTIVE = ("url(", "expression(", "@import", "behavior", "-moz-binding", "javascript:",
              "image-set(", "binding")
LINK_RELS = frozenset({"stylesheet", "alternate", "icon", "canonical"})


def _local(name: str) -> str:
    """`{http://www.w3.org/1999/xlink}href` -> `xlink:href`; `{html}div` -> `div`."""
    if name.startswith("{"):
        space, _, local = name[1:].partition("}")
        return f"xlink:{local}" if space.endswith("xlink") else local.lower()
    return name.lower()


def _scheme(url: str) -> str:
    """The scheme a browser would see: whitespace and controls removed, case folded."""
    squeezed = re.sub(r"[\x00-\x20\x7f]+", "", url).lower()
    match = re.match(r"([a-z][a-z0-9+.-]*):", squeezed)
    return match.group(1) if match else ""


def _elsewhere(url: str) -> bool:
    """Whether a URL leaves this site (another host, or a scheme of its own)."""
    squeezed = re.sub(r"[\x00-\x20\x7f]+", "", url).replace("\\", "/")
    return bool(_scheme(url)) or squeezed.startswith("//")


def _urls(attribute: str, value: str) -> list[str]:
    if attribute == "srcset":
        return [candidate.strip().split(" ")[0] for candidate in value.split(",")]
    if attribute == "ping":
        return value.split()
    return [value]


Document = Any  # an html5lib etree root element


def parse(text: str | Document) -> Document:
    """A page as a real browser's parser reads it (html5lib implements the WHATWG algorithm)."""
    if not isinstance(text, str):
        return text
    return html5lib.parse(text, treebuilder="etree", namespaceHTMLElements=False)


def active_content(text: str | Document, images: bool = False,
                   refresh_ok: bool = False) -> list[str]:
    """Everything in an HTML document that could run, load or restyle something: empty when the
    page is inert. `images`: remote <img src> is allowed (the reader asked for images);
    `refresh_ok`: a <meta refresh> to a page of this site is allowed (export redirect stubs)."""
    document = parse(text)
    found: list[str] = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        tag = _local(element.tag)
        attributes = {_local(k): v for k, v in element.attrib.items()}
        where = f"<{tag} {attributes}>"[:300]
        if tag in FORBIDDEN or element.tag.startswith("{"):
            found.append(f"element {where}")
        if tag == "meta" and "http-equiv" in attributes:
            target = attributes.get("content", "").partition("url=")[2]
            if not (refresh_ok and attributes["http-equiv"].lower() == "refresh" and target
                    and not _elsewhere(target)):
                found.append(f"meta http-equiv {where}")
        if tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if not rels <= LINK_RELS or _elsewhere(attributes.get("href", "")):
                found.append(f"link {where}")
        if tag == "form" and (_elsewhere(attributes.get("action", ""))
                              or attributes.get("method", "get").lower() != "get"):
            found.append(f"form {where}")
        if tag == "input" and attributes.get("type", "").lower() in ("password", "image", "file"):
            found.append(f"input {where}")
        if "target" in attributes and "noopener" not in attributes.get("rel", "").split():
            found.append(f"target without noopener {where}")
        for name, value in attributes.items():
            if name.startswith("on") or name in ("srcdoc", "formaction", "is"):
                found.append(f"attribute {name} {where}")
            if name == "style":
                css = re.sub(r"/\*.*?\*/|\\|\s", "", value, flags=re.S).lower()
                if any(token in css for token in CSS_ACTIVE):
                    found.append(f"active style {where}")
            if name not in URL_ATTRIBUTES:
                continue
            for url in _urls(name, value):
                scheme = _scheme(url)
                if scheme and scheme not in NAVIGATION_SCHEMES:
                    found.append(f"{scheme}: URL in {name} {where}")
                loads = name in LOADING or (tag == "link" and name == "href")
                remote_image = images and tag == "img" and name == "src" and scheme in (
                    "http", "https")
                if loads and _elsewhere(url) and not remote_image:
                    found.append(f"remote load {name} {where}")
    return found


def _document_text(text: str | Document) -> str:
    return "".join(parse(text).itertext())


def exposed(text: str, mids: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Addresses shown whole (not `r...@domain`), Message-IDs aside (they are identifiers)."""
    return [m.group(0) for m in ADDRESS.finditer(text) if "...@" not in m.group(0)
            and not any(m.group(0) in mid or m.group(0).endswith("/" + mid) for mid in mids)]


def _page_strings(text: str | Document) -> str:
    """Text and attribute values of a page: where an address could be shown or leak."""
    document = parse(text)
    pieces = list(document.itertext())
    for element in document.iter():
        pieces.extend(unquote(v) for k, v in element.attrib.items() if isinstance(k, str))
    return "\n".join(pieces)


# --- the checker: headers --------------------------------------------------------------------


def csp_directives(value: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for item in value.split(";"):
        words = item.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def page_header_problems(response: Any) -> list[str]:
    headers = response.headers
    problems = []
    csp = csp_directives(headers.get("content-security-policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None or any(s in ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:",
                                    "https:", "blob:") for s in scripts):
        problems.append(f"CSP allows script: {headers.get('content-security-policy')}")
    if csp.get("object-src", csp.get("default-src")) != ["'none'"]:
        problems.append("CSP allows plugins")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append("CSP lacks frame-ancestors 'none'")
    if csp.get("base-uri") not in (["'none'"], ["'self'"]):
        problems.append("CSP lacks base-uri")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no nosniff")
    if headers.get("referrer-policy") not in ("no-referrer", "same-origin"):
        problems.append(f"referrer policy {headers.get('referrer-policy')}")
    return problems


_DISPOSITION = re.compile(r"(attachment|inline); filename=\"([^\"]*)\"; filename\*=UTF-8''(\S*)\Z")
_RESERVED = re.compile(r"(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?\Z", re.I)


def filename_problems(name: str) -> list[str]:
    """What makes a file name unsafe to save or to serve from a folder."""
    problems = []
    if not name or name.startswith(".") or len(name.encode("utf-8")) > 255:
        problems.append("empty, hidden or over-long")
    if any(c in name for c in "/\\\x00") or any(unicodedata.category(c) in ("Cc", "Cf")
                                                  for c in name):
        problems.append("path separator or control/format character")
    if _RESERVED.match(name):
        problems.append("reserved device name")
    if re.search(r"\.(html?|xhtml|svgz?|xml|js|mjs|htaccess)\Z", name, re.I):
        problems.append("an extension a server would serve as active content")
    return [f"{name!r}: {p}" for p in problems]


def download_problems(response: Any, kind: str = "attachment") -> list[str]:
    headers = response.headers
    problems = []
    if response.status_code != 200:
        return [f"status {response.status_code}"]
    match = _DISPOSITION.match(headers.get("content-disposition", ""))
    if match is None or match.group(1) != kind:
        problems.append(f"disposition {headers.get('content-disposition')!r}")
    else:
        problems += filename_problems(match.group(2)) + filename_problems(unquote(match.group(3)))
        if not match.group(2).isascii():
            problems.append("non-ASCII fallback name")
    csp = csp_directives(headers.get("content-security-policy", ""))
    if "sandbox" not in csp or csp.get("default-src") != ["'none'"]:
        problems.append(f"download CSP {headers.get('content-security-policy')}")
    if headers.get("x-content-type-options") != "nosniff":
        problems.append("no nosniff")
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype.startswith("image/") and ctype not in RASTER_IMAGES:
        problems.append(f"image type {ctype}")
    if any(word in ctype for word in ("html", "svg", "xml", "script", "javascript")):
        problems.append(f"active type {ctype}")
    return problems


def test_the_checker_sees_what_the_fixtures_carry() -> None:
    """Each hostile HTML part, unsanitized, is caught by the checker; sanitized, nothing is."""
    seen = 0
    for path in sorted((DATA / "hostile").glob("*.eml")):
        for part in parts_of(path.read_bytes()):
            if part.kind != "html":
                continue
            seen += 1
            assert active_content(part.text), f"the checker misses {path.name}"
            for images in (False, True):
                cleaned = sanitize(part.text, images=images).html
                assert active_content(str(cleaned), images=images) == [], path.name
    assert seen >= 25


# --- crawling the server -------------------------------------------------------------------


@dataclass
class Crawl:
    pages: dict[str, Document]  # HTML pages: path -> parsed document
    downloads: dict[str, Any]  # everything else: path -> response
    problems: list[str]


def _same_site(page: str, link: str) -> str | None:
    absolute = urljoin(SERVER + page, link)
    parts = urlsplit(absolute)
    if absolute.startswith(SERVER + "/") and not parts.fragment.startswith("/"):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


def _wanted(path: str) -> bool:
    first = path.lstrip("/").split("/", 1)[0].split("?")[0]
    return first in ("", *LISTS, "mid", "search", "api", "-")


def crawl(client: TestClient, start: list[str]) -> Crawl:
    """Every page reachable from `start` within the hostile lists, each fetched once."""
    seen = set(start)
    todo = list(start)
    found = Crawl({}, {}, [])
    while todo:
        path = todo.pop()
        response = client.get(path, follow_redirects=False)
        if response.status_code in (301, 302):
            target = _same_site(path, response.headers["location"])
            if target is None:
                found.problems.append(f"{path}: redirect off the site")
            elif target not in seen and _wanted(target):
                seen.add(target)
                todo.append(target)
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):
            found.downloads[path] = response
            continue
        document = found.pages[path] = parse(response.text)
        if response.status_code != 200:
            found.problems.append(f"{path}: status {response.status_code}")
        problems = page_header_problems(response)
        found.problems += [f"{path}: {p}" for p in problems]
        if path.endswith("?images=1"):
            csp = csp_directives(response.headers["content-security-policy"])
            if "https:" not in csp["img-src"]:
                found.problems.append(f"{path}: remote images not allowed when asked")
        elif csp_directives(response.headers["content-security-policy"])["img-src"] != [
                "'self'", "data:"]:
            found.problems.append(f"{path}: remote images allowed unasked")
        for element in document.iter():
            link = element.get("href") if isinstance(element.tag, str) else None
            if element.tag == "img":
                link = element.get("src")
            target = _same_site(path, link) if link else None
            if target and target not in seen and _wanted(target):
                seen.add(target)
                todo.append(target)
    return found


def _message_paths(store: Store) -> list[str]:
    paths = []
    for name in LISTS:
        mlist = store.get_list(name)
        assert mlist is not None
        for row in store.iter_messages(mlist):
            paths += [f"/{name}/msg{row.num}.html", f"/{name}/msg{row.num}.html?images=1",
                      f"/{name}/thread/{row.thread}.html"]
    return paths


@pytest.fixture(scope="module")
def crawled(client: TestClient, store: Store) -> Crawl:
    start = ["/", *(f"/{name}/" for name in LISTS), *_message_paths(store)]
    return crawl(client, start)


# --- the tests: the server ------------------------------------------------------------------


def test_the_crawl_reaches_every_kind_of_output(crawled: Crawl, store: Store) -> None:
    """Every page crawled answered 200 with the safe headers (CSP without script, nosniff,
    referrer policy, frame-ancestors 'none'; remote images allowed only on ?images=1)."""
    assert not crawled.problems, crawled.problems[:10]
    pages = set(crawled.pages)
    kinds = {"month by thread": r"/\d{4}/\d\d/\Z", "month by date": r"/\d{4}/\d\d/date\.html",
             "month by author": r"/\d{4}/\d\d/author\.html", "thread": r"/thread/\d+\.html\Z",
             "images": r"\?images=1\Z", "message": r"/msg\d+\.html\Z"}
    for kind, pattern in kinds.items():
        assert any(re.search(pattern, p) for p in pages), f"no {kind} page crawled"
    downloads = set(crawled.downloads)
    for kind, pattern in {"raw": r"\.eml\Z", "month mbox": r"/\d{4}-\d\d\.mbox\.gz\Z",
                          "thread mbox": r"/thread/\d+\.mbox\.gz\Z", "feed": r"feed\.atom\Z",
                          "attachment": r"/msg\d+/\d+/"}.items():
        assert any(re.search(pattern, p) for p in downloads), f"no {kind} crawled"
    total = sum(1 for name in LISTS for _ in store.iter_messages(store.get_list(name)))  # type: ignore[arg-type]
    assert sum(1 for p in pages if re.search(r"/msg\d+\.html\Z", p)) == total


def test_every_page_is_inert(crawled: Crawl) -> None:
    problems = []
    for path, document in crawled.pages.items():
        images = path.endswith("?images=1")
        problems += [f"{path}: {p}" for p in active_content(document, images=images)]
    assert not problems, problems[:20]


def test_remote_images_load_only_when_asked(crawled: Crawl) -> None:
    asked = 0
    for path, document in crawled.pages.items():
        remote = [img.get("src") for img in document.iter("img")
                  if _elsewhere(img.get("src") or "")]
        if path.endswith("?images=1"):
            asked += bool(remote)
            assert all(_scheme(url) in ("http", "https") for url in remote), remote
        else:
            assert not remote, (path, remote)
    assert asked >= 3, "the hostile mail's remote images appear when the reader asks"


def test_every_download_and_attachment_is_inert(crawled: Crawl) -> None:
    problems = []
    attachments = 0
    for path, response in crawled.downloads.items():
        if "/-/static/" in path:
            assert response.headers["content-type"].startswith("text/css")
            continue
        if path.endswith(".atom"):
            continue  # test_feeds_are_text_only
        if re.search(r"/msg\d+/\d+/", path):
            attachments += 1
            problems += [f"{path}: {p}" for p in download_problems(response)]
        elif path.endswith(".eml"):
            assert response.headers["content-type"].startswith("text/plain; charset=")
            assert response.headers["content-disposition"].startswith("inline; ")
            problems += [f"{path}: {p}" for p in download_problems(response, "inline")]
        else:
            assert path.endswith(".mbox.gz"), path
            assert response.headers["content-type"] == "application/gzip"
            problems += [f"{path}: {p}" for p in download_problems(response)]
    assert not problems, problems[:20]
    assert attachments >= 18  # broken multiparts (boundary never found) are shown as text


def test_active_attachments_are_never_served_as_themselves(client: TestClient,
                                                           store: Store) -> None:
    """SVG, HTML and lying image types: opaque bytes or plain text, as a download."""
    mlist = store.get_list("hostile")
    assert mlist is not None
    checked = 0
    for row in store.iter_messages(mlist):
        for part in parts_of(store.raw(row)):
            if part.kind != "attachment":
                continue
            response = client.get("/" + urls.attachment("hostile", row.num, part.index,
                                                         filename_of(part)))
            served = response.headers["content-type"].split(";")[0]
            if part.content_type in ("image/svg+xml", "text/html", "application/xhtml+xml"):
                checked += 1
                assert served in ("text/plain", "application/octet-stream"), served
            assert response.headers["content-disposition"].startswith("attachment;")
            assert download_problems(response) == [], (row.subject, part.filename)
    assert checked >= 2


def test_file_names_from_mail_never_choose_a_path(client: TestClient, store: Store) -> None:
    """Traversal, absolute, NUL, reserved, hidden, over-long and CR LF names, in the URL, the
    Content-Disposition and the name shown."""
    mlist = store.get_list("hostile")
    assert mlist is not None
    names = {}
    for row in store.iter_messages(mlist):
        for part in parts_of(store.raw(row)):
            if part.kind == "attachment" and part.filename:
                names[part.filename] = (row, part)
    for hostile_name in ("../../etc/passwd", "/etc/shadow", "..\\..\\win.ini", ".htaccess", "CON"):
        assert hostile_name in names, f"the fixture with {hostile_name!r} was imported"
    for original, (row, part) in names.items():
        safe = filename_of(part)
        assert filename_problems(safe) == [], original
        target = urls.attachment("hostile", row.num, part.index, safe)
        assert target.count("/") == 3 and unquote(target.rsplit("/", 1)[1]) == safe
        response = client.get("/" + target)
        assert download_problems(response) == [], original
        assert "\r" not in response.headers["content-disposition"]


def test_feeds_are_text_only(crawled: Crawl) -> None:
    atom = "{http://www.w3.org/2005/Atom}"
    allowed = {"feed", "title", "id", "updated", "link", "generator", "entry", "author", "name",
               "summary"}
    feeds = [p for p in crawled.downloads if p.endswith(".atom")]
    assert len(feeds) == len(LISTS)
    for path in feeds:
        response = crawled.downloads[path]
        assert response.headers["content-type"].startswith("application/atom+xml")
        assert page_header_problems(response) == []
        root = ET.fromstring(response.content)
        for element in root.iter():
            assert element.tag.startswith(atom) and element.tag[len(atom):] in allowed, element.tag
            assert element.get("type") in (None, "text", "application/atom+xml", "text/html")
            if element.tag == atom + "link":
                assert not _elsewhere(element.get("href", "")), element.get("href")
        text = "\n".join(root.itertext())
        assert not exposed(text), exposed(text)[:5]
    hostile_feed = ET.fromstring(crawled.downloads["/hostile/feed.atom"].content)
    titles = [e.text or "" for e in hostile_feed.iter(atom + "title")]
    assert any("<script>" in t for t in titles), "markup in subjects is kept as text"


def test_payloads_are_shown_as_text(crawled: Crawl, store: Store) -> None:
    """Subjects, names, file names and Message-IDs made of markup reach the page as text: the
    parsed page's text holds them, character for character (addresses hidden)."""
    mlist = store.get_list("hostile")
    assert mlist is not None
    checked = 0
    for row in store.iter_messages(mlist):
        text = _document_text(crawled.pages[f"/hostile/msg{row.num}.html"])
        subject = filters.obfuscate_text(row.subject).strip()
        assert subject in text, row.subject
        assert filters.clean(row.message_id) in text, row.message_id
        for part in parts_of(store.raw(row)):
            if part.kind == "attachment" and part.filename:
                assert filters.obfuscate_text(part.filename) in text, part.filename
                checked += "<" in part.filename
        checked += "<" in row.subject + row.message_id
    assert checked >= 4


def test_addresses_are_hidden_in_every_page_and_download(crawled: Crawl, store: Store) -> None:
    mids = {row.message_id for name in LISTS
            for row in store.iter_messages(store.get_list(name))}  # type: ignore[arg-type]
    senders = _senders(store)
    assert len(senders) >= 3
    problems = []
    for path, document in crawled.pages.items():
        problems += [f"{path}: {a}" for a in exposed(_page_strings(document), mids)]
    for path, response in crawled.downloads.items():
        data = response.content
        if path.endswith(".mbox.gz"):
            data = gzip.decompress(data)
        problems += [f"{path}: {s}" for s in senders if s.encode() in data]
    assert not problems, problems[:20]


def _senders(store: Store) -> set[str]:
    """The whole sender addresses of the hostile lists (those with more than one character
    before the @, so that hiding them is visible)."""
    return {row.from_addr for name in LISTS
            for row in store.iter_messages(store.get_list(name))  # type: ignore[arg-type]
            if "@" in row.from_addr and len(row.from_addr.partition("@")[0]) > 1}


def test_search_outputs_are_inert_and_hide_addresses(client: TestClient, store: Store) -> None:
    senders = _senders(store)
    queries = ["script", "hostile", "pwned", "evil", "from:evil.example", "onerror", '"<script>"']
    found = 0
    for q in queries:
        page = client.get("/search", params={"q": q})
        if page.status_code == 404:
            pytest.skip("no search pages in this build")
        assert page.status_code in (200, 400), (q, page.status_code)
        assert active_content(page.text) == [], q
        assert page_header_problems(page) == [], q
        assert not [s for s in senders if s in _page_strings(page.text)], q
        api = client.get("/api/search", params={"q": q})
        assert api.status_code in (200, 400)
        assert api.headers["content-type"].startswith("application/json")
        assert api.headers["x-content-type-options"] == "nosniff"
        strings = json.dumps(api.json(), ensure_ascii=False)
        assert not [s for s in senders if s in strings], q
        found += len(api.json().get("hits", []))
        feed = client.get("/search.atom", params={"q": q})
        if feed.status_code == 200:
            ET.fromstring(feed.content)
            assert feed.headers["content-type"].startswith("application/atom+xml")
            assert not [s for s in senders if s in feed.text], q
        mbox = client.get("/search.mbox.gz", params={"q": q})
        if mbox.status_code == 200:
            assert download_problems(mbox) == []
            assert not [s for s in senders if s.encode() in gzip.decompress(mbox.content)], q
    assert found, "the queries find the hostile mail"


def test_error_pages_are_inert(client: TestClient) -> None:
    for path in ("/hostile/msg99999.html", "/mid/%22%3E%3Cscript%3Ewindow.__pwned=1%3C/script%3E",
                 "/%3Cscript%3E/", "/hostile/2024/13/", "/hostile/msg1/99/x.html",
                 "/hostile/msg1.html?images=%22%3E%3Cscript%3E"):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert active_content(response.text) == [], path
        assert page_header_problems(response) == [], path
    shown = client.get("/mid/%22%3E%3Cscript%3Ewindow.__pwned=1%3C/script%3E")
    assert '"><script>window.__pwned=1</script>' in _document_text(shown.text)


# --- the tests: the static export --------------------------------------------------------------


@pytest.fixture(scope="module")
def site(hostile: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "site"
    opened = Store(hostile, create=False)
    export(opened, out, workers=1)
    opened.close()
    return out


def test_export_stays_in_its_folder_under_safe_names(site: Path, store: Store) -> None:
    root = site.resolve()
    assert [p.name for p in site.parent.iterdir()] == ["site"], "nothing written beside it"
    for path in site.rglob("*"):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(root), path
        name = path.name
        assert re.fullmatch(r"[\w.\-+()~,=@!$&'*;%]+", name) and not name.startswith(".") or \
            name == MANIFEST, name
        assert len(name.encode()) <= 255 and not _RESERVED.match(name), name
    for name in LISTS:
        mlist = store.get_list(name)
        assert mlist is not None
        for row in store.iter_messages(mlist):
            parts, _ = parts_and_payloads(store.raw(row))
            for part in parts:
                if part.kind != "attachment":
                    continue
                folder = site / name / f"msg{row.num}" / str(part.index)
                assert [p.name for p in folder.iterdir()] == [filename_of(part)]


def test_every_exported_file_is_inert(site: Path, store: Store) -> None:
    mids = {row.message_id for name in LISTS
            for row in store.iter_messages(store.get_list(name))}  # type: ignore[arg-type]
    problems = []
    count = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.name == MANIFEST:
            continue
        count += 1
        rel = str(path.relative_to(site))
        if path.suffix == ".html":
            text = path.read_text("utf-8")
            stub = rel.startswith("mid/")
            problems += [f"{rel}: {p}" for p in active_content(text, refresh_ok=stub)]
            problems += [f"{rel}: {a}" for a in exposed(_page_strings(text), mids)]
        elif path.suffix == ".atom":
            root = ET.fromstring(path.read_bytes())
            assert not exposed("\n".join(root.itertext()))
        elif re.search(r"/msg\d+/\d+/", "/" + rel):
            assert filename_problems(path.name) == [], rel
    assert count > 200
    assert not problems, problems[:20]


def test_export_downloads_hide_addresses(site: Path, store: Store) -> None:
    for name in LISTS:
        mlist = store.get_list(name)
        assert mlist is not None
        for row in store.iter_messages(mlist):
            stored = store.raw(row)
            assert (site / name / f"msg{row.num}.eml").read_bytes() == public_raw(stored)
            if "@" in row.from_addr and len(row.from_addr.partition("@")[0]) > 1:
                assert row.from_addr.encode() not in public_raw(stored), row.subject


# --- addresses in raw downloads: both settings ---------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def mixed_message() -> bytes:
    """Addresses everywhere a message can hold them: headers, 8bit text, quoted-printable,
    base64 text, a patch attachment, a uuencoded block, a binary image, an inner message."""
    b64_text = base64.encodebytes(b"Write to ralf@linux-mips.org or to the list.\n").decode()
    png = base64.encodebytes(PNG + b"@linux-mips.org").decode()
    uu = "begin 644 x.bin\nM@ABC.DE@linux-mips.org\n`\nend\n"
    return "\n".join([
        "From: Ralf Baechle <ralf@linux-mips.org>",
        "To: linux-mips@linux-mips.org",
        "Cc: \"Bob\" <bob.smith@example.com>, list-bounces+user=example.com@lists.example.org",
        "Subject: addresses everywhere",
        "Date: Wed, 01 May 2024 10:00:00 +0200",
        "Message-ID: <20240501.ralf@linux-mips.org>",
        "References: <parent.bob@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: multipart/mixed; boundary=\"=_outer\"",
        "",
        "Preamble for ralf@linux-mips.org.",
        "--=_outer",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "Hi bob.smith@example.com, ask ralf@linux-mips.org (cid:img1@linux-mips.org stays).",
        uu,
        "--=_outer",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "Mail =3Dralf@linux-mips.org or ralf@linux-mips.org=",
        " please.",
        "--=_outer",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64_text,
        "--=_outer",
        "Content-Type: text/x-patch; name=\"fix.patch\"",
        "Content-Disposition: attachment; filename=\"fix.patch\"",
        "",
        "Signed-off-by: Ralf Baechle <ralf@linux-mips.org>",
        "--=_outer",
        "Content-Type: image/png; name=\"dot.png\"",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <img1@linux-mips.org>",
        "",
        png,
        "--=_outer",
        "Content-Type: message/rfc822",
        "",
        "From: Inner Person <inner.person@example.com>",
        "Subject: inner",
        "",
        "Inner body, inner.person@example.com.",
        "--=_outer--",
        "Epilogue: ralf@linux-mips.org",
        "",
    ]).encode()


def test_public_raw_hides_addresses_and_keeps_the_structure() -> None:
    original = mixed_message()
    hidden = public_raw(original)
    for address in (b"ralf@linux-mips.org", b"bob.smith@example.com", b"inner.person@example.com",
                    b"linux-mips@linux-mips.org", b"user=example.com@lists.example.org"):
        visible = hidden.replace(b"<20240501.ralf@linux-mips.org>", b"")
        visible = visible.replace(b"cid:img1@linux-mips.org", b"")
        visible = visible.replace(b"<img1@linux-mips.org>", b"").replace(b"<parent.bob@", b"")
        assert address not in visible, address
    assert b"From: Ralf Baechle <r...@linux-mips.org>" in hidden
    assert b"Message-ID: <20240501.ralf@linux-mips.org>" in hidden
    assert b"References: <parent.bob@example.com>" in hidden
    assert b"Content-ID: <img1@linux-mips.org>" in hidden
    assert b"Mail =3D...@linux-mips.org" in hidden, "a quoted-printable escape is kept whole"
    assert b"begin 644 x.bin\nM@ABC.DE@linux-mips.org\n`\nend\n" in hidden
    before, payloads_before = parts_and_payloads(original)
    after, payloads_after = parts_and_payloads(hidden)
    assert [(p.kind, p.content_type, p.index, p.filename) for p in before] == \
        [(p.kind, p.content_type, p.index, p.filename) for p in after]
    png = next(p.index for p in before if p.content_type == "image/png")
    assert payloads_after[png] == payloads_before[png] == PNG + b"@linux-mips.org"
    texts = [p.text for p in after if p.kind == "text"]
    assert "Write to r...@linux-mips.org or to the list.\n" in texts, "base64 text re-encoded"
    assert "Mail =...@linux-mips.org or r...@linux-mips.org please." in "".join(texts)
    assert public_raw(original, hide=False) is original


def test_public_raw_survives_the_broken_and_hostile_mail() -> None:
    for path in sorted(DATA.glob("*/*.eml")):
        original = path.read_bytes()
        hidden = public_raw(original)
        assert len(hidden) <= len(original), path.name
        before = [(p.kind, p.content_type, p.index) for p in parts_of(original)]
        assert [(p.kind, p.content_type, p.index) for p in parts_of(hidden)] == before, path.name
        assert public_raw(hidden) == hidden, f"{path.name}: hiding twice changes nothing more"


def test_message_id_attr_break_is_no_folder_name() -> None:
    """Regression (message-id-attr-break): a Message-ID such as `"` became a folder of the
    static export (mid/"/index.html), a name Windows cannot hold; such ids get no stub."""
    for bad in ('"', '"><svg onload=x>', "a:b@c", "a|b@c", "a*b@c", "a?b@c", "con", "CON.x@y",
                "trailing.", "trailing "):
        assert not urls.mid_ok(bad), bad
    assert urls.mid_ok("20240501.1234@example.org") and urls.mid_ok("a+b=c@d.example")


def test_html_deep_nesting_is_flattened() -> None:
    """Regression (html-deep-nesting): 10,000 nested elements reached the reader's browser as
    they came; the sanitizer now drops elements nested deeper than MAX_NESTING, keeping text."""
    cleaned = sanitize("<div>" * 10000 + "deep <b>text</b>" + "</div>" * 10000).html
    assert cleaned.count("<div>") == cleaned.count("</div>") == MAX_NESTING
    assert "deep text" in _document_text(str(cleaned))
    shallow = "<div><table><tr><td><b>x</b></td></tr></table></div>"
    assert str(sanitize(shallow).html) == nh3.clean(shallow)


def test_hide_addresses_keeps_long_runs_hidden_whole() -> None:
    """Regression (render exhaustion): the address pattern was tried at every position of a run
    of address characters (quadratic on `aaaa…@` text, seconds per page); now once per run, and
    a run over 64 characters is hidden whole instead of leaving its start visible."""
    long_local = "x" * 100 + "@evil.example"
    assert filters.obfuscate_text(long_local) == "x...@evil.example"
    assert hide_addresses(long_local.encode()) == b"x...@evil.example"
    url = "https://lists.example.org/mailman/listinfo/a-long-list-name?email=ralf@linux-mips.org"
    assert "ralf@" not in filters.obfuscate_text(url)
    assert b"ralf@" not in hide_addresses(url.encode())
    hostile = ("a" * 60 + "@") * 2000
    assert filters.obfuscate_text(hostile) == hostile and "@" in str(filters.body_html(hostile))


@pytest.fixture(scope="module")
def two_lists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("two-lists")
    opened = Store(folder)
    for name, hide in (("open", False), ("hidden", True)):
        mlist = opened.ensure_list(name, obfuscate=hide)
        ingest(opened, mlist, [RawMessage(mixed_message(), "mixed")], workers=1)
    opened.close()
    return folder


def _unpack(data: bytes) -> list[bytes]:
    lines = io.BytesIO(gzip.decompress(data))
    return [raw.data for raw in read_mbox(lines, "download")]


@pytest.mark.parametrize("name", ["open", "hidden"])
def test_raw_downloads_follow_the_list_setting(two_lists: Path, name: str,
                                               tmp_path: Path) -> None:
    opened = Store(two_lists, create=False)
    mlist = opened.get_list(name)
    assert mlist is not None
    row = next(iter(opened.iter_messages(mlist)))
    stored = opened.raw(row)
    expected = stored if name == "open" else public_raw(stored)
    assert (stored == expected) == (name == "open")
    with TestClient(create_app(two_lists)) as client:
        assert client.get(f"/{name}/msg{row.num}.eml").content == expected
        assert _unpack(client.get(f"/{name}/thread/{row.thread}.mbox.gz").content) == [expected]
        month = client.get(f"/{name}/{row.month}.mbox.gz").content
        assert _unpack(month) == [expected]
        envelope = gzip.decompress(month).split(b"\n", 1)[0]
        assert (b"ralf@linux-mips.org" in envelope) == (name == "open"), envelope
        patch = next(p for p in parts_of(stored) if p.filename == "fix.patch")
        served = client.get("/" + urls.attachment(name, row.num, patch.index,
                                                  filename_of(patch))).content
        assert (b"ralf@linux-mips.org" in served) == (name == "open"), served
    export(opened, tmp_path / "site", workers=1)
    assert (tmp_path / "site" / name / f"msg{row.num}.eml").read_bytes() == expected
    exported = (tmp_path / "site" / urls.file_of(urls.month_mbox(name, row.month))).read_bytes()
    assert _unpack(exported) == [expected]
    out = io.BytesIO()
    write_mbox(opened, mlist, out)
    out.seek(0)
    assert [r.data for r in read_mbox(out, "admin")] == [stored], "export-mbox is byte-exact"
    opened.close()


def test_search_query_strings_are_not_reflected_raw(client: TestClient) -> None:
    q = '"><script>window.__pwned=1</script><img src=x onerror=alert(1)>'
    page = client.get("/search", params={"q": q})
    if page.status_code == 404:
        pytest.skip("no search pages in this build")
    assert active_content(page.text) == []
    assert "<script>window.__pwned=1</script>" in _document_text(page.text)
    links = [a for a in re.findall(r'href="([^"]*)"', page.text) if "q=" in a]
    for link in links:
        values = parse_qs(urlsplit(link.replace("&amp;", "&")).query).get("q", [])
        assert all(v == q for v in values), link

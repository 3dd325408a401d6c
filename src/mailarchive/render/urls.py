"""Site paths: the one URL layout shared by the server and the static export.

A *target* is a site path without the leading slash ("" is the home page, "lm/" a list,
"lm/msg5.html" a message), already percent-encoded. Pages never print absolute links:
`relative(here, target)` turns a target into a link that works from the page at `here`, under any
prefix or folder.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from functools import lru_cache
from urllib.parse import quote

from mailarchive.names import list_ok as list_ok

ORDERS = ("thread", "date", "author")
MAX_NUM = 10**9
_NUM = re.compile(r"[0-9]{1,9}\Z")
_UNSAFE_NAME = re.compile(r"[^\w.\-+()~,=@]+")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# extensions a static web server would serve as active content (HTML, SVG, script)
_ACTIVE = frozenset({"htm", "html", "xhtml", "xht", "shtml", "svg", "svgz", "xml", "xsl", "xslt",
                     "js", "mjs", "css", "swf", "hta", "php", "phtml", "cgi", "pl", "asp", "aspx",
                     "jsp", "mht", "mhtml", "htaccess", "appcache", "manifest"})
_ACTIVE_BINARY = frozenset({"pdf", "swf", "wasm", "jar", "xap"})
_RASTER_EXT = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp",
               "image/bmp": "bmp"}
_RASTER_OK = frozenset({"png", "jpg", "jpeg", "gif", "webp", "bmp"})
_WINDOWS = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                      *(f"lpt{i}" for i in range(10))})
_MID_SAFE = "@!$&'()*+,;=~"
_FOLDER_UNSAFE = re.compile(r'[/\\<>:"|?*]')


def number(text: str) -> int | None:
    """A message or page number from a URL, or None for anything that is not one."""
    if not _NUM.match(text):
        return None
    value = int(text)
    return value if 0 < value < MAX_NUM else None


def list_dir(name: str) -> str:
    return f"{name}/"


def message(name: str, num: int) -> str:
    return f"{name}/msg{num}.html"


def raw(name: str, num: int) -> str:
    return f"{name}/msg{num}.eml"


def thread(name: str, num: int) -> str:
    return f"{name}/thread/{num}.html"


def thread_mbox(name: str, num: int) -> str:
    return f"{name}/thread/{num}.mbox.gz"


def month_mbox(name: str, month: str) -> str:
    return f"{name}/{month}.mbox.gz"


def feed(name: str) -> str:
    return f"{name}/feed.atom"


def static(filename: str) -> str:
    return f"-/static/{filename}"


def month_file(order: str, page: int) -> str:
    if order == "thread" and page == 1:
        return ""
    return f"{order}.html" if page == 1 else f"{order}-{page}.html"


def month(name: str, month: str, order: str = "thread", page: int = 1) -> str:
    year, mm = month.split("-")
    return f"{name}/{year}/{mm}/{month_file(order, page)}"


def attachment(name: str, num: int, index: int, filename: str) -> str:
    return f"{name}/msg{num}/{index}/{quote(filename, safe='')}"


def mid_ok(message_id: str) -> bool:
    """Whether a Message-ID can also be a folder name in the static export, on any system: no
    path parts, controls, characters Windows reserves, device names or trailing dots."""
    return (0 < len(message_id.encode("utf-8", "replace")) <= 200
            and not message_id.startswith(".") and not message_id.endswith((".", " "))
            and not _FOLDER_UNSAFE.search(message_id) and not _CONTROLS.search(message_id)
            and message_id.split(".", 1)[0].lower() not in _WINDOWS)


def mid(message_id: str) -> str:
    return f"mid/{quote(message_id, safe=_MID_SAFE)}/"


def relative(here: str, target: str) -> str:
    """The link from the page at `here` to `target`, both site paths."""
    return _relative(here[:here.rfind("/") + 1], target)


@lru_cache(maxsize=4096)
def _relative(folder: str, target: str) -> str:
    """`relative` from any page in `folder` (the pages of a folder link alike: a page's links
    to the stylesheet, the list and its months repeat on every page)."""
    base = folder.split("/")[:-1]
    parts = target.split("/")
    same = 0
    while same < len(base) and same < len(parts) - 1 and base[same] == parts[same]:
        same += 1
    link = "../" * (len(base) - same) + "/".join(parts[same:])
    if not link or link.startswith(("?", "#")):
        return "./" + link
    first = link.split("/", 1)[0]
    return "./" + link if ":" in first else link


def file_of(target: str) -> str:
    """The file a target is written to in the static export (folders get index.html)."""
    from urllib.parse import unquote

    path = target.split("?", 1)[0].split("#", 1)[0]
    path = unquote(path)
    return path + "index.html" if path == "" or path.endswith("/") else path


def safe_filename(name: str | None, index: int, content_type: str) -> str:
    """An attachment's name made safe for a URL segment and a file in any folder.

    No path parts, controls or odd punctuation; and no extension a static web server would serve
    as active content (".html" becomes ".html.txt"); raster images always carry their own extension.
    """
    base = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE_NAME.sub("_", _CONTROLS.sub("", base)).strip("._")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem, ext = stem[:80], ext[:12]
    if not stem:
        stem = f"attachment-{index}"
    if stem.lower() in _WINDOWS:
        stem = "_" + stem
    ext = _extension(ext, content_type)
    return f"{stem}.{ext}" if ext else stem


def _extension(ext: str, content_type: str) -> str:
    raster = _RASTER_EXT.get(content_type)
    if raster is not None:
        return ext if ext.lower() in _RASTER_OK else raster
    if not ext:
        guessed = mimetypes.guess_extension(content_type) or ".bin"
        ext = guessed.lstrip(".")
    if ext.lower() in _ACTIVE_BINARY:
        return f"{ext}.bin"
    return f"{ext}.txt" if ext.lower() in _ACTIVE else ext

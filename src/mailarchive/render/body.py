"""A message's displayable parts (from its stored bytes) and their HTML: text, HTML, attachments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from mailarchive.model import Part
from mailarchive.parse import (
    STATUS_REPORTS,
    Leaf,
    describe,
    limits_in_use,
    message_from_bytes,
    payload_bytes,
    walk,
)
from mailarchive.render import filters, urls
from mailarchive.render.sanitize import sanitize
from mailarchive.store import ListInfo

OPEN_ATTACHED_LINES = 200  # attached text files up to this long are shown unfolded


@dataclass(frozen=True)
class Attachment:
    target: str
    name: str
    content_type: str
    size: str
    index: int


@dataclass(frozen=True)
class Body:
    html: Markup
    attachments: list[Attachment]
    images: list[Attachment]  # raster images shown below the text
    blocked_images: int  # remote images in HTML parts, not loaded


def parts_of(data: bytes) -> list[Part]:
    """The displayable parts of a message's original bytes (the parse, without the headers)."""
    limits = limits_in_use()
    message, defects = message_from_bytes(data, limits)
    parts = []
    for leaf in walk(message, limits):
        if isinstance(leaf, Leaf):
            part = describe(leaf, limits, defects)
            if part is not None:
                parts.append(part)
    return parts


def attachment_of(data: bytes, index: int) -> tuple[Part, bytes] | None:
    """MIME leaf `index` of a message: its description and decoded content."""
    limits = limits_in_use()
    message, defects = message_from_bytes(data, limits)
    for leaf in walk(message, limits):
        if isinstance(leaf, Leaf) and leaf.index == index:
            part = describe(Leaf(leaf.index, leaf.part, False), limits, defects)
            if part is None:
                return None
            return part, payload_bytes(leaf.part)
    return None


def filename_of(part: Part) -> str:
    return urls.safe_filename(part.filename, part.index, part.content_type)


def attachment(mlist: ListInfo, num: int, part: Part) -> Attachment:
    name = filters.obfuscate_text(part.filename or filename_of(part), mlist.obfuscate)
    return Attachment(urls.attachment(mlist.name, num, part.index, filename_of(part)), name,
                      filters.clean(part.content_type), _size(part.size), part.index)


def _size(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def portable(parts: Sequence[Part]) -> bool:
    """Whether the body's HTML is the same on any page: only inline images that the HTML
    names by Content-ID are linked relative to the page."""
    return not any(p.kind == "attachment" and p.content_id and p.inline_image for p in parts)


def render_body(mlist: ListInfo, num: int, parts: Sequence[Part], here: str,
                images: bool = False) -> Body:
    """The body as HTML for the page at `here`, with its attachments and inline images."""
    hide = mlist.obfuscate
    files = [(p, attachment(mlist, num, p)) for p in parts if p.kind == "attachment"]
    cids = {p.content_id: urls.relative(here, a.target) for p, a in files
            if p.content_id and p.inline_image}
    html: list[Markup] = []
    blocked = 0
    for part in parts:
        if part.kind == "text" and part.content_type in STATUS_REPORTS:
            html.append(_fields_html(part.text, hide))
        elif part.kind == "text":
            html.append(filters.body_html(part.text, part.flowed, part.delsp, hide))
        elif part.kind == "message":
            html.append(Markup('<div class="forwarded"><p class="by">Forwarded message</p>{}'
                               '</div>').format(_fields_html(part.text, hide)))
        elif part.kind == "html":
            cleaned = sanitize(part.text, images, cids, hide)
            blocked += cleaned.blocked_images
            html.append(Markup('<div class="html">{}</div>').format(cleaned.html))
    html.extend(_attached_html(p, a, hide) for p, a in files if p.text)
    shown = Markup("").join(html)
    inline = [a for p, a in files if p.inline_image
              and not (p.content_id and urls.relative(here, a.target) in shown)]
    return Body(shown, [a for _, a in files], inline, blocked)


def _fields_html(text: str, hide: bool) -> Markup:
    """Lines of "Field: value" (a status report, a forwarded message's caption), line by line."""
    fields = filters.linkify(filters.normalize_newlines(text).strip("\n"), hide)
    return Markup('<div class="mono">{}</div>').format(fields)


def _attached_html(part: Part, file: Attachment, hide: bool) -> Markup:
    """An attached text file (a patch, a log) shown below the body, folded when long; it is
    also in the list of attachments, for download."""
    opened = Markup(" open") if part.text.count("\n") < OPEN_ATTACHED_LINES else Markup("")
    return Markup('<details class="attached"{}><summary><bdi>{}</bdi> <span class="by">'
                  '(attached: {}, {})</span></summary>{}</details>').format(
        opened, file.name, file.content_type, file.size,
        filters.body_html(part.text, hide=hide))


def parts_and_payloads(data: bytes) -> tuple[list[Part], dict[int, bytes]]:
    """The displayable parts, and the decoded content of each attachment among them."""
    limits = limits_in_use()
    message, defects = message_from_bytes(data, limits)
    parts: list[Part] = []
    payloads: dict[int, bytes] = {}
    for leaf in walk(message, limits):
        if not isinstance(leaf, Leaf):
            continue
        part = describe(leaf, limits, defects)
        if part is None:
            continue
        parts.append(part)
        if part.kind == "attachment":
            payloads[part.index] = payload_bytes(leaf.part)
    return parts, payloads

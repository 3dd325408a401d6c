"""HTML parts through an allowlist (nh3): structure and text survive, nothing active does.

Remote images are not loaded unless asked: their <img> becomes a placeholder with the alt text.
`cid:` images point at the message's own attachment (a raster image), or become a placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import nh3
from markupsafe import Markup

from mailarchive.render.filters import REL, clean, obfuscate_text

TAGS = frozenset({
    "a", "abbr", "b", "bdi", "bdo", "blockquote", "br", "caption", "cite", "code", "col",
    "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
    "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "center", "font",
})
DROP_WITH_CONTENT = frozenset({"script", "style", "title", "head", "noscript", "template",
                               "iframe", "object", "embed", "applet", "frame", "frameset",
                               "textarea", "select", "svg", "math", "xmp", "noembed", "noframes"})
ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "type", "reversed"}, "li": {"value"},
    "time": {"datetime"}, "abbr": {"title"}, "details": {"open"},
    "p": {"align"}, "div": {"align"}, "table": {"summary"},
    "*": {"lang", "dir"},
}
SCHEMES = frozenset({"http", "https", "mailto", "cid"})
_IMG = re.compile(r"<img\b([^<>]*)>")
_ALT = re.compile(r'\balt="([^"]*)"')
_SRC = re.compile(r'\bsrc="')
_ABSOLUTE = ("http:", "https:", "mailto:")
MAX_NESTING = 100  # elements nested deeper are dropped, their text kept
_TAG = re.compile(r"<(/?)([a-z][a-z0-9]*)[^<>]*>")
_VOID = frozenset({"br", "hr", "img", "col", "wbr"})
_RAW_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^<>]*>")
# void elements, and those whose end tag is optional (a new one closes the last)
_NOT_NESTING = frozenset({"br", "hr", "img", "col", "wbr", "input", "meta", "link", "area",
                          "base", "embed", "param", "source", "track", "p", "li", "dt", "dd",
                          "tr", "td", "th", "option", "optgroup", "tbody", "thead", "tfoot",
                          "colgroup", "rb", "rt", "rp"})


@dataclass(frozen=True)
class Cleaned:
    html: Markup
    blocked_images: int  # remote images not loaded (a "show images" link makes sense)


def sanitize(html: str, images: bool = False, cids: Mapping[str, str] | None = None,
             hide: bool = True) -> Cleaned:
    """Safe HTML from a mail's HTML part. `cids` maps Content-IDs to links to raster attachments;
    `hide` obfuscates addresses (in text, attributes and mailto: links alike)."""
    blocked: list[str] = []
    cleaned = nh3.clean(
        _shallow(clean(html)), tags=set(TAGS), clean_content_tags=set(DROP_WITH_CONTENT),
        attributes=ATTRIBUTES, attribute_filter=_filter(images, cids or {}, blocked, hide),
        url_schemes=set(SCHEMES), link_rel=REL, strip_comments=True)
    cleaned = _IMG.sub(_placeholder, _flatten(cleaned))
    if hide:
        # nh3's output has every markup character escaped, so this cannot make or break a tag
        cleaned = obfuscate_text(cleaned)
    return Cleaned(Markup(cleaned), len(blocked))


def _filter(images: bool, cids: Mapping[str, str],
            blocked: list[str], hide: bool) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr not in ("href", "src"):
            return value
        lower = value.strip().lower()
        if lower.startswith("cid:"):
            return cids.get(value.strip()[4:].strip("<>")) if tag == "img" else None
        if not lower.startswith(_ABSOLUTE) or (hide and lower.startswith("mailto:")):
            return None  # relative links point into this archive: meaningless, maybe harmful
        if tag == "img" and not images:
            blocked.append(value)
            return None
        return value
    return keep


def _shallow(html: str, limit: int = MAX_NESTING) -> str:
    """The raw HTML with start and end tags nested deeper than `limit` cut out, before nh3
    parses it: its parser looks through the open elements at each tag, so 16,000 nested <div>s
    took half a second and two megabytes of them minutes. This runs on untrusted markup,
    so it is only a bound on depth, not a parser: whatever it leaves still goes through nh3."""
    if html.count("<") < limit:
        return html
    stack: list[str] = []
    excess: dict[str, int] = {}  # start tags cut, by name: their end tags are cut too
    out: list[str] = []
    last = 0
    for tag in _RAW_TAG.finditer(html):
        closing, name = tag.group(1), tag.group(2).lower()
        if name in _NOT_NESTING:
            continue
        if closing and excess.get(name):
            excess[name] -= 1
        elif closing:
            if name in stack:
                del stack[len(stack) - 1 - stack[::-1].index(name):]
            continue
        elif len(stack) < limit:
            stack.append(name)
            continue
        else:
            excess[name] = excess.get(name, 0) + 1
        out.append(html[last:tag.start()])
        last = tag.end()
    out.append(html[last:])
    return "".join(out)


def _flatten(html: str, limit: int = MAX_NESTING) -> str:
    """nh3's output with elements nested deeper than `limit` dropped (their content kept), so
    that 10,000 nested <div>s cost a reader's browser no more than a hundred do. nh3 serializes
    a tree, escaping every `<` and `>` in text and attributes: each tag found here is a real one,
    and end tags come in the order their elements were opened."""
    if html.count("<") < limit:
        return html
    out: list[str] = []
    depth = last = 0
    for tag in _TAG.finditer(html):
        closing, name = tag.group(1), tag.group(2)
        if name in _VOID:
            continue
        level = depth if closing else depth + 1
        depth = depth - 1 if closing else depth + 1
        if level > limit:
            out.append(html[last:tag.start()])
            last = tag.end()
    out.append(html[last:])
    return "".join(out)


def _placeholder(match: re.Match[str]) -> str:
    """An <img> left without a source shows its alt text instead."""
    attrs = match.group(1)
    if _SRC.search(attrs):
        return match.group(0)
    alt = _ALT.search(attrs)
    text = alt.group(1) if alt and alt.group(1).strip() else "image"
    # the alt text is already escaped by nh3's serializer
    return f'<span class="noimg">[{text}]</span>'


def to_text(html: str) -> str:
    """Plain text of an HTML part (for feeds and excerpts)."""
    text = nh3.clean(clean(html), tags=set(), clean_content_tags=set(DROP_WITH_CONTENT))
    return str(Markup(text).unescape())


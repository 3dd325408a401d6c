"""Rendering: the Jinja environment (autoescape on), and the CSS every page links."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from mailarchive.render import urls

SITE_NAME = "Mail archives"
STATIC_FILES = ("app.css",)
SEARCHABLE: ContextVar[bool] = ContextVar("searchable", default=False)
"""Set by the server (which has /search) around each request; the static export has no search."""

ENV = Environment(
    loader=PackageLoader("mailarchive.render", "templates"),
    autoescape=select_autoescape(("html", "xml")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
    keep_trailing_newline=True,
)


def entry_line(entry: Any, url: Callable[[str], str], short: bool = False) -> Markup:
    """One message as a line of an index: its subject linked, its author and date (`short`:
    the author alone for a reply under its thread's subject). A function, not a Jinja macro:
    month indexes print thousands, and a macro call costs ten times as much."""
    when = f'<time datetime="{escape(entry.iso)}">{escape(entry.date)}</time>'
    link = escape(url(entry.target))
    if short and entry.same_subject:
        return Markup(f'<a href="{link}"><bdi>{escape(entry.author)}</bdi></a> '
                      f'<span class="by">{when}</span>')
    return Markup(f'<a href="{link}"><bdi>{escape(entry.subject)}</bdi></a> '
                  f'<span class="by"><bdi>{escape(entry.author)}</bdi> · {when}</span>')


ENV.globals["entry_line"] = entry_line


def compile_templates() -> None:
    """Compile every template now (a few hundred milliseconds on a slow machine), so that the
    server's processes, forked after, share them instead of each compiling them during its
    first requests."""
    for name in ENV.list_templates(extensions=("html", "xml")):
        ENV.get_template(name)


def static_bytes(name: str) -> bytes:
    return resources.files("mailarchive.render").joinpath("static", name).read_bytes()


@cache
def css_target() -> str:
    """The stylesheet's link, versioned by its content so caches never serve an old one."""
    version = hashlib.sha256(static_bytes("app.css")).hexdigest()[:10]
    return f"{urls.static('app.css')}?v={version}"


def render(template: str, here: str, **context: Any) -> str:
    """Template `template` as the page at site path `here` (its links are made relative to it)."""
    context.setdefault("crumbs", [])
    context.setdefault("searchable", SEARCHABLE.get())
    return ENV.get_template(template).render(
        url=lambda target: urls.relative(here, target), here=here, css=css_target(),
        site_name=SITE_NAME, **context)

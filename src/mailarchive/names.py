"""Which list names can be archive names: each is a path segment of every URL of its list.

Kept apart from `render.urls` so that `mailarchive import` can check a name without loading
the page renderer.
"""

from __future__ import annotations

import re

_LIST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
RESERVED = frozenset({"-", "mid", "search", "api", "static", "index.html", "feed.atom"})


def list_ok(name: str) -> bool:
    """Whether a list name can be a path segment (it comes from the admin, but still)."""
    return bool(_LIST_NAME.match(name)) and name.lower() not in RESERVED

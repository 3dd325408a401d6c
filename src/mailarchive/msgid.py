"""Message-IDs: normalising them, reading References, and synthetic ids for mail without one."""

from __future__ import annotations

import re

_ANGLED = re.compile(r"<([^<>\s]{1,995})>")
_BARE = re.compile(r"[^<>\s,;\"]+@[^<>\s,;\"]+")
MAX_REFERENCES = 200
SYNTHETIC_DOMAIN = "synthetic.mailarchive.invalid"


def normalize(value: str | None) -> str | None:
    """The bracket-less Message-ID in a header value, or None when there is none."""
    if not value:
        return None
    match = _ANGLED.search(value)
    if match:
        return match.group(1)
    match = _BARE.search(value)
    if match:
        return match.group(0)[:995]
    return None


def references(value: str | None, limit: int = MAX_REFERENCES) -> list[str]:
    """The ids of a References header, oldest first, de-duplicated, at most the last `limit`."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for match in _ANGLED.finditer(value):
        seen.pop(match.group(1), None)
        seen[match.group(1)] = None
    ids = list(seen)
    return ids[-limit:]


def synthetic(digest_hex: str) -> str:
    """A deterministic Message-ID for a message that has none, from the hash of its bytes."""
    return f"{digest_hex[:32]}@{SYNTHETIC_DOMAIN}"

"""Message-IDs: normalising them, reading References, and synthetic ids for mail without one."""

from __future__ import annotations

import re

_ANGLED = re.compile(r"<([^<>]{1,995})>")
_SPACE = re.compile(r"\s+")
_BARE = re.compile(r"[^<>\s,;\"]+@[^<>\s,;\"]+\Z")
MAX_REFERENCES = 200
SHORTEST_PARENT = 3  # "a@b": `<y>` and `<n>` are answers typed at git send-email's prompt
SYNTHETIC_DOMAIN = "synthetic.mailarchive.invalid"


def _ids(value: str) -> list[str]:
    """The ids in angle brackets, with folding whitespace inside them removed (as notmuch does)."""
    found = _ANGLED.findall(value)
    if _SPACE.search("".join(found)) is None:
        return found  # nearly always: one search instead of a substitution per id
    return [i for i in (_SPACE.sub("", i) for i in found) if i]


def _parents(value: str) -> list[str]:
    """The bracketed ids a reply names, without those too short to be one (`<y>` would join
    every series that names it)."""
    return [i for i in _ids(value) if len(i) >= SHORTEST_PARENT]


def normalize(value: str | None) -> str | None:
    """The bracket-less Message-ID in a Message-ID header, or None when there is none."""
    if not value:
        return None
    ids = _ids(value)
    if ids:
        return ids[0]
    bare = value.strip()
    return bare[:995] if _BARE.match(bare) else None


def in_reply_to(value: str | None) -> str | None:
    """The id an In-Reply-To header names: the last bracketed one, since some mailers write
    'Message from Name <address> of DATE <id>'; free text without brackets names nothing."""
    if not value:
        return None
    ids = _parents(value)
    if ids:
        return ids[-1]
    bare = value.strip()
    return bare[:995] if _BARE.match(bare) else None


def references(value: str | None, limit: int = MAX_REFERENCES) -> list[str]:
    """The ids of a References header, oldest first, de-duplicated, at most the last `limit`."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for ref in _parents(value):
        seen.pop(ref, None)
        seen[ref] = None
    return list(seen)[-limit:]


def synthetic(digest_hex: str) -> str:
    """A deterministic Message-ID for a message that has none, from the hash of its bytes."""
    return f"{digest_hex[:32]}@{SYNTHETIC_DOMAIN}"

"""Message-ID reading, on the shapes real mail has (cases found comparing with notmuch)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mailarchive import msgid


def test_normalize() -> None:
    assert msgid.normalize("<a@b>") == "a@b"
    assert msgid.normalize("  a@b  ") == "a@b"
    assert msgid.normalize("junk") is None
    assert msgid.normalize("") is None


def test_in_reply_to_takes_the_last_bracketed_id() -> None:
    value = 'Message from Chip <chip@example.edu>\n   of "Fri, 25 Apr 2003." <id.1@example.edu>'
    assert msgid.in_reply_to(value) == "id.1@example.edu"
    assert msgid.in_reply_to("<x@y> (from someone)") == "x@y"


def test_in_reply_to_free_text_names_nothing() -> None:
    assert msgid.in_reply_to("hjl@lucon.org's message of Mon, 5 May") is None
    assert msgid.in_reply_to("x@y") == "x@y"


def test_folded_ids_lose_their_whitespace() -> None:
    refs = "<Pine.LNX.3.95.980513@lager.engsoc.carl\n eton.ca> <b@c>"
    assert msgid.references(refs) == ["Pine.LNX.3.95.980513@lager.engsoc.carleton.ca", "b@c"]


def test_references_dedupe_keep_last_position_and_limit() -> None:
    assert msgid.references("<a@x> <b@x> <a@x>") == ["b@x", "a@x"]
    many = " ".join(f"<m{i}@x>" for i in range(500))
    assert msgid.references(many) == [f"m{i}@x" for i in range(300, 500)]


_ID_TEXT = st.text(alphabet=st.sampled_from(list("ab@.<> \t\n\r\x1c\x85\xa0\u2003,;\"")),
                   max_size=60)


@given(_ID_TEXT)
def test_ids_equal_one_substitution_per_id(value: str) -> None:
    """The fast path (no whitespace in any id: one search over them all) gives what a
    whitespace substitution on every id gives."""
    angled = re.compile(r"<([^<>]{1,995})>")
    space = re.compile(r"\s+")
    expected = [i for i in (space.sub("", m.group(1)) for m in angled.finditer(value)) if i]
    assert msgid._ids(value) == expected


def test_one_character_ids_name_no_parent() -> None:
    """git send-email asks for an In-Reply-To id and people typed `y` or `n` (real linux-mips,
    2008-2013): `<y>` would join every such series into one thread, as notmuch does not."""
    assert msgid.in_reply_to("<y>") is None and msgid.references("<n>") == []
    assert msgid.references("<y> <a@b> <xy>") == ["a@b"]
    assert msgid.in_reply_to("<a@b> <n>") == "a@b"

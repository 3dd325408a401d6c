"""Text recipes: kept with each message at import so that a snippet reads its text at once, and
an archive made before them reads, grows and refreshes as before."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailarchive.ingest import ingest, prepare
from mailarchive.model import RawMessage
from mailarchive.refresh import refresh
from mailarchive.search.service import search
from mailarchive.store import Store
from test_ingest import THREAD, raws

QP = (b"From: Zoe <zoe@example.org>\nSubject: qp\nMessage-ID: <qp@x>\n"
      b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable"
      b"\n\nCaf=E9 gizmo au lait\n")
MIXED = (b"From: Yan <yan@example.org>\nSubject: parts\nMessage-ID: <mixed@x>\nMIME-Version: 1.0\n"
         b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
         b"the gizmo patch\n--b\nContent-Type: application/octet-stream\n\nxx\n--b--\n")
ENRICHED = (b"From: Xi <xi@example.org>\nSubject: rich\nMessage-ID: <rich@x>\n"
            b"Content-Type: text/enriched\n\n<bold>gizmo</bold> in bold\n")


def text_recipe(data: bytes) -> str:
    """The text recipe an import keeps for `data`."""
    return prepare(RawMessage(data, "test")).text_recipe


def body_start(data: bytes) -> int:
    return data.index(b"\n\n") + 2


def recipes(store: Store) -> dict[int, str | None]:
    return dict(store.db.execute("SELECT id, text_recipe FROM messages"))


def snippets(store: Store, query: str) -> list[tuple[int, str]]:
    return [(hit.message.num, "".join(piece for piece, _ in hit.snippet))
            for hit in search(store, query, sort="date").hits]


def made_before_recipes(folder: Path) -> Store:
    """An archive as a version before text recipes left it: no such column."""
    store = Store(folder)
    ingest(store, store.ensure_list("salon"), raws(*THREAD, QP, MIXED, ENRICHED))
    store.db.execute("ALTER TABLE messages DROP COLUMN text_recipe")
    store.close()
    return Store(folder, create=False)


def test_each_message_keeps_the_recipe_of_its_bytes(tmp_path: Path) -> None:
    store = Store(tmp_path / "a")
    ingest(store, store.ensure_list("salon"), raws(*THREAD, QP, MIXED, ENRICHED))
    kept = recipes(store)
    stored = store.raws(list(kept))
    assert {rowid: text_recipe(data) for rowid, (data, _) in stored.items()} == kept
    assert {recipe for _, recipe in stored.values()} == set(kept.values())
    assert kept[1] == f"1 text - {body_start(THREAD[0])}"
    assert kept[7] == f"1 text qp {body_start(QP)} iso-8859-1"
    start = MIXED.index(b"the gizmo")
    assert kept[8] == f"1 parts {len(MIXED)};text - {start} {start + len('the gizmo patch')}"
    assert kept[9] == "1 walk"  # enriched text is read by the parse
    assert snippets(store, "gizmo") == [(9, "gizmo in bold"), (8, "the gizmo patch"),
                                        (7, "Café gizmo au lait")]


def test_an_archive_made_before_recipes_is_searched_then_given_them(tmp_path: Path) -> None:
    new = Store(tmp_path / "new")
    ingest(new, new.ensure_list("salon"), raws(*THREAD, QP, MIXED, ENRICHED))
    old = made_before_recipes(tmp_path / "old")
    reader = Store(tmp_path / "old", create=False)  # the server, open while mail comes in
    assert not old.has_recipes
    assert {recipe for _, recipe in old.raws([1, 2, 7, 8, 9]).values()} == {None}
    for query in ("gizmo", "book*", "café"):
        assert snippets(old, query) == snippets(new, query)

    ingest(old, old.get_list("salon"), raws(THREAD[0].replace(b"<", b"<again-", 1)))
    assert old.has_recipes and list(recipes(old).values()).count(None) == 9
    assert reader.raws([10])[10][1] is not None  # it looks again once the schema changed
    assert refresh(old).changed == 0  # a recipe is not a detail shown
    assert recipes(old) == recipes(new) | {10: recipes(old)[10]}
    assert snippets(reader, "gizmo") == snippets(new, "gizmo")


def test_two_writers_of_an_archive_made_before_recipes_both_store(tmp_path: Path) -> None:
    first = made_before_recipes(tmp_path / "a")
    second = Store(tmp_path / "a", create=False)
    one, two = b"Subject: one\nMessage-ID: <1@y>\n\nx\n", b"Subject: two\nMessage-ID: <2@y>\n\ny\n"
    ingest(first, first.get_list("salon"), raws(one))
    ingest(second, second.get_list("salon"), raws(two))
    assert list(recipes(first).values())[-2:] == [text_recipe(one), text_recipe(two)]
    assert text_recipe(one) == "1 text - 32"  # the body starts after the blank line


def test_a_batch_that_failed_after_adding_the_column_leaves_none(tmp_path: Path) -> None:
    store = made_before_recipes(tmp_path / "a")
    mlist = store.get_list("salon")
    assert mlist is not None
    with pytest.raises(RuntimeError), store.batch():
        store._keep_recipes()  # as the batch's first `add` does
        assert store.has_recipes
        raise RuntimeError("the disk is full")
    assert not store.has_recipes and "text_recipe" not in str(
        store.db.execute("SELECT sql FROM sqlite_master WHERE name = 'messages'").fetchone())
    kept = b"Subject: kept\nMessage-ID: <kept@y>\n\nx\n"
    ingest(store, mlist, raws(kept))
    assert recipes(store)[max(recipes(store))] == text_recipe(kept)


@pytest.mark.parametrize("recipe", ["1 parts x;text - 0 5", "1 text - 99999", "1 text qp",
                                    "9 text - 0", "1 parts 225;text b64 0", "1 parts 10;text"])
def test_a_recipe_changed_by_hand_is_not_followed(tmp_path: Path, recipe: str) -> None:
    store = Store(tmp_path / "a")
    ingest(store, store.ensure_list("salon"), raws(*THREAD, QP, MIXED))
    expected = snippets(store, "gizmo")
    store.db.execute("UPDATE messages SET text_recipe = ?", (recipe,))
    assert snippets(store, "gizmo") == expected


def test_a_part_of_8bit_text_is_found_in_the_bytes_as_they_came() -> None:
    # found by fuzz/fuzz_message.py: the stdlib hands such a part's payload out decoded by its
    # charset, which is not how it stands in the bytes (and raised on an RFC 2231 charset)
    from mailarchive.search.message_text import text_parts

    body = "Café gizmo, naïve".encode("latin-1")
    data = (b"Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
            + body + b"\n--b\nContent-Type: text/plain; charset*=us-ascii''latin-1\n\n"
            + body + b"\n--b--\n")
    recipe = text_recipe(data)
    assert recipe.startswith(f"1 parts {len(data)};text - {data.index(body)} ")
    assert text_parts(data, recipe) == text_parts(data) == [("text", "Café gizmo, naïve")] * 2


def test_mail_whose_parse_gave_up_is_parsed_when_searched_unless_it_is_one_text_part() -> None:
    from mailarchive.search import message_text

    assert message_text.text_recipe(MIXED, None) == "1 walk"
    assert message_text.text_recipe(QP, None) == text_recipe(QP)


_BODIES = st.sampled_from(["gizmo here\n", "Caf\u00e9 gizmo\n", "line one\n\n> quoted\n",
                           "\u65e5\u672c\u8a9e gizmo\n", "", "a=b =3D soft\n", "x" * 90 + "\n"])
_TYPES = st.sampled_from(["text/plain", "text/html", "text/x-diff", "application/octet-stream",
                          "text/enriched"])
_ENCODINGS = st.sampled_from(["", "7bit", "8bit", "quoted-printable", "base64", "x-uuencode"])
_CHARSETS = st.sampled_from(["", "utf-8", "iso-8859-1", "us-ascii", "koi8-r", "bogus"])
_DISPOSITIONS = st.sampled_from(["", "inline", "attachment"])


@st.composite
def _part(draw: st.DrawFn) -> bytes:
    body, ctype, encoding = draw(_BODIES), draw(_TYPES), draw(_ENCODINGS)
    charset, disposition = draw(_CHARSETS), draw(_DISPOSITIONS)
    codec = charset if charset in ("utf-8", "iso-8859-1", "koi8-r") else "utf-8"
    raw = body.encode(codec, "replace")
    if encoding == "quoted-printable":
        raw = binascii.b2a_qp(raw)
    elif encoding == "base64":
        raw = base64.encodebytes(raw)
    head = f"Content-Type: {ctype}" + (f"; charset={charset}" if charset else "") + "\n"
    head += f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    head += f"Content-Disposition: {disposition}\n" if disposition else ""
    return head.encode() + b"\n" + raw


@st.composite
def _message(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(_part(), min_size=1, max_size=4))
    kind = draw(st.sampled_from(["mixed", "alternative", "single"]))
    crlf = draw(st.booleans())
    if kind == "single":
        data = b"Subject: s\nMessage-ID: <h@x>\n" + parts[0]
    else:
        inner = b"".join(b"--b\n" + part + b"\n" for part in parts)
        data = (f"Subject: s\nMessage-ID: <h@x>\nMIME-Version: 1.0\n"
                f"Content-Type: multipart/{kind}; boundary=b\n\n").encode() + inner + b"--b--\n"
    return data.replace(b"\n", b"\r\n") if crlf else data


@settings(max_examples=300, deadline=None)
@given(_message(), st.integers(min_value=1, max_value=400))
def test_the_text_found_by_a_recipe_is_the_text_found_without_it(data: bytes, cut: int) -> None:
    from mailarchive.search.message_text import text_parts

    recipe = text_recipe(data)
    assert text_parts(data, recipe) == text_parts(data)
    assert text_parts(data[:cut], recipe) == text_parts(data[:cut])

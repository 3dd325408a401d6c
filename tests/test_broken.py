"""Broken and hostile mail (tests/data, written for the project): everything is archived (but a
zero-byte file, which holds no message), its bytes stay exact, and what went wrong is noted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mailarchive import sources
from mailarchive.ingest import ingest
from mailarchive.model import RawMessage
from mailarchive.store import Store

DATA = Path(__file__).parent / "data"
FILES = sorted((DATA / "broken").glob("*.eml")) + sorted((DATA / "hostile").glob("*.eml"))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("broken") / "archive")
    mlist = store.ensure_list("junk")
    for path in FILES:
        summary = ingest(store, mlist, sources.read(str(path)))
        assert summary.read == (1 if path.stat().st_size else 0), path.name  # empty: none
    return store


def test_there_are_fixtures() -> None:
    assert len(FILES) >= 60


def test_every_distinct_input_is_stored_with_exact_bytes(archive: Store) -> None:
    """A file that starts with an mbox From_ line is a one-message mbox: the envelope is kept
    apart (export-mbox gives it back), the message bytes are the rest."""
    mlist = archive.get_list("junk")
    assert mlist is not None
    wanted = set()
    for path in FILES:
        data = path.read_bytes()
        if not data:
            continue  # zero bytes are no message
        if data.startswith(b"From "):
            data = data.split(b"\n", 1)[1].removesuffix(b"\n\n") + b"\n" * data.endswith(
                b"\n\n")
        wanted.add(hashlib.sha256(data).hexdigest())
    stored = {hashlib.sha256(data).hexdigest() for _, data in archive.iter_raw(mlist)}
    assert stored == wanted


@pytest.mark.parametrize("name,note", [
    ("deep-multipart-1000", "nesting deeper than 50 levels"),
    ("deep-rfc822-1000", "nested"),
    ("many-parts-10000", "more than 1000 MIME parts"),
    ("missing-date", "no usable Date header"),
    ("date-year-0102", "no usable Date header"),
    ("date-year-9999", "no usable Date header"),
    ("charset-unknown", "charset"),
    ("base64-truncated", "MIME"),
])
def test_defects_are_noted(archive: Store, name: str, note: str) -> None:
    raw = (DATA / "broken" / f"{name}.eml").read_bytes()
    mlist = archive.get_list("junk")
    assert mlist is not None
    row = next(r for r, data in archive.iter_raw(mlist) if data == raw)
    assert any(note in d for d in row.defects), row.defects


def test_empty_and_binary_messages_get_synthetic_ids(archive: Store, tmp_path: Path) -> None:
    """A zero-byte file is no message; zero bytes delivered (LMTP, the HTTP API) are kept."""
    assert list(sources.read(str(DATA / "broken" / "empty.eml"))) == []
    delivered = Store(tmp_path / "delivered")
    mlist = delivered.ensure_list("l")
    assert ingest(delivered, mlist, [RawMessage(b"", "lmtp")]).added == 1
    junk = archive.get_list("junk")
    assert junk is not None
    for store, found, raw in ((delivered, mlist, b""),
                              (archive, junk, (DATA / "broken" / "binary-junk.eml").read_bytes())):
        row = next(r for r, data in store.iter_raw(found) if data == raw)
        assert row.synthetic_id and row.message_id.endswith("@synthetic.mailarchive.invalid")


def test_duplicate_message_ids_keep_both_and_mid_finds_the_first(archive: Store) -> None:
    rows = [r for r in archive.iter_messages(archive.get_list("junk"))  # type: ignore[arg-type]
            if "duplicate" in r.message_id or r.subject.startswith("Duplicate")]
    ids = {r.message_id for r in rows}
    assert rows and len(ids) < len(rows)
    first = archive.by_message_id(rows[0].message_id)
    assert [r.num for r in first] == sorted(r.num for r in first)


def test_a_boundary_with_no_semicolon_before_it_still_parts_the_message() -> None:
    """`multipart/mixed<LF><TAB>boundary="sep"`: read as mail clients read it, the text part
    shown and the picture attached, with a note; the message without the fault parses alike."""
    from mailarchive.parse import parse
    from mailarchive.render.body import parts_of
    from mailarchive.search.message_text import text_parts

    raw = (DATA / "broken" / "boundary-without-semicolon.eml").read_bytes()
    parsed = parse(raw)
    assert [(p.kind, p.content_type, p.filename) for p in parsed.parts] == [
        ("text", "text/plain", None), ("attachment", "image/png", "dot.png")]
    assert "forgot its semicolon" in parsed.parts[0].text
    assert any('no ";" before its boundary' in d for d in parsed.defects)
    fixed = parse(raw.replace(b"multipart/mixed\n", b"multipart/mixed;\n"))
    assert fixed.parts == parsed.parts and not fixed.defects
    assert [p.kind for p in parts_of(raw)] == ["text", "attachment"]
    assert [kind for kind, _ in text_parts(raw)] == ["text"]


@pytest.mark.parametrize("name,shown", [
    ("boundary-never-found", "This text is not inside any declared part."),
    ("multipart-no-boundary", "lost"),
    ("multipart-empty", "preamble only"),
])
def test_a_multipart_whose_parts_cannot_be_found_is_shown_as_text(name: str,
                                                                   shown: str) -> None:
    """As mail clients show it: its body as text, not an opaque download, and searchable."""
    from mailarchive.render.body import parts_of
    from mailarchive.search.message_text import text_parts

    raw = (DATA / "broken" / f"{name}.eml").read_bytes()
    parts = parts_of(raw)
    assert [p.kind for p in parts] == ["text"] and shown in parts[0].text
    assert [kind for kind, _ in text_parts(raw)] == ["text"]

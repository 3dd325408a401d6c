"""Real mail written by other people (../shared/corpora): nothing lost, bytes exact.

The corpora are read in place, never copied into the project. Set MAILARCHIVE_CORPORA to point
elsewhere; where the folder is absent these tests are skipped and say so.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import mailbox
import os
import re
from collections import Counter
from email.message import Message
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mailarchive import sources
from mailarchive.cli import write_mbox
from mailarchive.ingest import ingest, prepare
from mailarchive.store import Store
from mailarchive.web import create_app
from test_hostile import active_content, page_header_problems

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("MAILARCHIVE_CORPORA", ROOT.parent / "shared" / "corpora"))
SMALL = ["cpython-email", "enmime", "hyperkitty", "mime4j", "stalwart-mail-parser"]
SUFFIXES = {".txt", ".raw", ".eml", ".msg", ".rlug"}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPORA.is_dir(), reason=f"real-mail corpora not found at {CORPORA} "
                       "(set MAILARCHIVE_CORPORA)"),
]


def corpus_files(name: str) -> list[Path]:
    return sorted(p for p in (CORPORA / name).rglob("*") if p.suffix in SUFFIXES)


def messages_by_stdlib(path: Path) -> list[bytes]:
    """The messages in a file as Python's own mailbox module counts them (the independent check)."""
    data = path.read_bytes()
    if not data.startswith(b"From "):
        return [data]
    return [m.as_bytes() for m in mailbox.mbox(str(path))]


@pytest.mark.parametrize("name", SMALL)
def test_every_message_of_every_small_corpus_is_archived(tmp_path: Path, name: str) -> None:
    files = corpus_files(name)
    expected = sum(len(messages_by_stdlib(f)) for f in files)
    store = Store(tmp_path / "archive")
    mlist = store.ensure_list(name)
    raws = [raw for f in files for raw in sources.read(str(f))]
    summary = ingest(store, mlist, raws)
    assert summary.read == expected
    distinct = {hashlib.sha256(r.data).digest() for r in raws}
    assert summary.added == len(distinct) == store.stats(mlist)["messages"]
    stored = {hashlib.sha256(data).digest() for _, data in store.iter_raw(mlist)}
    assert stored == distinct


@pytest.mark.parametrize("name", SMALL)
def test_every_real_tricky_message_is_shown_inert(tmp_path: Path, name: str) -> None:
    """The other mail projects' tricky messages, as the server shows them: every page answers,
    carries its security headers and holds no active content; every .eml answers."""
    store = Store(tmp_path / "archive")
    mlist = store.ensure_list(name)
    ingest(store, mlist, [raw for f in corpus_files(name) for raw in sources.read(str(f))])
    numbers = [int(r[0]) for r in store.db.execute("SELECT num FROM messages")]
    store.close()
    client = TestClient(create_app(tmp_path / "archive"), raise_server_exceptions=False)
    problems = []
    for num in numbers:
        page = client.get(f"/{name}/msg{num}.html")
        found = (page_header_problems(page) + list(active_content(page.text))
                 if page.status_code == 200 else [f"status {page.status_code}"])
        raw = client.get(f"/{name}/msg{num}.eml")
        found += [] if raw.status_code == 200 else [f".eml status {raw.status_code}"]
        problems += [f"msg{num}: {problem}" for problem in found]
    assert numbers and not problems


def test_linux_mips_years_round_trip_byte_for_byte(tmp_path: Path) -> None:
    years = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1996, 1997)]
    original = b"".join(lzma.decompress(p.read_bytes()) for p in years)
    store = Store(tmp_path / "archive")
    mlist = store.ensure_list("linux-mips")
    summary = ingest(store, mlist, (r for p in years for r in sources.read(str(p))), workers=2)
    assert summary.added == summary.read == original.count(b"\nFrom ") + 1
    out = io.BytesIO()
    write_mbox(store, mlist, out)
    assert out.getvalue() == original


def test_linux_mips_threads_and_dates_are_sane(tmp_path: Path) -> None:
    path = CORPORA / "linux-mips" / "linux-mips-1998.mbox.xz"
    store = Store(tmp_path / "archive")
    mlist = store.ensure_list("linux-mips")
    ingest(store, mlist, sources.read(str(path)))
    stats = store.stats(mlist)
    assert 0 < int(stats["threads"] or 0) < int(stats["messages"] or 0)
    months = [m for m, _ in store.months(mlist)]
    assert all("1997-12" <= m <= "1999-01" for m in months), months
    for row in store.iter_messages(mlist):
        for ref in row.references[-1:]:
            parents = [p for p in store.by_message_id(ref) if p.list_id == mlist.id]
            assert all(p.thread == row.thread for p in parents)


def message_shape(message: Message) -> list[object]:
    """All a parse gives: fields, default type, preamble, epilogue, defects, and the payload
    (its parts' shapes, for a multipart)."""
    payload = message.get_payload()
    return [message.items(), message.get_default_type(), message.preamble, message.epilogue,
            [type(d).__name__ for d in message.defects], message.get_unixfrom(),
            [message_shape(p) for p in payload] if isinstance(payload, list) else payload]


def test_fast_paths_equal_the_stdlib_parse_on_real_mail() -> None:
    """fastparse must build exactly the Message tree the stdlib parser builds, for one-part
    mail and multipart mail alike, wherever it answers; and it must answer for most of it."""
    from email.parser import BytesParser
    from email.policy import compat32

    from mailarchive import fastparse

    parser = BytesParser(policy=compat32)
    checked = {"single": 0, "multipart": 0, "cut short": 0}
    multiparts = 0
    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1999, 2005, 2009)]
    paths += [p for name in SMALL for p in corpus_files(name)]
    for raw in (r for p in paths for r in sources.read(str(p))):
        full = parser.parsebytes(raw.data)
        multiparts += full.is_multipart()
        for kind, fast in (("single", fastparse.single_part(raw.data)),
                           ("multipart", fastparse.multipart(raw.data))):
            if fast is not None:
                assert message_shape(fast) == message_shape(full), raw.data[:300]
                checked[kind] += 1
        if full.is_multipart():  # cut short, as a snippet reads a long message's start
            cut = raw.data[:len(raw.data) * 2 // 3]
            fast = fastparse.multipart(cut)
            if fast is not None:
                assert message_shape(fast) == message_shape(parser.parsebytes(cut)), cut[:300]
                checked["cut short"] += 1
    assert checked["single"] > 6000
    assert checked["multipart"] > 250 and checked["multipart"] > 0.6 * multiparts, checked
    assert checked["cut short"] > 0.5 * checked["multipart"], checked


def test_fast_mailbox_path_equals_parseaddr_on_real_from_headers() -> None:
    """parse.simple_mailbox must give what email.utils.parseaddr gives, on every real From."""
    import email.utils

    from mailarchive.decode import unescape_8bit
    from mailarchive.parse import simple_mailbox

    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1999, 2009)]
    paths += [p for name in SMALL for p in corpus_files(name)]
    taken = 0
    for raw in (r for p in paths for r in sources.read(str(p))):
        found = re.search(rb"(?im)^from:[ \t]*(.*(?:\r?\n[ \t].*)*)", raw.data.split(b"\n\n")[0])
        if found is None:
            continue
        text = unescape_8bit(found.group(1).decode("ascii", "surrogateescape")).replace("\n", " ")
        fast = simple_mailbox(text)
        if fast is not None:
            assert fast == email.utils.parseaddr(text), text
            taken += 1
    assert taken > 4000


def test_snippet_text_from_content_headers_alone_equals_the_whole_parse_on_real_mail() -> None:
    """Snippets parse a message that is not plain text with its content headers alone (the
    rest are fifty lines of Received and such): the text must be what the whole parse gives."""
    from mailarchive.search import message_text as text

    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (2005, 2009)]
    paths += [p for name in SMALL for p in corpus_files(name)]
    shortened = 0
    for raw in (r for p in paths for r in sources.read(str(p))):
        data = raw.data[:256 * 1024]
        head = text._plain_head(data)
        if head is None or text._single_recipe(head) is not None:
            continue
        alone = text._content_headers_only(data, head)
        if alone is not None:
            shortened += 1
            assert text._walked_text_parts(alone) == text._walked_text_parts(data), data[:300]
    assert shortened > 500, shortened


def test_snippet_text_of_one_plain_part_read_from_its_headers_equals_the_whole_parse() -> None:
    """Most list mail is one text part, which snippets read from its three content headers
    without building the message: the text must be what the whole parse gives."""
    from mailarchive.search import message_text as text

    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1998, 2005, 2013)]
    paths += [p for name in SMALL for p in corpus_files(name)]
    taken = 0
    for raw in (r for p in paths for r in sources.read(str(p))):
        data = raw.data[:256 * 1024]
        head = text._plain_head(data)
        if head is not None and text._single_recipe(head) is not None:
            taken += 1
            assert text.text_parts(data) == text._walked_text_parts(data), data[:300]
    assert taken > 5000, taken


def test_snippet_text_read_by_the_recipe_kept_at_import_equals_the_whole_parse() -> None:
    """An import keeps each message's text recipe, made from all of its bytes; a snippet
    follows it over the start of the message it reads (whole, and cut as a long message is)
    and must find the text the parse finds there. Most mail has a recipe that says where its
    text is (one part, or several found in the bytes); the rest is parsed."""
    from mailarchive.search import message_text as text

    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1998, 2005, 2013)]
    paths += [p for name in SMALL for p in corpus_files(name)]
    kinds: Counter[str] = Counter()
    for raw in (r for p in paths for r in sources.read(str(p))):
        recipe = prepare(raw).text_recipe
        kinds[recipe.split(" ")[1]] += 1
        for data in (raw.data, raw.data[:4096], raw.data[:256 * 1024]):
            assert text.text_parts(data, recipe) == text.text_parts(data), (recipe, data[:300])
    assert kinds["text"] > 5000 and kinds["parts"] > 500 and kinds["parts"] > 4 * kinds["walk"]


def test_snippets_skip_the_own_text_only_where_it_holds_no_word_on_real_mail() -> None:
    """On real mail, a snippet made with the own-line test is the snippet made by searching the
    author's text first, for a word of the author's, a word of the quoted text, both, and none."""
    from mailarchive.search import service
    from mailarchive.search.message_text import text_parts
    from mailarchive.search.text import split_quoted
    from test_search import _snippet_reference

    compared = quoted_only = 0
    path = CORPORA / "linux-mips" / "linux-mips-2005.mbox.xz"
    for number, raw in enumerate(sources.read(str(path))):
        if number % 3:
            continue
        data = raw.data[:service.MAX_RAW]
        split = [split_quoted(text) for kind, text in text_parts(data) if kind == "text"]
        own = re.findall(r"[a-z]{6,}", " ".join(o for o, _ in split))
        theirs = re.findall(r"[a-z]{6,}", " ".join(q for _, q in split))
        picks = {w for w in (own[len(own) // 2:][:1] + theirs[len(theirs) // 2:][:1]) if w}
        queries = [[(w, False)] for w in sorted(picks)] + [[(w, True) for w in sorted(picks)]]
        quoted_only += sum(1 for w in picks if w not in own)
        recipe = prepare(raw).text_recipe
        for words in [*queries, [("zzqxjv", False)]]:
            for hide in (True, False):
                assert service._snippet(data, recipe, words, hide) == _snippet_reference(
                    data, words, hide), data[:200]
                compared += 1
    assert compared > 5000 and quoted_only > 300, (compared, quoted_only)


def test_raw_8bit_headers_of_real_mail_read_as_their_senders_wrote_them() -> None:
    """Names sent as raw 8-bit bytes (no RFC 2047) in linux-mips, each read here by hand from
    its bytes: Latin-1 with and without a declared charset, GB2312 declared in a text part."""
    from mailarchive.parse import parse

    wanted = {"Torbj\xf6rn Gannholm", "H\xe5kon Eriksen", "Michael Gr\xfctzner",
              "\u6bd5\u5b66\u5c27"}
    paths = [CORPORA / "linux-mips" / f"linux-mips-{y}.mbox.xz" for y in (1998, 2002)]
    seen = set()
    for raw in (r for p in paths for r in sources.read(str(p))):
        head = raw.data.split(b"\n\n", 1)[0]
        if re.search(rb"(?im)^from:[^\n]*[\x80-\xff]", head) and not re.search(
                rb"(?im)^from:[^\n]*=\?", head):
            seen.add(parse(raw.data).from_name)
    assert wanted <= seen, seen


@pytest.mark.parametrize("name", SMALL)
def test_no_shown_header_of_a_tricky_message_holds_replacement_characters(name: str) -> None:
    """Subjects, senders and attachment names of the other projects' tricky mail decode to
    text: no U+FFFD, no private-use character (the mark of a wrong charset guess)."""
    from mailarchive.parse import parse

    bad = re.compile("[\ufffd\ue000-\uf8ff]")
    problems = []
    for path in corpus_files(name):
        for raw in sources.read(str(path)):
            p = parse(raw.data)
            shown = [p.subject, p.from_name, *(part.filename or "" for part in p.parts)]
            problems += [f"{path.name}: {text!r}" for text in shown if bad.search(text)]
    assert not problems


def test_real_mail_with_a_sender_clock_years_off_is_filed_when_the_list_got_it() -> None:
    """linux-mips 2000-2002 hold mail dated 1979, 2000 (in 2001's file) and 2003 (in 2000's):
    their senders' clocks. Each year's file holds only that year's mail (and the last hours
    of the year before), by the list server's Received time where a Date is far from it."""
    import time

    from mailarchive.parse import parse

    for year in (2000, 2001, 2002):
        path = CORPORA / "linux-mips" / f"linux-mips-{year}.mbox.xz"
        years = {time.gmtime(parse(raw.data, raw.envelope).date).tm_year
                 for raw in sources.read(str(path))}
        assert years <= {year - 1, year}, (year, years)

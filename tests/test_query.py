"""Tests for the search query parser (mailarchive.search.query)."""

from __future__ import annotations

import calendar
import sys
import unicodedata
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailarchive.search import query as query_module
from mailarchive.search.query import (
    And,
    DateRange,
    HasAttachment,
    ListIs,
    MessageId,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    Word,
    describe,
    fold,
    parse_query,
)


def ts(day: str) -> int:
    """UTC unix seconds at the start of a YYYY-MM-DD day."""
    year, month, dom = (int(part) for part in day.split("-"))
    return calendar.timegm((year, month, dom, 0, 0, 0))


def W(text: str, field: str | None = None, *, prefix: bool = False) -> Word:
    return Word(text, prefix, field)


def P(*words: str, field: str | None = None) -> Phrase:
    return Phrase(tuple(words), field)


def A(*items: Node) -> And:
    return And(items)


def O(*items: Node) -> Or:  # noqa: E743
    return Or(items)


PARSES: list[tuple[str, Node]] = [
    # words, phrases, prefixes
    ("linux", W("linux")),
    ("linux kernel", A(W("linux"), W("kernel"))),
    ("  linux\t\nkernel  ", A(W("linux"), W("kernel"))),
    ('"foo bar"', P("foo", "bar")),
    ('"hello, world!"', P("hello", "world")),
    ('"foo"', W("foo")),
    ('"foo*"', W("foo")),
    ('"AND"', W("AND")),
    ("and or not", A(W("and"), W("or"), W("not"))),
    ("wor*", W("wor", prefix=True)),
    ("a", W("a")),
    ("linux-mips", W("linux-mips")),
    ("ralf@linux-mips.org", W("ralf@linux-mips.org")),
    ("don't", W("don't")),
    ("'quoted'", W("quoted")),
    ("foo/bar", P("foo", "bar")),
    ("x*y", P("x", "y")),
    ("2024-08-01..", W("2024-08-01")),
    ("foo * bar", A(W("foo"), W("bar"))),
    # operators and precedence: NOT > AND > OR
    ("linux AND kernel", A(W("linux"), W("kernel"))),
    ("linux OR bsd", O(W("linux"), W("bsd"))),
    ("a b OR c", O(A(W("a"), W("b")), W("c"))),
    ("a OR b c", O(W("a"), A(W("b"), W("c")))),
    ("a (b OR c)", A(W("a"), O(W("b"), W("c")))),
    ("(a OR b) (c OR d)", A(O(W("a"), W("b")), O(W("c"), W("d")))),
    ("a OR (b OR c)", O(W("a"), W("b"), W("c"))),
    ("a (b c)", A(W("a"), W("b"), W("c"))),
    ("((a))", W("a")),
    ("a OR(b)", O(W("a"), W("b"))),
    ("linux -windows", A(W("linux"), Not(W("windows")))),
    ("linux NOT windows", A(W("linux"), Not(W("windows")))),
    ("NOT windows linux", A(Not(W("windows")), W("linux"))),
    ("a AND NOT b", A(W("a"), Not(W("b")))),
    ("NOT a b OR c", O(A(Not(W("a")), W("b")), W("c"))),
    ("NOT NOT a", W("a")),
    ("-(-a)", W("a")),
    ("-(a b) c", A(Not(A(W("a"), W("b"))), W("c"))),
    ('a -"foo bar"', A(W("a"), Not(P("foo", "bar")))),
    ("a -- b", A(W("a"), W("b"))),
    ("--a b", A(Not(W("a")), W("b"))),
    ("a - b", A(W("a"), W("b"))),
    # fields
    ("from:ralf@linux-mips.org", W("ralf@linux-mips.org", "from")),
    ("from:<ralf@linux-mips.org>", W("ralf@linux-mips.org", "from")),
    ('From:"Ralf Baechle"', P("Ralf", "Baechle", field="from")),
    ("from:lin*", W("lin", "from", prefix=True)),
    ("to:bob cc:carol", A(W("bob", "to"), W("carol", "cc"))),
    ('subject:"foo bar"', P("foo", "bar", field="subject")),
    ("subject:patch", W("patch", "subject")),
    ("filename:report.pdf", W("report.pdf", "filename")),
    ("list:linux-mips", ListIs("linux-mips")),
    ("LIST:lkml", ListIs("lkml")),
    ("mid:<1234@example.org>", MessageId("1234@example.org")),
    ("mid:1234@example.org", MessageId("1234@example.org")),
    ('mid:"<a.b+c@example.org>"', MessageId("a.b+c@example.org")),
    ("has:attachment", HasAttachment()),
    ("has:Attachment", HasAttachment()),
    ("patch -has:attachment", A(W("patch"), Not(HasAttachment()))),
    # dates: start inclusive, end exclusive, UTC
    ("date:2024-08-01..2024-08-31", DateRange(ts("2024-08-01"), ts("2024-09-01"))),
    ("date:2024-08-01..", DateRange(ts("2024-08-01"), None)),
    ("date:..2024-08-31", DateRange(None, ts("2024-09-01"))),
    ("date:2024-08-01", DateRange(ts("2024-08-01"), ts("2024-08-02"))),
    ("date:2024-08", DateRange(ts("2024-08-01"), ts("2024-09-01"))),
    ("date:2024", DateRange(ts("2024-01-01"), ts("2025-01-01"))),
    ("date:2024-02", DateRange(ts("2024-02-01"), ts("2024-03-01"))),
    ("date:2024-12", DateRange(ts("2024-12-01"), ts("2025-01-01"))),
    ("date:2023..2024-06", DateRange(ts("2023-01-01"), ts("2024-07-01"))),
    ('date:"2024-08"', DateRange(ts("2024-08-01"), ts("2024-09-01"))),
    # unknown fields and injected FTS5 syntax are plain words
    ("foo:bar", P("foo", "bar")),
    ("col:x", P("col", "x")),
    ("NEAR(a b)", A(W("NEAR"), W("a"), W("b"))),
    ("^foo", W("foo")),
    ("a + b", A(W("a"), W("b"))),
    ("{a b}:c", A(W("a"), P("b", "c"))),
    ("http://example.org/x", P("http", "example.org", "x")),
    # non-Latin scripts and accents
    ("Привет мир", A(W("Привет"), W("мир"))),
    ("日本語", W("日本語")),
    ("مرحبا", W("مرحبا")),
    ("नमस्ते", W("नमस्ते")),
    ("café", W("café")),
    (unicodedata.normalize("NFD", "café"), W("café")),
    ("from:Müller", W("Müller", "from")),
    ("subject:Привет*", W("Привет", "subject", prefix=True)),
    ('"東京 大阪"', P("東京", "大阪")),
]


@pytest.mark.parametrize(("query", "expected"), PARSES, ids=[row[0] for row in PARSES])
def test_parse(query: str, expected: Node) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(("query", "expected"), PARSES, ids=[row[0] for row in PARSES])
def test_describe_round_trips(query: str, expected: Node) -> None:
    assert parse_query(describe(expected)) == expected


def test_describe_is_canonical() -> None:
    assert describe(parse_query("a  AND (b OR c)  NOT d")) == "a (b OR c) -d"
    assert describe(parse_query("date:2024-08")) == "date:2024-08-01..2024-08-31"
    assert describe(parse_query("date:2024-08-05")) == "date:2024-08-05"
    assert describe(parse_query('FROM:"Ralf Baechle" "OR"')) == 'from:"Ralf Baechle" "OR"'
    assert describe(parse_query("mid:abc@x")) == "mid:<abc@x>"


ERRORS: list[tuple[str, str]] = [
    ("", "Empty query"),
    ("   \t\n ", "Empty query"),
    ("-foo", "Only excluded"),
    ("NOT foo", "Only excluded"),
    ("-a -b", "Only excluded"),
    ("-(-a -b)", "Only excluded"),
    ("a OR -b", "OR needs a word"),
    ("-a OR -b", "OR needs a word"),
    ("a -(-b -c)", "only excludes"),
    ('"foo bar', 'add a closing " after "foo bar'),
    ('a "', "Unbalanced quote"),
    ('"', "Unbalanced quote"),
    ('subject:"foo', "Unbalanced quote"),
    ("(a b", 'add a closing ")"'),
    ("a b)", 'no matching "("'),
    (")(", 'no matching "("'),
    ("()", "Empty brackets"),
    ("a ( )", "Empty brackets"),
    ("(!!)", "Empty brackets"),
    ("a OR", '"OR" needs a search term on each side'),
    ("OR a", '"OR" needs a search term on each side'),
    ("a AND", '"AND" needs a search term on each side'),
    ("a AND OR b", '"AND" needs'),
    ("(a OR)", '"OR" needs'),
    ("NOT", "Nothing to exclude"),
    ("a NOT", "Nothing to exclude"),
    ("a -!", "Nothing to exclude"),
    ("date:2024-02-30", '"2024-02-30": there is no such date'),
    ("date:2023-02-29", "no such date"),
    ("date:2024-13", '"2024-13"'),
    ("date:yesterday", 'Invalid date "yesterday": use date:2024, date:2024-08'),
    ("date:24-08-01", "date:2024-08-01"),
    ("date:2024-8-1", '"2024-8-1"'),
    ("date:2024-08-31..2024-08-01", "start is after the end"),
    ("date:2024..2023", "start is after the end"),
    ("date:..", "give a start, an end or both"),
    ("date:2024..2025..2026", "Invalid date"),
    ("date:", 'after "date:"'),
    ("has:pdf", "has:attachment"),
    ("has:", 'after "has:"'),
    ("from:", 'Nothing to search for after "from:"'),
    ("from: alice", 'after "from:"'),
    ("subject:!!!", 'after "subject:"'),
    ('subject:""', 'after "subject:"'),
    ('list:"foo bar"', "Invalid list name"),
    ("list:lk*", "Invalid list name"),
    ("mid:<>", "Invalid Message-ID"),
    ("x*", 'Prefix "x*" is too short'),
    ("from:l*", "too short"),
    ("!!!", "No words to search for"),
    ("*", "No words to search for"),
    ("(" * 33 + "a" + ")" * 33, "nested too deeply"),
    ("(" * 1000, "nested too deeply"),
    ("a " * 65, "Too many search terms"),
    ('"' + "a " * 65 + '"', "Too many search terms"),
    ("a" * 2001, "Query too long"),
]


@pytest.mark.parametrize(("query", "message"), ERRORS, ids=[repr(row[0])[:40] for row in ERRORS])
def test_errors(query: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(query)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_error_is_a_value_error() -> None:
    assert issubclass(QueryError, ValueError)


def test_nesting_limit_is_32() -> None:
    assert parse_query("(" * 32 + "a" + ")" * 32) == W("a")


def test_limits_are_configurable() -> None:
    assert parse_query("a " * 100, max_terms=100, max_length=1000) == A(*[W("a")] * 100)
    with pytest.raises(QueryError):
        parse_query("abc def", max_terms=1)
    with pytest.raises(QueryError):
        parse_query("abcdef", max_length=5)


def parser_lines(call: Callable[[], object]) -> int:
    """How many lines of the query module call() executes: the parser's work, counted exactly.

    Tests bound work this way instead of timing it, so a busy machine cannot fail them.
    """
    count = 0

    def in_parser(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return in_parser

    def on_call(frame: FrameType, event: str, arg: Any) -> Any:
        return in_parser if frame.f_code.co_filename == query_module.__file__ else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        call()
    except QueryError:
        pass
    finally:
        sys.settrace(previous)
    return count


def linear_budget(text: str) -> int:
    """Lines the parser may spend on text: linear in its length (measured: at most ~10 a character
    on 2,000-character adversarial inputs, under 100 for the shortest), so quadratic work fails."""
    return 200 + 25 * len(text)


def test_parser_lines_counts_the_work() -> None:
    one_word = parser_lines(lambda: parse_query("a"))
    assert one_word > 0
    assert parser_lines(lambda: parse_query("a " * 60)) > 10 * one_word


@pytest.mark.parametrize("length", [2000, 10**6])
def test_huge_queries_fail_fast(length: int) -> None:
    query = "word " * 10_000
    with pytest.raises(QueryError):
        parse_query(query, max_length=length)
    # Tokenizing all 10,000 words takes ~830,000 lines; the parser must stop at the limit.
    assert parser_lines(lambda: parse_query(query, max_length=length)) < 10_000


@pytest.mark.parametrize(
    "text",
    ['"' * 2000, "(" * 1999, "-" * 2000, "a:" * 1000, "a OR " * 399, "x" * 2000, "\u0301" * 2000],
)
def test_adversarial_queries_take_linear_work(text: str) -> None:
    assert parser_lines(lambda: parse_query(text)) <= linear_budget(text)


def test_control_characters_in_errors_are_hidden() -> None:
    with pytest.raises(QueryError) as info:
        parse_query("date:\x00\x1b[31m")
    assert "\x00" not in str(info.value) and "\x1b" not in str(info.value)


# --- fold ----------------------------------------------------------------------------------------

FOLDS = [
    ("Café", "cafe"),
    ("ÉCOLE", "ecole"),
    ("naïve Ångström", "naive angstrom"),
    ("Tiếng Việt", "tieng viet"),
    ("Straße", "strasse"),
    ("ﬁle", "file"),
    ("ＡＢＣ", "abc"),
    ("Ἀθῆναι", "αθηναι"),
    ("Привет", "привет"),
    ("Йод ёж", "йод ёж"),
    ("日本語", "日本語"),
    ("がぎ", "がぎ"),
    ("한국어", "한국어"),
    ("مرحبا", "مرحبا"),
    ("नमस्ते", "नमस्ते"),
    (unicodedata.normalize("NFD", "Café"), "cafe"),
]


@pytest.mark.parametrize(("text", "expected"), FOLDS)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once


# --- properties ----------------------------------------------------------------------------------

PIECES = [
    "linux",
    "Kernel",
    "a",
    "wor*",
    "x*",
    "don't",
    "linux-mips",
    "ralf@linux-mips.org",
    "café",
    "Привет",
    "日本語",
    "مرحبا",
    "नमस्ते",
    '"foo bar"',
    '"AND"',
    '"',
    "AND",
    "OR",
    "NOT",
    "-",
    "--",
    "(",
    ")",
    "-(",
    "*",
    "^",
    "+",
    ":",
    "..",
    "NEAR(a b)",
    "{a b}:c",
    "col:x",
    "from:ralf",
    'from:"Ralf Baechle"',
    "from:lin*",
    "to:bob",
    "cc:",
    "subject:",
    'subject:"x y"',
    "filename:a.pdf",
    "list:lkml",
    "list:",
    "mid:<a@b>",
    'mid:"<a b>"',
    "mid:",
    "has:attachment",
    "has:x",
    "date:2024",
    "date:2024-08",
    "date:2024-02-29",
    "date:2023-02-29",
    "date:2024-08-01..2024-08-31",
    "date:..2024-01",
    "date:2024..",
    "date:..",
    "\x00",
    "\u0301",
    "x:y",
    "AND*",
    "OR*",
    "'",
    "_",
    "é",
]
pieces = st.one_of(st.sampled_from(PIECES), st.text(max_size=4))
queries = st.lists(st.tuples(pieces, st.sampled_from([" ", "", "  ", "\t"])), max_size=14).map(
    lambda parts: "".join(piece + sep for piece, sep in parts)
)
any_text = st.one_of(st.text(max_size=300), queries)


def _leaves(node: Node) -> list[Node]:
    pending: list[Node] = [node]
    leaves: list[Node] = []
    while pending:
        item = pending.pop()
        if isinstance(item, (And, Or)):
            assert len(item.items) >= 2
            pending.extend(item.items)
        elif isinstance(item, Not):
            assert not isinstance(item.item, Not)
            pending.append(item.item)
        else:
            leaves.append(item)
    return leaves


def _is_plain_word(word: str) -> bool:
    def kind(char: str) -> str:
        return unicodedata.category(char)[0]

    return (
        bool(word)
        and kind(word[0]) in "LN"
        and kind(word[-1]) in "LNM"
        and all(kind(char) in "LNM" or char in ".@-_'\u2019" for char in word)
    )


def _parse_or_none(text: str) -> Node | None:
    """The query parsed once (under the line counter), or None for a clear QueryError."""
    parsed: list[Node | None] = []

    def parse() -> None:
        try:
            parsed.append(parse_query(text))
        except QueryError as error:
            assert str(error)
            parsed.append(None)

    assert parser_lines(parse) <= linear_budget(text)
    return parsed[0]


@settings(max_examples=600)
@given(any_text)
def test_parse_returns_node_or_query_error(text: str) -> None:
    node = _parse_or_none(text)
    if node is None:
        return
    assert not isinstance(node, Not)
    leaves = _leaves(node)
    assert 1 <= len(leaves) <= 64
    for leaf in leaves:
        if isinstance(leaf, Word):
            assert _is_plain_word(leaf.text)
            assert not leaf.prefix or len(leaf.text) >= 2
        elif isinstance(leaf, Phrase):
            assert len(leaf.words) >= 2
            assert all(_is_plain_word(word) for word in leaf.words)


@settings(max_examples=600)
@given(any_text)
def test_describe_round_trips_any_query(text: str) -> None:
    node = _parse_or_none(text)
    if node is None:
        return
    canonical = describe(node)
    assert parse_query(canonical, max_length=10**6) == node
    assert describe(parse_query(canonical, max_length=10**6)) == canonical


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=2000))
def test_long_arbitrary_text_is_fast(text: str) -> None:
    _parse_or_none(text)

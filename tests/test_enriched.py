"""text/enriched (RFC 1896) read as plain text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailarchive.enriched import richtext_to_plain, to_plain


def test_the_rfc_2046_example_reads_as_its_words() -> None:
    text = ("This is <bold><italic>enriched.</italic></bold>\r\n<smaller>as defined in "
            "RFC 1896</smaller>\r\n\r\nIsn't it\r\n<bigger><bigger>cool?</bigger></bigger>\r\n")
    assert to_plain(text) == "This is enriched. as defined in RFC 1896\nIsn't it cool?"


def test_one_break_is_a_space_and_n_breaks_are_n_minus_one() -> None:
    assert to_plain("a\nb") == "a b"
    assert to_plain("a\n\nb") == "a\nb"
    assert to_plain("a\n\n\n\nb") == "a\n\n\nb"


def test_a_doubled_less_than_sign_is_one() -> None:
    assert to_plain("if a <<b> c") == "if a <b> c"


def test_a_command_argument_is_no_text() -> None:
    assert to_plain("<color><param>0000,0000,ffff</param>Network</color> World") == (
        "Network World")
    assert to_plain("<fontfamily><param>Courier\nNew</param>x</fontfamily>") == "x"


def test_nofill_keeps_its_line_breaks() -> None:
    assert to_plain("<nofill>line 1\nline 2\n</nofill>after\nmore") == (
        "line 1\nline 2\nafter more")


def test_unknown_commands_leave_their_text() -> None:
    assert to_plain("<x-custom>kept</x-custom> <excerpt>quoted</excerpt>") == "kept quoted"


PIECES = st.sampled_from(["<param>", "</param>", "<nofill>", "</nofill>", "<bold>", "</bold>",
                          "<<", "<", ">", "\n", "\r\n", "\r", " "]) | st.text(max_size=5)


@given(st.lists(PIECES, max_size=40).map("".join))
def test_any_text_converts_without_error_and_never_grows_past_its_length(text: str) -> None:
    assert len(to_plain(text)) <= len(text)


def test_richtext_breaks_only_at_nl_and_reads_lt() -> None:
    """RFC 1341's example: source line breaks are spaces; <nl> breaks; <lt> is `<`."""
    text = ("This is <bold>part 4 of the outer message</bold>\n<smaller>as defined in "
            "RFC1341</smaller><nl>\n<nl>\nIsn't it <bigger><bigger>cool?</bigger></bigger>\n")
    assert richtext_to_plain(text) == (
        "This is part 4 of the outer message as defined in RFC1341\n\nIsn't it cool?")
    assert richtext_to_plain("a <lt>b> <comment>not\nshown</comment>c<np>d") == "a <b> c\n\nd"


@given(st.lists(PIECES | st.sampled_from(["<nl>", "<lt>", "<comment>", "</comment>", "<np>"]),
                max_size=40).map("".join))
def test_any_richtext_converts_without_error_and_never_grows(text: str) -> None:
    assert len(richtext_to_plain(text)) <= len(text)

"""fastparse builds the stdlib's own compat32 parse, or says None: never a different tree."""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from hypothesis import given, settings
from hypothesis import strategies as st

from mailarchive import fastparse
from mailarchive.parse import message_from_bytes

PARSER = BytesParser(policy=compat32)


def shape(message: Message) -> list[object]:
    payload = message.get_payload()
    return [message.items(), message.get_default_type(), message.preamble, message.epilogue,
            [type(d).__name__ for d in message.defects],
            [shape(p) for p in payload] if isinstance(payload, list) else payload]


def same_as_stdlib(data: bytes) -> Message | None:
    fast = fastparse.multipart(data)
    if fast is not None:
        assert shape(fast) == shape(PARSER.parsebytes(data)), data
    return fast


MIXED = (b"From: a@example.org\nContent-Type: multipart/mixed; boundary=\"zz\"\n\n"
         b"preamble\n--zz\nContent-Type: text/plain\n\nhello\n-- \nsig\n"
         b"--zz\nContent-Type: text/x-patch; name=a.diff\n\n--- a/x\n+++ b/x\n--zzz\n\n"
         b"--zz--\nepilogue\n")


def test_a_plain_multipart_is_parsed_here_and_equals_the_stdlib() -> None:
    message = same_as_stdlib(MIXED)
    assert message is not None
    parts = message.get_payload()
    assert isinstance(parts, list) and len(parts) == 2
    assert parts[0].get_payload() == "hello\n-- \nsig"
    assert parts[1].get_payload() == "--- a/x\n+++ b/x\n--zzz\n"
    assert message.preamble == "preamble" and message.epilogue == "epilogue\n"


def test_nested_multiparts_and_their_epilogues() -> None:
    data = (b"Content-Type: multipart/mixed; boundary=out\n\n--out\n"
            b"Content-Type: multipart/alternative; boundary=in\n\n--in\n\nplain\n--in\n"
            b"Content-Type: text/html\n\n<p>html</p>\n--in--\ninner epilogue\n\n--out\n"
            b"Content-Type: application/octet-stream\n\nAAAA\n--out--\n")
    message = same_as_stdlib(data)
    assert message is not None and len(message.get_payload()) == 2


def test_mail_cut_short_is_read_as_the_stdlib_reads_it() -> None:
    unclosed = MIXED.replace(b"--zz--\nepilogue\n", b"")
    message = same_as_stdlib(unclosed)
    assert message is not None
    assert [type(d).__name__ for d in message.defects] == ["CloseBoundaryNotFoundDefect"]
    assert message.get_payload()[1].get_payload() == "--- a/x\n+++ b/x\n--zzz\n"
    nested = (b"Content-Type: multipart/mixed; boundary=out\n\n--out\n"
              b"Content-Type: multipart/alternative; boundary=in\n\n--in\n\nplain\n--in\n"
              b"Content-Type: text/html\n\n<p>ht")
    message = same_as_stdlib(nested)
    assert message is not None and message.get_payload()[0].get_payload()[1].get_payload() == \
        "<p>ht"
    for at in range(len(MIXED)):  # wherever it is cut: this parse or the stdlib's, the same
        same_as_stdlib(MIXED[:at])


def test_what_it_leaves_to_the_stdlib() -> None:
    crlf = MIXED.replace(b"\n", b"\r\n")
    rfc822 = MIXED.replace(b"text/x-patch; name=a.diff", b"message/rfc822")
    no_blank = MIXED.replace(b"text/plain\n\nhello", b"text/plain\nhello")
    doubled = MIXED.replace(b"--zz\nContent-Type: text/x", b"--zz\n--zz\nContent-Type: text/x")
    outer_inside = (b"Content-Type: multipart/mixed; boundary=a\n\n--a\n"
                    b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--a\n\ny\n"
                    b"--b--\n--a--\n")
    for data in (crlf, rfc822, no_blank, doubled, outer_inside):
        assert fastparse.multipart(data) is None, data
        message, _defects = message_from_bytes(data)  # the full parse takes it instead
        assert shape(message) == shape(PARSER.parsebytes(data))


def test_a_header_line_without_a_name_goes_to_the_stdlib() -> None:
    data = b"Subject: x\n: no name\n\nbody\n"
    assert fastparse.single_part(data) is None
    message, _defects = message_from_bytes(data)
    assert message.items() == PARSER.parsebytes(data).items() == [("Subject", "x")]


_LINES = st.sampled_from([
    "--b", "--b--", "--b-- ", "--b \t", "--b---", "--bb", "--c", "--c--", "-- ", "--", "",
    "text", "more text", " folded", "\tfolded", "Content-Type: text/plain",
    "Content-Type: multipart/mixed; boundary=c", "Content-Type: multipart/alternative; boundary=b",
    "Content-Type: message/rfc822", "Content-Type: multipart/digest; boundary=c",
    "Content-Transfer-Encoding: base64", "X-Header: v", ": nameless", "From someone",
    "Subject: =?utf-8?q?caf=C3=A9?=", "caf\xe9",
])


@given(st.lists(_LINES, max_size=40), st.booleans(), st.booleans())
@settings(max_examples=3000)
def test_random_multipart_mail_is_parsed_as_the_stdlib_does_or_left_to_it(
        lines: list[str], final_newline: bool, outer_digest: bool) -> None:
    kind = "multipart/digest" if outer_digest else "multipart/mixed"
    body = "\n".join(lines) + ("\n" if final_newline else "")
    data = f"Subject: t\nContent-Type: {kind}; boundary=b\n\n{body}".encode("latin-1")
    same_as_stdlib(data)


@given(st.lists(st.tuples(st.sampled_from(["", "Content-Type: text/plain\n",
                                           "Content-Type: multipart/mixed; boundary=c\n"]),
                          st.lists(_LINES, max_size=6)), min_size=1, max_size=5),
       st.sampled_from(["", "pre\n", "\n"]), st.sampled_from(["", "epi\n", "\n", "x"]))
@settings(max_examples=2000)
def test_well_formed_random_structures_are_parsed_here(
        parts: list[tuple[str, list[str]]], preamble: str, epilogue: str) -> None:
    chunks = [preamble]
    for head, lines in parts:
        chunks.append(f"--b\n{head}\n" + "".join(f"{line}\n" for line in lines))
    chunks.append(f"--b--\n{epilogue}")
    same_as_stdlib(f"Content-Type: multipart/mixed; boundary=b\n\n{''.join(chunks)}".encode(
        "latin-1"))

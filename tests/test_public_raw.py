"""Public raw downloads (`.eml`, mbox.gz): addresses hidden wherever a mail program would show
them — encoded words, base64, quoted-printable, UTF-16 — and the message still parses the same."""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import quopri
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailarchive.model import Part
from mailarchive.parse import parse
from mailarchive.render import hiding
from mailarchive.render.body import parts_of
from mailarchive.render.downloads import public_attachment, public_raw

ADDRESS = "ralf@linux-mips.org"
HIDDEN = "r...@linux-mips.org"


def message(headers: list[str], body: bytes = b"Hello.\n", newline: bytes = b"\n") -> bytes:
    head = [f"Message-ID: <m1.{ADDRESS}>", "Date: Wed, 01 May 2024 10:00:00 +0200", *headers]
    return newline.join(h.encode("utf-8") for h in head) + newline + newline + body


def shown(data: bytes) -> str:
    """What a reader sees of a message: its decoded header fields and the text of its parts."""
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    fields = [str(value) for name, value in parsed.items()
              if name.lower() not in ("message-id", "references", "in-reply-to")]
    texts = [part.text for part in parts_of(data) if part.kind in ("text", "html")]
    return "\n".join(fields + texts)


def check(original: bytes) -> bytes:
    """public_raw of `original`: no address left to read, same structure, stable, lossless off."""
    hidden = public_raw(original)
    assert ADDRESS in shown(original), "the test message must show the address"
    assert ADDRESS not in shown(hidden)
    assert HIDDEN in shown(hidden)
    assert [(p.kind, p.content_type, p.index, p.filename) for p in parts_of(hidden)] == \
        [(p.kind, p.content_type, p.index, p.filename) for p in parts_of(original)]
    assert public_raw(hidden) == hidden, "hiding twice changes nothing more"
    assert f"<m1.{ADDRESS}>".encode() in hidden, "Message-ID kept for threading"
    assert public_raw(original, hide=False) is original
    return hidden


def b_word(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?b?{base64.b64encode(text.encode(charset)).decode()}?="


def q_word(text: str, charset: str = "iso-8859-1") -> str:
    encoded = binascii.b2a_qp(text.encode(charset), header=True).decode().replace("?", "=3F")
    return f"=?{charset}?q?{encoded}?="


def test_plain_message_headers_and_body() -> None:
    hidden = check(message([f"From: Ralf <{ADDRESS}>", "Subject: hi"],
                           f"Write to {ADDRESS}.\n".encode()))
    assert f"From: Ralf <{HIDDEN}>".encode() in hidden and f"Write to {HIDDEN}.".encode() in hidden


def test_address_in_a_base64_encoded_word() -> None:
    hidden = check(message([f"From: {b_word(ADDRESS)}", "Subject: hi"]))
    assert ADDRESS not in (parse(hidden).from_addr, parse(hidden).from_name)


def test_address_in_an_encoded_display_name() -> None:
    name = f"Ralf Bächle ({ADDRESS})"
    hidden = check(message([f"From: {q_word(name)} <{ADDRESS}>", "Subject: hi"]))
    parsed = email.message_from_bytes(hidden, policy=email.policy.default)
    assert str(parsed["From"]) == f'"Ralf Bächle ({HIDDEN})" <{HIDDEN}>'
    assert b"=?iso-8859-1?" in hidden, "re-encoded in its own charset"


def test_address_split_across_adjacent_encoded_words() -> None:
    first, second = ADDRESS[:6], ADDRESS[6:]
    subject = f"Subject: ask {b_word(first)}\n {b_word(second)} now"
    hidden = check(message([subject, "From: x <x@y.example>"]))
    assert f"ask {HIDDEN} now" in shown(hidden)


def test_encoded_words_without_addresses_are_left_alone() -> None:
    original = message([f"Subject: {q_word('Grüße aus Köln')}", "From: x <x@y.example>"])
    assert public_raw(original).replace(b"x...@", b"x@") == original


def test_quoted_printable_soft_break_inside_an_address() -> None:
    body = b"Mail Ralf <ralf@linux-mips.=\norg> or ralf=40linux-mips.org today.\n"
    hidden = check(message(["Subject: qp", "MIME-Version: 1.0",
                            "Content-Type: text/plain; charset=us-ascii",
                            "Content-Transfer-Encoding: quoted-printable"], body))
    assert quopri.decodestring(hidden.split(b"\n\n", 1)[1]).count(HIDDEN.encode()) == 2


def test_quoted_printable_in_place_when_nothing_is_split() -> None:
    body = b"Caf=E9: ralf@linux-mips.org, =3Dralf@linux-mips.org\n"
    hidden = check(message(["Subject: qp", "MIME-Version: 1.0",
                            "Content-Type: text/plain; charset=iso-8859-1",
                            "Content-Transfer-Encoding: quoted-printable"], body))
    assert hidden.endswith(b"\n\nCaf=E9: r...@linux-mips.org, =3D...@linux-mips.org\n")


@pytest.mark.parametrize("charset", ["utf-16", "utf-16le", "utf-16be"])
def test_utf16_base64_text_part(charset: str) -> None:
    text = f"Schreib an {ADDRESS}, bitte.\r\n"
    body = base64.encodebytes(text.encode(charset))
    hidden = check(message(["Subject: utf-16", "MIME-Version: 1.0",
                            f"Content-Type: text/plain; charset={charset}",
                            "Content-Transfer-Encoding: base64"], body))
    payload = email.message_from_bytes(hidden).get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode(charset) == f"Schreib an {HIDDEN}, bitte.\r\n"


def test_utf16_8bit_text_part() -> None:
    body = f"Hi {ADDRESS}\n".encode("utf-16le")
    hidden = public_raw(message(["Subject: utf-16", "MIME-Version: 1.0",
                                 "Content-Type: text/plain; charset=utf-16le",
                                 "Content-Transfer-Encoding: binary"], body))
    assert hidden.split(b"\n\n", 1)[1].decode("utf-16le") == f"Hi {HIDDEN}\n"


def test_base64_text_in_a_multipart_with_crlf_and_attachments() -> None:
    png = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + ADDRESS.encode()).decode()
    lines = [
        "--=_a@b.example", "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64", "",
        base64.encodebytes(f"Écrire à {ADDRESS}.\n".encode()).decode().strip(),
        "--=_a@b.example", "Content-Type: image/png", "Content-Transfer-Encoding: base64", "",
        png.strip(), "--=_a@b.example--", ""]
    headers = [f"From: Ralf <{ADDRESS}>", "MIME-Version: 1.0",
               'Content-Type: multipart/mixed;\r\n\tboundary="=_a@b.example"']
    original = message(headers, "\r\n".join(lines).encode(), b"\r\n")
    hidden = check(original)
    assert b'boundary="=_a@b.example"' in hidden, "a boundary is structure, never hidden"
    assert png.strip().encode() in hidden, "binary attachments are left as sent"
    assert b"\r\n" in hidden and b"\n" not in hidden.replace(b"\r\n", b"")


def test_rfc2231_parameters_take_the_standard_parser() -> None:
    """A Content-Type the fast scanner does not read (RFC 2231 continuations) still has its
    parts found, through the standard library's parser."""
    inner = base64.encodebytes(f"Mail {ADDRESS}\n".encode()).decode().strip()
    body = "\n".join(["--abc@def", "Content-Type: text/plain; charset=utf-8",
                      "Content-Transfer-Encoding: base64", "", inner, "--abc@def--", ""])
    check(message(["Subject: 2231", "MIME-Version: 1.0",
                   "Content-Type: multipart/mixed; boundary*0=abc; boundary*1=\"@def\""],
                  body.encode()))


def test_a_bad_header_line_ends_the_header_section_as_for_the_parser() -> None:
    """After a line that is no header field the standard library reads the rest as body; the
    fast scanner must not find a Content-Type there that the pages never see."""
    original = message(["Subject: odd", "this line has no colon",
                        "Content-Type: multipart/mixed; boundary=x"],
                       f"--x\n\nHi {ADDRESS}\n--x--\n".encode())
    assert check(original).endswith(f"Hi {HIDDEN}\n--x--\n".encode())


def test_text_attachments_in_utf16_are_hidden_too() -> None:
    patch = Part("attachment", "text/x-patch", 2, filename="fix.patch")
    data = f"Signed-off-by: Ralf <{ADDRESS}>\n".encode("utf-16")
    served = public_attachment(patch, data).decode("utf-16")
    assert served == f"Signed-off-by: Ralf <{HIDDEN}>\n"
    assert public_attachment(patch, data, hide=False) == data
    image = Part("attachment", "image/png", 3, filename="x.png")
    assert public_attachment(image, ADDRESS.encode()) == ADDRESS.encode()


def test_long_encoded_text_is_cut_into_valid_words_quickly() -> None:
    text = "Grüße " * 3000 + ADDRESS
    hidden = check(message([f"Subject: {b_word(text)}", "From: x <x@y.example>"]))
    subject = next(line for line in hidden.split(b"\n") if line.startswith(b"Subject:"))
    words = subject.split(b" ")[1:]
    assert len(words) > 100 and all(len(w) <= 75 for w in words)
    assert str(email.message_from_bytes(hidden, policy=email.policy.default)["Subject"]) == \
        "Grüße " * 3000 + HIDDEN


def test_encoded_file_name_in_content_type() -> None:
    lines = ["--b", f"Content-Type: text/plain; name=\"{b_word('from ' + ADDRESS)}\"", "",
             "text", "--b--", ""]
    hidden = public_raw(message(["Subject: names", "MIME-Version: 1.0",
                                 "Content-Type: multipart/mixed; boundary=b"],
                                "\n".join(lines).encode()))
    part = email.message_from_bytes(hidden, policy=email.policy.default).get_payload()[0]
    assert part.get_param("name") == f"from {HIDDEN}"


_ADDRESS_PIECES = st.sampled_from([b"a", b"ralf", b"x.y", b"@", b"@@", b".", b"-", b"org", b"=3D",
                                   b"cid:", b"MID:", b" ", b"\n", b"<", b">", b"!", b"_", b"+",
                                   b"\xc3\xa9", b"a" * 70, b"b" * 300, b"example.org"])


@given(st.lists(_ADDRESS_PIECES, max_size=30).map(b"".join))
@settings(max_examples=3000)
def test_addresses_found_from_their_at_are_the_patterns_own_matches(data: bytes) -> None:
    """hiding._hidden finds matches from each `@`; the pattern's own scan must find the same."""
    def oracle(match: re.Match[bytes]) -> bytes:
        at = match.start() + match.group(0).index(b"@")
        return hiding._shortened(match.string, match.start(), at, match.end())

    assert hiding._hidden(data) == hiding._RAW_ADDRESS.sub(oracle, data)


def test_a_long_run_before_an_at_is_one_local_part() -> None:
    data = b"<" + b"q" * 5000 + b"@example.org>"
    assert hiding._hidden(data) == b"<q...@example.org>"

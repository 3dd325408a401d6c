"""parse: bytes → ParsedMessage, on small hand-written cases (real mail is in test_corpora.py)."""

from __future__ import annotations

import email.utils

from hypothesis import given, settings
from hypothesis import strategies as st

from mailarchive.decode import decoded
from mailarchive.parse import Limits, parse, simple_mailbox

NOW = 1_800_000_000.0


def msg(headers: str, body: str = "Hello.\n") -> bytes:
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8")


def test_plain_message_fields() -> None:
    p = parse(msg("""
Message-ID: <abc@example.org>
From: "Ada Lovelace" <ada@example.org>
To: salon@lists.example.org
Subject: Engines
Date: Mon, 06 Jan 2025 10:00:00 +0100
In-Reply-To: <parent@example.org>
References: <root@example.org> <parent@example.org>
"""), now=NOW)
    assert p.message_id == "abc@example.org" and not p.synthetic_id
    assert (p.from_name, p.from_addr) == ("Ada Lovelace", "ada@example.org")
    assert p.date == 1736154000 and p.tz_offset == 60 and p.date_source == "date"
    assert p.references == ["root@example.org", "parent@example.org"]
    assert p.in_reply_to == "parent@example.org"
    assert p.body_text == "Hello.\n" and p.defects == []


def test_rfc2047_and_8bit_headers() -> None:
    p = parse(b"From: =?utf-8?B?SsO8cmdlbg==?= <j@example.de>\nSubject: =?iso-8859-1?q?caf=E9?= "
              b"=?utf-8?q?cr=C3=A8me?=\nTo: \xc3\xa9lise@example.fr\n\nx\n", now=NOW)
    assert p.from_name == "Jürgen"
    assert p.subject == "cafécrème"
    assert p.to == "élise@example.fr"


def test_raw_8bit_headers_take_the_message_charset_else_windows_1252() -> None:
    """Raw 8-bit bytes in headers: UTF-8 if they are; else a charset the message declares;
    else, for a short header whose 8-bit bytes stand alone, Windows-1252 (charset-normalizer
    reads "J\xfcrgen M\xfcller" as Urdu); runs of 8-bit bytes go to the detector."""
    declared = parse(b"From: \"Torbj\xf6rn Gannholm\" <t@example.se>\nSubject: Gr\xfc\xdfe\n"
                     b"Content-Type: text/plain; charset=iso-8859-1\n\nHej\n", now=NOW)
    assert (declared.from_name, declared.subject) == ("Torbj\xf6rn Gannholm", "Gr\xfc\xdfe")
    undeclared = parse(b"From: h@example.no (H\xe5kon Eriksen)\nTo: J\xfcrgen M\xfcller "
                       b"<j@example.de>\n\nx\n", now=NOW)
    assert undeclared.from_name == "H\xe5kon Eriksen"
    assert undeclared.to == "J\xfcrgen M\xfcller <j@example.de>"
    gb = "\u6bd5\u5b66\u5c27".encode("gb2312")
    chinese = parse(b'From: "' + gb + b'" <b@example.cn>\nMIME-Version: 1.0\nContent-Type: '
                    b'multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain; '
                    b"charset=gb2312\n\nx\n--b--\n", now=NOW)
    assert chinese.from_name == "\u6bd5\u5b66\u5c27"
    korean = "\uaf2d \uac80\ud1a0\ud558\uc5ec \uc8fc\uc2ed\uc2dc\uc694"
    assert parse(b"Subject: " + korean.encode("euc-kr") + b"\n\nx\n", now=NOW).subject == korean


def test_undeclared_8bit_text_mixing_utf8_and_stray_latin1_bytes_reads_both() -> None:
    """A patch with UTF-8 names and a Latin-1 comment (real: linux-mips); a long German
    paragraph whose 8-bit bytes stand alone (charset-normalizer 3.5.2 read it as Shift_JIS)."""
    mixed = parse(b"Subject: x\n\nKy\xc3\xb6sti M\xc3\xa4lkki: k\xf6nnte, I\xb4m\n", now=NOW)
    assert mixed.body_text == "Ky\xf6sti M\xe4lkki: k\xf6nnte, I\xb4m\n"
    german = ("Die Hasen klagten einst \xfcber ihre mi\xdfliche Lage; wir leben, sprach ein "
              "Redner, in steter Furcht vor Menschen und Tieren. W\xe4re es nicht besser, zu "
              "sterben? H\xe4tten wir Mut, so k\xf6nnten wir uns wehren.\n")
    assert parse(b"Subject: x\n\n" + german.encode("latin-1"), now=NOW).body_text == german


def test_iso_8859_labels_read_their_control_range_as_was_meant() -> None:
    """ISO-8859 charsets hold only invisible controls at 0x80-0x9F: Outlook's "iso-8859-1" is
    windows-1252 (as browsers read it), a Latin-2 mail quoting Outlook is windows-1250 there,
    and UTF-8 pasted into a Latin-9 mail is UTF-8 (all three are in linux-mips)."""
    def body(charset: bytes, data: bytes) -> str:
        return parse(b"Content-Type: text/plain; charset=" + charset + b"\n\n" + data,
                     now=NOW).body_text

    assert body(b"iso-8859-1", b"it\x92s \x93fine\x94 \x96 5 \x80\n") == (
        "it\u2019s \u201cfine\u201d \u2013 5 \u20ac\n")
    assert body(b"ISO-8859-2", b"\x93IsC\x94 \xb1\n") == "\u201cIsC\u201d \u0105\n"
    assert body(b"ISO-8859-15", "macro \u2018x\u2019 \u20ac\n".encode()) == (
        "macro \u2018x\u2019 \u20ac\n")
    assert body(b"iso-8859-1", b"caf\xe9 \xa4\n") == "caf\xe9 \xa4\n"  # no controls: Latin-1
    assert body(b"iso-8859-1", b"\x81\x92\n") == "\x81\u2019\n"  # unassigned in 1252
    assert body(b"iso-8859-5", b"\x92\xb0\n") == "\x92\u0410\n"  # no Windows twin: as is
    subject = parse(b"Subject: =?iso-8859-1?Q?Don=92t_panic?=\n\nx\n", now=NOW).subject
    assert subject == "Don\u2019t panic"


@given(st.binary(max_size=64), st.sampled_from(["iso8859-1", "iso8859-2", "iso8859-5",
                                                  "iso8859-15"]))
def test_iso_8859_text_changes_only_where_its_charset_has_controls(data: bytes, codec: str) -> None:
    """UTF-8 if it is and has bytes at 0x80-0x9F; else byte for byte the charset's own letters
    but at 0x80-0x9F, where a Windows page's may be taken (none for Cyrillic ISO-8859-5)."""
    text = decoded(data, codec)
    if any(0x80 <= byte <= 0x9F for byte in data):
        try:
            assert text == data.decode("utf-8")
            return
        except UnicodeDecodeError:
            pass
    plain = data.decode(codec)
    assert len(text) == len(data)
    for byte, char, own in zip(data, text, plain, strict=True):
        assert char == own or (0x80 <= byte <= 0x9F and codec != "iso8859-5")


def test_raw_8bit_inside_an_encoded_word_takes_the_word_charset() -> None:
    p = parse(b"Subject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr\xf6sche?=\n\nx\n", now=NOW)
    assert p.subject == "Die Hasen und die Fr\xf6sche"
    greek = parse(b"Subject: =?iso-8859-7?Q?\xe1\xe2\xe3_=E4?=\n\nx\n", now=NOW)
    assert greek.subject == "\u03b1\u03b2\u03b3 \u03b4"
    mixed = parse(b"Subject: \xc3\xa9t\xc3\xa9 =?utf-8?q?cr=C3=A8me?=\n\nx\n", now=NOW)
    assert mixed.subject == "\xe9t\xe9 cr\xe8me"


def test_a_header_cut_off_inside_its_last_encoded_word_is_decoded() -> None:
    """Real linux-mips spam: a Subject that ends inside an encoded word with no `?=`."""
    cut = parse(b"Subject: =?utf-8?B?w6l0w6kgw6AgUGFyaXM\n\nx\n", now=NOW)
    assert cut.subject == "\xe9t\xe9 \xe0 Paris"
    assert parse(b"Subject: plain =?\n\nx\n", now=NOW).subject == "plain =?"


def test_raw_8bit_attachment_names_are_decoded_not_replaced() -> None:
    """Compat32 turns each 8-bit byte of a parameter into U+FFFD; the name is read from the
    bytes as stored instead: UTF-8 (RFC 6532) or, standing alone, Windows-1252."""
    data = (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain\n\nx\n--b\nContent-Type: application/msword;\n"
            b"\tname=\xe7\xae\xa1\xe7\x90\x86.doc\nContent-Disposition: attachment;\n"
            b"\tfilename=\xe7\xae\xa1\xe7\x90\x86.doc\n\nDOC\n--b\nContent-Type: text/plain;"
            b' name="Fr\xf6sche.txt"\nContent-Disposition: attachment; '
            b'filename="Fr\xf6sche.txt"\n\nquak\n--b--\n')
    names = [part.filename for part in parse(data, now=NOW).parts if part.filename]
    assert names == ["\u7ba1\u7406.doc", "Fr\xf6sche.txt"]


def test_from_with_the_address_inside_an_encoded_word_or_quotes_encoded() -> None:
    """Two shapes of From in real linux-mips mail: one encoded word around name and address,
    and quotes that are part of the encoded words."""
    around = parse(b"From: =?gb2312?q?=B3=C2=B9=FA=C7=BF_<hungmin@21cn.com>?=\n\nx\n", now=NOW)
    assert (around.from_name, around.from_addr) == ("\u9648\u56fd\u5f3a", "hungmin@21cn.com")
    quoted = parse(b"From: =?koi8-r?Q?=22?=Ann Lee=?koi8-r?Q?=22=20?= <ann@example.ru>\n\nx\n",
                   now=NOW)
    assert (quoted.from_name, quoted.from_addr) == ("Ann Lee", "ann@example.ru")


def test_pipermail_text_archive_senders_get_their_address_back() -> None:
    """Pipermail's .txt archives write `From: alice at example.org (Alice Martin)`."""
    p = parse(b"From: alice at example.org (Alice Martin)\nSubject: x\n\nx\n", now=NOW)
    assert (p.from_name, p.from_addr) == ("Alice Martin", "alice@example.org")
    bare = parse(b"From: bob at lists.example.co.uk\n\nx\n", now=NOW)
    assert (bare.from_name, bare.from_addr) == ("bob", "bob@lists.example.co.uk")
    prose = parse(b"From: Look at this (Ann)\n\nx\n", now=NOW)
    assert prose.from_addr == "Look"  # no domain: left as parseaddr reads it


def test_a_name_that_is_the_address_shows_as_its_local_part() -> None:
    """`"gregkh@linuxfoundation.org" <gregkh@linuxfoundation.org>` (real linux-mips) is a
    sender without a name, shown like a bare address."""
    same = parse(b'From: "Greg@Example.org" <greg@example.org>\n\nx\n', now=NOW)
    assert (same.from_name, same.from_addr) == ("greg", "greg@example.org")


def test_missing_message_id_is_synthetic_and_deterministic() -> None:
    data = msg("From: a@example.org\nDate: Mon, 06 Jan 2025 10:00:00 +0000")
    first, second = parse(data, now=NOW), parse(data, now=NOW)
    assert first.synthetic_id and first.message_id == second.message_id
    assert first.message_id.endswith("@synthetic.mailarchive.invalid")
    other = parse(data + b"more\n", now=NOW)
    assert other.message_id != first.message_id


def test_date_fallbacks_are_flagged() -> None:
    received = msg("Received: from x by y; Tue, 07 Jan 2025 08:00:00 -0500\nFrom: a@example.org")
    p = parse(received, now=NOW)
    assert (p.date, p.tz_offset, p.date_source) == (1736254800, -300, "received")
    assert any("Date" in d for d in p.defects)
    absurd = msg("Date: Sat, 01 Jan 0102 00:00:00 +0000\nFrom: a@example.org")
    p = parse(absurd, envelope="a@example.org Sat Feb 24 10:21:36 1996", now=NOW)
    assert (p.date, p.date_source) == (825157296, "envelope")
    p = parse(msg("From: a@example.org"), now=NOW)
    assert (p.date, p.date_source) == (int(NOW), "import")


def test_a_date_far_from_the_list_servers_receipt_gives_way_to_received() -> None:
    """A sender's clock years off (real linux-mips: "Date: Tue, 30 Oct 1979" on mail the list
    got in January 2001) does not file the message decades away; a week's delay (moderation,
    a slow relay) keeps the sender's Date."""
    wrong = msg("Received: from a by b; Mon, 8 Jan 2001 12:00:49 -0800\n"
                "Date: Tue, 30 Oct 1979 04:28:38 +0100\nFrom: h@example.de")
    p = parse(wrong, now=NOW)
    assert (p.date, p.tz_offset, p.date_source) == (978984049, -480, "received")
    assert any(d.startswith("its Date header is more than 30 days") for d in p.defects)
    late = msg("Received: from a by b; Tue, 12 Mar 2013 15:27:53 +0100\n"
               "Date: Tue, 5 Mar 2013 13:55:51 +0100\nFrom: h@example.de")
    p = parse(late, now=NOW)
    assert (p.date, p.date_source, p.defects) == (1362488151, "date", [])


def test_wrong_and_unknown_charsets_fall_back() -> None:
    lying = msg("Content-Type: text/plain; charset=us-ascii", "Grüße aus Köln\n")
    assert parse(lying, now=NOW).body_text == "Grüße aus Köln\n"
    unknown = (b"Content-Type: text/plain; charset=x-nonsense\n\n"
               + "Привет, мир\n".encode())
    p = parse(unknown, now=NOW)
    assert p.body_text == "Привет, мир\n"
    assert any("unknown charset" in d for d in p.defects)
    latin = b"Content-Type: text/plain; charset=iso-8859-1\n\nna\xefve\n"
    assert parse(latin, now=NOW).body_text == "naïve\n"


def test_multipart_parts_and_attachments() -> None:
    data = msg("""
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"
""", """--b1
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes

Plain words
--b2
Content-Type: text/html; charset=utf-8

<p>HTML words</p>
--b2--
--b1
Content-Type: image/png
Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.png
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--b1--
""")
    p = parse(data, now=NOW)
    kinds = [(part.kind, part.content_type) for part in p.parts]
    assert kinds == [("text", "text/plain"), ("attachment", "image/png")]
    assert p.parts[0].flowed and p.parts[0].delsp
    attachment = p.attachments[0]
    assert attachment.filename == "résumé.png" and attachment.size == 8
    assert attachment.inline_image and attachment.index == 2


def test_html_only_message_keeps_html() -> None:
    p = parse(msg("Content-Type: text/html; charset=utf-8", "<p>Only <b>HTML</b></p>"), now=NOW)
    assert [part.kind for part in p.parts] == ["html"]


def test_limits_cut_depth_and_parts_quickly() -> None:
    deep = "Content-Type: multipart/mixed; boundary=b0\n\n"
    for level in range(1, 300):
        deep += f"--b{level - 1}\nContent-Type: multipart/mixed; boundary=b{level}\n\n"
    p = parse(deep.encode(), now=NOW, limits=Limits(max_depth=20))
    assert any("nesting deeper" in d for d in p.defects)
    many = "Content-Type: multipart/mixed; boundary=z\n\n" + "".join(
        f"--z\nContent-Type: text/plain\n\npart {i}\n" for i in range(3000)) + "--z--\n"
    p = parse(many.encode(), now=NOW, limits=Limits(max_parts=100))
    assert len(p.parts) == 100
    assert any("more than 100 MIME parts" in d for d in p.defects)


def test_over_long_header_section_is_cut() -> None:
    data = b"Subject: " + b"x" * 400_000 + b"\nFrom: a@example.org\n\nbody\n"
    p = parse(data, now=NOW, limits=Limits(max_header_bytes=1000))
    assert any("header section" in d for d in p.defects)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_parse_never_raises_on_junk(data: bytes) -> None:
    p = parse(data, now=NOW)
    assert p.message_id


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([
    b"From: x <a@b.c>\n", b"Subject: =?utf-8?B?w6k=?=\n", b"Content-Type: multipart/mixed;"
    b" boundary=q\n", b"--q\n", b"--q--\n", b"\n", b"Content-Transfer-Encoding: base64\n",
    b"aGVsbG8=\n", b"Content-Type: text/plain; charset=bogus\n", b"\xff\xfe\x00junk\n",
    b"Date: yesterday\n", b"References: <a@b> <b@c\n", b"Content-Type: message/rfc822\n",
]), max_size=40))
def test_parse_never_raises_on_mime_shaped_junk(lines: list[bytes]) -> None:
    parse(b"".join(lines), now=NOW)


def test_time_budget_keeps_headers_and_notes_it(monkeypatch: object) -> None:
    import time as clock

    import mailarchive.parse as module

    def slow_parts(*args: object) -> list[object]:
        clock.sleep(1)
        return []

    monkeypatch.setattr(module, "_parts", slow_parts)  # type: ignore[attr-defined]
    data = msg("Message-ID: <slow@example.org>\nSubject: slow")
    p = module.parse_safely(data, now=NOW, limits=Limits(time_budget=0.05))
    assert p.message_id == "slow@example.org" and p.subject == "slow"
    assert any("took over 0.05 s" in d for d in p.defects)


def test_time_budget_holds_inside_a_run_and_the_old_handler_comes_back(
        monkeypatch: object) -> None:
    """Workers keep the budget's handler installed for a whole chunk (`budgeted`): a slow
    message is still cut, the next one parses whole, and the handler before is put back."""
    import signal
    import time as clock

    import mailarchive.parse as module

    real_parts = module._parts

    def slow_for_one(message: object, *args: object) -> list[object]:
        if "slow" in str(message.get("subject")):  # type: ignore[attr-defined]
            clock.sleep(1)
        return real_parts(message, *args)  # type: ignore[arg-type]

    def mine(signum: int, frame: object) -> None:
        pass

    monkeypatch.setattr(module, "_parts", slow_for_one)  # type: ignore[attr-defined]
    before = signal.signal(signal.SIGALRM, mine)
    try:
        with module.budgeted():
            slow = module.parse_safely(msg("Subject: slow"), now=NOW,
                                       limits=Limits(time_budget=0.05))
            quick = module.parse_safely(msg("Subject: quick"), now=NOW,
                                        limits=Limits(time_budget=0.05))
        assert any("took over 0.05 s" in d for d in slow.defects)
        assert quick.parts and not any("took over" in d for d in quick.defects)
        assert signal.getsignal(signal.SIGALRM) is mine
        module.parse_safely(msg("Subject: alone"), now=NOW, limits=Limits(time_budget=0.05))
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, before)


def test_fast_single_part_path_equals_a_full_parse() -> None:
    from email.parser import BytesParser
    from email.policy import compat32

    from mailarchive.parse import message_from_bytes

    samples = [msg("Subject: a\nContent-Transfer-Encoding: quoted-printable", "caf=C3=A9\n"),
               msg("Subject: b\nNot a header line\nX: y", "body\n"),
               b"Subject: c\r\n\r\nbody\r\n", b"Subject: d\rX: y\r\rbody\r",
               msg("Content-Type: multipart/mixed; boundary=q", "--q\n\nx\n--q--\n")]
    for data in samples:
        fast, _ = message_from_bytes(data)
        full = BytesParser(policy=compat32).parsebytes(data)
        assert fast.items() == full.items()
        assert fast.get_payload(decode=True) == full.get_payload(decode=True)


def test_8bit_bytes_inside_message_ids_are_decoded_text() -> None:
    p = parse(b"Message-ID: <\x80a@x>\nReferences: <\xc3\xa9b@x>\nIn-Reply-To: <\xffc@x>\n\nx\n",
              now=NOW)
    for value in (p.message_id, *p.references, p.in_reply_to or ""):
        value.encode("utf-8")  # storable: no lone surrogates
    assert p.references == ["éb@x"]


_MAILBOX_PIECES = st.sampled_from([
    "John", "Q.", "Smith", "José", "=?utf-8?q?J=C3=A9?=", " ", "  ", "\t", '"', "\\", "<", ">",
    "(", ")", "@", ".", ",", ";", ":", "[", "]", "a", "b.c", "x@y", "x@y.org", "<x@y.org>",
    "(Name)", '"Smith, J"'])


@given(st.lists(_MAILBOX_PIECES, max_size=8).map("".join))
@settings(max_examples=3000)
def test_simple_mailbox_agrees_with_parseaddr_whenever_it_answers(text: str) -> None:
    fast = simple_mailbox(text)
    assert fast is None or fast == email.utils.parseaddr(text)


def test_simple_mailbox_takes_the_plain_forms() -> None:
    assert simple_mailbox("John  Q. Smith <js@x.org>") == ("John Q. Smith", "js@x.org")
    assert simple_mailbox('"Smith, John" <js@x.org>') == ("Smith, John", "js@x.org")
    assert simple_mailbox("js@x.org (John Smith)") == ("John Smith", "js@x.org")
    assert simple_mailbox("<js@x.org>") == ("", "js@x.org")
    assert simple_mailbox('Jiri "Kasi" Kastner <a@b>') is None  # left to parseaddr


def test_simple_mailbox_is_linear_on_hostile_headers() -> None:
    # each of these makes a regex with nested repetition backtrack for ever
    for text in ("a" * 100_000, "a " * 50_000, "a." * 50_000 + "@", "x@" + "a." * 50_000 + " (",
                 "a " * 50_000 + "<x@y", "<" + "a." * 50_000):
        assert simple_mailbox(text) is None


def _nested(depth: int) -> bytes:
    head = (b"From: a@example.org\nSubject: deep\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="b0"\n\n--b0\n'
            b"Content-Type: text/plain\n\nthe outer words\n")
    opening = b"".join(b'--b%d\nContent-Type: multipart/mixed; boundary="b%d"\n\n' % (i, i + 1)
                       for i in range(depth))
    inner = b"--b%d\nContent-Type: text/plain\n\nthe inner words\n" % depth
    closing = b"".join(b"--b%d--\n" % i for i in range(depth, -1, -1))
    return head + opening + inner + closing


def test_nesting_past_the_limit_is_cut_before_the_parser_sees_it() -> None:
    shallow = parse(_nested(10), now=NOW)
    assert [p.text.strip() for p in shallow.parts] == ["the outer words", "the inner words"]
    assert not any("nesting" in d for d in shallow.defects)
    deep = parse(_nested(3000), now=NOW, limits=Limits(max_depth=20))
    assert deep.parts[0].text.strip() == "the outer words"
    assert all("inner" not in p.text for p in deep.parts)
    assert "MIME nesting deeper than 20 levels: inner parts not shown" in deep.defects


def test_rfc2231_charset_with_nul_bytes_is_kept_as_text() -> None:
    # found by fuzz/fuzz_message.py: the codec lookup raised ValueError and the page crashed
    data = (b"From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="r"\n\n--r\n'
            b"Content-Type: application/octet-stream; name*=x-nope\x00\x00'en'report%41.pdf\n\n"
            b"data\n--r--\n")
    parsed = parse(data, now=NOW)
    assert [(p.kind, p.filename) for p in parsed.parts] == [("attachment", None)]
    from mailarchive.render.body import parts_of

    assert [p.kind for p in parts_of(data)] == ["attachment"]


def test_far_more_parts_than_shown_are_cut_before_the_parser_sees_them() -> None:
    many = "Content-Type: multipart/mixed; boundary=z\n\n" + "".join(
        f"--z\nContent-Type: text/plain\n\npart {i}\n" for i in range(10_000)) + "--z--\n"
    p = parse(many.encode(), now=NOW, limits=Limits(max_parts=100))
    assert [x.text.strip() for x in p.parts] == [f"part {i}" for i in range(100)]
    assert p.defects.count("more than 100 MIME parts: the rest are not shown") == 1
    assert not any("boundary" in d for d in p.defects)  # the cut closes what it leaves open
    exact = "Content-Type: multipart/mixed; boundary=z\n\n" + "".join(
        f"--z\nContent-Type: text/plain\n\npart {i}\n" for i in range(100)) + "--z--\n"
    assert len(parse(exact.encode(), now=NOW, limits=Limits(max_parts=100)).parts) == 100


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab=;; \t\n\"\\*<>'%éC-/")), max_size=40))
def test_content_type_params_fast_split_equals_get_params(value: str) -> None:
    """The plain split of Content-Type parameters gives what get_params gives, on any value
    (quotes, backslashes, RFC 2231 stars and non-ASCII still go through get_params)."""
    from email.message import Message

    from mailarchive.parse import _param_text, _type_params

    part = Message()
    part.set_raw("Content-Type", value)
    expected: dict[str, str] = {}
    for name, text in (part.get_params(failobj=[]) or [])[1:]:
        expected.setdefault(name.lower(), _param_text(text))
    assert _type_params(part) == expected


@given(st.binary(max_size=40).map(lambda b: b.replace(b"\x00", b"\n").replace(b"\x01", b"\r")),
       st.integers(min_value=0, max_value=45))
def test_header_end_found_as_the_pattern_finds_it(data: bytes, bound: int) -> None:
    import re

    from mailarchive.parse import has_header_end

    expected = re.compile(rb"\r?\n\r?\n").search(data, 0, bound) is not None
    assert has_header_end(data, bound) == expected


@given(st.lists(st.sampled_from([b"boundary", b"BoUnDaRy", b"bound", b"ary", b" ", b"\t", b"=",
                                 b"x", b"\n", b"boundaryboundary="]), max_size=30).map(b"".join),
       st.integers(min_value=0, max_value=4))
def test_boundary_count_bound_agrees_with_the_pattern(data: bytes, most: int) -> None:
    import re

    from mailarchive.parse import boundaries_over

    pattern = re.compile(rb"boundary[ \t]*=", re.I)
    assert boundaries_over(data, most) == (len(pattern.findall(data)) > most)


@given(st.binary(max_size=300), st.lists(st.sampled_from(
    ["utf-8", "iso-8859-1", "gb2312", "koi8-r", "x-unknown", "us-ascii", "shift_jis"]),
    max_size=2))
@settings(max_examples=300, deadline=None)
def test_any_header_bytes_give_text_a_page_can_carry(data: bytes, hints: list[str]) -> None:
    """Whatever bytes a header holds (encoded words, cut ones, 8-bit runs) and whatever the
    message declares, the decoded text is valid Unicode: no surrogate reaches a page or the
    database."""
    from mailarchive.decode import guess, header_text

    charset = hints[0].encode() if hints else b"x"
    for value in (data, b"=?" + charset + b"?q?" + data, b"=?" + charset + b"?b?" + data):
        header_text(value.decode("ascii", "surrogateescape"), hints).encode("utf-8")
    guess(data, hints).encode("utf-8")


def test_an_unknown_text_subtype_is_read_as_plain_text_unless_attached() -> None:
    """RFC 2046 4.1.4; a bounce's text/rfc822-headers, a vCard sent as an attachment."""
    data = (b"From: a@example.org\nSubject: bounce\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/report; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
            b"It failed.\n--b\nContent-Type: text/rfc822-headers\n\nSubject: the original\n"
            b"--b\nContent-Type: text/x-vcard; name=a.vcf\nContent-Disposition: attachment\n\n"
            b"BEGIN:VCARD\n--b--\n")
    parts = parse(data).parts
    assert [(p.kind, p.content_type) for p in parts] == [
        ("text", "text/plain"), ("text", "text/rfc822-headers"), ("attachment", "text/x-vcard")]
    assert "Subject: the original" in parts[1].text


def test_a_type_glued_to_its_parameters_is_read_as_the_type() -> None:
    """`Content-Type: application/pdf name="x.pdf"` (no ";", as one mailer wrote it; enmime's
    corpus): the attachment's type is application/pdf, and an HTML part so written is HTML."""
    p = parse(b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
              b"Content-Type: text/html charset=\"utf-8\"\n\n<p>Hi <b>there</b></p>\n--b\n"
              b'Content-Type: application/pdf name="x.pdf"\nContent-Disposition: attachment; '
              b'filename="x.pdf"\n\n%PDF\n--b--\n', now=NOW)
    assert [(part.kind, part.content_type) for part in p.parts] == [
        ("html", "text/html"), ("attachment", "application/pdf")]


def test_a_forwarded_message_caption_changes_no_count_text_or_defect() -> None:
    forward = (b"Date: Mon, 6 Jan 2025 10:00:00 +0000\nSubject: Fwd\nMIME-Version: 1.0\n"
               b"Content-Type: multipart/mixed; boundary=b\n\n"
               b"--b\nContent-Type: text/plain\n\nSee below.\n--b\nContent-Type: message/rfc822\n\n"
               b"From: j@example.de\nSubject: x\n\nMeet at noon.\n--b--\n")
    p = parse(forward, now=NOW)
    assert [part.kind for part in p.parts] == ["text", "message", "text"]
    assert p.body_text == "See below.\n\nMeet at noon."
    assert p.attachments == [] and p.defects == []
    hidden = parse(b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=a\n\n--a\n"
                   b"Content-Type: message/rfc822\n\nFrom: j@example.de\n\nx\n--a\n"
                   b"Content-Type: text/plain\n\nchosen\n--a--\n", now=NOW)
    assert [(part.kind, part.text) for part in hidden.parts] == [("text", "chosen")]

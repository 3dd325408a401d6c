"""The pure rendering pieces: the escaper (obfuscation, links, flowed text, quotes), the HTML
sanitizer, file names and relative links."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailarchive.render import filters, urls
from mailarchive.render.body import parts_of, render_body
from mailarchive.render.months import PAGE_SIZE, paginate
from mailarchive.render.pages import shape, tree
from mailarchive.render.sanitize import sanitize, to_text
from mailarchive.store import ListInfo, MessageRow

HOSTILE = Path(__file__).parent / "data" / "hostile"
LIST = ListInfo(1, "test", "Test", "test@lists.example.org", "", True)


def test_obfuscate_addresses() -> None:
    assert filters.obfuscate("ralf@linux-mips.org") == "r...@linux-mips.org"
    assert filters.obfuscate("ralf@linux-mips.org", on=False) == "ralf@linux-mips.org"
    assert filters.obfuscate("no address") == "no address"
    text = filters.obfuscate_text("Ralf <ralf@linux-mips.org> and bob.smith@example.com")
    assert "ralf@" not in text and "bob.smith@" not in text
    assert "r...@linux-mips.org" in text and "b...@example.com" in text


_ADDRESSY = st.text(alphabet=st.sampled_from(list("ab.-_+@ \t\n\u00a0\u2003x1")), max_size=60)


_LINKY = st.lists(st.sampled_from([*"ab.-_+@:/ \t\n\u00a0\u2003x1()<>\"'", "https://", "ftp://",
                                    "http:/", "://", "a@b.org", "www.x.org/p?q=1"]),
                  max_size=30).map("".join)


@given(_ADDRESSY)
def test_addresses_are_hidden_token_by_token_as_over_the_whole_text(text: str) -> None:
    whole = filters._ADDRESS_ONLY.sub(lambda m: filters.obfuscate(m.group(0)),
                                      filters.clean(text))
    assert filters.obfuscate_text(text) == whole


@given(st.one_of(_ADDRESSY, _LINKY))
def test_links_and_addresses_are_found_token_by_token_as_over_the_whole_text(text: str) -> None:
    for pattern, marks in ((filters._TOKENS, ("@", "://")), (filters._ADDRESS_ONLY, ("@",))):
        whole = [(m.start(), m.end(), m.lastgroup) for m in pattern.finditer(text)]
        tokens = [(at + m.start(), at + m.end(), m.lastgroup)
                  for at, m in filters.matches(pattern, text, marks)]
        assert tokens == whole


@given(st.lists(st.one_of(_ADDRESSY, _LINKY).map(lambda t: t.replace("\n", " ")), min_size=1,
                max_size=12),
       st.booleans())
def test_a_patch_linked_in_one_pass_is_each_line_linked(lines: list[str], hide: bool) -> None:
    one_pass = filters._link("\n".join(lines), hide).split("\n")
    assert one_pass == [filters._link(line, hide) for line in lines]


def _quoted_lines_char_by_char(text: str) -> list[tuple[int, str]]:
    """The plain definition quoted_lines must agree with: `>` markers, each maybe after a
    space, counted one character at a time, and one space after the last dropped."""
    lines = []
    for line in text.split("\n"):
        depth = pos = 0
        while pos < len(line) and (line[pos] == ">" or line[pos:pos + 2] == " >"):
            depth += line[pos] == ">"
            pos += 1
        if depth and line[pos:pos + 1] == " ":
            pos += 1
        lines.append((depth, line[pos:]))
    return lines


@given(st.text(alphabet=st.sampled_from(list("> \ta\n|")), max_size=40))
def test_quote_depths_are_those_counted_char_by_char(text: str) -> None:
    assert filters.quoted_lines(text) == _quoted_lines_char_by_char(text)


def test_linkify_links_urls_and_escapes_the_rest() -> None:
    html = str(filters.linkify("see <https://example.org/a?b=1&c=2>, or http://x.example/(y)."))
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer">' in html
    assert "&lt;" in html and "&gt;" in html
    assert 'href="http://x.example/(y)"' in html
    assert html.endswith("</a>.")


@pytest.mark.parametrize("text", [
    "javascript:alert(1)", "data:text/html,<script>x</script>", "vbscript:msgbox",
    'http://x.example/"onmouseover="alert(1)', "<script>alert(1)</script>",
])
def test_linkify_never_makes_active_markup(text: str) -> None:
    html = str(filters.linkify(text))
    assert "<script" not in html
    assert not re.search(r'href="(?!https?://)', html)
    assert '" onmouseover' not in html


def test_linkify_obfuscates_addresses_in_text() -> None:
    html = str(filters.linkify("mail ralf@linux-mips.org now"))
    assert "ralf@" not in html and "r...@linux-mips.org" in html


def test_flowed_text_is_joined_and_delsp_honoured() -> None:
    lines = filters.unflow("one \ntwo\n> quoted \n> more\n>> deep\n-- \nsig", delsp=False)
    assert lines == [(0, "one two"), (1, "quoted more"), (2, "deep"), (0, "-- "), (0, "sig")]
    assert filters.unflow("Zusammen \ngeschrieben", delsp=True) == [(0, "Zusammengeschrieben")]
    assert filters.unflow(" >stuffed", delsp=False) == [(0, ">stuffed")]


def test_flowed_url_split_by_a_soft_break_is_one_link() -> None:
    html = str(filters.body_html("See https://example.org/a/ \nb/c here.", flowed=True,
                                 delsp=True))
    assert 'href="https://example.org/a/b/c"' in html


def test_quotes_fold_without_script_and_nest() -> None:
    text = "Bob wrote:\n> first\n> > second\n> first again\n\nmine\n"
    html = str(filters.body_html(text))
    assert html.count('<details class="quote"') == 2
    assert html.count("</details>") == 2
    assert "Quoted text (3 lines)" in html and "Quoted text (1 line)" in html
    assert html.index("second") > html.index("first")
    assert "<script" not in html


def test_long_quotes_start_folded_short_ones_open() -> None:
    long = "\n".join(f"> line {i}" for i in range(40))
    assert '<details class="quote"><summary>' in str(filters.body_html(long))
    assert '<details class="quote" open>' in str(filters.body_html("> short"))


def test_quote_depth_is_capped_and_balanced() -> None:
    text = "\n".join(">" * depth + " x" for depth in [*range(30), *range(30, 0, -1)])
    html = str(filters.body_html(text))
    assert html.count("<details") == html.count("</details>") == filters.MAX_DEPTH


def test_signature_and_patch_are_set_apart() -> None:
    text = ("Please apply.\n---\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
            "-- \n2.1\n")
    html = str(filters.body_html(text))
    assert '<pre class="patch">' in html
    assert '<span class="da">+b</span>' in html and '<span class="dd">-a</span>' in html
    assert '<details class="sig"><summary>Signature</summary>' in html and "2.1" in html


def test_hard_wrapped_prose_reflows_but_code_does_not() -> None:
    prose = ("This is a sentence that was wrapped by a mail program at seventy\n"
             "characters, and it reads better joined on a small phone screen.")
    assert "seventy characters" in str(filters.body_html(prose))
    code = ("int-handler.S:64: Error: .previous without corresponding .section; ignored\n"
            "int-handler.S:70: Error: .previous without corresponding .section; ignored")
    html = str(filters.body_html(code))
    assert '<div class="mono">' in html and "ignored\nint-handler" in html


@pytest.mark.parametrize("html", [
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '<a href="javascript:x()">a</a>',
    '<a href="  JaVaScRiPt:x()">a</a>', '<a href="vbscript:x">a</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">', '<iframe src="https://e.x/"></iframe>',
    '<object data="x.swf"></object>', '<form action="https://e.x/"><input></form>',
    '<base href="https://e.x/">', '<meta http-equiv="refresh" content="0;url=https://e.x/">',
    '<p style="background:url(https://e.x/t.png)">x</p>', "<style>p{color:red}</style>",
    '<svg><script>alert(1)</script></svg>', '<math><mtext><style><img src=x onerror=alert(1)>',
    '<body onload="alert(1)">', '<a href="https://ok.example/" target="_blank" onclick="x()">a</a>',
])
def test_sanitizer_removes_active_content(html: str) -> None:
    out = str(sanitize(html).html).lower()
    for bad in ("<script", "javascript:", "vbscript:", "data:", "<iframe", "<object", "<form",
                "<base", "<meta", "style=", "<style", "<svg", " on", "target="):
        assert bad not in out, (html, out)


def test_remote_images_wait_for_consent() -> None:
    html = '<p><img src="https://img.example/cat.png" alt="a &quot;cat&quot;"></p>'
    shown = sanitize(html)
    assert "img.example" not in str(shown.html) and shown.blocked_images == 1
    assert '<span class="noimg">[a &quot;cat&quot;]</span>' in str(shown.html)
    assert 'src="https://img.example/cat.png"' in str(sanitize(html, images=True).html)


def test_cid_images_point_at_the_attachment() -> None:
    html = '<img src="cid:part1@x" alt="c"><img src="cid:missing@x">'
    out = str(sanitize(html, cids={"part1@x": "msg5/2/c.png"}).html)
    assert '<img src="msg5/2/c.png" alt="c">' in out and "missing" not in out


def test_sanitizer_hides_addresses() -> None:
    out = str(sanitize('<a href="mailto:ralf@linux-mips.org">ralf@linux-mips.org</a>').html)
    assert "ralf@" not in out and "mailto:" not in out and "r...@linux-mips.org" in out
    assert "a b" in to_text("<p>a</p> <script>x</script>b")


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.eml")), ids=lambda p: p.stem)
def test_hostile_bodies_render_inert(path: Path) -> None:
    body = render_body(LIST, 1, parts_of(path.read_bytes()), "test/msg1.html")
    html = str(body.html).lower()
    assert "<script" not in html
    assert not re.search(r"(src|srcset|poster|background|action|data)\s*=\s*\"?[^\">]*evil", html)
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html)
    assert not re.search(r"(href|src)\s*=\s*\"?\s*(javascript|vbscript|data):", html)
    for item in body.attachments:
        assert "/" not in item.target.split("/", 3)[3]


@pytest.mark.parametrize(("name", "ctype", "expected"), [
    ("../../etc/passwd", "text/plain", "passwd.txt"),
    ("..\\..\\win.ini", "text/plain", "win.ini"),
    ("/etc/shadow", "text/plain", "shadow.txt"),
    ("invoice.pdf\x00.html", "text/html", "invoice.pdf.html.txt"),
    ("evil.SVG", "image/svg+xml", "evil.SVG.txt"),
    ("photo", "image/png", "photo.png"),
    ("photo.html", "image/png", "photo.png"),
    ("invoice\u202efdp.exe", "application/octet-stream", "invoice_fdp.exe"),
    ("CON", "application/octet-stream", "_CON.bin"),
    (".htaccess", "text/plain", "htaccess.txt"),
    (None, "application/pdf", "attachment-3.pdf.bin"),
    ("résumé.pdf", "application/pdf", "résumé.pdf.bin"),
])
def test_attachment_names_are_safe(name: str | None, ctype: str, expected: str) -> None:
    assert urls.safe_filename(name, 3, ctype) == expected


def test_relative_links() -> None:
    assert urls.relative("lm/2000/01/", "lm/msg5.html") == "../../msg5.html"
    assert urls.relative("lm/msg5.html", "lm/") == "./"
    assert urls.relative("lm/msg5.html", "") == "../"
    assert urls.relative("", "lm/") == "lm/"
    assert urls.relative("lm/thread/3.html", "lm/msg5/2/a%20b.png") == "../msg5/2/a%20b.png"
    assert urls.relative("", "a:b/") == "./a:b/"
    assert urls.relative("lm/msg5.html", "lm/msg5.html?images=1") == "msg5.html?images=1"


def test_message_ids_that_cannot_be_folders() -> None:
    assert urls.mid_ok("a@b.example")
    for bad in ("a/b@c", "../x@y", ".hidden@x", "a\x00b@c", "x" * 300):
        assert not urls.mid_ok(bad)
    assert urls.mid("a b%c@d") == "mid/a%20b%25c@d/"


def _row(num: int, mid: str, refs: tuple[str, ...] = (), day: int = 1) -> MessageRow:
    return MessageRow(num, 1, num, mid, False, refs[-1] if refs else None, refs, f"s{num}",
                      "Name", "n@x.example", 86400 * day, 0, "date", "1970-01", 1, 0, 10, (),
                      None)


def test_thread_tree_nesting_is_balanced() -> None:
    rows = [_row(1, "a"), _row(2, "b", ("a",), 2), _row(3, "c", ("a", "b"), 3), _row(4, "d",
                                                                                    ("a",), 4)]
    items = tree(shape(LIST, rows).entries)
    assert [i.entry.depth for i in items] == [0, 1, 2, 1]
    opened = sum(i.child for i in items)
    assert opened == sum(i.closes for i in items)


def test_pages_keep_threads_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [_row(n, f"m{n}", day=n) for n in range(1, 2 * PAGE_SIZE + 2)]
    assert [len(p) for p in paginate(LIST, rows, "date")] == [PAGE_SIZE, PAGE_SIZE, 1]
    assert sum(len(p) for p in paginate(LIST, rows, "thread")) == len(rows)
    assert paginate(LIST, [], "author") == [[]]


@pytest.mark.parametrize("markup", [
    "<div>" * 20_000 + "deep words",                                   # never closed
    "<div>" * 20_000 + "deep words" + "</div>" * 20_000,              # closed
    "<div>x" * 20_000 + "deep words",
    "<div><span>a</div></span>" * 300 + "<div>" * 20_000 + "deep words",  # misnested first
])
def test_deep_html_is_cut_before_the_sanitizer_parses_it(markup: str) -> None:
    # found by fuzz/fuzz_message.py: nh3's parser is quadratic in nesting depth (2 MB of <div>
    # took minutes per page view); _shallow bounds the depth it sees
    from mailarchive.render.sanitize import MAX_NESTING, _shallow, sanitize

    assert _shallow(markup).count("<div") <= MAX_NESTING + 300  # what nh3 gets to parse
    cleaned = str(sanitize(markup).html)
    assert "deep words" in cleaned
    assert cleaned.count("<div") <= MAX_NESTING + 300
    depth = widest = 0
    for tag in re.finditer(r"<(/?)div", cleaned):
        depth += -1 if tag.group(1) else 1
        widest = max(widest, depth)
    assert widest <= MAX_NESTING


def _with_attachment(ctype: str, name: str, content: bytes, cte: str = "8bit") -> bytes:
    return (b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
            b"Content-Type: text/plain\n\nSee the patch.\n--b\nContent-Type: " + ctype.encode()
            + b'\nContent-Disposition: attachment; filename="' + name.encode() + b'"\n'
            b"Content-Transfer-Encoding: " + cte.encode() + b"\n\n" + content + b"\n--b--\n")


PATCH = (b"Fix the build.\n\ndiff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n"
         b"-int a = 1; /* <script>alert(1)</script> */\n+int a = 2;\n")


@pytest.mark.parametrize("ctype,name", [("text/x-patch", "fix.patch"),
                                        ("application/octet-stream", "fix.diff"),
                                        ("text/plain", "fix.txt")])
def test_attached_patches_and_text_files_are_shown_below_the_body(ctype: str, name: str) -> None:
    """As mail clients show them (real linux-mips: 650 text attachments, most of them patches):
    escaped, set apart as a patch, and still offered for download."""
    body = render_body(LIST, 1, parts_of(_with_attachment(ctype, name, PATCH)), "test/msg1.html")
    shown = str(body.html)
    assert f'<details class="attached" open><summary><bdi>{name}</bdi>' in shown
    removed = '<span class="dd">-int a = 1; /* &lt;script&gt;alert(1)&lt;/script&gt; */</span>'
    assert removed in shown
    assert "<script" not in shown and [a.name for a in body.attachments] == [name]


def test_big_binary_or_unreadable_attachments_are_only_listed() -> None:
    for ctype, name, content in [("text/plain", "big.log", b"line\n" * 60_000),
                                 ("text/plain", "nul.txt", b"a\0b"),
                                 ("application/octet-stream", "blob.bin", b"text"),
                                 ("text/html", "page.html", b"<p>hi</p>")]:
        body = render_body(LIST, 1, parts_of(_with_attachment(ctype, name, content)),
                           "test/msg1.html")
        assert "attached" not in str(body.html) and len(body.attachments) == 1, name


def test_long_attached_text_starts_folded() -> None:
    long = b"".join(b"line %d\n" % i for i in range(300))
    shown = str(render_body(LIST, 1, parts_of(_with_attachment("text/x-log", "boot.log", long)),
                            "test/msg1.html").html)
    assert '<details class="attached"><summary>' in shown and "line 299" in shown


def test_a_message_in_text_enriched_alone_shows_its_text() -> None:
    """Eudora and Apple Mail sent text/enriched with no plain alternative (two in linux-mips):
    its words are shown, its commands are not, and nothing is taken for an attachment."""
    message = (b"From: a@example.org\nSubject: unsubscribe\nMIME-Version: 1.0\n"
               b"Content-Type: text/enriched; charset=us-ascii\n\nunsubscribe\n\nSenior Editor\n\n"
               b"<color><param>0000,0000,ffff</param>Network</color> World <<3\n")
    body = render_body(LIST, 1, parts_of(message), "test/msg1.html")
    shown = str(body.html)
    assert "Network" in shown and "World &lt;3" in shown and "Senior Editor" in shown
    assert "color" not in shown and "0000" not in shown and body.attachments == []


BOUNCE = (b"From: MAILER-DAEMON@mx.example.org\nSubject: Undeliverable\nMIME-Version: 1.0\n"
          b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
          b"--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
          b"--b\nContent-Type: message/delivery-status\n\n"
          b"Reporting-MTA: dns; mx.example.org\n\n"
          b"Final-Recipient: rfc822; ada@example.org\nAction: failed\n"
          b"Status: 5.2.2\nDiagnostic-Code: smtp; 552 mailbox over quota\n\n"
          b"--b\nContent-Type: application/pdf; name=report.pdf\n"
          b"Content-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n")


def test_a_bounce_shows_its_delivery_status_fields() -> None:
    """RFC 3464's report is blocks of fields, which the standard library parses as header-only
    messages: it showed as empty parts (six bounces in linux-mips). The attachment after it
    keeps the number it had (the report's two blocks were two leaves)."""
    parts = parts_of(BOUNCE)
    assert [(p.index, p.kind, p.content_type) for p in parts] == [
        (0, "text", "text/plain"), (1, "text", "message/delivery-status"),
        (3, "attachment", "application/pdf")]
    assert parts[1].text == ("Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; "
                             "ada@example.org\nAction: failed\nStatus: 5.2.2\n"
                             "Diagnostic-Code: smtp; 552 mailbox over quota\n")
    shown = str(render_body(LIST, 1, parts, "test/msg1.html").html)
    assert ('<div class="mono">Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; '
            'a...@example.org\nAction: failed\nStatus: 5.2.2\n') in shown  # fields, line by line
    assert "ada@example.org" not in shown


FORWARD = (b"From: a@example.org\nSubject: Fwd: plans\nMIME-Version: 1.0\n"
           b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\n"
           b"See below.\n--b\nContent-Type: message/rfc822\n\n"
           b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.de>\nDate: Mon, 6 Jan 2025 10:00:00 +0100\n"
           b"Subject: =?utf-8?q?Caf=C3=A9?= plans\nTo: salon@example.org\n\nMeet at noon.\n"
           b"--b\nContent-Type: application/pdf; name=map.pdf\nContent-Transfer-Encoding: base64\n"
           b"\nJVBERi0=\n--b--\n")


def test_a_forwarded_message_is_captioned_with_its_sender_date_and_subject() -> None:
    """A message/rfc822 part showed its body glued to the forwarder's text, with nothing to say
    whose words they were (26 such parts in linux-mips). Its caption takes no part number: the
    attachment after it keeps its URL."""
    parts = parts_of(FORWARD)
    assert [(p.index, p.kind) for p in parts] == [
        (0, "text"), (-1, "message"), (1, "text"), (2, "attachment")]
    assert parts[1].text == ("From: J\xfcrgen <j@example.de>\nDate: Mon, 6 Jan 2025 10:00:00 "
                             "+0100\nSubject: Caf\xe9 plans\n")
    shown = str(render_body(LIST, 1, parts, "test/msg1.html").html)
    caption = shown.index('<div class="forwarded"><p class="by">Forwarded message</p>')
    assert shown.index("See below.") < caption < shown.index("Meet at noon.")
    assert "J\xfcrgen &lt;j...@example.de&gt;" in shown and "j@example.de" not in shown

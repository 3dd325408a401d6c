#!/usr/bin/env python3
"""Write samples/salon.mbox, a small fictional mailing-list archive for mailarchive.

    python samples/make_salon.py            # writes samples/salon.mbox next to this file
    python samples/make_salon.py OUT.mbox   # or somewhere else

The list is salon@lists.example.org, a friendly literary salon (books, meeting places,
recipes), January to March 2025.  Every person, address and word in it was invented for this
project.  Messages are built by hand as bytes (no email.generator), so the output does not depend
on the Python version, and nothing is random: two runs give byte-identical files.

The mbox is mboxrd: each message starts with an envelope line
``From <sender> <asctime UTC>``, every line matching ``^>*From `` gets one more ``>``, lines end
in LF and a blank line follows each message.  See samples/README.md for what the sample covers.
"""

from __future__ import annotations

import base64
import quopri
import re
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

LIST_ADDR = "salon@lists.example.org"
LIST_ID = "Salon <salon.lists.example.org>"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MBOXRD_FROM = re.compile(rb"^>*From ")


# --------------------------------------------------------------------------- encoded words


def _b_word(chunk: str, charset: str) -> str:
    data = base64.b64encode(chunk.encode(charset)).decode("ascii")
    tag = "b" if charset.islower() else "B"  # follow the charset's case, as mailers do
    return f"=?{charset}?{tag}?{data}?="


def _q_word(chunk: str, charset: str) -> str:
    out = []
    for byte in chunk.encode(charset):
        ch = chr(byte)
        if ch == " ":
            out.append("_")
        elif ch.isascii() and (ch.isalnum() or ch in "!*+-/"):
            out.append(ch)
        else:
            out.append(f"={byte:02X}")
    tag = "q" if charset.islower() else "Q"
    return f"=?{charset}?{tag}?{''.join(out)}?="


def encode_words(text: str, how: str = "b", charset: str = "utf-8", width: int = 60) -> str:
    """RFC 2047 encoded words for ``text``, split (never inside a character) and folded."""
    make = _b_word if how == "b" else _q_word
    words: list[str] = []
    chunk = ""
    for ch in text:
        if chunk and len(make(chunk + ch, charset)) > width:
            words.append(make(chunk, charset))
            chunk = ""
        chunk += ch
    if chunk:
        words.append(make(chunk, charset))
    return "\n ".join(words)


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    utc_offset: timedelta
    how: str = "b"  # how a non-ASCII display name is encoded: "b" or "q"
    charset: str = "utf-8"

    def header(self, raw: bool = False) -> str:
        if raw or self.name.isascii():
            return f"{self.name} <{self.email}>"
        return f"{encode_words(self.name, self.how, self.charset)} <{self.email}>"

    @property
    def domain(self) -> str:
        return self.email.partition("@")[2]


H = timedelta(hours=1)
ALICE = Person("Alice Martin", "alice@example.org", 0 * H)
BOB = Person("Bob Okafor", "bob.okafor@example.net", 0 * H)
CELINE = Person("Céline Dubois", "celine.dubois@example.fr", 1 * H, "q", "iso-8859-1")
JURGEN = Person("Jürgen Groß", "juergen@example.de", 1 * H, "b", "utf-8")
HANAKO = Person("佐藤 花子", "hanako.sato@example.jp", 9 * H, "b", "UTF-8")
DMITRI = Person("Дмитрий Соколов", "dmitri@example.ru", 3 * H, "b", "utf-8")
MARIA = Person("Maria Lopez", "maria.lopez@example.com", -5 * H)
TOM = Person("Tom Becker", "tom@example.com", 0 * H)
PRIYA = Person("Priya Nair", "priya@example.in", timedelta(hours=5, minutes=30))
ZOE = Person("Zoë Ward", "zoe@example.co.uk", 0 * H, "q", "utf-8")


def sig(*lines: str) -> str:
    """A signature block: the ``-- `` separator (with its trailing space) and the lines."""
    return "-- \n" + "".join(line + "\n" for line in lines)


ALICE_SIG = sig("Alice Martin", "Salon host, https://salon.example.org/")
JURGEN_SIG = sig("Jürgen Groß · Freiburg im Breisgau")
DMITRI_SIG = sig("Dmitri Sokolov · Санкт-Петербург")


# --------------------------------------------------------------------------- MIME building


def part(headers: list[tuple[str, str]], payload: bytes) -> bytes:
    """One MIME entity: header lines, a blank line, the payload (ending in LF)."""
    head = "".join(f"{name}: {value}\n" for name, value in headers).encode("ascii")
    if not payload.endswith(b"\n"):
        payload += b"\n"
    return head + b"\n" + payload


def encode_payload(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data


def text(
    body: str,
    charset: str = "utf-8",
    cte: str | None = None,
    *,
    subtype: str = "plain",
    declared: str | None = None,
    params: str = "",
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    data = body.encode(charset)
    if cte is None:
        cte = "7bit" if data.isascii() else "8bit"
    headers = [
        ("Content-Type", f"text/{subtype}; charset={declared or charset}{params}"),
        ("Content-Transfer-Encoding", cte),
        *extra,
    ]
    return part(headers, encode_payload(data, cte))


def attachment(
    data: bytes,
    ctype: str,
    disposition: str,
    cte: str = "base64",
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:
    headers = [
        ("Content-Type", ctype),
        ("Content-Transfer-Encoding", cte),
        ("Content-Disposition", disposition),
        *extra,
    ]
    return part(headers, encode_payload(data, cte))


def multipart(subtype: str, boundary: str, parts: list[bytes], params: str = "") -> bytes:
    out = [f'Content-Type: multipart/{subtype}; boundary="{boundary}"{params}\n\n'.encode()]
    if subtype == "mixed":
        out.append(b"This is a multi-part message in MIME format.\n\n")
    for p in parts:
        out.append(f"--{boundary}\n".encode() + p + b"\n")
    out.append(f"--{boundary}--\n".encode())
    return b"".join(out)


def flowed(paragraphs: list[tuple[int, str]], width: int = 66) -> str:
    """Encode logical lines as format=flowed; delsp=yes (RFC 3676).

    Each (quote depth, text) pair becomes one or more physical lines; every soft break ends
    in one extra space that a reader deletes when unflowing, so a break may even fall inside a
    long word (a URL here).  ``-- `` stays a fixed line.
    """
    lines: list[str] = []
    for depth, logical in paragraphs:
        prefix = ">" * depth + (" " if depth else "")
        if logical == "-- " or not logical:
            lines.append(prefix + logical if logical else prefix.rstrip())
            continue
        words = logical.split(" ")
        pieces = [w + " " for w in words[:-1]] + [words[-1]]
        room = width - len(prefix)
        physical: list[str] = []
        current = ""
        for piece in pieces:
            while len(piece) > room:  # a very long word: break inside it
                if current:
                    physical.append(current)
                    current = ""
                physical.append(piece[:room])
                piece = piece[room:]
            if current and len(current) + len(piece) > room:
                physical.append(current)
                current = ""
            current += piece
        physical.append(current)
        for i, line in enumerate(physical):
            last = i == len(physical) - 1
            if not prefix and line.startswith((" ", ">", "From ")):
                line = " " + line  # space-stuffing
            lines.append(prefix + line + ("" if last else " "))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- binary attachments


Pixel = Callable[[int, int], tuple[int, int, int]]


def png(width: int, height: int, pixel: Pixel) -> bytes:
    """A valid RGB PNG.  The zlib stream uses a stored block so the bytes never vary."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = []
    for y in range(height):
        rows.append(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)))
    raw = b"".join(rows)
    stored = (
        b"\x78\x01\x01"
        + struct.pack("<HH", len(raw), len(raw) ^ 0xFFFF)
        + raw
        + struct.pack(">I", zlib.adler32(raw))
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", stored) + chunk(b"IEND", b"")


def pelmeni_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A blue plate with pale dumplings on it, 16x16."""
    dx, dy = x - 7.5, y - 7.5
    if dx * dx + dy * dy > 56:
        return (250, 246, 238)  # tablecloth
    if (x + 2 * y) % 5 in (0, 1) and 3 <= x <= 12 and 3 <= y <= 12:
        return (240, 226, 190)  # dumpling
    return (60, 90, 170)  # plate


def map_pixel(x: int, y: int) -> tuple[int, int, int]:
    """A toy map: sea on the left, mountains, a red dot for the hot-spring town."""
    if (x - 11) ** 2 + (y - 5) ** 2 <= 2:
        return (200, 30, 30)
    if x < 4 + (y % 3):
        return (70, 130, 200)
    if y > 10 - (x % 4):
        return (90, 150, 80)
    return (235, 235, 240)  # snow


def tiny_pdf(title: str, lines: list[str]) -> bytes:
    """A minimal one-page PDF with a correct xref table (ASCII text only)."""
    text_ops = ["BT", "/F1 16 Tf", "40 250 Td", f"({title}) Tj", "/F1 11 Tf"]
    for line in lines:
        text_ops += ["0 -18 Td", f"({line}) Tj"]
    text_ops.append("ET")
    stream = "\n".join(text_ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 300] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


PATCH = """\
From 3f1c2a9d0b7e4c55a1e2f0c9d8b7a6e5f4d3c2b1 Mon Sep 17 00:00:00 2001
From: Tom Becker <tom@example.com>
Date: Mon, 10 Feb 2025 18:20:00 +0000
Subject: [PATCH] calendar: show meeting times in the reader's time zone

The calendar printed 19:00 for everyone.  Convert the start time to the
visitor's zone in the browser and keep the venue time in a tooltip.
---
 static/calendar.js | 9 ++++++---
 1 file changed, 6 insertions(+), 3 deletions(-)

diff --git a/static/calendar.js b/static/calendar.js
index 5d2e8a1..9b4c7f3 100644
--- a/static/calendar.js
+++ b/static/calendar.js
@@ -10,9 +10,12 @@ function renderMeeting(el, meeting) {
   const title = document.createElement("h3");
   title.textContent = meeting.book;
   el.appendChild(title);
-  const when = document.createElement("p");
-  when.textContent = meeting.date + " " + meeting.time + " (venue time)";
-  el.appendChild(when);
+  const when = document.createElement("time");
+  const start = new Date(meeting.isoStart);
+  when.dateTime = meeting.isoStart;
+  when.textContent = start.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
+  when.title = meeting.date + " " + meeting.time + " (venue time)";
+  el.appendChild(when);
   const place = document.createElement("p");
   place.textContent = meeting.venue;
   el.appendChild(place);
--
2.47.1
"""


# --------------------------------------------------------------------------- messages


@dataclass
class Mail:
    key: str
    who: Person
    when: tuple[int, ...]  # local time of the sender: y, m, d, H, M[, S]
    subject: str  # the header value, already encoded as it should appear
    content: bytes  # Content-* headers, blank line, body
    parent: str | None = None  # key of the message replied to, or an EXTERNAL key
    threading: str = "full"  # "full" (References + In-Reply-To), "irt" (In-Reply-To only), "none"
    has_message_id: bool = True
    has_date: bool = True
    raw_headers: bool = False  # From and Subject written as raw UTF-8 (no RFC 2047)
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def date(self) -> datetime:
        y, mo, d, hh, mi, *rest = self.when
        sec = rest[0] if rest else 0
        return datetime(y, mo, d, hh, mi, sec, tzinfo=timezone(self.who.utc_offset))

    @property
    def message_id(self) -> str:
        utc = self.date.astimezone(UTC)
        return f"<{utc:%Y%m%d%H%M%S}.{self.key}@mail.{self.who.domain}>"


# Messages replied to that are not in the archive (the list started in January).
EXTERNAL = {"minutes-2024-12": "<20241219210500.minutes-2024-12@mail.example.org>"}


def fold_ids(name: str, ids: list[str]) -> str:
    """Fold a list of message ids so no line is longer than 78 characters."""
    lines = [f"{name}:"]
    for mid in ids:
        if len(lines[-1]) + 1 + len(mid) > 78 and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + mid
    return "\n".join(lines)


def asctime(moment: datetime) -> str:
    u = moment.astimezone(UTC)
    return f"{DAYS[u.weekday()]} {MONTHS[u.month - 1]} {u.day:2d} {u:%H:%M:%S} {u.year}"


SUBJ_WELCOME = "[Salon] Welcome to the salon!"
SUBJ_BOOK = "[Salon] January book: The Little Prince"
SUBJ_VENUE = "[Salon] Where should we meet in February?"
SUBJ_MASTER = "[Salon] " + encode_words("«Мастер и Маргарита»") + " reading notes"
SUBJ_POTLUCK = "[Salon] February meeting: recipes for the potluck"
SUBJ_KUCHEN = "Re: [Salon] " + encode_words("Apfelkuchen für Donnerstag", "q")
SUBJ_PATCH = "[Salon] [PATCH] calendar: show meeting times in the reader's time zone"
SUBJ_GUEST = "[Salon] Guest speaker in March"
SUBJ_SOIREE = "[Salon] " + encode_words("Soirée lecture à voix haute ?", "q", "iso-8859-1")
SUBJ_SOIREE_RE = "Re: [Salon] " + encode_words("Soirée lecture à voix haute ?", "b", "iso-8859-1")
SUBJ_JAPAN = (
    "[Salon] " + encode_words("3月は日本文学の月", "b", "UTF-8")
    + " / March is Japanese literature month"
)
SUBJ_APRIL = "[Salon] Thank you, and plans for April"
SUBJ_MINUTES = "Re: [Salon] Minutes from the December meeting"

PELMENI_PNG = png(16, 16, pelmeni_pixel)
MAP_PNG = png(16, 16, map_pixel)
CV_PDF = tiny_pdf(
    "Resume - Dr. Ines Carvalho",
    [
        "Literary translator, Portuguese to English.",
        "Eleven novels and two story collections translated since 2009.",
        "Teaches a translation workshop every summer.",
        "Prefers tea to coffee; will talk about puns for hours.",
    ],
)


def re_(subject: str) -> str:
    return "Re: " + subject


MAILS: list[Mail] = [
    # ------------------------------------------------------------------ welcome thread (A)
    Mail("welcome", ALICE, (2025, 1, 6, 10, 0), SUBJ_WELCOME, text("""\
Hello everyone,

Welcome to the Salon list! A few of us have been meeting in the back of
a bookshop for about a year now, and it felt like time to give the
conversation a home between meetings.

The plan, roughly:

  * one book a month, chosen by whoever hosts
  * we meet on the first Thursday of the month at 19:00 (UK time),
    in person or by video
  * everyone brings something to eat or drink (recipes welcome here!)

Our little website lives at https://salon.example.org/ and the reading
calendar is at https://salon.example.org/calendar.

Please introduce yourselves -- where you are, what you're reading, and
what you'd like the group to read this year.

Alice

""" + ALICE_SIG)),
    Mail("welcome-bob", BOB, (2025, 1, 6, 14, 12), re_(SUBJ_WELCOME), text("""\
On Mon, 6 Jan 2025 at 10:00, Alice Martin <alice@example.org> wrote:
> Please introduce yourselves -- where you are, what you're reading, and
> what you'd like the group to read this year.

Hi all, Bob here. I'm in Leeds most of the year and currently halfway
through a very long Victorian novel that I refuse to give up on.

For this year I'd love at least one book in translation that none of us
has read. Happy to bake for the first meeting.

Bob
""" + sig("Bob Okafor")), parent="welcome"),
    # The one body in iso-8859-1 (8bit, raw Latin-1 bytes).
    Mail("welcome-celine", CELINE, (2025, 1, 6, 18, 40), re_(SUBJ_WELCOME), text("""\
Bonjour à tous !

Alice, merci pour l'invitation. Je m'appelle Céline, je vis à Lyon et je
lis surtout des romans français et des essais. Désolée pour mon anglais,
I will try to write in both languages.

Je propose de lire un classique français cette année - peut-être
« Le Petit Prince » ? It's short, so nobody has an excuse.

À bientôt,
Céline
""", "iso-8859-1"), parent="welcome"),
    Mail("welcome-hanako", HANAKO, (2025, 1, 7, 9, 15), re_(SUBJ_WELCOME), text("""\
Hello from Kyoto!

はじめまして、佐藤花子です。京都に住んでいます。どうぞよろしくお願いします。
I read mostly Japanese fiction and, for fun, English detective novels.

Alice Martin wrote:
>   * everyone brings something to eat or drink (recipes welcome here!)

19:00 in the UK is very early morning here, so I will join by video
when I can, and I will gladly share recipes. :)

Hanako
"""), parent="welcome"),
    Mail("welcome-alice-2", ALICE, (2025, 1, 7, 11, 0), re_(SUBJ_WELCOME), text("""\
Bob Okafor wrote:
> On Mon, 6 Jan 2025 at 10:00, Alice Martin <alice@example.org> wrote:
>> Please introduce yourselves -- where you are, what you're reading, and
>> what you'd like the group to read this year.
>
> For this year I'd love at least one book in translation that none of us
> has read. Happy to bake for the first meeting.

Noted on both counts! A translation month is a lovely idea, and Hanako
has already offered to guide us through something Japanese.

What are you baking? Asking for, well, everyone.

Alice

""" + ALICE_SIG), parent="welcome-bob"),
    Mail("welcome-bob-2", BOB, (2025, 1, 7, 12, 30), re_(SUBJ_WELCOME), text("""\
Alice Martin wrote:
> What are you baking? Asking for, well, everyone.

Cardamom buns, probably. Recipe to follow once I've made them twice
without setting off the smoke alarm.

>> Happy to bake for the first meeting.
>
> Noted on both counts!

I see you've already written it down. No escape now.

Bob
"""), parent="welcome-alice-2"),
    Mail("welcome-juergen", JURGEN, (2025, 1, 8, 8, 5), re_(SUBJ_WELCOME), text("""\
Hallo zusammen,

Céline Dubois schrieb:
> Je propose de lire un classique français cette année - peut-être
> « Le Petit Prince » ? It's short, so nobody has an excuse.

Sehr gute Idee. I read it at school in German ("Der kleine Prinz") and
have not opened it since, so I am curious how it reads as an adult.

Ich wohne in Freiburg und lese gerade viel Fontane - langsam, aber mit
großem Vergnügen.

Grüße,
Jürgen

""" + JURGEN_SIG), parent="welcome-celine"),
    Mail("welcome-celine-2", CELINE, (2025, 1, 8, 13, 20), re_(SUBJ_WELCOME), text("""\
Jürgen Groß a écrit :
> Céline Dubois schrieb:
>> Je propose de lire un classique français cette année - peut-être
>> « Le Petit Prince » ?
>
> Sehr gute Idee. I read it at school in German ("Der kleine Prinz")

Parfait ! Then we can compare translations: I'll bring the French
edition, you bring the German one, and Hanako maybe the Japanese one.
Ce sera notre petit club des traducteurs.

Céline
"""), parent="welcome-juergen"),
    # A reply whose parent (December's minutes) was never on this list's archive.
    Mail("minutes-tom", TOM, (2025, 1, 8, 17, 45), SUBJ_MINUTES, text("""\
Alice Martin wrote:
> Minutes are attached; the short version is that we agreed to start a
> mailing list in January and to keep the bookshop as our usual venue.

Thanks for writing these up. One correction: it was Priya, not me, who
suggested the potluck rule. Credit where it's due!

Tom
"""), parent="minutes-2024-12"),
    Mail("minutes-alice", ALICE, (2025, 1, 9, 9, 0), SUBJ_MINUTES, text("""\
Tom Becker wrote:
> One correction: it was Priya, not me, who suggested the potluck rule.

Fixed on the website, thank you. Sorry, Priya!

Alice
"""), parent="minutes-tom"),
    Mail("welcome-dmitri", DMITRI, (2025, 1, 9, 21, 0), re_(SUBJ_WELCOME), text("""\
Céline Dubois wrote:
> Then we can compare translations: I'll bring the French
> edition, you bring the German one, and Hanako maybe the Japanese one.

And I will bring the Russian one, «Маленький принц». My grandmother
gave it to me when I was seven; the drawings are the same, and the boa
constrictor still looks like a hat.

Привет всем! Меня зовут Дмитрий, я живу в Петербурге. I will mostly
read quietly, but I promise to post a recipe or two.

Дмитрий

""" + DMITRI_SIG), parent="welcome-celine-2"),
    # ------------------------------------------------------------------ January book (B)
    # Its body has a line starting with "From " (mboxrd writes ">From ").
    Mail("book", ALICE, (2025, 1, 10, 10, 0), SUBJ_BOOK, text("""\
Hi all,

By popular demand (thank you Céline and Jürgen), January's book is
"The Little Prince" by Antoine de Saint-Exupéry. Any translation is
fine; comparing them is half the fun.

A few questions to think about before we meet on Thursday 6 February:

1. Who is the book really written for?
2. The fox says the essential is invisible to the eye. Do you agree?
3. Which planet would you live on?

From the very first page, the narrator tells us grown-ups never understand
anything by themselves. Let's see if we can prove him wrong.

Alice

""" + ALICE_SIG)),
    # format=flowed; delsp=yes, from a -0500 time zone.
    Mail("book-maria", MARIA, (2025, 1, 10, 13, 30), re_(SUBJ_BOOK), text(flowed([
        (0, "On Fri, Jan 10, 2025 at 10:00 AM Alice Martin <alice@example.org> wrote:"),
        (1, "3. Which planet would you live on?"),
        (0, ""),
        (0, "The lamplighter's, without question. He is the only grown-up in the book who "
            "is busy with something other than himself, and his planet turns so fast that "
            "he gets a sunset every minute. I would bring a chair and never be bored."),
        (0, ""),
        (0, "I found a lovely illustrated edition at my library; the catalogue link is "
            "https://books.example.com/catalog/the-little-prince-illustrated-anniversary-"
            "edition-2025?branch=center&format=hardcover if anyone wants to look."),
        (0, ""),
        (0, "Hello everyone, by the way -- I'm Maria, in Philadelphia, and very happy to "
            "have found a book club that meets across time zones."),
        (0, ""),
        (0, "Maria"),
        (0, ""),
        (0, "-- "),
        (0, "Maria Lopez"),
        (0, "Philadelphia, PA"),
    ]), params="; format=flowed; delsp=yes"), parent="book"),
    # In-Reply-To only, no References.
    Mail("book-tom", TOM, (2025, 1, 11, 16, 20), re_(SUBJ_BOOK), text("""\
Maria Lopez wrote:
> The lamplighter's, without question.

Good choice, but you'd never sleep. I'll take the planet with the three
volcanoes: small, warm, and you can cook breakfast on one of them.

Tom
"""), parent="book-maria", threading="irt"),
    # Out of order: this reply comes before its parent ("book-celine") in the file.
    Mail("book-juergen", JURGEN, (2025, 1, 12, 10, 10), re_(SUBJ_BOOK), text("""\
Céline Dubois schrieb:
> The rose is vain, demanding, and completely loved anyway. Je pense que
> c'est le vrai sujet du livre : aimer quelqu'un de difficile.

Interesting - I always read the rose as the author's wife, so the book
felt to me more like an apology than a love letter.

In the German edition the fox's sentence begins "Man sieht nur mit dem
Herzen gut", which has become almost a proverb. My colleagues quote it
without knowing where it comes from.

Jürgen

""" + JURGEN_SIG), parent="book-celine"),
    Mail("book-celine", CELINE, (2025, 1, 11, 9, 30), re_(SUBJ_BOOK), text("""\
Alice Martin a écrit :
> 2. The fox says the essential is invisible to the eye. Do you agree?

En français, c'est la phrase que tout le monde connaît par cœur. Mais je
trouve que la rose est plus intéressante que le renard.

The rose is vain, demanding, and completely loved anyway. Je pense que
c'est le vrai sujet du livre : aimer quelqu'un de difficile.

Céline
""", cte="quoted-printable"), parent="book"),
    Mail("book-alice-2", ALICE, (2025, 1, 12, 15, 0), re_(SUBJ_BOOK), text("""\
Jürgen Groß wrote:
> Céline Dubois schrieb:
>> The rose is vain, demanding, and completely loved anyway.
>
> Interesting - I always read the rose as the author's wife, so the book
> felt to me more like an apology than a love letter.

Apology *and* love letter, maybe? I'll add that to the questions for the
meeting. Hanako, how does the Japanese title translate back?

Alice
"""), parent="book-juergen"),
    # Quotes with a bare ">" so one body line starts with ">From " (mboxrd: ">>From ").
    Mail("book-bob", BOB, (2025, 1, 12, 20, 5), re_(SUBJ_BOOK), text("""\
Alice Martin <alice@example.org> writes:

>From the very first page, the narrator tells us grown-ups never understand
>anything by themselves. Let's see if we can prove him wrong.

Challenge accepted, although I needed the drawing of the elephant inside
the snake explained to me at the age of six, so my record is poor.

Bob
"""), parent="book"),
    Mail("book-hanako", HANAKO, (2025, 1, 13, 8, 40), re_(SUBJ_BOOK), text("""\
Alice Martin wrote:
> Hanako, how does the Japanese title translate back?

The best-known Japanese title is 『星の王子さま』 (Hoshi no Ōji-sama),
literally "The Prince of the Stars", with the polite -sama at the end.
So in Japanese he is a little more royal and a little less little. :)

新しい翻訳もたくさんありますが、私は子どもの頃に読んだ古い訳が好きです。
(There are many new translations, but I like the old one from my
childhood best.)

Hanako
"""), parent="book-alice-2"),
    # ------------------------------------------------------------------ venue (C)
    Mail("venue", ALICE, (2025, 1, 20, 10, 0), SUBJ_VENUE, text("""\
Hi all,

The bookshop is closed for renovation in February, so we need another
place for Thursday 6 February. The options I know of:

  - Café Lumière (quiet, has a back room, serves food)
  - The Reading Room at the public library (free, but no food allowed)
  - My flat (small, one cat, unlimited tea)

Suggestions welcome. Please reply by the end of the month.

Alice
"""), parent=None),
    # HTML only: a table, a link and a remote image.
    Mail("venue-priya", PRIYA, (2025, 1, 20, 18, 30), re_(SUBJ_VENUE), text("""\
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Venues</title></head>
<body>
<p>Hi Alice, hi everyone,</p>
<p>I visited all three last week, so here is a quick comparison:</p>
<table border="1" cellpadding="4" cellspacing="0">
<tr><th>Venue</th><th>Seats</th><th>Food</th><th>Price</th></tr>
<tr><td>Café Lumière</td><td>14</td><td>Yes</td><td>One drink each</td></tr>
<tr><td>Library Reading Room</td><td>20</td><td>No</td><td>Free</td></tr>
<tr><td>Alice’s flat</td><td>8</td><td>Yes</td><td>Free (bring biscuits)</td></tr>
</table>
<p>The café’s opening hours are on
<a href="https://cafe-lumiere.example.com/hours">their website</a>.
They close at 22:30 on Thursdays, which gives us plenty of time.</p>
<p>And yes, the café also has a cat:</p>
<p><img src="https://images.example.com/cat.png"
 alt="A grey cat asleep on a pile of books" width="200" height="150"></p>
<p>Priya</p>
</body></html>
""", cte="quoted-printable", subtype="html"), parent="venue"),
    # multipart/alternative: text and HTML.
    Mail("venue-bob", BOB, (2025, 1, 21, 9, 10), re_(SUBJ_VENUE), multipart(
        "alternative", "=_alt_venue_bob_7f3a", [
            text("""\
Priya Nair wrote:
> I visited all three last week, so here is a quick comparison

Thank you, that table is very useful. I vote for Café Lumière: the back
room is quiet enough to hear each other, and the cat is a bonus.

Bob
"""),
            text("""\
<html><body>
<div>Priya Nair wrote:</div>
<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc;padding-left:1ex">
I visited all three last week, so here is a quick comparison
</blockquote>
<p>Thank you, that table is very useful. I vote for <b>Café Lumière</b>: the back
room is quiet enough to hear each other, and the cat is a bonus.</p>
<p>Bob</p>
</body></html>
""", cte="quoted-printable", subtype="html"),
        ]), parent="venue-priya"),
    # Raw 8-bit UTF-8 in From and Subject, no RFC 2047 at all.
    Mail("venue-zoe", ZOE, (2025, 1, 22, 12, 0),
         "Re: [Salon] Where should we meet in February? – Café Lumière", text("""\
Hello! I'm new here (Priya told me about the list).

I work around the corner from Café Lumière. The owner, Mme Roux, says
the back room is free on Thursdays if we book a week ahead. I can make
the booking if that helps.

Zoë
"""), parent="venue", raw_headers=True),
    Mail("venue-alice-2", ALICE, (2025, 1, 24, 10, 0), re_(SUBJ_VENUE), text("""\
Bob Okafor wrote:
> I vote for Café Lumière: the back room is quiet enough to hear each
> other, and the cat is a bonus.

That seems to be the consensus (five votes for the café, one for my
flat, which I suspect came from my cat). Zoë, yes please, do book it!

So: Thursday 6 February, 19:00, Café Lumière, back room.
Map: https://maps.example.com/?q=Cafe+Lumiere&z=17

Alice

""" + ALICE_SIG), parent="venue-bob"),
    Mail("venue-maria", MARIA, (2025, 1, 24, 11, 45), re_(SUBJ_VENUE), text("""\
Alice Martin wrote:
> So: Thursday 6 February, 19:00, Café Lumière, back room.

I'll join by video from Philadelphia; that's 2pm here, perfect for a
lunch-break salon. Could someone bring a laptop and point it at the
cake?

Maria
"""), parent="venue-alice-2"),
    # ------------------------------------------------------------------ Bulgakov (D), Jan -> Feb
    Mail("master", DMITRI, (2025, 1, 27, 19, 0), SUBJ_MASTER, text("""\
Hello everyone,

Since February's book is not chosen yet, let me campaign a little. I am
re-reading "The Master and Margarita" by Mikhail Bulgakov and will post
notes here, chapter by chapter, for anyone who wants to read along.

Первая глава называется «Никогда не разговаривайте с неизвестными».
Two literary men argue on a bench at the Patriarch's Ponds, and a
stranger joins the conversation. That is all I will say without
spoilers.

Translations I know: Glenny, Pevear & Volokhonsky, Burgin & O'Connor.
Any of them is fine; notes and a map are at
https://salon.example.org/books/master-and-margarita

Дмитрий

""" + DMITRI_SIG)),
    Mail("master-alice", ALICE, (2025, 1, 29, 10, 0), re_(SUBJ_MASTER), text("""\
Dmitri Sokolov wrote:
> Since February's book is not chosen yet, let me campaign a little.

Campaign successful. I'm in, and I'll propose it as February's book
unless anyone objects by Friday.

Alice
"""), parent="master"),
    # Out of order again: Jürgen's reply is filed before the message it answers.
    Mail("master-juergen", JURGEN, (2025, 2, 1, 10, 30), re_(SUBJ_MASTER), text("""\
Дмитрий Соколов wrote:
> Notes for chapter 2: we jump to Jerusalem, to Pontius Pilate and his
> headache. Bulgakov's Pilate is one of the most human characters in
> the book, I think.

Agreed. I am reading the German translation ("Der Meister und
Margarita") and the Jerusalem chapters feel like a different book:
much calmer, almost biblical in rhythm.

Jürgen
"""), parent="master-dmitri-2"),
    Mail("master-dmitri-2", DMITRI, (2025, 1, 31, 23, 50), re_(SUBJ_MASTER), text("""\
Alice Martin wrote:
> I'm in, and I'll propose it as February's book unless anyone objects
> by Friday.

Excellent! Notes for chapter 2: we jump to Jerusalem, to Pontius Pilate
and his headache. Bulgakov's Pilate is one of the most human characters
in the book, I think.

Small warning: chapter 3 is short, but chapter 4 is a chase scene.

Спасибо, Alice!
Дмитрий
"""), parent="master-alice"),
    # Declares us-ascii (7bit) but the body is UTF-8.
    Mail("master-bob", BOB, (2025, 2, 1, 14, 0), re_(SUBJ_MASTER), text("""\
Dmitri Sokolov wrote:
> Translations I know: Glenny, Pevear & Volokhonsky, Burgin & O'Connor.

I picked up the Pevear & Volokhonsky one. It has notes at the back,
which helps with names like Берлиоз and Бездомный - I’d never have
guessed that “Homeless” was a pen name.

Bob
""", declared="us-ascii", cte="7bit"), parent="master"),
    Mail("master-celine", CELINE, (2025, 2, 2, 11, 0), re_(SUBJ_MASTER), text("""\
Alice Martin a écrit :
> I'm in, and I'll propose it as February's book unless anyone objects

Pas d'objection ! Je l'ai lu en français il y a longtemps (« Le Maître
et Marguerite ») and I remember the cat more than anything else.

Céline
"""), parent="master-alice"),
    # ------------------------------------------------------------------ potluck (F)
    Mail("potluck", ALICE, (2025, 2, 3, 9, 0), SUBJ_POTLUCK, text("""\
Hi all,

Thursday is potluck night at Café Lumière: Mme Roux has kindly agreed
that we may bring food to the back room, as long as we also order
drinks.

Please reply with what you're bringing so we don't end up with six
cakes. Recipes very welcome -- I'll collect them on the website at
https://salon.example.org/recipes

Alice

""" + ALICE_SIG)),
    # Text plus a PNG photo.
    Mail("potluck-dmitri", DMITRI, (2025, 2, 3, 20, 0), re_(SUBJ_POTLUCK), multipart(
        "mixed", "=_mixed_pelmeni_41c9", [
            text("""\
Alice Martin wrote:
> Please reply with what you're bringing so we don't end up with six
> cakes.

I will bring pelmeni. Recipe for four people:

  Dough:   300 g flour, 1 egg, 120 ml cold water, a pinch of salt.
  Filling: 250 g minced pork and beef, 1 small onion (grated),
           salt, black pepper, 2 tbsp ice water.

Roll the dough thin, cut small circles, put a teaspoon of filling on
each, fold into half-moons and join the corners. Boil 5-7 minutes after
they float. Serve with smetana (sour cream) and dill. A photo of my last
batch is attached.

Приятного аппетита!
Дмитрий
"""),
            attachment(PELMENI_PNG, 'image/png; name="pelmeni.png"',
                       'attachment; filename="pelmeni.png"'),
        ]), parent="potluck"),
    Mail("master-dmitri-3", DMITRI, (2025, 2, 4, 9, 0), re_(SUBJ_MASTER), text("""\
Jürgen Groß wrote:
> the Jerusalem chapters feel like a different book:
> much calmer, almost biblical in rhythm.

Yes! I think that contrast is the point: Moscow is noisy and absurd,
Jerusalem is quiet and terrible. Wait until the big black cat appears
properly - Céline will be happy.

Дмитрий
"""), parent="master-juergen"),
    Mail("potluck-maria", MARIA, (2025, 2, 4, 8, 15), re_(SUBJ_POTLUCK), text("""\
Dmitri Sokolov wrote:
> I will bring pelmeni. Recipe for four people:
>
>   Dough:   300 g flour, 1 egg, 120 ml cold water, a pinch of salt.

Those look wonderful. Since I can't pass food through a video call,
I'll make a batch at home and eat along with you. Is smetana the same
as American sour cream, or should I look for something thicker?

Maria
"""), parent="potluck-dmitri"),
    # Subject with Q-encoded UTF-8, body quoted-printable.
    Mail("potluck-juergen", JURGEN, (2025, 2, 4, 19, 30), SUBJ_KUCHEN, text("""\
Alice Martin wrote:
> Please reply with what you're bringing so we don't end up with six
> cakes.

Sorry, cake number one: Apfelkuchen.

Zutaten / ingredients:
  - 200 g Butter, 150 g Zucker, 3 Eier, 250 g Mehl, 1 TL Backpulver
  - 4-5 säuerliche Äpfel (Boskoop ist ideal)
  - Zimt, Puderzucker

Teig rühren, in die Springform streichen. Äpfel schälen, vierteln,
einritzen und obendrauf setzen. 45 Minuten bei 180 °C backen, mit
Puderzucker bestäuben und mit Sahne servieren.

Jürgen

""" + JURGEN_SIG, cte="quoted-printable"), parent="potluck"),
    # No threading headers at all, only the subject says it is a reply.
    Mail("potluck-priya", PRIYA, (2025, 2, 5, 15, 0), re_(SUBJ_POTLUCK), text("""\
Hi all - replying from my phone, sorry if this lands in the wrong place.

I'll bring masala chai in two big flasks, and cardamom biscuits in case
Bob's buns run out.

Priya
"""), parent="potluck", threading="none"),
    # No Message-ID header.
    Mail("potluck-tom", TOM, (2025, 2, 5, 12, 0), re_(SUBJ_POTLUCK), text("""\
Maria Lopez wrote:
> Is smetana the same as American sour cream, or should I look for
> something thicker?

Not Dmitri, but: smetana is usually richer. Crème fraîche is a decent
substitute if your shop has it.

Tom
"""), parent="potluck-maria", has_message_id=False),
    Mail("potluck-hanako", HANAKO, (2025, 2, 5, 22, 0), re_(SUBJ_POTLUCK), text("""\
Alice Martin wrote:
> Recipes very welcome

Onigiri for the video-call people! (I will make them here in Kyoto.)

  ご飯 (cooked rice), 2 cups; salt; nori; and a filling:
  梅干し (umeboshi), 焼き鮭 (grilled salmon) or ツナマヨ (tuna mayo).

Wet your hands, salt them, and shape the warm rice into triangles around
the filling. Wrap with nori just before eating so it stays crisp.

いただきます!
Hanako
"""), parent="potluck"),
    # ------------------------------------------------------------------ patch (G)
    Mail("patch", TOM, (2025, 2, 10, 18, 30), SUBJ_PATCH, multipart(
        "mixed", "=_mixed_patch_0c21", [
            text("""\
Hi all,

Several people asked why the calendar on https://salon.example.org/calendar
shows 19:00 for everyone, including Hanako, for whom that is 4 a.m.
The attached patch converts the meeting time to the visitor's local time
in the browser and keeps the venue time in a tooltip.

Alice, could you apply it when you have a moment?

Tom
"""),
            attachment(PATCH.encode("ascii"), 'text/x-patch; charset=us-ascii; '
                       'name="0001-calendar-show-meeting-times-in-local-zone.patch"',
                       'attachment; '
                       'filename="0001-calendar-show-meeting-times-in-local-zone.patch"',
                       cte="7bit"),
        ]), parent=None),
    Mail("patch-alice", ALICE, (2025, 2, 11, 8, 0), re_(SUBJ_PATCH), text("""\
Tom Becker wrote:
> The attached patch converts the meeting time to the visitor's local time
> in the browser and keeps the venue time in a tooltip.

Applied, thank you! It's live at https://salon.example.org/calendar --
Hanako, could you check that it shows the right time for you?

Alice
"""), parent="patch"),
    Mail("patch-hanako", HANAKO, (2025, 2, 12, 7, 45), re_(SUBJ_PATCH), text("""\
Alice Martin wrote:
> Hanako, could you check that it shows the right time for you?

It now says "Friday 7 March, 4:00" for the March meeting. Honest, if
sleepy. ありがとう、Tom!

Hanako
"""), parent="patch-alice"),
    # ------------------------------------------------------------------ guest (H)
    # RFC 2231 encoded attachment filename.
    Mail("guest", ALICE, (2025, 2, 14, 9, 30), SUBJ_GUEST, multipart(
        "mixed", "=_mixed_guest_9e0d", [
            text("""\
Hi all,

Good news: Dr. Inês Carvalho, who has translated several Brazilian
novels into English, will join our March meeting (Thursday 6 March) for
half an hour to talk about the craft of translation. Her short CV is
attached.

If you have questions for her, reply here and I'll collect them.

Alice

""" + ALICE_SIG),
            attachment(CV_PDF, "application/pdf",
                       "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
        ]), parent=None),
    Mail("guest-celine", CELINE, (2025, 2, 14, 20, 0), re_(SUBJ_GUEST), text("""\
Alice Martin a écrit :
> If you have questions for her, reply here and I'll collect them.

Quelle chance ! My question: how does she translate jokes and
wordplay? Est-ce qu'elle invente un nouveau jeu de mots, ou est-ce
qu'elle ajoute une note ?

Céline
"""), parent="guest"),
    # No Date header; the Received header carries the time.
    Mail("guest-bob", BOB, (2025, 2, 15, 8, 2, 11), re_(SUBJ_GUEST), text("""\
Alice Martin wrote:
> If you have questions for her, reply here and I'll collect them.

Does she read the whole book before she starts translating, or discover
it as she goes? I've heard both approaches defended passionately.

Bob
"""), parent="guest", has_date=False, extra=(
        ("Received", "from mail.example.net (mail.example.net [192.0.2.25])\n"
                     "\tby lists.example.org (Postfix) with ESMTPS id 4Yq7Hd2kLmz9sWp\n"
                     "\tfor <salon@lists.example.org>; Sat, 15 Feb 2025 08:02:11 +0000"),
    )),
    # ------------------------------------------------------------------ soirée (K)
    # Q-encoded iso-8859-1 subject, quoted-printable iso-8859-1 body.
    Mail("soiree", CELINE, (2025, 2, 20, 21, 15), SUBJ_SOIREE, text("""\
Bonjour à tous,

Une idée pour le printemps : une soirée de lecture à voix haute, où
chacun lit cinq minutes d'un texte qu'il aime, dans sa langue. No
translation needed - the music of each language is the point.

Qu'en pensez-vous ? Mars ou avril ?

Céline
""", "iso-8859-1", "quoted-printable")),
    Mail("soiree-alice", ALICE, (2025, 2, 21, 9, 0), SUBJ_SOIREE_RE, text("""\
Céline Dubois wrote:
> Une idée pour le printemps : une soirée de lecture à voix haute, où
> chacun lit cinq minutes d'un texte qu'il aime, dans sa langue.

I love this. Let's make it April, since March already has our guest
speaker. Five minutes each, any language, no translation needed.

Alice
"""), parent="soiree"),
    Mail("soiree-hanako", HANAKO, (2025, 2, 22, 10, 30), SUBJ_SOIREE_RE, text("""\
Alice Martin wrote:
> Five minutes each, any language, no translation needed.

Then I will read the spring passage from 『枕草子』 (The Pillow Book),
which begins 「春はあけぼの。」 - "In spring, the dawn." It is a
thousand years old and still makes me want to get up early.

Hanako
"""), parent="soiree-alice"),
    # ------------------------------------------------------------------ Japan month (I)
    # multipart/alternative with a multipart/related HTML part and an inline (cid:) image.
    Mail("japan", HANAKO, (2025, 3, 1, 9, 30), SUBJ_JAPAN, multipart(
        "alternative", "=_alt_japan_55e1", [
            text("""\
Hello everyone,

As promised, March is Japanese literature month! 3月は日本文学の月です。

I suggest 『雪国』 (Snow Country) by Kawabata Yasunari. It is short,
and the English translation is easy to find in libraries.

The novel opens with a train coming out of a long tunnel into the snow.
I made a small map of the region; it is in the HTML version of this
mail.

Hanako
"""),
            multipart("related", "=_rel_japan_55e2", [
                text("""\
<html><body>
<p>Hello everyone,</p>
<p>As promised, March is Japanese literature month! 3月は日本文学の月です。</p>
<p>I suggest <b>『雪国』</b> (<i>Snow Country</i>) by Kawabata Yasunari.
It is short, and the English translation is easy to find in libraries.</p>
<p>The novel opens with a train coming out of a long tunnel into the snow.
Here is a small map of the region:</p>
<p><img src="cid:snow-map.20250301@mail.example.jp"
 alt="Map: sea, mountains, a red dot" width="160" height="160"></p>
<p>Hanako</p>
</body></html>
""", cte="quoted-printable", subtype="html"),
                attachment(MAP_PNG, 'image/png; name="snow-map.png"',
                           'inline; filename="snow-map.png"',
                           extra=(("Content-ID", "<snow-map.20250301@mail.example.jp>"),)),
            ], params='; type="text/html"'),
        ]), parent=None),
    Mail("japan-alice", ALICE, (2025, 3, 1, 10, 0), re_(SUBJ_JAPAN), text("""\
Hanako wrote:
> I suggest 『雪国』 (Snow Country) by Kawabata Yasunari.

Snow Country it is! There is plenty of time to read it before we
discuss it; I've added it to https://salon.example.org/calendar.

Alice
"""), parent="japan"),
    Mail("japan-maria", MARIA, (2025, 3, 2, 10, 20), re_(SUBJ_JAPAN), text("""\
Hanako wrote:
> It is short, and the English translation is easy to find in libraries.

Found it! My library had two copies, and I took the one with someone's
pencil notes in the margins. They stop on page 40; I'm curious whether
I'll get further than they did.

Maria
"""), parent="japan"),
    Mail("japan-hanako-2", HANAKO, (2025, 3, 3, 8, 0), re_(SUBJ_JAPAN), text("""\
Maria Lopez wrote:
> They stop on page 40; I'm curious whether I'll get further than they
> did.

Page 40 is where it becomes quiet and slow, so I understand them. :)
Please keep going - the ending is worth it.

Hanako
"""), parent="japan-maria"),
    Mail("japan-juergen", JURGEN, (2025, 3, 4, 18, 10), re_(SUBJ_JAPAN), text("""\
Hanako wrote:
> Maria Lopez wrote:
>> They stop on page 40; I'm curious whether I'll get further than they
>> did.
>
> Page 40 is where it becomes quiet and slow, so I understand them. :)

Ich habe die deutsche Übersetzung ("Schneeland") aus der Bibliothek
geholt. Nach 30 Seiten kann ich sagen: quiet, slow and very beautiful.
Ich bleibe dran.

Jürgen
"""), parent="japan-hanako-2"),
    # ------------------------------------------------------------------ April (J)
    Mail("april", ALICE, (2025, 3, 28, 11, 0), SUBJ_APRIL, text("""\
Hi all,

Thank you for a wonderful March meeting, and special thanks to
Dr. Carvalho for answering every one of your questions (including
Céline's about puns, which took twenty minutes on its own).

April plans:

  * Thursday 3 April: the reading-aloud evening, five minutes each, any
    language. Sign up at https://salon.example.org/soiree
  * Snow Country discussion in May instead, so nobody has to rush.

Alice

""" + ALICE_SIG)),
    Mail("april-dmitri", DMITRI, (2025, 3, 28, 19, 40), re_(SUBJ_APRIL), text("""\
Alice Martin wrote:
>   * Thursday 3 April: the reading-aloud evening, five minutes each, any
>     language.

Спасибо всем за чудесный вечер! For April I will read a short poem by
Pushkin - in Russian first, then Bob has promised to read my clumsy
English version.

Дмитрий

""" + DMITRI_SIG), parent="april"),
    Mail("april-zoe", ZOE, (2025, 3, 29, 10, 0), re_(SUBJ_APRIL), text("""\
Alice Martin wrote:
> Snow Country discussion in May instead, so nobody has to rush.

Thank you! I'm only on chapter one, so that's a relief.

Zoë
"""), parent="april"),
]


# --------------------------------------------------------------------------- assembly


def build(mails: list[Mail]) -> bytes:
    by_key = {m.key: m for m in mails}
    assert len(by_key) == len(mails), "duplicate keys"

    def msgid(key: str) -> str:
        return EXTERNAL[key] if key in EXTERNAL else by_key[key].message_id

    def references(key: str) -> list[str]:
        if key in EXTERNAL:
            return []
        m = by_key[key]
        if m.parent is None or m.threading != "full":
            return []
        return references(m.parent) + [msgid(m.parent)]

    out = bytearray()
    for m in mails:
        headers: list[str] = [f"{name}: {value}" for name, value in m.extra]
        headers.append(f"From: {m.who.header(raw=m.raw_headers)}")
        headers.append(f"To: {LIST_ADDR}")
        headers.append(f"Subject: {m.subject}")
        if m.has_date:
            headers.append(f"Date: {format_datetime(m.date)}")
        if m.has_message_id:
            headers.append(f"Message-ID: {m.message_id}")
        if m.parent is not None and m.threading in ("full", "irt"):
            headers.append(f"In-Reply-To: {msgid(m.parent)}")
        if m.parent is not None and m.threading == "full":
            headers.append(fold_ids("References", references(m.key)))
        headers.append(f"List-Id: {LIST_ID}")
        headers.append(f"List-Post: <mailto:{LIST_ADDR}>")
        headers.append("MIME-Version: 1.0")
        head = "\n".join(headers) + "\n"
        if not m.raw_headers:
            assert head.isascii(), m.key
        message = head.encode("utf-8") + m.content
        if not message.endswith(b"\n"):
            message += b"\n"
        assert b"\r" not in message, m.key

        lines = message[:-1].split(b"\n")
        escaped = [b">" + line if MBOXRD_FROM.match(line) else line for line in lines]
        envelope = f"From {m.who.email} {asctime(m.date)}\n".encode("ascii")
        out += envelope + b"\n".join(escaped) + b"\n\n"
    return bytes(out)


def main(argv: list[str]) -> None:
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).with_name("salon.mbox")
    data = build(MAILS)
    target.write_bytes(data)
    print(f"wrote {target} ({len(MAILS)} messages, {len(data)} bytes)")


if __name__ == "__main__":
    main(sys.argv)

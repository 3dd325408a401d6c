#!/usr/bin/env python3
"""Write tests/data/broken/*.eml: malformed mail the parser must survive.

    python tests/data/make_broken.py

Every file is written for this project (no real mail).  The big and deep cases (100 KB header,
1000-level MIME nesting, 10,000 parts, 5,000 References) are why this is a script; the output
is committed too.  Each file stays under 1 MB and the whole directory well under 3 MB.

Stdlib only; the only "random" bytes come from SHA-256 in counter mode, so the output is
byte-identical on every run.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from pathlib import Path

OUT = Path(__file__).with_name("broken")
MAX_FILE = 1_000_000

CASES: list[tuple[str, str, bytes]] = []


def case(name: str, description: str, data: bytes) -> None:
    assert not any(n == name for n, _, _ in CASES), name
    assert len(data) < MAX_FILE, (name, len(data))
    CASES.append((name, description, data))


def head(name: str, *, drop: tuple[str, ...] = (), **extra: str) -> bytes:
    """Ordinary top-level headers for case ``name``; ``drop`` removes some, ``extra`` adds."""
    fields = {
        "From": "Bob Okafor <bob.okafor@example.net>",
        "To": "salon@lists.example.org",
        "Subject": f"[Salon] broken test: {name}",
        "Date": f"Mon, 03 Mar 2025 09:{len(CASES):02d}:00 +0000",
        "Message-ID": f"<broken-{name}@example.net>",
        "MIME-Version": "1.0",
    }
    for key in drop:
        del fields[key]
    for key, value in extra.items():
        fields[key.replace("_", "-")] = value
    return "".join(f"{k}: {v}\n" for k, v in fields.items()).encode("utf-8")


PLAIN = b"Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n"


def simple(name: str, body: str = "", *, drop: tuple[str, ...] = (), **extra: str) -> bytes:
    """A complete one-part text/plain message."""
    body = body or f"Test message for the case {name}.\n"
    return head(name, drop=drop, **extra) + PLAIN + b"\n" + body.encode("ascii")


def junk(n: int, seed: bytes) -> bytes:
    """n deterministic pseudo-random bytes (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:n])


# ----------------------------------------------------------------------------- identity

N = "no-message-id"
case(N + ".eml", "no Message-ID header (archive must synthesize a deterministic one)",
     simple(N, drop=("Message-ID",)))

for suffix, text in (("1", "First message with this id: about the bookshop.\n"),
                     ("2", "Second, different message reusing the same id: about cake.\n")):
    N = f"duplicate-message-id-{suffix}"
    case(N + ".eml", f"same Message-ID <duplicate@example.net> as duplicate-message-id-"
         f"{'2' if suffix == '1' else '1'}.eml, different subject and body",
         simple(N, text, Message_ID="<duplicate@example.net>"))

N = "references-loop-a"
case(N + ".eml", "References/In-Reply-To point at references-loop-b.eml, which points back "
     "here (A <-> B)", simple(N, In_Reply_To="<broken-references-loop-b@example.net>",
                             References="<broken-references-loop-b@example.net>"))
N = "references-loop-b"
case(N + ".eml", "References/In-Reply-To point at references-loop-a.eml, which points back "
     "here (B <-> A)", simple(N, In_Reply_To="<broken-references-loop-a@example.net>",
                             References="<broken-references-loop-a@example.net>"))
N = "references-self"
case(N + ".eml", "a message whose In-Reply-To and References name its own Message-ID",
     simple(N, In_Reply_To=f"<broken-{N}@example.net>", References=f"<broken-{N}@example.net>"))

N = "references-5000"
ids = [f"<ref-{i:04d}.thread@example.net>" for i in range(5000)]
lines = [" ".join(ids[i:i + 3]) for i in range(0, 5000, 3)]
case(N + ".eml", "References header with 5,000 message ids (folded, ~150 KB)",
     simple(N, In_Reply_To=ids[-1], References="\n ".join(lines)))

# ----------------------------------------------------------------------------- dates

N = "missing-date"
case(N + ".eml", "no Date header and no Received header (date unknown)",
     simple(N, drop=("Date",)))
N = "date-year-0102"
case(N + ".eml", "Date in the year 0102", simple(N, Date="Tue, 07 Jan 0102 10:00:00 +0000"))
N = "date-year-9999"
case(N + ".eml", "Date 9999-12-31 23:59:59 -1200 (overflows into year 10000 in UTC)",
     simple(N, Date="Fri, 31 Dec 9999 23:59:59 -1200"))
N = "date-garbage"
case(N + ".eml", "Date header that is free text, not a date",
     simple(N, Date="the day after the bookshop reopened, around tea time"))
N = "date-impossible"
case(N + ".eml", "Date with 30 February, hour 25, minute 61 and offset +2575",
     simple(N, Date="Sun, 30 Feb 2025 25:61:61 +2575"))
N = "date-obsolete"
case(N + ".eml", "obsolete Date syntax: two-digit year, no seconds, zone name, comment",
     simple(N, Date="6 Jan 25 10:00 EST (Eastern Standard Time)"))

# ----------------------------------------------------------------------------- charsets, headers

N = "charset-unknown"
case(N + ".eml", "text/plain with charset=x-unknown (body is really UTF-8)",
     head(N) + b"Content-Type: text/plain; charset=x-unknown\n"
     b"Content-Transfer-Encoding: 8bit\n\n"
     + "Charset nobody knows. Caf\u00e9, na\u00efve, \u00fcber.\n".encode())
N = "charset-lying"
case(N + ".eml", "declares charset=utf-8 but the body is iso-8859-1 (invalid UTF-8 bytes)",
     head(N) + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
     + "Le caf\u00e9 est ferm\u00e9 jeudi, d\u00e9sol\u00e9e.\n".encode("iso-8859-1"))
N = "headers-8bit"
case(N + ".eml", "raw 8-bit bytes in headers: Latin-1 Subject and From name, invalid UTF-8 "
     "in a custom header", head(N, drop=("From", "Subject"))
     + "From: C\u00e9line Dubois <celine.dubois@example.fr>\n".encode("iso-8859-1")
     + "Subject: [Salon] soir\u00e9e \u00e0 Lyon\n".encode("iso-8859-1")
     + b"X-Broken: \xc3\x28 \xa0\xa1 \xf0\x28\x8c\xbc \xff\xfe\n"
     + PLAIN + b"\nHeaders carry raw 8-bit bytes.\n")
N = "header-100kb"
case(N + ".eml", "a single unfolded Subject line of 100,000 characters",
     simple(N, Subject="[Salon] " + "very long subject " * 5555 + "end"))
N = "header-garbage-lines"
case(N + ".eml", "header block with a leading continuation line, lines without a colon, a "
     "name with spaces and an empty name",
     b" continuation before any header\n" + head(N)
     + b"this line has no colon\nX Bad Name: spaces in the field name\n: empty field name\n"
     + b"X-Ok: after the junk\n" + PLAIN + b"\nBody after a messy header block.\n")
N = "duplicate-headers"
case(N + ".eml", "two From, Subject, Date, Message-ID and Content-Type headers that disagree",
     head(N) + b"From: Someone Else <else@example.com>\nSubject: [Salon] the second subject\n"
     b"Date: Tue, 04 Mar 2025 10:00:00 +0000\nMessage-ID: <broken-second-id@example.net>\n"
     + PLAIN + b"Content-Type: text/html; charset=utf-8\n\nWhich headers win?\n")
N = "from-malformed"
case(N + ".eml", "unparseable From (`<<<@@@>>>`, unterminated quote) and no To header",
     simple(N, drop=("To",), From='<<<@@@>>>, "unterminated <bob@>'))
N = "nul-bytes"
case(N + ".eml", "NUL bytes inside a header value and the body",
     head(N, drop=("Subject",)) + b"Subject: [Salon] nul\x00in\x00subject\n" + PLAIN
     + b"\nbody with \x00 a NUL\x00\x00 or three\n")
N = "rfc2047-broken"
case(N + ".eml", "malformed encoded words: bad base64, unknown charset, unterminated, "
     "invalid UTF-8 payload, bad Q escape", simple(
         N, Subject="=?utf-8?B?not*base64!?= =?x-nope?Q?abc?= =?utf-8?q?unterminated "
         "=?utf-8?B?wyg=?= =?utf-8?Q?bad=ZZescape?=",
         From="=?utf-8?B?QWxpY2U?= <alice@example.org>"))
N = "mbox-envelope-line"
case(N + ".eml", "starts with an mbox envelope line (From sender date) before the headers",
     b"From bob.okafor@example.net Mon Mar  3 09:00:00 2025\n" + simple(N))
N = "content-length-lie"
case(N + ".eml", "Content-Length: 3 header contradicting the real body length",
     simple(N, Content_Length="3"))

# ----------------------------------------------------------------------------- line endings

N = "bare-cr"
case(N + ".eml", "lines end in bare CR (classic Mac), no LF anywhere",
     simple(N).replace(b"\n", b"\r"))
N = "mixed-line-endings"
mixed = simple(N, "line one\nline two\nline three\n").split(b"\n")
case(N + ".eml", "CRLF, LF and bare CR mixed in one message, headers included",
     b"".join(line + (b"\r\n", b"\n", b"\r")[i % 3] for i, line in enumerate(mixed[:-1])))

# ----------------------------------------------------------------------------- bodies

N = "base64-truncated"
png_b64 = base64.b64encode(b"\x89PNG\r\n\x1a\n" + junk(300, b"png")).decode()
case(N + ".eml", "base64 attachment cut mid-quantum, with a line of invalid characters",
     head(N) + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n' + PLAIN
     + b"\nPhoto attached.\n\n--b\nContent-Type: image/png; name=\"photo.png\"\n"
     b"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; "
     b"filename=\"photo.png\"\n\n"
     + png_b64[:76].encode() + b"\n!!!! not base64 ####\n" + png_b64[76:150].encode()
     + b"\n--b--\n")
N = "qp-broken"
case(N + ".eml", "quoted-printable with =ZZ, lowercase =c3=a9, = at end of body and an "
     "over-long line", head(N) + b"Content-Type: text/plain; charset=utf-8\n"
     b"Content-Transfer-Encoding: quoted-printable\n\n"
     b"bad escape =ZZ here, lowercase caf=c3=a9, soft break at the very end =\n"
     + b"x" * 2000 + b"\n=")
N = "cte-unknown"
case(N + ".eml", "Content-Type that is only punctuation and an unknown "
     "Content-Transfer-Encoding", head(N) + b'Content-Type: ;;;/="\n'
     b"Content-Transfer-Encoding: x-gzip-base99\n\nWhat am I?\n")
N = "utf16-no-bom"
case(N + ".eml", "text/plain charset=utf-16 sent as 8bit with no BOM (NUL-heavy bytes)",
     head(N) + b"Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: 8bit\n\n"
     + "UTF-16 without a byte order mark.\n".encode("utf-16-le"))

# ----------------------------------------------------------------------------- MIME structure

N = "missing-end-boundary"
case(N + ".eml", "multipart/mixed whose closing --boundary-- never comes (file just ends)",
     head(N) + b'Content-Type: multipart/mixed; boundary="end"\n\n--end\n' + PLAIN
     + b"\nfirst part\n\n--end\n" + PLAIN + b"\nsecond part, and then the file stops\n")
N = "boundary-never-found"
case(N + ".eml", "declares boundary=\"nowhere\" but the body never contains it",
     head(N) + b'Content-Type: multipart/mixed; boundary="nowhere"\n\n'
     b"--somewhere-else\n" + PLAIN + b"\nThis text is not inside any declared part.\n"
     b"--somewhere-else--\n")
N = "multipart-no-boundary"
case(N + ".eml", "multipart/mixed Content-Type without a boundary parameter",
     head(N) + b"Content-Type: multipart/mixed\n\n--x\n" + PLAIN + b"\nlost\n--x--\n")
N = "multipart-empty"
case(N + ".eml", "multipart/mixed with zero parts (only the closing delimiter)",
     head(N) + b'Content-Type: multipart/mixed; boundary="e"\n\npreamble only\n--e--\n')
N = "rfc2231-broken"
case(N + ".eml", "attachment with broken RFC 2231 params: bad %-escapes, continuations out of "
     "order and missing *0, unknown charset", head(N)
     + b'Content-Type: multipart/mixed; boundary="r"\n\n--r\n' + PLAIN + b"\nsee below\n\n--r\n"
     b"Content-Type: application/octet-stream; name*=x-nope'en'%ZZ%4\n"
     b"Content-Transfer-Encoding: base64\n"
     b"Content-Disposition: attachment; filename*2=\"c.txt\"; filename*1*=utf-8''%E2%28;"
     b" filename*3=\"\"\n\naGVsbG8K\n--r--\n")
N = "rfc822-truncated"
case(N + ".eml", "message/rfc822 attachment whose inner message stops inside its headers",
     head(N) + b'Content-Type: multipart/mixed; boundary="t"\n\n--t\n' + PLAIN
     + b"\nforwarded:\n\n--t\nContent-Type: message/rfc822\n\n"
     b"From: Inner <inner@example.net>\nSubject: cut he\n--t--\n")

N = "deep-multipart-1000"
depth = 1000
opening = b"".join(
    f'Content-Type: multipart/mixed; boundary="d{i:04d}"\n\n--d{i:04d}\n'.encode()
    for i in range(depth))
closing = b"".join(f"\n--d{i:04d}--\n".encode() for i in reversed(range(depth)))
case(N + ".eml", "multipart/mixed nested 1,000 levels deep, one text part at the bottom",
     head(N) + opening + PLAIN + b"\nthe bottom of the well\n" + closing)

N = "deep-rfc822-1000"
inner = b"Subject: level 1000\n" + PLAIN + b"\nthe innermost message\n"
for level in range(999, 0, -1):
    inner = f"Subject: level {level}\nContent-Type: message/rfc822\n\n".encode() + inner
case(N + ".eml", "message/rfc822 nested 1,000 levels deep",
     head(N) + b"Content-Type: message/rfc822\n\n" + inner)

N = "many-parts-10000"
parts = b"".join(f"--p\n\n{i}\n".encode() for i in range(10_000))
case(N + ".eml", "multipart/mixed with 10,000 tiny parts (no part headers, default text/plain)",
     head(N) + b'Content-Type: multipart/mixed; boundary="p"\n\n' + parts + b"--p--\n")

N = "html-deep-nesting"
case(N + ".eml", "text/html with 10,000 nested unclosed <div>s and unbalanced tables "
     "(sanitizer and renderer depth)", head(N)
     + b"Content-Type: text/html; charset=us-ascii\n\n<html><body>"
     + b"<div>" * 10_000 + b"<table><tr><td><table><td>deep</b></i></table></p>\n")

# ----------------------------------------------------------------------------- not mail at all

case("empty.eml", "a zero-byte file", b"")
N = "headers-only"
case(N + ".eml", "headers with no blank line and no body, no final newline",
     simple(N).split(b"\n\n", 1)[0])
case("binary-junk.eml", "4 KB of bytes 0x00-0xff: every byte value, then pseudo-random bytes",
     bytes(range(256)) * 4 + junk(3072, b"binary-junk"))

N = "rfc2231-unwritable"
case(N + ".eml", "multipart/signed whose RFC 2231 boundary holds NUL bytes (the parser gives up) "
     "and whose protocol parameter holds bytes its own charset (us-ascii) cannot: shown as "
     "text/plain without writing those parameters back", head(N)
     + b"Content-Type: multipart/signed; protocol*=us-ascii''caf%C3%A9;\n"
     b"\tboundary*=\"us-ascii\x00\x00''s\"\n\n--s\n" + PLAIN + b"\nsigned text\n--s--\n")

N = "boundary-without-semicolon"
case(N + ".eml", "multipart/mixed whose boundary parameter follows the type on a continuation "
     "line with no \";\" before it (mail clients and other parsers read the parts)",
     head(N) + b'Content-Type: multipart/mixed\n\tboundary="sep"\n\n--sep\n' + PLAIN
     + b"\nThe text part of a message whose Content-Type forgot its semicolon.\n--sep\n"
     b"Content-Type: image/png\nContent-Transfer-Encoding: base64\n"
     b'Content-Disposition: attachment; filename="dot.png"\n\n'
     + base64.b64encode(b"\x89PNG\r\n\x1a\n not really a picture") + b"\n--sep--\n")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    names = {n for n, _, _ in CASES}
    for name, _, data in CASES:
        (OUT / name).write_bytes(data)
    stale = sorted(p.name for p in OUT.glob("*.eml") if p.name not in names)
    if stale:
        print("warning: files not produced by this script:", ", ".join(stale), file=sys.stderr)
    total = sum(len(d) for _, _, d in CASES)
    print(f"wrote {len(CASES)} files to {OUT} ({total} bytes)")


if __name__ == "__main__":
    main()

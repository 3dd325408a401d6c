"""bytes → ParsedMessage. A pure function that never raises on bad mail: it records defects."""

from __future__ import annotations

import calendar
import email.utils
import hashlib
import re
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from email import errors
from email.message import Message
from email.parser import BytesParser  # its default policy is compat32 (the fast one)
from functools import cache
from typing import TYPE_CHECKING

from mailarchive import enriched, fastparse, msgid
from mailarchive.decode import decode_bytes, header_text, unescape_8bit
from mailarchive.model import ParsedMessage, Part

if TYPE_CHECKING:
    from email.policy import Policy

SANE_SKEW = 30 * 86400  # seconds a Date may differ from the Received time of the last hop
# machine-readable reports of a bounce (RFC 3464) or a read receipt (RFC 8098): blocks of
# "Field: value" lines, which the standard library parses into header-only messages
STATUS_REPORTS = frozenset({"message/delivery-status", "message/disposition-notification"})
EMBEDDED = -1  # the index of a forwarded message's caption (see Leaf)
CAPTION_FIELDS = ("From", "Date", "Subject")
RASTER_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"})
READABLE_ATTACHMENTS = frozenset({
    "text/plain", "text/x-patch", "text/x-diff", "text/x-log", "text/x-csrc", "text/x-chdr",
    "text/x-c", "text/x-c++src", "text/x-asm", "text/x-makefile", "text/x-python", "text/x-sh",
    "text/x-shellscript", "text/x-perl"})
SHOWN_ATTACHMENT_BYTES = 256 * 1024  # an attached text file shown below the body, at most
_ASCTIME = re.compile(r"(\w{3}) +(\d{1,2}) (\d{1,2}):(\d\d):(\d\d) (\d{4})\s*$")
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([A-Z][a-z]{2})\s+(\d{4})\b")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
# a multipart type, then (folded or not) its boundary parameter with no ";" between them
_UNSEPARATED_BOUNDARY = re.compile(rb"^(content-type:[ \t]*multipart/[!#$%&'*+.^_`|~0-9a-z-]+)"
                                   rb"((?:\r?\n)?[ \t]+boundary[ \t]*=)", re.I | re.M)
_ATOM = r"[^\s\"(),.:;<>@\[\]\\]+"
_WORD = r"[^\s\"(),:;<>@\[\]\\]+"  # an atom of a display name: dots allowed
_ADDR = rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*"
_MAILBOX = re.compile(
    rf"[ \t]*(?:(?:({_WORD}(?:[ \t]+{_WORD})*)[ \t]*|\"([^\"\\]*)\"[ \t]*)?<({_ADDR})>"
    rf"|({_ADDR})[ \t]+\(([^()\\]*)\)|({_ADDR}))[ \t]*\Z")
_BOUNDARY = re.compile(rb"boundary[ \t]*=", re.I)
_SHOWN_HEADERS = ("subject", "from", "to", "cc")
_PIPERMAIL_FROM = re.compile(  # `alice at example.org (Alice)`, before a comment or the end
    r"\A\s*([^\s@<>()\"]+) at ([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?=\s*(?:\(|\Z))")
_QUOTING = re.compile(r'["\\*<]')  # what get_params would unquote or decode in a Content-Type
_NESTING_MARKS = re.compile(
    rb'boundary[ \t]*=[ \t]*(?:"([^"\r\n]*)"|([^\s;"]+))|^--([^\r\n]*?)[ \t]*\r?$', re.I | re.M)


@dataclass(frozen=True)
class Limits:
    """Caps that keep one hostile message from costing more than milliseconds."""

    max_depth: int = 50
    max_parts: int = 1000
    max_header_bytes: int = 256 * 1024
    max_text_chars: int = 2 * 1024 * 1024
    time_budget: float = 2.0  # seconds per message; over it only the headers are shown


DEFAULT_LIMITS = Limits()
_IN_USE = [DEFAULT_LIMITS]


def use_limits(limits: Limits) -> None:
    """The limits this process displays mail with (pages, downloads, snippets): the command
    sets them from the configuration, so that display cuts where import did."""
    _IN_USE[0] = limits


def limits_in_use() -> Limits:
    return _IN_USE[0]


@dataclass(frozen=True)
class Leaf:
    """A MIME leaf found by `walk`: its position k, the part itself, and whether it is shown.
    A message/rfc822 part is no leaf, but is met as one with the index EMBEDDED (and takes no
    number): its headers are the caption of the forwarded message's parts that follow."""

    index: int
    part: Message
    hidden: bool


def digest(data: bytes) -> str:
    """The identity of a message's bytes within a list."""
    return hashlib.sha256(data).hexdigest()


def has_header_end(data: bytes, bound: int) -> bool:
    """Whether `_HEADER_END` matches inside `data[:bound]`, found as its two literal forms (the
    pattern has no literal start, so its search tries every byte of the header block)."""
    return data.find(b"\n\n", 0, bound) >= 0 or data.find(b"\n\r\n", 0, bound) >= 0


def _boundary_separated(data: bytes, parsed: Message) -> Message | None:
    """The parse of `data` with a ";" put before each boundary parameter that follows a
    multipart type without one (`multipart/mixed<LF><TAB>boundary="b"`, as some mailers write
    it, and as mail clients and other parsers read it), if the stdlib found no boundary in
    one of its multiparts for want of it; else None."""
    if not any(isinstance(defect, errors.NoBoundaryInMultipartDefect)
               for part in parsed.walk() for defect in part.defects):
        return None
    separated, count = _UNSEPARATED_BOUNDARY.subn(rb"\1;\2", data)
    return BytesParser().parsebytes(separated) if count else None


def message_from_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[Message, list[str]]:
    """The stdlib parse of `data`, with an over-long header section cut to the limit."""
    defects: list[str] = []
    if len(data) > limits.max_header_bytes and not has_header_end(data,
                                                                  limits.max_header_bytes + 4):
        defects.append(f"header section over {limits.max_header_bytes} bytes: cut for display")
        data = data[: limits.max_header_bytes] + b"\n\n"
    try:
        fast = fastparse.single_part(data)
        if fast is not None:
            return fast, defects
        cut = _structure_cut(data, limits)
        if cut is not None:
            data, note = cut
            defects.append(note)
        else:
            fast = fastparse.multipart(data)
            if fast is not None:
                return fast, defects
        parsed = BytesParser().parsebytes(data)
        separated = _boundary_separated(data, parsed)
        if separated is None:
            return parsed, defects
        defects.append('a multipart Content-Type has no ";" before its boundary: read as if '
                       "it had one")
        return separated, defects
    except RecursionError:
        defects.append("MIME structure too deeply nested to parse: the body is shown unparsed")
    except Exception as error:  # noqa: BLE001 - the parser must never stop an import
        defects.append(f"the MIME structure could not be parsed ({type(error).__name__})")
    message = BytesParser().parsebytes(data, headersonly=True)
    try:
        message.set_type("text/plain")
    except Exception:  # noqa: BLE001 - its parameters cannot be written back as they were
        # (an RFC 2231 value that does not fit its own charset): the type alone replaces them
        message.replace_header("content-type", "text/plain")
    return message, defects


def parts_note(limits: Limits) -> str:
    return f"more than {limits.max_parts} MIME parts: the rest are not shown"


def _structure_cut(data: bytes, limits: Limits) -> tuple[bytes, str] | None:
    """The part of `data` the stdlib parser may see, and why, where multipart nesting goes
    deeper than `max_depth` or there are far more parts than are shown; None if neither.
    Boundary declarations and delimiter lines are scanned once. The stdlib parser checks every
    line against every open boundary and builds every part, so its cost grows with depth x lines
    and with the number of parts: it must not see more than is displayed."""
    deep = boundaries_over(data, limits.max_depth)
    most_delimiters = 2 * limits.max_parts + limits.max_depth  # room for the containers too
    if not deep and data.count(b"\n--") <= most_delimiters:
        return None
    open_boundaries: list[bytes] = []
    delimiters = 0
    for mark in _NESTING_MARKS.finditer(data):
        quoted, bare, line = mark.groups()
        if line is None:
            open_boundaries.append(quoted if quoted is not None else bare)
            if len(open_boundaries) > limits.max_depth:
                return (data[:data.rfind(b"\n", 0, mark.start()) + 1],
                        f"MIME nesting deeper than {limits.max_depth} levels: inner parts "
                        "not shown")
        elif line in open_boundaries:  # a delimiter closes every part opened inside it
            delimiters += 1
            if delimiters > most_delimiters:
                closing = b"".join(b"--" + b + b"--\n" for b in reversed(open_boundaries))
                return data[:mark.start()] + closing, parts_note(limits)
            del open_boundaries[_last(open_boundaries, line) + 1:]
        elif line.endswith(b"--") and line[:-2] in open_boundaries:
            del open_boundaries[_last(open_boundaries, line[:-2]):]
    return None


def boundaries_over(data: bytes, most: int) -> bool:
    """Whether `data` declares more than `most` boundaries (`_BOUNDARY` matches). Each match
    holds a "boundary" of its own, so a case-folded count bounds them: nearly all mail is
    answered by it, without the case-blind pattern's walk over every byte."""
    return data.lower().count(b"boundary") > most and len(_BOUNDARY.findall(data)) > most


def _last(items: list[bytes], item: bytes) -> int:
    return len(items) - 1 - items[::-1].index(item)


def walk(message: Message, limits: Limits = DEFAULT_LIMITS) -> Iterator[Leaf | str]:
    """MIME leaves in reading order, iteratively; yields a defect string where a limit cuts it."""
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    count = 0
    while stack:
        part, depth, hidden = stack.pop()
        if depth > limits.max_depth:
            yield f"MIME nesting deeper than {limits.max_depth} levels: inner parts not shown"
            continue
        children = part.get_payload() if part.is_multipart() else None
        ctype = part.get_content_type() if children else ""
        if isinstance(children, list) and ctype not in STATUS_REPORTS:
            if ctype == "message/rfc822":
                yield Leaf(EMBEDDED, part, hidden)  # the caption of the message inside
            preferred = _preferred(part, [c for c in children if isinstance(c, Message)])
            for child in reversed(children):
                if isinstance(child, Message):
                    stack.append((child, depth + 1, hidden or (preferred is not None
                                                                 and child is not preferred)))
            continue
        if count >= limits.max_parts:
            yield parts_note(limits)
            return
        yield Leaf(count, part, hidden)
        # a status report (the one leaf with children) keeps the numbers its blocks had as leaves
        # of their own before it was read as one: the attachment URLs after it stay where they were
        count += max(1, len(children)) if isinstance(children, list) else 1


def _preferred(part: Message, children: list[Message]) -> Message | None:
    if part.get_content_type() != "multipart/alternative":
        return None
    by_type = {c.get_content_type(): c for c in children if isinstance(c, Message)}
    for ctype in ("text/plain", "text/html"):
        if ctype in by_type:
            return by_type[ctype]
    return children[-1] if children else None


class _Overtime(Exception):
    pass


def _overtime(signum: int, frame: object) -> None:
    raise _Overtime


_BUDGETED = False  # within budgeted(): the handler is in place (asking signal costs 5 us)


@contextmanager
def budgeted() -> Iterator[None]:
    """Keep parse_safely's time-budget handler installed for a run of messages (in the main
    thread), and put the one before it back after."""
    global _BUDGETED
    if threading.current_thread() is not threading.main_thread() or _BUDGETED:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _overtime)
    _BUDGETED = True
    try:
        yield
    finally:
        _BUDGETED = False
        signal.signal(signal.SIGALRM, previous)


def parse_safely(data: bytes, envelope: str | None = None, now: float | None = None,
                 limits: Limits = DEFAULT_LIMITS) -> ParsedMessage:
    """`parse` within the time budget; mail that overruns it or breaks the parser keeps its
    headers and a note, so it is still archived (its bytes are stored whatever happens)."""
    timed = limits.time_budget > 0 and threading.current_thread() is threading.main_thread()
    # installing a handler costs ten times as much as arming the timer: within `budgeted()`
    # (a worker's run of messages) it is already there
    install = timed and not _BUDGETED
    previous = signal.signal(signal.SIGALRM, _overtime) if install else None
    if timed:
        signal.setitimer(signal.ITIMER_REAL, limits.time_budget)
    try:
        return parse(data, envelope, now, limits)
    except _Overtime:
        note = f"took over {limits.time_budget:g} s to parse: only the headers are shown"
    except Exception as error:  # noqa: BLE001 - archive it whatever the parser thinks
        note = f"the parser failed ({type(error).__name__}): only the headers are shown"
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            if install:
                signal.signal(signal.SIGALRM, previous)
    return _headers_only(data, envelope, now, limits, note)


def _headers_only(data: bytes, envelope: str | None, now: float | None, limits: Limits,
                  note: str) -> ParsedMessage:
    end = _HEADER_END.search(data, 0, limits.max_header_bytes + 4)
    head = data[: end.start() if end else min(len(data), limits.max_header_bytes)] + b"\n\n"
    try:
        parsed = parse(head, envelope, now, replace(limits, max_parts=1))
        parsed.parts, parsed.tree = [], None
    except Exception:  # noqa: BLE001 - last resort: an empty record still archives the bytes
        parsed = parse(b"\n", envelope, now)
        parsed.tree = None
        if parsed.synthetic_id:
            parsed.message_id = msgid.synthetic(digest(data))
    parsed.defects.append(note)
    return parsed


def parse(
    data: bytes,
    envelope: str | None = None,
    now: float | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedMessage:
    """Everything the archive derives from one message's bytes."""
    message, defects = message_from_bytes(data, limits)
    headers = _headers(message)
    ids = {name: unescape_8bit(headers.get(name) or "")
           for name in ("message-id", "in-reply-to", "references")}  # 8-bit bytes in ids too
    mid = msgid.normalize(ids["message-id"])
    if mid is None:
        mid = msgid.synthetic(digest(data))
    date, offset, source, why = _date(headers, envelope, time.time() if now is None else now)
    if source != "date":
        defects.append(f"{why}: date taken from {source}")
    hints = _declared_charsets(message, headers)
    name, addr = _first_address(headers.get("from"), hints)
    parts = _parts(message, limits, defects)
    defects.extend(_defect_text(d) for d in message.defects)
    return ParsedMessage(
        message_id=mid,
        synthetic_id=msgid.normalize(ids["message-id"]) is None,
        in_reply_to=msgid.in_reply_to(ids["in-reply-to"]),
        references=msgid.references(ids["references"]),
        subject=header_text(headers.get("subject"), hints),
        from_name=name,
        from_addr=addr,
        to=header_text(headers.get("to"), hints),
        cc=header_text(headers.get("cc"), hints),
        date=date,
        tz_offset=offset,
        date_source=source,
        parts=parts,
        defects=list(dict.fromkeys(defects)),
        tree=message,
    )


def _headers(message: Message) -> dict[str, str]:
    """The first value of each header, by lower-case name, as raw text (8-bit as surrogates)."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        found.setdefault(str(name).lower(), str(value))
    return found


def _declared_charsets(message: Message, headers: dict[str, str]) -> list[str]:
    """The charsets the message's parts declare, for raw 8-bit bytes in its shown headers
    (looked up only when there are any)."""
    if all((headers.get(name) or "").isascii() for name in _SHOWN_HEADERS):
        return []
    try:
        return [c for c in dict.fromkeys(content_charset(p) for p in message.walk()) if c]
    except Exception:  # noqa: BLE001 - a hint is worth no failure
        return []


def _first_address(value: str | None, hints: Sequence[str] = ()) -> tuple[str, str]:
    """The display name and address of the first mailbox in a From header (8-bit bytes kept as
    surrogates until the name is decoded, so that RFC 2047 words holding them decode whole)."""
    if not value:
        return "", ""
    text = value.replace("\n", " ")
    if "@" not in text:  # Pipermail's text archives write `alice at example.org (Alice)`
        text = _PIPERMAIL_FROM.sub(r"\1@\2", text, count=1)
    name, addr = _mailbox(text)
    name, addr = header_text(name, hints), header_text(addr, hints)
    if "=?" in name or not (name or addr):
        # an encoded word around the address too (`=?gb2312?q?=B3=C2_<a@b.cn>?=`): decode the
        # whole field, then find the mailbox in it
        whole = header_text(value, hints)
        name, addr = _mailbox(whole)
        if not (name or addr):
            return whole, ""
    name = _unquoted(name)
    if name.lower() == addr.lower():  # `"a@b.org" <a@b.org>`: a name that is the address
        name = ""
    return name or addr.split("@")[0], addr


def _mailbox(text: str) -> tuple[str, str]:
    try:
        return simple_mailbox(text) or email.utils.parseaddr(text)
    except (ValueError, IndexError, TypeError):
        return text, ""


def _unquoted(name: str) -> str:
    """A name whose quotes were inside its encoded words (`=?koi8-r?Q?=22?=Ann=?koi8-r?Q?=22?=`)
    without them, as a quoted name shows."""
    if len(name) > 1 and name[0] == name[-1] == '"':
        return name[1:-1].strip()
    return name


def simple_mailbox(text: str) -> tuple[str, str] | None:
    """What `email.utils.parseaddr` returns for the four plain forms nearly every From header
    takes (`Name <a@b>`, `"Name" <a@b>`, `a@b (Name)`, `a@b`), at a tenth of its cost; None
    for anything else, which goes to parseaddr."""
    found = _MAILBOX.match(text)
    if found is None:
        return None
    words, quoted, angled, commented, comment, bare = found.groups()
    if bare is not None:
        return "", bare
    if commented is not None:
        return comment, commented
    return (quoted if quoted is not None else " ".join((words or "").split())), angled


def _date(headers: dict[str, str], envelope: str | None, now: float) -> tuple[int, int, str, str]:
    """When the message was sent: its Date header, unless the list's server received it in
    another month and more than SANE_SKEW away (a sender's clock years off: Pipermail, too,
    takes the time of receipt then); else the Received header, the mbox envelope or the time
    of import. With where it came from, and why not from Date."""
    sent = _rfc2822_date(headers.get("date"), now)
    last_hop = headers.get("received", "").rpartition(";")[2]  # the first: the list server's
    if sent and _same_month(sent[0], last_hop):
        return sent[0], sent[1], "date", ""  # the common case, without parsing Received
    received = _rfc2822_date(last_hop, now)
    if sent and (received is None or abs(sent[0] - received[0]) <= SANE_SKEW):
        return sent[0], sent[1], "date", ""
    why = (f"its Date header is more than {SANE_SKEW // 86400} days from when the list's server "
           "received it" if sent else "no usable Date header")
    if received:
        return received[0], received[1], "received", why
    stamp = _envelope_date(envelope, now)
    if stamp is not None:
        return stamp, 0, "envelope", why
    return int(now), 0, "import", why


def _same_month(stamp: int, date_text: str) -> bool:
    """Whether an RFC 2822 date (unparsed) names the month and year `stamp` falls in."""
    found = _DAY_MONTH_YEAR.search(date_text)
    if found is None:
        return False
    when = time.gmtime(stamp)
    return int(found.group(3)) == when.tm_year and _MONTHS.get(found.group(2)) == when.tm_mon


def _rfc2822_date(value: str | None, now: float) -> tuple[int, int] | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_tz(unescape_8bit(value).strip())
    except (ValueError, IndexError, TypeError, OverflowError):
        return None
    if parsed is None or not 1970 <= parsed[0] <= 9999:
        return None
    offset = parsed[9] or 0
    if abs(offset) > 18 * 3600:
        offset = 0
    try:
        stamp = calendar.timegm((*parsed[:6], 0, 0, 0)) - offset
    except (ValueError, OverflowError):
        return None
    if not 0 < stamp <= now + 2 * 86400:
        return None
    return stamp, offset // 60


def _envelope_date(envelope: str | None, now: float) -> int | None:
    match = _ASCTIME.search(envelope or "")
    if not match or match.group(1) not in _MONTHS:
        return None
    month = _MONTHS[match.group(1)]
    day, hour, minute, second, year = (int(g) for g in match.groups()[1:])
    try:
        stamp = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    return stamp if 0 < stamp <= now + 2 * 86400 else None


def _parts(message: Message, limits: Limits, defects: list[str]) -> list[Part]:
    parts: list[Part] = []
    for leaf in walk(message, limits):
        if isinstance(leaf, str):
            if leaf not in defects:  # the structure cut may have noted it already
                defects.append(leaf)
            continue
        part = describe(leaf, limits, defects)
        if leaf.index != EMBEDDED:
            defects.extend(_defect_text(d) for d in leaf.part.defects)  # decoding adds some
        if part is not None:
            parts.append(part)
    return parts


def is_inline_text(ctype: str, disposition: str) -> bool:
    """Whether a part of this type and Content-Disposition is shown (and indexed) as text: any
    text/* type not sent as an attachment (RFC 2046 4.1.4: an unknown subtype of text is read
    as text/plain). A multipart that is a leaf is one whose boundary never appears: its body
    is shown as text, as mail clients show it (the parse noted the defect). A bounce's or read
    receipt's status report is shown as its fields."""
    shown = ctype.startswith(("text/", "multipart/")) or ctype in STATUS_REPORTS
    return shown and disposition.split(";")[0].strip().lower() != "attachment"


def media_type(part: Message) -> str:
    """A part's type/subtype, without the parameters a missing ";" glued to it
    (`application/pdf name="invoice.pdf"`, as one mailer wrote it)."""
    return part.get_content_type().split(maxsplit=1)[0]


def describe(leaf: Leaf, limits: Limits, defects: list[str]) -> Part | None:
    """The display record of one MIME leaf (None for an unchosen alternative)."""
    part = leaf.part
    if leaf.index == EMBEDDED:
        caption = "" if leaf.hidden else _caption(part)
        return Part("message", "message/rfc822", EMBEDDED, text=caption) if caption else None
    ctype = media_type(part)
    params = _type_params(part)
    disposition = str(part.get("content-disposition", ""))
    filename = (_filename(part, [params["charset"]] if "charset" in params else [])
                if disposition or "name" in params else None)
    is_text = is_inline_text(ctype, disposition)
    if is_text and leaf.hidden:
        return None
    payload = payload_bytes(part)
    if not is_text:
        content_id = msgid.normalize(str(part.get("content-id", "")))
        return Part("attachment", ctype, leaf.index, filename=filename, size=len(payload),
                    inline_image=ctype in RASTER_IMAGES, content_id=content_id,
                    text=_readable(ctype, filename, params.get("charset"), payload))
    text, note = decode_bytes(payload, params.get("charset"))
    if note:
        defects.append(note)
    text = enriched.as_plain(ctype, text)
    if len(text) > limits.max_text_chars:
        defects.append(f"a text part over {limits.max_text_chars} characters: cut for display")
        text = text[: limits.max_text_chars]
    kind = "html" if ctype == "text/html" else "text"
    return Part(kind, ctype, leaf.index, text=text, filename=filename, size=len(payload),
                flowed=params.get("format", "").lower() == "flowed",
                delsp=params.get("delsp", "").lower() == "yes")


def _caption(part: Message) -> str:
    """A forwarded message's From, Date and Subject, as lines of text ("" if it has none)."""
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        return ""
    headers = _headers(inner)
    hints = _declared_charsets(inner, headers)
    found = ((name, header_text(headers.get(name.lower()), hints)) for name in CAPTION_FIELDS)
    return "".join(f"{name}: {value}\n" for name, value in found if value)


def _readable(ctype: str, filename: str | None, charset: str | None, payload: bytes) -> str:
    """The text of an attached patch, log or source file, for showing below the body (as
    mail clients show text attachments); "" for anything else, or too big to show."""
    named = (filename or "").lower().endswith((".patch", ".diff"))
    if not (ctype in READABLE_ATTACHMENTS or (ctype == "application/octet-stream" and named)):
        return ""
    if len(payload) > SHOWN_ATTACHMENT_BYTES or b"\0" in payload:
        return ""
    text, _ = decode_bytes(payload, charset)
    return text


def content_charset(part: Message) -> str | None:
    """The charset a part's Content-Type names, as `describe` reads it (never raising: the
    stdlib's get_content_charset raises ValueError on an RFC 2231 charset with a NUL in it)."""
    return _type_params(part).get("charset")


def _type_params(part: Message) -> dict[str, str]:
    """The Content-Type parameters, parsed once (names lower-cased, RFC 2231 collapsed)."""
    value = part.get("content-type")
    if value is None:
        return {}
    if isinstance(value, str) and value.isascii() and not _QUOTING.search(value):
        return _plain_params(value)
    found: dict[str, str] = {}
    for name, text in (part.get_params(failobj=[]) or [])[1:]:
        found.setdefault(name.lower(), _param_text(text))
    return found


def _plain_params(value: str) -> dict[str, str]:
    """What the stdlib's get_params (then RFC 2231 collapsing) gives for a Content-Type with
    nothing to unquote or decode (ASCII, no quotes, backslashes, "*" or "<"): its pieces
    between semicolons split at their first "=" (7 against 17 us a message, measured on real
    mail)."""
    found: dict[str, str] = {}
    for piece in value.split(";")[1:]:
        name, _, text = piece.partition("=")
        found.setdefault(name.strip().lower(), text.strip())
    return found


def _param_text(value: str | tuple[str, str, str]) -> str:
    """A parameter's value with its RFC 2231 charset applied. A "charset" with a NUL byte in it
    makes the codec lookup raise ValueError: the text is then kept as it came, like the stdlib
    does for an unknown charset."""
    try:
        return str(email.utils.collapse_rfc2231_value(value))
    except ValueError:
        return email.utils.unquote(value[2] if isinstance(value, tuple) else value)


def payload_bytes(part: Message) -> bytes:
    """A leaf's decoded content; never raises."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken encodings are common in real mail
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, list):  # a status report: its blocks of fields, as they were written
        raw = "\n".join("".join(f"{name}: {value}\n" for name, value in block.items())
                        for block in raw if isinstance(block, Message))
    if isinstance(raw, str):  # 8-bit bytes are surrogates here (a parse of bytes)
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _filename(part: Message, hints: Sequence[str]) -> str | None:
    """The part's file name, decoded (RFC 2231 or 2047, or raw 8-bit bytes: see `guess`)."""
    try:
        name = _raw_fields(part).get_filename()
    except Exception:  # noqa: BLE001
        return None
    if name is None:
        return None
    return header_text(str(name), hints) or None


@cache
def _as_stored() -> Policy:
    """compat32 that hands header values back as stored, 8-bit bytes as surrogates, where
    compat32 itself wraps them in a Header whose text has U+FFFD for each byte. (email.policy
    is imported here: it costs milliseconds at start-up, and few messages need this.)"""
    from email.policy import Compat32

    class AsStored(Compat32):
        def header_fetch_parse(self, name: str, value: str) -> str:
            return value

    return AsStored()


def _raw_fields(part: Message) -> Message:
    """`part`, or (when its content fields hold 8-bit bytes) a message of those fields alone
    that reads them as stored."""
    fields = [(name, value) for name, value in part.raw_items()
              if name.lower() in ("content-type", "content-disposition")]
    if all(isinstance(value, str) and value.isascii() for _, value in fields):
        return part
    holder = Message(policy=_as_stored())
    for name, value in fields:
        holder[name] = value
    return holder


def _defect_text(defect: object) -> str:
    name = type(defect).__name__.removesuffix("Defect")
    words = re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()
    return f"MIME: {words}"

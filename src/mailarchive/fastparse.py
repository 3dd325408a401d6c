"""The standard library's compat32 parse of plain mail, built without its line-by-line feed.

`email.parser` reads a message one line at a time through a generator and tests every line of
every part against every open boundary; for a multipart message with a long patch or log in it
that walk is most of the cost of parsing. Nearly all list mail is plain: LF line ends, clean
header blocks, each part opened by a delimiter line and the whole closed by one. For such mail
this module builds the very `Message` tree the standard library builds (tests compare the two
on the real corpora, part by part: headers, payloads, preambles, epilogues, defects), finding
delimiters with one search for lines that start with `--`. Mail that ends before its multiparts
are closed (a message cut short, as snippets read only its start) is read as the stdlib reads it:
the last part runs to the end, and each open multipart notes the missing close delimiter.
Anything else (CR anywhere, a part with no blank line after its headers, a missing opening or a
doubled delimiter, `message/*` parts, a digest, an odd transfer encoding on a multipart) gets
None, and the caller parses it fully.
"""

from __future__ import annotations

import re
from email.errors import CloseBoundaryNotFoundDefect
from email.message import Message

# a field as the stdlib's feed splits it: a header line (its value without the blanks after the
# colon) and the continuation lines after it, joined by their LFs
_FIELD = re.compile(r"([\041-\071\073-\176]+):[ \t]*(.*(?:\n[ \t].*)*)\n")
_PLAIN_MULTIPART_ENCODINGS = ("7bit", "8bit", "binary")
_DEEPEST = 20  # nesting handled here; deeper mail goes to the full parser


class _NotPlain(Exception):
    """The message needs the full parser."""


def single_part(data: bytes) -> Message | None:
    """The parse of a message that is one part with plain LF headers (no multipart or message
    type), or None."""
    end = data.find(b"\n\n")
    if end < 0 or b"\r" in data[:end + 2]:
        return None
    head = data[:end + 1].decode("ascii", "surrogateescape")
    message = _headers(head)
    if message is None or message.get_content_maintype() in ("multipart", "message"):
        return None
    message.set_payload(data[end + 2:].decode("ascii", "surrogateescape"))
    return message


def multipart(data: bytes) -> Message | None:
    """The parse of a plain multipart message (see the module's note), or None."""
    if b"\r" in data:
        return None
    text = data.decode("ascii", "surrogateescape")
    end = text.find("\n\n")
    if end < 0:
        return None
    message = _headers(text[:end + 1])
    if message is None or message.get_content_maintype() != "multipart":
        return None
    try:
        _Walk(text).multipart(message, end + 2, [], 0)
    except _NotPlain:
        return None
    return message


def _headers(head: str) -> Message | None:
    """A Message holding the header lines of `head` (each ending in LF) as compat32 splits
    them, or None for anything its feed would treat otherwise (a first line that continues,
    an envelope line, a line that is not a field)."""
    fields = []
    at, end, field = 0, len(head), _FIELD.match
    while at < end:  # one match a field (with its continuation lines), not a loop over lines
        found = field(head, at)
        if found is None:
            return None
        fields.append(found.groups())
        at = found.end()
    if not fields:
        return None
    message = Message()
    for name, value in fields:
        message.set_raw(name, value)
    return message


def _delimiter(line: str, separator: str) -> bool | None:
    """Whether `line` is a delimiter line of `separator` ("--" and the boundary), as the stdlib's
    `(?P<sep>SEP)(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$` matches it: True for the
    close delimiter, False for one between parts, None for no delimiter (no regex is compiled
    for each message's boundary)."""
    if not line.startswith(separator):
        return None
    rest = line[len(separator):].removesuffix("\n")
    if rest.startswith("--") and not rest[2:].strip(" \t"):
        return True
    return False if not rest.strip(" \t") else None


class _Walk:
    """One message's text and the lines in it that could be delimiters (those starting `--`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0] if text.startswith("--") else []
        at = text.find("\n--")
        while at >= 0:
            starts.append(at + 1)
            at = text.find("\n--", at + 1)
        self.starts = starts
        self.next = 0  # the first candidate not yet passed

    def _line(self, start: int) -> str:
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end + 1]

    def _find(self, pos: int, separators: list[str]) -> tuple[int, str, int]:
        """The first candidate line at or after `pos` that is a delimiter of one of the
        `separators`: its start, its text and the index of the first separator (outermost
        first) it delimits. A line an enclosing boundary takes is, for the stdlib's multipart
        loop, the end of its input. Past the last one: the end of the text, as if it were a
        delimiter of the innermost separator (see `ended`)."""
        starts = self.starts
        i = self.next
        while i < len(starts) and starts[i] < pos:
            i += 1
        while i < len(starts):
            line = self._line(starts[i])
            for k, separator in enumerate(separators):
                if _delimiter(line, separator) is not None:
                    self.next = i
                    return starts[i], line, k
            i += 1
        self.next = len(starts)
        return len(self.text), "", len(separators) - 1

    def ended(self, start: int) -> bool:
        """Whether `_find` found the end of the text rather than a delimiter."""
        return start >= len(self.text)

    def multipart(self, message: Message, pos: int, outer: list[str], depth: int) -> int:
        """Parse the body of `message` (a multipart) starting at `pos`; the position after its
        epilogue, which ends where a line matches an enclosing boundary."""
        boundary = message.get_boundary()
        encoding = str(message.get("content-transfer-encoding", "8bit")).lower()
        if (boundary is None or depth > _DEEPEST or encoding not in _PLAIN_MULTIPART_ENCODINGS
                or message.get_content_type() == "multipart/digest"):
            raise _NotPlain
        own = "--" + boundary
        matchers = [*outer, own]
        start, line, k = self._find(pos, matchers)
        if k != len(outer) or self.ended(start) or _delimiter(line, own):
            raise _NotPlain  # no opening delimiter
        if start > pos:
            message.preamble = self.text[pos:start - 1]  # its last LF belongs to the delimiter
        while True:
            pos = start + len(line)
            following = self._line(pos)
            if not following or any(_delimiter(following, m) is not None for m in matchers):
                raise _NotPlain  # an empty part, a doubled delimiter, or the end of the text
            part, pos = self._part(pos, matchers, depth)
            message.attach(part)
            start, line, k = self._find(pos, matchers)
            if self.ended(start):  # the stdlib's reading of an unclosed multipart
                message.defects.append(CloseBoundaryNotFoundDefect())
                return start
            if k != len(outer):
                raise _NotPlain  # an enclosing boundary before this one's close
            if _delimiter(line, own):
                break
        pos = start + len(line)
        if not line.endswith("\n"):
            message.epilogue = ""
            return pos
        if not outer:
            message.epilogue = self.text[pos:]
            return len(self.text)
        end, _line, _k = self._find(pos, outer)
        message.epilogue = self.text[pos:end]
        return end

    def _part(self, pos: int, matchers: list[str], depth: int) -> tuple[Message, int]:
        """One body part starting at `pos`: the part, with the LF before the next delimiter
        taken off its payload (or epilogue), and where that delimiter line starts."""
        if self.text.startswith("\n", pos):
            part, body = Message(), pos + 1
        else:
            end = self.text.find("\n\n", pos)
            if end < 0:
                raise _NotPlain
            head = self.text[pos:end + 1]
            found = _headers(head)
            if found is None or head.startswith("--") or "\n--" in head:
                raise _NotPlain  # a delimiter inside the headers, or a line that is no field
            part, body = found, end + 2
        maintype = part.get_content_maintype()
        if maintype == "message":
            raise _NotPlain
        if maintype == "multipart":
            end = self.multipart(part, body, matchers, depth + 1)
            epilogue = part.epilogue
            part.epilogue = None if not epilogue else epilogue.removesuffix("\n")
            return part, end
        end, _line, _k = self._find(body, matchers)
        part.set_payload(self.text[body:end].removesuffix("\n"))
        return part, end

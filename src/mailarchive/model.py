"""The plain records that flow between the pipeline's stages. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message


@dataclass(frozen=True)
class RawMessage:
    """Bytes of one message as a source yields them, with where they came from."""

    data: bytes
    origin: str
    envelope: str | None = None  # the mbox From_ line, without "From " and the newline


@dataclass(frozen=True)
class Span:
    """Bytes `start` to `end` of a plain mbox file, cut where a message begins: a bulk import
    sends this to a parsing process, which reads the messages itself, instead of their bytes
    (sending them cost the one process that stores a fifth of its time)."""

    path: str
    start: int
    end: int
    quoting: str


@dataclass(frozen=True)
class Files:
    """Message files of a maildir, `size` bytes together: read, like a `Span`, by the parsing
    process a bulk import sends them to."""

    paths: tuple[str, ...]
    size: int


Located = Span | Files  # mail a parsing process reads itself


@dataclass
class Part:
    """One displayable piece of a message body, in reading order."""

    kind: str  # "text", "html", "attachment", or "message": a forwarded message's caption
    content_type: str
    index: int  # k in /<list>/msg<N>/<k>/<filename>; the leaf's position in the MIME walk
    text: str = ""
    filename: str | None = None
    size: int = 0
    flowed: bool = False
    delsp: bool = False
    inline_image: bool = False
    content_id: str | None = None


@dataclass
class ParsedMessage:
    """What the archive knows about a message, derived from its bytes alone."""

    message_id: str
    synthetic_id: bool
    in_reply_to: str | None
    references: list[str]
    subject: str
    from_name: str
    from_addr: str
    to: str  # decoded header text, for search
    cc: str
    date: int  # unix seconds, UTC
    tz_offset: int  # the sender's offset from UTC, minutes
    date_source: str  # "date", "received", "envelope" or "import"
    parts: list[Part] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    # the parse it was derived from (None where the parse gave up), for the text recipe
    tree: Message | None = field(default=None, repr=False, compare=False)

    @property
    def attachments(self) -> list[Part]:
        return [p for p in self.parts if p.kind == "attachment"]

    @property
    def body_text(self) -> str:
        return "\n\n".join(p.text for p in self.parts if p.kind == "text")

"""The text of a message's bytes as a snippet reads it, and the recipe kept at import to find
it again at once.

A snippet needs the text and HTML parts that `parse` shows, for a page of hits at every search.
Most list mail is one text part, read from its three content headers without building the
message; the rest is parsed. An import keeps, with each message, a `text_recipe`: where each
text part's body lies in the bytes and how it is encoded (for other mail than one text part,
checked there against the import's parse). With it, a snippet slices and decodes the bodies
and reads no header at all.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from email.message import Message

from mailarchive import enriched
from mailarchive.decode import codec_for, decoded
from mailarchive.parse import (
    DEFAULT_LIMITS,
    Leaf,
    content_charset,
    is_inline_text,
    media_type,
    message_from_bytes,
    payload_bytes,
    walk,
)

# Over the header block with a newline put in front (each pattern then starts with a literal,
# which the regular expression engine finds fast): a content header with its continuation lines,
# and a line the stdlib parser would not take for a header (it would start the body there).
_FIELDS = re.compile(rb"\n(content-type|content-transfer-encoding|content-disposition)[ \t]*:"
                     rb"([^\n]*(?:\n[ \t][^\n]*)*)", re.I)
_NOT_HEADER = re.compile(rb"\n(?![\041-\071\073-\176]*:|[\t ])")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]+)", re.I)
_PLAIN_ENCODINGS = ("", "7bit", "8bit", "binary")
# the transfer encodings a recipe names, as the stdlib's compat32 payload decoding reads them
_RECIPE_ENCODINGS = {"quoted-printable": "qp", "base64": "b64"}
_UUENCODINGS = ("x-uuencode", "uuencode", "uue", "x-uue")
_RECIPE_CHARSET = re.compile(r"[^\s;]*")  # a charset a recipe can hold (blanks and ";" part it)
# The rules recipes follow: a change to how they are made or read, or to which parts `parse`
# shows as text and how it decodes them, bumps it; recipes kept before it are not used (and
# `mailarchive refresh` makes them again).
RECIPE_VERSION = "1"

Texts = list[tuple[str, str]]  # (kind, text): "text" or "html"
_Head = tuple[int, list[re.Match[bytes]]]  # where the header block ends; its content fields
# one text part: its kind, whether quoted-printable, where its body starts, its charset
_Single = tuple[str, bool, int, str | None]


def text_parts(data: bytes, recipe: str | None = None) -> Texts:
    """(kind, text) of the text and HTML parts of a message's bytes (or their start), as
    `parse` finds them; with the `text_recipe` of the message's bytes, as it says."""
    if recipe:
        followed = _followed(data, recipe)
        if followed is not None:
            return followed
    head = _plain_head(data)
    if head is None:
        return _walked_text_parts(data)
    single = _single_recipe(head)
    if single is not None:
        return [_single_text(data, single)]
    return _walked_text_parts(_content_headers_only(data, head) or data)


def text_recipe(data: bytes, tree: Message | None) -> str:
    """How `text_parts` finds the text of a message (all of its bytes), kept with it, after
    RECIPE_VERSION:
    - one text part (`text - 183`, `html qp 160 iso-8859-1`): its kind, transfer encoding
      (quoted-printable or none), where its body starts, its charset (if named);
    - other mail whose text parts lie in its bytes as they are shown (`parts 5512;text - 300
      1200 utf-8;html b64 1400 2000`): the message's size, then each part's kind, transfer
      encoding (quoted-printable, base64 or none), where its body starts and ends, charset;
    - else `walk`: the message is parsed.
    `tree` is the message as its import parsed it (within the time budget; None where that
    parse gave up), so that making the recipe parses nothing again."""
    head = _plain_head(data)
    single = _single_recipe(head) if head is not None else None
    if single is not None:
        kind, quoted_printable, start, charset = single
        return (f"{RECIPE_VERSION} {kind} {'qp' if quoted_printable else '-'} {start} "
                f"{charset or ''}").rstrip()
    return (_parts_recipe(data, tree) if tree is not None else None) or f"{RECIPE_VERSION} walk"


def _followed(data: bytes, recipe: str) -> Texts | None:
    """The text parts as `recipe` finds them, if it is of this version and fits the bytes at
    hand: a snippet reads the start of a long message, where one text part runs to the cut (as
    its parse reads it) but the parts of others may not be all there; else None."""
    version, _, rest = recipe.partition(" ")
    kind, _, how = rest.partition(" ")
    if version != RECIPE_VERSION:
        return None
    try:
        if kind in ("text", "html"):
            encoding, start, *charset = how.split(" ")
            if int(start) > len(data):
                return None
            return [_single_text(data, (kind, encoding == "qp", int(start),
                                        charset[0] if charset else None))]
        if kind == "parts":
            size, *leaves = how.split(";")
            return _leaves_text(data, leaves) if int(size) == len(data) else None
    except ValueError:  # not a recipe this version writes (its row was changed by hand)
        return None
    return None


def _leaves_text(data: bytes, leaves: list[str]) -> Texts:
    found = []
    for leaf in leaves:
        kind, encoding, start, end, *charset = leaf.split(" ")
        body = data[int(start):int(end)]
        if encoding == "qp":
            body = binascii.a2b_qp(body)
        elif encoding == "b64":
            body = binascii.a2b_base64(b"".join(body.splitlines()))
        text = _decoded(body, charset[0] if charset else None)
        found.append((kind, text[:DEFAULT_LIMITS.max_text_chars]))
    return found


def _parts_recipe(data: bytes, tree: Message) -> str | None:
    """The `parts` recipe of a message (not one plain text part) parsed as `tree`, if each text
    part it shows is a stretch of its bytes that the recipe reads to the same text; else None."""
    found: Texts = []
    leaves: list[str] = []
    cursor = 0
    try:  # never stops an import: a message this cannot describe is parsed when searched
        for leaf, text in _shown_texts(tree):
            described = _leaf_recipe(data, leaf, text[0], cursor)
            if described is None:
                return None
            recipe, cursor = described
            found.append(text)
            leaves.append(recipe)
        if _leaves_text(data, leaves) != found:
            return None
    except Exception:  # noqa: BLE001 - e.g. a body the recipe's decoding refuses
        return None
    return ";".join([f"{RECIPE_VERSION} parts {len(data)}", *leaves])


def _leaf_recipe(data: bytes, leaf: Leaf, kind: str, cursor: int) -> tuple[str, int] | None:
    """A shown text part's recipe (its `kind`, encoding, where its body lies in `data`, found
    from `cursor` on, and charset) and where its body ends; None where a recipe cannot say it."""
    part = leaf.part
    # the payload as parsed: `get_payload()` gives one with 8-bit bytes decoded by its charset
    payload = vars(part).get("_payload")
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    charset = content_charset(part) or ""
    if (not isinstance(payload, str) or media_type(part) in enriched.CONVERTERS
            or encoding in _UUENCODINGS or not _RECIPE_CHARSET.fullmatch(charset)):
        return None
    body = payload.encode("ascii", "surrogateescape")
    start = data.find(body, cursor)
    if start < 0:
        return None
    code = _RECIPE_ENCODINGS.get(encoding, "-")
    end = start + len(body)
    return f"{kind} {code} {start} {end} {charset}".rstrip(), end


def _walked_text_parts(data: bytes) -> Texts:
    message, _defects = message_from_bytes(data)
    return [text for _leaf, text in _shown_texts(message)]


def _shown_texts(tree: Message) -> Iterator[tuple[Leaf, tuple[str, str]]]:
    """The leaves of a parsed message that `parse` shows as text, each with its (kind, text)."""
    for leaf in walk(tree):
        if isinstance(leaf, Leaf):  # not a note where a limit cut the walk
            text = _leaf_text(leaf)
            if text is not None:
                yield leaf, text


def _leaf_text(leaf: Leaf) -> tuple[str, str] | None:
    """(kind, text) of a leaf `parse` shows as text; the parts it shows as attachments are not
    decoded at all (a snippet has no use for megabytes of base64)."""
    part = leaf.part
    ctype = media_type(part)
    if leaf.hidden or not is_inline_text(ctype, str(part.get("content-disposition", ""))):
        return None
    text = _decoded(payload_bytes(part), content_charset(part))
    text = enriched.as_plain(ctype, text)
    return ("html" if ctype == "text/html" else "text"), text[:DEFAULT_LIMITS.max_text_chars]


def _plain_head(data: bytes) -> _Head | None:
    """Where a plain header block ends (LF only, every line a field or a continuation), and
    its content header fields with their continuation lines, in order; None for any other
    block (the whole parse decides there)."""
    end = data.find(b"\n\n")  # no CR in the header block, so this is where `parse` ends it
    if end < 0 or b"\r" in data[:end] or data.startswith((b" ", b"\t", b"From ")):
        return None
    head = b"\n" + data[:end]
    if _NOT_HEADER.search(head):
        return None
    return end, list(_FIELDS.finditer(head))


def _content_headers_only(data: bytes, head: _Head) -> bytes | None:
    """The message with its content headers alone (list mail carries fifty header lines, and
    the parse made a field of each and searched them all for every look-up): the MIME tree,
    and so the text, are the same."""
    end, found = head
    if not found or end > DEFAULT_LIMITS.max_header_bytes:
        return None
    return b"".join(match.group(0) for match in found)[1:] + b"\n\n" + data[end + 2:]


def _single_recipe(head: _Head) -> _Single | None:
    """How to read the one text part of a message whose plain header block is `head`, or None
    if it is not one such part."""
    end, found = head
    fields: dict[str, str] = {}
    for match in found:
        fields.setdefault(match.group(1).decode().lower(), match.group(2).decode("latin-1"))
    ctype = fields.get("content-type", "text/plain")
    kind = {"text/plain": "text", "text/html": "html"}.get(ctype.split(";")[0].strip().lower())
    encoding = fields.get("content-transfer-encoding", "").strip().lower()
    disposition = fields.get("content-disposition", "").split(";")[0].strip().lower()
    if (kind is None or disposition == "attachment" or "*" in ctype
            or encoding not in (*_PLAIN_ENCODINGS, "quoted-printable")):
        return None
    charset = _CHARSET.search(ctype)
    return kind, encoding == "quoted-printable", end + 2, charset.group(1) if charset else None


def _single_text(data: bytes, single: _Single) -> tuple[str, str]:
    kind, quoted_printable, start, charset = single
    body = data[start:]
    if quoted_printable:
        body = binascii.a2b_qp(body)
    return kind, _decoded(body, charset)


def _decoded(data: bytes, charset: str | None) -> str:
    """`decode_bytes` without its charset detector (tens of milliseconds on some mislabelled
    mail, too slow for a snippet): the declared charset, else UTF-8, else cp1252."""
    for codec in (codec_for(charset), "utf-8"):
        if codec is not None:
            try:
                return decoded(data, codec)
            except UnicodeDecodeError:
                pass
    return data.decode("cp1252", errors="replace")

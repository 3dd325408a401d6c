"""text/enriched (RFC 1896) and its predecessor text/richtext (RFC 1341) as the plain text a
reader sees: formatting commands dropped, and line breaks as each format defines them. Old Mac,
NeXT and Eudora mailers sent them, some with no plain-text alternative."""

from __future__ import annotations

import re
from collections.abc import Callable

_TOKEN = re.compile(r"<<|<(/?)([A-Za-z0-9-]{1,60})>|\r?\n")
_RICH_TOKEN = re.compile(r"<(/?)([A-Za-z0-9-]{1,60})>|\r?\n")
_AROUND_BREAK = re.compile(r"[ \t]*\n[ \t]*")
MAX_NESTING = 1000  # nesting past this is no formatting, only a way to make work


def to_plain(text: str) -> str:
    """The text of a text/enriched part. Outside <nofill>, one line break is a space and a
    run of n > 1 breaks is n - 1 of them; <param> holds a command's argument, not text."""
    out: list[str] = []
    nofill = param = breaks = last = 0
    for token in _TOKEN.finditer(text):
        chunk, last, word = text[last:token.start()], token.end(), token.group(0)
        if chunk and not param:
            breaks = _flush(out, breaks)
            out.append(chunk)
        if param and word != "<<" and token.group(2) is None:
            continue  # a line break inside a command's argument
        if word in ("\n", "\r\n"):
            if nofill:
                out.append("\n")
            else:
                breaks += 1
            continue
        breaks = _flush(out, breaks)
        if word == "<<":
            if not param:
                out.append("<")
            continue
        closing, name = token.group(1) == "/", token.group(2).lower()
        if name == "param":
            param = _nested(param, closing)
        elif name == "nofill":
            nofill = _nested(nofill, closing)
    if text[last:] and not param:
        _flush(out, breaks)
        out.append(text[last:])
    elif breaks > 1:
        _flush(out, breaks)
    return "".join(out)


def _nested(depth: int, closing: bool) -> int:
    """How deep inside a command the text is after its opening or closing tag (a stray closing
    tag opens nothing; nesting stops at MAX_NESTING)."""
    return max(0, depth - 1) if closing else min(depth + 1, MAX_NESTING)


def _flush(out: list[str], breaks: int) -> int:
    """The line breaks met since the last text, as the text they stand for (none left)."""
    out.append(" " if breaks == 1 else "\n" * (breaks - 1))
    return 0


def richtext_to_plain(text: str) -> str:
    """The text of a text/richtext part: line breaks in the source are spaces, <nl> is one
    (<np>, a new page, two), <lt> is `<`, and a <comment> is no text."""
    out: list[str] = []
    comment = last = 0
    for token in _RICH_TOKEN.finditer(text):
        if not comment:
            out.append(text[last:token.start()])
        last = token.end()
        name = (token.group(2) or "").lower()
        closing = token.group(1) == "/"
        if name == "comment":
            comment = _nested(comment, closing)
        elif comment or closing:
            continue
        elif not name:
            out.append(" ")  # a line break of the source
        else:
            out.append({"nl": "\n", "np": "\n\n", "lt": "<"}.get(name, ""))
    if not comment:
        out.append(text[last:])
    return _AROUND_BREAK.sub("\n", "".join(out)).strip(" ")


CONVERTERS: dict[str, Callable[[str], str]] = {"text/enriched": to_plain,
                                               "text/richtext": richtext_to_plain}


def as_plain(ctype: str, text: str) -> str:
    """A text part's text as shown and searched: a formatted type's without its commands."""
    convert = CONVERTERS.get(ctype)
    return text if convert is None else convert(text)

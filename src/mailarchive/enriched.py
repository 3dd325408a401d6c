"""text/enriched (RFC 1896) as the plain text a reader sees: formatting commands dropped, `<<`
read as `<`, and line breaks as the format defines them. Old Mac and NeXT mailers sent it, some
with no plain-text alternative."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<<|<(/?)([A-Za-z0-9-]{1,60})>|\r?\n")
MAX_PARAM_DEPTH = 1000  # nesting past this is no formatting, only a way to make work


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
            param = max(0, param - 1) if closing else min(param + 1, MAX_PARAM_DEPTH)
        elif name == "nofill":
            nofill = max(0, nofill - 1) if closing else min(nofill + 1, MAX_PARAM_DEPTH)
    if text[last:] and not param:
        _flush(out, breaks)
        out.append(text[last:])
    elif breaks > 1:
        _flush(out, breaks)
    return "".join(out)


def _flush(out: list[str], breaks: int) -> int:
    """The line breaks met since the last text, as the text they stand for (none left)."""
    out.append(" " if breaks == 1 else "\n" * (breaks - 1))
    return 0

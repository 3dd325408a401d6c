"""The one escaper: every piece of mail text reaches a page through here.

Addresses are obfuscated, URLs linked, quotes and signatures folded (<details>, no script),
format=flowed honoured. Everything is iterative: no recursion on what a sender wrote.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

ATOM = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~.-"
# an address: tried once per run of address characters, never backtracking into it (linear time
# on hostile text); a run longer than 64 characters is hidden whole
ADDRESS = rf"(?<![{ATOM}])[{ATOM}]++@[A-Za-z0-9-]{{1,63}}(?:\.[A-Za-z0-9-]{{1,63}})+"
_URL = r"(?:https?|ftp)://[^\s<>\"'`\x00-\x1f\x7f]+"
_TOKENS = re.compile(f"(?P<url>{_URL})|(?P<addr>{ADDRESS})")
_ADDRESS_ONLY = re.compile(ADDRESS)
_MARKS = ("@", "://")  # every match of _TOKENS holds one
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_TRAILING = ".,;:!?'\")]}>*"
_PATCH_START = re.compile(r"(diff -|diff --git |Index: \S|--- \S)")
_LIST_ITEM = re.compile(r"\s*([-*+•]|\d{1,3}[.)])\s")
_CODE_CHARS = re.compile(r"[{}\[\]<>=_/\\|;#$%^&*~@+`]")
_IDENTIFIER = re.compile(r"[A-Za-z_][./_:][A-Za-z_]|\w\(")
_BRACKETS = re.compile(r"<\s*>")
_QUOTE_MARKS = re.compile(r"(?:>| (?=>))*")
_DIFF_FIRST = frozenset("+-@di")  # the first characters of the lines _diff_class marks
REL = "nofollow noopener noreferrer"
MAX_DEPTH = 8  # quote levels shown nested; deeper ones are shown at this depth
OPEN_QUOTE_LINES = 12  # quotes up to this long start unfolded


def clean(text: str) -> str:
    """Text without characters that HTML or XML cannot carry (controls, lone surrogates)."""
    return _UNPRINTABLE.sub("", text)


def obfuscate(address: str, on: bool = True) -> str:
    """`ralf@linux-mips.org` → `r...@linux-mips.org` (when the list asks for it)."""
    if not on or "@" not in address:
        return address
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}...@{domain}"


def obfuscate_text(text: str, on: bool = True) -> str:
    """Free text (names, subjects, snippets) with every address in it obfuscated."""
    text = clean(text)
    if not on or "@" not in text:
        return text
    return _replaced(_ADDRESS_ONLY, text, ("@",), lambda match: obfuscate(match.group(0)))


def _replaced(pattern: re.Pattern[str], text: str, marks: tuple[str, ...],
              replace: Callable[[re.Match[str]], str]) -> str:
    """`pattern.sub(replace, text)`, found by `matches`."""
    out: list[str] = []
    last = 0
    for at, match in matches(pattern, text, marks):
        out.append(text[last:at + match.start()])
        out.append(replace(match))
        last = at + match.end()
    out.append(text[last:])
    return "".join(out)


def matches(pattern: re.Pattern[str], text: str, marks: tuple[str, ...]
            ) -> Iterator[tuple[int, re.Match[str]]]:
    """What `pattern.finditer(text)` finds, as (offset, match in a token): for ADDRESS and
    _TOKENS, whose matches hold no whitespace and one of `marks` ("@", "://"), and begin where
    whitespace would do (a look-behind for address characters), the whitespace-separated tokens
    holding a mark are all they need to see. Splitting costs far less than trying at every
    position a pattern that starts with a look-behind (it cannot skip ahead)."""
    first, second = marks[0], marks[-1]  # (a generator per token would cost more than a scan)
    pos = 0
    for token in text.split():
        if first in token or second in token:
            at = text.find(token, pos)  # the token itself: no token in between holds a mark
            pos = at + len(token)
            for match in pattern.finditer(token):
                yield at, match


def _split_url(url: str) -> tuple[str, str]:
    """A URL without the punctuation that ends the sentence around it."""
    tail = ""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        tail = url[-1] + tail
        url = url[:-1]
    return url, tail


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _link(text: str, hide: bool) -> str:
    """Escaped text with URLs as links and addresses obfuscated (HTML, as a plain string)."""
    text = clean(text)
    if "@" not in text and "://" not in text:
        return _esc(text)
    out: list[str] = []
    last = 0
    for at, match in matches(_TOKENS, text, _MARKS):
        out.append(_esc(text[last:at + match.start()]))
        last = at + match.end()
        if match.group("addr"):
            out.append(_esc(obfuscate(match.group(0), hide)))
            continue
        url, tail = _split_url(match.group(0))
        if url.endswith("://"):
            out.append(_esc(match.group(0)))
            continue
        href = _esc(url)
        out.append(f'<a href="{href}" rel="{REL}">{href}</a>{_esc(tail)}')
    out.append(_esc(text[last:]))
    return "".join(out)


def linkify(text: str, hide: bool = True) -> Markup:
    """Escaped text with URLs as links and addresses obfuscated."""
    return Markup(_link(text, hide))


# --- lines and quote depth -------------------------------------------------------------------

Line = tuple[int, str]  # (quote depth, text without the quote markers)


def quoted_lines(text: str) -> list[Line]:
    """Fixed-width text as lines with their quote depth (`> > a` and `>> a` are both depth 2):
    the markers are `>`, each maybe after one space, and one space after the last is dropped."""
    if ">" not in text:
        return [(0, line) for line in text.split("\n")]
    lines: list[Line] = []
    for line in text.split("\n"):
        if not line.startswith((">", " >")):
            lines.append((0, line))
            continue
        pos = _QUOTE_MARKS.match(line).end()  # type: ignore[union-attr]
        if line[pos:pos + 1] == " ":
            pos += 1
        lines.append((line.count(">", 0, pos), line[pos:]))
    return lines


def unflow(text: str, delsp: bool) -> list[Line]:
    """RFC 3676 format=flowed text joined into logical lines, with their quote depth."""
    lines: list[Line] = []
    open_depth: int | None = None
    for raw in text.split("\n"):
        depth = len(raw) - len(raw.lstrip(">"))
        body = raw[depth:]
        if body.startswith(" "):
            body = body[1:]  # space-stuffing
        soft = body.endswith(" ") and body != "-- "
        if soft and delsp:
            body = body[:-1]
        if open_depth == depth and lines:
            lines[-1] = (depth, lines[-1][1] + body)
        else:
            lines.append((depth, body))
        open_depth = depth if soft else None
    return lines


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


# --- the body ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sections:
    """A text body cut into what is shown differently: text (with quotes), patch, signature."""

    text: list[Line]
    patch: list[str]
    signature: list[str]


def sections(lines: list[Line]) -> Sections:
    end = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        depth, body = lines[i]
        if depth == 0 and (body == "-- " or (body == "--" and len(lines) - i <= 10)):
            end = i
            break
    signature = [body for _, body in lines[end + 1:]]
    start = end
    for i in range(end):
        depth, body = lines[i]
        if depth == 0 and _PATCH_START.match(body) and _looks_like_patch(lines, i, end):
            start = i
            break
    patch = [(">" * d + " " if d else "") + body for d, body in lines[start:end]]
    return Sections(lines[:start], patch, signature)


def _looks_like_patch(lines: list[Line], i: int, end: int) -> bool:
    body = lines[i][1]
    if not body.startswith("--- "):
        return True
    return i + 1 < end and lines[i + 1][1].startswith("+++ ")


@lru_cache(maxsize=64)
def body_html(text: str, flowed: bool = False, delsp: bool = False, hide: bool = True) -> Markup:
    """A text/plain part as HTML: quotes and signature foldable, patch set apart, links live.

    Cached: a thread page and its messages' pages show the same bodies."""
    text = normalize_newlines(text)
    lines = unflow(text, delsp) if flowed else quoted_lines(text)
    parts = sections(lines)
    out = [_text_html(parts.text, hide, flowed)]
    if parts.patch:
        out.append(_patch_html(parts.patch, hide))
    if parts.signature:
        sig = _link("\n".join(parts.signature), hide)
        out.append(f'<details class="sig"><summary>Signature</summary>'
                  f'<div class="mono">{sig}</div></details>')
    return Markup("".join(out))


def _patch_html(lines: list[str], hide: bool) -> str:
    """A patch line by line, each in the span of its kind. The lines are linked in one pass
    (no link or address spans a line, and cleaning keeps every line break)."""
    linked = _link("\n".join(lines), hide).split("\n")
    out = []
    for line, html_line in zip(lines, linked, strict=True):
        kind = _diff_class(line)
        out.append(f'<span class="{kind}">{html_line}</span>' if kind else html_line)
    return '<pre class="patch">' + "\n".join(out) + "</pre>"


def _diff_class(line: str) -> str:
    if line[:1] not in _DIFF_FIRST:
        return ""  # context lines, most of a patch, in one look-up
    if line.startswith(("+++ ", "--- ", "diff ", "index ")):
        return "dh"
    if line.startswith("@@"):
        return "dk"
    if line.startswith("+"):
        return "da"
    if line.startswith("-"):
        return "dd"
    return ""


def _runs(lines: list[Line]) -> Iterator[tuple[int, list[str]]]:
    """Consecutive lines of the same (capped) depth."""
    current: list[str] = []
    depth = -1
    for d, body in lines:
        d = min(d, MAX_DEPTH)
        if d != depth and current:
            yield depth, current
            current = []
        depth = d
        current.append(body)
    if current:
        yield depth, current


def _text_html(lines: list[Line], hide: bool, flowed: bool) -> str:
    """Text with quotes nested in <details>; opened and closed level by level, never recursively."""
    runs = list(_runs(_trim(lines)))
    counts = _quote_sizes(runs)
    out: list[str] = []
    level = 0
    for r, (depth, body) in enumerate(runs):
        while level > depth:
            out.append("</blockquote></details>")
            level -= 1
        while level < depth:
            level += 1
            out.append(_quote_open(counts[r][level]))
        out.append(_mono(body, hide) if depth else _prose_html(body, hide, flowed))
    out.extend("</blockquote></details>" for _ in range(level))
    return "".join(out)


def _trim(lines: list[Line]) -> list[Line]:
    start, end = 0, len(lines)
    while start < end and not lines[start][1].strip() and not lines[start][0]:
        start += 1
    while end > start and not lines[end - 1][1].strip() and not lines[end - 1][0]:
        end -= 1
    return lines[start:end]


def _quote_sizes(runs: list[tuple[int, list[str]]]) -> list[list[int]]:
    """For each run and level: how many lines the quote at that level, opened here, holds."""
    acc = [0] * (MAX_DEPTH + 1)
    sizes: list[list[int]] = [[] for _ in runs]
    for r in range(len(runs) - 1, -1, -1):
        depth, body = runs[r]
        acc = [acc[level] + len(body) if depth >= level else 0 for level in range(MAX_DEPTH + 1)]
        sizes[r] = acc
    return sizes


def _quote_open(count: int) -> str:
    state = " open" if count <= OPEN_QUOTE_LINES else ""
    noun = "line" if count == 1 else "lines"
    return (f'<details class="quote"{state}><summary>Quoted text ({count} {noun})</summary>'
            "<blockquote>")


def _mono(lines: list[str], hide: bool) -> str:
    return f'<div class="mono">{_link(chr(10).join(lines), hide)}</div>'


def _prose_html(lines: list[str], hide: bool, flowed: bool) -> str:
    """Unquoted text, paragraph by paragraph: prose reflows, anything laid out stays monospace."""
    out = []
    for para in _paragraphs(lines):
        if _laid_out(para) or not _prose(para):
            out.append(_mono(para, hide))
        elif flowed or not _hard_wrapped(para):
            out.append(f"<p>{_link(chr(10).join(para), hide)}</p>")
        else:
            out.append(f"<p>{_link(' '.join(para), hide)}</p>")
    return "".join(out)


def _prose(para: list[str]) -> bool:
    """Sentences, not commands, logs or code: few code characters, no dotted or slashed words."""
    text = _BRACKETS.sub("", _without_links(" ".join(para)))
    score = len(_CODE_CHARS.findall(text)) + 2 * len(_IDENTIFIER.findall(text))
    return score <= max(2, 0.03 * len(text)) and all(len(w) <= 40 for w in text.split())


def _without_links(text: str) -> str:
    """`text` without its URLs and addresses (as `_TOKENS.sub("", text)`)."""
    if "@" not in text and "://" not in text:
        return text
    return _replaced(_TOKENS, text, _MARKS, lambda match: "")


def _paragraphs(lines: list[str]) -> Iterator[list[str]]:
    para: list[str] = []
    for line in lines:
        if line.strip():
            para.append(line)
        elif para:
            yield para
            para = []
    if para:
        yield para


def _laid_out(para: list[str]) -> bool:
    """Indented lines, tabs or runs of spaces mean the layout matters (code, tables, lists)."""
    return any(line[:1] in (" ", "\t") or "\t" in line or "   " in line.strip()
               for line in para)


def _hard_wrapped(para: list[str]) -> bool:
    """Lines broken only to fit 72-80 columns, which read better rejoined on a narrow screen."""
    if len(para) < 2 or any(_LIST_ITEM.match(line) for line in para):
        return False
    return all(40 <= len(line) <= 100 for line in para[:-1])

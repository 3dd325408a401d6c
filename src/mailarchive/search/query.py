"""The search query language: a pure parser from query text to a small tree.

The language is the one of notmuch, public-inbox and Gmail::

    linux kernel                 both words (AND is implicit)
    "foo bar"  wor*              a phrase; a prefix (at least 2 characters before the *)
    linux OR bsd  NOT windows  -windows  (a OR b) c
    from:ralf  from:"Ralf Baechle"  from:lin*  to:  cc:  subject:  filename:
    list:linux-mips  mid:<id@host>  has:attachment
    date:2024  date:2024-08  date:2024-08-01  date:2024-08-01..2024-08-31  date:..2024-08-31

Precedence is NOT > AND > OR.  Nothing the user types reaches a backend raw: every word in the
tree is a run of Unicode letters, digits and marks with only ``. @ - _ '`` inside it; all other
punctuation separates words.  Every error is a :class:`QueryError` whose message is one sentence
saying what is wrong and how to fix it.  Backends (SQLite FTS5, PostgreSQL) translate the tree;
:func:`fold` is the case and accent folding they share.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, TypeAlias

__all__ = [
    "And",
    "DateRange",
    "HasAttachment",
    "ListIs",
    "MessageId",
    "Node",
    "Not",
    "Or",
    "Phrase",
    "QueryError",
    "Word",
    "describe",
    "fold",
    "parse_query",
]

MAX_DEPTH = 32
"""Brackets may be nested this deep; deeper queries are rejected."""

TEXT_FIELDS = frozenset({"from", "to", "cc", "subject", "filename"})
_FIELDS = TEXT_FIELDS | {"list", "mid", "has", "date"}
_CONNECTORS = frozenset(".@-_'\u2019")
_CHUNK = re.compile(r'[^\s()"]+')
_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
_DATE_FORMS = (
    "use date:2024, date:2024-08, date:2024-08-01 or a range like date:2024-08-01..2024-08-31 "
    "(either end of a range may be left out)"
)
_EPOCH = date(1970, 1, 1).toordinal()
_DAY = 86400
_EXAMPLES = {
    "from": 'from:alice or from:"Alice Smith"',
    "to": "to:bob",
    "cc": "cc:bob",
    "subject": 'subject:patch or subject:"foo bar"',
    "filename": "filename:report.pdf",
    "list": "list:linux-mips",
    "mid": "mid:<1234@example.org>",
    "has": "has:attachment",
    "date": "date:2024-08",
}


class QueryError(ValueError):
    """A malformed query; ``str(error)`` is a sentence to show the user."""


@dataclass(frozen=True)
class Word:
    """One word; ``prefix`` matches words starting with it; ``field`` None is the full text."""

    text: str
    prefix: bool = False
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    """Words that must appear next to each other, in this order."""

    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class ListIs:
    name: str


@dataclass(frozen=True)
class MessageId:
    value: str  # without angle brackets


@dataclass(frozen=True)
class HasAttachment:
    pass


@dataclass(frozen=True)
class DateRange:
    """UTC unix seconds; start inclusive, end exclusive, None for an open end."""

    start: int | None
    end: int | None


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node: TypeAlias = Word | Phrase | ListIs | MessageId | HasAttachment | DateRange | And | Or | Not


# --- folding -------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lowercase (casefold) and strip accents from Latin and Greek letters.

    Compatibility forms are unified (NFKD: ``ﬁ`` → ``fi``, full-width → ASCII).  Combining marks
    on letters of other scripts are kept, so Cyrillic ``й``, Japanese ``が`` or Devanagari stay
    intact.  The result is NFC.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    kept: list[str] = []
    on_latin = False
    for char in decomposed:
        if not unicodedata.combining(char):
            on_latin = _has_strippable_accents(char)
        elif on_latin:
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _has_strippable_accents(char: str) -> bool:
    """Latin (incl. ASCII) and Greek letters, whose accents search ignores."""
    code = ord(char)
    return (
        code < 0x250  # Basic Latin, Latin-1, Latin Extended-A/B
        or 0x370 <= code < 0x400  # Greek
        or 0x1E00 <= code < 0x2000  # Latin Extended Additional, Greek Extended
        or 0x2C60 <= code < 0x2C80  # Latin Extended-C
        or 0xA720 <= code < 0xA800  # Latin Extended-D
        or 0xAB30 <= code < 0xAB70  # Latin Extended-E
    )


# --- words ---------------------------------------------------------------------------------------


def _starts_word(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def _in_word(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def _scan_words(text: str) -> list[tuple[str, bool]]:
    """Split text into (word, followed-by-star) pairs; everything else separates words."""
    words: list[tuple[str, bool]] = []
    i, size = 0, len(text)
    while i < size:
        if not _starts_word(text[i]):
            i += 1
            continue
        end = _word_end(text, i)
        star = end < size and text[end] == "*"
        words.append((unicodedata.normalize("NFC", text[i:end]), star))
        i = end + 1 if star else end
    return words


def _word_end(text: str, start: int) -> int:
    """End of the word starting at start: letters and connectors, ending on a letter."""
    end = j = start + 1
    while j < len(text) and (_in_word(text[j]) or text[j] in _CONNECTORS):
        j += 1
        if _in_word(text[j - 1]):
            end = j
    return end


# --- lexer ---------------------------------------------------------------------------------------

_Kind = Literal["term", "(", ")", "AND", "OR", "NOT", "-"]
_KEYWORDS: dict[str, _Kind] = {"AND": "AND", "OR": "OR", "NOT": "NOT"}


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    node: Node | None = None


class _Lexer:
    """Turns query text into tokens, checking quotes, brackets, depth and term count."""

    def __init__(self, text: str, max_terms: int) -> None:
        self.text = text
        self.pos = 0
        self.max_terms = max_terms
        self.terms = 0
        self.open: list[int] = []
        self.tokens: list[_Token] = []

    def run(self) -> list[_Token]:
        while self.pos < len(self.text):
            self._step(self.text[self.pos])
        if self.open:
            start = self.open[-1]
            raise QueryError(
                f'Unbalanced brackets: add a closing ")" after {_show(self.text[start:])}.'
            )
        return self.tokens

    def _step(self, char: str) -> None:
        if char.isspace():
            self.pos += 1
        elif char == "(":
            self._open_bracket()
        elif char == ")":
            self._close_bracket()
        elif char == '"':
            self._add_words(self._quoted(), None, quoted=True)
        elif char == "-":
            self._dash()
        else:
            self._chunk()

    def _open_bracket(self) -> None:
        if len(self.open) >= MAX_DEPTH:
            raise QueryError(f"Brackets nested too deeply: use at most {MAX_DEPTH} levels of ( ).")
        self.open.append(self.pos)
        self.tokens.append(_Token("("))
        self.pos += 1

    def _close_bracket(self) -> None:
        if not self.open:
            before = self.text[max(0, self.pos - 40) : self.pos + 1]
            raise QueryError(
                f'Unbalanced brackets: the ")" at the end of {_show(before)} has no matching "(";'
                ' remove it or add a "(" before it.'
            )
        self.open.pop()
        self.tokens.append(_Token(")"))
        self.pos += 1

    def _quoted(self) -> str:
        """The text between the quote at pos and the next one; pos moves past both."""
        close = self.text.find('"', self.pos + 1)
        if close < 0:
            snippet = self.text[self.pos :].rstrip()
            raise QueryError(
                f'Unbalanced quote: add a closing " after {_show(snippet, 60, quote="")}'
            )
        content = self.text[self.pos + 1 : close]
        self.pos = close + 1
        return content

    def _dash(self) -> None:
        """A leading - (or --) negates what follows it directly; a lone one is ignored."""
        end = self.pos
        while end < len(self.text) and self.text[end] == "-":
            end += 1
        if end < len(self.text) and not self.text[end].isspace() and self.text[end] != ")":
            self.tokens.append(_Token("-"))
        self.pos = end

    def _chunk(self) -> None:
        match = _CHUNK.match(self.text, self.pos)
        assert match is not None  # _step only calls this on a chunk character
        chunk = match.group()
        self.pos = match.end()
        if chunk in _KEYWORDS:
            self.tokens.append(_Token(_KEYWORDS[chunk]))
            return
        name, colon, value = chunk.partition(":")
        if colon and name.lower() in _FIELDS:
            self._field(name.lower(), value)
        else:
            self._add_words(chunk, None, quoted=False)

    def _field(self, name: str, value: str) -> None:
        quoted = not value and self.text.startswith('"', self.pos)
        if quoted:
            value = self._quoted()
        if not value.strip():
            raise _missing_value(name)
        if name in TEXT_FIELDS:
            self._add_words(value, name, quoted=quoted)
        else:
            self._add_term(_special_field(name, value), 1)

    def _add_words(self, text: str, field: str | None, *, quoted: bool) -> None:
        words = _scan_words(text)
        if not words:
            if field is not None:
                raise _missing_value(field)
            return
        if len(words) > 1:
            self._add_term(Phrase(tuple(word for word, _ in words), field), len(words))
            return
        word, star = words[0]
        prefix = star and not quoted
        if prefix and len(word) < 2:
            raise QueryError(
                f"Prefix {_show(word + '*')} is too short: put at least 2 characters before the *."
            )
        self._add_term(Word(word, prefix, field), 1)

    def _add_term(self, node: Node, weight: int) -> None:
        self.terms += weight
        if self.terms > self.max_terms:
            raise QueryError(
                f"Too many search terms: use at most {self.max_terms} words and filters."
            )
        self.tokens.append(_Token("term", node))


def _missing_value(name: str) -> QueryError:
    return QueryError(f'Nothing to search for after "{name}:": write e.g. {_EXAMPLES[name]}.')


def _show(text: str, limit: int = 40, *, quote: str = '"') -> str:
    """User text for an error message: quoted, shortened, without control characters."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return quote + "".join(char if char.isprintable() else "?" for char in text) + quote


# --- list:, mid:, has:, date: --------------------------------------------------------------------


def _special_field(name: str, value: str) -> Node:
    if name == "list":
        return _list_name(value)
    if name == "mid":
        return _message_id(value)
    if name == "has":
        return _has(value)
    return _date_range(value)


def _list_name(value: str) -> ListIs:
    name = unicodedata.normalize("NFC", _strip_angles(value))
    if _scan_words(name) != [(name, False)]:
        raise QueryError(
            f"Invalid list name {_show(value)}: write the list's short name, "
            f"e.g. {_EXAMPLES['list']}."
        )
    return ListIs(name)


def _message_id(value: str) -> MessageId:
    mid = _strip_angles(value)
    if not mid or any(unicodedata.category(char) == "Cc" for char in mid):
        raise QueryError(
            f"Invalid Message-ID {_show(value)}: write it as in the mail header, "
            f"e.g. {_EXAMPLES['mid']}."
        )
    return MessageId(mid)


def _strip_angles(value: str) -> str:
    value = value.strip()
    value = value[1:] if value.startswith("<") else value
    value = value[:-1] if value.endswith(">") else value
    return value.strip()


def _has(value: str) -> HasAttachment:
    if value.strip().lower() not in ("attachment", "attachments"):
        raise QueryError(f"Unknown has: value {_show(value)}: the only one is has:attachment.")
    return HasAttachment()


def _date_range(value: str) -> DateRange:
    parts = [part.strip() for part in value.strip().split("..")]
    if len(parts) == 1:
        return DateRange(*_period(parts[0]))
    if len(parts) != 2:
        raise QueryError(f"Invalid date {_show(value)}: {_DATE_FORMS}.")
    low, high = parts
    if not low and not high:
        raise QueryError(
            f"Invalid date range {_show(value)}: give a start, an end or both, "
            "e.g. date:2024-08-01.. or date:..2024-08-31."
        )
    start = _period(low)[0] if low else None
    end = _period(high)[1] if high else None
    if start is not None and end is not None and start >= end:
        raise QueryError(
            f"Invalid date range {_show(value)}: the start is after the end; "
            "put the earlier date first."
        )
    return DateRange(start, end)


def _period(text: str) -> tuple[int, int]:
    """Start and (exclusive) end, in UTC unix seconds, of a year, month or day."""
    match = _DATE.fullmatch(text)
    if match is None:
        raise QueryError(f"Invalid date {_show(text)}: {_DATE_FORMS}.")
    year, month, day = match.groups()
    try:
        first = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise QueryError(
            f"Invalid date {_show(text)}: there is no such date in the calendar; {_DATE_FORMS}."
        ) from None
    if day:
        days = 1
    elif month:
        days = calendar.monthrange(first.year, first.month)[1]
    else:
        days = 366 if calendar.isleap(first.year) else 365
    start = (first.toordinal() - _EPOCH) * _DAY
    return start, start + days * _DAY


# --- parser --------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over tokens; recursion only per bracket level, which is bounded."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def parse(self) -> Node:
        node = self._or()
        if self.i != len(self.tokens):  # unreachable: the lexer balanced the brackets
            raise QueryError('Unbalanced brackets: remove the extra ")".')
        return node

    def _kind(self) -> _Kind | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def _or(self) -> Node:
        items = [self._and()]
        while self._kind() == "OR":
            self.i += 1
            items.append(self._and())
        return _join(Or, items)

    def _and(self) -> Node:
        items = [self._unary()]
        while (kind := self._kind()) in ("AND", "term", "(", "NOT", "-"):
            if kind == "AND":
                self.i += 1
            items.append(self._unary())
        return _join(And, items)

    def _unary(self) -> Node:
        negations = 0
        while self._kind() in ("NOT", "-"):
            negations += 1
            self.i += 1
        node = self._primary()
        if negations % 2 == 0:
            return node
        return node.item if isinstance(node, Not) else Not(node)

    def _primary(self) -> Node:
        token = self.tokens[self.i] if self.i < len(self.tokens) else None
        if token is not None and token.node is not None:
            self.i += 1
            return token.node
        if token is None or token.kind != "(":
            raise self._missing_term()
        self.i += 1
        node = self._or()
        self.i += 1  # the ")": _or stops only there, as brackets are balanced
        return node

    def _missing_term(self) -> QueryError:
        before = self.tokens[self.i - 1].kind if self.i else None
        here = self._kind()
        if before in ("AND", "OR"):
            return _operator_error(str(before))
        if before in ("NOT", "-"):
            example = "NOT windows" if before == "NOT" else "-windows"
            return QueryError(
                f'Nothing to exclude after "{before}": put a word right after it, '
                f'e.g. "linux {example}".'
            )
        if before == "(":
            return QueryError('Empty brackets: put search terms inside "( )" or remove them.')
        if here in ("AND", "OR"):
            return _operator_error(str(here))
        return QueryError(
            "No words to search for: the query has only punctuation; type some letters or digits."
        )


def _operator_error(operator: str) -> QueryError:
    return QueryError(
        f'"{operator}" needs a search term on each side, e.g. "linux {operator} bsd".'
    )


def _join(kind: type[And] | type[Or], items: list[Node]) -> Node:
    """And/Or of items, flattening nested nodes of the same kind; one item stays itself."""
    flat: list[Node] = []
    for item in items:
        if isinstance(item, kind):
            flat.extend(item.items)
        else:
            flat.append(item)
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


# --- positivity ----------------------------------------------------------------------------------


def _is_positive(node: Node) -> bool:
    """Whether node matches something by itself rather than only excluding."""
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(_is_positive(item) for item in node.items)
    if isinstance(node, Or):
        return all(_is_positive(item) for item in node.items)
    return True


def _check_positive(root: Node) -> None:
    """Every group must search for something: a backend never has to list 'all but X'."""
    if isinstance(root, (Not, And)) and not _is_positive(root):
        raise QueryError(
            "Only excluded terms: add at least one word to search for, "
            'e.g. "patch -RFC" rather than "-RFC".'
        )
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, Not):
            pending.append(node.item)
        elif isinstance(node, (And, Or)):
            _check_group(node)
            pending.extend(node.items)


def _check_group(node: And | Or) -> None:
    if isinstance(node, And) and not _is_positive(node):
        raise QueryError(
            f"The group {_show('(' + describe(node) + ')')} only excludes terms: "
            "add a word to search for inside it."
        )
    for item in node.items if isinstance(node, Or) else ():
        if not _is_positive(item):
            raise QueryError(
                f"Each side of OR needs a word to search for, but {_show(describe(item))} "
                'only excludes: add one, e.g. "linux OR (bsd -windows)".'
            )


# --- public functions ----------------------------------------------------------------------------


def parse_query(text: str, *, max_terms: int = 64, max_length: int = 2000) -> Node:
    """Parse query text into a tree, or raise QueryError with a message for the user."""
    if len(text) > max_length:
        raise QueryError(
            f"Query too long: it has {len(text)} characters, the limit is {max_length}; shorten it."
        )
    if not text.strip():
        raise QueryError("Empty query: type some words to search for.")
    tokens = _Lexer(text, max_terms).run()
    root = _Parser(tokens).parse()
    _check_positive(root)
    return root


def describe(node: Node) -> str:
    """The canonical query text of a tree; parse_query(describe(t)) == t for parsed trees."""
    if isinstance(node, And):
        return " ".join(_bracket_if(item, (And, Or)) for item in node.items)
    if isinstance(node, Or):
        return " OR ".join(_bracket_if(item, (Or,)) for item in node.items)
    if isinstance(node, Not):
        return "-" + _bracket_if(node.item, (And, Or, Not))
    return _describe_term(node)


def _bracket_if(node: Node, kinds: tuple[type[Node], ...]) -> str:
    text = describe(node)
    return f"({text})" if isinstance(node, kinds) else text


def _describe_term(node: Word | Phrase | ListIs | MessageId | HasAttachment | DateRange) -> str:
    if isinstance(node, Word):
        field = f"{node.field}:" if node.field else ""
        quote = '"' if not field and not node.prefix and node.text in _KEYWORDS else ""
        return f"{field}{quote}{node.text}{quote}{'*' if node.prefix else ''}"
    if isinstance(node, Phrase):
        field = f"{node.field}:" if node.field else ""
        return f'{field}"{" ".join(node.words)}"'
    if isinstance(node, ListIs):
        return f"list:{node.name}"
    if isinstance(node, MessageId):
        bare = not any(char.isspace() or char in '()"' for char in node.value)
        return f"mid:<{node.value}>" if bare else f'mid:"<{node.value}>"'
    if isinstance(node, HasAttachment):
        return "has:attachment"
    return _describe_dates(node)


def _describe_dates(node: DateRange) -> str:
    start, end = node.start, node.end
    if start is not None and end is not None and start % _DAY == 0 and end - start == _DAY:
        return f"date:{_day(start)}"
    low = "" if start is None else _day(start)
    high = "" if end is None else _day(end - 1)
    return f"date:{low}..{high}"


def _day(seconds: int) -> str:
    ordinal = min(max(seconds // _DAY + _EPOCH, 1), date.max.toordinal())
    return date.fromordinal(ordinal).isoformat()

"""Threading, after Jamie Zawinski's algorithm: pure functions over plain records, no recursion.

Thread *membership* is decided incrementally by the store (see `store.Store.assign_thread`), using
`thread_keys` below; the *tree* inside one thread is rebuilt here from its members on demand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_REPLY = re.compile(
    r"^\s*((re|aw|sv|antw|vs|ref|odp|réf|fw|fwd|wg|tr)(\[\d+\]|\(\d+\))?\s*[:：]\s*)+", re.I
)
_BRACKET = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")


def strip_prefix(subject: str, prefix: str | None) -> str:
    """The subject without the list's tag (e.g. "[Salon]"), wherever it follows Re:/Fwd: markers."""
    if not prefix:
        return subject.strip()
    lead = _REPLY.match(subject)
    head = subject[: lead.end()] if lead else ""
    rest = subject[len(head):].lstrip()
    while rest.lower().startswith(prefix.lower()):
        rest = rest[len(prefix):].lstrip()
        again = _REPLY.match(rest)
        if again:
            rest = rest[again.end():]
    if rest == subject[len(head):].lstrip():
        return subject.strip()
    return (head + rest).strip() if head else rest.strip()


def is_reply(subject: str) -> bool:
    return _REPLY.match(subject) is not None


def normalize_subject(subject: str) -> str:
    """The subject as threading compares it: no Re:/Fwd: markers, case and spaces folded."""
    text = subject
    while True:
        before = text
        text = _REPLY.sub("", text)
        if before == text:
            break
    return " ".join(text.split()).lower()


def thread_keys(message_id: str, references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """Every Message-ID that ties a message to its thread: its own, References, In-Reply-To."""
    keys = dict.fromkeys([*references, *([in_reply_to] if in_reply_to else []), message_id])
    return list(keys)


def parent_id(references: Sequence[str], in_reply_to: str | None) -> str | None:
    """The id a message replies to: the last reference, else In-Reply-To (JWZ step 1)."""
    if references:
        return references[-1]
    return in_reply_to


@dataclass
class Node:
    """One message (or a missing one, num None) in a thread tree."""

    message_id: str
    num: int | None = None
    date: int = 0
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class Member:
    """What the tree needs to know of one message."""

    num: int
    message_id: str
    references: tuple[str, ...]
    in_reply_to: str | None
    date: int


@dataclass(frozen=True)
class Placed:
    """A message's place in a thread's display order."""

    num: int
    depth: int
    parent: int | None


def build_tree(members: Iterable[Member]) -> list[Node]:
    """The thread forest (roots by date), with missing messages pruned away."""
    table: dict[str, Node] = {}
    for member in sorted(members, key=lambda m: (m.date, m.num)):
        node = table.get(member.message_id)
        if node is None or node.num is not None:  # duplicate ids: the later copy stands alone
            node = Node(member.message_id if node is None else f"{member.message_id}#{member.num}")
            table[node.message_id] = node
        node.num, node.date = member.num, member.date
        _link_chain(table, node, member.references or ([member.in_reply_to] if member.in_reply_to
                                                       else []))
    roots = [n for n in table.values() if n.parent is None]
    return _prune(roots)


def _container(table: dict[str, Node], message_id: str) -> Node:
    node = table.get(message_id)
    if node is None:
        node = table[message_id] = Node(message_id)
    return node


def _link_chain(table: dict[str, Node], node: Node, chain: Sequence[str]) -> None:
    previous: Node | None = None
    for ref in chain:
        current = _container(table, ref)
        if previous is not None and current.parent is None and not _reaches(previous, current):
            _adopt(previous, current)
        previous = current
    if previous is not None and previous is not node and not _reaches(previous, node):
        if node.parent is not None:
            node.parent.children.remove(node)
            node.parent = None
        _adopt(previous, node)


def _reaches(ancestor: Node, node: Node) -> bool:
    """Whether `node` is `ancestor` or above it (linking would make a loop)."""
    current: Node | None = ancestor
    while current is not None:
        if current is node:
            return True
        current = current.parent
    return False


def _adopt(parent: Node, child: Node) -> None:
    child.parent = parent
    parent.children.append(child)


def _prune(roots: list[Node]) -> list[Node]:
    """Drop containers of missing messages, promoting their children (JWZ step 4)."""
    result: list[Node] = []
    pending: list[tuple[Node | None, Node]] = [(None, r) for r in roots]
    while pending:
        parent, node = pending.pop()
        kids = list(node.children)
        if node.num is None:
            for kid in kids:
                kid.parent = parent
            if parent is not None:
                parent.children.remove(node)
                parent.children.extend(kids)
            pending.extend((parent, k) for k in kids)
            continue
        if parent is None:
            result.append(node)
        pending.extend((node, k) for k in kids)
    for node in _walk(result):
        node.children.sort(key=lambda n: (n.date, n.num or 0))
    result.sort(key=lambda n: (n.date, n.num or 0))
    return result


def _walk(roots: list[Node]) -> list[Node]:
    out: list[Node] = []
    stack = list(roots)
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def flatten(roots: list[Node]) -> list[Placed]:
    """Depth-first display order of a forest: each message with its depth and parent."""
    out: list[Placed] = []
    stack: list[tuple[Node, int]] = [(r, 0) for r in reversed(roots)]
    while stack:
        node, depth = stack.pop()
        parent = node.parent.num if node.parent is not None else None
        out.append(Placed(node.num or 0, depth, parent))
        stack.extend((c, depth + 1) for c in reversed(node.children))
    return out


def order(members: Iterable[Member]) -> list[Placed]:
    """A thread's messages in display order (tree, then date)."""
    return flatten(build_tree(members))

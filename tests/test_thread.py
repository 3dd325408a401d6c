"""Threading: subject handling and the JWZ tree, pure."""

from __future__ import annotations

import random

from mailarchive.thread import Member, normalize_subject, order, strip_prefix


def test_strip_prefix_keeps_reply_marker() -> None:
    assert strip_prefix("[Salon] Books", "[Salon]") == "Books"
    assert strip_prefix("Re: [Salon] Books", "[Salon]") == "Re: Books"
    assert strip_prefix("RE: [salon] Re: [Salon] Books", "[Salon]") == "RE: Books"
    assert strip_prefix("[Other] Books", "[Salon]") == "[Other] Books"
    assert strip_prefix("Books", None) == "Books"


def test_normalize_subject() -> None:
    assert normalize_subject("Re: AW: Fwd:  Hello   World") == "hello world"
    assert normalize_subject("Re[2]: Hello") == "hello"


def m(num: int, mid: str, refs: tuple[str, ...] = (), irt: str | None = None,
      date: int | None = None) -> Member:
    return Member(num, mid, refs, irt, num * 10 if date is None else date)


def shape(members: list[Member]) -> list[tuple[int, int, int | None]]:
    return [(p.num, p.depth, p.parent) for p in order(members)]


def test_tree_in_any_arrival_order() -> None:
    members = [m(1, "a"), m(2, "b", ("a",)), m(3, "c", ("a", "b")), m(4, "d", ("a",)),
               m(5, "e", (), "c")]
    expected = [(1, 0, None), (2, 1, 1), (3, 2, 2), (5, 3, 3), (4, 1, 1)]
    for seed in range(20):
        shuffled = members[:]
        random.Random(seed).shuffle(shuffled)
        assert shape(shuffled) == expected


def test_missing_parent_is_pruned_and_children_promoted() -> None:
    members = [m(2, "b", ("ghost",)), m(3, "c", ("ghost",))]
    assert shape(members) == [(2, 0, None), (3, 0, None)]
    members = [m(1, "a"), m(2, "b", ("a", "ghost")), m(3, "c", ("a", "ghost"))]
    assert shape(members) == [(1, 0, None), (2, 1, 1), (3, 1, 1)]


def test_reference_loops_do_not_hang_or_drop() -> None:
    members = [m(1, "a", ("b",)), m(2, "b", ("a",)), m(3, "c", ("c",))]
    placed = shape(members)
    assert sorted(p[0] for p in placed) == [1, 2, 3]


def test_duplicate_message_ids_keep_both() -> None:
    members = [m(1, "a"), m(2, "a"), m(3, "b", ("a",))]
    assert sorted(p[0] for p in shape(members)) == [1, 2, 3]


def test_deep_chain_is_not_recursive() -> None:
    ids = [f"m{i}" for i in range(5000)]
    members = [m(i + 1, ids[i], tuple(ids[max(0, i - 20):i])) for i in range(5000)]
    placed = order(members)
    assert placed[-1].depth == 4999

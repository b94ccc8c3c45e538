"""The eight strategies choose the member ``app_queue`` would ring, given the same members and history.

Each row gives members (in order added), which of them can be rung now, the remembered round-robin
position, and the choice derived by hand from ``app_queue``'s rules (``calc_metric``, ``find_best``,
``store_next_rr``). Every row is checked against both the literal model (``reference_choice``) and
the indexed form routing uses (``MemberIndex``).

Interfaces used for ties: ``app_queue`` files members in 37 hash buckets by interface. For
``PJSIP/100x`` the hash covers ``/100x``: 15 + 17<<6 + 16<<12 + 16<<18 + c<<24 where c is 17, 18,
19, 20 for x = 1..4; modulo 37 that is bucket 8, 18, 28 and 1. So iteration order is 1004, 1001,
1002, 1003, and on a tie the member iterated *last* (1003) wins, because ``try_calling`` prepends
each attempt to its list and ``find_best`` keeps the first strictly lower metric.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stasis_app.acd.strategies import (
    MemberFacts,
    RandomSource,
    Strategy,
    build_index,
    iteration_key,
    member_bucket,
    parse_strategy,
    reference_choice,
    reference_ranking,
)

NOW = 10_000


def member(
    name: str, interface: str, *, penalty: int = 0, calls: int = 0, lastcall: int = 0, added: int
) -> MemberFacts:
    return MemberFacts(name, interface, penalty, calls, lastcall, added)


def four(**overrides: dict[str, int]) -> list[MemberFacts]:
    """Members a..d on PJSIP/1001..1004, added in that order; ``overrides`` per name."""
    out = []
    for index, name in enumerate("abcd"):
        extra = overrides.get(name, {})
        out.append(member(name, f"PJSIP/100{index + 1}", added=index + 1, **extra))
    return out


@dataclass(frozen=True)
class Row:
    why: str
    strategy: Strategy
    members: list[MemberFacts]
    free: str
    expected: str
    cursor: int = 0
    next_cursor: int | None = None
    penaltymemberslimit: int = 0


ROWS = [
    # ringall ------------------------------------------------------------------------------------
    Row("ringall: everybody free rings at once", Strategy.RINGALL, four(), "abcd", "abcd"),
    Row(
        "ringall: penalty tiers; only the free members of the lowest tier ring",
        Strategy.RINGALL,
        four(a={"penalty": 1}, b={"penalty": 0}, c={"penalty": 0}, d={"penalty": 2}),
        "abcd",
        "bc",
    ),
    Row(
        "ringall: tier 0 all busy -> the tier-1 members ring",
        Strategy.RINGALL,
        four(a={"penalty": 1}, b={"penalty": 0}, c={"penalty": 1}, d={"penalty": 0}),
        "ac",
        "ac",
    ),
    Row(
        "ringall: 4 members <= penaltymemberslimit 4 -> penalties disregarded, all ring",
        Strategy.RINGALL,
        four(a={"penalty": 1}, b={"penalty": 3}),
        "abcd",
        "abcd",
        penaltymemberslimit=4,
    ),
    # leastrecent ----------------------------------------------------------------------------------
    Row(
        "leastrecent: metric 1000000-(now-lastcall); oldest last call (c, 9000) is lowest",
        Strategy.LEASTRECENT,
        four(a={"lastcall": 9990}, b={"lastcall": 9500}, c={"lastcall": 9000}, d={"lastcall": 9800}),
        "abcd",
        "c",
    ),
    Row(
        "leastrecent: never called scores 0, below any called member",
        Strategy.LEASTRECENT,
        four(a={"lastcall": 1}, b={"lastcall": 2}, c={"lastcall": 3}),
        "abcd",
        "d",
    ),
    Row(
        "leastrecent: nobody called yet -> all 0 -> tie goes to the last iterated (c, bucket 28)",
        Strategy.LEASTRECENT,
        four(),
        "abcd",
        "c",
    ),
    Row(
        "leastrecent: tie among a, b (never called) with c busy -> b (bucket 18) after a (8)",
        Strategy.LEASTRECENT,
        four(d={"lastcall": 5}),
        "abd",
        "b",
    ),
    Row(
        "leastrecent: penalty 1 adds 1000000, so a recent penalty-0 member still wins",
        Strategy.LEASTRECENT,
        four(a={"penalty": 1, "lastcall": 100}, b={"lastcall": 9999}),
        "ab",
        "b",
    ),
    Row(
        "leastrecent: app_queue's arithmetic: idle 2000000 s gives 1000000-2000000 = -1000000, "
        "so with tier 1000000 that penalty-1 member scores 0, below b's 999999",
        Strategy.LEASTRECENT,
        [
            member("a", "PJSIP/1001", penalty=1, lastcall=NOW - 2_000_000 + 1_000_000, added=1),
            member("b", "PJSIP/1002", lastcall=NOW - 1, added=2),
        ],
        "ab",
        "b",
    ),
    # fewestcalls -----------------------------------------------------------------------------------
    Row(
        "fewestcalls: fewest completed calls (b with 1)",
        Strategy.FEWESTCALLS,
        four(a={"calls": 3}, b={"calls": 1}, c={"calls": 2}, d={"calls": 5}),
        "abcd",
        "b",
    ),
    Row(
        "fewestcalls: all at 0 -> tie -> c (iterated last: buckets d=1, a=8, b=18, c=28)",
        Strategy.FEWESTCALLS,
        four(),
        "abcd",
        "c",
    ),
    Row(
        "fewestcalls: b and d tie on 1 call -> b (bucket 18) is iterated after d (bucket 1)",
        Strategy.FEWESTCALLS,
        four(a={"calls": 4}, b={"calls": 1}, c={"calls": 2}, d={"calls": 1}),
        "abcd",
        "b",
    ),
    Row(
        "fewestcalls: penalty tier beats call count (a has 0 calls but penalty 1)",
        Strategy.FEWESTCALLS,
        four(a={"penalty": 1}, b={"calls": 50}),
        "ab",
        "b",
    ),
    # rrmemory / rrordered -------------------------------------------------------------------------
    Row(
        "rrmemory: rrpos 1 -> b (metric 1); stored next: c (metric 2) -> rrpos 2",
        Strategy.RRMEMORY,
        four(),
        "abcd",
        "b",
        cursor=1,
        next_cursor=2,
    ),
    Row(
        "rrmemory: rrpos 1 but b busy -> c (metric 2); next after c is d -> rrpos 3",
        Strategy.RRMEMORY,
        four(),
        "acd",
        "c",
        cursor=1,
        next_cursor=3,
    ),
    Row(
        "rrmemory: rrpos 3, d busy -> a (1000+0) wraps; next after a is b (1001) -> rrpos 1",
        Strategy.RRMEMORY,
        four(),
        "abc",
        "a",
        cursor=3,
        next_cursor=1,
    ),
    Row(
        "rrmemory: rrpos 3 -> d (metric 3); next is a (1000) -> rrpos 0",
        Strategy.RRMEMORY,
        four(),
        "abcd",
        "d",
        cursor=3,
        next_cursor=0,
    ),
    Row(
        "rrmemory: rrpos 7 past the end: everybody 1000+pos, nobody after 7 (not wrapped) -> a; next b -> 1",
        Strategy.RRMEMORY,
        four(),
        "abcd",
        "a",
        cursor=7,
        next_cursor=1,
    ),
    Row(
        "rrmemory: penalty tier first: a has penalty 1 -> b (metric 1); next c (2) -> rrpos 2",
        Strategy.RRMEMORY,
        four(a={"penalty": 1}),
        "abcd",
        "b",
        cursor=0,
        next_cursor=2,
    ),
    Row(
        "rrmemory: tier 0 (b, c, d) busy -> a (tier 1, metric 1000000); nobody after it; some "
        "member stands after rrpos 0 (wrapped) -> rrpos 0",
        Strategy.RRMEMORY,
        four(a={"penalty": 1}),
        "a",
        "a",
        cursor=0,
        next_cursor=0,
    ),
    Row(
        "rrordered: same metric as rrmemory (member queuepos): rrpos 2 -> c; next d -> 3",
        Strategy.RRORDERED,
        four(),
        "abcd",
        "c",
        cursor=2,
        next_cursor=3,
    ),
    # linear --------------------------------------------------------------------------------------
    Row(
        "linear: a new caller's linpos is 0 -> the first member a; next b -> linpos 1",
        Strategy.LINEAR,
        four(),
        "abcd",
        "a",
        cursor=0,
        next_cursor=1,
    ),
    Row(
        "linear: caller's linpos 2 (rang a, b before) -> c",
        Strategy.LINEAR,
        four(),
        "abcd",
        "c",
        cursor=2,
        next_cursor=3,
    ),
]


def _free_pred(members: list[MemberFacts], free: str) -> set[str]:
    return {m.name for m in members if m.name in free}


@pytest.mark.parametrize("row", ROWS, ids=[row.why[:60] for row in ROWS])
def test_strategy_table(row: Row) -> None:
    free = _free_pred(row.members, row.free)
    chosen, next_cursor = reference_choice(
        row.strategy,
        row.members,
        lambda m: m.name in free,
        now=NOW,
        cursor=row.cursor,
        penaltymemberslimit=row.penaltymemberslimit,
    )
    assert "".join(sorted(m.name for m in chosen)) == row.expected, row.why
    index = build_index(row.strategy, row.members, penaltymemberslimit=row.penaltymemberslimit)
    for name in free:
        index.set_free(name, True)
    choice = index.choose(now=NOW, cursor=row.cursor)
    assert "".join(sorted(m.name for m in choice.members)) == row.expected, row.why
    if row.next_cursor is not None:
        assert next_cursor == row.next_cursor, row.why
        assert choice.next_cursor == row.next_cursor, row.why


def test_single_member_rrpos_keeps_counting_up() -> None:
    """One member: nobody after the one rung, nobody after rrpos -> rrpos + 1 each time."""
    only = [member("a", "PJSIP/1001", added=1)]
    cursor = 0
    for expected_next in (1, 2, 3):
        chosen, cursor = reference_choice(Strategy.RRMEMORY, only, lambda _m: True, now=NOW, cursor=cursor)
        assert [m.name for m in chosen] == ["a"]
        assert cursor == expected_next


def test_member_buckets_follow_member_hash_fn() -> None:
    # "/1001": 15 + 17*64 + 16*4096 + 16*262144 + 17*16777216 = 289473615 = 37*7823611 + 8
    assert member_bucket("PJSIP/1001") == 8
    assert member_bucket("SIP/1001") == 8  # only the part from the slash counts
    assert [member_bucket(f"PJSIP/100{x}") for x in range(1, 5)] == [8, 18, 28, 1]
    assert iteration_key(Strategy.LINEAR, "PJSIP/1003", 7) == (0, 7)  # list container: order added


def test_unknown_strategy_names_ring_all() -> None:
    assert parse_strategy("RRMemory") is Strategy.RRMEMORY
    assert parse_strategy("roundrobin") is Strategy.RRMEMORY
    assert parse_strategy("whatever") is Strategy.RINGALL
    assert parse_strategy(None) is Strategy.RINGALL


def test_removing_a_member_moves_followers_up() -> None:
    index = build_index(Strategy.RRMEMORY, four())
    for name in "abcd":
        index.set_free(name, True)
    assert index.remove("b") == 1
    assert [index.position(n) for n in "acd"] == [0, 1, 2]
    # rrpos 1 now points at c (position 1).
    assert [m.name for m in index.choose(now=NOW, cursor=1).members] == ["c"]


def test_attempt_continues_after_the_member_it_passed() -> None:
    """Within one attempt ``find_best`` never goes back: after b fails, c rings, then d, then a."""
    index = build_index(Strategy.RRMEMORY, four())
    for name in "abcd":
        index.set_free(name, True)
    first = index.choose(now=NOW, cursor=1)
    second = index.choose(now=NOW, cursor=1, after=first.after)
    third = index.choose(now=NOW, cursor=1, after=second.after)
    fourth = index.choose(now=NOW, cursor=1, after=third.after)
    fifth = index.choose(now=NOW, cursor=1, after=fourth.after)
    assert [c.members[0].name for c in (first, second, third, fourth)] == ["b", "c", "d", "a"]
    assert fifth.members == ()
    # Stored when the attempt ends after a rang: everybody was rung, and c, d stand after rrpos 1
    # (wrapped) -> rrpos 0. Had the attempt ended on c instead, d (metric 3) would be next.
    assert fourth.next_cursor == 0
    assert second.next_cursor == 3


def test_wrandom_has_no_tiers_but_weights_by_penalty() -> None:
    """Penalty 0 draws from 0..999, penalty 1 from 0..1999: P(penalty 0 wins) = 0.74975 + ties."""
    members = [member("p0", "PJSIP/1001", added=1), member("p1", "PJSIP/1002", penalty=1, added=2)]
    rng = RandomSource(random.Random(7))
    draws = 20_000
    reference_wins = sum(
        reference_choice(Strategy.WRANDOM, members, lambda _m: True, now=NOW, rng=rng)[0][0].name == "p0"
        for _ in range(draws)
    )
    index = build_index(Strategy.WRANDOM, members)
    index.set_free("p0", True)
    index.set_free("p1", True)
    index_wins = sum(index.choose(now=NOW, rng=rng).members[0].name == "p0" for _ in range(draws))
    for wins in (reference_wins, index_wins):
        assert abs(wins / draws - 0.75) < 0.015


def test_wrandom_three_way_weights() -> None:
    """Two penalty-0 members and one penalty-2 member (0..2999): each penalty-0 member wins about
    (1 - P(p2 wins)) / 2 with P(p2 wins) = sum over m of P(X2 = m) * P(both others > m)."""
    p2_wins = sum((1 / 3000) * ((999 - m) / 1000) ** 2 for m in range(1000))
    members = [
        member("a", "PJSIP/1001", added=1),
        member("b", "PJSIP/1002", added=2),
        member("z", "PJSIP/1003", penalty=2, added=3),
    ]
    index = build_index(Strategy.WRANDOM, members)
    for name in "abz":
        index.set_free(name, True)
    rng = RandomSource(random.Random(11))
    draws = 30_000
    counts = {"a": 0, "b": 0, "z": 0}
    for _ in range(draws):
        counts[index.choose(now=NOW, rng=rng).members[0].name] += 1
    assert abs(counts["z"] / draws - p2_wins) < 0.01
    assert abs(counts["a"] / draws - (1 - p2_wins) / 2) < 0.015


def test_random_stays_in_the_lowest_tier_and_is_even() -> None:
    members = four(d={"penalty": 1})
    index = build_index(Strategy.RANDOM, members)
    for name in "abcd":
        index.set_free(name, True)
    rng = RandomSource(random.Random(3))
    counts = {name: 0 for name in "abcd"}
    draws = 9_000
    for _ in range(draws):
        counts[index.choose(now=NOW, rng=rng).members[0].name] += 1
    assert counts["d"] == 0
    for name in "abc":
        assert abs(counts[name] / draws - 1 / 3) < 0.03
    # Same for the literal model: random() % 1000 + tier never picks the tier-1 member.
    ranking = reference_ranking(Strategy.RANDOM, members, now=NOW, rng=rng)
    assert ranking.members[-1].member.name == "d"


member_lists = st.lists(
    st.tuples(
        st.integers(1000, 1040),
        st.sampled_from([0, 0, 1, 2]),
        st.integers(0, 3),
        st.sampled_from([0, 9000, 9500, 9500, 9999]),
        st.booleans(),
    ),
    min_size=1,
    max_size=9,
    unique_by=lambda t: t[0],
)


@settings(max_examples=300, deadline=None)
@given(
    member_lists,
    st.sampled_from(
        [
            Strategy.RINGALL,
            Strategy.LEASTRECENT,
            Strategy.FEWESTCALLS,
            Strategy.RRMEMORY,
            Strategy.RRORDERED,
            Strategy.LINEAR,
        ]
    ),
    st.integers(0, 10),
    st.sampled_from([0, 0, 3, 20]),
)
def test_index_agrees_with_the_literal_model(
    rows: list[tuple[int, int, int, int, bool]], strategy: Strategy, cursor: int, limit: int
) -> None:
    members = [
        member(f"m{ext}", f"PJSIP/{ext}", penalty=p, calls=c, lastcall=last, added=i)
        for i, (ext, p, c, last, _free) in enumerate(rows)
    ]
    free = {f"m{ext}" for ext, *_rest, is_free in rows if is_free}
    chosen, next_cursor = reference_choice(
        strategy, members, lambda m: m.name in free, now=NOW, cursor=cursor, penaltymemberslimit=limit
    )
    index = build_index(strategy, members, penaltymemberslimit=limit)
    for name in free:
        index.set_free(name, True)
    choice = index.choose(now=NOW, cursor=cursor)
    assert sorted(m.name for m in choice.members) == sorted(m.name for m in chosen)
    if chosen and strategy.round_robin:
        assert choice.next_cursor == next_cursor

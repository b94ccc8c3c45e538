"""The eight distribution strategies, with Asterisk ``app_queue``'s choices, over plain data.

``app_queue`` gives every member of a queue a number (its *metric*, ``calc_metric``) and rings the
member with the lowest one that can be rung (``find_best``, ``ring_one``, ``can_ring_entry``). The
numbers are built so that a member's penalty is a tier: ``penalty * 1000000`` is added (unless the
queue has no more members than ``penaltymemberslimit``), so nobody of a higher penalty is rung while
a lower-penalty member can be. Within a tier:

* ``ringall``: everybody is equal; all ringable members of the best tier ring at once.
* ``leastrecent``: ``1000000 - (now - lastcall)``; never-called members score 0.
* ``fewestcalls``: the number of calls the member completed.
* ``random``: ``random() % 1000``.
* ``wrandom``: ``random() % ((1 + penalty) * 1000)``, with *no* penalty tier: a higher penalty only
  makes a member less likely.
* ``rrmemory`` / ``rrordered``: the member's position in the queue (order added, kept dense when a
  member leaves), counted from the queue's remembered position ``rrpos``; positions before it get
  ``1000 + position`` (they come after a wrap). ``rrpos`` is stored when the attempt ends
  (``store_next_rr``): the position of the best member not rung in that attempt, else 0 when some
  member stood after ``rrpos`` (``wrapped``), else ``rrpos + 1``.
* ``linear``: the same arithmetic over the member's index in the (insertion-ordered) member list,
  but the remembered position belongs to the *caller* (``linpos``, ``store_next_lin``): every new
  caller starts again from the first member.

Ties: ``try_calling`` builds its list of attempts by prepending, and ``find_best`` keeps the first
strictly lower metric, so of two equal metrics the member *later* in the container's iteration order
wins. For ``linear`` and ``rrordered`` the container is a list (order added); for the other
strategies it is a 37-bucket hash keyed on the interface (``member_hash_fn``), iterated bucket by
bucket, each bucket in order added. :func:`iteration_key` reproduces that order.

Two implementations live here. :func:`reference_ranking` is a literal model of the rules above over
a list of members (linear cost; used as the oracle in tests and for tiny queues). :class:`MemberIndex`
keeps the members of one campaign in sorted structures so that a choice costs a few ``O(log n)``
look-ups however many members the campaign has; it agrees with the reference for every
deterministic strategy, and draws from the same distribution for ``random`` and ``wrandom``.
"""

from __future__ import annotations

import bisect
import enum
import math
import random
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

#: Number of hash buckets of ``app_queue``'s member container.
MEMBER_BUCKETS = 37
#: Width of a penalty tier in ``calc_metric``.
TIER = 1_000_000
#: Offset given to round-robin positions before the remembered one.
WRAP = 1000
#: How much change history a member index keeps for attempts still running.
HISTORY_DEPTH = 8
HISTORY_SECONDS = 600.0


class Strategy(enum.Enum):
    RINGALL = "ringall"
    LEASTRECENT = "leastrecent"
    FEWESTCALLS = "fewestcalls"
    RANDOM = "random"
    RRMEMORY = "rrmemory"
    RRORDERED = "rrordered"
    LINEAR = "linear"
    WRANDOM = "wrandom"

    @property
    def ordered_container(self) -> bool:
        """Members kept in a list (iteration = order added) rather than the hash container."""
        return self in (Strategy.LINEAR, Strategy.RRORDERED)

    @property
    def round_robin(self) -> bool:
        return self in (Strategy.RRMEMORY, Strategy.RRORDERED, Strategy.LINEAR)


#: ``roundrobin`` is an old name ``app_queue`` still reads as ``rrmemory``.
_ALIASES = {"roundrobin": Strategy.RRMEMORY}


def parse_strategy(name: str | None) -> Strategy:
    """A ``strategy`` column value; unknown names ring all, as ``app_queue`` does (with a warning)."""
    text = (name or "").strip().lower()
    if text in _ALIASES:
        return _ALIASES[text]
    try:
        return Strategy(text)
    except ValueError:
        return Strategy.RINGALL


def member_bucket(interface: str) -> int:
    """The hash bucket ``app_queue`` files a member under (``member_hash_fn`` modulo 37).

    The hash covers the ``/`` and the next four characters of the interface (the whole string when
    it has no ``/``), six bits per character after squeezing the character into 0..63.
    """
    slash = interface.find("/")
    text = interface[slash:] if slash >= 0 else interface
    value = 0
    for index, char in enumerate(text[:5]):
        code = ord(char)
        squeezed = 0 if code < 32 else code - 64 if code > 96 else code - 32
        value += squeezed << (index * 6)
    return abs(value % MEMBER_BUCKETS)


def iteration_key(strategy: Strategy, interface: str, added: int) -> tuple[int, int]:
    """Where a member comes when ``app_queue`` walks the queue's members (``added``: order added)."""
    if strategy.ordered_container:
        return (0, added)
    return (member_bucket(interface), added)


@dataclass(frozen=True)
class MemberFacts:
    """What the strategies read about one member of one campaign."""

    name: str
    interface: str
    penalty: int = 0
    #: Calls completed (``calls``), for ``fewestcalls``.
    calls: int = 0
    #: When the member's last call ended, whole seconds (0: never), for ``leastrecent``.
    lastcall: int = 0
    #: Order added to the campaign (a counter; gaps allowed).
    added: int = 0


@dataclass
class RoundRobinCursor:
    """A remembered round-robin position (a campaign's ``rrpos`` or a caller's ``linpos``)."""

    position: int = 0
    #: How many member removals of the campaign's index this position has been adjusted for.
    removals_seen: int = 0

    def follow_removals(self, removed_positions: list[int]) -> None:
        """``queue_member_follower_removal``: a member removed before ``rrpos`` moves it back one,
        so that the member who would have been next is not skipped."""
        self.removals_seen = min(self.removals_seen, len(removed_positions))
        for position in removed_positions[self.removals_seen :]:
            if position < self.position:
                self.position -= 1
        self.removals_seen = len(removed_positions)


class RandomSource:
    """What the random strategies draw from; a seeded :class:`random.Random` fits."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.rng = rng or random.Random()

    def below(self, bound: int) -> int:
        return self.rng.randrange(bound)

    def unit(self) -> float:
        return self.rng.random()


# Reference model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    """One member with its metric, in ``find_best`` order."""

    member: MemberFacts
    metric: int


@dataclass(frozen=True)
class Ranking:
    """All members in the order ``find_best`` would try them, and the round-robin ``wrapped`` flag."""

    members: tuple[Ranked, ...]
    wrapped: bool


def uses_penalty(member_count: int, penaltymemberslimit: int) -> bool:
    """Penalties are ignored while the queue has no more members than ``penaltymemberslimit``."""
    return member_count > penaltymemberslimit


def reference_ranking(
    strategy: Strategy,
    members: Sequence[MemberFacts],
    *,
    now: int,
    cursor: int = 0,
    penaltymemberslimit: int = 0,
    rng: RandomSource | None = None,
) -> Ranking:
    """Metrics of every member, sorted as ``find_best`` takes them (ties: later in iteration first).

    ``members`` is in order added; ``cursor`` is ``rrpos`` (rr strategies) or ``linpos`` (linear).
    """
    added_order = sorted(members, key=lambda m: m.added)
    position = {m.name: index for index, m in enumerate(added_order)}
    walk = sorted(added_order, key=lambda m: iteration_key(strategy, m.interface, m.added))
    tier_on = uses_penalty(len(members), penaltymemberslimit)
    source = rng or RandomSource()
    wrapped = False
    scored: list[tuple[int, int, Ranked]] = []
    for walk_index, member in enumerate(walk):
        tier = member.penalty * TIER if tier_on else 0
        if strategy is Strategy.RINGALL:
            metric = tier
        elif strategy.round_robin:
            pos = position[member.name] if strategy is not Strategy.LINEAR else walk_index
            if pos < cursor:
                metric = WRAP + pos
            else:
                wrapped = wrapped or pos > cursor
                metric = pos
            metric += tier
        elif strategy is Strategy.RANDOM:
            metric = source.below(WRAP) + tier
        elif strategy is Strategy.WRANDOM:
            metric = source.below((1 + member.penalty) * WRAP)
        elif strategy is Strategy.FEWESTCALLS:
            metric = member.calls + tier
        else:  # LEASTRECENT
            metric = 0 if not member.lastcall else TIER - (now - member.lastcall)
            metric += tier
        scored.append((metric, -walk_index, Ranked(member, metric)))
    scored.sort(key=lambda item: (item[0], item[1]))
    return Ranking(tuple(item[2] for item in scored), wrapped)


def reference_choice(
    strategy: Strategy,
    members: Sequence[MemberFacts],
    ringable: Callable[[MemberFacts], bool],
    *,
    now: int,
    cursor: int = 0,
    penaltymemberslimit: int = 0,
    rng: RandomSource | None = None,
) -> tuple[list[MemberFacts], int]:
    """Who rings first (several for ``ringall``), and the cursor stored once that attempt ends.

    The stored cursor assumes the attempt ends with the chosen member(s) rung (answered or not).
    """
    ranking = reference_ranking(
        strategy, members, now=now, cursor=cursor, penaltymemberslimit=penaltymemberslimit, rng=rng
    )
    chosen: list[MemberFacts] = []
    remaining = list(ranking.members)
    while remaining and not chosen:
        best = remaining[0].metric
        if strategy is Strategy.RINGALL:
            tier = [r for r in remaining if r.metric <= best]
            chosen = [r.member for r in tier if ringable(r.member)]
            remaining = remaining[len(tier) :]
        else:
            head = remaining.pop(0)
            if ringable(head.member):
                chosen = [head.member]
    next_cursor = cursor
    if strategy.round_robin:
        next_cursor = remaining[0].metric % WRAP if remaining else 0 if ranking.wrapped else cursor + 1
    return chosen, next_cursor


# Indexed form -------------------------------------------------------------------------------------


@dataclass
class _Entry:
    facts: MemberFacts
    #: Dense position (0-based) in order added.
    position: int
    #: Position in ``app_queue``'s iteration order, as a sortable pair.
    walk: tuple[int, int]
    free: bool = False


class _SortedEntries:
    """Entries kept sorted by a key: a plain list with binary search (inserts move memory, which is
    cheap at contact-centre sizes and keeps random access by index)."""

    def __init__(self, key: Callable[[_Entry], tuple[int, ...]]) -> None:
        self._key = key
        self._items: list[_Entry] = []

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> _Entry:
        return self._items[index]

    def __iter__(self) -> Iterator[_Entry]:
        return iter(self._items)

    def clear(self) -> None:
        self._items.clear()

    def add(self, entry: _Entry) -> None:
        bisect.insort_right(self._items, entry, key=self._key)

    def remove(self, entry: _Entry) -> None:
        index = bisect.bisect_left(self._items, self._key(entry), key=self._key)
        while self._items[index] is not entry:
            index += 1
        del self._items[index]

    def bisect_key_left(self, key: tuple[int, ...]) -> int:
        return bisect.bisect_left(self._items, key, key=self._key)

    def bisect_key_right(self, key: tuple[int, ...]) -> int:
        return bisect.bisect_right(self._items, key, key=self._key)


@dataclass(frozen=True)
class Choice:
    """Members to ring now and the cursor to store when the attempt ends (round-robin only)."""

    members: tuple[MemberFacts, ...]
    next_cursor: int
    #: The metric-order key of the last member chosen, so a later pick in the same attempt
    #: continues after it (``find_best`` never goes back to a member it passed).
    after: tuple[int, ...] | None = None


class MemberIndex:
    """The members of one campaign, kept sorted for its strategy.

    ``free`` members are those that may be rung now (availability is decided by the caller of
    :meth:`set_free`); choices only look at them, plus a few order statistics over all members for
    the round-robin successor. Membership changes cost ``O(n)`` (positions shift); state changes and
    choices cost ``O(log n)``.
    """

    def __init__(self, strategy: Strategy, *, penaltymemberslimit: int = 0) -> None:
        self.strategy = strategy
        self.penaltymemberslimit = penaltymemberslimit
        self._entries: dict[str, _Entry] = {}
        self._order: list[str] = []
        self._tier_on = True
        self._free: _SortedEntries = _SortedEntries(self._free_key)
        #: leastrecent only: free members never called (metric 0, whatever the time).
        self._fresh: _SortedEntries = _SortedEntries(self._fresh_key)
        #: rr strategies: every member by (tier, position), for the successor.
        self._all: _SortedEntries = _SortedEntries(self._rr_key)
        self._max_position = -1
        #: Recent fact changes: per member (when, facts before), and all of them in time order.
        self._history: dict[str, list[tuple[float, MemberFacts]]] = {}
        self._recent: deque[tuple[float, str]] = deque()

    # Keys --------------------------------------------------------------------------------------

    def _tier(self, entry: _Entry) -> int:
        return entry.facts.penalty if self._tier_on else 0

    def _rr_key(self, entry: _Entry) -> tuple[int, int]:
        return (self._tier(entry), entry.position)

    def _fresh_key(self, entry: _Entry) -> tuple[int, int, int]:
        return (self._tier(entry) * TIER, -entry.walk[0], -entry.walk[1])

    def _free_key(self, entry: _Entry) -> tuple[int, ...]:
        walk = (-entry.walk[0], -entry.walk[1])
        strategy = self.strategy
        if strategy.round_robin:
            return self._rr_key(entry)
        if strategy is Strategy.FEWESTCALLS:
            return (self._tier(entry) * TIER + entry.facts.calls, *walk)
        if strategy is Strategy.LEASTRECENT:
            # 1000000 - (now - lastcall) + tier == (tier + 1000000 + lastcall) - now: same order
            # for every ``now``; never-called members sit in ``_fresh``.
            return (self._tier(entry) * TIER + TIER + entry.facts.lastcall, *walk)
        if strategy is Strategy.WRANDOM:
            return (entry.facts.penalty, *walk)
        return (self._tier(entry), *walk)

    def _fresh_member(self, entry: _Entry) -> bool:
        return self.strategy is Strategy.LEASTRECENT and not entry.facts.lastcall

    # Membership --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        """Members in order added."""
        return list(self._order)

    def facts(self, name: str) -> MemberFacts:
        return self._entries[name].facts

    def position(self, name: str) -> int:
        return self._entries[name].position

    def is_free(self, name: str) -> bool:
        entry = self._entries.get(name)
        return entry is not None and entry.free

    @property
    def free_count(self) -> int:
        return len(self._free) + len(self._fresh)

    def free_names(self) -> list[str]:
        return [e.facts.name for e in self._fresh] + [e.facts.name for e in self._free]

    def add(self, facts: MemberFacts) -> None:
        """A new member goes last (``member_add_to_queue``); an existing one keeps its place."""
        if facts.name in self._entries:
            self.update(facts)
            return
        entry = _Entry(
            facts,
            len(self._order),
            iteration_key(self.strategy, facts.interface, facts.added),
        )
        self._order.append(facts.name)
        self._entries[facts.name] = entry
        if self._tier_on != uses_penalty(len(self._entries), self.penaltymemberslimit):
            self._rebuild()
            return
        if self.strategy.round_robin:
            self._all.add(entry)
        self._max_position = len(self._order) - 1

    def remove(self, name: str) -> int | None:
        """Take a member out; followers move up one position. Answers the removed position."""
        entry = self._entries.pop(name, None)
        if entry is None:
            return None
        self._order.remove(name)
        self._history.pop(name, None)
        self._rebuild()
        return entry.position

    def _rebuild(self) -> None:
        free = {name for name, e in self._entries.items() if e.free}
        self._tier_on = uses_penalty(len(self._entries), self.penaltymemberslimit)
        self._free.clear()
        self._fresh.clear()
        self._all.clear()
        for index, name in enumerate(self._order):
            entry = self._entries[name]
            entry.position = index
            entry.free = False
            if self.strategy.round_robin:
                self._all.add(entry)
        self._max_position = len(self._order) - 1
        for name in free:
            self.set_free(name, True)

    def update(self, facts: MemberFacts, at: float = 0.0) -> None:
        """New penalty, call count or last call for a member (its place in the queue is kept).

        The facts it replaces are remembered for a while (``facts_at``), so an attempt that
        started before the change keeps ordering members as it found them.
        """
        entry = self._entries[facts.name]
        before = entry.facts
        was_free = entry.free
        if was_free:
            self.set_free(facts.name, False)
        if self.strategy.round_robin:
            self._all.remove(entry)
        entry.facts = MemberFacts(
            facts.name, facts.interface, facts.penalty, facts.calls, facts.lastcall, before.added
        )
        if self.strategy.round_robin:
            self._all.add(entry)
        if was_free:
            self.set_free(facts.name, True)
        if (before.penalty, before.calls, before.lastcall) != (facts.penalty, facts.calls, facts.lastcall):
            history = self._history.setdefault(facts.name, [])
            history.append((at, before))
            del history[:-HISTORY_DEPTH]
            self._recent.append((at, facts.name))
            while self._recent and self._recent[0][0] < at - HISTORY_SECONDS:
                self._recent.popleft()

    def set_free(self, name: str, free: bool) -> None:
        entry = self._entries.get(name)
        if entry is None or entry.free == free:
            return
        target = self._fresh if self._fresh_member(entry) else self._free
        if free:
            target.add(entry)
        else:
            target.remove(entry)
        entry.free = free

    # Choosing ----------------------------------------------------------------------------------

    def _rr_metric_key(self, entry: _Entry, cursor: int) -> tuple[int, int, int]:
        tier, position = self._rr_key(entry)
        return (tier, 0 if position >= cursor else 1, position)

    def _rr_first_free(
        self, cursor: int, accept: Callable[[MemberFacts], bool], after: tuple[int, ...] | None
    ) -> _Entry | None:
        """The free member with the lowest round-robin metric (walking tiers in order)."""
        free = self._free
        index = 0
        while index < len(free):
            tier = self._tier(free[index])
            tier_end = free.bisect_key_left((tier + 1, -1))
            # Positions >= cursor first, then the wrapped ones.
            start = free.bisect_key_left((tier, cursor))
            for lo, hi in ((start, tier_end), (index, start)):
                for probe in range(lo, hi):
                    entry = free[probe]
                    if after is not None and self._rr_metric_key(entry, cursor) <= after:
                        continue
                    if accept(entry.facts):
                        return entry
            index = tier_end
        return None

    def _rr_successor(self, chosen: _Entry, cursor: int) -> int:
        """``store_next_rr``: position of the best member after ``chosen`` in metric order."""
        everyone = self._all
        tier, position = self._rr_key(chosen)
        tiers_start = everyone.bisect_key_left((tier, -1))
        tier_end = everyone.bisect_key_left((tier + 1, -1))
        if position >= cursor:
            probe = everyone.bisect_key_right((tier, position))
            if probe < tier_end:
                return int(everyone[probe].position)
            if tiers_start < tier_end and everyone[tiers_start].position < cursor:
                return int(everyone[tiers_start].position)
        else:
            probe = everyone.bisect_key_right((tier, position))
            if probe < tier_end and everyone[probe].position < cursor:
                return int(everyone[probe].position)
        if tier_end < len(everyone):
            next_tier = self._tier(everyone[tier_end])
            next_end = everyone.bisect_key_left((next_tier + 1, -1))
            start = everyone.bisect_key_left((next_tier, cursor))
            return int(everyone[start if start < next_end else tier_end].position)
        wrapped = self._max_position > cursor
        return 0 if wrapped else cursor + 1

    def exhausted_cursor(self, cursor: int) -> int:
        """``store_next_rr`` once every member was tried: 0 if some member stands after
        ``cursor`` (``wrapped``), else ``cursor + 1``."""
        return 0 if self._max_position > cursor else cursor + 1

    def choose(
        self,
        *,
        now: int,
        cursor: int = 0,
        rng: RandomSource | None = None,
        accept: Callable[[MemberFacts], bool] | None = None,
        after: tuple[int, ...] | None = None,
        since: float | None = None,
    ) -> Choice:
        """The member(s) to ring among the free ones (``accept`` may still refuse some).

        ``after`` continues an attempt: only members after that metric key are considered (``find_best``
        never returns to a member it has passed in one attempt).
        """
        take = accept or (lambda _facts: True)
        strategy = self.strategy
        if strategy.round_robin:
            entry = self._rr_first_free(cursor, take, after)
            if entry is None:
                return Choice((), self.exhausted_cursor(cursor), after)
            return Choice(
                (entry.facts,), self._rr_successor(entry, cursor), self._rr_metric_key(entry, cursor)
            )
        if strategy is Strategy.RINGALL:
            return self._choose_ringall(take, after)
        if strategy is Strategy.RANDOM:
            return self._choose_random(rng or RandomSource(), take)
        if strategy is Strategy.WRANDOM:
            return self._choose_wrandom(rng or RandomSource(), take)
        return self._choose_ordered(now, take, after, since)

    def _choose_ringall(self, take: Callable[[MemberFacts], bool], after: tuple[int, ...] | None) -> Choice:
        """Every acceptable free member of the best tier; a continued attempt starts after ``after``."""
        free = self._free
        index = free.bisect_key_left((after[0] + 1,)) if after is not None else 0
        while index < len(free):
            tier = self._tier(free[index])
            tier_end = free.bisect_key_left((tier + 1,))
            chosen = tuple(free[i].facts for i in range(index, tier_end) if take(free[i].facts))
            if chosen:
                return Choice(chosen, 0, (tier,))
            index = tier_end
        return Choice((), 0, after)

    def metric_key(self, entry: _Entry, facts: MemberFacts, now: int) -> tuple[int, ...]:
        """``calc_metric`` for fewestcalls / leastrecent from ``facts``, with the tie-breaker."""
        tier = (facts.penalty if self._tier_on else 0) * TIER
        if self.strategy is Strategy.LEASTRECENT:
            value = tier if not facts.lastcall else tier + TIER - (now - facts.lastcall)
        else:
            value = tier + facts.calls
        return (value, -entry.walk[0], -entry.walk[1])

    def facts_at(self, name: str, moment: float) -> MemberFacts:
        """A member's facts as they were at ``moment`` (from the recent change history)."""
        for changed_at, before in self._history.get(name, ()):
            if changed_at > moment:
                return before
        return self._entries[name].facts

    def _choose_ordered(
        self,
        now: int,
        take: Callable[[MemberFacts], bool],
        after: tuple[int, ...] | None,
        since: float | None,
    ) -> Choice:
        """fewestcalls and leastrecent: the lowest metric, merging the never-called list in.

        A continued attempt (``after`` and ``since`` given) orders members by their metric at the
        attempt's start, as ``app_queue`` computed them once: members whose facts changed since
        are taken out of the sorted lists and ranked by their earlier facts.
        """
        changed: set[str] = set()
        if after is not None and since is not None:
            changed = {name for at, name in reversed(self._recent) if at > since}
        extras = sorted(
            (
                (self.metric_key(entry, self.facts_at(name, since or 0.0), now), entry)
                for name in changed
                if (entry := self._entries.get(name)) is not None and entry.free
            ),
            key=lambda item: item[0],
        )
        streams: list[list[tuple[tuple[int, ...], _Entry]] | _SortedEntries] = [
            self._free,
            self._fresh,
            extras,
        ]
        positions = [0, 0, 0]
        while True:
            best: tuple[tuple[int, ...], int] | None = None
            for stream_index, stream in enumerate(streams):
                while positions[stream_index] < len(stream):
                    item = stream[positions[stream_index]]
                    if isinstance(item, tuple):
                        key, candidate = item
                    else:
                        candidate = item
                        if candidate.facts.name in changed:
                            positions[stream_index] += 1
                            continue
                        key = self.metric_key(candidate, candidate.facts, now)
                    if after is not None and key <= after:
                        positions[stream_index] += 1
                        continue
                    if best is None or key < best[0]:
                        best = (key, stream_index)
                    break
            if best is None:
                return Choice((), 0, after)
            key, stream_index = best
            item = streams[stream_index][positions[stream_index]]
            entry = item[1] if isinstance(item, tuple) else item
            positions[stream_index] += 1
            if take(entry.facts):
                return Choice((entry.facts,), 0, key)

    def _choose_random(self, rng: RandomSource, take: Callable[[MemberFacts], bool]) -> Choice:
        """Uniform over the best free tier (metric ``random() % 1000`` within a tier)."""
        free = self._free
        index = 0
        while index < len(free):
            tier = self._tier(free[index])
            tier_end = free.bisect_key_left((tier + 1,))
            size = tier_end - index
            refused: set[int] = set()
            while len(refused) < size:
                pick = index + rng.below(size)
                if pick in refused:
                    if len(refused) * 2 < size:
                        continue
                    pick = next(i for i in range(index, tier_end) if i not in refused)
                if take(free[pick].facts):
                    return Choice((free[pick].facts,), 0)
                refused.add(pick)
            index = tier_end
        return Choice((), 0)

    def _choose_wrandom(self, rng: RandomSource, take: Callable[[MemberFacts], bool]) -> Choice:
        """The lowest of ``random() % ((1 + penalty) * 1000)`` over the free members.

        Rather than drawing one number per member, draw the minimum of each penalty group directly:
        for ``n`` draws uniform on ``0..M-1``, ``P(min >= m) = ((M - m) / M) ** n``.
        """
        free = self._free
        groups: list[tuple[int, int, int]] = []
        index = 0
        while index < len(free):
            penalty = free[index].facts.penalty
            end = free.bisect_key_left((penalty + 1,))
            groups.append((penalty, index, end))
            index = end
        refused: set[int] = set()
        while True:
            best: tuple[float, int] | None = None
            for penalty, start, end in groups:
                size = end - start - len([i for i in refused if start <= i < end])
                if size <= 0:
                    continue
                bound = (1 + penalty) * WRAP
                draw = math.floor(bound * (1.0 - (1.0 - rng.unit()) ** (1.0 / size)))
                lowest = min(max(draw, 0), bound - 1)
                if best is None or lowest < best[0]:
                    best = (lowest, start)
            if best is None:
                return Choice((), 0)
            group = next(g for g in groups if g[1] == best[1])
            pool = [i for i in range(group[1], group[2]) if i not in refused]
            pick = pool[rng.below(len(pool))] if len(pool) > 1 else pool[0]
            if take(free[pick].facts):
                return Choice((free[pick].facts,), 0)
            refused.add(pick)


def build_index(
    strategy: Strategy, members: Iterable[MemberFacts], *, penaltymemberslimit: int = 0
) -> MemberIndex:
    """An index holding ``members`` (in order added), none of them free yet."""
    index = MemberIndex(strategy, penaltymemberslimit=penaltymemberslimit)
    for facts in sorted(members, key=lambda m: m.added):
        index.add(facts)
    return index

"""Callers waiting in campaigns, and who is offered to whom next.

Each campaign keeps its callers in the order ``app_queue`` serves them: by priority, then arrival
(``join_queue``). :func:`plan_offers` pairs waiting callers with members the way ``app_queue``'s
callers do it for themselves, but driven by events instead of a once-a-second poll of every caller:

* only *dirty* campaigns are looked at: a caller arrived, left or finished waiting ``retry``; one of
  the campaign's members became free; a heavier campaign sharing members lost callers;
* within a campaign only the callers whose turn it is are considered (``is_our_turn``: fewer
  non-ringing callers ahead than available members; without ``autofill`` only position 1);
* heavier campaigns go first, then the caller of higher priority, then the one waiting longest;
* the member is chosen by the campaign's strategy over the index of free members
  (:class:`~stasis_app.acd.strategies.MemberIndex`), skipping members a heavier campaign claims
  (``compare_weight``).

An *attempt* is one ring cycle of a caller (``try_calling``): it lasts the campaign's ring
``timeout``; a member who is busy, congested or hangs up before that makes the next member ring at
once within the same attempt (restarting the clock with ``timeoutrestart``); when it ends unanswered
the caller waits ``retry`` seconds. The round-robin position is stored when an attempt ends
(``store_next_rr`` / ``store_next_lin``).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from stasis_app.acd.agents import AgentRegistry
from stasis_app.acd.campaigns import CampaignConfig
from stasis_app.acd.parameters import (
    PauseScope,
    RingOutcome,
    attempt_ring_seconds,
    autopause_after_ring,
    available_for_turns,
    heavier_campaign_claims,
    insertion_index,
    queue_expiry,
    ring_next_after_failure,
)
from stasis_app.acd.strategies import (
    MemberFacts,
    RandomSource,
    RoundRobinCursor,
    Strategy,
    parse_strategy,
)


@dataclass
class WaitingCaller:
    callid: str
    campaign: str
    caller: str
    entered_at: float
    #: Position when the caller joined (Asterisk's ``origposition``).
    original_position: int
    #: Not offered again before this time (the campaign's ``retry`` after an unanswered attempt).
    ready_at: float = 0.0
    #: The agent being rung for this caller, if any (the first of them for ``ringall``).
    ringing: str | None = None
    #: Agents rung in the current attempt.
    tried: set[str] = field(default_factory=set)
    priority: int = 0
    #: When the caller leaves with EXITWITHTIMEOUT (0: never), from the campaign's ``queue_timeout``.
    expire: float = 0.0
    #: Every agent ringing for this caller now (several only with ``ringall``).
    ringing_all: set[str] = field(default_factory=set)
    #: ``linear``: this caller's own round-robin position (``linpos``).
    linpos: RoundRobinCursor = field(default_factory=RoundRobinCursor)
    #: The running attempt: when it started (None: no attempt), the cursor it started from, the
    #: metric key of the last member it rang, and the cursor to store when it ends.
    attempt_started: float | None = None
    #: When the attempt ranked the members (``timeoutrestart`` moves ``attempt_started`` only).
    attempt_ranked_at: float = 0.0
    attempt_cursor: int = 0
    attempt_after: tuple[int, ...] | None = None
    attempt_next_cursor: int | None = None
    attempt_store: RoundRobinCursor | None = None
    sequence: int = 0

    @property
    def pending(self) -> bool:
        """Ringing a member now (``qe->pending``)."""
        return bool(self.ringing_all)


@dataclass(frozen=True)
class Offer:
    callid: str
    campaign: str
    agent: str
    interface: str
    #: Seconds this ring may last (what is left of the attempt); None: no limit.
    timeout: float | None = None


@dataclass
class StrategyMemory:
    """What strategies remember between attempts: each campaign's ``rrpos``, and the random source."""

    rrpos: dict[str, RoundRobinCursor] = field(default_factory=dict)
    rng: RandomSource = field(default_factory=RandomSource)

    @classmethod
    def seeded(cls, seed: int) -> StrategyMemory:
        return cls(rng=RandomSource(random.Random(seed)))

    def cursor(self, campaign: str) -> RoundRobinCursor:
        return self.rrpos.setdefault(campaign, RoundRobinCursor())


DEFAULT_STRATEGY = "rrmemory"
#: The pause reason Asterisk gives an auto-paused member.
AUTO_PAUSE_REASON = "Auto-Pause"


def strategy_named(name: str) -> Strategy:
    """The strategy for a campaign's ``strategy`` column (unknown names ring all, as in Asterisk)."""
    return parse_strategy(name)


def _order_key(waiting: WaitingCaller) -> tuple[int, int]:
    return (-waiting.priority, waiting.sequence)


class CampaignQueues:
    """The waiting callers of every campaign, with what routing needs to find them quickly."""

    def __init__(self) -> None:
        self._queues: dict[str, list[WaitingCaller]] = {}
        #: Per campaign, the callers not ringing anyone, in queue order.
        self._idle: dict[str, list[WaitingCaller]] = {}
        self._by_callid: dict[str, WaitingCaller] = {}
        self._ready: list[tuple[float, int, str]] = []
        self._expiries: list[tuple[float, int, str]] = []
        #: Per campaign, callers whose attempt goes on with the next member after a failure.
        self._continuing: dict[str, dict[str, WaitingCaller]] = {}
        self._dirty: set[str] = set()
        self._sequence = itertools.count(1)

    def __len__(self) -> int:
        return len(self._by_callid)

    def __contains__(self, callid: object) -> bool:
        return callid in self._by_callid

    def count(self, campaign: str) -> int:
        """Callers in the campaign (``q->count``), ringing or not."""
        return len(self._queues.get(campaign, ()))

    def enter(
        self,
        callid: str,
        campaign: str,
        caller: str,
        now: float,
        *,
        priority: int = 0,
        position: int = 0,
        queue_timeout: int = 0,
    ) -> WaitingCaller:
        """Join behind everyone of equal or higher ``priority`` (or at the wanted ``position``)."""
        if callid in self._by_callid:
            raise ValueError(f"call {callid} is already waiting")
        queue = self._queues.setdefault(campaign, [])
        index = insertion_index([w.priority for w in queue], priority, position)
        sequence = next(self._sequence)
        waiting = WaitingCaller(
            callid,
            campaign,
            caller,
            now,
            index + 1,
            ready_at=now,
            priority=priority,
            expire=queue_expiry(now, queue_timeout),
            sequence=sequence,
        )
        queue.insert(index, waiting)
        if index < len(queue) - 1 and queue[index + 1].priority == priority:
            # Put ahead of callers of its own priority (a wanted position): renumber the queue so
            # that (priority, sequence) keeps giving the queue's order.
            for member in queue:
                member.sequence = next(self._sequence)
            self._idle.get(campaign, []).sort(key=_order_key)
        self._by_callid[callid] = waiting
        self.mark_idle(waiting)
        if waiting.expire:
            heapq.heappush(self._expiries, (waiting.expire, waiting.sequence, callid))
        self._dirty.add(campaign)
        return waiting

    def mark_idle(self, waiting: WaitingCaller) -> None:
        """The caller rings nobody now: it is among the callers whose turn may come."""
        idle = self._idle.setdefault(waiting.campaign, [])
        bisect.insort(idle, waiting, key=_order_key)

    def mark_ringing(self, waiting: WaitingCaller) -> None:
        """The caller rings a member: it no longer counts for ``is_our_turn``."""
        idle = self._idle.get(waiting.campaign, [])
        index = bisect.bisect_left(idle, _order_key(waiting), key=_order_key)
        if index < len(idle) and idle[index] is waiting:
            del idle[index]

    def get(self, callid: str) -> WaitingCaller | None:
        return self._by_callid.get(callid)

    def position(self, callid: str) -> int:
        """1-based position of a waiting caller in its campaign; 0 when not waiting."""
        waiting = self._by_callid.get(callid)
        if waiting is None:
            return 0
        return self._queues[waiting.campaign].index(waiting) + 1

    def leave(self, callid: str) -> tuple[WaitingCaller, int] | None:
        """Take a caller out; answers it and the position it had.

        A running attempt ends here, so the round-robin position it computed is stored (as
        ``try_calling`` does whether the caller was answered or hung up).
        """
        waiting = self._by_callid.pop(callid, None)
        if waiting is None:
            return None
        queue = self._queues[waiting.campaign]
        position = queue.index(waiting) + 1
        queue.remove(waiting)
        if not waiting.pending:
            self.mark_ringing(waiting)
        _store_cursor(waiting)
        if not queue:
            del self._queues[waiting.campaign]
            self._idle.pop(waiting.campaign, None)
        self._dirty.add(waiting.campaign)
        return waiting, position

    def waiting(self, campaign: str) -> list[WaitingCaller]:
        return list(self._queues.get(campaign, []))

    def idle(self, campaign: str) -> list[WaitingCaller]:
        """Callers of ``campaign`` not ringing anyone, in queue order."""
        return self._idle.get(campaign, [])

    def all_waiting(self) -> list[WaitingCaller]:
        return [w for queue in self._queues.values() for w in queue]

    def wait_until(self, waiting: WaitingCaller, ready_at: float) -> None:
        waiting.ready_at = ready_at
        heapq.heappush(self._ready, (ready_at, waiting.sequence, waiting.callid))

    def advance(self, now: float) -> None:
        """Callers whose ``retry`` wait is over make their campaign worth a look."""
        while self._ready and self._ready[0][0] <= now:
            _, _, callid = heapq.heappop(self._ready)
            waiting = self._by_callid.get(callid)
            if waiting is not None:
                self._dirty.add(waiting.campaign)

    def take_dirty(self) -> set[str]:
        dirty, self._dirty = self._dirty, set()
        return dirty

    def mark_dirty(self, campaign: str) -> None:
        self._dirty.add(campaign)

    def next_ready_at(self, now: float) -> float | None:
        """When the earliest caller now held back by ``retry`` may be offered again."""
        while self._ready:
            ready_at, _, callid = self._ready[0]
            waiting = self._by_callid.get(callid)
            if waiting is None or waiting.ready_at != ready_at or waiting.pending or ready_at <= now:
                heapq.heappop(self._ready)
                continue
            return ready_at
        return None

    def next_expiry(self) -> float | None:
        """The earliest ``queue_timeout`` still to come."""
        while self._expiries:
            expire, _, callid = self._expiries[0]
            if callid in self._by_callid:
                return expire
            heapq.heappop(self._expiries)
        return None

    def take_expired(self, now: float) -> list[WaitingCaller]:
        """Callers whose ``queue_timeout`` has passed (EXITWITHTIMEOUT); they are still queued:
        the call flow takes them out with :meth:`leave` as it plays them out."""
        expired: list[WaitingCaller] = []
        while self._expiries and self._expiries[0][0] <= now:
            _, _, callid = heapq.heappop(self._expiries)
            waiting = self._by_callid.get(callid)
            if waiting is not None:
                expired.append(waiting)
        return expired

    def continue_attempt(self, waiting: WaitingCaller) -> None:
        self._continuing.setdefault(waiting.campaign, {})[waiting.callid] = waiting
        self._dirty.add(waiting.campaign)

    def settle_continuing(self, campaign: str) -> list[WaitingCaller]:
        """Callers whose attempt was to go on but who found nobody: their attempt is over."""
        left = self._continuing.pop(campaign, {})
        return [w for w in left.values() if w.callid in self._by_callid and not w.pending]

    def served(self, waiting: WaitingCaller) -> None:
        self._continuing.get(waiting.campaign, {}).pop(waiting.callid, None)


def _store_cursor(waiting: WaitingCaller) -> None:
    """End the caller's attempt: store the round-robin position it computed."""
    if waiting.attempt_started is None:
        return
    if waiting.attempt_store is not None and waiting.attempt_next_cursor is not None:
        waiting.attempt_store.position = waiting.attempt_next_cursor
    waiting.attempt_started = None
    waiting.attempt_after = None
    waiting.attempt_next_cursor = None
    waiting.attempt_store = None
    waiting.tried.clear()


class _Router:
    """One :func:`plan_offers` pass."""

    def __init__(
        self,
        queues: CampaignQueues,
        agents: AgentRegistry,
        campaigns: Mapping[str, CampaignConfig],
        memory: StrategyMemory,
        *,
        now: float,
        parallel_ringall: bool,
    ) -> None:
        self.queues = queues
        self.agents = agents
        self.campaigns = campaigns
        self.memory = memory
        self.now = now
        self.parallel_ringall = parallel_ringall
        self.offers: list[Offer] = []

    def available(self, campaign: str) -> int:
        config = self.campaigns.get(campaign)
        if config is None:
            return 0
        free = self.agents.index(campaign).free_count
        return available_for_turns(
            free, autofill=config.autofill, ringall=config.distribution is Strategy.RINGALL
        )

    def claimed_elsewhere(self, agent: str, campaign: str, weight: int) -> bool:
        """``compare_weight``: a heavier campaign of this agent has callers enough to need it."""
        holder = self.agents.agents.get(agent)
        if holder is None:
            return False
        for other in holder.campaigns:
            if other == campaign:
                continue
            config = self.campaigns.get(other)
            if config is None or config.weight <= weight:
                continue
            if heavier_campaign_claims(
                my_weight=weight,
                other_weight=config.weight,
                other_waiting=self.queues.count(other),
                other_available=self.available(other),
            ):
                return True
        return False

    def candidates(self, campaign: str) -> list[WaitingCaller]:
        """Callers of ``campaign`` whose turn it is and who are not waiting out ``retry``."""
        config = self.campaigns[campaign]
        available = self.available(campaign)
        idle = self.queues.idle(campaign)
        ready: list[WaitingCaller] = []
        for ahead, waiting in enumerate(idle):
            if ahead >= available:
                break
            if not config.autofill and self.queues.position(waiting.callid) != 1:
                break
            if waiting.ready_at <= self.now:
                ready.append(waiting)
        return ready

    def serve(self, campaign: str, waiting: WaitingCaller) -> bool:
        """Start or continue ``waiting``'s attempt; True when some member was offered the call."""
        config = self.campaigns[campaign]
        strategy = config.distribution
        index = self.agents.index(campaign)
        if waiting.attempt_started is None:
            if strategy is Strategy.LINEAR:
                store = waiting.linpos
            else:
                store = self.memory.cursor(campaign)
                store.follow_removals(self.agents.removed_positions(campaign))
            waiting.attempt_started = self.now
            waiting.attempt_ranked_at = self.now
            waiting.attempt_cursor = store.position
            waiting.attempt_store = store if strategy.round_robin else None
            waiting.attempt_after = None
            waiting.attempt_next_cursor = None
            waiting.tried.clear()
        started = waiting.attempt_started
        ring_for = attempt_ring_seconds(
            now=started,
            ring_timeout=config.ring_timeout,
            expire=waiting.expire,
            timeoutpriority_app=config.timeoutpriority_app,
        )
        if ring_for is not None:
            ring_for = max(0.0, ring_for - (self.now - started))

        def accept(facts: MemberFacts) -> bool:
            if facts.name in waiting.tried:
                return False
            return not self.claimed_elsewhere(facts.name, campaign, config.weight)

        choice = index.choose(
            now=int(waiting.attempt_ranked_at),
            cursor=waiting.attempt_cursor,
            rng=self.memory.rng,
            accept=accept,
            after=waiting.attempt_after,
            since=waiting.attempt_ranked_at,
        )
        if not choice.members:
            if waiting.tried:
                if strategy.round_robin:
                    # Every member after the last one rung was examined and passed over.
                    waiting.attempt_next_cursor = choice.next_cursor
                self.end_attempt(waiting)
            else:
                waiting.attempt_started = None
            return False
        self.queues.served(waiting)
        members = choice.members if self.parallel_ringall else choice.members[:1]
        if strategy.round_robin:
            waiting.attempt_next_cursor = choice.next_cursor
        if strategy is not Strategy.RINGALL or self.parallel_ringall:
            waiting.attempt_after = choice.after
        self.queues.mark_ringing(waiting)
        for facts in members:
            agent = self.agents.start_ringing(facts.name, waiting.callid)
            waiting.ringing_all.add(facts.name)
            waiting.tried.add(facts.name)
            if waiting.ringing is None:
                waiting.ringing = facts.name
            self.offers.append(
                Offer(waiting.callid, campaign, facts.name, agent.interface or facts.interface, ring_for)
            )
        return True

    def end_attempt(self, waiting: WaitingCaller) -> None:
        """Nobody left to ring in this attempt: it ends now, and the caller waits ``retry``."""
        config = self.campaigns.get(waiting.campaign)
        self.queues.served(waiting)
        _store_cursor(waiting)
        self.queues.wait_until(waiting, self.now + max(0, config.retry if config else 0))

    def run(self, dirty: set[str]) -> list[Offer]:
        for campaign in list(dirty):
            config = self.campaigns.get(campaign)
            if config is not None and config.weight:
                # A heavier campaign that changed may release members to lighter ones.
                dirty |= {
                    c
                    for c in self.agents.neighbours(campaign)
                    if (other := self.campaigns.get(c)) is not None and other.weight < config.weight
                }
        for campaign in dirty:
            # Callers whose attempt goes on after a failure ring the next member first (app_queue
            # does it at once, inside the attempt, without waiting for their turn).
            for waiting in self.queues.settle_continuing(campaign):
                if waiting.attempt_started is not None and self.serve(campaign, waiting):
                    continue
                if waiting.attempt_started is not None:
                    config = self.campaigns[campaign]
                    if config.distribution.round_robin:
                        index = self.agents.index(campaign)
                        waiting.attempt_next_cursor = index.exhausted_cursor(waiting.attempt_cursor)
                    self.end_attempt(waiting)
        heap: list[tuple[int, int, float, int, str]] = []
        for campaign in dirty:
            self._push(heap, campaign)
        while heap:
            *_, campaign = heapq.heappop(heap)
            served = False
            for waiting in self.candidates(campaign):
                if self.serve(campaign, waiting):
                    served = True
                    break
            if served:
                self._push(heap, campaign)
        return self.offers

    def _push(self, heap: list[tuple[int, int, float, int, str]], campaign: str) -> None:
        config = self.campaigns.get(campaign)
        if config is None or not self.queues.idle(campaign):
            return
        if not self.agents.index(campaign).free_count:
            return
        head = self.queues.idle(campaign)[0]
        heapq.heappush(heap, (-config.weight, -head.priority, head.entered_at, head.sequence, campaign))


def plan_offers(
    queues: CampaignQueues,
    agents: AgentRegistry,
    campaigns: Mapping[str, CampaignConfig],
    memory: StrategyMemory,
    *,
    now: float,
    parallel_ringall: bool = False,
    strategy_for: Callable[[str], Strategy] | None = None,
) -> list[Offer]:
    """Offer waiting callers to free members; marks them as ringing in the queue and the registry.

    Only campaigns where something changed are looked at. ``ringall`` rings every free member of
    the best tier when ``parallel_ringall`` is set; otherwise one of them (the one ``find_best``
    names first). ``strategy_for`` is accepted for older callers and ignored: the campaign's own
    ``strategy`` decides.
    """
    del strategy_for
    agents.bind_campaigns(campaigns)
    agents.advance(now)
    queues.advance(now)
    router = _Router(queues, agents, campaigns, memory, now=now, parallel_ringall=parallel_ringall)
    for _ in range(3):
        # Building an index for the first time (or after a settings change) can name campaigns
        # not yet looked at; a second round takes them.
        dirty = {c for c in agents.take_dirty() | queues.take_dirty() if c in campaigns}
        if not dirty:
            break
        router.run(dirty)
    return router.offers


def offer_failed(
    queues: CampaignQueues,
    agents: AgentRegistry,
    offer: Offer,
    now: float,
    retry: float,
    *,
    outcome: RingOutcome | None = None,
) -> None:
    """An offer ended unanswered: the agent is free again; the caller rings the next member at once
    (a failure before the attempt's end) or waits ``retry`` seconds (the attempt is over)."""
    agents.stop_ringing(offer.agent, offer.callid)
    waiting = queues.get(offer.callid)
    if waiting is None or offer.agent not in waiting.ringing_all:
        return
    waiting.ringing_all.discard(offer.agent)
    if waiting.ringing == offer.agent:
        waiting.ringing = next(iter(sorted(waiting.ringing_all)), None)
    if waiting.ringing_all:
        return
    queues.mark_idle(waiting)
    queues.mark_dirty(waiting.campaign)
    config = agents.config(waiting.campaign)
    started = waiting.attempt_started
    if config is not None and started is not None and outcome is not RingOutcome.NOANSWER:
        ring_seconds = attempt_ring_seconds(
            now=started,
            ring_timeout=config.ring_timeout,
            expire=waiting.expire,
            timeoutpriority_app=config.timeoutpriority_app,
        )
        go_on, restarted = ring_next_after_failure(
            ringall=config.distribution is Strategy.RINGALL,
            timeoutrestart=config.timeoutrestart,
            attempt_started=started,
            ring_seconds=ring_seconds,
            now=now,
        )
        if go_on:
            waiting.attempt_started = restarted
            waiting.ready_at = now
            queues.continue_attempt(waiting)
            return
    _store_cursor(waiting)
    queues.wait_until(waiting, now + max(0.0, retry))


def autopause_member(
    agents: AgentRegistry, config: CampaignConfig, agent: str, outcome: RingOutcome, now: float
) -> PauseScope:
    """``rna``'s auto-pause: pause a member who let ``config``'s call ring out (or was busy or
    congested, when the campaign says so), in that campaign or in all of them."""
    holder = agents.agents.get(agent)
    if holder is None or not holder.logged_in:
        return PauseScope.NONE
    scope = autopause_after_ring(
        mode=config.autopause,
        outcome=outcome,
        autopausebusy=config.autopausebusy,
        autopauseunavail=config.autopauseunavail,
        autopausedelay=config.autopausedelay,
        lastcall=holder.last_call_end,
        now=now,
    )
    if scope is PauseScope.CAMPAIGN:
        agents.pause(agent, True, AUTO_PAUSE_REASON, campaigns=[config.name])
    elif scope is PauseScope.ALL_CAMPAIGNS:
        agents.pause(agent, True, AUTO_PAUSE_REASON)
    return scope

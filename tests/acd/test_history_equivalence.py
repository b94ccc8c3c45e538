"""Whole call histories: the router rings the same members, in the same order, as a literal model of
``app_queue`` (``try_calling`` -> ``calc_metric`` for every member -> ``ring_one`` in metric order,
the next one at once after a busy member -> ``store_next_rr`` / ``store_next_lin`` when the attempt
ends -> ``retry`` seconds -> a new attempt), over random sequences of answers, no-answers and busy
members, with other calls keeping some members talking."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from stasis_app.acd.agents import AgentRegistry
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.parameters import RingOutcome
from stasis_app.acd.queueing import CampaignQueues, StrategyMemory, offer_failed, plan_offers
from stasis_app.acd.strategies import WRAP, MemberFacts, Ranked, Strategy, reference_ranking

RING = 15
RETRY = 4


@dataclass
class LiteralQueue:
    """``app_queue``'s bookkeeping for one queue, kept the way app_queue keeps it."""

    strategy: Strategy
    members: list[MemberFacts]
    rrpos: int = 0
    talking_until: dict[str, float] = field(default_factory=dict)

    def facts(self) -> list[MemberFacts]:
        return list(self.members)

    def free(self, name: str, now: float) -> bool:
        return self.talking_until.get(name, 0.0) <= now

    def finish_calls(self, now: float) -> None:
        for name, until in list(self.talking_until.items()):
            if until <= now:
                self.record_call(name, until)
                del self.talking_until[name]

    def record_call(self, name: str, ended: float) -> None:
        """``update_queue``: one more call, and its end as ``lastcall``."""
        self.members = [
            MemberFacts(m.name, m.interface, m.penalty, m.calls + 1, int(ended), m.added)
            if m.name == name
            else m
            for m in self.members
        ]


@dataclass
class Attempt:
    ranking: list[Ranked]
    cursor: int
    wrapped: bool
    rung: int = -1

    def next_ringable(self, queue: LiteralQueue, now: float) -> str | None:
        for index in range(self.rung + 1, len(self.ranking)):
            name = self.ranking[index].member.name
            if queue.free(name, now):
                self.rung = index
                return name
        self.rung = len(self.ranking)
        return None

    def stored_cursor(self) -> int:
        """``store_next_rr``: the best member not rung, else 0 if wrapped, else one further."""
        after = self.rung + 1
        if after < len(self.ranking):
            return self.ranking[after].metric % WRAP
        return 0 if self.wrapped else self.cursor + 1


step = st.tuples(st.sampled_from(["answer", "noanswer", "busy"]), st.integers(1, 40), st.integers(0, 5))


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(
        [Strategy.RRMEMORY, Strategy.RRORDERED, Strategy.LINEAR, Strategy.LEASTRECENT, Strategy.FEWESTCALLS]
    ),
    st.lists(
        st.tuples(st.integers(1000, 1060), st.sampled_from([0, 0, 1])),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    ),
    st.lists(step, min_size=1, max_size=25),
)
def test_router_follows_app_queue_through_a_history(
    strategy: Strategy, rows: list[tuple[int, int]], steps: list[tuple[str, int, int]]
) -> None:
    members = [
        MemberFacts(f"m{ext}", f"PJSIP/{ext}", penalty, 0, 0, i + 1) for i, (ext, penalty) in enumerate(rows)
    ]
    literal = LiteralQueue(strategy, members)
    config = CampaignConfig("Q", strategy=strategy.value, ring_timeout=RING, retry=RETRY)
    campaigns = {"Q": config}
    registry = AgentRegistry()
    registry.set_members([MemberConfig("Q", m.name, m.interface, m.penalty) for m in members])
    for m in members:
        registry.login(m.name, "", None, now=0)
    queues = CampaignQueues()
    memory = StrategyMemory.seeded(0)
    talking: dict[str, tuple[str, float]] = {}
    now = 1.0
    caller = 0
    linpos = 0
    ready_at = 0.0
    attempt: Attempt | None = None
    expected: str | None = None
    callid = ""

    def end_attempt(current: Attempt) -> None:
        nonlocal linpos
        if strategy is Strategy.LINEAR:
            linpos = current.stored_cursor()
        else:
            literal.rrpos = current.stored_cursor()

    def finish_calls(now: float) -> None:
        """Time passes: calls end (in both models) before anything else happens."""
        for name, (call, until) in sorted(talking.items(), key=lambda item: item[1][1]):
            if until <= now:
                registry.end_call(name, call, until, 0, "Q")
                del talking[name]
        literal.finish_calls(now)

    for outcome, seconds, hold in steps:
        now = max(now, ready_at)
        finish_calls(now)
        if not callid:
            caller += 1
            callid = f"c{caller}"
            linpos = 0
            queues.enter(callid, "Q", "555", now)
        if attempt is None:
            cursor = linpos if strategy is Strategy.LINEAR else literal.rrpos
            ranking = reference_ranking(strategy, literal.facts(), now=int(now), cursor=cursor)
            attempt = Attempt(list(ranking.members), cursor, ranking.wrapped)
            expected = attempt.next_ringable(literal, now)
        offers = plan_offers(queues, registry, campaigns, memory, now=now)
        assert [o.agent for o in offers] == ([expected] if expected else []), (now, expected, offers)
        if expected is None:
            # Nobody free: no attempt starts (is_our_turn needs an available member); time passes.
            attempt = None
            now += 1 + hold
            continue
        [offer] = offers
        if outcome == "answer":
            now += 1
            queues.leave(callid)
            registry.connect(expected, callid)
            end_attempt(attempt)
            talking[expected] = (callid, now + seconds)
            literal.talking_until[expected] = now + seconds
            callid = ""
            attempt = None
            now += hold
        elif outcome == "noanswer":
            now += RING
            finish_calls(now)
            offer_failed(queues, registry, offer, now, RETRY, outcome=RingOutcome.NOANSWER)
            end_attempt(attempt)
            attempt = None
            ready_at = now + RETRY
        else:
            # Busy after a second: the next member in the attempt's order rings at once; with
            # nobody left the attempt ends and the caller waits ``retry``.
            now += 1
            finish_calls(now)
            offer_failed(queues, registry, offer, now, RETRY, outcome=RingOutcome.BUSY)
            expected = attempt.next_ringable(literal, now)
            if expected is None:
                end_attempt(attempt)
                attempt = None
                plan_offers(queues, registry, campaigns, memory, now=now)
                ready_at = now + RETRY

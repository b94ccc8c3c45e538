"""Routing scenarios: each campaign parameter through ``plan_offers``, and random event sequences."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stasis_app.acd.agents import Activity, AgentRegistry, AgentState, SeedStatus
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.parameters import (
    LEGACY_EMPTY,
    STRICT,
    AutoPause,
    EmptyCondition,
    JoinResult,
    PauseScope,
    RingOutcome,
    decide_join,
)
from stasis_app.acd.queueing import (
    CampaignQueues,
    Offer,
    StrategyMemory,
    autopause_member,
    offer_failed,
    plan_offers,
)


@dataclass
class Centre:
    """A small contact centre driven the way the call flow drives the core."""

    campaigns: dict[str, CampaignConfig]
    agents: AgentRegistry = field(default_factory=AgentRegistry)
    queues: CampaignQueues = field(default_factory=CampaignQueues)
    memory: StrategyMemory = field(default_factory=lambda: StrategyMemory.seeded(1))
    now: float = 0.0
    ringing: dict[str, Offer] = field(default_factory=dict)
    call_campaign: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, campaigns: list[CampaignConfig], members: list[tuple[str, str, int]]) -> Centre:
        centre = cls({c.name: c for c in campaigns})
        centre.agents.set_members([MemberConfig(c, a, f"PJSIP/{a}", p) for c, a, p in members])
        return centre

    def login(self, *names: str, campaigns: list[str] | None = None) -> None:
        for name in names:
            self.agents.login(name, "", campaigns, now=self.now)

    def enter(self, callid: str, campaign: str, *, priority: int = 0) -> None:
        config = self.campaigns[campaign]
        self.queues.enter(
            callid, campaign, "555", self.now, priority=priority, queue_timeout=config.queue_timeout
        )

    def route(self) -> list[tuple[str, str]]:
        offers = plan_offers(self.queues, self.agents, self.campaigns, self.memory, now=self.now)
        for offer in offers:
            self.ringing[offer.agent] = offer
        return [(o.callid, o.agent) for o in offers]

    def fail(self, agent: str, outcome: RingOutcome | None = None) -> None:
        offer = self.ringing.pop(agent)
        retry = self.campaigns[offer.campaign].retry
        offer_failed(self.queues, self.agents, offer, self.now, retry, outcome=outcome)

    def answer(self, agent: str) -> str:
        offer = self.ringing.pop(agent)
        self.queues.leave(offer.callid)
        self.agents.connect(agent, offer.callid)
        self.call_campaign[offer.callid] = offer.campaign
        return offer.callid

    def hang_up(self, agent: str, callid: str) -> None:
        campaign = self.campaigns[self.call_campaign.pop(callid)]
        self.agents.end_call(agent, callid, self.now, campaign.wrapuptime, campaign.name)

    def take(self, agent: str) -> None:
        """The agent answers and the call ends at once (history for the next choice)."""
        callid = self.answer(agent)
        self.hang_up(agent, callid)


def camp(name: str = "Sales", **settings: object) -> CampaignConfig:
    return replace(CampaignConfig(name), **settings)  # type: ignore[arg-type]


def test_rrmemory_remembers_per_campaign_but_linear_restarts_per_caller() -> None:
    """Three members, each call answered and finished before the next: rrmemory continues after
    the last member rung (ann, bob, cy, ann); linear starts every new caller at the first (ann)."""
    for strategy, expected in (("rrmemory", ["ann", "bob", "cy", "ann"]), ("linear", ["ann"] * 4)):
        centre = Centre.build(
            [camp(strategy=strategy)], [("Sales", "ann", 0), ("Sales", "bob", 0), ("Sales", "cy", 0)]
        )
        centre.login("ann", "bob", "cy")
        chosen = []
        for call in range(4):
            centre.enter(f"c{call}", "Sales")
            [(_, agent)] = centre.route()
            chosen.append(agent)
            centre.take(agent)
        assert chosen == expected, strategy


def test_linear_goes_on_with_the_same_caller() -> None:
    """A linear caller's no-answer attempt on ann moves *its* linpos to bob; a new caller still
    starts at ann."""
    centre = Centre.build(
        [camp(strategy="linear", retry=5)], [("Sales", "ann", 0), ("Sales", "bob", 0), ("Sales", "cy", 0)]
    )
    centre.login("ann", "bob", "cy")
    centre.enter("c1", "Sales")
    assert centre.route() == [("c1", "ann")]
    centre.now = 15
    centre.fail("ann", RingOutcome.NOANSWER)
    centre.enter("c2", "Sales")
    assert centre.route() == [("c2", "ann")]
    centre.now = 20
    assert centre.route() == [("c1", "bob")]


def test_busy_member_makes_the_next_ring_at_once_and_timeoutrestart() -> None:
    for restart, expected_timeout in ((False, 5.0), (True, 15.0)):
        centre = Centre.build(
            [camp(strategy="rrmemory", ring_timeout=15, retry=30, timeoutrestart=restart)],
            [("Sales", "ann", 0), ("Sales", "bob", 0)],
        )
        centre.login("ann", "bob")
        centre.enter("c1", "Sales")
        assert centre.route() == [("c1", "ann")]
        centre.now = 10
        centre.fail("ann", RingOutcome.BUSY)
        [offer] = plan_offers(centre.queues, centre.agents, centre.campaigns, centre.memory, now=10)
        assert (offer.agent, offer.timeout) == ("bob", expected_timeout)


def test_unanswered_attempt_waits_retry_then_the_stored_rrpos_applies() -> None:
    centre = Centre.build(
        [camp(strategy="rrmemory", ring_timeout=15, retry=5)], [("Sales", "ann", 0), ("Sales", "bob", 0)]
    )
    centre.login("ann", "bob")
    centre.enter("c1", "Sales")
    assert centre.route() == [("c1", "ann")]
    centre.now = 15
    centre.fail("ann", RingOutcome.NOANSWER)
    assert centre.route() == []
    assert centre.queues.next_ready_at(centre.now) == 20
    centre.now = 20
    assert centre.route() == [("c1", "bob")]


def test_wrapuptime_campaign_member_and_shared_across_campaigns() -> None:
    centre = Centre.build(
        [camp("Sales", wrapuptime=10), camp("Support", wrapuptime=0)],
        [("Sales", "ann", 0), ("Support", "ann", 0)],
    )
    centre.login("ann")
    centre.enter("c1", "Sales")
    assert centre.route() == [("c1", "ann")]
    centre.now = 100
    centre.take("ann")
    assert centre.agents.get("ann").state(101) is AgentState.WRAPUP
    centre.now = 105
    centre.enter("c2", "Support")  # Support has no wrap-up, but the last call came from Sales
    assert centre.route() == []
    assert centre.agents.next_wrapup_end(centre.now) == 110
    centre.now = 110
    assert centre.route() == [("c2", "ann")]
    # A member row's own wrap-up overrides the campaign's.
    own = Centre.build([camp("Sales", wrapuptime=10)], [])
    own.agents.set_members([MemberConfig("Sales", "bob", "PJSIP/bob", wrapuptime=2)])
    own.login("bob")
    own.enter("c1", "Sales")
    own.route()
    own.now = 50
    own.take("bob")
    own.enter("c2", "Sales")
    own.now = 52
    assert own.route() == [("c2", "bob")]


def test_finish_wrapup_early() -> None:
    centre = Centre.build([camp(wrapuptime=30)], [("Sales", "ann", 0)])
    centre.login("ann")
    centre.enter("c1", "Sales")
    centre.route()
    centre.now = 10
    centre.take("ann")
    centre.enter("c2", "Sales")
    centre.now = 12
    assert centre.route() == []
    assert centre.agents.get("ann").wrapup_left(12) == 28
    assert centre.agents.finish_wrapup("ann", 12) == 28  # FINISHWRAPUP carries the time left
    assert centre.agents.get("ann").wrapup_left(12) == 0
    assert centre.route() == [("c2", "ann")]


def test_weight_heavier_campaign_first_and_claims_shared_agents() -> None:
    centre = Centre.build(
        [camp("Light", weight=0, retry=10), camp("Heavy", weight=5, retry=10)],
        [("Light", "ann", 0), ("Heavy", "ann", 0)],
    )
    centre.login("ann")
    centre.enter("light1", "Light")
    centre.now = 1
    centre.enter("heavy1", "Heavy")
    # The light caller waited longer, but ann serves the heavier campaign's caller first.
    assert centre.route() == [("heavy1", "ann")]
    centre.now = 16
    centre.fail("ann", RingOutcome.NOANSWER)
    # Heavy's caller now waits out retry; it still counts (1 caller >= 1 available member), so
    # compare_weight keeps ann away from Light meanwhile.
    assert centre.route() == []
    centre.now = 26
    assert centre.route() == [("heavy1", "ann")]
    callid = centre.answer("ann")
    centre.hang_up("ann", callid)
    assert centre.route() == [("light1", "ann")]


def test_ringinuse() -> None:
    for ringinuse, expected in ((False, []), (True, [("c2", "ann")])):
        centre = Centre.build([camp(ringinuse=ringinuse)], [("Sales", "ann", 0)])
        centre.login("ann")
        centre.enter("c1", "Sales")
        centre.route()
        centre.answer("ann")
        centre.enter("c2", "Sales")
        assert centre.route() == expected


def test_priority_then_arrival() -> None:
    centre = Centre.build([camp()], [("Sales", "ann", 0)])
    centre.login("ann")
    centre.agents.pause("ann", True, "LUNCH")
    centre.enter("early", "Sales")
    centre.now = 5
    centre.enter("vip", "Sales", priority=5)
    assert centre.queues.position("vip") == 1 and centre.queues.position("early") == 2
    centre.agents.pause("ann", False, "")
    assert centre.route() == [("vip", "ann")]


def test_autofill_off_rings_only_the_head_caller() -> None:
    for autofill, expected in ((True, 2), (False, 1)):
        centre = Centre.build([camp(autofill=autofill)], [("Sales", "ann", 0), ("Sales", "bob", 0)])
        centre.login("ann", "bob")
        centre.enter("c1", "Sales")
        centre.enter("c2", "Sales")
        assert len(centre.route()) == expected


def test_per_campaign_breaks_and_seed_states() -> None:
    centre = Centre.build([camp("Sales"), camp("Support")], [("Sales", "ann", 0), ("Support", "ann", 0)])
    centre.login("ann")
    centre.agents.pause("ann", True, "TRAINING", campaigns=["Sales"])
    assert centre.agents.get("ann").seed_status(0) is SeedStatus.FREE_ON_BREAK
    assert centre.agents.get("ann").break_reason("Sales") == "TRAINING"
    assert centre.agents.get("ann").break_reason("Support") == ""
    centre.enter("s1", "Sales")
    centre.enter("t1", "Support")
    assert centre.route() == [("t1", "ann")]
    assert centre.agents.get("ann").seed_status(0) is SeedStatus.BUSY_ON_BREAK
    centre.answer("ann")
    assert centre.agents.get("ann").activity is Activity.TALKING


def test_queue_timeout_expires_callers() -> None:
    centre = Centre.build([camp(queue_timeout=30)], [("Sales", "ann", 0)])
    centre.enter("c1", "Sales")
    assert centre.queues.next_expiry() == 30
    assert centre.queues.take_expired(29.9) == []
    [expired] = centre.queues.take_expired(30)
    assert expired.callid == "c1"


def test_logoff_while_ringing_moves_on_at_once() -> None:
    centre = Centre.build([camp(ring_timeout=30, retry=30)], [("Sales", "ann", 0), ("Sales", "bob", 0)])
    centre.login("ann", "bob")
    centre.enter("c1", "Sales")
    assert centre.route() == [("c1", "ann")]
    centre.agents.logoff("ann", now=3)
    centre.now = 3
    centre.fail("ann")
    assert centre.route() == [("c1", "bob")]


# Random sequences ---------------------------------------------------------------------------------

AGENTS = ["a0", "a1", "a2", "a3"]
CAMPAIGNS = ["Sales", "Support"]

actions = st.lists(
    st.one_of(
        st.tuples(st.just("arrive"), st.sampled_from(CAMPAIGNS), st.integers(0, 2)),
        st.tuples(st.just("answer"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("noanswer"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("busy"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("end"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("abandon"), st.integers(0, 30), st.just(0)),
        st.tuples(st.just("pause"), st.sampled_from(AGENTS), st.integers(0, 2)),
        st.tuples(st.just("logoff"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("login"), st.sampled_from(AGENTS), st.just(0)),
        st.tuples(st.just("wait"), st.integers(1, 20), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actions,
    st.sampled_from(["rrmemory", "leastrecent", "fewestcalls", "linear", "random", "wrandom", "ringall"]),
    st.booleans(),
)
def test_random_sequences_keep_every_caller_and_never_double_book(
    script: list[tuple[str, object, int]], strategy: str, autofill: bool
) -> None:
    campaigns = [
        camp("Sales", strategy=strategy, autofill=autofill, retry=3, ring_timeout=15, wrapuptime=2, weight=1),
        camp("Support", strategy=strategy, autofill=autofill, retry=3, ring_timeout=15),
    ]
    members = [("Sales", a, i % 2) for i, a in enumerate(AGENTS)] + [("Support", a, 0) for a in AGENTS[1:]]
    centre = Centre.build(campaigns, members)
    centre.login(*AGENTS)
    waiting: dict[str, tuple[int, float, int]] = {}
    talking: dict[str, str] = {}
    counter = 0
    for kind, arg, extra in script:
        if kind == "arrive":
            counter += 1
            callid = f"c{counter}"
            centre.enter(callid, str(arg), priority=extra)
            waiting[callid] = (extra, centre.now, counter)
        elif kind in ("noanswer", "busy") and arg in centre.ringing:
            outcome = RingOutcome.NOANSWER if kind == "noanswer" else RingOutcome.BUSY
            centre.fail(str(arg), outcome)
        elif kind == "answer" and arg in centre.ringing:
            callid = centre.answer(str(arg))
            talking[str(arg)] = callid
            del waiting[callid]
        elif kind == "end" and arg in talking:
            centre.hang_up(str(arg), talking.pop(str(arg)))
        elif kind == "abandon" and waiting:
            callid = sorted(waiting)[int(str(arg)) % len(waiting)]
            for agent, offer in list(centre.ringing.items()):
                if offer.callid == callid:
                    centre.fail(agent)
            centre.queues.leave(callid)
            del waiting[callid]
        elif kind == "pause":
            someone = centre.agents.get(str(arg))
            if someone.logged_in:
                campaigns_arg = None if extra == 0 else [CAMPAIGNS[extra - 1]]
                centre.agents.pause(someone.name, not someone.paused_for("Sales"), "OTHER", campaigns_arg)
        elif kind == "logoff" and centre.agents.get(str(arg)).logged_in:
            centre.agents.logoff(str(arg), centre.now)
            if arg in centre.ringing:
                centre.fail(str(arg))
        elif kind == "login":
            centre.login(str(arg))
        elif kind == "wait":
            centre.now += int(str(arg))
        centre.route()
        check_invariants(centre, waiting, talking)


def check_invariants(
    centre: Centre, waiting: dict[str, tuple[int, float, int]], talking: dict[str, str]
) -> None:
    queued = {w.callid for w in centre.queues.all_waiting()}
    # No caller lost: exactly the callers that arrived and did not leave are queued.
    assert queued == set(waiting)
    # No agent offered two calls, nor offered while talking.
    ringing_by_agent: dict[str, list[str]] = {}
    for w in centre.queues.all_waiting():
        for agent in w.ringing_all:
            ringing_by_agent.setdefault(agent, []).append(w.callid)
    for agent, calls in ringing_by_agent.items():
        assert len(calls) == 1, (agent, calls)
        assert agent not in talking
        assert centre.ringing[agent].callid == calls[0]
    assert set(ringing_by_agent) == set(centre.ringing)
    # Waiting order: each queue is sorted by priority (high first), then arrival.
    for campaign in CAMPAIGNS:
        order = [waiting[w.callid] for w in centre.queues.waiting(campaign)]
        assert order == sorted(order, key=lambda t: (-t[0], t[2]))
        # Nobody is left waiting idle and ready while a member of its campaign is free for it
        # (the router looked at every campaign where something changed).
        index = centre.agents.index(campaign)
        config = centre.campaigns[campaign]
        idle = centre.queues.idle(campaign)
        if not idle or not index.free_count:
            continue
        head = idle[0]
        if head.ready_at > centre.now or (not config.autofill and centre.queues.position(head.callid) != 1):
            continue
        usable = [
            name
            for name in index.free_names()
            if name not in head.tried and not _claimed(centre, name, campaign)
        ]
        assert not usable, (campaign, head.callid, usable)


def _claimed(centre: Centre, agent: str, campaign: str) -> bool:
    weight = centre.campaigns[campaign].weight
    for other in centre.agents.get(agent).campaigns:
        config = centre.campaigns[other]
        if other != campaign and config.weight > weight and centre.queues.count(other):
            return True
    return False


def test_ringall_rings_the_best_tier_in_parallel_then_the_next_tier() -> None:
    centre = Centre.build(
        [camp(strategy="ringall", ring_timeout=15, retry=5)],
        [("Sales", "ann", 0), ("Sales", "bob", 0), ("Sales", "cy", 1)],
    )
    centre.login("ann", "bob", "cy")
    centre.enter("c1", "Sales")
    offers = plan_offers(
        centre.queues, centre.agents, centre.campaigns, centre.memory, now=0, parallel_ringall=True
    )
    assert sorted(o.agent for o in offers) == ["ann", "bob"]
    for offer in offers:
        centre.ringing[offer.agent] = offer
    centre.now = 2
    centre.fail("ann", RingOutcome.BUSY)
    # bob still rings: the tier is not done, nothing new rings.
    assert plan_offers(centre.queues, centre.agents, centre.campaigns, centre.memory, now=2) == []
    centre.now = 4
    centre.fail("bob", RingOutcome.BUSY)
    # Tier 0 done with 11 s left: tier 1 rings within the same attempt, for what is left.
    [next_tier] = plan_offers(
        centre.queues, centre.agents, centre.campaigns, centre.memory, now=4, parallel_ringall=True
    )
    assert (next_tier.agent, next_tier.timeout) == ("cy", 11.0)


def test_answer_elsewhere_frees_the_other_ringing_members() -> None:
    centre = Centre.build([camp(strategy="ringall")], [("Sales", "ann", 0), ("Sales", "bob", 0)])
    centre.login("ann", "bob")
    centre.enter("c1", "Sales")
    offers = plan_offers(
        centre.queues, centre.agents, centre.campaigns, centre.memory, now=0, parallel_ringall=True
    )
    by_agent = {o.agent: o for o in offers}
    centre.queues.leave("c1")
    centre.agents.connect("ann", "c1")
    offer_failed(centre.queues, centre.agents, by_agent["bob"], 1, 5)  # its leg is hung up
    assert centre.agents.get("bob").state(1) is AgentState.FREE
    assert centre.agents.get("ann").state(1) is AgentState.BUSY


def test_joinempty_maxlen_and_leavewhenempty_on_live_agents() -> None:
    centre = Centre.build(
        [
            camp(
                joinempty=STRICT, leavewhenempty=LEGACY_EMPTY | EmptyCondition.WRAPUP, maxlen=1, wrapuptime=10
            )
        ],
        [("Sales", "ann", 0), ("Sales", "bob", 0)],
    )
    config = centre.campaigns["Sales"]
    centre.agents.bind_campaigns(centre.campaigns)

    def join() -> JoinResult:
        empty = centre.agents.campaign_empty("Sales", config.joinempty, centre.now)
        return decide_join(
            waiting=centre.queues.count("Sales"),
            maxlen=config.maxlen,
            joinempty=config.joinempty,
            empty=empty,
        )

    # Nobody logged in: strict counts unavailable members as absent -> JOINEMPTY.
    assert join() is JoinResult.JOINEMPTY
    centre.login("ann")
    centre.agents.pause("ann", True, "LUNCH")
    assert join() is JoinResult.JOINEMPTY  # paused is absent too
    centre.login("bob")
    assert join() is JoinResult.JOINED
    centre.agents.pause("bob", True, "BATHROOM")
    centre.agents.pause("ann", False, "")
    centre.enter("c1", "Sales")
    assert join() is JoinResult.FULL  # maxlen 1
    # leavewhenempty: ann takes the call and wraps up; with "wrapup" in the set, the campaign is
    # empty during the wrap-up (bob is paused), and no longer once it is over.
    centre.route()
    centre.now = 20
    centre.take("ann")
    assert centre.agents.campaign_empty("Sales", config.leavewhenempty, 25)
    assert not centre.agents.campaign_empty("Sales", config.leavewhenempty, 30)
    assert not centre.agents.campaign_empty("Sales", EmptyCondition.NONE, 25)


def test_queue_timeout_shortens_the_ring() -> None:
    centre = Centre.build([camp(ring_timeout=15, queue_timeout=20)], [("Sales", "ann", 0)])
    centre.login("ann")
    centre.now = 100
    centre.enter("c1", "Sales")
    centre.now = 112
    [offer] = plan_offers(centre.queues, centre.agents, centre.campaigns, centre.memory, now=112)
    assert offer.timeout == 8  # expires at 120: the attempt rings only what is left


def test_autopause_after_no_answer() -> None:
    centre = Centre.build(
        [camp("Sales", autopause=AutoPause.ON), camp("Support", autopause=AutoPause.ALL)],
        [("Sales", "ann", 0), ("Support", "ann", 0), ("Sales", "bob", 0), ("Support", "bob", 0)],
    )
    centre.login("ann", "bob")
    scope = autopause_member(centre.agents, centre.campaigns["Sales"], "ann", RingOutcome.NOANSWER, 10)
    assert scope is PauseScope.CAMPAIGN
    assert centre.agents.get("ann").paused_in == {"Sales": "Auto-Pause"}
    centre.enter("s1", "Sales")
    centre.enter("t1", "Support")
    assert sorted(centre.route()) == [("s1", "bob"), ("t1", "ann")]
    scope = autopause_member(centre.agents, centre.campaigns["Support"], "bob", RingOutcome.BUSY, 10)
    assert scope is PauseScope.NONE  # busy needs autopausebusy
    scope = autopause_member(centre.agents, centre.campaigns["Support"], "bob", RingOutcome.NOANSWER, 10)
    assert scope is PauseScope.ALL_CAMPAIGNS and centre.agents.get("bob").paused


def test_removing_a_member_before_rrpos_moves_rrpos_back() -> None:
    """rrpos 2 points at cy; bob (position 1) leaves the campaign: cy is now position 1 and
    app_queue moves rrpos back to 1, so cy is still next (not dan)."""
    rows = [("Sales", name, 0) for name in ("ann", "bob", "cy", "dan")]
    centre = Centre.build([camp(strategy="rrmemory")], rows)
    centre.login("ann", "bob", "cy", "dan")
    centre.memory.cursor("Sales").position = 2
    centre.agents.set_members([MemberConfig(c, a, f"PJSIP/{a}", p) for c, a, p in rows if a != "bob"])
    centre.enter("c1", "Sales")
    assert centre.route() == [("c1", "cy")]

"""Agent states, waiting callers and who is offered the next call."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stasis_app.acd.agents import AgentError, AgentRegistry, AgentState
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.parameters import RingOutcome
from stasis_app.acd.queueing import (
    CampaignQueues,
    StrategyMemory,
    offer_failed,
    plan_offers,
    strategy_named,
)
from stasis_app.acd.strategies import Strategy


def registry(*members: tuple[str, str, int]) -> AgentRegistry:
    agents = AgentRegistry()
    agents.set_members([MemberConfig(c, a, f"PJSIP/{a}", penalty) for c, a, penalty in members])
    return agents


def test_agent_states_through_a_call() -> None:
    agents = registry(("Sales", "ann", 0))
    assert agents.get("ann").state(0) is AgentState.DISCONNECTED
    agents.login("ann", "", None, now=10)
    assert agents.get("ann").interface == "PJSIP/ann"
    assert agents.get("ann").state(10) is AgentState.FREE
    agents.start_ringing("ann", "c1")
    assert agents.get("ann").state(11) is AgentState.RINGING
    agents.connect("ann", "c1")
    agents.pause("ann", True, "lunch")  # asked during the call: shown after it
    assert agents.get("ann").state(12) is AgentState.BUSY
    agents.end_call("ann", "c1", now=20, wrapup=5)
    assert agents.get("ann").state(21) is AgentState.PAUSED
    agents.pause("ann", False, "")
    assert agents.get("ann").state(22) is AgentState.WRAPUP
    assert agents.get("ann").state(25) is AgentState.FREE
    _, seconds = agents.logoff("ann", now=40)
    assert seconds == 30
    assert agents.get("ann").state(41) is AgentState.DISCONNECTED


def test_login_errors_and_several_campaigns() -> None:
    agents = registry(("Sales", "ann", 0), ("Support", "ann", 0), ("Sales", "bob", 0))
    with pytest.raises(AgentError):
        agents.login("zed", "PJSIP/9", None, now=0)
    with pytest.raises(AgentError):
        agents.login("bob", "PJSIP/2", ["Support"], now=0)
    agents.login("ann", "PJSIP/1001", None, now=0)
    assert agents.get("ann").campaigns == {"Sales", "Support"}
    assert [a.name for a in agents.available("Support", 0)] == ["ann"]
    assert agents.by_phone("1001") is agents.get("ann")
    agents.start_ringing("ann", "c1")  # busy for one campaign is busy for all
    assert agents.available("Support", 0) == []


def test_member_reload_reports_added_and_removed() -> None:
    agents = registry(("Sales", "ann", 0), ("Sales", "bob", 0))
    changes = agents.set_members(
        [MemberConfig("Sales", "bob", "PJSIP/bob"), MemberConfig("Sales", "cy", "PJSIP/cy")]
    )
    assert [m.agent for m in changes.added] == ["cy"]
    assert [m.agent for m in changes.removed] == ["ann"]


def test_positions_and_leaving() -> None:
    queues = CampaignQueues()
    first = queues.enter("c1", "Sales", "555", now=1)
    queues.enter("c2", "Sales", "556", now=2)
    third = queues.enter("c3", "Sales", "557", now=3)
    assert (first.original_position, third.original_position) == (1, 3)
    assert queues.leave("c1") == (first, 1)
    assert queues.position("c3") == 2
    assert queues.leave("c1") is None


def sales() -> dict[str, CampaignConfig]:
    return {"Sales": CampaignConfig("Sales", retry=5)}


def login_all(agents: AgentRegistry, *names: str) -> None:
    for name in names:
        agents.login(name, "", None, now=0)


def test_round_robin_memory_rotates_and_unanswered_offers_wait_for_retry() -> None:
    agents = registry(("Sales", "ann", 0), ("Sales", "bob", 0), ("Sales", "cy", 0))
    login_all(agents, "ann", "bob", "cy")
    queues, memory = CampaignQueues(), StrategyMemory()
    queues.enter("c1", "Sales", "555", now=0)
    [offer] = plan_offers(queues, agents, sales(), memory, now=0)
    assert offer.agent == "ann" and offer.interface == "PJSIP/ann"
    assert plan_offers(queues, agents, sales(), memory, now=0) == []  # already ringing
    offer_failed(queues, agents, offer, now=1, retry=5, outcome=RingOutcome.NOANSWER)
    assert plan_offers(queues, agents, sales(), memory, now=5.9) == []
    [again] = plan_offers(queues, agents, sales(), memory, now=6)
    assert again.agent == "bob"
    assert queues.next_ready_at(6) is None


def test_penalty_and_least_recent() -> None:
    agents = registry(("Sales", "ann", 1), ("Sales", "bob", 0), ("Sales", "cy", 0))
    login_all(agents, "ann", "bob", "cy")
    agents.get("bob").last_call_end = 50
    agents.get("cy").last_call_end = 10
    queues = CampaignQueues()
    queues.enter("c1", "Sales", "555", now=0)
    campaigns = {"Sales": CampaignConfig("Sales", strategy="leastrecent")}
    [offer] = plan_offers(queues, agents, campaigns, StrategyMemory(), now=100)
    assert offer.agent == "cy"
    assert strategy_named("leastrecent") is Strategy.LEASTRECENT
    assert strategy_named("no-such-strategy") is Strategy.RINGALL  # app_queue falls back to ringall


def test_paused_and_other_campaign_agents_are_not_offered() -> None:
    agents = registry(("Sales", "ann", 0), ("Support", "bob", 0))
    login_all(agents, "ann", "bob")
    agents.pause("ann", True, "break")
    queues = CampaignQueues()
    queues.enter("c1", "Sales", "555", now=0)
    assert plan_offers(queues, agents, sales(), StrategyMemory(), now=0) == []
    agents.pause("ann", False, "")
    assert [o.agent for o in plan_offers(queues, agents, sales(), StrategyMemory(), now=0)] == ["ann"]


@given(
    st.integers(1, 6),
    st.integers(0, 8),
    st.sets(st.integers(0, 5)),
)
def test_offers_never_double_book_an_agent(agent_count: int, caller_count: int, paused: set[int]) -> None:
    names = [f"a{i}" for i in range(agent_count)]
    agents = registry(*[("Sales", name, 0) for name in names])
    login_all(agents, *names)
    for index in paused:
        if index < agent_count:
            agents.pause(names[index], True, "")
    queues = CampaignQueues()
    for index in range(caller_count):
        queues.enter(f"c{index}", "Sales", "555", now=index)
    offers = plan_offers(queues, agents, sales(), StrategyMemory(), now=100)
    free = agent_count - len([i for i in paused if i < agent_count])
    assert len(offers) == min(free, caller_count)
    assert len({o.agent for o in offers}) == len(offers)
    assert [o.callid for o in offers] == [f"c{i}" for i in range(len(offers))]  # longest waiting first
    assert all(agents.get(o.agent).state(100) is AgentState.RINGING for o in offers)

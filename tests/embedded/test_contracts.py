"""What the Stasis app sends and what the admin API reads must agree (names, states, reply shape)."""

from __future__ import annotations

from admin_api.commands import member_interface
from admin_api.status import LiveStatus
from bus import messages
from datastore.demo import DEMO_AGENTS
from datastore.models import PHONE_CONTEXT
from stasis_app.acd.agents import AgentState


def test_agent_states_on_the_bus_are_the_stasis_apps() -> None:
    assert {state.value for state in AgentState} == set(messages.AGENT_STATES)


def test_status_board_follows_an_agent_through_a_call_in_the_stasis_apps_words() -> None:
    board = LiveStatus(lambda: 100.0)
    board.handle(messages.agent_state("agent1", AgentState.FREE.value, ["Sales"], 90.0))
    board.handle(messages.call_entered("c1", "Sales", "555"))
    board.handle(messages.call_ringing("c1", "Sales", "555", "agent1", interface="PJSIP/1001"))
    board.handle(messages.agent_state("agent1", AgentState.RINGING.value, ["Sales"], 95.0))
    ringing = board.snapshot()["agents"][0]
    assert (ringing["state"], ringing["call"]["callid"]) == ("ringing", "c1")
    board.handle(messages.call_connected("c1", "Sales", "555", "agent1"))
    board.handle(messages.agent_state("agent1", AgentState.BUSY.value, ["Sales"], 96.0))
    board.handle(messages.call_ended("c1", "Sales", "555", "agent1", ended_by="caller"))
    board.handle(messages.agent_state("agent1", AgentState.WRAPUP.value, ["Sales"], 99.0))
    snapshot = board.snapshot(["Sales"], ["agent1", "agent2"])
    agent1, agent2 = snapshot["agents"]
    assert (agent1["state"], agent1["call"]) == ("wrap-up", None)
    assert agent2["state"] == AgentState.DISCONNECTED.value
    sales = snapshot["campaigns"][0]
    assert (sales["entered"], sales["waiting"], sales["answered"], sales["talking"]) == (1, 0, 1, 0)


def test_demo_members_ring_pjsip_phones_in_the_phone_context() -> None:
    assert PHONE_CONTEXT == "from-internal"
    assert [agent.interface for agent in DEMO_AGENTS] == ["PJSIP/1001", "PJSIP/1002", "PJSIP/1003"]


def test_member_interfaces_from_the_api_are_what_the_stasis_app_rings() -> None:
    assert member_interface("SIP/1997") == "PJSIP/1997"
    assert member_interface("pjsip/1997") == "PJSIP/1997"
    assert member_interface(" 1997 ") == "PJSIP/1997"
    assert member_interface("Local/1997@agents-local") == "Local/1997@agents-local"

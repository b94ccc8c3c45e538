"""Dial and retrieve from the agent portal, and the seed's AgentCall, with real Socket.IO clients.

An outbound campaign is added to the shared database and loaded by the Stasis side; its dial string
rings the simulator's phones, so customers are phones too.
"""

from __future__ import annotations

import time

from realtime_system import Desk, Portal, RealtimeSystem, http

from datastore.models import Campaign
from harness.base import Behaviour

OUTBOUND = "rt-outbound"


def outbound_campaign(system: RealtimeSystem) -> str:
    """The outbound campaign (added once per module) with caller ID 2900."""
    service = system.stasis.service
    assert service is not None
    if OUTBOUND not in service.flow.campaigns:
        with system.sessions() as session:
            session.add(
                Campaign(
                    name=OUTBOUND,
                    did="2900",
                    direction="outbound",
                    timeout=15,
                    retry=0,
                    wrapuptime=0,
                    schedule="sun-sat;00:00-23:59",
                    dialstring=system.harness.phone_endpoint("{number}"),
                    callerid="2900",
                    auto_answer=True,
                )
            )
            session.commit()
        system.stasis.run(service.flow.reload(None))
    return OUTBOUND


def customer_phone(system: RealtimeSystem, number: str) -> None:
    system.stasis.run(system.harness.register_phone(number, Behaviour("answer")))


def logged_in(system: RealtimeSystem, desk: Desk, index: int) -> tuple[str, str]:
    agent, phone = desk.agents[index], desk.phones[index]
    system.behave(phone, "answer")
    return agent, phone


def test_dial_from_the_portal_until_the_customer_hangs_up(system: RealtimeSystem) -> None:
    campaign = outbound_campaign(system)
    desk = system.desk()
    agent, _phone = logged_in(system, desk, 0)
    customer_phone(system, "5557001")
    portal = system.portal(agent)
    portal.ok("login")
    refused = portal.call("dial", {"number": "5557001", "campaign": desk.campaign})
    assert not refused["ok"] and "not an outbound campaign" in refused["error"], refused
    assert portal.wait("command.error")["command"] == "dial"
    answer = portal.ok("dial", {"number": "5557001", "campaign": campaign})
    assert answer["callerid"] == "2900" and answer["guid"], answer
    dialing = portal.wait("call.dialing", lambda d: d["callid"] == answer["callid"])
    assert (dialing["number"], dialing["direction"], dialing["guid"]) == (
        "5557001",
        "outbound",
        answer["guid"],
    )
    portal.wait("agent.state", lambda d: d["state"] == "busy")
    connected = portal.wait("call.connected", lambda d: d["callid"] == answer["callid"])
    assert connected["caller"] == "5557001" and connected["direction"] == "outbound", connected
    busy_again = portal.call("dial", {"number": "5557001", "campaign": campaign})
    assert not busy_again["ok"] and agent in busy_again["error"], busy_again
    customer = system.ringing("5557001")
    system.hangup(customer)
    ended = portal.wait("call.ended", lambda d: d["callid"] == answer["callid"])
    assert ended["ended_by"] == "customer" and ended["dialstatus"] == "ANSWER", ended
    entry = portal.wait("history.entry", lambda d: d["callid"] == answer["callid"])
    assert entry["direction"] == "outbound" and entry["number"] == "5557001", entry


def test_agent_call_route_places_the_call_through_the_stasis_side(system: RealtimeSystem) -> None:
    campaign = outbound_campaign(system)
    desk = system.desk()
    agent, phone = logged_in(system, desk, 0)
    customer_phone(system, "5557002")
    portal = system.portal(agent)
    portal.ok("login")
    form = {
        "callerid": "2900",
        "agent": agent,
        "phone": phone,
        "tech": "SIP",
        "context": "agents",
        "outqueue": campaign,
        "destination": "5557002",
    }
    status, guid = http(
        "POST", f"{system.api.url}/Integra/resources/Agents/AgentCall", form, system.token(agent)
    )
    assert status == 200 and guid != "0" and len(guid) == 36, guid
    dialing = portal.wait("call.dialing", lambda d: d["guid"] == guid)
    portal.wait("call.connected", lambda d: d["callid"] == dialing["callid"])
    # The same agent is busy now: the route answers the seed's "0".
    status, again = http(
        "POST", f"{system.api.url}/Integra/resources/Agents/AgentCall", form, system.token(agent)
    )
    assert (status, again) == (200, "0")
    system.hangup(system.ringing("5557002"))
    portal.wait("call.ended", lambda d: d["callid"] == dialing["callid"])


def park(portal: Portal) -> int:
    """Park the agent's call (the features attach just after the bridge, so allow them a moment)."""
    deadline = time.monotonic() + 5.0
    while True:
        answer = portal.call("park")
        if answer["ok"] or time.monotonic() > deadline:
            assert answer["ok"], answer
            return int(answer["slot"])
        time.sleep(0.05)


def test_retrieve_a_parked_call_from_the_portal(system: RealtimeSystem) -> None:
    desk = system.desk()
    first = system.portal(desk.agents[0])
    first.ok("login")
    _second, _phone = logged_in(system, desk, 1)
    second = system.portal(desk.agents[1])
    second.ok("login")
    empty = second.call("retrieve", {"slot": 720})
    assert not empty["ok"] and empty["error"] == "slot 720 is empty", empty
    caller, _leg, callid = system.connected_call(desk, first, "5557003")
    slot = park(first)
    first.wait("call.ended", lambda d: d["callid"] == callid)
    mark = second.mark()
    answer = second.ok("retrieve", {"slot": slot})
    assert answer["slot"] == slot, answer
    second.wait("agent.state", lambda d: d["state"] == "busy", after=mark)
    system.ringing(desk.phones[1])
    system.hangup(caller)
    second.wait("agent.state", lambda d: d["state"] == "free", after=second.mark() - 1)

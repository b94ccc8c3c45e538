"""The call controls on a call an agent placed: hold, mute, DTMF and the phone's hang-up command.

Same set-up as ``test_agent_dial``: agent1 on phone 1001 dials 5550123 through the outbound
campaign. Hold writes HOLD / UNHOLD rows under the outbound campaign, as campaign calls get them;
``phone.hangup`` ends the call with one answer, one OUTCALL row and one CDR row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from bus import COMMANDS, Message
from bus import messages as bus_messages
from harness.base import Behaviour, CallHarness, FarEnd, has_heard
from harness.sim_backend import SimHarness

from .conftest import Starter, System
from .test_agent_dial import NUMBER, OUTBOUND, cdr_of, dial, no_strays, two_agents


async def connected_call(system: System) -> tuple[dict[str, Any], FarEnd]:
    """agent1's dial, once the customer answered and both are bridged."""
    reply = await system.command(dial())
    assert reply["ok"], reply
    await system.wait_event("call.connected", callid=reply["callid"], agent="agent1")
    customer = await system.harness.wait_for_ringing(NUMBER)
    await system.harness.wait_heard(customer, has_heard("bridged"))
    return reply, customer


def customer_channel(rows: Sequence[tuple[str, ...]]) -> str:
    return rows[0][3]


def muted_directions(harness: CallHarness, channel_id: str) -> set[str] | None:
    """What the simulator mutes on a channel (None when the backend does not show it)."""
    if not isinstance(harness, SimHarness) or harness.server is None or harness.server.engine is None:
        return None
    return set(harness.server.engine.channels[channel_id].muted)


async def test_hold_mute_and_dtmf_on_a_dialed_call(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("answer"))
    reply, customer = await connected_call(system)
    callid = reply["callid"]

    held = await system.command({"type": "call.hold", "agent": "agent1"})
    assert held == {"ok": True, "callid": callid, "held": True}, held
    await system.wait_event("call.held", callid=callid, agent="agent1", campaign=OUTBOUND, caller=NUMBER)
    rows = await system.wait_rows(callid, "HOLD")
    assert len(rows) == 1, rows
    # channel|calleridname|calleridnum|connectedlinename|connectedlinenum: the customer held, the agent.
    phone = harness.phone_endpoint("1001").split("/", 1)[-1]
    assert rows[0][:3] == ("HOLD", OUTBOUND, "agent1") and rows[0][4:] == ("", NUMBER, "agent1", phone)
    assert NUMBER in customer_channel(rows), rows
    if harness.name == "sim":
        await harness.wait_heard(customer, has_heard("moh"))
    again = await system.command({"type": "call.hold", "agent": "agent1"})
    assert again == {"ok": False, "error": "the call is already on hold"}, again
    unheld = await system.command({"type": "call.hold", "agent": "agent1", "on": False})
    assert unheld == {"ok": True, "callid": callid, "held": False}, unheld
    await system.wait_event("call.unheld", callid=callid)
    rows = await system.wait_rows(callid, "UNHOLD")
    assert [r[0] for r in rows] == ["HOLD", "UNHOLD"] and rows[1][1:] == rows[0][1:], rows

    muted = await system.command({"type": "call.mute", "agent": "agent1"})
    assert muted == {"ok": True, "callid": callid, "muted": True}, muted
    await system.wait_event("call.muted", callid=callid, agent="agent1")
    # The agent's leg is the one muted: the customer's voice still reaches the agent.
    assert muted_directions(harness, callid) in (None, {"in"})
    assert muted_directions(harness, reply["callid"] + "-customer") in (None, set())
    unmuted = await system.command({"type": "call.mute", "agent": "agent1", "on": False})
    assert unmuted == {"ok": True, "callid": callid, "muted": False}, unmuted
    await system.wait_event("call.unmuted", callid=callid)
    assert muted_directions(harness, callid) in (None, set())

    bad = await system.command({"type": "call.dtmf", "agent": "agent1", "digits": "12x"})
    assert not bad["ok"] and "DTMF" in bad["error"], bad
    sent = await system.command({"type": "call.dtmf", "agent": "agent1", "digits": "42#"})
    assert sent == {"ok": True, "callid": callid, "digits": "42#"}, sent

    def digits(items: list[dict[str, Any]]) -> bool:
        return "".join(str(i.get("digit")) for i in items if i.get("kind") == "dtmf") == "42#"

    await harness.wait_heard(customer, digits)
    desk = await system.command({"type": "agent.session", "agent": "agent1"})
    call = desk["session"]["call"]
    assert (call["callid"], call["held"], call["muted"]) == (callid, False, False), desk

    await harness.hangup(customer)
    await system.wait_event("call.ended", callid=callid)
    rows = await system.wait_rows(callid, "OUTCALL")
    assert [r[0] for r in rows] == ["HOLD", "UNHOLD", "OUTCALL"], rows
    # Once the call is over the controls have nothing to act on.
    late = await system.command({"type": "call.hold", "agent": "agent1"})
    assert late == {"ok": False, "error": "agent agent1 is not in a call"}, late
    await no_strays(system)


async def replies_to(system: System, message: Message, within: float = 0.5) -> list[dict[str, Any]]:
    """Every answer a request gets (not only the first, which is all ``request`` gives)."""
    channel = f"{bus_messages.REPLIES_PREFIX}test-{id(message)}"
    answers: list[dict[str, Any]] = []

    async def collect(reply: Message) -> None:
        answers.append(reply["payload"])

    subscription = system.bus.subscribe(channel, collect)
    try:
        await system.bus.publish(COMMANDS, {**message, "request_id": "hangup-1", "reply_to": channel})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10.0
        while not answers:
            assert loop.time() < deadline, f"no answer to {message}"
            await asyncio.sleep(0.01)
        # Let any second answer arrive before counting.
        await asyncio.sleep(within)
    finally:
        subscription.cancel()
    return answers


async def test_phone_hangup_ends_a_dialed_call_once(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("answer"), wrapuptime=30)
    reply, _customer = await connected_call(system)
    callid, guid = reply["callid"], reply["guid"]
    answers = await replies_to(system, bus_messages.phone_hangup("1001"))
    assert answers == [{"ok": True, "result": 1}], answers
    ended = await system.wait_event("call.ended", callid=callid)
    assert ended["ended_by"] == "agent" and ended["dialstatus"] == "ANSWER", ended
    await system.wait_event("agent.state", agent="agent1", state="wrap-up")
    rows = await system.wait_rows(callid, "OUTCALL")
    assert [r[:4] for r in rows] == [("OUTCALL", OUTBOUND, "agent1", "ANSWER")], rows
    cdrs = cdr_of(db_engine, guid)
    assert [(c.disposition, c.dst, c.uniqueid) for c in cdrs] == [("ANSWERED", NUMBER, callid)], cdrs
    # Nothing left to hang up: the flow's answer is the seed's 0, still only one of them.
    answers = await replies_to(system, bus_messages.phone_hangup("1001"))
    assert answers == [{"ok": False, "result": 0}], answers
    await no_strays(system)
    assert len(await system.queue_log(callid)) == 1
    assert len(cdr_of(db_engine, guid)) == 1


async def test_phone_hangup_while_the_customer_rings_cancels_the_dial(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("ring"))
    reply = await system.command(dial())
    assert reply["ok"], reply
    await harness.wait_for_ringing(NUMBER)
    await system.wait_event("agent.state", agent="agent1", state="busy")
    assert await system.command(bus_messages.phone_hangup("1001")) == {"ok": True, "result": 1}
    ended = await system.wait_event("call.ended", callid=reply["callid"])
    assert ended["ended_by"] == "agent" and ended["dialstatus"] == "CANCEL", ended
    rows = await system.wait_rows(reply["callid"], "OUTCALL")
    assert [r[:5] for r in rows] == [("OUTCALL", OUTBOUND, "agent1", "CANCEL", "0")], rows
    cdrs = cdr_of(db_engine, reply["guid"])
    assert [(c.disposition, c.billsec) for c in cdrs] == [("NO ANSWER", 0)], cdrs
    await no_strays(system)

"""In-call features on campaign calls, end to end, with the queue_log rows Asterisk would write.

A customer calls the "Sales" campaign; agent1 answers on phone 1001. The agent transfers, parks or
holds the call with keys on the agent's leg or with bus commands; the customer's keys are never a
feature. Rows: BLINDTRANSFER / TRANSFER ``extension|context|holdtime|calltime|origposition``,
ATTENDEDTRANSFER ``BRIDGE|bridge|holdtime|calltime|origposition``, HOLD / UNHOLD
``channel|calleridname|calleridnum|agent|agent's phone``.
"""

from __future__ import annotations

import asyncio

from harness.base import Behaviour, CallHarness, FarEnd, Heard, has_heard

from .conftest import CLEAN, CUSTOMER, CUSTOMER_NAME, QueueRow, Starter, System, played

DID = "7800"


async def connected(harness: CallHarness, start_system: Starter) -> tuple[System, FarEnd, FarEnd]:
    """agent1 (phone 1001) and agent2 (phone 1002) are logged in; the customer talks to agent1."""
    await harness.register_phone("1001", Behaviour("answer"))
    await harness.register_phone("1002", Behaviour("answer"))
    system = await start_system(
        campaigns={"Sales": (DID, {"agent1": "1001"}), "Support": ("7801", {"agent2": "1002"})}
    )
    await system.login("agent1", "1001")
    await system.login("agent2", "1002")
    customer = await system.call_in(DID)
    agent_leg = await harness.wait_for_ringing("1001")
    await system.wait_event("call.connected", callid=customer.channel_id, agent="agent1")
    await harness.wait_heard(customer, has_heard("bridged"))
    await conversation_of(system, "agent1")
    return system, customer, agent_leg


async def conversation_of(system: System, agent: str, within: float = 10.0) -> None:
    """Wait until the features watch the agent's call (they attach once it is bridged)."""
    incall = system.service.incall
    assert incall is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(
        not conv.over and any(p.agent == agent for p in conv.parties)
        for conv in incall.conversations.values()
    ):
        assert loop.time() < deadline, "the features never attached to the call"
        await asyncio.sleep(0.02)


async def bridged_with(system: System, far_end: FarEnd, other: FarEnd, within: float = 10.0) -> None:
    def holds(items: list[Heard]) -> bool:
        return any(
            item.get("kind") == "bridged" and other.channel_id in (item.get("with") or []) for item in items
        )

    await system.harness.wait_heard(far_end, holds, within)


def transfer_row(rows: list[QueueRow], event: str) -> QueueRow:
    found = [row for row in rows if row[0] == event]
    assert len(found) == 1, rows
    return found[0]


def assert_times(row: QueueRow, *, position: str = "1") -> None:
    """holdtime and calltime are whole seconds, then the original position."""
    _event, _queue, _agent, _d1, _d2, holdtime, calltime, origposition = row
    assert holdtime.isdigit() and calltime.isdigit() and origposition == position, row


async def no_strays(system: System) -> None:
    assert await system.harness.wait_no_strays(8.0) == CLEAN
    incall = system.service.incall
    assert incall is not None
    assert not [c for c in incall.conversations.values() if not c.over]


# Blind transfers --------------------------------------------------------------------------------


async def test_agent_blind_transfers_with_keys_to_an_extension(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("203", Behaviour("answer"))
    system, customer, agent_leg = await connected(harness, start_system)
    await harness.press(agent_leg, "##")
    await harness.press(agent_leg, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, customer, target)
    await system.wait_event("call.ended", callid=customer.channel_id, ended_by="transfer")
    rows = await system.wait_rows(customer.channel_id, "BLINDTRANSFER")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "BLINDTRANSFER"], rows
    row = transfer_row(rows, "BLINDTRANSFER")
    assert row[1:5] == ("Sales", "agent1", "203", "from-internal"), row
    assert_times(row)
    await harness.hangup(customer)
    await no_strays(system)
    # The call was the agent's until the transfer only: no completion row follows.
    assert [r[0] for r in await system.queue_log(customer.channel_id)][-1] == "BLINDTRANSFER"


async def test_agent_blind_transfers_to_another_agent_by_command(
    harness: CallHarness, start_system: Starter
) -> None:
    system, customer, _agent_leg = await connected(harness, start_system)
    reply = await system.command(
        {"type": "call.transfer", "agent": "agent1", "mode": "blind", "to": "agent", "target": "agent2"}
    )
    assert reply["ok"] and reply["target"] == "agent2", reply
    second = await harness.wait_for_ringing("1002", within=10)
    await bridged_with(system, customer, second)
    rows = await system.wait_rows(customer.channel_id, "BLINDTRANSFER")
    row = transfer_row(rows, "BLINDTRANSFER")
    assert row[1:5] == ("Sales", "agent1", "agent2", "agent"), row
    assert_times(row)
    await harness.hangup(second)
    await no_strays(system)


# Attended transfers -----------------------------------------------------------------------------


async def test_agent_attended_transfer_with_keys_completes_on_hang_up(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("203", Behaviour("answer"))
    system, customer, agent_leg = await connected(harness, start_system)
    await harness.press(agent_leg, "#0")
    await harness.press(agent_leg, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, agent_leg, target)
    # While the agent consults, the call is still the agent's: nothing is logged yet.
    assert [r[0] for r in await system.queue_log(customer.channel_id)] == ["ENTERQUEUE", "CONNECT"]
    await harness.hangup(agent_leg)
    await bridged_with(system, customer, target)
    rows = await system.wait_rows(customer.channel_id, "ATTENDEDTRANSFER")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "ATTENDEDTRANSFER"], rows
    row = transfer_row(rows, "ATTENDEDTRANSFER")
    assert row[1:4] == ("Sales", "agent1", "BRIDGE"), row
    assert row[4] in (await harness.stray_state())["bridges"], row
    assert_times(row)
    await harness.hangup(target)
    await no_strays(system)


async def test_agent_attended_transfer_by_command_then_complete(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("203", Behaviour("answer"))
    system, customer, agent_leg = await connected(harness, start_system)
    reply = await system.command(
        {"type": "call.transfer", "agent": "agent1", "mode": "attended", "to": "extension", "target": "203"}
    )
    assert reply["ok"], reply
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, agent_leg, target)
    reply = await system.command({"type": "call.transfer", "agent": "agent1", "mode": "complete"})
    assert reply == {"ok": True, "state": "completed"}, reply
    await bridged_with(system, customer, target)
    row = transfer_row(await system.wait_rows(customer.channel_id, "ATTENDEDTRANSFER"), "ATTENDEDTRANSFER")
    assert row[1:4] == ("Sales", "agent1", "BRIDGE") and row[4], row
    assert_times(row)
    await harness.hangup(customer)
    await no_strays(system)


async def test_agent_attended_transfer_aborted_keeps_the_call(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("203", Behaviour("answer"))
    system, customer, agent_leg = await connected(harness, start_system)
    await harness.press(agent_leg, "#0")
    await harness.press(agent_leg, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, agent_leg, target)
    await harness.press(agent_leg, "*")
    incall = system.service.incall
    assert incall is not None
    conv = next(c for c in incall.conversations.values() if not c.over and c.machine is not None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conv.machine.state.value != "returned":
        assert loop.time() < deadline, conv.machine.path()
        await asyncio.sleep(0.02)
    assert {p.channel_id for p in conv.parties} == {customer.channel_id, agent_leg.channel_id}
    await harness.hangup(customer)
    rows = await system.wait_rows(customer.channel_id, "COMPLETECALLER")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    await no_strays(system)


# Parking --------------------------------------------------------------------------------------


async def test_agent_parks_with_keys_and_a_phone_retrieves(
    harness: CallHarness, start_system: Starter
) -> None:
    system, customer, agent_leg = await connected(harness, start_system)
    await harness.press(agent_leg, "#3")
    await harness.wait_heard(agent_leg, lambda items: "digits:701" in played(items), within=10)
    rows = await system.wait_rows(customer.channel_id, "TRANSFER")
    row = transfer_row(rows, "TRANSFER")
    assert row[1:5] == ("Sales", "agent1", "701", "parking"), row
    assert_times(row)
    retriever = await system.harness.place_call("701", "204", context="from-internal")
    await bridged_with(system, retriever, customer)
    await harness.hangup(customer)
    await no_strays(system)


async def test_agent_parks_by_command(harness: CallHarness, start_system: Starter) -> None:
    system, customer, _agent_leg = await connected(harness, start_system)
    reply = await system.command({"type": "call.park", "agent": "agent1"})
    assert reply == {"ok": True, "slot": 701}, reply
    row = transfer_row(await system.wait_rows(customer.channel_id, "TRANSFER"), "TRANSFER")
    assert row[3:5] == ("701", "parking"), row
    await harness.hangup(customer)
    await no_strays(system)
    parking = system.service.phones.parking
    assert parking is not None and parking.slots() == {}  # type: ignore[attr-defined]


# Hold -----------------------------------------------------------------------------------------


async def test_agent_holds_and_unholds_by_command(harness: CallHarness, start_system: Starter) -> None:
    system, customer, agent_leg = await connected(harness, start_system)
    reply = await system.command({"type": "call.hold", "agent": "agent1", "on": True})
    assert reply["ok"] and reply["held"] is True, reply
    rows = await system.wait_rows(customer.channel_id, "HOLD")
    reply = await system.command({"type": "call.hold", "agent": "agent1", "on": False})
    assert reply["ok"] and reply["held"] is False, reply
    rows = await system.wait_rows(customer.channel_id, "UNHOLD")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "HOLD", "UNHOLD"], rows
    channels = {c["id"]: c["name"] for c in await harness.ari.get("/channels")}
    agent_phone = harness.phone_endpoint("1001").split("/", 1)[1]
    for row in rows[2:]:
        assert row[1:3] == ("Sales", "agent1"), row
        assert row[3:] == (channels[customer.channel_id], CUSTOMER_NAME, CUSTOMER, "agent1", agent_phone)
    await harness.hangup(agent_leg)
    rows = await system.wait_rows(customer.channel_id, "COMPLETEAGENT")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "HOLD", "UNHOLD", "COMPLETEAGENT"], rows
    await no_strays(system)


# The customer's keys are no feature --------------------------------------------------------------


async def test_customer_keys_reach_the_agent_and_start_nothing(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("203", Behaviour("answer"))
    system, customer, agent_leg = await connected(harness, start_system)
    await harness.press(customer, "##203#")
    await harness.press(customer, "#3")
    heard = await harness.wait_heard(
        agent_leg,
        lambda items: (
            [i.get("digit") for i in items if i.get("kind") == "dtmf"][-6:] == ["2", "0", "3", "#", "#", "3"]
        ),
    )
    assert [i.get("digit") for i in heard if i.get("kind") == "dtmf"] == list("##203##3")
    with_features = system.service.incall
    assert with_features is not None
    conv = next(c for c in with_features.conversations.values() if not c.over)
    assert conv.machine is None and not conv.owned
    parking = system.service.phones.parking
    assert parking is not None and parking.slots() == {}  # type: ignore[attr-defined]
    await harness.hangup(customer)
    rows = await system.wait_rows(customer.channel_id, "COMPLETECALLER")
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    await no_strays(system)
    # Phone 203 was never rung.
    try:
        await harness.wait_for_ringing("203", within=0.3)
    except TimeoutError:
        pass
    else:
        raise AssertionError("the customer's keys rang phone 203")

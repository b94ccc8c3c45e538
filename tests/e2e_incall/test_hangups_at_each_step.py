"""Parking, rooms and attended transfers survive a far end hanging up at each step.

Each scenario hangs up one party at one step and then checks that the system under test holds no
channel and no bridge any more (and that the features hold no live conversation, slot or room).
201 calls 202; 202 (the transferrer or parker) presses the codes; 203 is the transfer target.
"""

from __future__ import annotations

import asyncio

from harness.base import Behaviour, CallHarness, FarEnd
from stasis_app.phones.transfers import TransferMachine

from .conftest import Starter, System
from .test_incall_features import bridged_with, conversation_with, no_strays, played, start, talking


async def transfer_machine(system: System, within: float = 10.0) -> TransferMachine:
    """The machine of the transfer that starts next (kept: it outlives its conversation)."""
    incall = system.service.incall
    assert incall is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        for conv in incall.conversations.values():
            if isinstance(conv.machine, TransferMachine):
                return conv.machine
        assert loop.time() < deadline, "no transfer started"
        await asyncio.sleep(0.01)


async def reach(machine: TransferMachine, value: str, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while machine.state.value != value:
        assert loop.time() < deadline, machine.path()
        await asyncio.sleep(0.01)


async def saw(machine: TransferMachine, event: str, within: float = 10.0) -> None:
    """Until the machine has taken ``event`` (its state may not change with it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(step.event == event for step in machine.history):
        assert loop.time() < deadline, machine.path()
        await asyncio.sleep(0.01)


def ring_long(system: System) -> None:
    """Targets ring until the test acts (on a simulator 2 s of ringing pass in a blink)."""
    assert system.service.incall is not None
    system.service.incall.settings.ring_timeout = 60


async def all_clear(system: System) -> None:
    await no_strays(system)
    phones = system.service.phones
    assert phones.parking is not None and phones.parking.slots() == {}  # type: ignore[attr-defined]
    assert phones.conferences is not None and phones.conferences.rooms() == {}  # type: ignore[attr-defined]


async def consulting(system: System, harness: CallHarness) -> tuple[FarEnd, FarEnd, FarEnd]:
    caller, phone = await talking(system)
    await harness.press(phone, "#0")
    await harness.press(phone, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, phone, target)
    return caller, phone, target


# Attended transfer ---------------------------------------------------------------------------------


async def test_attended_transferrer_hangs_up_while_dialing(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    _caller, phone = await talking(system)
    await harness.press(phone, "#0")
    machine = await transfer_machine(system)
    await reach(machine, "collecting")
    await harness.hangup(phone)
    await reach(machine, "ended")
    await all_clear(system)


async def test_attended_other_party_hangs_up_while_transferrer_dials(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "#0")
    machine = await transfer_machine(system)
    await reach(machine, "collecting")
    await harness.hangup(caller)
    await reach(machine, "ended")
    await all_clear(system)


async def test_attended_other_party_hangs_up_while_target_rings(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    ring_long(system)
    caller, phone = await talking(system)
    await harness.press(phone, "#0203#")
    target = await harness.wait_for_ringing("203", within=10)
    machine = await transfer_machine(system)
    await reach(machine, "consult-ringing")
    await harness.hangup(caller)
    await saw(machine, "other-left")
    await harness.answer(target)
    # The transferrer now simply talks to the target.
    await conversation_with(system, phone.channel_id, target.channel_id)
    await harness.hangup(phone)
    await all_clear(system)


async def test_attended_target_refuses_while_ringing(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    ring_long(system)
    caller, phone = await talking(system)
    await harness.press(phone, "#0203#")
    target = await harness.wait_for_ringing("203", within=10)
    machine = await transfer_machine(system)
    await reach(machine, "consult-ringing")
    await harness.hangup(target, 21)
    await reach(machine, "returned")
    await conversation_with(system, caller.channel_id, phone.channel_id)
    await harness.hangup(caller)
    await all_clear(system)


async def test_attended_everyone_but_the_target_leaves_while_it_rings(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    ring_long(system)
    caller, phone = await talking(system)
    await harness.press(phone, "#0203#")
    await harness.wait_for_ringing("203", within=10)
    machine = await transfer_machine(system)
    await reach(machine, "consult-ringing")
    await harness.hangup(caller)
    await saw(machine, "other-left")
    await harness.hangup(phone)
    await all_clear(system)


async def test_attended_completed_then_target_hangs_up(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone, target = await consulting(system, harness)
    await harness.hangup(phone)
    await conversation_with(system, caller.channel_id, target.channel_id)
    await harness.hangup(target)
    await all_clear(system)


async def test_attended_transferrer_leaves_and_target_never_answers(
    harness: CallHarness, start_system: Starter
) -> None:
    """The target rings out; the transferrer (202) is rung back, refuses, and the call ends."""
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    _caller, phone = await talking(system)
    await harness.press(phone, "#0203#")
    await harness.wait_for_ringing("203", within=10)
    machine = await transfer_machine(system)
    await reach(machine, "consult-ringing")
    await harness.set_phone_behaviour("202", Behaviour("busy"))
    await harness.hangup(phone)
    await reach(machine, "ended", within=15)
    await all_clear(system)


# Parking -------------------------------------------------------------------------------------------


async def test_parker_hangs_up_while_hearing_the_slot(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "#3")
    parking = system.service.phones.parking
    assert parking is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while parking.slots() != {701: caller.channel_id}:  # type: ignore[attr-defined]
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    await harness.hangup(phone)
    # The parked party still waits in its slot; it leaves later.
    assert parking.slots() == {701: caller.channel_id}  # type: ignore[attr-defined]
    await harness.hangup(caller)
    await all_clear(system)


async def test_parked_party_hangs_up_while_the_parker_is_rung_back(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    incall = system.service.incall
    assert incall is not None
    incall.parking.lot.timeout = 0.3
    caller, phone = await talking(system)
    await harness.set_phone_behaviour("202", Behaviour("ring"))
    await harness.press(phone, "#3")
    await harness.wait_heard(phone, lambda items: "digits:701" in played(items), within=10)
    await harness.wait_for_ringing("202", within=10)
    await harness.hangup(caller)
    await all_clear(system)


async def test_parker_does_not_answer_the_ring_back(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    incall = system.service.incall
    assert incall is not None
    incall.parking.lot.timeout = 0.3
    _caller, phone = await talking(system)
    await harness.set_phone_behaviour("202", Behaviour("busy"))
    await harness.press(phone, "#3")
    await harness.wait_heard(phone, lambda items: "digits:701" in played(items), within=10)
    await all_clear(system)


async def test_retrieved_party_hangs_up(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "#3")
    await harness.wait_heard(phone, lambda items: "digits:701" in played(items), within=10)
    retriever = await system.dial("204", "701")
    await bridged_with(system, retriever, caller)
    await harness.hangup(caller)
    await all_clear(system)


# Conference rooms ----------------------------------------------------------------------------------


async def test_lone_member_hangs_up_while_hearing_the_prompt(
    harness: CallHarness, start_system: Starter
) -> None:
    system = await start(harness, start_system)
    first = await system.dial("201", "555300")
    conferences = system.service.phones.conferences
    assert conferences is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conferences.rooms().get("300") != [first.channel_id]:  # type: ignore[attr-defined]
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    await harness.hangup(first)
    await all_clear(system)


async def test_party_sent_to_a_room_hangs_up_there(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##555400#")
    conferences = system.service.phones.conferences
    assert conferences is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conferences.rooms().get("400") != [caller.channel_id]:  # type: ignore[attr-defined]
        assert loop.time() < deadline, conferences.rooms()  # type: ignore[attr-defined]
        await asyncio.sleep(0.02)
    await harness.hangup(caller)
    await all_clear(system)


async def test_caller_hangs_up_while_being_sent_to_a_room(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##555")
    machine = await transfer_machine(system)
    await reach(machine, "collecting")
    await harness.hangup(caller)
    await reach(machine, "ended")
    await all_clear(system)


async def test_three_members_leave_one_by_one(harness: CallHarness, start_system: Starter) -> None:
    system = await start(harness, start_system)
    members = [await system.dial(ext, "555500") for ext in ("201", "202", "203")]
    conferences = system.service.phones.conferences
    assert conferences is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while len(conferences.rooms().get("500", [])) != 3:  # type: ignore[attr-defined]
        assert loop.time() < deadline
        await asyncio.sleep(0.02)
    for index, member in enumerate(members):
        await harness.hangup(member)
        if index < 2:
            while len(conferences.rooms().get("500", [])) != 2 - index:  # type: ignore[attr-defined]
                assert loop.time() < deadline
                await asyncio.sleep(0.02)
            assert any(b.startswith("oc-conf-500") for b in (await harness.stray_state())["bridges"])
    await all_clear(system)

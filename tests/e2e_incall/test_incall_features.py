"""In-call features end to end: ## blind transfer, #0 attended transfer, #3 park, 555XXX rooms.

Phone 201 calls 202 (A, the transferrer, presses the codes); 203 and 204 are the targets. Every
scenario ends with no channel and no bridge left on the system under test, whichever party hangs
up and at whichever step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from harness.base import Behaviour, CallHarness, FarEnd, Heard, has_heard
from stasis_app.phones.codes import FeatureCodes
from stasis_app.phones.incall import Conversation

from .conftest import CLEAN, Starter, System

FAST = FeatureCodes(interdigit_timeout=0.4)


def played(items: list[Heard]) -> list[str]:
    return [str(item.get("media")) for item in items if item.get("kind") == "playback"]


async def start(harness: CallHarness, start_system: Starter, **options: Any) -> System:
    system = await start_system(codes=FAST, ring_timeout=2, **options)
    incall = system.service.incall
    assert incall is not None
    incall.settings.ring_timeout = 2
    return system


async def talking(system: System, *, to: str = "202") -> tuple[FarEnd, FarEnd]:
    """201 calls ``to``, which answers; returns (caller 201, phone)."""
    caller = await system.dial("201", to)
    phone = await system.harness.wait_for_ringing(to)
    await system.harness.wait_heard(caller, has_heard("bridged"))
    return caller, phone


async def conversation_with(system: System, *channel_ids: str, within: float = 10.0) -> Conversation:
    """Wait until the features hold a conversation between exactly these channels."""
    incall = system.service.incall
    assert incall is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    wanted = set(channel_ids)
    while True:
        for conv in incall.conversations.values():
            if not conv.over and {p.channel_id for p in conv.parties} == wanted and conv.bridge_id:
                return conv
        if loop.time() >= deadline:
            found = [[p.channel_id for p in c.parties] for c in incall.conversations.values()]
            raise TimeoutError(f"no conversation of {wanted}; have {found}")
        await asyncio.sleep(0.02)


async def bridged_with(system: System, far_end: FarEnd, other: FarEnd, within: float = 10.0) -> None:
    def holds(items: list[Heard]) -> bool:
        return any(
            item.get("kind") == "bridged" and other.channel_id in (item.get("with") or []) for item in items
        )

    await system.harness.wait_heard(far_end, holds, within)


async def no_strays(system: System) -> None:
    assert await system.harness.wait_no_strays(8.0) == CLEAN
    incall = system.service.incall
    assert incall is not None
    assert not [c for c in incall.conversations.values() if not c.over]


# Digits that are no feature --------------------------------------------------------------------


async def test_digits_that_are_no_code_reach_the_other_party(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "5#7")
    heard = await harness.wait_heard(
        caller,
        lambda items: [i.get("digit") for i in items if i.get("kind") == "dtmf"][-3:] == ["5", "#", "7"],
    )
    assert [i.get("digit") for i in heard if i.get("kind") == "dtmf"].count("5") == 1
    # The customer side (the caller here is a phone too, but features are per party) still talks.
    await harness.hangup(caller)
    await no_strays(system)


# Blind transfer --------------------------------------------------------------------------------


async def test_blind_transfer_answered(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer", answer_after=0.3))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##")
    await harness.press(phone, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    conv = await conversation_with(system, caller.channel_id, target.channel_id)
    assert conv.machine.path() == ["talking", "collecting", "ringing-target", "completed"]
    await bridged_with(system, caller, target)
    if harness.name == "sim":
        assert has_heard("ringing")(await harness.heard(caller))
        assert "sound:transfer" in played(await harness.heard(phone))
    await harness.hangup(target)
    await no_strays(system)


async def test_blind_transfer_no_answer_returns_to_transferrer(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    caller, _phone = await talking(system)
    await harness.press(_phone, "##203#")
    await harness.wait_for_ringing("203", within=10)
    back = await harness.wait_for_ringing("202", within=15)
    conv = await conversation_with(system, caller.channel_id, back.channel_id)
    assert conv.machine.path()[-3:] == ["ringing-target", "calling-back", "returned"]
    await bridged_with(system, caller, back)
    await harness.hangup(caller)
    await no_strays(system)


async def test_blind_transfer_to_busy_target_returns(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("busy"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##203#")
    back = await harness.wait_for_ringing("202", within=15)
    await conversation_with(system, caller.channel_id, back.channel_id)
    await harness.hangup(back)
    await no_strays(system)


async def test_blind_transfer_to_invalid_target_goes_back(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##299#")
    conv = await conversation_with(system, caller.channel_id, phone.channel_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conv.machine is None or conv.machine.state.value != "returned":
        assert loop.time() < deadline, conv.machine
        await asyncio.sleep(0.02)
    await harness.wait_heard(phone, lambda items: "sound:pbx-invalid" in played(items))
    await harness.hangup(phone)
    await no_strays(system)


async def test_blind_transfer_caller_hangs_up_while_target_rings(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    incall = system.service.incall
    assert incall is not None
    # Long enough that the test's answer always comes before the consultation times out.
    incall.settings.ring_timeout = 30
    caller, phone = await talking(system)
    await harness.press(phone, "##203#")
    await harness.wait_for_ringing("203", within=10)
    await harness.hangup(caller)
    await no_strays(system)


# Attended transfer -----------------------------------------------------------------------------


async def consult(system: System, harness: CallHarness) -> tuple[FarEnd, FarEnd, FarEnd]:
    caller, phone = await talking(system)
    await harness.press(phone, "#0")
    await harness.press(phone, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, phone, target)
    return caller, phone, target


async def test_attended_transfer_completes_when_transferrer_hangs_up(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone, target = await consult(system, harness)
    if harness.name == "sim":
        assert has_heard("moh")(await harness.heard(caller))
    await harness.hangup(phone)
    conv = await conversation_with(system, caller.channel_id, target.channel_id)
    assert conv.machine.path()[-3:] == ["consult-ringing", "consulting", "completed"]
    await bridged_with(system, caller, target)
    await harness.hangup(caller)
    await no_strays(system)


async def test_attended_transfer_abort_with_star(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone, _target = await consult(system, harness)
    await harness.press(phone, "*")
    conv = await conversation_with(system, caller.channel_id, phone.channel_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conv.machine.state.value != "returned":
        assert loop.time() < deadline
        await asyncio.sleep(0.02)
    assert conv.machine.path()[-2:] == ["consulting", "returned"]
    await harness.hangup(caller)
    await no_strays(system)


async def test_attended_transfer_target_hangs_up(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone, target = await consult(system, harness)
    await harness.hangup(target)
    conv = await conversation_with(system, caller.channel_id, phone.channel_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conv.machine.state.value != "returned":
        assert loop.time() < deadline
        await asyncio.sleep(0.02)
    await harness.hangup(phone)
    await no_strays(system)


async def test_attended_transfer_transferrer_hangs_up_before_target_answers(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    # The target rings until the test answers it, so the transferrer surely hangs up first.
    await harness.register_phone("203", Behaviour("ring"))
    system = await start(harness, start_system)
    incall = system.service.incall
    assert incall is not None
    # Long enough that the test's answer always comes before the consultation times out.
    incall.settings.ring_timeout = 30
    caller, phone = await talking(system)
    await harness.press(phone, "#0203#")
    target = await harness.wait_for_ringing("203", within=10)
    await harness.hangup(phone)
    await harness.answer(target)
    conv = next(iter(c for c in incall.conversations.values() if not c.over))
    target_id = await _wait_other(conv, caller.channel_id)
    assert conv.machine.path()[-3:] == ["consult-ringing", "ringing-target", "completed"]
    assert target_id
    await harness.hangup(caller)
    await no_strays(system)


async def _wait_other(conv: Conversation, keep: str) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        others = [p.channel_id for p in conv.parties if p.channel_id != keep]
        if len(conv.parties) == 2 and others and conv.machine.state.value == "completed":
            return others[0]
        assert loop.time() < deadline, (conv.parties, conv.machine)
        await asyncio.sleep(0.02)


async def test_attended_transfer_other_party_hangs_up_while_consulting(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone, target = await consult(system, harness)
    await harness.hangup(caller)
    await conversation_with(system, phone.channel_id, target.channel_id)
    await harness.hangup(target)
    await no_strays(system)


# Parking ---------------------------------------------------------------------------------------


async def test_park_and_retrieve(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "#3")
    await harness.wait_heard(phone, lambda items: "digits:701" in played(items), within=10)
    parking = system.service.phones.parking
    assert parking is not None
    assert list(parking.slots()) == [701]  # type: ignore[attr-defined]
    if harness.name == "sim":
        assert has_heard("moh")(await harness.heard(caller))
    retriever = await system.dial("204", "701")
    await conversation_with(system, caller.channel_id, retriever.channel_id)
    await bridged_with(system, retriever, caller)
    assert parking.slots() == {}  # type: ignore[attr-defined]
    await harness.hangup(retriever)
    await no_strays(system)


async def test_park_timeout_rings_the_parker_back(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    assert system.service.incall is not None
    system.service.incall.settings.park_timeout = 0.5
    parking = system.service.incall.parking
    parking.lot.timeout = 0.5
    caller, phone = await talking(system)
    await harness.press(phone, "#3")
    back = await harness.wait_for_ringing("202", within=10)
    await conversation_with(system, caller.channel_id, back.channel_id)
    await harness.hangup(caller)
    await no_strays(system)


async def test_parked_party_hangs_up_frees_the_slot(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "#3")
    await harness.wait_heard(phone, lambda items: "digits:701" in played(items), within=10)
    await harness.hangup(caller)
    await no_strays(system)
    parking = system.service.phones.parking
    assert parking is not None
    assert parking.slots() == {}  # type: ignore[attr-defined]
    retriever = await system.dial("204", "701")
    record = await system.outcome(retriever)
    assert record.outcome.startswith("handed")
    assert "sound:pbx-invalid" in played(await harness.heard(retriever))
    await no_strays(system)


# Conference rooms ------------------------------------------------------------------------------


async def test_conference_dial_in_and_last_member_ends_the_room(
    harness: CallHarness, start_system: Starter
) -> None:
    system = await start(harness, start_system)
    first = await system.dial("201", "555100")
    second = await system.dial("202", "555100")
    await bridged_with(system, first, second)
    conferences = system.service.phones.conferences
    assert conferences is not None
    assert len(conferences.rooms()["100"]) == 2  # type: ignore[attr-defined]
    assert "sound:conf-onlyperson" in played(await harness.heard(first))
    await harness.hangup(first)
    state = await harness.stray_state()
    assert any(bridge.startswith("oc-conf-100") for bridge in state["bridges"])
    await harness.hangup(second)
    await no_strays(system)
    assert conferences.rooms() == {}  # type: ignore[attr-defined]


async def test_transfer_into_a_room_then_join_it(harness: CallHarness, start_system: Starter) -> None:
    """The seed's conference with an active call: ## 555 + room, then the transferrer dials the room."""
    await harness.register_phone("202", Behaviour("answer"))
    system = await start(harness, start_system)
    caller, phone = await talking(system)
    await harness.press(phone, "##555200#")
    conferences = system.service.phones.conferences
    assert conferences is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while conferences.rooms().get("200") != [caller.channel_id]:  # type: ignore[attr-defined]
        assert loop.time() < deadline, conferences.rooms()  # type: ignore[attr-defined]
        await asyncio.sleep(0.02)
    again = await system.dial("202", "555200")
    await bridged_with(system, again, caller)
    await harness.hangup(caller)
    await harness.hangup(again)
    await no_strays(system)

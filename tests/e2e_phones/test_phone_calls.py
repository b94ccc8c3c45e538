"""Phones end to end: extension and trunk calls, forwarding, DND, pickup and the feature codes.

Each scenario runs the product's Stasis service against the harness (simulator, or a real Asterisk
with OC_ASTERISK_ARI_URL) and ends by checking that no channel or bridge is left behind.
"""

from __future__ import annotations

from harness.base import Behaviour, CallHarness, FarEnd, Heard, has_heard
from stasis_app.phones.codes import FeatureCodes

from .conftest import CLEAN, Starter, System


def played(items: list[Heard]) -> list[str]:
    return [str(item.get("media")) for item in items if item.get("kind") == "playback"]


async def hang_up_and_check(system: System, *far_ends: FarEnd) -> None:
    for far_end in far_ends:
        await system.harness.hangup(far_end)
    assert await system.harness.wait_no_strays() == CLEAN


async def test_internal_call_by_extension_with_send_key(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start_system()
    caller = await system.dial("201", "202#")
    await harness.wait_for_ringing("202")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)
    record = await system.outcome(caller)
    assert (record.caller, record.dialed, record.outcome) == ("201", "202#", "connected")


async def test_called_phone_hangs_up_first(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start_system()
    caller = await system.dial("201", "202")
    phone = await harness.wait_for_ringing("202")
    await harness.wait_heard(caller, has_heard("bridged"))
    await harness.hangup(phone)
    assert (await system.outcome(caller)).outcome == "connected"
    assert await harness.wait_no_strays() == CLEAN


async def test_busy_extension_gives_busy(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("busy"))
    system = await start_system()
    caller = await system.dial("201", "202")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("busy", "busy")
    assert await harness.wait_no_strays() == CLEAN


async def test_unanswered_extension_ends_after_ring_timeout(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("202", Behaviour("ring"))
    system = await start_system(ring_timeout=1)
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("202")
    record = await system.outcome(caller)
    assert record.outcome == "noanswer"
    assert await harness.wait_no_strays() == CLEAN


async def test_invalid_extension_hears_why(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    caller = await system.dial("201", "299")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "unknown-extension")
    assert "sound:pbx-invalid" in played(await harness.heard(caller))
    assert await harness.wait_no_strays() == CLEAN


async def test_caller_hangs_up_while_extension_rings(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("ring"))
    system = await start_system()
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("202")
    await hang_up_and_check(system, caller)
    assert (await system.outcome(caller)).outcome == "hangup"


async def test_external_call_through_the_trunk(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("4013864", Behaviour("answer"))
    system = await start_system()
    caller = await system.dial("201", "94013864")
    await harness.wait_for_ringing("4013864")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)
    assert (await system.outcome(caller)).outcome == "connected"


async def test_external_call_of_a_class_not_allowed_is_refused(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("3001234567", Behaviour("answer"))
    system = await start_system()
    caller = await system.dial("201", "93001234567")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "class-cellular-not-allowed")
    assert "sound:cannot-complete-as-dialed" in played(await harness.heard(caller))
    assert await harness.wait_no_strays() == CLEAN


async def test_external_number_busy(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("4013864", Behaviour("busy"))
    system = await start_system()
    caller = await system.dial("201", "94013864#")
    assert (await system.outcome(caller)).outcome == "busy"
    assert await harness.wait_no_strays() == CLEAN


async def feature(system: System, ext: str, code: str, *, alone: bool = True) -> list[str]:
    """Dial a feature code and return what the phone heard once the flow hung up (``alone``: no
    other call is up, so nothing at all may be left)."""
    caller = await system.dial(ext, code)
    record = await system.outcome(caller)
    assert record.outcome not in ("refused", "failed"), record
    media = played(await system.harness.heard(caller))
    if alone:
        assert await system.harness.wait_no_strays() == CLEAN
    return media


async def test_do_not_disturb_gives_callers_busy(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start_system()
    assert await feature(system, "202", "*78") == ["sound:do-not-disturb", "sound:activated"]
    assert system.row("202").dnd is True
    caller = await system.dial("201", "202")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("busy", "dnd")
    assert await harness.wait_no_strays() == CLEAN
    assert await feature(system, "202", "*79") == ["sound:do-not-disturb", "sound:de-activated"]
    assert system.row("202").dnd is False
    caller = await system.dial("201", "202")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)


async def test_unconditional_forward_to_an_extension(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start_system()
    heard = await feature(system, "202", "*72203")
    assert heard == ["sound:call-fwd-unconditional", "sound:activated", "digits:203"]
    assert system.row("202").forward_all == "203"
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("203")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)
    assert (await system.outcome(caller)).detail == "forwarded by 202 (all) to 203"
    await feature(system, "202", "*73")
    assert system.row("202").forward_all == ""


async def test_unconditional_forward_to_an_external_number(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("4013864", Behaviour("answer"))
    system = await start_system()
    await feature(system, "202", "*7294013864")
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("4013864")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)


async def test_forward_on_busy(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("busy"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start_system()
    await feature(system, "202", "*62203")
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("203")
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)
    assert (await system.outcome(caller)).detail == "forwarded by 202 (busy) to 203"
    await feature(system, "202", "*63")
    caller = await system.dial("201", "202")
    assert (await system.outcome(caller)).outcome == "busy"


async def test_forward_on_no_answer(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("ring"))
    await harness.register_phone("203", Behaviour("answer"))
    system = await start_system()
    await feature(system, "202", "*64203")
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("202")
    await harness.wait_for_ringing("203", within=10)
    await harness.wait_heard(caller, has_heard("bridged"))
    await hang_up_and_check(system, caller)
    assert (await system.outcome(caller)).detail == "forwarded by 202 (noanswer) to 203"
    await feature(system, "202", "*65")
    assert system.row("202").forward_noanswer == ""


async def test_forward_to_unknown_target_is_refused(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    caller = await system.dial("202", "*72999")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "unknown-forward-target")
    assert system.row("202").forward_all == ""
    assert await harness.wait_no_strays() == CLEAN


async def test_group_pickup(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("ring"))
    system = await start_system(ring_timeout=20)
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("202")
    picker = await system.dial("203", "*8")
    await harness.wait_heard(caller, has_heard("bridged", **{"with": [picker.channel_id]}))
    assert (await system.outcome(picker)).outcome.startswith("picked-up")
    await hang_up_and_check(system, picker)
    assert (await system.outcome(caller)).outcome == "picked-up"


async def test_pickup_of_a_named_extension(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("ring"))
    system = await start_system(ring_timeout=20)
    caller = await system.dial("201", "202")
    await harness.wait_for_ringing("202")
    picker = await system.dial("205", "*202")
    await harness.wait_heard(caller, has_heard("bridged", **{"with": [picker.channel_id]}))
    await hang_up_and_check(system, caller)


async def test_pickup_with_nothing_ringing_hears_why(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    picker = await system.dial("204", "*8")
    record = await system.outcome(picker)
    assert (record.outcome, record.detail) == ("refused", "nothing-to-pick-up")
    assert "sound:pbx-invalid" in played(await harness.heard(picker))
    assert await harness.wait_no_strays() == CLEAN


async def test_say_extension_and_status(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    assert await feature(system, "204", "*75") == ["sound:extension", "digits:204"]
    assert await feature(system, "204", "*50") == ["sound:de-activated"]
    await feature(system, "204", "*78")
    await feature(system, "204", "*91")
    await feature(system, "204", "*64205")
    assert await feature(system, "204", "*50") == [
        "sound:do-not-disturb",
        "sound:vm-intro",
        "sound:call-fwd-no-ans",
        "digits:205",
        "sound:activated",
    ]


async def test_voicemail_flag_on_and_off(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    assert await feature(system, "206", "*91") == ["sound:vm-intro", "sound:activated"]
    assert system.row("206").voicemail_enabled is True
    assert await feature(system, "206", "*92") == ["sound:vm-intro", "sound:de-activated"]
    assert system.row("206").voicemail_enabled is False


async def test_record_the_current_call_on_demand(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start_system()
    caller = await system.dial("201", "202")
    await harness.wait_heard(caller, has_heard("bridged"))
    assert await feature(system, "201", "*88", alone=False) == ["sound:activated"]
    [name] = system.service.internal.recordings
    assert await feature(system, "201", "*88", alone=False) == ["sound:de-activated"]
    stored = [str(item["name"]) for item in await harness.ari.get("/recordings/stored")]
    assert name in stored
    await harness.ari.delete(f"/recordings/stored/{name}")
    await hang_up_and_check(system, caller)


async def test_record_without_a_call_hears_why(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system()
    caller = await system.dial("201", "*88")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "no-call-to-record")
    assert await harness.wait_no_strays() == CLEAN


async def test_codes_are_configurable_and_only_where_enabled(
    harness: CallHarness, start_system: Starter
) -> None:
    system = await start_system(codes=FeatureCodes(dnd_on="*55"))
    assert await feature(system, "203", "*55") == ["sound:do-not-disturb", "sound:activated"]
    assert system.row("203").dnd is True
    caller = await system.dial("203", "*78")
    assert (await system.outcome(caller)).detail == "unknown-extension"
    await system.service.stop()


async def test_codes_are_not_detected_outside_their_contexts(
    harness: CallHarness, start_system: Starter
) -> None:
    system = await start_system(feature_contexts=frozenset({"agents-only"}))
    caller = await system.dial("203", "*78")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "features-not-allowed-here")
    assert system.row("203").dnd is False
    assert await harness.wait_no_strays() == CLEAN

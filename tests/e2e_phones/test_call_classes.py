"""Call classes end to end: each class allowed per extension (internal, local, cellular,
international), and a class the extension lacks refused with the reason played."""

from __future__ import annotations

import pytest

from harness.base import Behaviour, CallHarness, has_heard

from .conftest import CLEAN, Starter
from .test_phone_calls import played


@pytest.mark.parametrize(
    ("dialed", "number"),
    [
        ("916", "16"),
        ("93001234567", "3001234567"),
        ("90014155550100", "0014155550100"),
    ],
)
async def test_each_external_class_connects_when_allowed(
    harness: CallHarness, start_system: Starter, dialed: str, number: str
) -> None:
    await harness.register_phone(number, Behaviour("answer"))
    system = await start_system()
    await system.service.phones.store.update("204", call_classes="internal,local,cellular,international")
    caller = await system.dial("204", dialed)
    await harness.wait_for_ringing(number)
    await harness.wait_heard(caller, has_heard("bridged"))
    await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN
    assert (await system.outcome(caller)).outcome == "connected"


async def test_international_refused_without_the_class(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("0014155550100", Behaviour("answer"))
    system = await start_system()
    await system.service.phones.store.update("204", call_classes="internal,local,cellular")
    caller = await system.dial("204", "90014155550100")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "class-international-not-allowed")
    assert "sound:cannot-complete-as-dialed" in played(await harness.heard(caller))
    assert await harness.wait_no_strays() == CLEAN


async def test_internal_calls_need_the_internal_class(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone("202", Behaviour("answer"))
    system = await start_system()
    await system.service.phones.store.update("204", call_classes="local")
    caller = await system.dial("204", "202")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "class-internal-not-allowed")
    assert "sound:cannot-complete-as-dialed" in played(await harness.heard(caller))
    assert await harness.wait_no_strays() == CLEAN
    # The same extension still reaches the outside: the classes are independent.
    await harness.register_phone("4013864", Behaviour("answer"))
    outside = await system.dial("204", "94013864")
    await harness.wait_heard(outside, has_heard("bridged"))
    await harness.hangup(outside)
    assert await harness.wait_no_strays() == CLEAN

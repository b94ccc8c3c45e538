"""*25: external calls with recall, end to end.

The trunk's dial string rings a harness phone named after the number, so a test plays the called
party by changing that phone's behaviour between attempts. Every scenario ends with no channel or
bridge left behind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from harness.base import Behaviour, CallHarness, FarEnd, has_heard
from stasis_app.phones.recall import Recall, RecallSettings, RecallState

from .conftest import CLEAN, Starter, System
from .test_phone_calls import played

NUMBER = "4013864"
#: Short enough for a fast suite, long enough for a test to change a phone's behaviour in between.
FAST_RECALL = RecallSettings(interval=0.4, attempts=3, external_ring_seconds=2, extension_ring_seconds=2)


def paced(harness: CallHarness, interval: float, attempts: int, external_ring_seconds: int) -> RecallSettings:
    """Settings whose first attempt comes after the booking notice and the next test step: the
    simulator plays prompts at its time scale, a real Asterisk takes seconds for them."""
    if harness.name == "asterisk":
        interval = max(interval, 4.0)
    return RecallSettings(
        interval=interval,
        attempts=attempts,
        external_ring_seconds=external_ring_seconds,
        extension_ring_seconds=2,
    )


def all_recalls(system: System) -> list[Recall]:
    book = system.service.internal.recalls
    return [*book.finished, *book.pending.values()]


async def wait_recall(system: System, holds: Callable[[Recall], bool], within: float = 15.0) -> Recall:
    """The first recall for which ``holds`` is true, polled until ``within`` seconds passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        for recall in all_recalls(system):
            if holds(recall):
                return recall
        if loop.time() >= deadline:
            raise TimeoutError(f"no such recall: {[(r.recall_id, r.states()) for r in all_recalls(system)]}")
        await asyncio.sleep(0.01)


async def book_a_recall(system: System, harness: CallHarness) -> Recall:
    """201 dials *25 9 NUMBER while NUMBER is busy: the phone hears the booking and is hung up."""
    caller = await system.dial("201", f"*259{NUMBER}")
    record = await system.outcome(caller)
    assert record.outcome == "recall-booked", record
    assert record.detail.startswith("busy ")
    assert played(await harness.heard(caller)) == list(FAST_RECALL.booked)
    [recall] = all_recalls(system)
    assert (recall.extension, recall.number) == ("201", NUMBER)
    return recall


async def test_first_attempt_answered_is_an_ordinary_call(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone(NUMBER, Behaviour("answer"))
    system = await start_system(recall=FAST_RECALL)
    caller = await system.dial("201", f"*259{NUMBER}#")
    await harness.wait_for_ringing(NUMBER)
    await harness.wait_heard(caller, has_heard("bridged"))
    await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN
    assert (await system.outcome(caller)).outcome == "connected"
    assert all_recalls(system) == []


async def test_busy_then_the_recall_connects_both(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone(NUMBER, Behaviour("busy"))
    await harness.register_phone("201", Behaviour("answer"))
    system = await start_system(recall=FAST_RECALL)
    recall = await book_a_recall(system, harness)
    assert await harness.wait_no_strays() == CLEAN
    # The first retry finds the number busy again; then it answers.
    await wait_recall(
        system,
        lambda r: r.states()[:3] == [RecallState.BOOKED, RecallState.CALLING_EXTERNAL, RecallState.BOOKED],
    )
    await harness.set_phone_behaviour(NUMBER, Behaviour("answer"))
    external = await harness.wait_for_ringing(NUMBER, within=10)
    extension = await harness.wait_for_ringing("201", within=10)
    await harness.wait_heard(external, has_heard("bridged", **{"with": [extension.channel_id]}))
    assert recall.state is RecallState.CONNECTED
    heard = played(await harness.heard(external))
    assert heard[: len(FAST_RECALL.please_hold)] == list(FAST_RECALL.please_hold)
    if harness.name == "sim":
        # Only the simulator reports music on hold as something a far end heard.
        assert has_heard("moh", **{"class": FAST_RECALL.music_class})(await harness.heard(external))
    await harness.hangup(extension)
    assert await harness.wait_no_strays() == CLEAN
    await wait_recall(system, lambda r: r.final)
    # At least the one busy retry waited for above, then the answered one.
    states = recall.states()
    assert states[:3] == [RecallState.BOOKED, RecallState.CALLING_EXTERNAL, RecallState.BOOKED]
    assert states[-4:] == [
        RecallState.CALLING_EXTERNAL,
        RecallState.RINGING_EXTENSION,
        RecallState.CONNECTED,
        RecallState.COMPLETED,
    ]
    assert recall.attempts_made >= 2


async def test_extension_does_not_answer_the_recall(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone(NUMBER, Behaviour("busy"))
    await harness.register_phone("201", Behaviour("ring"))
    system = await start_system(recall=paced(harness, 0.4, 3, 2))
    recall = await book_a_recall(system, harness)
    await harness.set_phone_behaviour(NUMBER, Behaviour("answer"))
    external = await harness.wait_for_ringing(NUMBER, within=10)
    await harness.wait_for_ringing("201", within=10)
    await wait_recall(system, lambda r: r.final)
    assert recall.states()[-3:] == [
        RecallState.CALLING_EXTERNAL,
        RecallState.RINGING_EXTENSION,
        RecallState.MISSED,
    ]
    heard = played(await harness.heard(external))
    assert heard == [*FAST_RECALL.please_hold, *FAST_RECALL.nobody_available]
    assert await harness.wait_no_strays() == CLEAN
    # The recall is over: no further attempt reaches the number.
    await asyncio.sleep(0.8)
    assert recall.state is RecallState.MISSED
    assert system.service.internal.recalls.pending == {}


async def test_number_never_answers_until_attempts_run_out(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone(NUMBER, Behaviour("busy"))
    system = await start_system(recall=FAST_RECALL)
    recall = await book_a_recall(system, harness)
    await wait_recall(system, lambda r: r.final)
    assert recall.state is RecallState.EXHAUSTED
    assert recall.attempts_made == FAST_RECALL.attempts
    assert recall.states().count(RecallState.CALLING_EXTERNAL) == FAST_RECALL.attempts
    assert await harness.wait_no_strays() == CLEAN


async def test_cancel_a_waiting_recall(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone(NUMBER, Behaviour("busy"))
    settings = paced(harness, 1.5, 2, 2)
    system = await start_system(recall=settings)
    recall = await book_a_recall(system, harness)
    canceller = await system.dial("201", "*25")
    record = await system.outcome(canceller)
    assert (record.outcome, record.detail) == ("recalls-cancelled", "1")
    assert played(await harness.heard(canceller)) == ["sound:de-activated"]
    assert recall.states() == [RecallState.BOOKED, RecallState.CANCELLED]
    await harness.set_phone_behaviour(NUMBER, Behaviour("answer"))
    await asyncio.sleep(settings.interval + 0.3)
    assert recall.states() == [RecallState.BOOKED, RecallState.CANCELLED]
    assert await harness.wait_no_strays() == CLEAN


async def test_cancel_while_the_number_rings(harness: CallHarness, start_system: Starter) -> None:
    await harness.register_phone(NUMBER, Behaviour("busy"))
    system = await start_system(recall=paced(harness, 0.4, 2, 30))
    recall = await book_a_recall(system, harness)
    await harness.set_phone_behaviour(NUMBER, Behaviour("ring"))
    external: FarEnd = await harness.wait_for_ringing(NUMBER, within=10)
    assert recall.state is RecallState.CALLING_EXTERNAL
    canceller = await system.dial("201", "*25")
    assert (await system.outcome(canceller)).outcome == "recalls-cancelled"
    await wait_recall(system, lambda r: r.final)
    assert recall.states()[-2:] == [RecallState.CALLING_EXTERNAL, RecallState.CANCELLED]
    assert await harness.wait_no_strays() == CLEAN, external


async def test_cancel_with_nothing_pending_hears_why(harness: CallHarness, start_system: Starter) -> None:
    system = await start_system(recall=FAST_RECALL)
    caller = await system.dial("202", "*25")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "no-recall-pending")
    assert played(await harness.heard(caller)) == list(FAST_RECALL.nothing_pending)
    assert await harness.wait_no_strays() == CLEAN


async def test_class_not_allowed_is_refused_and_nothing_booked(
    harness: CallHarness, start_system: Starter
) -> None:
    await harness.register_phone("3001234567", Behaviour("busy"))
    system = await start_system(recall=FAST_RECALL)
    caller = await system.dial("201", "*2593001234567")
    record = await system.outcome(caller)
    assert (record.outcome, record.detail) == ("refused", "class-cellular-not-allowed")
    assert "sound:cannot-complete-as-dialed" in played(await harness.heard(caller))
    internal = await system.dial("201", "*25202")
    assert (await system.outcome(internal)).detail == "recall-needs-external-number"
    assert all_recalls(system) == []
    assert await harness.wait_no_strays() == CLEAN

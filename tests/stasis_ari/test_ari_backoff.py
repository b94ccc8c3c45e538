"""Backoff schedule and the reconnect loop, driven by a fake clock and sleep."""

from __future__ import annotations

import asyncio

import pytest

from stasis_app.ari.backoff import Backoff, BackoffPolicy
from stasis_app.ari.reconnect import ReconnectLoop


def test_schedule_grows_by_the_multiplier_and_stops_at_the_cap() -> None:
    backoff = Backoff(BackoffPolicy(initial=0.5, maximum=10.0, multiplier=2.0, jitter=0.0))
    delays = [backoff.next_delay() for _ in range(8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_jitter_stays_inside_its_band() -> None:
    policy = BackoffPolicy(initial=1.0, maximum=8.0, multiplier=2.0, jitter=0.5)
    assert policy.delay(2, 0.0) == 4.0
    assert policy.delay(2, 0.999999) == pytest.approx(2.0, abs=1e-5)
    draws = iter([0.0, 0.25, 0.5, 0.75, 0.9999, 0.1, 0.3])
    backoff = Backoff(policy, lambda: next(draws))
    for attempt in range(7):
        base = policy.base_delay(attempt)
        delay = backoff.next_delay()
        assert base * 0.5 <= delay <= base
        assert delay <= 8.0


def test_very_many_attempts_do_not_overflow() -> None:
    policy = BackoffPolicy(initial=0.1, maximum=30.0, multiplier=3.0, jitter=0.0)
    assert policy.base_delay(10_000) == 30.0


def test_reset_starts_over() -> None:
    backoff = Backoff(BackoffPolicy(initial=1.0, maximum=60.0, jitter=0.0))
    for _ in range(4):
        backoff.next_delay()
    assert backoff.attempt == 4
    backoff.reset()
    assert backoff.next_delay() == 1.0


@pytest.mark.parametrize(
    ("initial", "maximum", "multiplier", "jitter"),
    [(0.0, 1.0, 2.0, 0.1), (2.0, 1.0, 2.0, 0.1), (1.0, 2.0, 0.5, 0.1), (1.0, 2.0, 2.0, 1.5)],
)
def test_nonsense_policies_are_refused(
    initial: float, maximum: float, multiplier: float, jitter: float
) -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(initial=initial, maximum=maximum, multiplier=multiplier, jitter=jitter)


class FakeTime:
    """A clock that only moves when the loop sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay
        await asyncio.sleep(0)


async def test_loop_retries_failures_with_growing_pauses_and_never_gives_up() -> None:
    time = FakeTime()
    stop = asyncio.Event()
    attempts = 0

    async def session(mark_ready: object) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 12:
            stop.set()
        raise ConnectionRefusedError("nobody home")

    errors: list[str] = []
    loop = ReconnectLoop(
        session,
        Backoff(BackoffPolicy(initial=1.0, maximum=16.0, jitter=0.0)),
        sleep=time.sleep,
        clock=time.clock,
        on_retry=lambda error, delay: errors.append(str(error)),
    )
    await asyncio.wait_for(loop.run(stop), 5)
    assert attempts == 12
    assert time.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0]
    assert errors[0] == "nobody home"


async def test_loop_resets_only_after_a_connection_that_stayed_up() -> None:
    time = FakeTime()
    stop = asyncio.Event()
    # (became ready?, seconds it stayed up) per session
    script = [(False, 0.0), (False, 0.0), (True, 30.0), (False, 0.0), (True, 1.0), (False, 0.0)]
    index = 0

    async def session(mark_ready: object) -> None:
        nonlocal index
        ready, lasted = script[index]
        index += 1
        if index == len(script):
            stop.set()
        if ready:
            assert callable(mark_ready)
            mark_ready()
            time.now += lasted
            return
        raise OSError("refused")

    loop = ReconnectLoop(
        session,
        Backoff(BackoffPolicy(initial=1.0, maximum=100.0, jitter=0.0)),
        sleep=time.sleep,
        clock=time.clock,
        stable_after=5.0,
    )
    await asyncio.wait_for(loop.run(stop), 5)
    # 1, 2, then a stable session resets: 1, 2, then a short one does not reset: 4
    assert time.sleeps == [1.0, 2.0, 1.0, 2.0, 4.0]


async def test_stop_interrupts_a_long_pause() -> None:
    stop = asyncio.Event()
    sessions = 0

    async def session(mark_ready: object) -> None:
        nonlocal sessions
        sessions += 1
        raise OSError("down")

    loop = ReconnectLoop(session, Backoff(BackoffPolicy(initial=3600.0, maximum=3600.0, jitter=0.0)))
    runner = asyncio.create_task(loop.run(stop))
    await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(runner, 1)
    assert sessions == 1

"""The per-key ordered dispatcher: order within a key, concurrency across keys, isolation of failures."""

from __future__ import annotations

import asyncio
import random

import pytest

from stasis_app.ari.dispatcher import DispatcherClosed, KeyedDispatcher


async def test_items_of_one_key_run_in_order_even_when_handlers_yield() -> None:
    seen: dict[str, list[int]] = {}
    rng = random.Random(7)
    yields = {(key, n): rng.randint(0, 5) for key in "abc" for n in range(50)}

    async def handle(key: str, n: int) -> None:
        for _ in range(yields[(key, n)]):
            await asyncio.sleep(0)
        seen.setdefault(key, []).append(n)

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle)
    for n in range(50):
        for key in "abc":
            await dispatcher.submit(key, n)
    await asyncio.wait_for(dispatcher.join(), 5)
    assert seen == {key: list(range(50)) for key in "abc"}


async def test_a_slow_key_does_not_block_other_keys() -> None:
    release = asyncio.Event()
    done: list[str] = []

    async def handle(key: str, item: str) -> None:
        if key == "slow":
            await release.wait()
        done.append(item)

    dispatcher: KeyedDispatcher[str] = KeyedDispatcher(handle)
    await dispatcher.submit("slow", "slow-1")
    await dispatcher.submit("slow", "slow-2")
    for n in range(20):
        await dispatcher.submit(f"fast-{n}", f"fast-{n}")
    for _ in range(20):
        await asyncio.sleep(0)
    assert sorted(done) == sorted(f"fast-{n}" for n in range(20))
    assert dispatcher.pending == 2
    release.set()
    await asyncio.wait_for(dispatcher.join(), 5)
    assert done[-2:] == ["slow-1", "slow-2"]


async def test_different_keys_really_run_at_the_same_time() -> None:
    running = 0
    peak = 0

    async def handle(key: str, item: int) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle)
    for n in range(30):
        await dispatcher.submit(f"k{n}", n)
    await asyncio.wait_for(dispatcher.join(), 5)
    assert peak == 30


async def test_a_failing_handler_is_reported_and_the_key_goes_on() -> None:
    errors: list[tuple[str, int, str]] = []
    handled: list[tuple[str, int]] = []

    async def handle(key: str, item: int) -> None:
        if item % 3 == 0:
            raise RuntimeError(f"boom {item}")
        handled.append((key, item))

    def on_error(key: str, item: int, exc: BaseException) -> None:
        errors.append((key, item, str(exc)))

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle, on_error)
    for item in range(10):
        await dispatcher.submit("a", item)
        await dispatcher.submit("b", item)
    await asyncio.wait_for(dispatcher.join(), 5)
    assert [i for k, i in handled if k == "a"] == [1, 2, 4, 5, 7, 8]
    assert [i for k, i in handled if k == "b"] == [1, 2, 4, 5, 7, 8]
    assert sorted(errors) == sorted((k, i, f"boom {i}") for k in "ab" for i in (0, 3, 6, 9))
    assert dispatcher.failed == 8
    assert dispatcher.handled == 12


async def test_a_failing_error_hook_does_not_stop_the_queue() -> None:
    handled: list[int] = []

    async def handle(key: str, item: int) -> None:
        if item == 0:
            raise ValueError("first")
        handled.append(item)

    def bad_hook(key: str, item: int, exc: BaseException) -> None:
        raise RuntimeError("hook broke")

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle, bad_hook)
    for item in range(3):
        await dispatcher.submit("k", item)
    await asyncio.wait_for(dispatcher.join(), 5)
    assert handled == [1, 2]


async def test_flood_of_10000_items_across_keys_is_complete_ordered_and_leaves_no_queues() -> None:
    seen: dict[str, list[int]] = {}
    rng = random.Random(11)

    async def handle(key: str, n: int) -> None:
        if n % 7 == 0:
            await asyncio.sleep(0)
        seen.setdefault(key, []).append(n)

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle, max_pending=1_000)
    counters: dict[str, int] = {}
    for _ in range(10_000):
        key = f"channel:{rng.randrange(250)}"
        n = counters.get(key, 0)
        counters[key] = n + 1
        await dispatcher.submit(key, n)
        assert dispatcher.pending <= 1_000
    await asyncio.wait_for(dispatcher.join(), 20)
    assert sum(len(items) for items in seen.values()) == 10_000
    for key, items in seen.items():
        assert items == list(range(counters[key])), key
    assert dispatcher.active_keys == 0
    assert dispatcher.pending == 0


async def test_submit_waits_while_full() -> None:
    gate = asyncio.Event()

    async def handle(key: str, item: int) -> None:
        await gate.wait()

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle, max_pending=3)
    for n in range(3):
        await dispatcher.submit(f"k{n}", n)
    blocked = asyncio.create_task(dispatcher.submit("k9", 9))
    await asyncio.sleep(0.01)
    assert not blocked.done()
    gate.set()
    await asyncio.wait_for(blocked, 5)
    await asyncio.wait_for(dispatcher.join(), 5)
    assert dispatcher.handled == 4


async def test_close_cancels_handlers_that_outlive_the_grace_period() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def handle(key: str, item: int) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    dispatcher: KeyedDispatcher[int] = KeyedDispatcher(handle)
    await dispatcher.submit("k", 1)
    await started.wait()
    await asyncio.wait_for(dispatcher.close(grace=0.05), 5)
    assert cancelled.is_set()
    assert dispatcher.active_keys == 0
    with pytest.raises(DispatcherClosed):
        await dispatcher.submit("k", 2)

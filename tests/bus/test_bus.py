"""The bus contract, run on the in-process bus and on two Redis buses talking through a real Redis."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest
import redis.asyncio as aioredis

from bus import (
    COMMANDS,
    EVENTS,
    InProcessBus,
    InvalidMessage,
    NoResponder,
    RedisBus,
    RequestTimeout,
    SyncBus,
    bus_from_url,
)
from bus import messages as m
from bus.base import BusCore
from bus.messages import Message


async def collect(bus: BusCore, channel: str, count: int) -> tuple[list[Message], asyncio.Event]:
    """Subscribe and return the list that fills up, plus an event set when ``count`` arrived."""
    got: list[Message] = []
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        got.append(message)
        if len(got) >= count:
            done.set()

    sub = bus.subscribe(channel, handler)
    assert await sub.wait_ready(5)
    return got, done


async def test_messages_arrive_in_publish_order(bus_pair: tuple[BusCore, BusCore]) -> None:
    sender, receiver = bus_pair
    got, done = await collect(receiver, EVENTS, 300)
    for n in range(300):
        await sender.publish(EVENTS, m.call_entered(f"call-{n}", "Sales", "555"))
    await asyncio.wait_for(done.wait(), 5)
    assert [msg["callid"] for msg in got] == [f"call-{n}" for n in range(300)]
    assert got[0] == {"type": "call.entered", "callid": "call-0", "campaign": "Sales", "caller": "555"}


async def test_every_subscriber_gets_its_own_copy(bus_pair: tuple[BusCore, BusCore]) -> None:
    sender, receiver = bus_pair
    first, first_done = await collect(receiver, EVENTS, 1)
    second, second_done = await collect(receiver, EVENTS, 1)
    receivers = await sender.publish(EVENTS, m.agent_state("agent1", "idle", ["Sales"], 1.5))
    await asyncio.wait_for(asyncio.gather(first_done.wait(), second_done.wait()), 5)
    assert receivers >= 1
    assert first == second == [m.agent_state("agent1", "idle", ["Sales"], 1.5)]
    first[0]["state"] = "changed"
    assert second[0]["state"] == "idle"


async def test_request_gets_the_reply(bus_pair: tuple[BusCore, BusCore]) -> None:
    api, stasis = bus_pair

    async def on_command(message: Message) -> None:
        if message["type"] == m.PHONE_HANGUP:
            done = message["phone"] == "1001"
            await stasis.reply(message, {"ok": done, "result": 1 if done else 0})

    assert await stasis.subscribe(COMMANDS, on_command).wait_ready(5)
    answers = await asyncio.gather(
        api.request(COMMANDS, m.phone_hangup("1001"), timeout=5),
        api.request(COMMANDS, m.phone_hangup("1002"), timeout=5),
    )
    assert answers == [{"ok": True, "result": 1}, {"ok": False, "result": 0}]


async def test_request_times_out_when_nobody_answers(bus_pair: tuple[BusCore, BusCore]) -> None:
    api, stasis = bus_pair
    heard: list[Message] = []

    async def silent(message: Message) -> None:
        heard.append(message)

    assert await stasis.subscribe(COMMANDS, silent).wait_ready(5)
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await api.request(COMMANDS, m.agent_pause("agent1", True, "lunch"), timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2
    assert heard and heard[0]["type"] == "agent.pause" and heard[0]["request_id"]


async def test_request_without_listener_fails_at_once(bus_pair: tuple[BusCore, BusCore]) -> None:
    api, _ = bus_pair
    with pytest.raises(NoResponder):
        await api.request("oc.nobody-listens", m.status_snapshot(), timeout=5)


async def test_failing_handler_does_not_stop_delivery(
    bus_pair: tuple[BusCore, BusCore], caplog: pytest.LogCaptureFixture
) -> None:
    sender, receiver = bus_pair
    got: list[str] = []
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        if message["phone"] == "boom":
            raise RuntimeError("handler bug")
        got.append(message["phone"])
        done.set()

    assert await receiver.subscribe(COMMANDS, handler).wait_ready(5)
    with caplog.at_level(logging.ERROR, logger="bus.base"):
        await sender.publish(COMMANDS, m.phone_hangup("boom"))
        await sender.publish(COMMANDS, m.phone_hangup("1001"))
        await asyncio.wait_for(done.wait(), 5)
    assert got == ["1001"]
    assert "handler bug" in caplog.text


async def test_invalid_messages_are_refused_on_publish(bus_pair: tuple[BusCore, BusCore]) -> None:
    sender, _ = bus_pair
    with pytest.raises(InvalidMessage):
        await sender.publish(COMMANDS, {"type": "agent.pause", "agent": "a", "paused": "yes", "reason": ""})
    with pytest.raises(InvalidMessage):
        await sender.publish(COMMANDS, {"no": "type"})
    with pytest.raises(InvalidMessage):
        await sender.publish(EVENTS, {"type": "x.custom", "when": object()})


def test_every_reply_says_ok() -> None:
    assert m.reply("r1", {"ok": False, "error": "unknown agent"})["payload"]["ok"] is False
    with pytest.raises(InvalidMessage):
        m.reply("r1", {"result": 1})
    with pytest.raises(InvalidMessage):
        m.reply("r1", {"ok": 1})


async def test_cancelled_subscription_hears_nothing_more(bus_pair: tuple[BusCore, BusCore]) -> None:
    sender, receiver = bus_pair
    cancelled: list[Message] = []

    async def gone(message: Message) -> None:
        cancelled.append(message)

    sub = receiver.subscribe(EVENTS, gone)
    assert await sub.wait_ready(5)
    got, done = await collect(receiver, EVENTS, 1)
    sub.cancel()
    await sender.publish(EVENTS, m.call_abandoned("c1", "Sales", "555"))
    await asyncio.wait_for(done.wait(), 5)
    assert cancelled == [] and len(got) == 1


async def test_redis_reader_survives_garbage(
    redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    bus = RedisBus(redis_url, namespace=namespace)
    await bus.start()
    got, done = await collect(bus, EVENTS, 1)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        with caplog.at_level(logging.WARNING):
            for junk in (b"\xff\xfe not json", b"[1, 2]", b'{"type": 5}', b'{"type": "call.ringing"}'):
                assert await raw.publish(namespace + EVENTS, junk) == 1
            await bus.publish(EVENTS, m.call_ended("c9", "Sales", "555", agent="agent2"))
            await asyncio.wait_for(done.wait(), 5)
    finally:
        await raw.aclose()
        await bus.close()
    assert got == [m.call_ended("c9", "Sales", "555", agent="agent2")]
    assert caplog.text.count("dropping a bad message") == 4


async def test_in_process_bus_crosses_threads_and_loops() -> None:
    """The embedded mode: the Stasis app's loop answers a Flask thread through SyncBus."""
    bus = InProcessBus()
    await bus.start()

    async def on_command(message: Message) -> None:
        await bus.reply(
            message, {"ok": True, "agent": message["agent"], "loop": id(asyncio.get_running_loop())}
        )

    bus.subscribe(COMMANDS, on_command)
    events: list[Message] = []
    seen = threading.Event()

    def flask_side() -> dict[str, Any]:
        with SyncBus(bus) as sync:

            def on_event(message: Message) -> None:
                events.append(message)
                seen.set()

            sync.subscribe(EVENTS, on_event)
            answer = sync.request(COMMANDS, m.agent_login("agent1", "PJSIP/1001"), timeout=5)
            assert sync.publish(EVENTS, m.agent_state("agent1", "idle", [], 0.0)) >= 1
            assert seen.wait(5)
            return answer

    answer = await asyncio.to_thread(flask_side)
    assert answer == {"ok": True, "agent": "agent1", "loop": id(asyncio.get_running_loop())}
    assert events == [m.agent_state("agent1", "idle", [], 0.0)]
    await bus.close()


async def test_sync_bus_over_redis(redis_url: str, namespace: str) -> None:
    stasis = RedisBus(redis_url, namespace=namespace)
    await stasis.start()

    async def on_command(message: Message) -> None:
        await stasis.reply(message, {"ok": True, "result": 1})

    assert await stasis.subscribe(COMMANDS, on_command).wait_ready(5)

    def flask_side() -> dict[str, Any]:
        with SyncBus(RedisBus(redis_url, namespace=namespace)) as sync:
            return sync.request(COMMANDS, m.phone_hangup("1001"), timeout=5)

    try:
        assert await asyncio.to_thread(flask_side) == {"ok": True, "result": 1}
    finally:
        await stasis.close()


def test_bus_from_url() -> None:
    assert isinstance(bus_from_url(None), InProcessBus)
    assert isinstance(bus_from_url(""), InProcessBus)
    redis_bus = bus_from_url("redis://127.0.0.1:6379/0", namespace="x.")
    assert isinstance(redis_bus, RedisBus) and redis_bus.namespace == "x."
    with pytest.raises(ValueError, match="unsupported bus URL"):
        bus_from_url("amqp://somewhere")

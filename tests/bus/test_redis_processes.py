"""Two processes talking over a real Redis, and a bus that outlives a Redis restart."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest
from redis_server import PrivateRedis

from bus import COMMANDS, EVENTS, BusUnavailable, RedisBus
from bus import messages as m
from bus.messages import Message

REPO_ROOT = Path(__file__).resolve().parents[2]


async def test_two_processes_request_and_events(redis_url: str, namespace: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("remote_responder.py")),
        redis_url,
        namespace,
        stdout=asyncio.subprocess.PIPE,
        env=env,
    )
    api = RedisBus(redis_url, namespace=namespace)
    try:
        assert child.stdout is not None
        assert (await asyncio.wait_for(child.stdout.readline(), 20)).strip() == b"ready"
        await api.start()
        events: list[Message] = []
        got_event = asyncio.Event()

        async def on_event(message: Message) -> None:
            events.append(message)
            got_event.set()

        assert await api.subscribe(EVENTS, on_event).wait_ready(5)
        answer = await api.request(COMMANDS, m.phone_hangup("1001"), timeout=5)
        assert answer == {"ok": True, "result": 1, "pid": child.pid, "phone": "1001"}
        await api.publish(COMMANDS, m.agent_login("agent1", "PJSIP/1001"))
        await asyncio.wait_for(got_event.wait(), 5)
        assert events == [m.agent_state("agent1", "idle", ["Sales"], 1.0)]
        await api.publish(COMMANDS, m.campaigns_reload())
        assert await asyncio.wait_for(child.wait(), 10) == 0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await api.close()


async def test_buses_recover_after_redis_restarts(private_redis: PrivateRedis) -> None:
    url = private_redis.url
    api = RedisBus(url, publish_timeout=0.3, max_reconnect_delay=0.2)
    stasis = RedisBus(url, max_reconnect_delay=0.2)
    answered: list[str] = []

    async def on_command(message: Message) -> None:
        answered.append(message["phone"])
        await stasis.reply(message, {"ok": True, "result": 1})

    stasis.subscribe(COMMANDS, on_command)
    await stasis.start()
    await api.start()
    try:
        assert await api.request(COMMANDS, m.phone_hangup("1001"), timeout=5) == {"ok": True, "result": 1}

        private_redis.stop()
        with pytest.raises(BusUnavailable):
            await api.publish(COMMANDS, m.phone_hangup("lost"))
        await asyncio.sleep(0.3)  # both readers see the outage and start retrying
        assert not await stasis.wait_ready(0.1)

        private_redis.start()
        assert await stasis.wait_ready(10) and await api.wait_ready(10)
        assert await api.request(COMMANDS, m.phone_hangup("1002"), timeout=5) == {"ok": True, "result": 1}
        assert answered == ["1001", "1002"]
        assert stasis.connections >= 2 and api.connections >= 2
    finally:
        await api.close()
        await stasis.close()

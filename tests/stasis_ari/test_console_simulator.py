"""Against the simulator started from its console command, as an operator or CI would start it.

aioari (the asked-for client) drives a whole call on it by itself, and the connection layer survives
the simulator process being killed mid-call and started again: it reconnects and its resync reports
the calls that died with the old process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aioari
import aiohttp
import pytest

from stasis_app.ari import AriConnection, BackoffPolicy, ResyncReport
from stasis_app.ari.rest import basic_authorization
from stasis_app.settings import AriSettings

USER = "asterisk"
PASSWORD = "asterisk"
AUTH = {"Authorization": basic_authorization(USER, PASSWORD)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _console_command() -> str:
    command = Path(sys.executable).with_name("opencontact-ari-sim")
    assert command.exists(), f"the console command is not installed next to {sys.executable}"
    return str(command)


class ConsoleSimulator:
    """`opencontact-ari-sim` in its own process; can be killed and started again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            _console_command(),
            "--port",
            str(self.port),
            "--time-scale",
            "0.01",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        async with aiohttp.ClientSession(headers=AUTH) as session:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{self.url}/ari/asterisk/ping") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise AssertionError("the simulator did not start")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), timeout=10)

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with (
            aiohttp.ClientSession(headers=AUTH) as session,
            session.request(method, f"{self.url}{path}", json=body) as response,
        ):
            assert response.status < 300, await response.text()
            return await response.json() if response.status == 200 else None


@pytest.fixture
def port() -> Iterator[int]:
    yield _free_port()


@pytest.fixture
async def console_sim(port: int) -> AsyncIterator[ConsoleSimulator]:
    sim = ConsoleSimulator(port)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def test_aioari_drives_a_call_on_the_console_simulator(console_sim: ConsoleSimulator) -> None:
    await console_sim.control("POST", "/_sim/phones/PJSIP/1001", {"mode": "answer"})
    client = await aioari.connect(console_sim.url + "/", USER, PASSWORD)
    seen: list[str] = []
    finished = asyncio.Event()

    async def on_start(objects: dict[str, Any], event: dict[str, Any]) -> None:
        # StasisStart carries two Channel fields (channel, replace_channel), so aioari hands a dict.
        channel = objects["channel"]
        seen.append("StasisStart")
        await channel.answer()
        bridge = await client.bridges.create(type="mixing")
        await bridge.addChannel(channel=channel.id)
        playback = await channel.play(media="sound:hello-world")
        state = playback["state"] if isinstance(playback, dict) else playback.json["state"]
        seen.append(f"playback:{state}")
        await asyncio.sleep(0.2)
        await channel.hangup()
        await bridge.destroy()
        finished.set()

    client.on_channel_event("StasisStart", on_start)
    runner = asyncio.create_task(client.run(apps="aioari-check"))
    try:
        for _ in range(100):
            apps = await client.applications.list()
            if any(app["name"] == "aioari-check" for app in apps):
                break
            await asyncio.sleep(0.02)
        await client.channels.originate(endpoint="PJSIP/1001", app="aioari-check")
        await asyncio.wait_for(finished.wait(), timeout=10)
        assert seen[0] == "StasisStart"
        assert seen[1] in {"playback:queued", "playback:playing"}
        assert await client.channels.list() == []
        assert await client.bridges.list() == []
    finally:
        await client.close()
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner


async def test_connection_survives_the_simulator_process_being_killed_and_restarted(
    console_sim: ConsoleSimulator,
) -> None:
    settings = AriSettings(
        url=console_sim.url,
        username=USER,
        password=PASSWORD,
        app="restart-check",
        backoff=BackoffPolicy(initial=0.05, maximum=0.2, multiplier=2.0, jitter=0.0),
        stable_after=0.1,
        heartbeat=1.0,
        request_timeout=2.0,
    )
    connection = AriConnection(settings)
    reports: list[ResyncReport] = []
    started: list[str] = []
    connection.on_resync(lambda report, _conn: reports.append(report))
    connection.on("StasisStart", lambda event, _conn: started.append(event["channel"]["id"]))
    await console_sim.control("POST", "/_sim/phones/PJSIP/1001", {"mode": "answer"})
    await connection.start()
    try:
        await asyncio.wait_for(connection.wait_connected(), timeout=10)
        channel = await connection.rest.channels.originate(endpoint="PJSIP/1001", app="restart-check")
        assert isinstance(channel, dict)
        for _ in range(200):
            if channel["id"] in started:
                break
            await asyncio.sleep(0.02)
        assert channel["id"] in connection.owned_channels

        await console_sim.kill()
        await console_sim.start()
        await console_sim.control("POST", "/_sim/phones/PJSIP/1001", {"mode": "answer"})
        for _ in range(300):
            if len(reports) >= 2:
                break
            await asyncio.sleep(0.05)
        assert len(reports) >= 2, "no resync after the restart"
        assert channel["id"] in [gone["id"] for gone in reports[-1].channels_gone]
        assert channel["id"] not in connection.owned_channels

        again = await connection.rest.channels.originate(endpoint="PJSIP/1001", app="restart-check")
        assert isinstance(again, dict)
        for _ in range(200):
            if again["id"] in started:
                break
            await asyncio.sleep(0.02)
        assert again["id"] in started, "no StasisStart after the reconnect"
    finally:
        await connection.stop()

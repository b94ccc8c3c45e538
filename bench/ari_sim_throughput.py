"""Throughput of the ARI connection layer against the simulator: call life cycles per second.

Each life cycle is what a minimal Stasis application does for one call, driven from its event
handlers as the real application is: originate to a phone into Stasis -> StasisStart -> answer ->
create a bridge -> add the channel -> hang up -> ChannelDestroyed -> destroy the bridge.
``--concurrency`` calls are in progress at any time.

    python bench/ari_sim_throughput.py --calls 2000 --concurrency 20

By default the simulator runs in its own process (the ``opencontact-ari-sim`` command, or
``python -m ari_sim.cli`` when the command is not installed) so that the CPU of each side can be
told apart; ``--sim inprocess`` runs it on the benchmark's own event loop instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
from sim_process import PASSWORD, USERNAME, cpu_seconds_of, own_cpu_seconds, simulator_process

from stasis_app.ari import AriConnection, BackoffPolicy, Event
from stasis_app.ari.rest import basic_authorization
from stasis_app.settings import AriSettings

APP = "opencontact-bench"


@dataclass
class RunningSimulator:
    url: str
    pid: int | None


@contextlib.asynccontextmanager
async def subprocess_simulator(time_scale: float) -> AsyncIterator[RunningSimulator]:
    async with simulator_process(time_scale) as sim:
        yield RunningSimulator(sim.url, sim.process.pid)


@contextlib.asynccontextmanager
async def inprocess_simulator(time_scale: float) -> AsyncIterator[RunningSimulator]:
    from aiohttp import web  # noqa: PLC0415 - only this mode needs the server side

    from ari_sim.engine import Engine  # noqa: PLC0415
    from ari_sim.server import create_app  # noqa: PLC0415
    from ari_sim.settings import SimSettings  # noqa: PLC0415

    settings = SimSettings(port=0, time_scale=time_scale)
    engine = Engine(settings)
    runner = web.AppRunner(create_app(engine, settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield RunningSimulator(f"http://127.0.0.1:{runner.addresses[0][1]}", None)
    finally:
        await runner.cleanup()


async def register_phones(url: str, count: int) -> list[str]:
    headers = {"Authorization": basic_authorization(USERNAME, PASSWORD)}
    resources = [str(3000 + n) for n in range(count)]
    async with aiohttp.ClientSession(headers=headers) as session:
        for resource in resources:
            async with session.post(f"{url}/_sim/phones/PJSIP/{resource}", json={"mode": "answer"}) as resp:
                if resp.status >= 300:
                    raise RuntimeError(f"cannot register phone {resource}: {resp.status} {await resp.text()}")
    return resources


class LifeCycles:
    """The application under test: handlers that carry each call through its life cycle."""

    def __init__(self, conn: AriConnection) -> None:
        self.conn = conn
        self.done: dict[str, asyncio.Future[None]] = {}
        self.bridge_of: dict[str, str] = {}
        self.events = 0
        conn.on("StasisStart", self.on_stasis_start)
        conn.on("ChannelDestroyed", self.on_destroyed)
        conn.on("*", self.count)

    def count(self, event: Event, conn: AriConnection) -> None:
        self.events += 1

    async def on_stasis_start(self, event: Event, conn: AriConnection) -> None:
        channel_id = event["channel"]["id"]
        await conn.rest.channels.answer(channelId=channel_id)
        bridge = await conn.rest.bridges.create(type="mixing")
        self.bridge_of[channel_id] = bridge["id"]
        await conn.rest.bridges.addChannel(bridgeId=bridge["id"], channel=channel_id)
        await conn.rest.channels.hangup(channelId=channel_id)

    async def on_destroyed(self, event: Event, conn: AriConnection) -> None:
        channel_id = event["channel"]["id"]
        bridge_id = self.bridge_of.pop(channel_id, None)
        if bridge_id is not None:
            await conn.rest.bridges.destroy(bridgeId=bridge_id)
        future = self.done.get(channel_id)
        if future is not None and not future.done():
            future.set_result(None)

    async def one_call(self, phone: str) -> None:
        channel_id = f"bench-{uuid.uuid4()}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done[channel_id] = future
        try:
            await self.conn.rest.channels.originate(
                endpoint=f"PJSIP/{phone}", app=APP, channelId=channel_id, formats="ulaw"
            )
            await future
        finally:
            self.done.pop(channel_id, None)


async def run(calls: int, concurrency: int, sim_mode: str, time_scale: float, limit: float) -> int:
    starter = subprocess_simulator if sim_mode == "subprocess" else inprocess_simulator
    async with starter(time_scale) as sim:
        phones = await register_phones(sim.url, concurrency)
        settings = AriSettings(
            url=sim.url,
            username=USERNAME,
            password=PASSWORD,
            app=APP,
            backoff=BackoffPolicy(initial=0.1, maximum=1.0),
        )
        conn = AriConnection(settings)
        app = LifeCycles(conn)
        async with conn:
            async with asyncio.timeout(10):
                await conn.wait_connected()
            before = conn.status()
            events_before = app.events
            sim_cpu_before = cpu_seconds_of(sim.pid) if sim.pid else None
            own_cpu_before = own_cpu_seconds()
            started = time.perf_counter()
            queue: asyncio.Queue[int] = asyncio.Queue()
            for n in range(calls):
                queue.put_nowait(n)
            completed = 0

            async def worker(phone: str) -> None:
                nonlocal completed
                while not queue.empty():
                    queue.get_nowait()
                    await app.one_call(phone)
                    completed += 1

            timed_out = False
            try:
                async with asyncio.timeout(limit):
                    await asyncio.gather(*(worker(phone) for phone in phones))
                    await conn.join()
            except TimeoutError:
                timed_out = True
            elapsed = time.perf_counter() - started
            own_cpu = own_cpu_seconds() - own_cpu_before
            sim_cpu_after = cpu_seconds_of(sim.pid) if sim.pid else None
            after = conn.status()
            events = app.events - events_before

    requests = after.requests - before.requests
    done = max(completed, 1)
    print(f"simulator: {sim_mode}; calls completed {completed}/{calls}, concurrency {concurrency}")
    if timed_out:
        print(f"STOPPED at the {limit:.0f}s limit")
    print(f"elapsed                      {elapsed:8.2f} s")
    print(f"life cycles per second       {completed / elapsed:8.1f}")
    print(f"events per second (layer)    {events / elapsed:8.1f}   ({events / done:.1f} per life cycle)")
    print(f"ARI requests per life cycle  {requests / done:8.2f}")
    if sim_cpu_before is not None and sim_cpu_after is not None:
        sim_cpu = sim_cpu_after - sim_cpu_before
        per_thousand = 1000 / done
        print(
            f"CPU s / 1000 life cycles     app {own_cpu * per_thousand:6.2f}   "
            f"simulator {sim_cpu * per_thousand:6.2f}"
        )
    else:
        print(f"CPU s / 1000 life cycles     app+simulator (one process) {own_cpu / done * 1000:6.2f}")
    print(f"handler errors               {after.handler_errors}")
    return 0 if completed == calls and after.handler_errors == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--sim", choices=("subprocess", "inprocess"), default="subprocess")
    parser.add_argument("--time-scale", type=float, default=0.01, help="simulator's time scale")
    parser.add_argument("--limit", type=float, default=120.0, help="stop after this many seconds")
    args = parser.parse_args()
    if args.calls < 1 or args.concurrency < 1:
        parser.error("--calls and --concurrency must be at least 1")
    sys.exit(asyncio.run(run(args.calls, args.concurrency, args.sim, args.time_scale, args.limit)))


if __name__ == "__main__":
    main()

"""Fan-out latency of agent state changes: Stasis app -> bus (Redis) -> gunicorn workers -> Socket.IO clients.

Starts, on loopback: the ARI simulator and the product's Stasis service (on a thread of this process),
the admin API under gunicorn (gthread workers, Redis bus and Socket.IO message queue), then connects
``--agents`` agent clients to ``/agent`` and ``--supervisors`` supervisor clients to ``/supervisor``
(python-socketio AsyncClient over WebSockets). It then pauses and unpauses the agents through the bus,
as the portal does, and measures for every ``agent.state`` event received by a client the time from
the state change in the Stasis app (the event's ``since``, taken by the agent state machine when the
change happens) to its arrival at the client. Each change reaches its agent and every supervisor.

    python bench/socketio_fanout.py --agents 500 --supervisors 20 --rounds 4

Needs a local Redis (OC_TEST_REDIS_URL, default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from admin_api.auth import hash_token, make_token  # noqa: E402
from admin_api.login_guard import utcnow  # noqa: E402
from bus import COMMANDS, RedisBus, messages  # noqa: E402
from datastore.database import create_schema, make_engine, session_factory  # noqa: E402
from datastore.models import ApiToken, Campaign, CampaignMember, User  # noqa: E402
from harness.selection import SIM, open_harness  # noqa: E402
from stasis_app.service import ServiceSettings, build_service  # noqa: E402
from stasis_app.settings import AriSettings, Settings  # noqa: E402

CAMPAIGN = "bench"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provision(database_url: str, agents: int, supervisors: int) -> dict[str, str]:
    """Users, one campaign with every agent, and a token per user (stored hashed, as the API does)."""
    engine = make_engine(database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    tokens: dict[str, str] = {}
    with sessions() as session:
        session.add(Campaign(name=CAMPAIGN, did="7000", direction="inbound", schedule="sun-sat;00:00-23:59"))
        users = [(f"agent{i:04d}", "agent", f"6{i:04d}") for i in range(agents)]
        users += [(f"super{i:02d}", "supervisor", None) for i in range(supervisors)]
        for name, role, phone in users:
            user = User(username=name, fullname=name, password_hash="-", role=role, phone=phone, active=True)
            session.add(user)
            session.flush()
            token = make_token(name)
            tokens[name] = token
            session.add(
                ApiToken(
                    token_hash=hash_token(token),
                    user_id=user.id,
                    created_at=utcnow(),
                    expires_at=utcnow() + timedelta(hours=2),
                    revoked=False,
                )
            )
            if role == "agent":
                session.add(CampaignMember(queue_name=CAMPAIGN, interface=f"PJSIP/{phone}", membername=name))
        session.commit()
    engine.dispose()
    return tokens


class StasisThread:
    """Simulator + Stasis service on their own event loop thread (as in production: another process)."""

    def __init__(self, database_url: str, redis_url: str, namespace: str, journal: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.args = (database_url, redis_url, namespace, journal)
        self.parts: list[Any] = []

    def run(self, work: Any, within: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(within)

    def start(self) -> None:
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        database_url, redis_url, namespace, journal = self.args
        harness = await open_harness(SIM)
        bus = RedisBus(redis_url, namespace=namespace)
        await bus.start()
        ari = harness.ari
        service = build_service(
            Settings(
                ari=AriSettings(url=ari.root, username=ari.username, password=ari.password, app="opencontact")
            ),
            service_settings=ServiceSettings(database_url=database_url, journal_dir=journal),
            bus=bus,
            session_factory=session_factory(make_engine(database_url)),
        )
        await service.start()
        await asyncio.wait_for(service.connection.wait_connected(), 10)
        self.parts = [harness, bus, service]

    def command(self, message: dict[str, Any]) -> dict[str, Any]:
        bus = self.parts[1]
        return dict(self.run(bus.request(COMMANDS, message, 10.0)))

    def stop(self) -> None:
        async def stop() -> None:
            harness, bus, service = self.parts
            await service.stop()
            await bus.close()
            await harness.close()

        with contextlib.suppress(Exception):
            self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_gunicorn(
    env: dict[str, str], port: int, workers: int, threads: int, log: Path
) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "-k",
        "gthread",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "admin_api.wsgi:app",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1),
        ):
            return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn did not start; see {log}")


async def connect_all(
    url: str, tokens: dict[str, str], latencies: dict[str, list[float]]
) -> list[socketio.AsyncClient]:
    clients: list[socketio.AsyncClient] = []
    limit = asyncio.Semaphore(40)

    async def one(name: str, token: str) -> None:
        namespace = "/supervisor" if name.startswith("super") else "/agent"
        kind = "supervisor" if namespace == "/supervisor" else "agent"
        client = socketio.AsyncClient(reconnection=False)

        async def on_state(data: dict[str, Any]) -> None:
            if data.get("state") in ("paused", "free") and data.get("pause_reason", "") in ("", "BENCH"):
                latencies[kind].append(time.time() - float(data["since"]))

        client.on("agent.state", on_state, namespace=namespace)
        async with limit:
            await client.connect(
                url, namespaces=[namespace], auth={"token": token}, transports=["websocket"], wait_timeout=20
            )
        clients.append(client)

    await asyncio.gather(*(one(name, token) for name, token in tokens.items()))
    return clients


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main_async(args: argparse.Namespace) -> None:
    redis_url = os.environ.get("OC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    work = Path(tempfile.mkdtemp(prefix="oc-fanout-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    namespace = f"bench.{uuid.uuid4().hex[:8]}."
    tokens = provision(database_url, args.agents, args.supervisors)
    stasis = StasisThread(database_url, redis_url, namespace, str(work / "journal"))
    stasis.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OC_")}
    env.update(
        {
            "OC_DATABASE_URL": database_url,
            "OC_REDIS_URL": redis_url,
            "OC_BUS_NAMESPACE": namespace,
            "OC_SOCKETIO_CHANNEL": f"flask-socketio.{namespace}",
        }
    )
    threads = (args.agents + args.supervisors) // args.workers + 64
    gunicorn = start_gunicorn(env, port, args.workers, threads, work / "gunicorn.log")
    agents = [name for name in tokens if name.startswith("agent")]
    latencies: dict[str, list[float]] = {"agent": [], "supervisor": []}
    clients: list[socketio.AsyncClient] = []
    try:
        started = time.monotonic()
        clients = await connect_all(f"http://127.0.0.1:{port}", tokens, latencies)
        print(f"{len(clients)} clients connected in {time.monotonic() - started:.1f} s", flush=True)
        for name in agents:
            await asyncio.to_thread(stasis.command, messages.agent_login(name, "", None))
        await asyncio.sleep(1.0)
        latencies["agent"].clear()
        latencies["supervisor"].clear()
        interval = 1.0 / args.rate
        changes = 0
        started = time.monotonic()
        for round_index in range(args.rounds):
            paused = round_index % 2 == 0
            for name in agents:
                await asyncio.to_thread(
                    stasis.command, messages.agent_pause(name, paused, "BENCH" if paused else "")
                )
                changes += 1
                await asyncio.sleep(interval)
        elapsed = time.monotonic() - started
        expected_agent = changes
        expected_supervisor = changes * args.supervisors
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (  # noqa: ASYNC110 - bounded wait for counters
            len(latencies["agent"]) < expected_agent or len(latencies["supervisor"]) < expected_supervisor
        ):
            await asyncio.sleep(0.1)
        print(
            f"{changes} state changes in {elapsed:.1f} s ({changes / elapsed:.0f}/s); "
            f"{args.agents} agents, {args.supervisors} supervisors, {args.workers} gunicorn workers"
        )
        for kind, expected in (("agent", expected_agent), ("supervisor", expected_supervisor)):
            values = latencies[kind]
            if not values:
                print(f"{kind}: no events received")
                continue
            print(
                f"{kind:>10}: {len(values)}/{expected} events  "
                f"p50 {statistics.median(values) * 1000:.1f} ms  "
                f"p99 {percentile(values, 0.99) * 1000:.1f} ms  max {max(values) * 1000:.1f} ms"
            )
        everything = latencies["agent"] + latencies["supervisor"]
        if everything:
            print(
                f"{'all':>10}: p50 {statistics.median(everything) * 1000:.1f} ms  "
                f"p99 {percentile(everything, 0.99) * 1000:.1f} ms"
            )
    finally:
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        gunicorn.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            gunicorn.wait(10)
        stasis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--supervisors", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4, help="pause/unpause rounds over every agent")
    parser.add_argument("--rate", type=float, default=200.0, help="state changes per second")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()

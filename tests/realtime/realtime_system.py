"""The system the real-time tests run against: Stasis service + simulator here, the API under gunicorn.

The Stasis side (ARI simulator through the call harness, the product's Stasis service) runs on an
event loop in a background thread of the test process, talking to the API over a real Redis bus.
The admin API with its Socket.IO portals runs as a separate gunicorn process (gthread workers),
reached by real python-socketio clients over WebSockets on a loopback port. A SQLite file is the
shared database of both processes (these tests do not claim any MySQL behaviour).

Each scenario gets its own campaign and agents (``Desk``), so scenarios sharing the module's system
do not route calls to each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import socketio
from sqlalchemy.orm import Session, sessionmaker

from admin_api.agents_store import create_user
from bus import RedisBus
from datastore.database import create_schema, make_engine, session_factory
from datastore.models import Campaign, CampaignMember
from harness.base import Behaviour, CallHarness, FarEnd
from harness.selection import SIM, open_harness
from stasis_app.service import ServiceSettings, StasisService, build_service
from stasis_app.settings import AriSettings, Settings

T = TypeVar("T")
PRODUCT_APP = "opencontact"
PASSWORD = "realtime-pass-1"
FORM = "https://www.example.com/crm|CRM|true"
SCENARIOS = 14
AGENTS_PER_SCENARIO = 2
SUPERVISOR = "boss"
SUPERVISOR_PHONE = "4999"
WAIT = 10.0


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Desk:
    """One scenario's campaign, its DID and its agents (user names and phone extensions)."""

    campaign: str
    did: str
    agents: tuple[str, ...]
    phones: tuple[str, ...]


def provision(sessions: sessionmaker[Session]) -> list[Desk]:
    desks = []
    with sessions() as session:
        for index in range(SCENARIOS):
            campaign = f"rt{index:02d}"
            did = f"55{index:02d}"
            agents = tuple(f"rt{index:02d}a{k}" for k in range(AGENTS_PER_SCENARIO))
            phones = tuple(f"4{index:02d}{k}" for k in range(AGENTS_PER_SCENARIO))
            session.add(
                Campaign(
                    name=campaign,
                    did=did,
                    direction="inbound",
                    strategy="linear",
                    timeout=100,
                    retry=0,
                    wrapuptime=30,
                    schedule="sun-sat;00:00-23:59",
                    musiconhold="default",
                    form=FORM,
                )
            )
            for agent, phone in zip(agents, phones, strict=True):
                create_user(
                    session,
                    username=agent,
                    password=PASSWORD,
                    fullname=f"Agent {agent.upper()}",
                    role="agent",
                    phone=phone,
                )
                session.add(CampaignMember(queue_name=campaign, interface=f"PJSIP/{phone}", membername=agent))
            desks.append(Desk(campaign, did, agents, phones))
        create_user(
            session,
            username=SUPERVISOR,
            password=PASSWORD,
            fullname="The Supervisor",
            role="supervisor",
            phone=SUPERVISOR_PHONE,
        )
        session.commit()
    return desks


class StasisSide:
    """Simulator + Stasis service on a private event loop thread."""

    def __init__(self, database_url: str, redis_url: str, namespace: str, journal: Path) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        self.namespace = namespace
        self.journal = journal
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stasis-side", daemon=True)
        self.harness: CallHarness | None = None
        self.service: StasisService | None = None
        self.bus: RedisBus | None = None

    def run(self, work: Coroutine[Any, Any, T], within: float = 20.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(within)

    def start(self, phones: list[str]) -> None:
        self.thread.start()
        self.run(self._start(phones))

    async def _start(self, phones: list[str]) -> None:
        self.harness = await open_harness(SIM)
        for phone in phones:
            await self.harness.register_phone(phone, Behaviour("ring"))
        self.bus = RedisBus(self.redis_url, namespace=self.namespace)
        await self.bus.start()
        ari = self.harness.ari
        settings = Settings(
            ari=AriSettings(url=ari.root, username=ari.username, password=ari.password, app=PRODUCT_APP)
        )
        self.service = build_service(
            settings,
            service_settings=ServiceSettings(database_url=self.database_url, journal_dir=str(self.journal)),
            bus=self.bus,
            session_factory=session_factory(make_engine(self.database_url)),
        )
        await self.service.start()
        await asyncio.wait_for(self.service.connection.wait_connected(), 10)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    async def _stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
        if self.bus is not None:
            await self.bus.close()
        if self.harness is not None:
            await self.harness.close()


class ApiProcess:
    """``gunicorn -k gthread 'admin_api.wsgi:app'`` on a free loopback port."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 2, threads: int = 64) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        command = [
            str(gunicorn),
            "-k",
            "gthread",
            "--threads",
            str(threads),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{self.port}",
            "--graceful-timeout",
            "2",
            "admin_api.wsgi:app",
        ]
        self.log_path = log_path
        self._log = log_path.open("w", encoding="utf-8")
        root = Path(__file__).resolve().parents[2]
        self.process = subprocess.Popen(
            command, env=env, cwd=root, stdout=self._log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log_tail()}"
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/health", timeout=1) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not become ready:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


def http(method: str, url: str, form: dict[str, str] | None = None, token: str = "") -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@dataclass
class Received:
    name: str
    data: Any
    at: float


@dataclass
class Portal:
    """A real python-socketio client on one namespace, recording every event it receives."""

    url: str
    namespace: str
    token: str
    client: socketio.Client = field(init=False)
    events: queue.Queue[Received] = field(default_factory=queue.Queue)
    seen: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record, namespace=self.namespace)

    def _record(self, name: str, data: Any = None) -> None:
        self.events.put(Received(name, data, time.time()))

    def connect(self) -> Portal:
        self.client.connect(
            self.url,
            namespaces=[self.namespace],
            auth={"token": self.token},
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    def disconnect(self) -> None:
        self.client.disconnect()

    def call(self, command: str, data: dict[str, Any] | None = None, within: float = WAIT) -> dict[str, Any]:
        answer = self.client.call(command, data or {}, namespace=self.namespace, timeout=within)
        assert isinstance(answer, dict), answer
        return answer

    def ok(self, command: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        answer = self.call(command, data)
        assert answer["ok"], f"{command} {data}: {answer}"
        return answer

    def _pump(self, until: float) -> bool:
        try:
            self.seen.append(self.events.get(timeout=max(0.0, until - time.monotonic())))
        except queue.Empty:
            return False
        return True

    def wait(
        self, name: str, where: Callable[[Any], bool] | None = None, within: float = WAIT, after: int = 0
    ) -> Any:
        """The first event ``name`` (received at index >= ``after``) whose data satisfies ``where``."""
        deadline = time.monotonic() + within
        index = after
        while True:
            while index < len(self.seen):
                item = self.seen[index]
                index += 1
                if item.name == name and (where is None or where(item.data)):
                    return item.data
            if (time.monotonic() >= deadline or not self._pump(deadline)) and time.monotonic() >= deadline:
                names = [(i.name, _short(i.data)) for i in self.seen[-30:]]
                raise AssertionError(f"no {name} event within {within}s on {self.namespace}; last: {names}")

    def names(self) -> list[str]:
        self.drain()
        return [item.name for item in self.seen]

    def drain(self, settle: float = 0.0) -> None:
        until = time.monotonic() + settle
        while self._pump(until) or not self.events.empty():
            pass

    def mark(self) -> int:
        self.drain()
        return len(self.seen)


def _short(data: Any) -> str:
    text = json.dumps(data, default=str)
    return text if len(text) < 160 else text[:157] + "..."


def unique_namespace() -> str:
    return f"rt.{uuid.uuid4().hex[:10]}."


def sqlite_database(path: Path) -> tuple[str, sessionmaker[Session]]:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    create_schema(engine)
    return url, session_factory(engine)


def api_environment(database_url: str, redis_url: str, namespace: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OC_")}
    env.update(
        {
            "OC_DATABASE_URL": database_url,
            "OC_REDIS_URL": redis_url,
            "OC_BUS_NAMESPACE": namespace,
            "OC_SOCKETIO_CHANNEL": f"flask-socketio.{namespace}",
            "OC_API_BUS_TIMEOUT": "5",
            "OC_LOG_LEVEL": "WARNING",
        }
    )
    return env


@dataclass
class RealtimeSystem:
    stasis: StasisSide
    api: ApiProcess
    sessions: sessionmaker[Session]
    desks: list[Desk]
    portals: list[Portal] = field(default_factory=list)
    _next: Iterator[int] = field(default_factory=itertools.count)

    @property
    def harness(self) -> CallHarness:
        assert self.stasis.harness is not None
        return self.stasis.harness

    def desk(self) -> Desk:
        """A campaign and agents no other test of the module uses."""
        return self.desks[next(self._next)]

    def token(self, user: str) -> str:
        status, body = http(
            "POST",
            f"{self.api.url}/Integra/resources/auth/getUserToken",
            {"user": user, "password": PASSWORD},
        )
        assert status == 200, (status, body)
        token = json.loads(body)
        assert isinstance(token, str) and token != "0", body
        return token

    def portal(self, user: str, namespace: str = "/agent", *, connect: bool = True) -> Portal:
        portal = Portal(self.api.url, namespace, self.token(user))
        self.portals.append(portal)
        return portal.connect() if connect else portal

    def place_call(self, desk: Desk, number: str, name: str = "") -> FarEnd:
        return self.stasis.run(self.harness.place_call(desk.did, number, caller_name=name))

    def ringing(self, phone: str, within: float = 5.0) -> FarEnd:
        return self.stasis.run(self.harness.wait_for_ringing(phone, within))

    def answer(self, far_end: FarEnd) -> None:
        self.stasis.run(self.harness.answer(far_end))

    def hangup(self, far_end: FarEnd) -> None:
        self.stasis.run(self.harness.hangup(far_end))

    def behave(self, phone: str, mode: str, answer_after: float = 0.0) -> None:
        self.stasis.run(self.harness.set_phone_behaviour(phone, Behaviour(mode, answer_after)))  # type: ignore[arg-type]

    def ari(self, path: str) -> Any:
        return self.stasis.run(self.harness.ari.get(path))

    def connected_call(self, desk: Desk, agent_portal: Portal, number: str) -> tuple[FarEnd, FarEnd, str]:
        """A caller talking with the desk's first agent (answered from the portal)."""
        caller = self.place_call(desk, number, "Caller Name")
        incoming = agent_portal.wait("call.incoming")
        first_leg = self.ringing(desk.phones[0])
        agent_portal.ok("answer")
        leg = self.ringing(desk.phones[0])
        assert leg.channel_id != first_leg.channel_id
        self.answer(leg)
        agent_portal.wait("call.connected", lambda d: d["callid"] == incoming["callid"])
        return caller, leg, str(incoming["callid"])

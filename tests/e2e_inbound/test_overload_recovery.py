"""Inbound calls when ARI stops answering for a while, as under overload: requests time out, the
events socket is dropped and reconnected, and events of that gap are lost. Afterwards every call
must have finished properly: connected and completed, or ended with its queue_log row, one CDR
each, no agent left ringing, nothing left on the server.

The service talks to ARI through :class:`StallingLink`, which can hold back everything the server
sends (answers and events) while letting requests through: a request then takes effect on the
server although the client gave up on it, the ambiguous case a slow Asterisk creates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from yarl import URL

from bus import EVENTS, InProcessBus, Message
from bus import messages as bus_messages
from datastore.database import make_engine, session_factory
from harness.ari_client import AriRequestError
from harness.base import Behaviour, CallHarness, FarEnd
from stasis_app.ari.backoff import BackoffPolicy
from stasis_app.service import ServiceSettings, build_service
from stasis_app.settings import AriSettings, Settings

from .conftest import PRODUCT_APP, System, add_campaign

CLEAN: dict[str, list[str]] = {"channels": [], "bridges": []}
#: How a caller's queue_log story may end.
LAST_ROWS = {"COMPLETECALLER", "COMPLETEAGENT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY"}
AGENTS = 3
CALLS = 12


class StallingLink:
    """A TCP forwarder to the server; while ``stalled``, what the server sends is held back (and
    delivered later, in order, to the client connections still open)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.target_port = port
        self.port = 0
        self.released = asyncio.Event()
        self.released.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stall(self, seconds: float) -> None:
        self.released.clear()
        try:
            await asyncio.sleep(seconds)
        finally:
            self.released.set()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers.update((client_writer, server_writer))
        pipes = ((client_reader, server_writer, False), (server_reader, client_writer, True))
        for reader, writer, held in pipes:
            task = asyncio.create_task(self._pipe(reader, writer, held))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, held: bool) -> None:
        try:
            while data := await reader.read(65536):
                if held:
                    await self.released.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()


@pytest.fixture
async def link(harness: CallHarness) -> AsyncIterator[StallingLink]:
    root = URL(harness.ari.root)
    forwarder = StallingLink(root.host or "127.0.0.1", root.port or 8088)
    await forwarder.start()
    try:
        yield forwarder
    finally:
        await forwarder.close()


@pytest.fixture
async def system(
    harness: CallHarness, link: StallingLink, db_engine: Engine, mariadb_url: str, tmp_path: Path
) -> AsyncIterator[System]:
    """The service through the link, with a short request timeout and quick reconnects."""
    ari = harness.ari
    settings = Settings(
        ari=AriSettings(
            url=link.url,
            username=ari.username,
            password=ari.password,
            app=PRODUCT_APP,
            backoff=BackoffPolicy(initial=0.05, maximum=0.3, multiplier=2.0, jitter=0.2),
            stable_after=0.5,
            heartbeat=1.0,
            request_timeout=0.3,
        )
    )
    bus = InProcessBus()
    await bus.start()
    service = build_service(
        settings,
        service_settings=ServiceSettings(database_url=mariadb_url, journal_dir=str(tmp_path / "journal")),
        bus=bus,
        session_factory=session_factory(make_engine(mariadb_url)),
    )
    started = System(harness, service, bus, db_engine)

    async def collect(message: Message) -> None:
        started.events.append(message)

    bus.subscribe(EVENTS, collect)
    await service.start()
    try:
        await asyncio.wait_for(service.connection.wait_connected(), 10)
        yield started
    finally:
        await service.stop()
        await bus.close()


async def hang_up_after_talking(system: System, callers: dict[str, FarEnd], talk: float) -> None:
    """Each caller hangs up ``talk`` seconds after being put through to an agent."""
    done: set[str] = set()

    async def hang_up(far_end: FarEnd) -> None:
        await asyncio.sleep(talk)
        with contextlib.suppress(AriRequestError):
            await system.harness.hangup(far_end)

    pending: set[asyncio.Task[None]] = set()
    try:
        while True:
            for event in list(system.events):
                callid = str(event.get("callid"))
                if event["type"] == bus_messages.CALL_CONNECTED and callid in callers and callid not in done:
                    done.add(callid)
                    pending.add(asyncio.create_task(hang_up(callers[callid])))
            await asyncio.sleep(0.02)
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def wait_all_recorded(system: System, callids: list[str], within: float) -> dict[str, int]:
    """CDR rows per call once every call has one (or the time is up)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await system.flush()
        counts = {callid: len(system.cdrs(callid)) for callid in callids}
        if all(counts.values()) or loop.time() >= deadline:
            return counts
        await asyncio.sleep(0.1)


async def test_every_call_finishes_after_ari_stops_answering_for_a_while(
    harness: CallHarness, link: StallingLink, system: System, db_engine: Engine
) -> None:
    members = [(f"agent{n}", harness.phone_endpoint(f"10{n:02d}")) for n in range(AGENTS)]
    add_campaign(session_factory(db_engine), "Support", "7400", members, timeout=5, retry=0)
    await system.command(bus_messages.campaigns_reload())
    for n in range(AGENTS):
        await harness.register_phone(f"10{n:02d}", Behaviour("answer", answer_after=1.0))
        await system.login(f"agent{n}", f"10{n:02d}")

    callers: dict[str, FarEnd] = {}
    talker = asyncio.create_task(hang_up_after_talking(system, callers, talk=0.3))
    try:
        for number in range(CALLS):
            far_end = await harness.place_call("7400", f"55500{number:02d}")
            callers[far_end.channel_id] = far_end
        await system.wait_event(bus_messages.CALL_CONNECTED)
        sessions_before = system.service.connection.status().sessions
        # ARI stops answering while agents ring, answer and talk and callers wait.
        await link.stall(1.5)
        counts = await wait_all_recorded(system, list(callers), within=12.0)
    finally:
        talker.cancel()
        await asyncio.gather(talker, return_exceptions=True)

    assert system.service.connection.status().sessions > sessions_before, "the stall broke no request"
    assert counts == dict.fromkeys(callers, 1), counts
    for callid in callers:
        rows = [row[0] for row in system.queue_log(callid)]
        if "ENTERQUEUE" in rows:
            assert rows[-1] in LAST_ROWS, (callid, rows)
            completed = rows.count("COMPLETECALLER") + rows.count("COMPLETEAGENT")
            assert rows.count("CONNECT") == completed, (callid, rows)
    assert await harness.wait_no_strays(within=5.0) == CLEAN
    flow = system.service.flow
    assert flow.calls == {} and flow.legs == {} and len(flow.queues) == 0
    now = flow.clock()
    assert {agent.name: agent.state(now).value for agent in flow.agents.agents.values()} == {
        f"agent{n}": "free" for n in range(AGENTS)
    }

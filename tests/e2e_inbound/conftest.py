"""An in-process Stasis service (the product's inbound flow) against a harness, recording to MariaDB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from e2e_support import PRODUCT_APP, ProductServices, harness
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from bus import COMMANDS, EVENTS, InProcessBus, Message
from bus import messages as bus_messages
from datastore.database import make_engine
from datastore.models import Campaign, CampaignMember, Cdr, Holiday, QueueLogEntry
from harness.base import CallHarness
from stasis_app.phones.services import PhoneSettings
from stasis_app.service import StasisService

__all__ = ["PRODUCT_APP", "harness"]


@pytest.fixture
def db_engine(mariadb_url: str) -> Iterator[Engine]:
    """The module's database, emptied of campaigns and records before each test."""
    engine = make_engine(mariadb_url)
    with Session(engine) as session:
        for model in (QueueLogEntry, Cdr, CampaignMember, Campaign, Holiday):
            session.execute(delete(model))
        session.commit()
    yield engine
    engine.dispose()


def add_campaign(
    factory: sessionmaker[Session], name: str, did: str, members: list[tuple[str, str]], **columns: Any
) -> None:
    """A campaign row and its members (agent name, interface)."""
    values: dict[str, Any] = {
        "strategy": "rrmemory",
        "timeout": 15,
        "retry": 0,
        "schedule": "sun-sat;00:00-23:59",
        "musiconhold": "default",
        **columns,
    }
    with factory() as session:
        session.add(Campaign(name=name, did=did, direction="inbound", **values))
        for agent, interface in members:
            session.add(CampaignMember(queue_name=name, interface=interface, membername=agent))
        session.commit()


@dataclass
class System:
    """The system under test and what it told the outside world."""

    harness: CallHarness
    service: StasisService
    bus: InProcessBus
    engine: Engine
    events: list[Message] = field(default_factory=list)

    async def command(self, message: Message, within: float = 5.0) -> dict[str, Any]:
        return await self.bus.request(COMMANDS, message, within)

    async def login(self, agent: str, ext: str) -> dict[str, Any]:
        reply = await self.command(bus_messages.agent_login(agent, self.harness.phone_endpoint(ext)))
        assert reply["ok"], reply
        return reply

    async def wait_event(self, kind: str, within: float = 10.0, **fields: Any) -> Message:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for event in self.events:
                if event["type"] == kind and all(event.get(k) == v for k, v in fields.items()):
                    return event
            if loop.time() >= deadline:
                raise TimeoutError(f"no {kind} {fields} within {within}s; events: {self.events}")
            await asyncio.sleep(0.01)

    async def flush(self) -> None:
        written = await asyncio.to_thread(self.service.writer.flush, 10.0)
        assert written, f"{self.service.writer.pending()} records still pending"

    def queue_log(self, callid: str) -> list[tuple[str, ...]]:
        """(event, queuename, agent, data1, data2, data3) of a call, in order."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(QueueLogEntry).where(QueueLogEntry.callid == callid).order_by(QueueLogEntry.id)
            ).all()
            return [(r.event, r.queuename, r.agent, r.data1, r.data2, r.data3) for r in rows]

    def agent_log(self, agent: str) -> list[tuple[str, ...]]:
        """(event, callid, queuename, data1, data2) of an agent's own events (no call, no membership)."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(QueueLogEntry)
                .where(QueueLogEntry.agent == agent, QueueLogEntry.callid == "NONE")
                .order_by(QueueLogEntry.id)
            ).all()
            return [(r.event, r.callid, r.queuename, r.data1, r.data2) for r in rows]

    def system_log(self) -> list[tuple[str, ...]]:
        """(event, callid, queuename, agent, data1) of the rows no call owns: queueing started,
        campaigns created, members added and removed."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(QueueLogEntry)
                .where(QueueLogEntry.callid.in_(["NONE", "REALTIME"]))
                .order_by(QueueLogEntry.id)
            ).all()
            return [(r.event, r.callid, r.queuename, r.agent, r.data1) for r in rows]

    def cdrs(self, callid: str) -> list[Cdr]:
        with Session(self.engine) as session:
            rows = list(session.scalars(select(Cdr).where(Cdr.uniqueid == callid)).all())
            session.expunge_all()
            return rows


Starter = Callable[..., Awaitable[System]]


@pytest.fixture
async def start_system(
    harness: CallHarness, db_engine: Engine, mariadb_url: str, tmp_path: Path
) -> AsyncIterator[Starter]:
    """``await start_system()`` starts the service against the harness's ARI, with the rows present."""
    started: list[ProductServices] = []

    async def start(database_url: str | None = None) -> System:
        services = ProductServices(harness, database_url or mariadb_url, tmp_path / "journal")
        started.append(services)
        events: list[Message] = []

        async def collect(message: Message) -> None:
            events.append(message)

        # The default phone settings, as when the service is built without any.
        service, bus = await services.start(
            PhoneSettings(), before_start=lambda bus: bus.subscribe(EVENTS, collect)
        )
        return System(harness, service, bus, db_engine, events)

    try:
        yield start
    finally:
        for services in started:
            await services.stop_all()

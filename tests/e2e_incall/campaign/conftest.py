"""Campaign calls with in-call features: the inbound flow, agents on harness phones, phones 201-206.

A customer dials a campaign's DID; an agent logged in on a harness phone answers; the agent then
uses the features (keys on the agent's leg, or bus commands) while MariaDB receives the queue_log
rows, which the tests read back with all five data fields.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CLEAN, ProductServices, harness, harness_phone_settings, played
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from bus import COMMANDS, EVENTS, InProcessBus, Message
from bus import messages as bus_messages
from datastore.database import make_engine
from datastore.models import Campaign, CampaignMember, Cdr, PhoneFeatures, QueueLogEntry
from harness.base import CallHarness, FarEnd
from stasis_app.phones.codes import FeatureCodes
from stasis_app.service import StasisService

__all__ = ["CLEAN", "harness", "played"]

EXTENSIONS = ("201", "202", "203", "204", "205", "206")
CUSTOMER = "5550100"
CUSTOMER_NAME = "Customer"
FAST = FeatureCodes(interdigit_timeout=0.4)


@pytest.fixture
def db_engine(mariadb_url: str) -> Iterator[Engine]:
    """No campaigns, records or phone settings but phones 201-206 (all allowed internal calls)."""
    engine = make_engine(mariadb_url)
    with Session(engine) as session:
        for model in (QueueLogEntry, Cdr, CampaignMember, Campaign, PhoneFeatures):
            session.execute(delete(model))
        for ext in EXTENSIONS:
            session.add(PhoneFeatures(extension=ext, noanswer_seconds=1))
        session.commit()
    yield engine
    engine.dispose()


QueueRow = tuple[str, str, str, str, str, str, str, str]


def add_campaign(engine: Engine, harness: CallHarness, name: str, did: str, agents: dict[str, str]) -> None:
    """A campaign and its members: agent name -> phone extension on the harness."""
    with Session(engine) as session:
        session.add(
            Campaign(
                name=name,
                did=did,
                direction="inbound",
                strategy="rrmemory",
                timeout=15,
                retry=0,
                wrapuptime=0,
                schedule="sun-sat;00:00-23:59",
                musiconhold="default",
            )
        )
        for agent, ext in agents.items():
            session.add(
                CampaignMember(queue_name=name, interface=harness.phone_endpoint(ext), membername=agent)
            )
        session.commit()


@dataclass
class System:
    harness: CallHarness
    service: StasisService
    bus: InProcessBus
    engine: Engine
    events: list[Message] = field(default_factory=list)

    async def command(self, message: Message, within: float = 15.0) -> dict[str, Any]:
        return await self.bus.request(COMMANDS, message, within)

    async def login(self, agent: str, ext: str) -> None:
        reply = await self.command(bus_messages.agent_login(agent, self.harness.phone_endpoint(ext)))
        assert reply["ok"], reply

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

    async def queue_log(self, callid: str) -> list[QueueRow]:
        """(event, queuename, agent, data1..data5) of a call, in order, once written."""
        written = await asyncio.to_thread(self.service.writer.flush, 10.0)
        assert written, f"{self.service.writer.pending()} records still pending"
        with Session(self.engine) as session:
            rows = session.scalars(
                select(QueueLogEntry).where(QueueLogEntry.callid == callid).order_by(QueueLogEntry.id)
            ).all()
            return [
                (r.event, r.queuename, r.agent, r.data1, r.data2, r.data3, r.data4, r.data5) for r in rows
            ]

    async def wait_rows(self, callid: str, last: str, within: float = 10.0) -> list[QueueRow]:
        """The call's rows once its last row is ``last`` (records are written asynchronously)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            rows = await self.queue_log(callid)
            if rows and rows[-1][0] == last:
                return rows
            if loop.time() >= deadline:
                raise TimeoutError(f"rows of {callid} do not end with {last}: {rows}")
            await asyncio.sleep(0.05)

    async def call_in(self, did: str) -> FarEnd:
        return await self.harness.place_call(did, CUSTOMER, caller_name=CUSTOMER_NAME)


Starter = Callable[..., Awaitable[System]]


@pytest.fixture
async def start_system(
    harness: CallHarness, db_engine: Engine, mariadb_url: str, tmp_path: Path
) -> AsyncIterator[Starter]:
    services = ProductServices(harness, mariadb_url, tmp_path / "journal")

    async def start(
        campaigns: dict[str, tuple[str, dict[str, str]]] | None = None, **phone_options: Any
    ) -> System:
        """``campaigns``: name -> (DID, {agent: extension}), in the database before the start."""
        for name, (did, agents) in (campaigns or {}).items():
            add_campaign(db_engine, harness, name, did, agents)
        events: list[Message] = []

        async def collect(message: Message) -> None:
            events.append(message)

        service, bus = await services.start(
            harness_phone_settings(harness, **{"codes": FAST, **phone_options}),
            before_start=lambda bus: bus.subscribe(EVENTS, collect),
        )
        assert service.incall is not None
        service.incall.settings.ring_timeout = 2
        return System(harness, service, bus, db_engine, events)

    try:
        yield start
    finally:
        await services.stop_all()

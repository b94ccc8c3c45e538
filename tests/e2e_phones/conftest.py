"""The product's Stasis service in-process against a harness, with phones 201-206 in MariaDB.

Phones dial through the project's ``from-internal`` context (``place_call(..., context=
"from-internal")``); the service rings extensions and the trunk at the harness's phone endpoints.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_support import CLEAN, PRODUCT_APP, ProductServices, harness, harness_phone_settings
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from datastore.database import make_engine
from datastore.models import PhoneFeatures
from harness.base import CallHarness, FarEnd
from stasis_app.phones.internal_flow import CallRecord
from stasis_app.service import StasisService

__all__ = ["CLEAN", "PRODUCT_APP", "harness"]

EXTENSIONS = ("201", "202", "203", "204", "205", "206")


@pytest.fixture
def db_engine(mariadb_url: str) -> Iterator[Engine]:
    """Phones 201-206: 202 and 203 share pickup group "sales"; all may call internal and local."""
    engine = make_engine(mariadb_url)
    with Session(engine) as session:
        session.execute(delete(PhoneFeatures))
        for ext in EXTENSIONS:
            group = "sales" if ext in ("202", "203") else ""
            session.add(PhoneFeatures(extension=ext, pickup_group=group, noanswer_seconds=1))
        session.commit()
    yield engine
    engine.dispose()


@dataclass
class System:
    harness: CallHarness
    service: StasisService
    engine: Engine

    async def dial(self, from_ext: str, digits: str) -> FarEnd:
        """Phone ``from_ext`` dials ``digits``."""
        return await self.harness.place_call(digits, from_ext, context="from-internal")

    async def outcome(self, caller: FarEnd, within: float = 10.0) -> CallRecord:
        """How the flow ended the call this far end made."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for record in self.service.internal.history:
                if record.call_id == caller.channel_id:
                    return record
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"call {caller.channel_id} not finished; {list(self.service.internal.history)}"
                )
            await asyncio.sleep(0.01)

    def row(self, ext: str) -> PhoneFeatures:
        with Session(self.engine) as session:
            found = session.get(PhoneFeatures, ext)
            assert found is not None
            session.expunge(found)
            return found


Starter = Callable[..., Awaitable[System]]


@pytest.fixture
async def start_system(
    harness: CallHarness, db_engine: Engine, mariadb_url: str, tmp_path: Path
) -> AsyncIterator[Starter]:
    services = ProductServices(harness, mariadb_url, tmp_path / "journal")

    async def start(**phone_options: Any) -> System:
        service, _ = await services.start(harness_phone_settings(harness, **phone_options))
        return System(harness, service, db_engine)

    try:
        yield start
    finally:
        await services.stop_all()

"""What the end-to-end suites share: a harness per backend, and the product's Stasis service started
in-process against it (with its own in-process bus), stopped again when the test ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bus import InProcessBus
from datastore.database import make_engine, session_factory
from harness.base import CallHarness, Heard
from harness.selection import backend_names, open_harness
from stasis_app.phones.services import PhoneSettings
from stasis_app.phones.voicemail import VoicemailSettings
from stasis_app.service import ServiceSettings, StasisService, build_service
from stasis_app.settings import AriSettings, Settings

PRODUCT_APP = "opencontact"
#: What `wait_no_strays` answers once a test has left nothing behind.
CLEAN: dict[str, list[str]] = {"channels": [], "bridges": []}


@pytest.fixture(params=backend_names())
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[CallHarness]:
    opened = await open_harness(str(request.param))
    try:
        yield opened
    finally:
        await opened.close()


def played(items: list[Heard]) -> list[str]:
    return [str(item.get("media")) for item in items if item.get("kind") == "playback"]


def harness_phone_settings(harness: CallHarness, **options: Any) -> PhoneSettings:
    """Extensions and the trunk ring at the harness's phones, 2 s ring timeout unless `options` say."""
    defaults: dict[str, Any] = {
        "extension_dial": harness.phone_endpoint("{ext}"),
        "trunk_dial": harness.phone_endpoint("{number}"),
        "ring_timeout": 2,
    }
    return PhoneSettings(**{**defaults, **options})


class ProductServices:
    """Starts the product's service against the harness; `stop_all` stops each one it started."""

    def __init__(self, harness: CallHarness, database_url: str, journal_dir: Path) -> None:
        self.harness = harness
        self.database_url = database_url
        self.journal_dir = journal_dir
        self.started: list[tuple[StasisService, InProcessBus]] = []

    async def start(
        self,
        phone_settings: PhoneSettings,
        voicemail_settings: VoicemailSettings | None = None,
        before_start: Callable[[InProcessBus], object] | None = None,
    ) -> tuple[StasisService, InProcessBus]:
        """A connected service; `before_start` may subscribe to its bus before it starts."""
        ari = self.harness.ari
        settings = Settings(
            ari=AriSettings(url=ari.root, username=ari.username, password=ari.password, app=PRODUCT_APP)
        )
        bus = InProcessBus()
        await bus.start()
        service = build_service(
            settings,
            service_settings=ServiceSettings(
                database_url=self.database_url, journal_dir=str(self.journal_dir)
            ),
            bus=bus,
            session_factory=session_factory(make_engine(self.database_url)),
            phone_settings=phone_settings,
            voicemail_settings=voicemail_settings,
        )
        if before_start is not None:
            before_start(bus)
        await service.start()
        await asyncio.wait_for(service.connection.wait_connected(), 10)
        self.started.append((service, bus))
        return service, bus

    async def stop_all(self) -> None:
        for service, bus in self.started:
            await service.stop()
            await bus.close()

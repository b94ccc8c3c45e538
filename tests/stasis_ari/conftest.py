"""Fixtures: a real simulator on an ephemeral port, and a cuttable TCP link in front of it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from ari_sim.engine import Engine
from ari_sim.server import create_app
from ari_sim.settings import SimSettings

from .sim_link import CuttableLink, Simulator


@pytest.fixture
async def simulator() -> AsyncIterator[Simulator]:
    settings = SimSettings(port=0, time_scale=0.01)
    engine = Engine(settings)
    runner = web.AppRunner(create_app(engine, settings))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield Simulator(engine, settings, f"http://127.0.0.1:{port}", port)
    finally:
        await runner.cleanup()
        with contextlib.suppress(Exception):
            await engine.close()


@pytest.fixture
async def link(simulator: Simulator) -> AsyncIterator[CuttableLink]:
    cuttable = CuttableLink(simulator.port)
    await cuttable.start()
    try:
        yield cuttable
    finally:
        await cuttable.close()

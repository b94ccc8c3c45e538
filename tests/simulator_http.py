"""A simulator serving on an ephemeral loopback port with an HTTP session already authenticated to it,
for the tests that speak to it over plain aiohttp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from ari_sim.engine import Engine
from ari_sim.settings import SimSettings
from harness.sim_backend import SimServer


@asynccontextmanager
async def served_simulator(settings: SimSettings) -> AsyncIterator[tuple[Engine, str, aiohttp.ClientSession]]:
    """(engine, base URL, session with the ARI credentials); both are closed on the way out."""
    server = SimServer(settings)
    await server.start()
    assert server.engine is not None
    client = server.client()
    yield server.engine, server.url, client.session
    await client.close()
    await server.stop()

"""Fixtures: the machine's Redis (tests fail when it is unreachable) and a private one to restart."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from reachable_redis import reachable_redis_url
from redis_server import PrivateRedis

from bus import InProcessBus, RedisBus
from bus.base import BusCore


@pytest.fixture(scope="session")
def redis_url() -> str:
    return reachable_redis_url("the bus tests")


@pytest.fixture
def namespace() -> str:
    """A per-test channel prefix, so parallel runs on one Redis never hear each other."""
    return f"test.{uuid.uuid4().hex[:12]}."


@pytest.fixture(params=["inprocess", "redis"])
async def bus_pair(request: pytest.FixtureRequest, namespace: str) -> AsyncIterator[tuple[BusCore, BusCore]]:
    """Two ends of a bus: one shared in-process bus, or two Redis buses on the same namespace."""
    if request.param == "inprocess":
        shared = InProcessBus()
        await shared.start()
        yield shared, shared
        await shared.close()
        return
    url = request.getfixturevalue("redis_url")
    first, second = RedisBus(url, namespace=namespace), RedisBus(url, namespace=namespace)
    await first.start()
    await second.start()
    assert await first.wait_ready(5) and await second.wait_ready(5)
    yield first, second
    await first.close()
    await second.close()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()

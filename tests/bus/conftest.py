"""Fixtures: the machine's Redis (tests fail when it is unreachable) and a private one to restart."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from redis_server import PrivateRedis

from bus import InProcessBus, RedisBus
from bus.base import BusCore


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("OC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        assert client.ping(), f"Redis at {url} does not answer PING"
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is unreachable (the bus tests need a real Redis): {exc}")
    finally:
        client.close()
    return url


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

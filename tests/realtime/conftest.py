"""One system per test module: Stasis service + simulator in this process, the API under gunicorn."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis
from realtime_system import (
    SUPERVISOR_PHONE,
    ApiProcess,
    RealtimeSystem,
    StasisSide,
    api_environment,
    provision,
    sqlite_database,
    unique_namespace,
)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("OC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        assert client.ping(), f"Redis at {url} does not answer PING"
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is unreachable (the real-time tests need a real Redis): {exc}")
    finally:
        client.close()
    return url


@pytest.fixture(scope="module")
def system(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealtimeSystem]:
    root = tmp_path_factory.mktemp("realtime")
    database_url, sessions = sqlite_database(root / "oc.db")
    desks = provision(sessions)
    namespace = unique_namespace()
    phones = [p for d in desks for p in d.phones] + [SUPERVISOR_PHONE]
    stasis = StasisSide(database_url, redis_url, namespace, root / "journal")
    api = ApiProcess(api_environment(database_url, redis_url, namespace), root / "gunicorn.log")
    try:
        stasis.start(phones)
        api.wait_ready()
        built = RealtimeSystem(stasis, api, sessions, desks)
        yield built
        for portal in built.portals:
            if portal.client.connected:
                portal.disconnect()
    finally:
        api.stop()
        stasis.stop()

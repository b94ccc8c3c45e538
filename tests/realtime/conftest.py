"""One system per test module: Stasis service + simulator in this process, the API under gunicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reachable_redis import reachable_redis_url
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
    return reachable_redis_url("the real-time tests")


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

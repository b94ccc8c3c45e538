"""The machine's Redis for the suites that need a real one: they fail, not skip, when it is missing."""

from __future__ import annotations

import os

import pytest
import redis


def reachable_redis_url(needed_by: str) -> str:
    """The Redis URL (OC_TEST_REDIS_URL or the local default) once it answers PING."""
    url = os.environ.get("OC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        assert client.ping(), f"Redis at {url} does not answer PING"
    except redis.ConnectionError as exc:
        pytest.fail(f"Redis at {url} is unreachable ({needed_by} need a real Redis): {exc}")
    finally:
        client.close()
    return url

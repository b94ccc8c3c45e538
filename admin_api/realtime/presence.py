"""Who is connected to the agent portal, across every process serving Socket.IO.

One process keeps a counter per user in memory; several (gunicorn workers, hosts) share a Redis hash,
so a user connected to one worker is online for the others. Counters go up on connect and down on
disconnect; a user is online while any connection is open.
"""

from __future__ import annotations

import threading
from typing import Protocol

import redis


class Presence(Protocol):
    def connected(self, user: str) -> bool:
        """Count a connection; True when it is the user's first."""
        ...

    def disconnected(self, user: str) -> bool:
        """Uncount a connection; True when it was the user's last."""
        ...

    def online(self) -> set[str]: ...


class MemoryPresence:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def connected(self, user: str) -> bool:
        with self._lock:
            self._counts[user] = self._counts.get(user, 0) + 1
            return self._counts[user] == 1

    def disconnected(self, user: str) -> bool:
        with self._lock:
            left = self._counts.get(user, 0) - 1
            if left <= 0:
                self._counts.pop(user, None)
                return True
            self._counts[user] = left
            return False

    def online(self) -> set[str]:
        with self._lock:
            return set(self._counts)


class RedisPresence:
    """Counters in one Redis hash named after the Socket.IO channel (one per deployment)."""

    def __init__(self, url: str, key: str) -> None:
        self._client: redis.Redis = redis.Redis.from_url(url, decode_responses=True)
        self._key = key

    def connected(self, user: str) -> bool:
        return int(self._client.hincrby(self._key, user, 1)) == 1

    def disconnected(self, user: str) -> bool:
        left = int(self._client.hincrby(self._key, user, -1))
        if left <= 0:
            self._client.hdel(self._key, user)
            return True
        return False

    def online(self) -> set[str]:
        return {str(name) for name in self._client.hkeys(self._key)}

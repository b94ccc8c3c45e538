"""Account lockout after repeated wrong passwords (the seed's ISO 27001 rule, limits configurable).

The counter lives on the user row (`failed_logins`, `locked_until`) so that every API process and a
restart see the same lock; unknown user names are counted in memory only, so that guessing names cannot
fill the database.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


def utcnow() -> datetime:
    """Naive UTC, the form DATETIME columns hold in MySQL and SQLite alike."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class _Count:
    failures: int = 0
    locked_until: datetime | None = None


class LoginGuard:
    def __init__(self, max_failures: int, lockout: timedelta) -> None:
        self.max_failures = max_failures
        self.lockout = lockout
        self._lock = threading.Lock()
        self._memory: dict[str, _Count] = {}

    @staticmethod
    def _stored(user: Any) -> bool:
        return hasattr(user, "failed_logins") and hasattr(user, "locked_until")

    def is_locked(self, username: str, user: Any | None, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if user is not None and self._stored(user):
            until = user.locked_until
            return until is not None and until > now
        with self._lock:
            count = self._memory.get(username)
            return bool(count and count.locked_until and count.locked_until > now)

    def failed(self, username: str, user: Any | None, now: datetime | None = None) -> bool:
        """Count one wrong password; True when this failure locks the account."""
        now = now or utcnow()
        if user is not None and self._stored(user):
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= self.max_failures:
                user.locked_until = now + self.lockout
                user.failed_logins = 0
                return True
            return False
        with self._lock:
            count = self._memory.setdefault(username, _Count())
            count.failures += 1
            if count.failures >= self.max_failures:
                count.locked_until = now + self.lockout
                count.failures = 0
                return True
            return False

    def succeeded(self, username: str, user: Any | None) -> None:
        if user is not None and self._stored(user):
            user.failed_logins = 0
            user.locked_until = None
        with self._lock:
            self._memory.pop(username, None)

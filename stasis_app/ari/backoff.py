"""Reconnect delays: capped exponential growth with jitter.

Jitter matters when several Stasis app instances lose the same Asterisk at once: without it they
would all come back in the same instant and load Asterisk with api-docs and resync requests together.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

# Past this exponent the delay is at the cap anyway for any sane policy; stopping here keeps
# ``multiplier ** attempt`` from overflowing after days of failed attempts.
_MAX_EXPONENT = 64


@dataclass(frozen=True)
class BackoffPolicy:
    """How long to wait before reconnect attempt ``n`` (counted from 0).

    The base delay is ``initial * multiplier ** n`` capped at ``maximum``; the actual delay is drawn
    from ``[base * (1 - jitter), base]``, so ``jitter=0`` is a fixed schedule and ``jitter=1`` is
    "full jitter".
    """

    initial: float = 0.5
    maximum: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.maximum < self.initial:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if self.multiplier < 1:
            raise ValueError("backoff multiplier must be >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("backoff jitter is a fraction between 0 and 1")

    def base_delay(self, attempt: int) -> float:
        """The delay before jitter for the given attempt number."""
        exponent = min(max(attempt, 0), _MAX_EXPONENT)
        return min(self.maximum, self.initial * self.multiplier**exponent)

    def delay(self, attempt: int, draw: float) -> float:
        """The delay for ``attempt`` given a uniform random ``draw`` in [0, 1)."""
        return self.base_delay(attempt) * (1.0 - self.jitter * draw)


class Backoff:
    """Counts failed attempts and hands out the next delay; ``reset`` after a healthy connection."""

    def __init__(self, policy: BackoffPolicy, draw: Callable[[], float] = random.random) -> None:
        self.policy = policy
        self._draw = draw
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """How many delays were handed out since the last reset."""
        return self._attempt

    def next_delay(self) -> float:
        delay = self.policy.delay(self._attempt, self._draw())
        self._attempt += 1
        return delay

    def reset(self) -> None:
        self._attempt = 0

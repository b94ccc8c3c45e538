"""The reconnect loop: run one connection session after another, pausing by the backoff schedule.

Kept apart from any I/O (the session, sleep and clock are injected) so the schedule - grow on
failures, reset after a connection that stayed up, stop promptly when asked - is testable alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from stasis_app.ari.backoff import Backoff

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
#: One connection from start to end. Calls ``mark_ready()`` once it is fully up; returns when the
#: connection closes, raises when it could not be made or broke.
Session = Callable[[Callable[[], None]], Awaitable[None]]
#: Told before each pause: the error that ended the session (None for a clean close) and the delay.
RetryHook = Callable[[BaseException | None, float], None]


class ReconnectLoop:
    """Never gives up: sessions are retried until ``stop`` is set.

    The backoff resets only when a session had been ready for ``stable_after`` seconds, so a
    server that accepts and at once drops connections still sees growing pauses.
    """

    def __init__(
        self,
        session: Session,
        backoff: Backoff,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        stable_after: float = 5.0,
        on_retry: RetryHook | None = None,
    ) -> None:
        self._session = session
        self.backoff = backoff
        self._sleep = sleep
        self._clock = clock
        self._stable_after = stable_after
        self._on_retry = on_retry
        self.sessions = 0

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            ready_at: float | None = None

            def mark_ready() -> None:
                nonlocal ready_at
                ready_at = self._now()

            error: BaseException | None = None
            self.sessions += 1
            try:
                await self._session(mark_ready)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc
            if stop.is_set():
                return
            if ready_at is not None and self._now() - ready_at >= self._stable_after:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            if self._on_retry is not None:
                self._on_retry(error, delay)
            await self._pause(delay, stop)

    async def _pause(self, delay: float, stop: asyncio.Event) -> None:
        """Sleep ``delay`` seconds, or less if ``stop`` is set meanwhile."""
        sleeper = asyncio.ensure_future(self._sleep(delay))
        stopper = asyncio.ensure_future(stop.wait())
        _, pending = await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

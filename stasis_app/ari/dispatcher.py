"""Per-key ordered dispatch: each key's items run one at a time in arrival order, keys run side by side.

A call flow reasons about one channel at a time ("answered, then bridged, then hung up"), so the
events of one channel must reach it strictly in order; but a slow step on one call (a database
look-up, a long REST request) must not hold up every other call. One FIFO per key with its own
worker task gives both. A key's queue and worker exist only while it has work, so memory follows
the number of busy channels, not the number ever seen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")

#: ``handle(key, item)``: processes one item; may be slow, may raise.
ItemHandler = Callable[[str, Item], Awaitable[None]]
#: ``on_error(key, item, exc)``: told about an exception ``handle`` raised; must not raise.
ErrorHook = Callable[[str, Item, BaseException], None]


class DispatcherClosed(RuntimeError):
    """Raised by ``submit`` after ``close``."""


class KeyedDispatcher(Generic[Item]):
    """Runs ``handle(key, item)`` for submitted items, in order per key, concurrently across keys.

    ``max_pending`` bounds the items waiting in all queues together: ``submit`` then waits, which
    pushes back on whoever reads the source (for the events WebSocket, TCP flow control).
    """

    def __init__(
        self,
        handle: ItemHandler[Item],
        on_error: ErrorHook[Item] | None = None,
        max_pending: int = 50_000,
    ) -> None:
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        self._handle = handle
        self._on_error = on_error
        self._max_pending = max_pending
        self._queues: dict[str, deque[Item]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._pending = 0
        self._room = asyncio.Event()
        self._room.set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self.handled = 0
        self.failed = 0

    @property
    def pending(self) -> int:
        """Items queued or being handled."""
        return self._pending

    @property
    def active_keys(self) -> int:
        """Keys that currently have a queue (and a worker)."""
        return len(self._queues)

    async def submit(self, key: str, item: Item) -> None:
        """Queue ``item`` behind earlier items of ``key``; waits while the dispatcher is full."""
        while self._pending >= self._max_pending:
            self._room.clear()
            await self._room.wait()
        self.submit_nowait(key, item)

    def submit_nowait(self, key: str, item: Item) -> None:
        """Queue ``item`` without waiting (ignores ``max_pending``; for callers that bound themselves)."""
        if self._closed:
            raise DispatcherClosed("dispatcher is closed")
        queue = self._queues.get(key)
        if queue is None:
            queue = deque()
            self._queues[key] = queue
            self._workers[key] = asyncio.create_task(self._work(key, queue), name=f"dispatch:{key}")
        queue.append(item)
        self._pending += 1
        self._idle.clear()

    async def _work(self, key: str, queue: deque[Item]) -> None:
        try:
            while queue:
                item = queue[0]
                try:
                    await self._handle(key, item)
                    self.handled += 1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.failed += 1
                    self._report(key, item, exc)
                finally:
                    queue.popleft()
                    self._pending -= 1
                    if self._pending < self._max_pending:
                        self._room.set()
        finally:
            # No await between the emptiness check above and this removal, so a concurrent
            # submit either landed in this queue before the check or finds no queue and starts anew.
            if self._queues.get(key) is queue:
                del self._queues[key]
                del self._workers[key]
            if not self._queues:
                self._idle.set()

    def _report(self, key: str, item: Item, exc: BaseException) -> None:
        if self._on_error is None:
            log.error("handler failed for %s on %r", key, item, exc_info=exc)
            return
        try:
            self._on_error(key, item, exc)
        except Exception:
            log.exception("error hook failed for %s", key)

    async def join(self) -> None:
        """Wait until every queued item has been handled."""
        await self._idle.wait()

    async def close(self, grace: float = 5.0) -> None:
        """Stop accepting items, give queued ones ``grace`` seconds to finish, then cancel the rest."""
        self._closed = True
        if self._queues:
            try:
                await asyncio.wait_for(self._idle.wait(), grace)
            except TimeoutError:
                log.warning("cancelling %d dispatch queues still busy at close", len(self._workers))
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
        self._queues.clear()
        self._workers.clear()
        self._pending = 0
        self._idle.set()
        self._room.set()

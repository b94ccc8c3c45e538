"""A blocking face of a bus for threaded code (Flask request handlers).

The async bus runs on an event loop in its own daemon thread; each call hands a coroutine to that
loop and waits for its result, so any number of request threads can share one bus safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bus.base import Bus, BusClosed, Subscription
from bus.messages import Message

T = TypeVar("T")

#: A handler for threaded code; runs on the bus thread, so it must be quick and must not block.
SyncHandler = Callable[[Message], None]


class SyncBus:
    """Blocking ``publish``/``request``/``subscribe`` over an async :class:`Bus`."""

    def __init__(self, bus: Bus, *, start_timeout: float = 10.0) -> None:
        self.bus = bus
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the bus thread and the bus on it (idempotent)."""
        with self._lock:
            if self._loop is not None:
                return
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="bus-loop", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
        self._call(self.bus.start(), self._start_timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Close the bus and stop its thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.bus.close(), loop).result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
            if not thread.is_alive():
                loop.close()

    def __enter__(self) -> SyncBus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def publish(self, channel: str, message: Message, timeout: float = 10.0) -> int:
        """Publish and return the number of receivers."""
        return self._call(self.bus.publish(channel, message), timeout)

    def request(self, channel: str, message: Message, timeout: float) -> dict[str, Any]:
        """Send a request and return the reply's payload (raises RequestFailed subclasses)."""
        # The bus enforces ``timeout``; the extra second only guards against a stuck loop.
        return self._call(self.bus.request(channel, message, timeout), timeout + 1.0)

    def subscribe(self, channel: str, handler: SyncHandler, ready_timeout: float = 5.0) -> Subscription:
        """Call ``handler`` on the bus thread for every message on ``channel``.

        Returns once the subscription is live (for Redis: confirmed by the server, or after
        ``ready_timeout``).
        """

        async def run(message: Message) -> None:
            handler(message)

        async def make() -> Subscription:
            sub = self.bus.subscribe(channel, run)
            await sub.wait_ready(ready_timeout)
            return sub

        return self._call(make(), ready_timeout + 1.0)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        loop = self._loop
        if loop is None:
            coro.close()
            raise BusClosed("SyncBus is not started")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

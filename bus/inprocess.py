"""The bus inside one process (the embedded mode): no broker, same behaviour as Redis.

Messages are serialised to JSON on publish and every subscriber gets its own parsed copy, so code
that works here does not break when the bus becomes Redis (no shared mutable dicts, no values JSON
cannot carry). Subscriptions may live on different event loops or threads (the Stasis app's loop and
the admin API's bus thread): delivery crosses to each subscription's loop thread-safely.
"""

from __future__ import annotations

import asyncio

from bus import messages
from bus.base import BusClosed, BusCore, Subscription
from bus.messages import Message


class InProcessBus(BusCore):
    """A bus whose publishers and subscribers share one process."""

    async def start(self) -> None:
        # Subscriptions made while no loop was running are run by the first loop that starts us.
        self._bind_unbound(asyncio.get_running_loop())

    async def close(self) -> None:
        self._shutdown()

    async def publish(self, channel: str, message: Message) -> int:
        if self._closed:
            raise BusClosed("bus is closed")
        return self._dispatch(channel, messages.encode(message))

    def _channel_added(self, channel: str, sub: Subscription) -> None:
        # No transport to wait for: delivery starts at once.
        sub.mark_ready(True)

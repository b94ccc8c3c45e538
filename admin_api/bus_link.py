"""The API's narrow view of the bus: what it sends to the Stasis app and what it hears back.

Flask handlers are synchronous, so the API talks to the bus through `bus.SyncBus`, which runs the
asyncio bus on its own loop thread. Only the three calls below are used, which keeps the routes easy to
test with any object that has them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from bus.messages import COMMANDS, EVENTS, Message

__all__ = ["COMMANDS", "EVENTS", "CommandBus", "EventSource", "Message", "reply_ok"]


class CommandBus(Protocol):
    """Synchronous facade of the bus as used from request handlers."""

    def publish(self, channel: str, message: Message) -> object: ...

    def request(self, channel: str, message: Message, timeout: float) -> dict[str, Any]: ...


@runtime_checkable
class EventSource(Protocol):
    """Where the live status view gets the Stasis app's events from."""

    def subscribe(self, channel: str, handler: Callable[[Message], Any]) -> Any: ...


def reply_ok(reply: Message) -> bool:
    """A reply from the Stasis app says whether the command took effect."""
    return bool(reply.get("ok"))

"""Messages between the admin API and the Stasis app: in-process when embedded, Redis between processes.

``bus_from_url(os.environ.get("OC_REDIS_URL"))`` picks the transport: empty means both sides run in
one process and share an :class:`InProcessBus`; a ``redis://`` URL gives a :class:`RedisBus`.
Async code uses the :class:`Bus` directly; threaded code (Flask) wraps it in a :class:`SyncBus`.
Message shapes and channel names live in :mod:`bus.messages`.
"""

from __future__ import annotations

from bus.base import (
    Bus,
    BusClosed,
    BusError,
    BusUnavailable,
    Handler,
    NoResponder,
    RequestFailed,
    RequestTimeout,
    Subscription,
)
from bus.inprocess import InProcessBus
from bus.messages import COMMANDS, EVENTS, InvalidMessage, Message
from bus.redis_bus import RedisBus
from bus.sync import SyncBus

__all__ = [
    "COMMANDS",
    "EVENTS",
    "Bus",
    "BusClosed",
    "BusError",
    "BusUnavailable",
    "Handler",
    "InProcessBus",
    "InvalidMessage",
    "Message",
    "NoResponder",
    "RedisBus",
    "RequestFailed",
    "RequestTimeout",
    "Subscription",
    "SyncBus",
    "bus_from_url",
]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def bus_from_url(url: str | None, *, namespace: str = "") -> Bus:
    """The bus for a setting: None or "" -> in-process; a Redis URL -> Redis pub/sub."""
    if not url:
        return InProcessBus()
    if url.startswith(_REDIS_SCHEMES):
        return RedisBus(url, namespace=namespace)
    raise ValueError(f"unsupported bus URL {url!r}: expected redis://, rediss:// or unix://")

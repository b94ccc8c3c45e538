"""Agents and supervisors in real time over Socket.IO (see :mod:`admin_api.realtime.portal`).

``attach_realtime(app, bus=...)`` adds the ``/agent`` and ``/supervisor`` namespaces and the seed's
DispositionCall route to an app made by :func:`admin_api.app.create_app`. With ``message_queue`` (a
Redis URL) several processes serve clients together; without it, one process serves them all (the
embedded mode, sharing the in-process bus with the Stasis app).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from admin_api.bus_link import CommandBus, EventSource
from admin_api.realtime.dispositions import blueprint as dispositions_blueprint
from admin_api.realtime.hub import ASYNC_MODE, DEFAULT_CHANNEL, Hub
from admin_api.realtime.portal import AGENT_NS, SUPERVISOR_NS, Portal
from admin_api.realtime.presence import MemoryPresence, Presence, RedisPresence
from admin_api.services import EXTENSION_KEY, ApiServices

__all__ = ["AGENT_NS", "ASYNC_MODE", "DEFAULT_CHANNEL", "SUPERVISOR_NS", "Realtime", "attach_realtime"]

REALTIME_KEY = "opencontact.realtime"


@dataclass
class Realtime:
    hub: Hub
    portal: Portal


def attach_realtime(
    app: Flask,
    *,
    bus: CommandBus | None,
    events: EventSource | None = None,
    message_queue: str = "",
    channel: str = DEFAULT_CHANNEL,
    cors_origins: str | list[str] | None = None,
) -> Realtime:
    """Serve Socket.IO from ``app``; ``events`` defaults to ``bus`` when it can subscribe."""
    api = app.extensions[EXTENSION_KEY]
    assert isinstance(api, ApiServices), "attach_realtime needs an app made by create_app"
    hub = Hub(app, message_queue=message_queue, channel=channel, cors_origins=cors_origins)
    presence: Presence = (
        RedisPresence(message_queue, f"{channel}:presence") if message_queue else MemoryPresence()
    )
    portal = Portal(
        hub,
        sessions=api.sessions,
        bus=bus,
        presence=presence,
        bus_timeout=api.config.bus_timeout_seconds,
    )
    if events is None and isinstance(bus, EventSource):
        events = bus
    portal.install(events)
    app.register_blueprint(dispositions_blueprint)
    realtime = Realtime(hub, portal)
    app.extensions[REALTIME_KEY] = realtime
    return realtime

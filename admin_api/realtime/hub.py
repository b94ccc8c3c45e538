"""The Socket.IO server, behind a small typed face.

Flask-SocketIO and python-socketio ship without type information; everything untyped stays in this
module. The async mode is always given explicitly (``threading``, served by gunicorn's ``gthread``
worker or any threaded WSGI server): the library's automatic choice would pick eventlet or gevent
when installed, and eventlet is deprecated and gone from current gunicorn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

from flask import Flask, request
from flask_socketio import ConnectionRefusedError as SocketRefused
from flask_socketio import SocketIO

log = logging.getLogger(__name__)

ASYNC_MODE = "threading"
#: Channel name of the message queue; an asyncio publisher must use the same one
#: (``socketio.AsyncRedisManager(url, write_only=True, channel=...)``), or its events are lost.
DEFAULT_CHANNEL = "flask-socketio"

#: An event handler: (payload) -> acknowledgement sent back to the client.
EventHandler = Callable[[Any], Any]


class Hub:
    """One Socket.IO server bound to a Flask app; with a message queue, one of many processes."""

    def __init__(
        self,
        app: Flask,
        *,
        message_queue: str = "",
        channel: str = DEFAULT_CHANNEL,
        cors_origins: str | list[str] | None = None,
        ping_interval: float = 10.0,
    ) -> None:
        options: dict[str, Any] = {
            "async_mode": ASYNC_MODE,
            "cors_allowed_origins": cors_origins if cors_origins is not None else [],
            "ping_interval": ping_interval,
            "logger": False,
            "engineio_logger": False,
        }
        if message_queue:
            options["message_queue"] = message_queue
            options["channel"] = channel
        self._socketio: Any = SocketIO(app, **options)
        self.message_queue = message_queue
        self.channel = channel
        self.async_mode = str(self._socketio.async_mode)

    def on(self, namespace: str, event: str, handler: EventHandler) -> None:
        self._socketio.on_event(event, handler, namespace=namespace)

    def on_connect(self, namespace: str, handler: Callable[[Any], bool | None]) -> None:
        self._socketio.on_event("connect", handler, namespace=namespace)

    def on_disconnect(self, namespace: str, handler: Callable[..., None]) -> None:
        self._socketio.on_event("disconnect", handler, namespace=namespace)

    def emit(self, event: str, data: Any, *, to: str, namespace: str) -> None:
        """Emit to a room or a client in every process (through the message queue when there is one)."""
        self._socketio.emit(event, data, to=to, namespace=namespace)

    def emit_local(self, event: str, data: Any, *, to: str, namespace: str) -> None:
        """Emit to this process's own clients only.

        Each process hears the bus itself, so bus events are delivered locally by each; sending them
        through the queue as well would deliver them once per process.
        """
        self._socketio.server.emit(event, data, to=to, namespace=namespace, ignore_queue=True)

    def enter_room(self, sid: str, room: str, namespace: str) -> None:
        self._socketio.server.enter_room(sid, room, namespace=namespace)

    def is_connected(self, sid: str, namespace: str) -> bool:
        return bool(self._socketio.server.manager.is_connected(sid, namespace))

    def background(self, target: Callable[..., None], *args: Any) -> None:
        self._socketio.start_background_task(target, *args)

    def after_connect(self, sid: str, namespace: str, work: Callable[[], None], within: float = 5.0) -> None:
        """Run ``work`` once the client's connection is confirmed (its first events must follow it)."""

        def wait_then_run() -> None:
            deadline = time.monotonic() + within
            while not self.is_connected(sid, namespace):
                if time.monotonic() >= deadline:
                    return
                time.sleep(0.002)
            try:
                work()
            except Exception:
                log.exception("sending the first events to %s on %s failed", sid, namespace)

        threading.Thread(target=wait_then_run, name="socketio-welcome", daemon=True).start()

    def disconnect(self, sid: str, namespace: str) -> None:
        self._socketio.server.disconnect(sid, namespace=namespace)


def current_sid() -> str:
    """The Socket.IO session id of the event being handled."""
    return str(getattr(request, "sid", ""))


def refuse(reason: str) -> NoReturn:
    """Refuse a connection from its connect handler; the client's ``connect_error`` carries ``reason``."""
    raise SocketRefused(reason)

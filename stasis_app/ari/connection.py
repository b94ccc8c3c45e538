"""The application's connection to ARI: REST, the events WebSocket, reconnects and resyncs.

Life of one connection: load the ARI description (``/ari/api-docs``), open
``/ari/events?app=<app>`` (which registers the application), fetch ``/channels`` and ``/bridges``
and compare them with what the application owned (``resync``), tell the application what changed,
then hand events to the per-channel ordered dispatcher until the socket closes. Then pause by the
backoff schedule and start again, until ``stop``.

Events that arrive while the resync requests are in flight are held back and dispatched after the
report, so a handler never sees an event about a channel before the report that introduces it.
"""

from __future__ import annotations

import asyncio
import enum
import inspect
import json
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from stasis_app.ari.backoff import Backoff
from stasis_app.ari.dispatcher import KeyedDispatcher
from stasis_app.ari.events import Event, channel_id_of, ordering_key
from stasis_app.ari.reconnect import Clock, ReconnectLoop, Sleep
from stasis_app.ari.rest import (
    AriUnavailable,
    Json,
    RestApi,
    SessionTransport,
    ari_url,
    basic_authorization,
)
from stasis_app.ari.resync import OwnedState, ResyncReport, Snapshot, describe, reconcile

if TYPE_CHECKING:
    from stasis_app.settings import AriSettings

log = logging.getLogger(__name__)

#: ``handler(event, connection)``; may be a coroutine function. Runs in the event's ordered queue.
EventHandler = Callable[[Event, "AriConnection"], Awaitable[None] | None]
#: ``handler(report, connection)``; awaited before any event of the new connection is dispatched.
ResyncHandler = Callable[[ResyncReport, "AriConnection"], Awaitable[None] | None]
StateListener = Callable[["ConnectionState"], None]

#: Register for every event type.
ANY_EVENT = "*"


class ConnectionState(enum.Enum):
    """Where the connection is; ``connected`` means events are flowing to handlers."""

    IDLE = "idle"
    CONNECTING = "connecting"
    RESYNCING = "resyncing"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ConnectionStatus:
    """A health snapshot (for ``/health`` endpoints and logs)."""

    state: ConnectionState
    state_since: float
    sessions: int
    connects: int
    last_error: str | None
    events_received: int
    events_dispatched: int
    handler_errors: int
    pending: int
    active_queues: int
    owned_channels: int
    owned_bridges: int
    requests: int

    def as_dict(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "state_since": self.state_since,
            "sessions": self.sessions,
            "connects": self.connects,
            "last_error": self.last_error,
            "events_received": self.events_received,
            "events_dispatched": self.events_dispatched,
            "handler_errors": self.handler_errors,
            "pending": self.pending,
            "active_queues": self.active_queues,
            "owned_channels": self.owned_channels,
            "owned_bridges": self.owned_bridges,
            "requests": self.requests,
        }


def _event_text(event: Mapping[str, Any], limit: int = 2000) -> str:
    text = json.dumps(event, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


async def _maybe_await(result: Awaitable[None] | None) -> None:
    if inspect.isawaitable(result):
        await result


class AriConnection:
    """One Stasis application's link to Asterisk. Register handlers, ``start``, and later ``stop``.

    ``sleep``, ``clock`` and ``draw`` (the jitter's random source) can be injected for tests.
    """

    def __init__(
        self,
        settings: AriSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock | None = None,
        draw: Callable[[], float] = random.random,
        max_pending: int = 50_000,
        drain_timeout: float = 5.0,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._handlers: dict[str, list[EventHandler]] = {}
        self._resync_handlers: list[ResyncHandler] = []
        self._state_listeners: list[StateListener] = []
        self._state = ConnectionState.IDLE
        self._state_since = 0.0
        self._state_events = {state: asyncio.Event() for state in ConnectionState}
        self._state_events[ConnectionState.IDLE].set()
        self.rest = RestApi(observer=self._observe_request)
        self._owned = OwnedState()
        self._dispatcher: KeyedDispatcher[Event] = KeyedDispatcher(self._handle, max_pending=max_pending)
        self._drain_timeout = drain_timeout
        self._loop = ReconnectLoop(
            self._session,
            Backoff(settings.backoff, draw),
            sleep=sleep,
            clock=clock,
            stable_after=settings.stable_after,
            on_retry=self._on_retry,
        )
        self._http: aiohttp.ClientSession | None = None
        self._transport: SessionTransport | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stop = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._holding = False
        self._held: deque[Event] = deque()
        self._first = True
        self._disconnected_at: float | None = None
        self._connects = 0
        self._last_error: str | None = None
        self.events_received = 0
        self.events_dispatched = 0
        self.handler_errors = 0

    # -- registration -------------------------------------------------------------------------

    def on(self, event_type: str, handler: EventHandler) -> Callable[[], None]:
        """Call ``handler(event, connection)`` for each event of ``event_type`` (``"*"``: all).

        Handlers for one event run in registration order (type-specific before ``"*"``); an
        event is handled only after the previous events of the same channel. Returns a function
        that removes the handler.
        """
        self._handlers.setdefault(event_type, []).append(handler)

        def remove() -> None:
            handlers = self._handlers.get(event_type, [])
            if handler in handlers:
                handlers.remove(handler)

        return remove

    def on_resync(self, handler: ResyncHandler) -> Callable[[], None]:
        """Call ``handler(report, connection)`` after each (re)connection's resync."""
        self._resync_handlers.append(handler)
        return lambda: self._resync_handlers.remove(handler) if handler in self._resync_handlers else None

    def on_state(self, listener: StateListener) -> None:
        """Call ``listener(state)`` on every state change (synchronously; keep it cheap)."""
        self._state_listeners.append(listener)

    # -- state ----------------------------------------------------------------------------------

    def _now(self) -> float:
        if self._clock is not None:
            return self._clock()
        return asyncio.get_running_loop().time()

    @property
    def state(self) -> ConnectionState:
        return self._state

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state_events[self._state].clear()
        self._state = state
        self._state_since = self._now()
        self._state_events[state].set()
        log.info("ARI connection %s", state.value)
        for listener in list(self._state_listeners):
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")

    async def wait_for(self, state: ConnectionState) -> None:
        """Wait until the connection is in ``state`` (bound it with ``asyncio.timeout``)."""
        await self._state_events[state].wait()

    async def wait_connected(self) -> None:
        await self.wait_for(ConnectionState.CONNECTED)

    def status(self) -> ConnectionStatus:
        return ConnectionStatus(
            state=self._state,
            state_since=self._state_since,
            sessions=self._loop.sessions,
            connects=self._connects,
            last_error=self._last_error,
            events_received=self.events_received,
            events_dispatched=self.events_dispatched,
            handler_errors=self.handler_errors,
            pending=self._dispatcher.pending,
            active_queues=self._dispatcher.active_keys,
            owned_channels=len(self._owned.channels),
            owned_bridges=len(self._owned.bridges),
            requests=0 if self._transport is None else self._transport.requests,
        )

    @property
    def owned_channels(self) -> Mapping[str, Snapshot]:
        """Channels in this application's Stasis, by id, with their latest snapshot."""
        return self._owned.channels

    @property
    def owned_bridges(self) -> Mapping[str, Snapshot]:
        return self._owned.bridges

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background; returns at once (see ``wait_connected``)."""
        if self._run_task is not None:
            raise RuntimeError("connection already started")
        if self._state is ConnectionState.STOPPED:
            raise RuntimeError("a stopped connection cannot be started again; make a new one")
        self._http = aiohttp.ClientSession(
            headers={"Authorization": basic_authorization(self.settings.username, self.settings.password)},
            timeout=aiohttp.ClientTimeout(total=None),
        )
        self._transport = SessionTransport(
            self._http, self._on_unreachable, timeout=self.settings.request_timeout
        )
        self._stop.clear()
        self._run_task = asyncio.create_task(self._loop.run(self._stop), name="ari-connection")

    async def stop(self) -> None:
        """Close the socket, let queued events finish (up to ``drain_timeout``), release everything."""
        if self._run_task is None:
            return
        self._stop.set()
        if self._ws is not None:
            await self._ws.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._run_task), self._drain_timeout)
        except TimeoutError:
            self._run_task.cancel()
        except Exception:
            log.exception("ARI connection loop ended with an error")
        if not self._run_task.done():
            self._run_task.cancel()
            await asyncio.gather(self._run_task, return_exceptions=True)
        await self._dispatcher.close(self._drain_timeout)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        self._run_task = None
        self._set_state(ConnectionState.STOPPED)

    async def __aenter__(self) -> AriConnection:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def join(self) -> None:
        """Wait until every event received so far has been handled."""
        await self._dispatcher.join()

    # -- one session ----------------------------------------------------------------------------

    async def _session(self, mark_ready: Callable[[], None]) -> None:
        assert self._http is not None and self._transport is not None
        self._set_state(ConnectionState.CONNECTING)
        try:
            await self.rest.load(self.settings.url, self._transport)
            params = {
                "app": self.settings.app,
                "subscribeAll": "true" if self.settings.subscribe_all else "false",
            }
            ws = await self._http.ws_connect(
                ari_url(self.settings.url, "events"),
                params=params,
                heartbeat=self.settings.heartbeat,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise AriUnavailable(f"cannot connect to ARI at {self.settings.url}: {exc!r}") from exc
        self._ws = ws
        self._holding = True
        self._held.clear()
        reader = asyncio.create_task(self._read(ws), name="ari-events-reader")
        try:
            if self._stop.is_set():
                return
            self._set_state(ConnectionState.RESYNCING)
            await self._resync()
            self._connects += 1
            self._set_state(ConnectionState.CONNECTED)
            mark_ready()
            await reader
        finally:
            self._holding = False
            self._ws = None
            if not reader.done():
                reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await ws.close()
            self._disconnected_at = self._now()
            if not self._stop.is_set():
                self._set_state(ConnectionState.DISCONNECTED)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is aiohttp.WSMsgType.TEXT:
                try:
                    event = json.loads(message.data)
                except ValueError:
                    log.error("undecodable ARI event: %.200s", message.data)
                    continue
                if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                    log.error("ARI message without a type: %.200s", message.data)
                    continue
                self.events_received += 1
                if self._holding:
                    self._held.append(event)
                else:
                    await self._accept(event)
            elif message.type is aiohttp.WSMsgType.ERROR:
                log.warning("ARI events socket error: %r", ws.exception())
                break
        log.info("ARI events socket closed (code %s)", ws.close_code)

    async def _resync(self) -> None:
        channels = await self.rest.call("channels", "list")
        bridges = await self.rest.call("bridges", "list")
        announced = {
            channel_id
            for event in self._held
            if event.get("type") == "StasisStart" and (channel_id := channel_id_of(event)) is not None
        }
        away = 0.0 if self._disconnected_at is None else self._now() - self._disconnected_at
        report, rebuilt = reconcile(
            self.settings.app,
            self._owned,
            channels if isinstance(channels, list) else [],
            bridges if isinstance(bridges, list) else [],
            announced,
            first=self._first,
            disconnected_for=away,
        )
        self._owned = rebuilt
        self._first = False
        if report.changed:
            log.warning("ARI resync: %s", describe(report))
        else:
            log.info("ARI resync: nothing changed (%s)", describe(report))
        for handler in list(self._resync_handlers):
            try:
                await _maybe_await(handler(report, self))
            except Exception as exc:
                self.handler_errors += 1
                log.error("resync handler %r failed", handler, exc_info=exc)
        # Release what arrived meanwhile; the reader keeps appending until the queue is empty.
        while self._held:
            await self._accept(self._held.popleft())
        self._holding = False

    async def _accept(self, event: Event) -> None:
        self._owned.observe(event)
        kind = event["type"]
        if kind == "ApplicationReplaced":
            self._last_error = "another client registered the application"
            log.error("ARI application %s was taken over by another connection", self.settings.app)
        if self._handlers.get(kind) or self._handlers.get(ANY_EVENT):
            await self._dispatcher.submit(ordering_key(event), event)

    async def _handle(self, key: str, event: Event) -> None:
        self.events_dispatched += 1
        handlers = list(self._handlers.get(event["type"], ())) + list(self._handlers.get(ANY_EVENT, ()))
        for handler in handlers:
            try:
                await _maybe_await(handler(event, self))
            except Exception as exc:
                self.handler_errors += 1
                log.error(
                    "ARI handler %s failed on %s for %s: %s",
                    getattr(handler, "__qualname__", repr(handler)),
                    event.get("type"),
                    key,
                    _event_text(event),
                    exc_info=exc,
                )

    # -- failures -------------------------------------------------------------------------------

    def _on_retry(self, error: BaseException | None, delay: float) -> None:
        if error is not None:
            self._last_error = str(error)
        log.warning("ARI reconnect in %.2fs (%s)", delay, error or "socket closed")

    def _on_unreachable(self, exc: BaseException) -> None:
        """A REST call could not reach Asterisk: if the socket looks alive, it is not; reconnect."""
        self._last_error = repr(exc)
        ws = self._ws
        if ws is not None and not ws.closed:
            task = asyncio.get_running_loop().create_task(ws.close())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _observe_request(
        self, resource: str, nickname: str, params: Mapping[str, object], result: Json
    ) -> None:
        if resource != "bridges":
            return
        if nickname in ("create", "createWithId") and isinstance(result, dict):
            self._owned.bridge_created(result)
        elif nickname == "destroy" and isinstance(params.get("bridgeId"), str):
            self._owned.bridge_destroyed(str(params["bridgeId"]))

    # -- raw requests ---------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | None = None,
        body: Json = None,
    ) -> Json:
        """A raw ARI call, e.g. ``request("POST", "/channels/123/answer")``; answers decoded JSON.

        For operations the loaded description lacks, or to bypass it. Same errors as ``rest``.
        """
        if self._transport is None:
            raise AriUnavailable("connection not started")
        data = None if body is None else json.dumps(body)
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        reply = await self._transport.request(
            method.upper(), ari_url(self.settings.url, path), params=params, data=data, headers=headers
        )
        result = await reply.json()
        self._observe_raw(method.upper(), path, result)
        return result

    def _observe_raw(self, method: str, path: str, result: Json) -> None:
        parts = [part for part in path.split("?", maxsplit=1)[0].split("/") if part]
        if not parts or parts[0] != "bridges" or len(parts) > 2:
            return
        if method == "POST" and isinstance(result, dict):
            self._owned.bridge_created(result)
        elif method == "DELETE" and len(parts) == 2:
            self._owned.bridge_destroyed(parts[1])

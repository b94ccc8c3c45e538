"""A deliberately small ARI client for tests: plain HTTP requests and a recorded events socket.

Tests act as the Stasis application of the system under test, so they need every request to reach
the server exactly as written (no client-side validation or model objects in between) and every
event kept in arrival order so that ordering can be asserted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import aiohttp

Event = dict[str, Any]
EventPredicate = Callable[[Event], bool]


class AriRequestError(Exception):
    """An ARI request answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} answered {status}: {body!r}")
        self.status = status
        self.body = body


def ari_root(url: str) -> str:
    """Accept `http://host:8088`, `http://host:8088/` or `http://host:8088/ari` alike."""
    root = url.rstrip("/")
    if root.endswith("/ari"):
        root = root[: -len("/ari")]
    return root


def query_value(value: Any) -> str:
    """ARI reads booleans as `true`/`false` and lists as comma-separated values."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


async def response_body(response: aiohttp.ClientResponse) -> Any:
    """The body as decoded JSON; the plain text when it is not JSON; None when it is empty."""
    text = await response.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class AriClient:
    """HTTP access to one ARI server with basic authentication."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.root = ari_root(url)
        self.username = username
        self.password = password
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.headers = {"Authorization": f"Basic {token}"}
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self.headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> tuple[int, Any]:
        """Send one request under /ari and return (status, decoded JSON body or None)."""
        query = {key: query_value(value) for key, value in (params or {}).items() if value is not None}
        async with self.session.request(
            method, f"{self.root}/ari{path}", params=query, json=body
        ) as response:
            return response.status, await response_body(response)

    async def expect(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        ok: Iterable[int] = (200, 201, 204),
    ) -> Any:
        """Like `call`, but an unexpected status raises with the server's message."""
        status, decoded = await self.call(method, path, params, body)
        if status not in set(ok):
            raise AriRequestError(method, path, status, decoded)
        return decoded

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.expect("GET", path, params)

    async def post(self, path: str, params: Mapping[str, Any] | None = None, body: Any = None) -> Any:
        return await self.expect("POST", path, params, body)

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.expect("DELETE", path, params)

    async def events(self, *apps: str, subscribe_all: bool = False) -> EventStream:
        """Open the events socket for these applications (registering them while it is open)."""
        stream = EventStream(self, apps, subscribe_all)
        await stream.open()
        return stream


class EventStream:
    """Every event of one events socket, kept in arrival order, with waiting helpers."""

    def __init__(self, client: AriClient, apps: Iterable[str], subscribe_all: bool) -> None:
        self.client = client
        self.apps = tuple(apps)
        self.subscribe_all = subscribe_all
        self.events: list[Event] = []
        self._changed = asyncio.Condition()
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._listeners: list[asyncio.Queue[Event | None]] = []
        self.closed = False

    def listen(self) -> asyncio.Queue[Event | None]:
        """A queue receiving every event from now on, and None once the socket has closed."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._listeners.append(queue)
        return queue

    async def open(self) -> None:
        params = {"app": ",".join(self.apps), "subscribeAll": query_value(self.subscribe_all)}
        url = self.client.root.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        self._socket = await self.client.session.ws_connect(f"{url}/ari/events", params=params)
        self._reader = asyncio.create_task(self._read(self._socket))

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        try:
            async for message in socket:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = json.loads(message.data)
                if isinstance(event, dict):
                    async with self._changed:
                        self.events.append(event)
                        self._changed.notify_all()
                    for queue in self._listeners:
                        queue.put_nowait(event)
        finally:
            async with self._changed:
                self.closed = True
                self._changed.notify_all()
            for queue in self._listeners:
                queue.put_nowait(None)

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def wait_for(self, predicate: EventPredicate, within: float = 5.0, start: int = 0) -> Event:
        """The first event (from index `start`, already received or still to come) that matches."""
        return (await self.wait_for_index(predicate, within, start))[1]

    async def wait_for_index(
        self, predicate: EventPredicate, within: float = 5.0, start: int = 0
    ) -> tuple[int, Event]:
        """Like `wait_for`, also giving the event's position so later waits can continue after it."""
        position = start

        def found() -> bool:
            nonlocal position
            while position < len(self.events):
                if predicate(self.events[position]):
                    return True
                position += 1
            return self.closed

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(found), within)
            except TimeoutError:
                raise TimeoutError(
                    f"no matching event within {within}s; received: {self.summary(start)}"
                ) from None
        if position >= len(self.events):
            raise ConnectionError(f"events socket closed; received: {self.summary(start)}")
        return position, self.events[position]

    def summary(self, start: int = 0) -> list[str]:
        """Short `Type(channel)` lines, for readable assertion messages."""
        lines = []
        for event in self.events[start:]:
            subject = event.get("channel") or event.get("bridge") or event.get("playback") or {}
            detail = event.get("dialstatus") if event["type"] == "Dial" else event.get("digit")
            lines.append(
                f"{event['type']}({subject.get('id', '')}{'' if detail is None else ' ' + str(detail)})"
            )
        return lines

    def of_channel(self, channel_id: str) -> list[Event]:
        """Events about one channel (as subject, or as the peer of a Dial)."""
        return [event for event in self.events if channel_id in event_channel_ids(event)]


def event_channel_ids(event: Event) -> set[str]:
    """Ids of the channels an event is about: its channel, a Dial's peer, a replaced channel."""
    ids: set[str] = set()
    for key in ("channel", "peer", "replace_channel"):
        value = event.get(key)
        if isinstance(value, dict) and "id" in value:
            ids.add(str(value["id"]))
    return ids


def of_type(kind: str, channel_id: str | None = None) -> EventPredicate:
    """Predicate: an event of this type, about this channel if given."""

    def matches(event: Event) -> bool:
        if event.get("type") != kind:
            return False
        return channel_id is None or channel_id in event_channel_ids(event)

    return matches

"""The bus between processes: Redis publish/subscribe carrying JSON messages.

Channel names are the bus's own (``oc.commands``, ``oc.events``, ``oc.replies.<id>``), never
Socket.IO's ``flask-socketio`` channel, and an optional namespace prefix keeps several deployments
(or test runs) on one Redis apart. One reader task owns the subscriber connection: when Redis goes
away it reconnects with backoff and subscribes again to every channel, and a message it cannot
parse is logged and skipped, never the end of the reader. Pub/sub keeps nothing: a message
published while a subscriber is disconnected is lost to it, which is why state is re-read with
requests (``status.snapshot``) after a reconnect rather than trusted to have arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bus import messages
from bus.base import BusClosed, BusCore, BusUnavailable, Subscription
from bus.messages import Message

log = logging.getLogger(__name__)

_TRANSIENT = (RedisConnectionError, RedisTimeoutError, OSError)


class RedisBus(BusCore):
    """A bus over Redis pub/sub; bound to the event loop that starts it."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "",
        publish_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        max_reconnect_delay: float = 2.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.namespace = namespace
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._max_reconnect_delay = max_reconnect_delay
        self._client: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pubsub: Any = None
        self._confirmed: set[str] = set()
        self._confirmed_lock = threading.Lock()
        #: How many times the subscriber connection was (re)established; for status and tests.
        self.connections = 0

    async def start(self) -> None:
        if self._closed:
            raise BusClosed("bus is closed")
        if self._reader is not None:
            return
        self._loop = asyncio.get_running_loop()
        # Reconnecting is this class's job: redis-py's own retries would hide outages from it.
        self._client = aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=self._connect_timeout,
        )
        self._bind_unbound(self._loop)
        self._reader = self._loop.create_task(self._read_forever(), name="redis-bus-reader")
        if not await self.wait_ready(self._connect_timeout):
            log.warning("Redis at %s is not reachable yet; the bus keeps trying", _safe_url(self.url))

    async def close(self) -> None:
        self._shutdown()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except (*_TRANSIENT, RedisError):
                pass

    async def wait_ready(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until Redis has confirmed every channel this bus listens on."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._confirmed_lock:
                missing = {self.reply_channel, *self.channels()} - self._confirmed
            if not missing:
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)

    async def publish(self, channel: str, message: Message) -> int:
        if self._closed:
            raise BusClosed("bus is closed")
        client = self._client
        if client is None:
            raise BusClosed("RedisBus is not started")
        raw = messages.encode(message)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._publish_timeout
        delay = 0.02
        while True:
            try:
                receivers: Any = await client.publish(self.namespace + channel, raw)
                return int(receivers)
            except _TRANSIENT as exc:
                if loop.time() + delay > deadline:
                    raise BusUnavailable(f"cannot publish to Redis: {exc}") from exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _channel_added(self, channel: str, sub: Subscription) -> None:
        with self._confirmed_lock:
            if channel in self._confirmed:
                sub.mark_ready(True)
                return
        loop = self._loop
        if loop is None or self._pubsub is None:
            return  # the reader subscribes to everything when it (re)connects
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(lambda: loop.create_task(self._subscribe_now(channel)))

    async def _subscribe_now(self, channel: str) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            return
        try:
            await pubsub.subscribe(self.namespace + channel)
        except (*_TRANSIENT, RedisError) as exc:
            # The reader notices the broken connection and subscribes again on reconnect.
            log.debug("subscribing to %s failed: %s", channel, exc)

    async def _read_forever(self) -> None:
        assert self._client is not None
        delay = 0.05
        outage_logged = False
        while not self._closed:
            pubsub = self._client.pubsub()
            self._pubsub = pubsub
            try:
                names = [self.namespace + ch for ch in {self.reply_channel, *self.channels()}]
                await pubsub.subscribe(*names)
                self.connections += 1
                if outage_logged:
                    log.info("Redis bus reconnected to %s", _safe_url(self.url))
                outage_logged = False
                delay = 0.05
                while True:
                    item = await pubsub.get_message(timeout=None)
                    if item is not None:
                        self._handle(item)
            except asyncio.CancelledError:
                raise
            except (*_TRANSIENT, RedisError) as exc:
                if not outage_logged:
                    log.warning("Redis bus lost %s (%s); reconnecting", _safe_url(self.url), exc)
                    outage_logged = True
            finally:
                self._pubsub = None
                self._set_confirmed(None)
                try:
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                except Exception:  # closing a broken connection may fail in many ways
                    log.debug("closing the old subscriber connection failed", exc_info=True)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_reconnect_delay)

    def _handle(self, item: dict[str, Any]) -> None:
        """One item from the subscriber connection; never raises for bad input."""
        try:
            kind = item.get("type")
            raw_channel = item.get("channel")
            channel = raw_channel.decode() if isinstance(raw_channel, bytes) else str(raw_channel)
            if not channel.startswith(self.namespace):
                return
            channel = channel[len(self.namespace) :]
            if kind == "subscribe":
                self._set_confirmed(channel)
            elif kind == "message":
                data = item.get("data")
                if isinstance(data, (bytes, str)):
                    self._dispatch(channel, data)
        except Exception:
            log.exception("ignoring a Redis bus item that could not be handled")

    def _set_confirmed(self, channel: str | None) -> None:
        """Mark ``channel`` confirmed, or (None) everything unconfirmed after a disconnect."""
        with self._confirmed_lock:
            if channel is None:
                self._confirmed.clear()
            else:
                self._confirmed.add(channel)
        if channel is None:
            for sub in self._subscriptions():
                sub.mark_ready(False)
        else:
            for sub in self._subscriptions(channel):
                sub.mark_ready(True)


def _safe_url(url: str) -> str:
    """The URL without a password, for logs."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"

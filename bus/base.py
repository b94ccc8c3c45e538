"""What every bus offers, and the parts the in-process and Redis buses share.

A bus carries :mod:`bus.messages` dicts on named channels. Each subscription gets its own queue and
task, so its handler sees a channel's messages in publish order, one at a time, and a slow or failing
handler never holds up the bus's reader or other subscribers. Requests put a ``request_id`` and a
``reply_to`` channel (the requesting bus's private one) in the message; :meth:`Bus.reply` answers
there, and the first answer wins.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from bus import messages
from bus.messages import InvalidMessage, Message

log = logging.getLogger(__name__)

#: A subscriber: called once per message, in order; its exceptions are logged, never propagated.
Handler = Callable[[Message], Awaitable[None]]


class BusError(Exception):
    """The bus could not do what was asked."""


class BusUnavailable(BusError):
    """The transport (Redis) cannot be reached."""


class BusClosed(BusError):
    """The bus was closed."""


class RequestFailed(BusError):
    """A request got no answer."""


class NoResponder(RequestFailed):
    """Nobody listens on the request's channel, so no answer can come."""


class RequestTimeout(RequestFailed, TimeoutError):
    """No answer arrived in time."""


@runtime_checkable
class Bus(Protocol):
    """Publish/subscribe with request/reply between the admin API and the Stasis app."""

    @property
    def reply_channel(self) -> str:
        """This bus's private channel, where answers to its requests arrive."""
        ...

    async def start(self) -> None:
        """Connect and start delivering to subscriptions made so far."""
        ...

    async def close(self) -> None:
        """Stop delivering, fail pending requests with :class:`BusClosed`, release connections."""
        ...

    async def publish(self, channel: str, message: Message) -> int:
        """Send a message; returns how many subscribers received it (0: nobody listens)."""
        ...

    def subscribe(self, channel: str, handler: Handler) -> Subscription:
        """Call ``handler`` for each message on ``channel`` from now on."""
        ...

    async def request(self, channel: str, message: Message, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109 (part of the agreed interface)
        """Publish a request and return the payload of the first reply.

        Raises :class:`NoResponder` when nobody subscribes to ``channel`` and
        :class:`RequestTimeout` when no reply comes within ``timeout`` seconds.
        """
        ...

    async def reply(self, message: Message, payload: dict[str, Any]) -> None:
        """Answer a request received by a handler (raises InvalidMessage if it was no request)."""
        ...


class Subscription:
    """One handler on one channel, fed through its own queue by its own task.

    It belongs to the event loop it is bound to (the loop running when it was made, or the one
    that starts the bus); messages may be delivered to it from any thread.
    """

    def __init__(self, owner: BusCore, channel: str, handler: Handler) -> None:
        self.channel = channel
        self.handler = handler
        self._owner = owner
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Message | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._early: list[Message] = []
        self._ready = threading.Event()
        self._cancelled = False

    @property
    def bound(self) -> bool:
        """Whether a loop runs this subscription's handler."""
        return self._loop is not None

    @property
    def active(self) -> bool:
        """Whether this subscription still receives messages."""
        return not self._cancelled

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the handler task on ``loop``; must be called on that loop's thread."""
        with self._lock:
            if self._loop is not None or self._cancelled:
                return
            self._loop = loop
            self._queue = asyncio.Queue()
            for message in self._early:
                self._queue.put_nowait(message)
            self._early.clear()
            self._task = loop.create_task(self._run(), name=f"bus-subscriber:{self.channel}")

    def deliver(self, message: Message) -> None:
        """Queue a message for the handler; safe from any thread."""
        with self._lock:
            if self._cancelled:
                return
            loop, queue = self._loop, self._queue
            if loop is None or queue is None:
                self._early.append(message)
                return
        try:
            if _running_loop() is loop:
                queue.put_nowait(message)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, message)
        except RuntimeError:
            # The loop is closed: nobody can handle this any more.
            log.warning("subscriber loop for %s is closed; dropping the subscription", self.channel)
            self.cancel()

    def cancel(self) -> None:
        """Stop receiving; the handler finishes the message it is on, queued ones are dropped."""
        with self._lock:
            if self._cancelled:
                return
            self._cancelled = True
            loop, task = self._loop, self._task
        self._owner._forget(self)
        if loop is not None and task is not None:
            try:
                if _running_loop() is loop:
                    task.cancel()
                else:
                    loop.call_soon_threadsafe(task.cancel)
            except RuntimeError:
                pass

    def mark_ready(self, ready: bool) -> None:
        """Record whether the transport confirmed this channel (Redis SUBSCRIBE)."""
        if ready:
            self._ready.set()
        else:
            self._ready.clear()

    async def wait_ready(self, timeout: float) -> bool:  # noqa: ASYNC109
        """Wait until messages published from now on reach this subscription."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._ready.is_set():
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            message = await self._queue.get()
            if message is None:
                return
            try:
                await self.handler(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bus handler for %s failed on a %s message", self.channel, message.get("type"))


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class BusCore:
    """Subscriptions, dispatch and request/reply; subclasses move the bytes."""

    def __init__(self) -> None:
        self._reply_channel = messages.REPLIES_PREFIX + uuid.uuid4().hex
        self._subs_lock = threading.Lock()
        self._subs: dict[str, list[Subscription]] = {}
        self._waiting: dict[str, tuple[asyncio.Future[dict[str, Any]], asyncio.AbstractEventLoop]] = {}
        self._closed = False

    @property
    def reply_channel(self) -> str:
        return self._reply_channel

    def subscribe(self, channel: str, handler: Handler) -> Subscription:
        if self._closed:
            raise BusClosed("bus is closed")
        sub = Subscription(self, channel, handler)
        with self._subs_lock:
            self._subs.setdefault(channel, []).append(sub)
        loop = _running_loop()
        if loop is not None:
            sub.bind(loop)
        self._channel_added(channel, sub)
        return sub

    def _channel_added(self, channel: str, sub: Subscription) -> None:
        """Hook: a subscription was made (the transport may need to subscribe)."""

    def _forget(self, sub: Subscription) -> None:
        with self._subs_lock:
            subs = self._subs.get(sub.channel, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(sub.channel, None)

    def channels(self) -> list[str]:
        """Channels with at least one subscription."""
        with self._subs_lock:
            return list(self._subs)

    def _subscriptions(self, channel: str | None = None) -> list[Subscription]:
        with self._subs_lock:
            if channel is None:
                return [sub for subs in self._subs.values() for sub in subs]
            return list(self._subs.get(channel, ()))

    def _bind_unbound(self, loop: asyncio.AbstractEventLoop) -> None:
        for sub in self._subscriptions():
            if not sub.bound:
                sub.bind(loop)

    def _dispatch(self, channel: str, raw: str | bytes) -> int:
        """Hand a received message to its subscribers (or to a waiting request); returns how many."""
        try:
            message = messages.decode(raw)
        except InvalidMessage as exc:
            log.warning("dropping a bad message on %s: %s", channel, exc)
            return 0
        if message["type"] == messages.REPLY and channel == self._reply_channel:
            self._resolve(message)
            return 1
        subs = self._subscriptions(channel)
        for index, sub in enumerate(subs):
            # Each subscriber gets its own copy, as it would from another process.
            sub.deliver(message if index == 0 else json.loads(raw))
        return len(subs)

    def _resolve(self, message: Message) -> None:
        entry = self._waiting.pop(message["request_id"], None)
        if entry is None:
            return  # a late or second answer
        future, loop = entry
        payload: dict[str, Any] = message["payload"]

        def settle() -> None:
            if not future.done():
                future.set_result(payload)

        try:
            if _running_loop() is loop:
                settle()
            else:
                loop.call_soon_threadsafe(settle)
        except RuntimeError:
            pass

    async def publish(self, channel: str, message: Message) -> int:
        raise NotImplementedError

    async def request(self, channel: str, message: Message, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109 (part of the agreed interface)
        if self._closed:
            raise BusClosed("bus is closed")
        request_id = uuid.uuid4().hex
        outgoing = {**message, "request_id": request_id, "reply_to": self._reply_channel}
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiting[request_id] = (future, loop)
        try:
            receivers = await self.publish(channel, outgoing)
            if receivers == 0:
                raise NoResponder(f"nobody listens on {channel} for {message.get('type')}")
            try:
                return await asyncio.wait_for(future, timeout)
            except TimeoutError:
                raise RequestTimeout(
                    f"no reply to {message.get('type')} on {channel} within {timeout}s"
                ) from None
        finally:
            self._waiting.pop(request_id, None)

    async def reply(self, message: Message, payload: dict[str, Any]) -> None:
        request_id, reply_to = message.get("request_id"), message.get("reply_to")
        if not isinstance(request_id, str) or not isinstance(reply_to, str):
            raise InvalidMessage(f"a {message.get('type')} message without request_id/reply_to is no request")
        await self.publish(reply_to, messages.reply(request_id, payload))

    def _shutdown(self) -> None:
        """Cancel subscriptions and fail pending requests (shared part of close())."""
        self._closed = True
        for sub in self._subscriptions():
            sub.cancel()
        waiting, self._waiting = self._waiting, {}
        for future, loop in waiting.values():

            def fail(future: asyncio.Future[dict[str, Any]] = future) -> None:
                if not future.done():
                    future.set_exception(BusClosed("bus closed while waiting for a reply"))

            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(fail)

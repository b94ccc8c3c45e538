"""The Stasis application: takes each channel the dialplan hands over and gives it to a call flow.

The dialplan sends every call here with its first argument saying where it came from (``inbound``,
``internal``, ``dialer``; see ``dialplan/extensions.conf``). A call flow registers for one of those
kinds. A channel whose kind has no flow, or whose flow fails, is never left in silence: it is sent
back to the dialplan's ``stasis-return`` context, which tells the caller the service is unavailable
and hangs up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from stasis_app.ari import AriConnection, AriError
from stasis_app.settings import Settings

log = logging.getLogger(__name__)

#: A call flow: ``flow(channel, args, application)``; owns the channel from then on.
CallFlow = Callable[[dict[str, Any], list[str], "StasisApplication"], Awaitable[None]]

#: Where a channel goes when no flow can take it (see ``[stasis-return]`` in the dialplan).
FALLBACK_CONTEXT = "stasis-return"
FALLBACK_EXTENSION = "noservice"


@dataclass
class CallCounters:
    """What the application has seen since it started, for the status output."""

    entered: int = 0
    left: int = 0
    sent_back: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class StasisApplication:
    """Routes StasisStart to the call flow registered for the call's kind."""

    def __init__(self, connection: AriConnection) -> None:
        self.connection = connection
        self.flows: dict[str, CallFlow] = {}
        self.counters = CallCounters()
        connection.on("StasisStart", self._on_stasis_start)
        connection.on("StasisEnd", self._on_stasis_end)

    @classmethod
    def from_settings(cls, settings: Settings) -> StasisApplication:
        return cls(AriConnection(settings.ari))

    def register_flow(self, kind: str, flow: CallFlow) -> None:
        """Send channels whose first Stasis argument is ``kind`` to ``flow``."""
        self.flows[kind] = flow

    async def _on_stasis_start(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel: dict[str, Any] = event["channel"]
        args = [str(arg) for arg in event.get("args", [])]
        kind = args[0] if args else ""
        self.counters.entered += 1
        self.counters.by_kind[kind] = self.counters.by_kind.get(kind, 0) + 1
        flow = self.flows.get(kind)
        if flow is None:
            log.info(
                "channel %s (%s) arrived with args %s: no call flow for %r",
                channel["id"],
                channel.get("name"),
                args,
                kind,
            )
            await self.send_back(channel["id"], f"no call flow for {kind!r}")
            return
        try:
            await flow(channel, args[1:], self)
        except Exception:
            log.exception("call flow %r failed for channel %s", kind, channel["id"])
            await self.send_back(channel["id"], f"call flow {kind!r} failed")

    async def _on_stasis_end(self, _event: dict[str, Any], _conn: AriConnection) -> None:
        self.counters.left += 1

    async def send_back(self, channel_id: str, why: str) -> None:
        """Return a channel to the dialplan's no-service path; hang it up if even that fails."""
        self.counters.sent_back += 1
        log.warning("sending channel %s back to the dialplan: %s", channel_id, why)
        try:
            await self.connection.rest.channels.continueInDialplan(
                channelId=channel_id, context=FALLBACK_CONTEXT, extension=FALLBACK_EXTENSION, priority=1
            )
        except AriError as exc:
            log.warning("could not send channel %s back (%s); hanging it up", channel_id, exc)
            try:
                await self.connection.rest.channels.hangup(channelId=channel_id)
            except AriError as hangup_error:
                log.warning("channel %s could not be hung up either: %s", channel_id, hangup_error)

    async def start(self) -> None:
        await self.connection.start()

    async def stop(self) -> None:
        await self.connection.stop()

    def status(self) -> dict[str, object]:
        return {
            "connection": self.connection.status().as_dict(),
            "calls": {
                "entered": self.counters.entered,
                "left": self.counters.left,
                "sent_back": self.counters.sent_back,
                "by_kind": dict(self.counters.by_kind),
            },
        }

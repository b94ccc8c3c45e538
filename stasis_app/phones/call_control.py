"""ARI requests and event routing shared by the in-call features (transfers, parking, conferences).

Each channel, leg or playback the features touch has exactly one owner: a callback that receives
what happens to it as a :data:`Signal`. Owners are conversations, the parking lot and conference
rooms; they hand a channel on by re-registering it. Requests that fail because a channel is already
gone are logged and ignored: the owner learns about the hang-up from its ``Gone`` signal, which is
the one place each hang-up is acted on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError

log = logging.getLogger(__name__)

#: Stasis argument of the legs the features originate (``feature-leg,<leg id>``).
FEATURE_LEG_KIND = "feature-leg"
CAUSE_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_REJECTED = 21


@dataclass(frozen=True)
class Digit:
    channel_id: str
    digit: str


@dataclass(frozen=True)
class Gone:
    """The channel left the application (hung up); ``cause`` 0 when only StasisEnd was seen."""

    channel_id: str
    cause: int = 0


@dataclass(frozen=True)
class LegUp:
    """An originated leg was answered (it entered Stasis)."""

    channel_id: str


@dataclass(frozen=True)
class LegDown:
    """An originated leg ended before (or after) answer; ``busy`` when the far end said so."""

    channel_id: str
    cause: int = 0
    busy: bool = False


@dataclass(frozen=True)
class Played:
    playback_id: str


@dataclass(frozen=True)
class Wake:
    """A timer or a command woke the owner up; ``what`` says which."""

    what: str
    payload: Any = None


Signal = Digit | Gone | LegUp | LegDown | Played | Wake
Notify = Callable[[Signal], None]


class CallControl:
    """The ARI side of the features: requests, plus routing of events to each channel's owner."""

    def __init__(self, application: StasisApplication) -> None:
        self.application = application
        self.connection: AriConnection = application.connection
        self.app_name = application.connection.settings.app
        self.owners: dict[str, Notify] = {}
        self.digit_owners: dict[str, Notify] = {}
        self.legs: dict[str, Notify] = {}
        self.answered: set[str] = set()
        self.playbacks: dict[str, Notify] = {}
        #: Bridges made here and not destroyed yet, so that a stop can remove what is left.
        self.bridges: set[str] = set()
        self._removers: list[Callable[[], None]] = []

    def install(self) -> None:
        self.application.register_flow(FEATURE_LEG_KIND, self._on_leg_start)
        conn = self.connection
        self._removers += [
            conn.on("ChannelDtmfReceived", self._on_dtmf),
            conn.on("StasisEnd", self._on_end),
            conn.on("ChannelDestroyed", self._on_end),
            conn.on("PlaybackFinished", self._on_playback_finished),
            conn.on("Dial", self._on_dial),
        ]

    def uninstall(self) -> None:
        for remove in self._removers:
            remove()
        self._removers.clear()

    # Ownership -----------------------------------------------------------------------------------

    def own(self, channel_id: str, notify: Notify, *, digits: bool = True) -> None:
        """``notify`` receives the channel's hang-up (and its digits when ``digits``)."""
        self.owners[channel_id] = notify
        if digits:
            self.digit_owners[channel_id] = notify
        else:
            self.digit_owners.pop(channel_id, None)

    def watch_digits(self, channel_id: str, notify: Notify) -> None:
        """Digits only: the channel's hang-up still belongs to the flow that bridged the call."""
        self.digit_owners[channel_id] = notify

    def release(self, channel_id: str) -> None:
        self.owners.pop(channel_id, None)
        self.digit_owners.pop(channel_id, None)
        self.legs.pop(channel_id, None)
        self.answered.discard(channel_id)

    # Events --------------------------------------------------------------------------------------

    async def _on_dtmf(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        notify = self.digit_owners.get(channel_id)
        if notify is not None:
            notify(Digit(channel_id, str(event.get("digit", ""))))

    async def _on_end(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        cause = event.get("cause")
        cause_value = cause if isinstance(cause, int) and event.get("type") == "ChannelDestroyed" else 0
        leg_owner = self.legs.get(channel_id)
        if leg_owner is not None and channel_id not in self.answered:
            self.legs.pop(channel_id, None)
            leg_owner(LegDown(channel_id, cause_value, cause_value in (CAUSE_BUSY, CAUSE_REJECTED)))
            return
        self.legs.pop(channel_id, None)
        self.answered.discard(channel_id)
        owner = self.owners.pop(channel_id, None)
        watcher = self.digit_owners.pop(channel_id, None)
        # A watcher (digits only) hears of the hang-up too, so it stops watching a call its flow ends.
        notify = owner or watcher
        if notify is not None:
            notify(Gone(channel_id, cause_value))

    async def _on_playback_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        playback_id = str((event.get("playback") or {}).get("id"))
        notify = self.playbacks.pop(playback_id, None)
        if notify is not None:
            notify(Played(playback_id))

    async def _on_dial(self, event: dict[str, Any], _conn: AriConnection) -> None:
        status = str(event.get("dialstatus", ""))
        peer_id = str((event.get("peer") or {}).get("id"))
        notify = self.legs.get(peer_id)
        if notify is None or status not in ("BUSY", "CONGESTION", "CHANUNAVAIL"):
            return
        # A busy far end may keep the leg alive for a while; the answer is known already.
        self.legs.pop(peer_id, None)
        notify(LegDown(peer_id, CAUSE_BUSY, busy=status == "BUSY"))
        await self.hangup(peer_id)

    async def _on_leg_start(self, channel: dict[str, Any], _args: list[str], _app: StasisApplication) -> None:
        leg_id = str(channel["id"])
        notify = self.legs.get(leg_id)
        if notify is None:
            log.info("feature leg %s answered after it was given up; hanging it up", leg_id)
            await self.hangup(leg_id)
            return
        self.answered.add(leg_id)
        # From now on the leg is a channel like the others: its hang-up is a Gone for its owner.
        self.owners[leg_id] = notify
        notify(LegUp(leg_id))

    # Requests ------------------------------------------------------------------------------------

    async def request(self, resource: str, nickname: str, **params: object) -> bool:
        try:
            await self.connection.rest.call(resource, nickname, **params)
        except AriRequestError as exc:
            level = logging.DEBUG if exc.status in (400, 404, 409, 422) else logging.WARNING
            log.log(level, "%s.%s %s failed: %s", resource, nickname, params, exc)
            return False
        except AriError as exc:
            log.warning("%s.%s %s failed: %s", resource, nickname, params, exc)
            return False
        return True

    async def hangup(self, channel_id: str, reason: str = "normal") -> bool:
        return await self.request("channels", "hangup", channelId=channel_id, reason=reason)

    async def answer(self, channel_id: str) -> bool:
        return await self.request("channels", "answer", channelId=channel_id)

    async def ring(self, channel_id: str) -> bool:
        return await self.request("channels", "ring", channelId=channel_id)

    async def ring_stop(self, channel_id: str) -> bool:
        return await self.request("channels", "ringStop", channelId=channel_id)

    async def send_dtmf(self, channel_id: str, digits: str) -> bool:
        return await self.request("channels", "sendDTMF", channelId=channel_id, dtmf=digits)

    async def new_bridge(self, prefix: str, kind: str = "mixing") -> str:
        bridge_id = f"{prefix}-{uuid.uuid4().hex}"
        await self.connection.rest.bridges.createWithId(bridgeId=bridge_id, type=kind)
        self.bridges.add(bridge_id)
        return bridge_id

    async def bridge_add(self, bridge_id: str, *channel_ids: str) -> bool:
        return await self.request("bridges", "addChannel", bridgeId=bridge_id, channel=",".join(channel_ids))

    async def bridge_remove(self, bridge_id: str, channel_id: str) -> bool:
        return await self.request("bridges", "removeChannel", bridgeId=bridge_id, channel=channel_id)

    async def destroy_bridge(self, bridge_id: str | None) -> None:
        if bridge_id:
            self.bridges.discard(bridge_id)
            await self.request("bridges", "destroy", bridgeId=bridge_id)

    async def release_all(self) -> None:
        """At a stop, after the owners' tasks are gone: hang up every channel and leg still held
        and remove every bridge still standing (an owner cancelled half-way through its cleanup
        leaves them behind otherwise)."""
        held = list(dict.fromkeys([*self.owners, *self.legs]))
        for channel_id in held:
            self.release(channel_id)
            await self.hangup(channel_id)
        for bridge_id in list(self.bridges):
            await self.destroy_bridge(bridge_id)

    async def bridge_moh(self, bridge_id: str, on: bool, moh_class: str = "default") -> bool:
        if on:
            return await self.request("bridges", "startMoh", bridgeId=bridge_id, mohClass=moh_class)
        return await self.request("bridges", "stopMoh", bridgeId=bridge_id)

    async def play(self, channel_id: str, media: str, notify: Notify | None = None) -> str | None:
        """Start ``media`` on the channel; ``notify`` gets ``Played`` when it ends. None if refused."""
        playback_id = f"oc-feature-pb-{uuid.uuid4().hex}"
        if notify is not None:
            self.playbacks[playback_id] = notify
        if not await self.request(
            "channels", "playWithId", channelId=channel_id, playbackId=playback_id, media=media
        ):
            self.playbacks.pop(playback_id, None)
            return None
        return playback_id

    async def originate(
        self, dial: str, notify: Notify, *, ring_seconds: int, caller_id: str = ""
    ) -> str | None:
        """Ring ``dial``; ``notify`` gets ``LegUp`` on answer, ``LegDown`` otherwise. None if refused."""
        leg_id = f"oc-feature-leg-{uuid.uuid4().hex}"
        params: dict[str, Any] = {
            "endpoint": dial,
            "app": self.app_name,
            "appArgs": f"{FEATURE_LEG_KIND},{leg_id}",
            "timeout": ring_seconds,
            "channelId": leg_id,
        }
        if caller_id:
            params["callerId"] = caller_id
        if dial.lower().startswith("local/"):
            params["formats"] = "ulaw"
        self.legs[leg_id] = notify
        try:
            await self.connection.rest.channels.originate(**params)
        except AriError as exc:
            log.info("feature leg to %s refused: %s", dial, exc)
            self.legs.pop(leg_id, None)
            return None
        return leg_id

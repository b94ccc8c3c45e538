"""The harness on a real Asterisk: far ends are Local channel halves owned by a second Stasis app.

Asterisk has no way to script a SIP phone, so a phone is the Local channel `Local/<ext>@harness-phones`:
its `;2` half runs `Stasis(oc-harness,phone,<ext>)` (see tests/asterisk/extensions_harness.conf), where
this harness rings, answers or refuses it with the phone's behaviour, while the `;1` half is what the
system under test dialed. A caller is an originated `Local/<number>@<context>` whose `;1` half belongs
to the harness (hang-ups and key presses act on it; Local channels pass them to the other half) and
whose `;2` half runs the project's dialplan into the system under test.

What a far end "heard" is rebuilt from the events of the half the system under test holds, to which
the harness app subscribes: playbacks started on it (or on a bridge it is in), hold, ringing
indicated to it, and digits sent to it (they arrive on the harness's half). Asterisk publishes bridge
entries on the bridge alone, so the bridges a far end is in are looked up (GET /bridges) when its
BRIDGEPEER changes and whenever `heard` is read; the harness then subscribes to those bridges.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from harness.ari_client import AriClient, AriRequestError, Event, EventStream
from harness.base import (
    CAUSE_BUSY,
    CAUSE_NORMAL,
    CAUSE_REJECTED,
    CAUSE_UNREACHABLE,
    Behaviour,
    CallHarness,
    FarEnd,
    Heard,
)

HARNESS_APP = "oc-harness"
PHONE_CONTEXT = "harness-phones"

REFUSAL_CAUSES = {"busy": CAUSE_BUSY, "reject": CAUSE_REJECTED, "unreachable": CAUSE_UNREACHABLE}


@dataclass
class Leg:
    """One far end and what it has heard, kept after hang-up so tests can still read it."""

    far_end: FarEnd
    heard: list[Heard] = field(default_factory=list)
    bridges: set[str] = field(default_factory=set)
    #: The other members last reported per bridge, so each change is heard once.
    bridged_with: dict[str, list[str]] = field(default_factory=dict)


def local_peer_name(name: str) -> str | None:
    """`Local/1001@harness-phones-00000001;2` -> the `;1` name, and the other way round."""
    if name.endswith(";2"):
        return name[:-1] + "1"
    if name.endswith(";1"):
        return name[:-1] + "2"
    return None


def caller_id(number: str, name: str) -> str:
    return f'"{name}" <{number}>' if name else number


class AsteriskHarness(CallHarness):
    """Far ends driven through ARI only, so it works on any server that speaks ARI."""

    name = "asterisk"

    def __init__(
        self,
        ari: AriClient,
        *,
        app: str = HARNESS_APP,
        phone_context: str = PHONE_CONTEXT,
        on_close: Callable[[], Awaitable[None]] | None = None,
        time_scale: float = 1.0,
    ) -> None:
        super().__init__(ari)
        self.app = app
        #: Real seconds per second of the server's clock: a simulator runs its ring timeouts
        #: faster than real time, so a phone's "answer after N s" must shrink with them.
        self.time_scale = time_scale
        self.phone_context = phone_context
        self.on_close = on_close
        self._phones: dict[str, Behaviour] = {}
        self._ringing: dict[str, asyncio.Queue[FarEnd]] = {}
        self._legs: dict[str, Leg] = {}
        self._watched: dict[str, Leg] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Harness-owned halves currently in the harness app (ARI acts only on those).
        self._in_stasis: dict[str, asyncio.Event] = {}
        self._stream: EventStream | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self.errors: list[str] = []

    async def start(self) -> None:
        self._stream = await self.ari.events(self.app)
        self._dispatcher = asyncio.create_task(self._dispatch(self._stream.listen()))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._stream is not None:
            await self._stream.close()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        await super().close()
        if self.on_close is not None:
            await self.on_close()

    # Phones -----------------------------------------------------------------------------------

    def phone_endpoint(self, ext: str) -> str:
        return f"Local/{ext}@{self.phone_context}"

    async def register_phone(self, ext: str, behaviour: Behaviour | None = None) -> None:
        self._phones[ext] = behaviour or Behaviour()

    async def set_phone_behaviour(self, ext: str, behaviour: Behaviour) -> None:
        self._phones[ext] = behaviour

    async def unregister_phone(self, ext: str) -> None:
        self._phones.pop(ext, None)

    def ringing_queue(self, ext: str) -> asyncio.Queue[FarEnd]:
        return self._ringing.setdefault(ext, asyncio.Queue())

    async def wait_for_ringing(self, ext: str, within: float = 5.0) -> FarEnd:
        try:
            return await asyncio.wait_for(self.ringing_queue(ext).get(), within)
        except TimeoutError:
            raise TimeoutError(
                f"no call reached phone {ext} within {within}s (harness errors: {self.errors})"
            ) from None

    # Callers ----------------------------------------------------------------------------------

    async def place_call(
        self,
        to: str,
        caller_number: str,
        *,
        caller_name: str = "",
        context: str = "from-trunk",
    ) -> FarEnd:
        token = uuid.uuid4().hex[:16]
        control_id = f"{self.app}-{token}-1"
        sut_id = f"{self.app}-{token}-2"
        far_end = FarEnd(sut_id, control_id)
        self._track(far_end)
        await self.ari.post(
            "/channels",
            {
                "endpoint": f"Local/{to}@{context}",
                "app": self.app,
                "appArgs": "caller",
                "callerId": caller_id(caller_number, caller_name),
                "channelId": control_id,
                "otherChannelId": sut_id,
            },
        )
        await self._subscribe(f"channel:{sut_id}")
        return far_end

    # Acting as a far end ----------------------------------------------------------------------

    def channel_path(self, far_end: FarEnd) -> str:
        return f"/channels/{quote(far_end.control_id, safe='')}"

    async def answer(self, far_end: FarEnd) -> None:
        await self.ari.post(self.channel_path(far_end) + "/answer")

    async def hangup(self, far_end: FarEnd, cause: int = CAUSE_NORMAL) -> None:
        await self.ari.delete(self.channel_path(far_end), {"reason_code": str(cause)})

    async def press(self, far_end: FarEnd, digits: str, duration_ms: int = 100) -> None:
        await self._until_in_stasis(far_end.control_id)
        await self.ari.post(self.channel_path(far_end) + "/dtmf", {"dtmf": digits, "duration": duration_ms})

    def _stasis_flag(self, channel_id: str) -> asyncio.Event:
        return self._in_stasis.setdefault(channel_id, asyncio.Event())

    async def _until_in_stasis(self, channel_id: str, within: float = 5.0) -> None:
        """A caller's own half enters the harness app only once the system under test answered
        the other half, and Asterisk reports that a moment after the answer request returned."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stasis_flag(channel_id).wait(), within)

    async def heard(self, far_end: FarEnd) -> list[Heard]:
        leg = self._legs.get(far_end.control_id)
        if leg is None:
            return []
        await self._refresh_bridges()
        return list(leg.heard)

    # The harness app ---------------------------------------------------------------------------

    def _track(self, far_end: FarEnd) -> Leg:
        leg = Leg(far_end)
        self._legs[far_end.control_id] = leg
        self._watched[far_end.channel_id] = leg
        return leg

    async def _subscribe(self, source: str) -> None:
        await self.ari.post(f"/applications/{quote(self.app, safe='')}/subscription", {"eventSource": source})

    def _spawn(self, work: Awaitable[None], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except AriRequestError as error:
                # The call may be gone already (the system under test hung up first); keep the
                # reason for the timeout messages rather than failing an unrelated test step.
                self.errors.append(f"{what}: {error}")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dispatch(self, queue: asyncio.Queue[Event | None]) -> None:
        while (event := await queue.get()) is not None:
            try:
                self._on_event(event)
            except (KeyError, TypeError, ValueError) as error:
                self.errors.append(f"{event.get('type')}: {error!r}")

    def _on_event(self, event: Event) -> None:
        kind = event.get("type")
        channel: dict[str, Any] = event.get("channel") or {}
        channel_id = str(channel.get("id", ""))
        if kind == "StasisEnd":
            self._stasis_flag(channel_id).clear()
            return
        if kind == "StasisStart":
            self._stasis_flag(channel_id).set()
            args = [str(arg) for arg in event.get("args", [])]
            if len(args) >= 2 and args[0] == "phone" and channel_id not in self._legs:
                self._spawn(self._phone_called(channel, args[1]), f"phone {args[1]}")
            return
        if kind == "PlaybackStarted":
            self._playback_started(event.get("playback") or {})
            return
        if kind == "ChannelDtmfReceived" and channel_id in self._legs:
            self._legs[channel_id].heard.append({"kind": "dtmf", "digit": event.get("digit")})
            return
        if kind == "ChannelStateChange" and channel.get("state") == "Ringing":
            caller = self._legs.get(channel_id)
            # Only a caller's half is rung by the other side; a phone's half rings on our own request.
            if caller is not None and not caller.far_end.endpoint:
                caller.heard.append({"kind": "ringing"})
            return
        if kind in ("ChannelEnteredBridge", "ChannelLeftBridge"):
            # Only arrives for bridges this app subscribed to (bridge events are not channel events).
            self._bridge_members(event.get("bridge") or {})
            return
        leg = self._watched.get(channel_id)
        if leg is None:
            return
        if kind == "ChannelVarset" and event.get("variable") == "BRIDGEPEER":
            # The first sign on the channel itself that it joined (or left) someone in a bridge.
            self._spawn(self._refresh_bridges(), "list bridges")
        elif kind == "ChannelHold":
            leg.heard.append({"kind": "hold"})

    def _bridge_members(self, bridge: dict[str, Any]) -> None:
        """Note who each watched far end is bridged with, from a bridge's member list."""
        bridge_id = str(bridge.get("id"))
        members = [str(member) for member in bridge.get("channels", [])]
        for channel_id, leg in self._watched.items():
            if channel_id not in members:
                leg.bridges.discard(bridge_id)
                leg.bridged_with.pop(bridge_id, None)
                continue
            if bridge_id not in leg.bridges:
                leg.bridges.add(bridge_id)
                # Follow the bridge from now on: its playbacks and later members.
                self._spawn(self._subscribe(f"bridge:{bridge_id}"), f"subscribe bridge {bridge_id}")
            others = [member for member in members if member != channel_id]
            if others and others != leg.bridged_with.get(bridge_id):
                leg.bridged_with[bridge_id] = others
                leg.heard.append({"kind": "bridged", "bridge_id": bridge_id, "with": others})

    async def _refresh_bridges(self) -> None:
        """Find the bridges the watched far ends are in (none of their own events tells which)."""
        for bridge in await self.ari.get("/bridges"):
            self._bridge_members(bridge)

    def _playback_started(self, playback: dict[str, Any]) -> None:
        target = str(playback.get("target_uri", ""))
        scheme, _, target_id = target.partition(":")
        media = playback.get("media_uri")
        if scheme == "channel" and target_id in self._watched:
            self._watched[target_id].heard.append({"kind": "playback", "media": media})
        elif scheme == "bridge":
            for leg in self._watched.values():
                if target_id in leg.bridges:
                    leg.heard.append({"kind": "playback", "media": media})

    async def _phone_called(self, channel: dict[str, Any], ext: str) -> None:
        """The system under test dialed phone `ext`: find the half it holds, then play the phone."""
        control_id = str(channel["id"])
        peer = local_peer_name(str(channel.get("name", "")))
        sut_id = await self._channel_id_by_name(peer) if peer else None
        far_end = FarEnd(sut_id or control_id, control_id, self.phone_endpoint(ext))
        self._track(far_end)
        if sut_id is not None:
            await self._subscribe(f"channel:{sut_id}")
        behaviour = self._phones.get(ext, Behaviour(mode="unreachable"))
        path = self.channel_path(far_end)
        if behaviour.mode in REFUSAL_CAUSES:
            await self.ari.delete(path, {"reason_code": str(REFUSAL_CAUSES[behaviour.mode])})
            return
        await self.ari.post(path + "/ring")
        self.ringing_queue(ext).put_nowait(far_end)
        if behaviour.mode == "answer":
            if behaviour.answer_after > 0:
                await asyncio.sleep(behaviour.answer_after * self.time_scale)
            await self.ari.post(path + "/answer")

    async def _channel_id_by_name(self, name: str, attempts: int = 20) -> str | None:
        for _ in range(attempts):
            for listed in await self.ari.get("/channels"):
                if listed.get("name") == name:
                    return str(listed["id"])
            await asyncio.sleep(0.01)
        return None

"""The simulator's state: endpoints, channels, bridges, playbacks, recordings and applications.

Everything runs on one asyncio loop; events are handed to the applications' queues in the order
the engine emits them, so the order below is exactly what a client sees on its websocket.

Sources: res/ari/resource_channels.c, res/ari/resource_bridges.c, res/res_stasis.c,
res/stasis/control.c, res/stasis/app.c, main/dial.c, main/channel.c, the testsuite's
tests/rest_api/channels/create_dial_bridge and tests/rest_api/bridges/{hangup,unhappy}, the design
page's "Real ARI behaviours", and traces recorded on Asterisk 22 (Local channels, bridges, media).

Who receives what: an application follows a channel it originated/created or subscribed to, and a
channel while that channel is in its Stasis; it stops following the latter at StasisEnd (so a call
that entered Stasis from the dialplan shows no ChannelDestroyed to it). StasisStart/StasisEnd go to
the application alone. It follows a bridge while one of its Stasis channels is in it (or it
subscribed to it); ChannelEnteredBridge/ChannelLeftBridge go to the bridge's followers only. subscribeAll
sees everything (ChannelCreated, BridgeCreated, global ChannelVarset ...).

* Originate (app given): the app subscribes after the channel exists, so it never sees ChannelCreated
  nor ChannelDialplan{AppDial2,(Outgoing Line)}. Then Dial{""} -> [ChannelStateChange Ringing ->
  Dial RINGING] -> ChannelStateChange Up -> Dial ANSWER -> ChannelVarset STASISSTATUS="" ->
  StasisStart. Local: `;2` runs the dialplan (ChannelDialplan per application, its own Stasis entry),
  and `;1` enters Stasis only once `;2` answers (`;2` Up, `;1` Up, Dial ANSWER).
  Far end busy: Dial BUSY -> ChannelDestroyed 17 (Local busy indication: cause 0). Rejected /
  unreachable / the other Local half hung up: ChannelHangupRequest{cause} -> Dial{status for the
  cause: 17 BUSY, 34 CONGESTION, 3/20 CHANUNAVAIL, else NOANSWER} -> ChannelDestroyed{cause}.
  `timeout` expiring: ChannelDestroyed 19 only. Missing extension for a Local endpoint: 200, then
  ChannelDestroyed cause 0 for `;2`, then for `;1`.
* Create + dial: the app follows the new channel and the `originator` (not a Local `;2`).
  ChannelDialplan{Stasis,app} -> ChannelVarset STASISSTATUS="" -> StasisStart (Down);
  /dial: Dial{""} -> ChannelStateChange Ringing -> Dial RINGING -> ChannelStateChange Up -> Dial ANSWER.
  While Down/Ringing, answer/ring/moh/hold/play/... answer 412. BUSY: Dial BUSY and the channel stays
  Down (cause 17 kept for its ChannelDestroyed); a hangup before answer gives no final Dial. Dial
  timeout: ChannelHangupRequest{32,soft} -> StasisEnd -> ChannelVarset STASISSTATUS=SUCCESS ->
  ChannelDestroyed 19 (no NOANSWER Dial).
* Hangup: DELETE -> ChannelHangupRequest{cause 32, soft true}; far end -> ChannelHangupRequest{cause};
  the dialplan ending -> ChannelHangupRequest{16, soft}. Then: [Dial{status} if still being dialled
  by originate/Dial()] -> [RecordingFinished/PlaybackFinished] -> [ChannelVarset BRIDGEPEER="" ->
  ChannelLeftBridge] -> [StasisEnd -> ChannelVarset STASISSTATUS=SUCCESS] -> [a dialplan channel hung
  up from outside: ChannelHangupRequest{16, soft}] -> [other Local half: ChannelHangupRequest{cause}]
  -> ChannelDestroyed{cause, cause_txt} -> the other half's own teardown as above. Snoop channels of a
  destroyed channel: StasisEnd -> ChannelDestroyed 0.
* Bridges: addChannel -> ChannelEnteredBridge (a channel already bridged, even in this bridge,
  leaves first); then, with two or more members, every member gets ChannelVarset BRIDGEPEER (the
  other's name, or the others' names comma separated). removeChannel -> ChannelVarset BRIDGEPEER=""
  -> ChannelLeftBridge -> BRIDGEPEER again for the members left if two or more remain. DELETE ->
  the same per member (no re-announcing), then BridgeDestroyed, which an app only gets while it still
  follows the bridge: not after its channels were removed or the bridge deleted around them, but yes
  when one of its channels hung up (or left Stasis) inside it. A Stasis bridge never hangs up its
  other members.
* Playback: 201 {queued} -> PlaybackStarted {playing}; for a list, PlaybackContinuing {continuing,
  the item just played} then PlaybackStarted for the next item; -> PlaybackFinished {done}
  ({failed} for an unknown scheme). pause -> state paused; unpause -> PlaybackStarted again.
* Recording: 201 {queued} -> RecordingStarted {recording} -> RecordingFinished {done, duration} on
  stop, maxDurationSeconds, maxSilenceSeconds (far ends are silent: duration 0), a terminateOn
  digit or hangup; cancel -> RecordingFinished {done} and nothing stored.
* DTMF: far-end digits -> ChannelDtmfReceived {digit, duration_ms}; digits sent to one half of a
  Local pair arrive as ChannelDtmfReceived on the other half. Sends to one channel play one after
  the other. A mixing bridge passes a member's digits on to the other members (as if sent to
  them) unless it joined with absorbDTMF.
* Every event carries type, timestamp, application and asterisk_id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ari_sim.dialplan import ChannelGone, Dialplan, DialplanRunner, DialplanTarget, Indication
from ari_sim.errors import AriError
from ari_sim.events import ari_timestamp, build_event, cause_text, dial_status_for_cause
from ari_sim.settings import SimSettings

log = logging.getLogger(__name__)

PhoneMode = Literal["answer", "ring", "busy", "reject", "unreachable"]

#: Simulated seconds each media kind plays for (before time_scale).
SOUND_SECONDS = 1.0
TONE_SECONDS = 1.0
DIGIT_SECONDS = 0.25
NUMBER_DIGIT_SECONDS = 0.4
#: How long an unreachable phone takes to fail, and the default originate ring timeout.
UNREACHABLE_SECONDS = 0.5
DEFAULT_ORIGINATE_TIMEOUT = 30
#: Seconds a destroyed channel's "heard" log is kept.
HEARD_KEEP_SECONDS = 600.0

KNOWN_RECORDING_FORMATS = frozenset(
    {"wav", "wav16", "wav49", "gsm", "ulaw", "alaw", "sln", "sln16", "g722", "g729", "ogg", "mp3"}
)
MEDIA_SCHEMES = frozenset({"sound", "recording", "number", "digits", "characters", "tone"})
DTMF_DIGITS = frozenset("0123456789ABCD*#")
FALLBACK_APP = "opencontact"
BRIDGE_TYPES = frozenset(
    {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single", "sdp_label"}
)

VARIABLES_SHAPE_ERROR = (
    "Each value in 'variables' must be a string or an object with 'value' and optional 'report_events'"
)

HangupKind = Literal["ari", "queued", "dialplan", "propagated", "none"]


@dataclass
class PhoneBehaviour:
    """What a registered phone does when it is called."""

    mode: PhoneMode = "answer"
    #: Seconds of ringing before an "answer" phone picks up (scaled by time_scale).
    answer_after: float = 0.0


@dataclass
class CallerId:
    name: str = ""
    number: str = ""

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "number": self.number}


@dataclass
class Endpoint:
    tech: str
    resource: str
    state: str = "offline"
    behaviour: PhoneBehaviour = field(default_factory=PhoneBehaviour)
    channel_ids: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.tech}/{self.resource}"

    def to_json(self) -> dict[str, Any]:
        return {
            "technology": self.tech,
            "resource": self.resource,
            "state": self.state,
            "channel_ids": list(self.channel_ids),
        }


@dataclass
class Channel:
    id: str
    name: str
    tech: str
    #: The endpoint resource ("1001") or, for Local, "exten@context".
    resource: str
    state: str
    creationtime: str
    caller: CallerId = field(default_factory=CallerId)
    connected: CallerId = field(default_factory=CallerId)
    accountcode: str = ""
    context: str = "default"
    exten: str = "s"
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    language: str = "en"
    protocol_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    local_peer: str | None = None
    stasis_app: str | None = None
    bridge_id: str | None = None
    #: Dial string kept by channels/create so that /dial knows where to call.
    dialstring: str | None = None
    dialed: bool = False
    outbound: bool = False
    hanging_up: bool = False
    hangup_cause: int | None = None
    held: bool = False
    moh_class: str | None = None
    silence: bool = False
    ringing: bool = False
    muted: set[str] = field(default_factory=set)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    playback_queue: list[str] = field(default_factory=list)
    snoop_target: str | None = None
    #: Set while a dialplan run waits in Stasis(); ARI continue resolves it with the target.
    stasis_exit: asyncio.Future[Any] | None = None
    amd: tuple[str, str] = ("HUMAN", "HUMAN-300-500")
    #: How the channel is being dialled while its call is not answered yet (None otherwise).
    dial_kind: str | None = None
    dial_caller: Channel | None = None
    #: The channel runs (or ran) a dialplan, which adds its own hangup request when it ends.
    runs_pbx: bool = False
    #: Joined its bridge with absorbDTMF: its digits are not passed on to the other members.
    absorb_dtmf: bool = False
    #: The last DTMF send still playing; a new send waits for it (one control queue per channel).
    dtmf_sending: asyncio.Task[Any] | None = None

    @property
    def endpoint_key(self) -> str:
        return f"{self.tech}/{self.resource}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": self.caller.to_json(),
            "connected": self.connected.to_json(),
            "accountcode": self.accountcode,
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": self.creationtime,
            "language": self.language,
        }


@dataclass
class Bridge:
    id: str
    types: list[str]
    name: str
    creationtime: str
    channels: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    moh_class: str | None = None
    playback_queue: list[str] = field(default_factory=list)
    #: Being destroyed: members leave without the bridge re-announcing peers.
    dissolved: bool = False
    #: The hidden channel Asterisk puts into a bridge to play media to it (while a playback runs).
    announcer: str | None = None

    @property
    def bridge_type(self) -> str:
        return "holding" if "holding" in self.types else "mixing"

    def to_json(self) -> dict[str, Any]:
        if self.bridge_type == "holding":
            technology = "holding_bridge"
        else:
            technology = "softmix" if len(self.channels) > 2 else "simple_bridge"
        return {
            "id": self.id,
            "technology": technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": self.creationtime,
            "video_mode": "none" if self.bridge_type == "holding" else "talker",
        }


@dataclass
class Playback:
    id: str
    media: list[str]
    target_kind: str
    target_id: str
    language: str
    state: str = "queued"
    index: int = 0
    task: asyncio.Task[None] | None = None
    paused: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "media_uri": self.media[self.index],
            "target_uri": f"{self.target_kind}:{self.target_id}",
            "language": self.language,
            "state": self.state,
        }
        if self.index + 1 < len(self.media):
            body["next_media_uri"] = self.media[self.index + 1]
        return body


@dataclass
class LiveRecording:
    name: str
    format: str
    target_kind: str
    target_id: str
    max_duration: int
    terminate_on: str
    max_silence: int = 0
    base_seconds: float = 0.0
    state: str = "queued"
    started_at: float = 0.0
    paused_at: float | None = None
    paused_total: float = 0.0
    muted: bool = False
    task: asyncio.Task[None] | None = None
    cause: str | None = None

    def to_json(self, now: float, scale: float) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": f"{self.target_kind}:{self.target_id}",
        }
        if self.state in ("done", "canceled", "failed"):
            if self.max_silence > 0:
                # The far ends are silent, so silence detection trims everything.
                body.update({"duration": 0, "talking_duration": 0, "silence_duration": 0})
            else:
                body["duration"] = round(self.elapsed(now, scale))
        if self.cause:
            body["cause"] = self.cause
        return body

    def elapsed(self, now: float, scale: float) -> float:
        if not self.started_at:
            return self.base_seconds
        end = self.paused_at if self.paused_at is not None else now
        return self.base_seconds + max(0.0, end - self.started_at - self.paused_total) / max(scale, 1e-9)


@dataclass
class StoredRecording:
    name: str
    format: str
    duration: float = 0.0

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "format": self.format}


@dataclass
class Mailbox:
    """Message counts of a mailbox that ARI controls (Asterisk's res_mwi_external keeps these)."""

    name: str
    old_messages: int = 0
    new_messages: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "old_messages": self.old_messages, "new_messages": self.new_messages}


EventQueue = asyncio.Queue[dict[str, Any] | None]


@dataclass
class Application:
    """A Stasis application while its events websocket is open, and what it follows."""

    name: str
    queue: EventQueue | None = None
    subscribe_all: bool = False
    #: Channels followed because of originate/create/subscribe, and those it holds in Stasis.
    channel_ids: set[str] = field(default_factory=set)
    stasis_ids: set[str] = field(default_factory=set)
    bridge_refs: dict[str, int] = field(default_factory=dict)
    endpoint_ids: set[str] = field(default_factory=set)
    device_names: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "channel_ids": sorted(self.channel_ids | self.stasis_ids),
            "bridge_ids": sorted(self.bridge_refs),
            "endpoint_ids": sorted(self.endpoint_ids),
            "device_names": sorted(self.device_names),
            "events_allowed": [],
            "events_disallowed": [],
        }


class DialOutcome:
    """What a call attempt ended with, as DIALSTATUS names it."""

    ANSWER = "ANSWER"
    BUSY = "BUSY"
    NOANSWER = "NOANSWER"
    CHANUNAVAIL = "CHANUNAVAIL"
    CONGESTION = "CONGESTION"
    CANCEL = "CANCEL"


def parse_caller_id(text: str) -> CallerId:
    """`"Alice" <1001>` / `Alice <1001>` / `1001` into a name and a number."""
    text = text.strip()
    if "<" in text and text.endswith(">"):
        name, _, number = text[:-1].partition("<")
        return CallerId(name.strip().strip('"'), number.strip())
    return CallerId("", text)


def media_seconds(media: str) -> float:
    """Simulated length of one media URI, before time_scale."""
    scheme, _, rest = media.partition(":")
    if scheme in {"digits", "characters"}:
        return DIGIT_SECONDS * max(1, len(rest))
    if scheme == "number":
        return NUMBER_DIGIT_SECONDS * max(1, len(rest.lstrip("-")))
    if scheme == "tone":
        return TONE_SECONDS
    return SOUND_SECONDS


class Engine:
    """All simulated Asterisk state, the ARI operations on it and the control side's far ends."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        self.settings = settings or SimSettings()
        self.time_scale = self.settings.time_scale
        self.asterisk_id = self.settings.asterisk_id
        self.started = time.time()
        self._epoch = int(self.started)
        self._uniq = itertools.count(1)
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.apps: dict[str, Application] = {}
        self.playbacks: dict[str, Playback] = {}
        self.live_recordings: dict[str, LiveRecording] = {}
        self.stored_recordings: dict[str, StoredRecording] = {}
        self.global_vars: dict[str, str] = {}
        #: Mailboxes set through ARI, by name; phones subscribed to one would be told its counts.
        self.mailboxes: dict[str, Mailbox] = {}
        self._heard: dict[str, list[dict[str, Any]]] = {}
        self._heard_expiry: dict[str, float] = {}
        #: (expiry, channel id) in expiry order (expiries only grow), so forgetting a channel
        #: drops what has expired without looking at every channel ever forgotten.
        self._heard_expiring: deque[tuple[float, str]] = deque()
        #: Snoop channels by the channel they watch, in creation order.
        self._snoops_of: dict[str, dict[str, None]] = {}
        #: Optional dialplan; without one, calls go to Stasis(opencontact, context, exten).
        self.dialplan: Dialplan | None = None
        self._runner: DialplanRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ helpers
    def _now_loop(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        """Wait simulated seconds (scaled)."""
        await asyncio.sleep(max(0.0, seconds * self.time_scale))

    def _new_uniqueid(self) -> str:
        return f"{self._epoch}.{next(self._uniq)}"

    def _new_id(self) -> str:
        return f"{self._epoch}.{next(self._ids) + 100000}"

    def _spawn(self, coro: Awaitable[Any], owner: Channel | None = None) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        bucket = owner.tasks if owner is not None else self._background
        bucket.add(task)
        task.add_done_callback(bucket.discard)
        task.add_done_callback(self._log_failure)
        return task

    @staticmethod
    def _log_failure(task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("simulated call step failed", exc_info=task.exception())

    def _heard_add(self, channel_id: str, entry: dict[str, Any]) -> None:
        self._heard.setdefault(channel_id, []).append(entry)

    # ------------------------------------------------------------------ events
    def _targets(
        self, channels: Iterable[Channel], bridges: Iterable[str], endpoints: Iterable[str]
    ) -> list[Application]:
        chans = list(channels)
        channel_ids = {c.id for c in chans}
        endpoint_keys = set(endpoints) | {c.endpoint_key for c in chans}
        techs = {k.split("/", 1)[0] for k in endpoint_keys}
        bridge_ids = set(bridges)
        found: list[Application] = []
        for app in self.apps.values():
            if app.queue is None:
                continue
            if (
                app.subscribe_all
                or channel_ids & app.channel_ids
                or channel_ids & app.stasis_ids
                or bridge_ids & app.bridge_refs.keys()
                or endpoint_keys & app.endpoint_ids
                or techs & app.endpoint_ids
            ):
                found.append(app)
        return found

    def _send(self, apps: Iterable[Application], event_type: str, fields: dict[str, Any]) -> None:
        for app in apps:
            if app.queue is not None:
                app.queue.put_nowait(build_event(event_type, app.name, self.asterisk_id, fields))

    def emit(
        self,
        event_type: str,
        fields: dict[str, Any],
        channels: Iterable[Channel] = (),
        bridges: Iterable[str] = (),
        endpoints: Iterable[str] = (),
    ) -> None:
        self._send(self._targets(channels, bridges, endpoints), event_type, fields)

    def _emit_channel(self, event_type: str, ch: Channel, **extra: Any) -> None:
        fields = dict(extra)
        fields["channel"] = ch.to_json()
        self.emit(event_type, fields, channels=[ch])

    # ------------------------------------------------------------------ applications
    def register_app(self, name: str, queue: EventQueue, subscribe_all: bool = False) -> None:
        """A websocket opened for `name`; a previous socket for it gets ApplicationReplaced."""
        app = self.apps.get(name)
        if app is None:
            app = Application(name)
            self.apps[name] = app
        elif app.queue is not None and app.queue is not queue:
            self._send([app], "ApplicationReplaced", {})
            app.queue.put_nowait(None)
        app.queue = queue
        app.subscribe_all = subscribe_all

    def unregister_app(self, name: str, queue: EventQueue) -> None:
        """The socket closed: stop sending; channels stay in Stasis as on Asterisk."""
        app = self.apps.get(name)
        if app is not None and app.queue is queue:
            app.queue = None
            app.subscribe_all = False

    def app_registered(self, name: str) -> bool:
        app = self.apps.get(name)
        return app is not None and app.queue is not None

    def get_app(self, name: str) -> Application:
        app = self.apps.get(name)
        if app is None or app.queue is None:
            raise AriError(404, "Application not found")
        return app

    def app_subscribe(self, name: str, sources: list[str]) -> dict[str, Any]:
        app = self.get_app(name)
        parsed = [self._event_source(s) for s in sources]
        for kind, ident in parsed:
            if kind == "channel":
                app.channel_ids.add(ident)
            elif kind == "bridge":
                app.bridge_refs[ident] = app.bridge_refs.get(ident, 0) + 1
            elif kind == "endpoint":
                app.endpoint_ids.add(ident)
            else:
                app.device_names.add(ident)
        return app.to_json()

    def app_unsubscribe(self, name: str, sources: list[str]) -> dict[str, Any]:
        app = self.get_app(name)
        parsed = [self._event_source(s) for s in sources]
        for kind, ident in parsed:
            subscribed = (
                (kind == "channel" and ident in app.channel_ids | app.stasis_ids)
                or (kind == "bridge" and ident in app.bridge_refs)
                or (kind == "endpoint" and ident in app.endpoint_ids)
                or (kind == "deviceState" and ident in app.device_names)
            )
            if not subscribed:
                raise AriError(422, "Event source was not subscribed to")
        for kind, ident in parsed:
            if kind == "channel":
                app.channel_ids.discard(ident)
                app.stasis_ids.discard(ident)
            elif kind == "bridge":
                app.bridge_refs.pop(ident, None)
            elif kind == "endpoint":
                app.endpoint_ids.discard(ident)
            else:
                app.device_names.discard(ident)
        return app.to_json()

    def _event_source(self, source: str) -> tuple[str, str]:
        kind, sep, ident = source.partition(":")
        if not sep or kind not in ("channel", "bridge", "endpoint", "deviceState"):
            raise AriError(400, "Invalid event source URI scheme")
        if kind == "channel" and ident not in self.channels:
            raise AriError(422, "Event source does not exist")
        if kind == "bridge" and ident not in self.bridges:
            raise AriError(422, "Event source does not exist")
        if kind == "endpoint" and ident not in self.endpoints and "/" in ident:
            raise AriError(422, "Event source does not exist")
        return kind, ident

    def _bridge_follow(self, app_name: str | None, bridge_id: str, delta: int) -> None:
        if app_name is None or app_name not in self.apps:
            return
        refs = self.apps[app_name].bridge_refs
        count = refs.get(bridge_id, 0) + delta
        if count > 0:
            refs[bridge_id] = count
        else:
            refs.pop(bridge_id, None)

    # ------------------------------------------------------------------ endpoints / phones
    def _endpoint(self, tech: str, resource: str) -> Endpoint:
        key = f"{tech}/{resource}"
        ep = self.endpoints.get(key)
        if ep is None:
            ep = Endpoint(tech, resource)
            self.endpoints[key] = ep
        return ep

    async def register_phone(
        self, resource: str, behaviour: PhoneBehaviour | None = None, tech: str = "PJSIP"
    ) -> None:
        ep = self._endpoint(tech, resource)
        ep.behaviour = behaviour or PhoneBehaviour()
        if ep.state != "online":
            ep.state = "online"
            self.emit("EndpointStateChange", {"endpoint": ep.to_json()}, endpoints=[ep.key])

    async def unregister_phone(self, resource: str, tech: str = "PJSIP") -> None:
        ep = self._endpoint(tech, resource)
        if ep.state != "offline":
            ep.state = "offline"
            self.emit("EndpointStateChange", {"endpoint": ep.to_json()}, endpoints=[ep.key])

    async def set_phone_behaviour(
        self, resource: str, behaviour: PhoneBehaviour, tech: str = "PJSIP"
    ) -> None:
        self._endpoint(tech, resource).behaviour = behaviour

    def channels_of(self, endpoint: str) -> list[str]:
        ep = self.endpoints.get(endpoint)
        return list(ep.channel_ids) if ep else []

    def heard(self, channel_id: str) -> list[dict[str, Any]]:
        return [dict(e) for e in self._heard.get(channel_id, [])]

    def snapshot(self) -> dict[str, int]:
        return {
            "channels": len(self.channels),
            "bridges": len(self.bridges),
            "playbacks": len(self.playbacks),
            "recordings": len(self.live_recordings),
        }

    # ------------------------------------------------------------------ channel lifecycle
    def _new_channel(
        self,
        tech: str,
        resource: str,
        state: str,
        channel_id: str | None = None,
        name: str | None = None,
    ) -> Channel:
        cid = channel_id or self._new_uniqueid()
        if cid in self.channels:
            raise AriError(409, "Channel with given unique ID already exists")
        if name is None:
            name = f"{tech}/{resource}-{next(self._seq):08x}"
        ch = Channel(
            id=cid,
            name=name,
            tech=tech,
            resource=resource,
            state=state,
            creationtime=_ari_time(),
        )
        if tech == "PJSIP":
            ch.protocol_id = f"{cid.replace('.', '')[:8]:0>8}-sim0-4000-8000-{next(self._seq):012x}"
        self.channels[cid] = ch
        self._heard.setdefault(cid, [])
        ep = self.endpoints.get(ch.endpoint_key)
        if ep is not None:
            ep.channel_ids.append(cid)
        self._emit_channel("ChannelCreated", ch)
        return ch

    def _new_local_pair(
        self, resource: str, channel_id: str | None, other_id: str | None
    ) -> tuple[Channel, Channel]:
        if (channel_id and channel_id in self.channels) or (other_id and other_id in self.channels):
            raise AriError(409, "Channel with given unique ID already exists")
        base = f"Local/{resource}-{next(self._seq):08x}"
        one = self._new_channel("Local", resource, "Down", channel_id, base + ";1")
        two = self._new_channel("Local", resource, "Ring", other_id, base + ";2")
        one.local_peer, two.local_peer = two.id, one.id
        exten, _, context = resource.partition("@")
        two.exten, two.context = exten or "s", context or "default"
        return one, two

    def get_channel(self, channel_id: str) -> Channel:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise AriError(404, "Channel not found")
        return ch

    def stasis_channel(self, channel_id: str) -> Channel:
        """The channel an ARI control operation acts on: 404 if missing, 409 outside Stasis."""
        ch = self.get_channel(channel_id)
        if ch.stasis_app is None:
            raise AriError(409, "Channel not in Stasis application")
        return ch

    @staticmethod
    def require_usable_state(ch: Channel) -> None:
        """Operations that need media refuse outbound channels not yet answered (Down/Ringing)."""
        if ch.state in ("Down", "Rsrvd", "Ringing"):
            raise AriError(412, "Channel in invalid state")

    def _set_state(self, ch: Channel, state: str) -> None:
        if ch.state != state and not ch.hanging_up:
            ch.state = state
            self._emit_channel("ChannelStateChange", ch)

    def _dialplan_step(self, ch: Channel, app_name: str, app_data: str) -> None:
        ch.app_name, ch.app_data = app_name, app_data
        self.emit(
            "ChannelDialplan",
            {"channel": ch.to_json(), "dialplan_app": app_name, "dialplan_app_data": app_data},
            channels=[ch],
        )

    def enter_stasis(self, ch: Channel, app: str, args: list[str], replace: Channel | None = None) -> bool:
        """Stasis(app,args): False (and no event) when the application is not registered."""
        if ch.hanging_up or not self.app_registered(app):
            return False
        ch.stasis_app = app
        ch.app_name, ch.app_data = "Stasis", ",".join([app, *args])
        ch.variables["STASISSTATUS"] = ""
        self.emit(
            "ChannelVarset", {"variable": "STASISSTATUS", "value": "", "channel": ch.to_json()}, channels=[ch]
        )
        self.apps[app].stasis_ids.add(ch.id)
        fields: dict[str, Any] = {"args": list(args), "channel": ch.to_json()}
        if replace is not None:
            fields["replace_channel"] = replace.to_json()
        # Sent to the application itself only, as Asterisk publishes it on the app's own topic.
        self._send([self.apps[app]], "StasisStart", fields)
        return True

    def _leave_stasis(self, ch: Channel) -> None:
        """StasisEnd to the application, which stops following the channel, then STASISSTATUS."""
        app_name = ch.stasis_app
        if app_name is None:
            return
        if ch.bridge_id is not None:
            self._leave_bridge(ch, keep_following=True)
        ch.stasis_app = None
        app = self.apps.get(app_name)
        if app is not None:
            self._send([app], "StasisEnd", {"channel": ch.to_json()})
            app.stasis_ids.discard(ch.id)
        ch.variables["STASISSTATUS"] = "SUCCESS"
        self.emit(
            "ChannelVarset",
            {"variable": "STASISSTATUS", "value": "SUCCESS", "channel": ch.to_json()},
            channels=[ch],
        )

    def _stop_channel_media(self, ch: Channel) -> None:
        for pb in [p for p in self.playbacks.values() if p.target_kind == "channel" and p.target_id == ch.id]:
            self._finish_playback(pb, "done")
        for rec in [
            r for r in self.live_recordings.values() if r.target_kind == "channel" and r.target_id == ch.id
        ]:
            self._finish_recording(rec, "done")

    def hangup(self, ch: Channel, cause: int, request: HangupKind = "none") -> None:
        """Tear a channel down with Asterisk's event order (see the module docstring).

        `request` says what asked for it: "ari" (DELETE: soft, cause 32), "queued" (the far end:
        the real cause), "dialplan" (the dialplan ended: soft, 16), "propagated" (the other half
        of a Local pair; its request event was already sent) or "none".
        """
        if ch.hanging_up:
            return
        if request == "ari":
            self._emit_channel("ChannelHangupRequest", ch, cause=32, soft=True)
        elif request == "queued":
            self._emit_channel("ChannelHangupRequest", ch, cause=cause)
        elif request == "dialplan":
            self._emit_channel("ChannelHangupRequest", ch, cause=16, soft=True)
        ch.hanging_up = True
        ch.hangup_cause = cause
        if ch.stasis_exit is not None and not ch.stasis_exit.done():
            ch.stasis_exit.set_exception(ChannelGone())
            ch.stasis_exit.exception()
        current = asyncio.current_task()
        for task in list(ch.tasks):
            if task is not current:
                task.cancel()
        if ch.dial_kind in ("originate", "dialplan") and not ch.answered.is_set():
            self._dial_event(ch.dial_caller, ch, ch.dialstring or ch.resource, dial_status_for_cause(cause))
        ch.dial_kind = None
        self._stop_channel_media(ch)
        if ch.bridge_id is not None:
            self._leave_bridge(ch, keep_following=True)
        self._leave_stasis(ch)
        if ch.runs_pbx and request in ("queued", "propagated"):
            self._emit_channel("ChannelHangupRequest", ch, cause=16, soft=True)
        peer = self.channels.get(ch.local_peer) if ch.local_peer else None
        if peer is not None and not peer.hanging_up:
            self._emit_channel("ChannelHangupRequest", peer, cause=cause)
        snoop_ids = list(self._snoops_of.get(ch.id, ()))
        for snoop in [self.channels[s] for s in snoop_ids if s in self.channels]:
            self.hangup(snoop, 0)
        self.emit(
            "ChannelDestroyed",
            {"cause": cause, "cause_txt": cause_text(cause), "channel": ch.to_json()},
            channels=[ch],
        )
        self._forget_channel(ch)
        if peer is not None and not peer.hanging_up:
            self.hangup(peer, cause, "propagated")

    def _forget_channel(self, ch: Channel) -> None:
        self.channels.pop(ch.id, None)
        ep = self.endpoints.get(ch.endpoint_key)
        if ep is not None and ch.id in ep.channel_ids:
            ep.channel_ids.remove(ch.id)
        for app in self.apps.values():
            app.channel_ids.discard(ch.id)
            app.stasis_ids.discard(ch.id)
        if ch.snoop_target is not None:
            watchers = self._snoops_of.get(ch.snoop_target)
            if watchers is not None:
                watchers.pop(ch.id, None)
                if not watchers:
                    del self._snoops_of[ch.snoop_target]
        expiry = time.monotonic() + HEARD_KEEP_SECONDS
        self._heard_expiry[ch.id] = expiry
        self._heard_expiring.append((expiry, ch.id))
        now = time.monotonic()
        while self._heard_expiring and self._heard_expiring[0][0] < now:
            expires, cid = self._heard_expiring.popleft()
            if self._heard_expiry.get(cid) == expires:
                self._heard.pop(cid, None)
                del self._heard_expiry[cid]

    def answer(self, ch: Channel) -> None:
        """The channel (and, for Local, its other half) goes Up."""
        if ch.state == "Up" or ch.hanging_up:
            return
        self._set_state(ch, "Up")
        ch.answered.set()
        peer = self.channels.get(ch.local_peer) if ch.local_peer else None
        if peer is not None and peer.state != "Up":
            self._set_state(peer, "Up")
            peer.answered.set()

    def _indicate_ringing(self, ch: Channel) -> None:
        """Ringing indicated on `ch`; for a Local `;2` it reaches `;1` as its own ringing."""
        ch.ringing = True
        self._heard_add(ch.id, {"kind": "ringing"})
        peer = self.channels.get(ch.local_peer) if ch.local_peer else None
        if peer is not None and peer.outbound and peer.state in ("Down", "Rsrvd"):
            self._set_state(peer, "Ringing")
            self.emit(
                "Dial",
                {
                    "peer": peer.to_json(),
                    "dialstring": peer.dialstring or peer.resource,
                    "dialstatus": "RINGING",
                },
                channels=[peer],
            )

    # ------------------------------------------------------------------ outbound calls
    def _dial_event(self, caller: Channel | None, peer: Channel, dialstring: str, status: str) -> None:
        fields: dict[str, Any] = {}
        chans = [peer]
        if caller is not None:
            fields["caller"] = caller.to_json()
            chans.append(caller)
        fields.update({"peer": peer.to_json(), "dialstring": dialstring, "dialstatus": status})
        self.emit("Dial", fields, channels=chans)

    def _start_local(self, one: Channel) -> bool:
        """Call a Local `;1`: its `;2` starts the dialplan. False when the extension is missing."""
        two = self.channels.get(one.local_peer or "")
        if two is None:
            return False
        if self.dialplan is not None and self.dialplan.find_extension(two.context, two.exten) is None:
            return False
        self._spawn(self.run_dialplan(two), two)
        return True

    async def call_out(
        self,
        ch: Channel,
        caller: Channel | None,
        ring_timeout: float | None,
        kind: Literal["originate", "ari", "dialplan"],
    ) -> str:
        """Ring the far end of outbound `ch`; returns the DIALSTATUS it ended with."""
        ch.outbound = True
        ch.dialed = True
        dialstring = ch.dialstring or ch.resource
        if ch.tech == "Local":
            two = self.channels.get(ch.local_peer or "")
            if two is not None:
                # core_unreal: the `;2` half calls as the `;1` half's connected party.
                two.caller = CallerId(ch.connected.name, ch.connected.number)
                two.connected = CallerId(ch.caller.name, ch.caller.number)
            if not self._start_local(ch):
                ch.local_peer = None
                if two is not None:
                    two.local_peer = None
                    self.hangup(two, 0)
                self.hangup(ch, 0)
                return DialOutcome.CHANUNAVAIL
            ch.dial_kind, ch.dial_caller = kind, caller
            self._dial_event(caller, ch, dialstring, "")
        else:
            ep = self.endpoints.get(ch.endpoint_key)
            ch.dial_kind, ch.dial_caller = kind, caller
            self._dial_event(caller, ch, dialstring, "")
            mode: PhoneMode = ep.behaviour.mode if ep is not None else "unreachable"
            if ep is None or ep.state != "online":
                mode = "unreachable"
            if mode == "unreachable":
                await self.sleep(UNREACHABLE_SECONDS)
                return self._far_end_failed(ch, caller, 20, kind)
            if mode == "reject":
                return self._far_end_failed(ch, caller, 21, kind)
            if mode == "busy":
                self._control_busy(ch, "BUSY", 17, ring_timeout)
                return DialOutcome.BUSY
            self._set_state(ch, "Ringing")
            self._dial_event(caller, ch, dialstring, "RINGING")
            if caller is not None and kind == "dialplan":
                self._heard_add(caller.id, {"kind": "ringing"})
            if mode == "answer" and ep is not None:
                self._spawn(self._answer_later(ch, ep.behaviour.answer_after), ch)
        try:
            if ring_timeout is not None and ring_timeout > 0:
                await asyncio.wait_for(ch.answered.wait(), ring_timeout * self.time_scale)
            else:
                await ch.answered.wait()
        except TimeoutError:
            ch.dial_kind = None
            if kind == "dialplan":
                self._dial_event(caller, ch, dialstring, "NOANSWER")
            # ARI's dial timeout is a soft hangup of the Stasis channel; originate just drops it.
            self.hangup(ch, 19, "ari" if kind == "ari" else "none")
            return DialOutcome.NOANSWER
        if ch.hanging_up:
            return dial_status_for_cause(ch.hangup_cause or 16)
        if ch.dial_kind is None:
            return DialOutcome.BUSY
        ch.dial_kind = None
        self._dial_event(caller, ch, dialstring, "ANSWER")
        return DialOutcome.ANSWER

    def _control_busy(self, ch: Channel, status: str, cause: int, ring_timeout: float | None) -> None:
        """The far end answered the call attempt with busy/congestion (a control frame, not a hangup)."""
        kind = ch.dial_kind
        ch.dial_kind = None
        self._dial_event(ch.dial_caller, ch, ch.dialstring or ch.resource, status)
        ch.hangup_cause = cause
        if kind != "ari":
            self.hangup(ch, cause)
            return
        # channels/dial: the channel stays (Down) in Stasis; a dial timeout still ends it.
        if ring_timeout:

            async def expire() -> None:
                await self.sleep(ring_timeout)
                self.hangup(ch, 19, "ari")

            self._spawn(expire(), ch)

    async def _answer_later(self, ch: Channel, after: float) -> None:
        await self.sleep(after)
        await self.far_end_answer(ch.id)

    def _far_end_failed(self, ch: Channel, caller: Channel | None, cause: int, kind: str) -> str:
        """The far end refused before answering: a queued hangup (originate/Dial() report the status)."""
        self.hangup(ch, cause, "queued")
        return dial_status_for_cause(cause)

    # ------------------------------------------------------------------ dialplan
    async def run_dialplan(self, ch: Channel) -> None:
        """Run the channel's dialplan from its context/exten/priority."""
        ch.runs_pbx = True
        if self._runner is not None:
            await self._runner.run(ch.id, ch.context, ch.exten, ch.priority)
            return
        self._dialplan_step(ch, "Stasis", ",".join([FALLBACK_APP, ch.context, ch.exten]))
        if not self.enter_stasis(ch, FALLBACK_APP, [ch.context, ch.exten]):
            log.warning("no application %s registered; hanging up %s", FALLBACK_APP, ch.name)
            self.hangup(ch, 16)

    # ------------------------------------------------------------------ control side (far ends)
    async def place_call(
        self,
        to: str,
        caller_number: str,
        caller_name: str = "",
        context: str = "from-trunk",
        from_endpoint: str | None = None,
    ) -> str:
        """A call arriving at Asterisk from a trunk or a phone; returns the new channel's id."""
        tech, resource = "PJSIP", "trunk"
        if from_endpoint:
            tech, _, resource = from_endpoint.partition("/")
        ch = self._new_channel(tech, resource, "Ring")
        ch.caller = CallerId(caller_name, caller_number)
        ch.context, ch.exten, ch.priority = context, to, 1
        self._spawn(self.run_dialplan(ch), ch)
        return ch.id

    async def far_end_answer(self, channel_id: str) -> None:
        ch = self.get_channel(channel_id)
        if ch.outbound and ch.state != "Up":
            self.answer(ch)

    async def far_end_hangup(self, channel_id: str, cause: int = 16) -> None:
        self.hangup(self.get_channel(channel_id), cause, "queued")

    async def far_end_dtmf(self, channel_id: str, digits: str, duration_ms: int = 100) -> None:
        ch = self.get_channel(channel_id)
        for digit in digits:
            if ch.hanging_up:
                return
            self.receive_dtmf(ch, digit, duration_ms)
            await self.sleep(duration_ms / 1000.0)

    def receive_dtmf(self, ch: Channel, digit: str, duration_ms: int) -> None:
        """A digit arrives on `ch` from its far end."""
        self._emit_channel("ChannelDtmfReceived", ch, digit=digit, duration_ms=duration_ms)
        self._pass_dtmf_through_bridge(ch, digit, duration_ms)
        for rec in list(self.live_recordings.values()):
            if (
                rec.target_kind == "channel"
                and rec.target_id == ch.id
                and rec.state in ("recording", "paused")
                and (rec.terminate_on == "any" or digit in rec.terminate_on)
                and rec.terminate_on != "none"
            ):
                self._finish_recording(rec, "done")

    def _pass_dtmf_through_bridge(self, ch: Channel, digit: str, duration_ms: int) -> None:
        """A mixing bridge writes a member's digit to every other member (main/bridge_channel.c),
        unless the member joined with absorbDTMF; a holding bridge passes nothing."""
        bridge = self.bridges.get(ch.bridge_id or "")
        if bridge is None or bridge.bridge_type == "holding" or ch.absorb_dtmf:
            return
        for member_id in list(bridge.channels):
            member = self.channels.get(member_id)
            if member is None or member is ch or member.hanging_up:
                continue
            self._dtmf_out(member, digit, duration_ms)

    def _dtmf_out(self, ch: Channel, digit: str, duration_ms: int) -> None:
        """A digit written to `ch`: its far end hears it; a Local half hands it to the other half."""
        self._heard_add(ch.id, {"kind": "dtmf", "digit": digit})
        peer = self.channels.get(ch.local_peer) if ch.local_peer else None
        if peer is not None and not peer.hanging_up:
            self.receive_dtmf(peer, digit, duration_ms)

    # ------------------------------------------------------------------ originate / create / dial
    def _split_endpoint(self, endpoint: str) -> tuple[str, str]:
        tech, sep, resource = endpoint.partition("/")
        if not sep or not tech or not resource:
            raise AriError(400, "Invalid endpoint specified")
        if tech.upper() == "PJSIP":
            tech = "PJSIP"
        elif tech.lower() == "local":
            tech = "Local"
        else:
            # No such channel driver: the request fails like any other allocation failure.
            raise AriError(500, "Allocation failed")
        return tech, resource

    def _make_outbound(
        self, endpoint: str, channel_id: str | None, other_id: str | None
    ) -> tuple[Channel, Channel | None]:
        tech, resource = self._split_endpoint(endpoint)
        if tech == "Local":
            if "@" not in resource:
                resource = f"{resource}@default"
            one, two = self._new_local_pair(resource, channel_id, other_id)
            one.dialstring = resource
            return one, two
        if f"PJSIP/{resource}" not in self.endpoints:
            raise AriError(500, "Allocation failed")
        ch = self._new_channel("PJSIP", resource, "Down", channel_id)
        ch.dialstring = resource
        return ch, None

    def originate(self, params: dict[str, Any]) -> Channel:
        endpoint = str(params["endpoint"])
        app = params.get("app") or None
        extension = params.get("extension") or None
        if app and extension:
            raise AriError(400, "Application or extension must be specified, not both")
        if not app and not extension:
            raise AriError(400, "Application or extension must be specified")
        if params.get("originator") and params.get("formats"):
            raise AriError(400, "Originator and formats can't both be specified")
        originator = None
        if params.get("originator"):
            originator = self.channels.get(str(params["originator"]))
            if originator is None:
                raise AriError(400, "Provided originator channel was not found")
        ch, other = self._make_outbound(endpoint, params.get("channelId"), params.get("otherChannelId"))
        if other is not None:
            ch.context, ch.exten = other.context, other.exten
        # ast_dial's pre-run names the application before the app subscribes (subscribeAll sees it).
        self._dialplan_step(ch, "AppDial2", "(Outgoing Line)")
        if params.get("callerId"):
            ch.caller = parse_caller_id(str(params["callerId"]))
            ch.connected = CallerId(ch.caller.name, ch.caller.number)
        for key, value in _variables(params.get("variables")).items():
            self.set_variable(ch, key, value, report=False)
        if app:
            self.apps.setdefault(app, Application(app)).channel_ids.add(ch.id)
            if other is not None:
                self.apps[app].channel_ids.add(other.id)
        app_args = _split_args(params.get("appArgs"))
        context = str(params.get("context") or "default")
        priority = int(params.get("priority") or 1)
        timeout = params.get("timeout")
        timeout_s = float(DEFAULT_ORIGINATE_TIMEOUT if timeout is None else timeout)

        async def run() -> None:
            status = await self.call_out(ch, originator, timeout_s if timeout_s > 0 else None, "originate")
            if status != DialOutcome.ANSWER or ch.hanging_up:
                return
            if app:
                if not self.enter_stasis(ch, app, app_args):
                    self.hangup(ch, 16)
                return
            ch.context, ch.exten, ch.priority = context, str(extension), priority
            await self.run_dialplan(ch)

        self._spawn(run(), ch)
        return ch

    def create(self, params: dict[str, Any]) -> Channel:
        app = str(params["app"])
        if params.get("originator") and params.get("formats"):
            raise AriError(400, "Originator and formats can't both be specified")
        if params.get("originator") and str(params["originator"]) not in self.channels:
            raise AriError(400, "Provided originator channel was not found")
        ch, other = self._make_outbound(
            str(params["endpoint"]), params.get("channelId"), params.get("otherChannelId")
        )
        for key, value in _variables(params.get("variables")).items():
            self.set_variable(ch, key, value, report=False)
        # res/ari/resource_channels.c (create) subscribes the app to the new channel and to the
        # originator, but not to a Local channel's other half (originate does that one).
        following = self.apps.setdefault(app, Application(app)).channel_ids
        following.add(ch.id)
        if params.get("originator"):
            following.add(str(params["originator"]))
        if other is not None:
            ch.context, ch.exten = other.context, other.exten
        app_args = _split_args(params.get("appArgs"))
        self._dialplan_step(ch, "Stasis", ",".join([app, *app_args]))
        if not self.enter_stasis(ch, app, app_args):
            self.hangup(ch, 0)
            raise AriError(500, "Internal Server Error")
        return ch

    def dial(self, channel_id: str, caller_id: str | None, timeout: int | None) -> None:
        ch = self.stasis_channel(channel_id)
        caller = self.channels.get(caller_id) if caller_id else None
        if ch.state not in ("Down", "Rsrvd"):
            raise AriError(409, "Channel is not in the 'Down' state")
        if ch.dialstring is None or ch.dialed:
            raise AriError(409, "Dialing a channel not created by ARI")
        if caller is not None:
            ch.connected = CallerId(caller.caller.name, caller.caller.number)
            ch.language = caller.language
        self._spawn(self.call_out(ch, caller, float(timeout) if timeout else None, "ari"), ch)

    # ------------------------------------------------------------------ variables
    def set_variable(self, ch: Channel, name: str, value: str, report: bool = True) -> None:
        if not name:
            raise AriError(400, "Variable name is required")
        func, _, arg = name.partition("(")
        if arg.endswith(")"):
            self._write_function(ch, func.upper(), arg[:-1].lower(), value)
            return
        ch.variables[name] = value
        if report:
            self.emit(
                "ChannelVarset", {"variable": name, "value": value, "channel": ch.to_json()}, channels=[ch]
            )

    def _write_function(self, ch: Channel, func: str, arg: str, value: str) -> None:
        if func == "CALLERID":
            if arg in ("num", "number"):
                ch.caller.number = value
            elif arg == "name":
                ch.caller.name = value
            elif arg == "all":
                ch.caller = parse_caller_id(value)
            else:
                raise AriError(400, "Failed to execute function")
            self._emit_channel(
                "ChannelCallerId",
                ch,
                caller_presentation=0,
                caller_presentation_txt="Presentation Allowed, Not Screened",
            )
            return
        if func == "CONNECTEDLINE":
            if arg in ("num", "number"):
                ch.connected.number = value
            elif arg == "name":
                ch.connected.name = value
            else:
                raise AriError(400, "Failed to execute function")
            self._emit_channel("ChannelConnectedLine", ch)
            return
        if func == "CHANNEL" and arg == "language":
            ch.language = value
            return
        log.info("ignoring write of unknown function %s(%s) on %s", func, arg, ch.name)

    def get_variable(self, ch: Channel, name: str) -> str:
        if not name:
            raise AriError(400, "Variable name is required")
        func, _, arg = name.partition("(")
        if arg.endswith(")"):
            value = self._read_function(ch, func.upper(), arg[:-1].lower())
            if value is None:
                raise AriError(500, "Unable to read provided function")
            return value
        builtin = {
            "UNIQUEID": ch.id,
            "CHANNEL": ch.name,
            "EXTEN": ch.exten,
            "CONTEXT": ch.context,
            "PRIORITY": str(ch.priority),
        }
        if ch.variables.get(name):
            return ch.variables[name]
        if name in builtin:
            return builtin[name]
        if name in self.global_vars:
            return self.global_vars[name]
        raise AriError(404, "Provided variable was not found")

    @staticmethod
    def _read_function(ch: Channel, func: str, arg: str) -> str | None:
        if func == "CALLERID":
            return {
                "num": ch.caller.number,
                "number": ch.caller.number,
                "name": ch.caller.name,
                "all": f'"{ch.caller.name}" <{ch.caller.number}>',
            }.get(arg)
        if func == "CONNECTEDLINE":
            return {"num": ch.connected.number, "number": ch.connected.number, "name": ch.connected.name}.get(
                arg
            )
        if func == "CHANNEL":
            return {
                "name": ch.name,
                "state": ch.state,
                "uniqueid": ch.id,
                "language": ch.language,
                "linkedid": ch.id,
            }.get(arg)
        return None

    def set_global(self, name: str, value: str) -> None:
        self.global_vars[name] = value
        self.emit("ChannelVarset", {"variable": name, "value": value})

    def user_event(self, app_name: str, event_name: str, sources: list[str], fields: dict[str, Any]) -> None:
        """POST /events/user/{eventName}: a ChannelUserevent to one application."""
        app = self.get_app(app_name)
        body: dict[str, Any] = {"eventname": event_name}
        for source in sources:
            kind, _, ident = source.partition(":")
            if kind == "channel" and ident in self.channels:
                body["channel"] = self.channels[ident].to_json()
            elif kind == "bridge" and ident in self.bridges:
                body["bridge"] = self.bridges[ident].to_json()
            elif kind == "endpoint" and ident in self.endpoints:
                body["endpoint"] = self.endpoints[ident].to_json()
            else:
                raise AriError(422, "Event source was not found")
        body["userevent"] = fields
        self._send([app], "ChannelUserevent", body)

    # ------------------------------------------------------------------ channel operations
    def load_dialplan(self, path: str) -> None:
        """Load one extensions.conf, or several separated by os.pathsep (their contexts merge)."""
        first, *rest = [p for p in path.split(os.pathsep) if p]
        self.use_dialplan(Dialplan.load(first, *rest))

    def load_dialplan_text(self, text: str) -> None:
        self.use_dialplan(Dialplan.parse(text))

    def use_dialplan(self, dialplan: Dialplan) -> None:
        self.dialplan = dialplan
        self._runner = DialplanRunner(dialplan, EngineDialplanHost(self))

    def continue_in_dialplan(
        self,
        ch: Channel,
        context: str | None,
        extension: str | None,
        priority: int | None,
        label: str | None = None,
    ) -> None:
        if context:
            ch.context = context
        if extension:
            ch.exten = extension
        if priority is not None:
            ch.priority = priority
        elif not context and not extension:
            ch.priority += 1
        else:
            ch.priority = 1
        self._leave_stasis(ch)
        target = DialplanTarget(context or None, extension or None, priority, label)
        if ch.stasis_exit is not None and not ch.stasis_exit.done():
            ch.stasis_exit.set_result(target)
            return

        async def run() -> None:
            if self._runner is not None:
                await self._runner.run(ch.id, ch.context, ch.exten, ch.priority, label)
            else:
                self.hangup(ch, 16)

        self._spawn(run(), ch)

    def move(self, ch: Channel, app: str, args: list[str]) -> None:
        old = ch.stasis_app
        if not self.app_registered(app):
            if old is not None and old in self.apps:
                self._send(
                    [self.apps[old]],
                    "ApplicationMoveFailed",
                    {"channel": ch.to_json(), "destination": app, "args": list(args)},
                )
            return
        self._leave_stasis(ch)
        self.enter_stasis(ch, app, args)

    def send_dtmf(
        self, ch: Channel, dtmf: str, *, before: int, between: int, duration: int, after: int
    ) -> None:
        # Asterisk runs each request as a command on the channel's own queue, so a second send
        # starts only once the first one has played out (res/stasis/control.c); digits of two
        # quick requests never interleave.
        previous = ch.dtmf_sending

        async def run() -> None:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])
            await self.sleep(before / 1000.0)
            for index, digit in enumerate(dtmf):
                if ch.hanging_up:
                    return
                if digit == ",":
                    await self.sleep(0.5)
                    continue
                self._dtmf_out(ch, digit, duration)
                await self.sleep(duration / 1000.0)
                if index + 1 < len(dtmf):
                    await self.sleep(between / 1000.0)
            await self.sleep(after / 1000.0)

        ch.dtmf_sending = self._spawn(run(), ch)

    def hold(self, ch: Channel, on: bool) -> None:
        # ARI hold indicates hold toward the far end; ChannelHold/Unhold only report holds
        # that come *from* a far end, so none is emitted here (as on Asterisk).
        ch.held = on
        if on:
            self._heard_add(ch.id, {"kind": "hold"})

    def start_moh(self, ch: Channel, moh_class: str | None) -> None:
        ch.moh_class = moh_class or "default"
        self._heard_add(ch.id, {"kind": "moh", "class": ch.moh_class})

    def start_silence(self, ch: Channel) -> None:
        ch.silence = True
        self._heard_add(ch.id, {"kind": "silence"})

    def snoop(
        self, target: Channel, *, spy: str, whisper: str, app: str, args: list[str], snoop_id: str | None
    ) -> Channel:
        for label, value in (("spy", spy), ("whisper", whisper)):
            if value not in ("none", "both", "out", "in"):
                raise AriError(400, f"Invalid direction specified for {label}")
        if spy == "none" and whisper == "none":
            raise AriError(400, "Direction must be specified for at least spy or whisper")
        ch = self._new_channel("Snoop", target.id, "Up", snoop_id, f"Snoop/{target.id}-{next(self._seq):08x}")
        ch.snoop_target = target.id
        self._snoops_of.setdefault(target.id, {})[ch.id] = None
        ch.variables["SNOOP_SPY"], ch.variables["SNOOP_WHISPER"] = spy, whisper

        async def run() -> None:
            if not self.enter_stasis(ch, app, args):
                self.hangup(ch, 16)

        self._spawn(run(), ch)
        return ch

    # ------------------------------------------------------------------ bridges
    def create_bridge(self, bridge_id: str | None, types: str | None, name: str | None) -> Bridge:
        bid = bridge_id or self._new_id_uuid()
        existing = self.bridges.get(bid)
        if existing is not None:
            raise AriError(409, f"Bridge with id '{bid}' already exists")
        kinds = [t.strip() for t in (types or "mixing").split(",") if t.strip()] or ["mixing"]
        if any(k not in BRIDGE_TYPES for k in kinds):
            raise AriError(
                500, f"Unable to create bridge. Possible duplicate bridge id '{bridge_id or '(null)'}'"
            )
        bridge = Bridge(bid, kinds, name or "", _ari_time())
        self.bridges[bid] = bridge
        self.emit("BridgeCreated", {"bridge": bridge.to_json()}, bridges=[bid])
        return bridge

    def _new_id_uuid(self) -> str:
        return str(uuid.uuid4())

    def get_bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriError(404, "Bridge not found")
        return bridge

    def add_to_bridge(self, bridge: Bridge, ch: Channel, *, absorb_dtmf: bool = False) -> None:
        """Enter the bridge; a channel already bridged (even in this bridge) leaves first."""
        if ch.bridge_id is not None:
            self._leave_bridge(ch)
        ch.absorb_dtmf = absorb_dtmf
        bridge.channels.append(ch.id)
        ch.bridge_id = bridge.id
        self._bridge_follow(ch.stasis_app, bridge.id, +1)
        # Published on the bridge's topic only (main/stasis_bridges.c): an app that merely follows
        # the channel does not see it.
        self.emit(
            "ChannelEnteredBridge", {"bridge": bridge.to_json(), "channel": ch.to_json()}, bridges=[bridge.id]
        )
        if len(bridge.channels) > 1:
            for cid in bridge.channels:
                others = [o for o in bridge.channels if o != cid]
                self._heard_add(cid, {"kind": "bridged", "bridge_id": bridge.id, "with": others})
        self._announce_bridge_peers(bridge)
        if bridge.moh_class is not None:
            self._heard_add(ch.id, {"kind": "moh", "class": bridge.moh_class})

    def _announce_bridge_peers(self, bridge: Bridge) -> None:
        """BRIDGEPEER for every member after the bridge changed, as main/bridge.c sets it.

        Two members: each gets the other's name (first member first); more: each gets the others'
        names, comma separated, in joining order (at most ten). A holding bridge or a lone member
        gets nothing.
        """
        if bridge.bridge_type == "holding" or bridge.dissolved:
            return
        members = [self.channels[c] for c in bridge.channels if c in self.channels]
        # A playing announcer counts as a member (and comes first), though no event shows it.
        names = ([bridge.announcer] if bridge.announcer else []) + [m.name for m in members]
        if len(names) < 2:
            return
        offset = len(names) - len(members)
        shown = names[:11]
        for index, member in enumerate(members):
            others = [name for position, name in enumerate(shown) if position != index + offset]
            self.set_variable(member, "BRIDGEPEER", ",".join(others))

    def _leave_bridge(self, ch: Channel, keep_following: bool = False) -> None:
        """Leave the current bridge.

        `keep_following`: the channel leaves because it leaves Stasis (hang-up, continue). Asterisk's
        Stasis loop then never notices the bridge change, so the application keeps one interest in
        the bridge (res/res_stasis.c) and still gets its BridgeDestroyed; after removeChannel or a
        bridge DELETE with the channel still in Stasis it does not.
        """
        bridge = self.bridges.get(ch.bridge_id or "")
        ch.bridge_id = None
        if bridge is None:
            return
        if ch.variables.get("BRIDGEPEER"):
            self.set_variable(ch, "BRIDGEPEER", "")
        if ch.id in bridge.channels:
            bridge.channels.remove(ch.id)
        self.emit(
            "ChannelLeftBridge", {"bridge": bridge.to_json(), "channel": ch.to_json()}, bridges=[bridge.id]
        )
        if not keep_following:
            self._bridge_follow(ch.stasis_app, bridge.id, -1)
        self._announce_bridge_peers(bridge)

    def remove_from_bridge(self, bridge: Bridge, ch: Channel) -> None:
        if ch.bridge_id != bridge.id:
            raise AriError(422, "Channel not in this bridge")
        self._leave_bridge(ch)

    def destroy_bridge(self, bridge: Bridge) -> None:
        bridge.dissolved = True
        for cid in list(bridge.channels):
            member = self.channels.get(cid)
            if member is not None:
                self._leave_bridge(member)
        for pb in [
            p for p in self.playbacks.values() if p.target_kind == "bridge" and p.target_id == bridge.id
        ]:
            self._finish_playback(pb, "done")
        for rec in [
            r for r in self.live_recordings.values() if r.target_kind == "bridge" and r.target_id == bridge.id
        ]:
            self._finish_recording(rec, "done")
        self.bridges.pop(bridge.id, None)
        # Only apps still following the bridge once its members have left hear of its end.
        self._send(self._targets([], [bridge.id], []), "BridgeDestroyed", {"bridge": bridge.to_json()})
        for app in self.apps.values():
            app.bridge_refs.pop(bridge.id, None)

    def bridge_moh(self, bridge: Bridge, moh_class: str | None) -> None:
        bridge.moh_class = moh_class or "default"
        for cid in bridge.channels:
            self._heard_add(cid, {"kind": "moh", "class": bridge.moh_class})

    # ------------------------------------------------------------------ playbacks
    def play(
        self, target_kind: str, target_id: str, media: list[str], lang: str | None, playback_id: str | None
    ) -> Playback:
        pid = playback_id or self._new_id_uuid()
        if pid in self.playbacks:
            raise AriError(409, "Playback with the same id already exists")
        language = lang or "en"
        if target_kind == "channel":
            language = lang or self.channels[target_id].language
        pb = Playback(pid, list(media), target_kind, target_id, language)
        self.playbacks[pid] = pb
        owner = self.channels.get(target_id) if target_kind == "channel" else None
        pb.task = self._spawn(self._run_playback(pb), owner)
        return pb

    def _playback_channels(self, pb: Playback) -> list[Channel]:
        if pb.target_kind == "channel":
            ch = self.channels.get(pb.target_id)
            return [ch] if ch else []
        bridge = self.bridges.get(pb.target_id)
        return [self.channels[c] for c in bridge.channels if c in self.channels] if bridge else []

    def _playback_emit(self, event_type: str, pb: Playback) -> None:
        chans = self._playback_channels(pb) if pb.target_kind == "channel" else []
        bridges = [pb.target_id] if pb.target_kind == "bridge" else []
        self.emit(event_type, {"playback": pb.to_json()}, channels=chans, bridges=bridges)

    async def _run_playback(self, pb: Playback) -> None:
        queue = self._queue_of(pb)
        queue.append(pb.id)
        try:
            while queue and queue[0] != pb.id:  # noqa: ASYNC110 - queue order, checked each tick
                await asyncio.sleep(max(0.001, 0.01 * self.time_scale))
            if pb.state != "queued":
                return
            bridge = self.bridges.get(pb.target_id) if pb.target_kind == "bridge" else None
            if bridge is not None and bridge.announcer is None:
                # res/stasis/stasis_bridge.c plays through an Announcer channel joining the bridge.
                bridge.announcer = f"Announcer/ARI-{next(self._seq):08x};2"
                self._announce_bridge_peers(bridge)
            for index, media in enumerate(pb.media):
                pb.index = index
                pb.state = "playing"
                self._playback_emit("PlaybackStarted", pb)
                if media.partition(":")[0] not in MEDIA_SCHEMES:
                    self._finish_playback(pb, "failed")
                    return
                for ch in self._playback_channels(pb):
                    self._heard_add(ch.id, {"kind": "playback", "media": media})
                remaining = media_seconds(media)
                while remaining > 0:
                    step = min(remaining, 0.05)
                    await self.sleep(step)
                    if not pb.paused:
                        remaining -= step
                if index + 1 < len(pb.media):
                    # Asterisk reports the item just played, then starts the next one.
                    pb.state = "continuing"
                    self._playback_emit("PlaybackContinuing", pb)
            self._finish_playback(pb, "done")
        finally:
            if pb.id in queue:
                queue.remove(pb.id)

    def _queue_of(self, pb: Playback) -> list[str]:
        if pb.target_kind == "channel":
            ch = self.channels.get(pb.target_id)
            return ch.playback_queue if ch else []
        bridge = self.bridges.get(pb.target_id)
        return bridge.playback_queue if bridge else []

    def _finish_playback(self, pb: Playback, state: str) -> None:
        if pb.id not in self.playbacks:
            return
        was_queued = pb.state == "queued"
        pb.state = state
        del self.playbacks[pb.id]
        if pb.task is not None and pb.task is not asyncio.current_task():
            pb.task.cancel()
        queue = self._queue_of(pb)
        if pb.id in queue:
            queue.remove(pb.id)
        if not was_queued or state != "done":
            self._playback_emit("PlaybackFinished", pb)
        bridge = self.bridges.get(pb.target_id) if pb.target_kind == "bridge" else None
        if bridge is not None and bridge.announcer is not None and not bridge.playback_queue:
            bridge.announcer = None
            self._announce_bridge_peers(bridge)

    def get_playback(self, playback_id: str) -> Playback:
        pb = self.playbacks.get(playback_id)
        if pb is None:
            raise AriError(404, "Playback not found")
        return pb

    def control_playback(self, pb: Playback, operation: str) -> None:
        if operation not in ("restart", "pause", "unpause", "reverse", "forward"):
            raise AriError(400, f"Invalid operation {operation}")
        if pb.state not in ("playing", "continuing", "paused"):
            raise AriError(409, f"Can only {operation} while media is playing")
        if operation == "pause":
            pb.paused = True
            pb.state = "paused"
        elif operation == "unpause":
            pb.paused = False
            pb.state = "playing"
            self._playback_emit("PlaybackStarted", pb)

    # ------------------------------------------------------------------ recordings
    def record(
        self,
        target_kind: str,
        target_id: str,
        *,
        name: str,
        fmt: str,
        max_duration: int,
        if_exists: str,
        terminate_on: str,
        max_silence: int = 0,
    ) -> LiveRecording:
        if not name or name.startswith("/") or ".." in name:
            raise AriError(400, "Recording name invalid")
        if fmt not in KNOWN_RECORDING_FORMATS:
            raise AriError(422, "specified format is unknown on this system")
        if max_duration < 0:
            raise AriError(400, "max_duration_seconds cannot be negative")
        if if_exists not in ("fail", "overwrite", "append"):
            raise AriError(400, "ifExists invalid")
        if terminate_on not in ("none", "any", "*", "#") and not all(d in DTMF_DIGITS for d in terminate_on):
            raise AriError(400, "terminateOn invalid")
        if max_silence < 0:
            raise AriError(400, "max_silence_seconds cannot be negative")
        if name in self.live_recordings:
            raise AriError(409, f"Recording '{name}' already exists and can not be overwritten")
        base = 0.0
        stored = self.stored_recordings.get(name)
        if stored is not None:
            if if_exists == "fail":
                raise AriError(409, f"Recording '{name}' already exists and can not be overwritten")
            if if_exists == "append":
                base = stored.duration
        rec = LiveRecording(
            name, fmt, target_kind, target_id, max_duration, terminate_on, max_silence, base_seconds=base
        )
        self.live_recordings[name] = rec
        owner = self.channels.get(target_id) if target_kind == "channel" else None
        rec.task = self._spawn(self._run_recording(rec), owner)
        return rec

    def _recording_emit(self, event_type: str, rec: LiveRecording) -> None:
        chans = (
            [self.channels[rec.target_id]]
            if rec.target_kind == "channel" and rec.target_id in self.channels
            else []
        )
        bridges = [rec.target_id] if rec.target_kind == "bridge" else []
        body = rec.to_json(self._now_loop(), self.time_scale)
        self.emit(event_type, {"recording": body}, channels=chans, bridges=bridges)

    async def _run_recording(self, rec: LiveRecording) -> None:
        await asyncio.sleep(0)
        if rec.state != "queued":
            return
        rec.state = "recording"
        rec.started_at = self._now_loop()
        self._recording_emit("RecordingStarted", rec)
        limits = [n for n in (rec.max_duration, rec.max_silence) if n > 0]
        if limits:
            await self.sleep(min(limits))
            if rec.state in ("recording", "paused"):
                self._finish_recording(rec, "done")

    def _finish_recording(self, rec: LiveRecording, state: str) -> None:
        if self.live_recordings.get(rec.name) is not rec:
            return
        if rec.paused_at is not None:
            rec.paused_total += self._now_loop() - rec.paused_at
            rec.paused_at = None
        if not rec.started_at:
            rec.started_at = self._now_loop()
        rec.state = state
        del self.live_recordings[rec.name]
        if rec.task is not None and rec.task is not asyncio.current_task():
            rec.task.cancel()
        if state == "canceled":
            # Asterisk deletes the file and still reports the recording as done.
            rec.state = "done"
        elif state == "done":
            self.stored_recordings[rec.name] = StoredRecording(
                rec.name, rec.format, rec.elapsed(self._now_loop(), self.time_scale)
            )
        self._recording_emit("RecordingFailed" if state == "failed" else "RecordingFinished", rec)

    def get_live(self, name: str) -> LiveRecording:
        rec = self.live_recordings.get(name)
        if rec is None:
            raise AriError(404, "Recording not found")
        return rec

    def live_json(self, rec: LiveRecording) -> dict[str, Any]:
        return rec.to_json(self._now_loop(), self.time_scale)

    def recording_op(self, name: str, operation: str) -> None:
        rec = self.get_live(name)
        if operation == "stop":
            self._finish_recording(rec, "done")
            return
        if operation == "cancel":
            self._finish_recording(rec, "canceled")
            return
        if rec.state not in ("recording", "paused"):
            raise AriError(409, "Recording not in session")
        if operation == "pause" and rec.paused_at is None:
            rec.paused_at = self._now_loop()
            rec.state = "paused"
        elif operation == "unpause" and rec.paused_at is not None:
            rec.paused_total += self._now_loop() - rec.paused_at
            rec.paused_at = None
            rec.state = "recording"
        elif operation == "mute":
            rec.muted = True
        elif operation == "unmute":
            rec.muted = False

    def get_stored(self, name: str) -> StoredRecording:
        rec = self.stored_recordings.get(name)
        if rec is None:
            raise AriError(404, "Recording not found")
        return rec

    def copy_stored(self, name: str, destination: str) -> StoredRecording:
        source = self.get_stored(name)
        if not destination or destination.startswith("/") or ".." in destination:
            raise AriError(400, "Invalid destination recording name")
        if destination in self.stored_recordings:
            raise AriError(409, "A recording with the same name already exists on the system")
        copy = StoredRecording(destination, source.format, source.duration)
        self.stored_recordings[destination] = copy
        return copy

    # ------------------------------------------------------------------ mailboxes

    def list_mailboxes(self) -> list[Mailbox]:
        """In name order, as Asterisk lists its sorcery container."""
        return [self.mailboxes[name] for name in sorted(self.mailboxes)]

    def get_mailbox(self, name: str) -> Mailbox:
        box = self.mailboxes.get(name)
        if box is None:
            raise AriError(404, "Mailbox is does not exist")  # sic: Asterisk's wording
        return box

    def update_mailbox(self, name: str, old_messages: int, new_messages: int) -> Mailbox:
        """Set the counts, creating the mailbox when it is new (Asterisk never refuses an update)."""
        box = self.mailboxes.get(name)
        if box is None:
            box = self.mailboxes[name] = Mailbox(name)
        box.old_messages = old_messages
        box.new_messages = new_messages
        return box

    def delete_mailbox(self, name: str) -> None:
        if self.mailboxes.pop(name, None) is None:
            raise AriError(404, "Mailbox does not exist")

    # ------------------------------------------------------------------ shutdown
    async def close(self) -> None:
        """Cancel every simulated activity (server shutdown)."""
        tasks = list(self._background)
        for ch in self.channels.values():
            tasks.extend(ch.tasks)
        for pb in self.playbacks.values():
            if pb.task is not None:
                tasks.append(pb.task)
        for rec in self.live_recordings.values():
            if rec.task is not None:
                tasks.append(rec.task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _ari_time() -> str:
    return ari_timestamp()


def _split_args(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).split(",")


def _variables(value: Any) -> dict[str, str]:
    """The object under a body's `variables` key, as strings.

    The router has already taken it from under `variables`; a second `{"variables": ...}` level is
    a variable named "variables" holding an object, which Asterisk refuses, and so does this.
    """
    if not value:
        return {}
    if not isinstance(value, dict):
        raise AriError(400, "The 'variables' field must be a JSON object")
    out: dict[str, str] = {}
    for key, item in value.items():
        text = item["value"] if isinstance(item, dict) and isinstance(item.get("value"), str) else item
        if not isinstance(text, str):
            raise AriError(400, VARIABLES_SHAPE_ERROR)
        out[str(key)] = text
    return out


RunStep = Callable[[Channel], Awaitable[None]]


class EngineDialplanHost:
    """The engine as the dialplan interpreter sees it (channels by id)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _live(self, channel: str) -> Channel:
        ch = self.engine.channels.get(channel)
        if ch is None or ch.hanging_up:
            raise ChannelGone(channel)
        return ch

    async def on_dialplan_step(
        self, channel: str, *, context: str, exten: str, priority: int, app: str, app_data: str
    ) -> None:
        ch = self._live(channel)
        ch.context, ch.exten, ch.priority = context, exten, priority
        self.engine._dialplan_step(ch, app, app_data)

    async def answer(self, channel: str) -> None:
        self.engine.answer(self._live(channel))

    async def indicate(self, channel: str, indication: Indication) -> None:
        ch = self._live(channel)
        if indication == "ringing":
            self.engine._indicate_ringing(ch)
        elif indication in ("busy", "congestion"):
            self.engine._heard_add(ch.id, {"kind": indication})
            self.engine._set_state(ch, "Busy")
            peer = self.engine.channels.get(ch.local_peer or "")
            if peer is not None and peer.dial_kind is not None and not peer.answered.is_set():
                # The `;1` half reads the indication as a control frame; its hangup carries no cause.
                self.engine._control_busy(peer, indication.upper(), 0, None)

    async def play(self, channel: str, media: str) -> bool:
        ch = self._live(channel)
        self.engine._heard_add(ch.id, {"kind": "playback", "media": media})
        await self.engine.sleep(media_seconds(media))
        self._live(channel)
        return True

    async def wait(self, channel: str, seconds: float | None) -> None:
        self._live(channel)
        if seconds is None:
            await asyncio.Event().wait()
        else:
            await self.engine.sleep(seconds)
        self._live(channel)

    async def get_variable(self, channel: str, name: str) -> str | None:
        ch = self._live(channel)
        if name.upper() == "CHANNEL(ENDPOINT)":
            # Only chan_pjsip knows the item; on a Local channel it reads as empty.
            return ch.resource if ch.tech == "PJSIP" else ""
        try:
            return self.engine.get_variable(ch, name)
        except AriError:
            return None

    async def set_variable(self, channel: str, name: str, value: str) -> None:
        ch = self._live(channel)
        if name == "STASISSTATUS" and ch.variables.get(name) == value:
            return  # already reported when the channel left Stasis
        try:
            self.engine.set_variable(ch, name, value)
        except AriError:
            log.warning("cannot set %s on %s", name, ch.name)

    async def dial(
        self, channel: str, destinations: Iterable[str], ring_timeout: float | None, options: str
    ) -> str:
        engine = self.engine
        caller = self._live(channel)
        peers: list[Channel] = []
        for dest in destinations:
            try:
                peer, _other = engine._make_outbound(dest, None, None)
            except AriError:
                continue
            peer.caller = CallerId(caller.caller.name, caller.caller.number)
            peer.connected = CallerId(caller.caller.name, caller.caller.number)
            peers.append(peer)
        if not peers:
            return DialOutcome.CHANUNAVAIL
        attempts = {
            p.id: engine._spawn(engine.call_out(p, caller, ring_timeout, "dialplan"), p) for p in peers
        }
        winner: Channel | None = None
        statuses: list[str] = []
        pending = set(attempts.values())
        while pending and winner is None:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if caller.hanging_up:
                break
            for task in done:
                peer_of_task = next(p for p in peers if attempts[p.id] is task)
                if task.cancelled():
                    status = dial_status_for_cause(peer_of_task.hangup_cause or 16)
                else:
                    status = str(task.result())
                statuses.append(status)
                if status == DialOutcome.ANSWER and winner is None:
                    winner = peer_of_task
        for peer in peers:
            if peer is not winner and not peer.hanging_up:
                peer.dial_kind = None
                engine._dial_event(caller, peer, peer.dialstring or peer.resource, "CANCEL")
                engine.hangup(peer, 26 if winner is not None else 16)
        self._live(channel)
        if winner is None:
            for status in ("BUSY", "CONGESTION", "NOANSWER", "CHANUNAVAIL"):
                if status in statuses:
                    return status
            return DialOutcome.CHANUNAVAIL
        engine.answer(caller)
        for one, other in ((caller, winner), (winner, caller)):
            engine._heard_add(one.id, {"kind": "bridged", "bridge_id": "", "with": [other.id]})
        while not caller.hanging_up and not winner.hanging_up:
            await engine.sleep(0.05)
        if caller.hanging_up:
            if not winner.hanging_up:
                engine.hangup(winner, 16, "queued")
            raise ChannelGone(channel)
        return DialOutcome.ANSWER

    async def enter_stasis(self, channel: str, app: str, args: Iterable[str]) -> DialplanTarget | None:
        ch = self._live(channel)
        if not self.engine.enter_stasis(ch, app, list(args)):
            return None
        exit_future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        ch.stasis_exit = exit_future
        try:
            target = await exit_future
        finally:
            ch.stasis_exit = None
        return target if isinstance(target, DialplanTarget) else DialplanTarget()

    async def amd_result(self, channel: str) -> tuple[str, str]:
        ch = self._live(channel)
        await self.engine.sleep(1.0)
        return ch.amd

    async def hangup(self, channel: str, cause: int) -> None:
        ch = self.engine.channels.get(channel)
        if ch is None or ch.hanging_up:
            return
        self.engine.hangup(ch, cause or ch.hangup_cause or 16, "dialplan")

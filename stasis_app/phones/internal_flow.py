"""Calls from phones: extensions, 9 + number, and the feature codes dialed as a call.

The dialplan hands a phone's call over as ``Stasis(opencontact,internal,<dialed>,<endpoint>)``.
Each call runs as its own task (a small script: parse, decide, ring, bridge, wait); ARI event
handlers only resolve what the script waits for (a leg answered or ended, a playback finished) or
cancel the script when a party leaves. The script's ``finally`` releases everything it holds, so a
hang-up at any step leaves no channel or bridge behind.

External calls with recall (*25) book a recall when the number is busy or does not answer;
``recall`` runs the retries and this flow does each attempt's ARI work (``recall_attempt``).

Calls to extensions follow ``forwarding``'s decisions. Legs are originated with the Stasis
argument ``phone-leg,<call id>`` and enter the application when answered. A refused call hears why
(a playback) and is hung up; busy is a hang-up with cause 17, which the phone plays as busy tone.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError
from stasis_app.phones.classes import CallClass, may_call
from stasis_app.phones.codes import (
    CallExtension,
    CallExternal,
    CancelRecall,
    ConferenceRoom,
    ExternalWithRecall,
    Feature,
    FeatureToggle,
    Intent,
    Invalid,
    ParkedCall,
    Pickup,
    SayExtension,
    SayStatus,
    ToggleRecording,
    VoicemailCheck,
    VoicemailDeleteAll,
    parse_dialed,
    parse_target,
)
from stasis_app.phones.forwarding import (
    Decision,
    ForwardTo,
    GiveBusy,
    GiveUp,
    RingExtension,
    RingOutcome,
    SendToVoicemail,
    after_ring,
    route_to_extension,
)
from stasis_app.phones.recall import AttemptResult, Recall, RecallBook, RecallSettings, RecallState
from stasis_app.phones.services import BridgedCall, CallerInfo, CallParty, PhoneServices

log = logging.getLogger(__name__)

INTERNAL_KIND = "internal"
LEG_KIND = "phone-leg"
CAUSE_BUSY = 17
CAUSE_REJECTED = 21
CAUSE_NO_ANSWER = 19
GONE_STATUSES = frozenset({400, 404, 409, 422})
#: Longest wait for one playback to finish before going on (a stuck playback must not hold a call).
PLAYBACK_LIMIT = 60.0

_FEATURE_COLUMNS = {
    Feature.FORWARD_ALL: "forward_all",
    Feature.FORWARD_BUSY: "forward_busy",
    Feature.FORWARD_NOANSWER: "forward_noanswer",
    Feature.DND: "dnd",
    Feature.VOICEMAIL: "voicemail_enabled",
}


class Phase(enum.Enum):
    STARTING = "starting"
    RINGING = "ringing"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass
class Leg:
    """One originated channel ringing a phone or the trunk."""

    channel_id: str
    target: str
    external: bool
    answered: asyncio.Future[None]
    ended: asyncio.Future[int]
    dial_status: str = ""


@dataclass
class PickupRequest:
    picker_id: str
    accepted: asyncio.Future[bool]


@dataclass
class PhoneCall:
    call_id: str
    caller: CallerInfo
    dialed: str
    context: str
    phase: Phase = Phase.STARTING
    task: asyncio.Task[None] | None = None
    legs: dict[str, Leg] = field(default_factory=dict)
    ringing_extension: str = ""
    pickup: asyncio.Future[PickupRequest] | None = None
    peer_id: str | None = None
    peer_extension: str = ""
    bridge_id: str | None = None
    recording: str | None = None
    #: Channels a feature or service owns now: never hung up by this call.
    handed_over: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    outcome: str = ""
    detail: str = ""
    cancelled: bool = False
    releasing: bool = False
    #: Run by ``_connect`` once the other party answered, before the bridge (a recall stops the
    #: music its external party hears).
    on_connect: Callable[[], Awaitable[None]] | None = None


@dataclass(frozen=True)
class CallRecord:
    """How a phone call ended, kept for status output and tests."""

    call_id: str
    caller: str
    dialed: str
    outcome: str
    detail: str = ""


def ring_outcome(causes: list[int], statuses: list[str]) -> RingOutcome:
    """Why nobody answered, from the legs' hang-up causes and Dial statuses."""
    if "BUSY" in statuses or any(cause in (CAUSE_BUSY, CAUSE_REJECTED) for cause in causes):
        return RingOutcome.BUSY
    if any(cause in (CAUSE_NO_ANSWER, 16, 0) for cause in causes) or not causes:
        return RingOutcome.NO_ANSWER
    return RingOutcome.UNREACHABLE


class CallerLeft(Exception):
    """The caller's channel left while the script was using it."""


class InternalFlow:
    """Calls from phones, their legs, and on-demand recording of bridged calls."""

    def __init__(self, application: StasisApplication, services: PhoneServices) -> None:
        self.application = application
        self.connection: AriConnection = application.connection
        self.app_name = application.connection.settings.app
        self.services = services
        self.calls: dict[str, PhoneCall] = {}
        self.by_channel: dict[str, PhoneCall] = {}
        self.legs: dict[str, tuple[PhoneCall, Leg]] = {}
        self.playbacks: dict[str, asyncio.Future[str]] = {}
        self.history: deque[CallRecord] = deque(maxlen=1000)
        self.recordings: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._removers: list[Any] = []
        self.recalls = RecallBook(services.settings.recall, self)

    # Wiring ---------------------------------------------------------------------------------------

    def install(self) -> None:
        self.application.register_flow(INTERNAL_KIND, self.on_internal)
        self.application.register_flow(LEG_KIND, self.on_leg_answered)
        conn = self.connection
        self._removers += [
            conn.on("StasisEnd", self._on_stasis_end),
            conn.on("ChannelDestroyed", self._on_channel_destroyed),
            conn.on("PlaybackFinished", self._on_playback_finished),
            conn.on("Dial", self._on_dial),
        ]

    async def start(self) -> None:
        await self.services.store.load()

    async def stop(self) -> None:
        for remove in self._removers:
            remove()
        self._removers.clear()
        await self.recalls.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.create_task(guarded(), name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # Entry points ---------------------------------------------------------------------------------

    async def on_internal(self, channel: dict[str, Any], args: list[str], _app: StasisApplication) -> None:
        """StasisStart of a phone's call: ``args`` is ``[dialed, endpoint resource]``."""
        call_id = str(channel["id"])
        dialed = args[0] if args else ""
        endpoint = args[1] if len(args) > 1 else ""
        caller = channel.get("caller") or {}
        number = str(caller.get("number", ""))
        store = self.services.store
        # The endpoint is authenticated by Asterisk; caller id only stands in where there is none
        # (Local channels, which carry an empty endpoint).
        extension = endpoint if store.known(endpoint) else (number if store.known(number) else "")
        context = str((channel.get("dialplan") or {}).get("context", ""))
        call = PhoneCall(
            call_id,
            CallerInfo(number or extension, str(caller.get("name", "")), extension),
            dialed,
            context,
        )
        self.calls[call_id] = call
        self.by_channel[call_id] = call
        call.task = self._spawn(self._run(call), f"phone call {call_id}")

    async def on_leg_answered(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        """A leg this flow originated was answered and entered Stasis."""
        leg_id = str(channel["id"])
        found = self.legs.get(leg_id)
        if found is None or found[1].answered.done() or found[1].ended.done():
            log.info("leg %s answered for a call that is over (%s); hanging it up", leg_id, args)
            await self._hangup(leg_id)
            return
        found[1].answered.set_result(None)

    # Events -----------------------------------------------------------------------------------------

    async def _on_stasis_end(self, event: dict[str, Any], _conn: AriConnection) -> None:
        self._party_gone(str((event.get("channel") or {}).get("id")), None)

    async def _on_channel_destroyed(self, event: dict[str, Any], _conn: AriConnection) -> None:
        cause = event.get("cause")
        self._party_gone(str((event.get("channel") or {}).get("id")), cause if isinstance(cause, int) else 0)

    def _party_gone(self, channel_id: str, cause: int | None) -> None:
        found = self.legs.get(channel_id)
        if found is not None:
            leg_call, leg = found
            if not leg.ended.done():
                leg.ended.set_result(cause or 0)
            if leg_call.peer_id != channel_id:
                return
        owner = self.by_channel.get(channel_id)
        if owner is None:
            return
        call = owner
        if channel_id in call.handed_over or channel_id in call.gone:
            return
        call.gone.add(channel_id)
        self._cancel(call)

    def _cancel(self, call: PhoneCall) -> None:
        if call.task is not None and not call.cancelled and not call.releasing and not call.task.done():
            call.cancelled = True
            call.task.cancel()

    async def _on_playback_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        playback = event.get("playback") or {}
        waiter = self.playbacks.pop(str(playback.get("id")), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(str(playback.get("state", "")))

    async def _on_dial(self, event: dict[str, Any], _conn: AriConnection) -> None:
        status = str(event.get("dialstatus", ""))
        peer_id = str((event.get("peer") or {}).get("id"))
        found = self.legs.get(peer_id)
        if found is None or status in ("", "RINGING", "PROGRESS", "ANSWER"):
            return
        found[1].dial_status = status
        if status in ("BUSY", "CONGESTION", "CHANUNAVAIL") and not found[1].ended.done():
            # A busy phone may keep the leg alive; the answer is known, so stop waiting for it.
            await self._hangup(peer_id)

    # The call script ----------------------------------------------------------------------------------

    async def _run(
        self, call: PhoneCall, script: Callable[[PhoneCall], Awaitable[None]] | None = None
    ) -> None:
        try:
            await (script or self._dispatch)(call)
        except asyncio.CancelledError:
            call.outcome = call.outcome or ("hangup" if call.phase is not Phase.CONNECTED else "completed")
        except CallerLeft:
            call.outcome = call.outcome or "hangup"
        except Exception as exc:
            log.exception(
                "phone call %s (%s dialed %r) failed", call.call_id, call.caller.number, call.dialed
            )
            call.outcome = "failed"
            call.detail = repr(exc)
            if call.call_id not in call.gone and call.call_id not in call.handed_over:
                call.handed_over.add(call.call_id)
                await self.application.send_back(call.call_id, f"phone call failed: {exc!r}")
        finally:
            await self._release(call)

    async def _dispatch(self, call: PhoneCall) -> None:
        settings = self.services.settings
        store = self.services.store
        features = call.context in settings.feature_contexts if call.context else True
        intent: Intent = parse_dialed(call.dialed, settings.codes, store.directory(), settings.classes)
        if not features and not isinstance(intent, CallExtension | CallExternal | Invalid):
            intent = Invalid("features-not-allowed-here", call.dialed)
        log.info("phone %s dialed %r: %s", call.caller.extension or call.caller.number, call.dialed, intent)
        if (
            isinstance(intent, CallExtension | CallExternal | Pickup | ToggleRecording)
            or not call.caller.extension
        ):
            pass
        if isinstance(intent, Invalid):
            await self._refuse(call, settings.sounds.invalid_number, intent.reason)
        elif isinstance(intent, CallExtension) and not self._may_call_internal(call):
            await self._refuse(call, settings.sounds.not_allowed, "class-internal-not-allowed")
        elif isinstance(intent, CallExtension):
            await self._call_extension(call, intent.extension)
        elif isinstance(intent, CallExternal):
            await self._call_external(call, intent, on_behalf_of=call.caller.extension)
        elif not call.caller.extension:
            await self._refuse(call, settings.sounds.not_allowed, "not-an-extension")
        elif isinstance(intent, ExternalWithRecall):
            await self._call_external(call, intent.as_call(), on_behalf_of=call.caller.extension, recall=True)
        elif isinstance(intent, CancelRecall):
            await self._cancel_recalls(call)
        elif isinstance(intent, FeatureToggle):
            await self._toggle(call, intent)
        elif isinstance(intent, Pickup):
            await self._pickup(call, intent)
        elif isinstance(intent, SayExtension):
            await self._answer(call)
            await self._say(call, [settings.sounds.extension_is, f"digits:{call.caller.extension}"])
            self._finish(call, "said-extension")
        elif isinstance(intent, SayStatus):
            await self._answer(call)
            await self._say(call, self._status_media(call.caller.extension))
            self._finish(call, "said-status")
        elif isinstance(intent, ToggleRecording):
            await self._toggle_recording_by_phone(call)
        elif isinstance(intent, VoicemailCheck | VoicemailDeleteAll):
            await self._voicemail_menu(call, intent)
        elif isinstance(intent, ConferenceRoom):
            conferences = self.services.conferences
            if conferences is None:
                await self._refuse(call, settings.sounds.unavailable, "no-conference-service")
            else:
                self._hand_over(call, call.call_id, "conference")
                await conferences.join(call.call_id, intent.room, call.caller)
        elif isinstance(intent, ParkedCall):
            parking = self.services.parking
            if parking is None:
                await self._refuse(call, settings.sounds.unavailable, "no-parking-service")
            else:
                self._hand_over(call, call.call_id, "parking")
                await parking.retrieve(call.call_id, intent.slot, call.caller)

    # Calls -----------------------------------------------------------------------------------------

    async def _call_extension(
        self, call: PhoneCall, extension: str, *, campaign_allows_forwarding: bool = True
    ) -> None:
        settings = self.services.settings
        store = self.services.store
        presence = self.services.presence
        presence.claim(call.caller.extension, call.call_id)
        visited = {extension}
        decision: Decision = route_to_extension(
            store.get(extension),
            busy=presence.busy(extension),
            ring_timeout=settings.ring_timeout,
            forwarding_allowed=campaign_allows_forwarding,
            voicemail_available=self.services.voicemail is not None,
            visited=frozenset({call.caller.extension}),
        )
        current = extension
        for _hop in range(settings.max_forwards + 1):
            log.info("phone call %s to %s: %s", call.call_id, current, decision)
            if isinstance(decision, RingExtension):
                outcome = await self._ring_and_connect(
                    call,
                    [(decision.extension, settings.dial_extension(decision.extension), False)],
                    decision.timeout,
                )
                if outcome is None:
                    return
                decision = after_ring(
                    store.get(decision.extension),
                    outcome,
                    voicemail_available=self.services.voicemail is not None,
                    visited=frozenset(visited),
                )
            elif isinstance(decision, ForwardTo):
                target = parse_target(decision.target, settings.codes, store.directory(), settings.classes)
                call.detail = f"forwarded by {decision.owner} ({decision.rule}) to {decision.target}"
                if isinstance(target, CallExternal):
                    await self._call_external(call, target, on_behalf_of=decision.owner)
                    return
                if not isinstance(target, CallExtension):
                    await self._refuse(call, settings.sounds.invalid_number, "bad-forward-target")
                    return
                current = target.extension
                visited.add(current)
                decision = route_to_extension(
                    store.get(current),
                    busy=presence.busy(current),
                    ring_timeout=settings.ring_timeout,
                    voicemail_available=self.services.voicemail is not None,
                    visited=frozenset(visited),
                )
            elif isinstance(decision, SendToVoicemail):
                voicemail = self.services.voicemail
                if voicemail is None:
                    await self._busy(call, "no-voicemail")
                    return
                self._hand_over(call, call.call_id, "voicemail")
                call.detail = f"voicemail {decision.box}"
                await voicemail.leave_message(call.call_id, decision.box, call.caller)
                return
            elif isinstance(decision, GiveBusy):
                await self._busy(call, decision.reason)
                return
            elif isinstance(decision, GiveUp):
                self._finish(call, decision.reason)
                await self._hangup_caller(call, "no_answer")
                return
        await self._busy(call, "too-many-forwards")

    def _may_call_internal(self, call: PhoneCall) -> bool:
        """Extensions need the internal class to call extensions; other callers (Local channels,
        trunks sent here by the dialplan) are not extensions and are not limited by classes."""
        if not call.caller.extension:
            return True
        return CallClass.INTERNAL in self.services.store.get(call.caller.extension).call_classes

    async def _call_external(
        self, call: PhoneCall, intent: CallExternal, *, on_behalf_of: str, recall: bool = False
    ) -> None:
        settings = self.services.settings
        allowed = self.services.store.get(on_behalf_of).call_classes if on_behalf_of else frozenset()
        if intent.call_class is None:
            await self._refuse(call, settings.sounds.invalid_number, "no-call-class")
            return
        if not may_call(allowed - {CallClass.INTERNAL}, intent.call_class):
            await self._refuse(
                call, settings.sounds.not_allowed, f"class-{intent.call_class.value}-not-allowed"
            )
            return
        self.services.presence.claim(call.caller.extension, call.call_id)
        outcome = await self._ring_and_connect(
            call, [(intent.number, settings.dial_external(intent.number), True)], settings.ring_timeout
        )
        if outcome is not None and recall:
            await self._book_recall(call, intent, outcome)
        elif outcome is RingOutcome.BUSY:
            await self._busy(call, "busy")
        elif outcome is not None:
            self._finish(call, outcome.value)
            await self._hangup_caller(call, "no_answer")

    async def _ring_and_connect(
        self,
        call: PhoneCall,
        targets: list[tuple[str, str, bool]],
        ring_seconds: int,
        *,
        indicate_ringing: bool = True,
    ) -> RingOutcome | None:
        """Ring the targets; None once connected (the call is then over), else why nobody answered.

        ``indicate_ringing`` False: the caller hears something else already (an answered channel
        would get ringing generated in-band, replacing its music)."""
        call.phase = Phase.RINGING
        loop = asyncio.get_running_loop()
        call.pickup = loop.create_future()
        internal = [target for target, _dial, external in targets if not external]
        call.ringing_extension = internal[0] if internal else ""
        if indicate_ringing:
            await self._request("ring", channelId=call.call_id)
        legs: list[Leg] = []
        for target, dial, external in targets:
            leg = Leg(
                f"oc-phone-{uuid.uuid4().hex}", target, external, loop.create_future(), loop.create_future()
            )
            self.legs[leg.channel_id] = (call, leg)
            call.legs[leg.channel_id] = leg
            params: dict[str, Any] = {
                "endpoint": dial,
                "app": self.app_name,
                "appArgs": f"{LEG_KIND},{call.call_id}",
                "timeout": ring_seconds,
                "channelId": leg.channel_id,
                "callerId": call.caller.caller_id,
            }
            if dial.lower().startswith("local/"):
                params["formats"] = "ulaw"
            else:
                params["originator"] = call.call_id
            try:
                await self.connection.rest.channels.originate(**params)
            except AriRequestError as exc:
                log.info("phone call %s: %s cannot be called: %s", call.call_id, dial, exc)
                leg.ended.set_result(CAUSE_NO_ANSWER if exc.status == 408 else 20)
                continue
            legs.append(leg)
        winner: Leg | None = None
        picked: PickupRequest | None = None
        pending: set[asyncio.Future[Any]] = {leg.answered for leg in legs} | {leg.ended for leg in legs}
        pending.add(call.pickup)
        deadline = loop.time() + ring_seconds + 2.0
        while winner is None and picked is None:
            if all(leg.ended.done() for leg in call.legs.values()):
                break
            left = deadline - loop.time()
            if left <= 0:
                break
            _done, pending = await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            winner = next((leg for leg in legs if leg.answered.done() and not leg.ended.done()), None)
            if winner is None and call.pickup.done():
                picked = call.pickup.result()
        call.ringing_extension = ""
        if picked is None and call.pickup.done():
            call.pickup.result().accepted.set_result(
                False
            ) if not call.pickup.result().accepted.done() else None
        for leg in legs:
            if leg is not winner and not leg.ended.done():
                await self._hangup(leg.channel_id)
        if picked is not None:
            picked.accepted.set_result(True)
            self.by_channel[picked.picker_id] = call
            await self._connect(call, picked.picker_id, "", "picked-up")
            return None
        if winner is not None:
            await self._connect(
                call, winner.channel_id, "" if winner.external else winner.target, "connected"
            )
            return None
        causes = [leg.ended.result() for leg in call.legs.values() if leg.ended.done()]
        statuses = [leg.dial_status for leg in call.legs.values()]
        call.legs.clear()
        return ring_outcome(causes, statuses)

    async def _connect(self, call: PhoneCall, peer_id: str, peer_extension: str, outcome: str) -> None:
        """Bridge the caller with the answered (or picking-up) party, then wait until one leaves."""
        call.peer_id = peer_id
        call.peer_extension = peer_extension
        self.by_channel[peer_id] = call
        self.services.presence.claim(peer_extension, call.call_id)
        await self.connection.rest.channels.answer(channelId=call.call_id)
        if outcome == "picked-up":
            await self.connection.rest.channels.answer(channelId=peer_id)
        if peer_id in call.gone:
            raise CallerLeft(peer_id)
        if call.on_connect is not None:
            await call.on_connect()
        bridge_id = f"oc-phone-bridge-{uuid.uuid4().hex}"
        call.bridge_id = bridge_id
        await self.connection.rest.bridges.createWithId(bridgeId=bridge_id, type="mixing")
        await self.connection.rest.bridges.addChannel(bridgeId=bridge_id, channel=f"{call.call_id},{peer_id}")
        call.phase = Phase.CONNECTED
        call.outcome = outcome
        incall = self.services.incall
        if incall is not None:
            parties_allowed = self.services.settings.incall_feature_parties
            caller_kind = "phone" if call.caller.extension else "external"
            peer_kind = "phone" if peer_extension else "external"
            incall.attach(
                BridgedCall(
                    call_id=call.call_id,
                    bridge_id=bridge_id,
                    parties=[
                        CallParty(
                            call.call_id,
                            caller_kind,
                            call.caller.extension,
                            call.caller.number,
                            caller_kind in parties_allowed,
                        ),
                        CallParty(peer_id, peer_kind, peer_extension, "", peer_kind in parties_allowed),
                    ],
                    hand_over=lambda channel_id: self._hand_over(call, channel_id, "in-call feature"),
                    end=lambda: self._cancel(call),
                    toggle_recording=lambda: self._spawn(self._toggle_quietly(call), "recording toggle"),
                )
            )
        await asyncio.Event().wait()

    # Recalls (*25) -----------------------------------------------------------------------------------

    async def _book_recall(self, call: PhoneCall, intent: CallExternal, outcome: RingOutcome) -> None:
        """The number was busy or did not answer: book the recall first (the phone may hang up
        during the message), then tell the phone and hang up."""
        recall = self.recalls.book(call.caller.extension, intent.number, call.caller.caller_id)
        # Only a notice is left to hear: the phone must not count as busy for the recall's attempts.
        self.services.presence.release_call(call.call_id)
        call.outcome = "recall-booked"
        call.detail = f"{outcome.value} {recall.recall_id}"
        await self._answer(call)
        await self._say(call, list(self.services.settings.recall.booked))
        await self._hangup_caller(call)

    async def _cancel_recalls(self, call: PhoneCall) -> None:
        settings = self.services.settings.recall
        cancelled = self.recalls.cancel(call.caller.extension)
        call.outcome = "recalls-cancelled" if cancelled else "refused"
        call.detail = str(cancelled) if cancelled else "no-recall-pending"
        await self._answer(call)
        await self._say(call, list(settings.cancelled if cancelled else settings.nothing_pending))
        await self._hangup_caller(call)

    def extension_available(self, extension: str) -> bool:
        return not self.services.presence.busy(extension) and not self.services.store.get(extension).dnd

    async def recall_attempt(self, recall: Recall, settings: RecallSettings) -> AttemptResult:
        """Ring the number; once it answers it is the caller of a call to the booking extension."""
        loop = asyncio.get_running_loop()
        channel_id = f"oc-recall-{uuid.uuid4().hex}"
        call = PhoneCall(channel_id, CallerInfo(recall.number), f"recall {recall.recall_id}", "")
        leg = Leg(channel_id, recall.number, True, loop.create_future(), loop.create_future())
        self.legs[channel_id] = (call, leg)
        call.legs[channel_id] = leg
        answered = False
        try:
            try:
                await self.connection.rest.channels.originate(
                    endpoint=self.services.settings.dial_external(recall.number),
                    app=self.app_name,
                    appArgs=f"{LEG_KIND},{channel_id}",
                    timeout=settings.external_ring_seconds,
                    channelId=channel_id,
                    callerId=recall.caller_id,
                )
            except AriRequestError as exc:
                log.info("recall %s: %s cannot be called: %s", recall.recall_id, recall.number, exc)
                return AttemptResult.NO_ANSWER if exc.status == 408 else AttemptResult.UNREACHABLE
            waited: set[asyncio.Future[Any]] = {leg.answered, leg.ended}
            await asyncio.wait(
                waited,
                timeout=settings.external_ring_seconds + 2.0,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not leg.answered.done() or leg.ended.done():
                causes = [leg.ended.result()] if leg.ended.done() else []
                return AttemptResult(ring_outcome(causes, [leg.dial_status]).value)
            # From here the answered number is the caller of an ordinary call: the flow's events
            # (StasisEnd, ChannelDestroyed) cancel its script when it hangs up.
            answered = True
            recall.advance(RecallState.RINGING_EXTENSION, "number answered")
            self.calls[channel_id] = call
            self.by_channel[channel_id] = call
        finally:
            self.legs.pop(channel_id, None)
            call.legs.clear()
            if not answered and not leg.ended.done():
                await self._hangup(channel_id)

        async def connected() -> None:
            await self._request("stopMoh" if settings.music_class else "ringStop", channelId=channel_id)
            recall.advance(RecallState.CONNECTED, "extension answered")

        call.on_connect = connected
        call.task = self._spawn(
            self._run(call, lambda started: self._offer_recall(started, recall, settings)),
            f"recall call {channel_id}",
        )
        await asyncio.wait({call.task})
        if recall.state is RecallState.CONNECTED:
            return AttemptResult.COMPLETED
        if call.outcome == "failed":
            raise RuntimeError(f"recall call {channel_id} failed: {call.detail}")
        return AttemptResult.MISSED if call.outcome == "recall-missed" else AttemptResult.ABANDONED

    async def _offer_recall(self, call: PhoneCall, recall: Recall, settings: RecallSettings) -> None:
        """The number answered: it hears "please hold" and music while the extension rings."""
        await self._say(call, list(settings.please_hold))
        if settings.music_class:
            await self._request("startMoh", channelId=call.call_id, mohClass=settings.music_class)
        extension = recall.extension
        outcome = await self._ring_and_connect(
            call,
            [(extension, self.services.settings.dial_extension(extension), False)],
            settings.extension_ring_seconds,
            indicate_ringing=not settings.music_class,
        )
        if outcome is None:
            return
        call.outcome = "recall-missed"
        call.detail = f"{extension} {outcome.value}"
        await self._request("stopMoh" if settings.music_class else "ringStop", channelId=call.call_id)
        await self._say(call, list(settings.nobody_available))
        await self._hangup_caller(call)

    # Feature codes -----------------------------------------------------------------------------------

    async def _toggle(self, call: PhoneCall, intent: FeatureToggle) -> None:
        sounds = self.services.settings.sounds
        column = _FEATURE_COLUMNS[intent.feature]
        value: object = (
            intent.target
            if intent.feature in (Feature.FORWARD_ALL, Feature.FORWARD_BUSY, Feature.FORWARD_NOANSWER)
            else intent.on
        )
        await self._answer(call)
        await self.services.store.update(call.caller.extension, **{column: value})
        media = [self._feature_sound(intent.feature), sounds.activated if intent.on else sounds.deactivated]
        if intent.target:
            media.append(f"digits:{intent.target}")
        await self._say(call, media)
        self._finish(call, f"{column}={'on' if intent.on else 'off'}")

    def _feature_sound(self, feature: Feature) -> str:
        sounds = self.services.settings.sounds
        return {
            Feature.FORWARD_ALL: sounds.forward_all,
            Feature.FORWARD_BUSY: sounds.forward_busy,
            Feature.FORWARD_NOANSWER: sounds.forward_noanswer,
            Feature.DND: sounds.dnd,
            Feature.VOICEMAIL: sounds.voicemail,
        }[feature]

    def _status_media(self, extension: str) -> list[str]:
        sounds = self.services.settings.sounds
        state = self.services.store.get(extension)
        media: list[str] = []
        if state.dnd:
            media.append(sounds.dnd)
        if state.voicemail_enabled:
            media.append(sounds.voicemail)
        for feature, target in (
            (Feature.FORWARD_ALL, state.forward_all),
            (Feature.FORWARD_BUSY, state.forward_busy),
            (Feature.FORWARD_NOANSWER, state.forward_noanswer),
        ):
            if target:
                media += [self._feature_sound(feature), f"digits:{target}"]
        return [*media, sounds.activated] if media else [sounds.nothing_active]

    async def _pickup(self, call: PhoneCall, intent: Pickup) -> None:
        sounds = self.services.settings.sounds
        store = self.services.store
        if intent.group:
            group = store.get(call.caller.extension).pickup_group
            members = set(store.in_group(group)) - {call.caller.extension}
        else:
            members = {intent.extension}
        target = next(
            (
                other
                for other in self.calls.values()
                if other.phase is Phase.RINGING
                and other.ringing_extension in members
                and other.pickup is not None
                and not other.pickup.done()
                and other is not call
            ),
            None,
        )
        if target is None or target.pickup is None:
            await self._refuse(call, sounds.nothing_to_pick_up, "nothing-to-pick-up")
            return
        request = PickupRequest(call.call_id, asyncio.get_running_loop().create_future())
        target.pickup.set_result(request)
        if await asyncio.wait_for(request.accepted, 10.0):
            # The ringing call owns this channel now (it was bridged with the caller).
            call.handed_over.add(call.call_id)
            self._finish(call, f"picked-up {target.call_id}")
            return
        await self._refuse(call, sounds.nothing_to_pick_up, "answered-meanwhile")

    async def _toggle_recording_by_phone(self, call: PhoneCall) -> None:
        sounds = self.services.settings.sounds
        extension = call.caller.extension
        if not self.services.store.get(extension).record_on_demand:
            await self._refuse(call, sounds.not_allowed, "recording-not-allowed")
            return
        active = next(
            (
                other
                for other in self.calls.values()
                if other.phase is Phase.CONNECTED
                and other is not call
                and extension in (other.caller.extension, other.peer_extension)
            ),
            None,
        )
        if active is None:
            await self._refuse(call, sounds.unavailable, "no-call-to-record")
            return
        started = await self.toggle_recording(active)
        await self._answer(call)
        await self._say(call, [sounds.activated if started else sounds.deactivated])
        self._finish(call, "recording-started" if started else "recording-stopped")

    async def toggle_recording(self, call: PhoneCall) -> bool:
        """Start recording the call's bridge, or stop the recording running; True when started."""
        if call.recording is not None:
            name, call.recording = call.recording, None
            try:
                await self.connection.rest.recordings.stop(recordingName=name)
            except AriRequestError as exc:
                log.info("recording %s already stopped: %s", name, exc)
            return False
        if call.bridge_id is None:
            return False
        name = f"oc-call-{call.call_id}-{len(self.recordings) + 1}"
        await self.connection.rest.bridges.record(
            bridgeId=call.bridge_id, name=name, format="wav", ifExists="overwrite", beep=False
        )
        call.recording = name
        self.recordings.append(name)
        return True

    async def _toggle_quietly(self, call: PhoneCall) -> None:
        await self.toggle_recording(call)

    def active_call_of(self, extension: str) -> PhoneCall | None:
        return next(
            (
                call
                for call in self.calls.values()
                if call.phase is Phase.CONNECTED and extension in (call.caller.extension, call.peer_extension)
            ),
            None,
        )

    async def _voicemail_menu(self, call: PhoneCall, intent: VoicemailCheck | VoicemailDeleteAll) -> None:
        voicemail = self.services.voicemail
        if voicemail is None:
            await self._refuse(call, self.services.settings.sounds.unavailable, "no-voicemail-service")
            return
        box = intent.box or call.caller.extension
        self._hand_over(call, call.call_id, "voicemail menu")
        if isinstance(intent, VoicemailCheck):
            ask = bool(intent.box) or self.services.settings.ask_own_password
            await voicemail.check_mailbox(call.call_id, box, ask)
        else:
            await voicemail.delete_all(call.call_id, box)

    # Helpers -----------------------------------------------------------------------------------------

    def _hand_over(self, call: PhoneCall, channel_id: str, to: str) -> None:
        call.handed_over.add(channel_id)
        self.by_channel.pop(channel_id, None)
        call.outcome = call.outcome or f"handed to {to}"
        if channel_id in (call.call_id, call.peer_id) and call.phase is Phase.CONNECTED:
            # Whoever stays is still part of the bridged call until the feature ends it.
            return

    def _finish(self, call: PhoneCall, outcome: str) -> None:
        call.outcome = outcome

    async def _refuse(self, call: PhoneCall, media: str, reason: str) -> None:
        """Tell the caller why (a playback), then hang up."""
        call.outcome = "refused"
        call.detail = reason
        await self._answer(call)
        await self._say(call, [media])
        await self._hangup_caller(call)

    async def _busy(self, call: PhoneCall, reason: str) -> None:
        call.outcome = "busy"
        call.detail = call.detail or reason
        await self._hangup_caller(call, "busy")

    async def _hangup_caller(self, call: PhoneCall, reason: str = "normal") -> None:
        """The flow ends the call itself: the caller's StasisEnd must not cancel the script."""
        call.gone.add(call.call_id)
        await self._hangup(call.call_id, reason)

    async def _answer(self, call: PhoneCall) -> None:
        try:
            await self.connection.rest.channels.answer(channelId=call.call_id)
        except AriRequestError as exc:
            if exc.status in GONE_STATUSES:
                raise CallerLeft(call.call_id) from exc
            raise

    async def _say(self, call: PhoneCall, media: list[str]) -> None:
        """Play each media in turn (one playback each), waiting for each to finish."""
        loop = asyncio.get_running_loop()
        for item in media:
            playback_id = f"oc-phone-pb-{uuid.uuid4().hex}"
            waiter: asyncio.Future[str] = loop.create_future()
            self.playbacks[playback_id] = waiter
            try:
                await self.connection.rest.channels.playWithId(
                    channelId=call.call_id, playbackId=playback_id, media=item
                )
            except AriRequestError as exc:
                self.playbacks.pop(playback_id, None)
                if exc.status in GONE_STATUSES:
                    raise CallerLeft(call.call_id) from exc
                log.warning("phone call %s: cannot play %s: %s", call.call_id, item, exc)
                continue
            try:
                await asyncio.wait_for(waiter, PLAYBACK_LIMIT)
            except TimeoutError:
                log.warning("phone call %s: playback %s did not finish", call.call_id, item)
            finally:
                self.playbacks.pop(playback_id, None)

    async def _request(self, nickname: str, **params: object) -> None:
        try:
            await self.connection.rest.call("channels", nickname, **params)
        except AriError as exc:
            log.info("channels.%s %s failed: %s", nickname, params, exc)

    async def _hangup(self, channel_id: str, reason: str = "normal") -> None:
        try:
            await self.connection.rest.channels.hangup(channelId=channel_id, reason=reason)
        except AriRequestError as exc:
            if exc.status != 404:
                log.warning("hanging up %s failed: %s", channel_id, exc)
        except AriError as exc:
            log.warning("hanging up %s failed: %s", channel_id, exc)

    async def _release(self, call: PhoneCall) -> None:
        """Everything the call still holds goes: recording, legs, parties, bridge, presence."""
        call.releasing = True
        incall = self.services.incall
        if incall is not None and call.bridge_id is not None:
            try:
                incall.detach(call.call_id)
            except Exception:
                log.exception("in-call features could not detach call %s", call.call_id)
        if call.pickup is not None and call.pickup.done():
            request = call.pickup.result()
            if not request.accepted.done():
                request.accepted.set_result(False)
        elif call.pickup is not None:
            call.pickup.cancel()
        if call.recording is not None:
            try:
                await self.connection.rest.recordings.stop(recordingName=call.recording)
            except AriError as exc:
                log.info("recording %s: %s", call.recording, exc)
            call.recording = None
        for leg in list(call.legs.values()):
            if not leg.ended.done() and leg.channel_id != call.peer_id:
                await self._hangup(leg.channel_id)
        for channel_id in (call.peer_id, call.call_id):
            if channel_id and channel_id not in call.gone and channel_id not in call.handed_over:
                await self._hangup(channel_id)
        if call.bridge_id is not None:
            try:
                await self.connection.rest.bridges.destroy(bridgeId=call.bridge_id)
            except AriError as exc:
                if not (isinstance(exc, AriRequestError) and exc.status == 404):
                    log.warning("destroying bridge %s failed: %s", call.bridge_id, exc)
        call.phase = Phase.ENDED
        self.services.presence.release_call(call.call_id)
        self.calls.pop(call.call_id, None)
        for channel_id, owner in list(self.by_channel.items()):
            if owner is call:
                del self.by_channel[channel_id]
        for leg_id in list(call.legs):
            self.legs.pop(leg_id, None)
        for leg_id, (owner, _leg) in list(self.legs.items()):
            if owner is call:
                del self.legs[leg_id]
        self.history.append(
            CallRecord(
                call.call_id,
                call.caller.extension or call.caller.number,
                call.dialed,
                call.outcome or "ended",
                call.detail,
            )
        )
        log.info("phone call %s ended: %s %s", call.call_id, call.outcome, call.detail)

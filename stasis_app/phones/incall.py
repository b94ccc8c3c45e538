"""In-call DTMF features: ## blind transfer, #0 attended transfer, #3 park, ## 555XXX to a room.

Detection runs only on the parties of a bridged call whose ``features`` flag is on (phones and
agent legs by default; customers and external numbers never unless configured in
``PhoneSettings.incall_feature_parties``). Each such party has a :class:`DigitBuffer`: a digit that
may still start a code is held; a complete code fires the feature; a digit that proves the held
ones are no code releases them. The buffer also gives up a partial code after the inter-digit
timeout (``FeatureCodes.interdigit_timeout``).

What happens to digits that are not features: ARI only *reports* DTMF (ChannelDtmfReceived); it
neither holds nor swallows it. A mixing bridge passes a member's DTMF on to the other members unless
the member joined with ``absorbDTMF`` (Asterisk's main/bridge_channel.c; the simulator does the
same), so nothing is lost and nothing needs doing (``relay_digits`` off, the default); the other
party hears the feature digits too, as with Asterisk's own features. Where digits do not pass
(channels added with ``absorbDTMF``), ``relay_digits`` on re-sends the released digits to the
bridge peer with ``POST /channels/{peer}/dtmf`` as soon as the buffer proves they are not a feature,
so an IVR or a customer on the other side still gets every digit, in order, only delayed while a
code was possible. Feature digits themselves are never re-sent.

Ownership: while the call is just bridged, the flow that bridged it (internal or inbound) owns both
channels and this module only listens to digits. The moment a code fires, the conversation takes
both channels over (``BridgedCall.hand_over`` for each, then ``end()``), moves them into its own
bridge and from then on handles every hang-up itself, so that transfers, parking and rooms can
outlive the original call without the original flow hanging anybody up.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from stasis_app.phones.call_control import CallControl, Digit, Gone, Notify, Signal, Wake
from stasis_app.phones.codes import FeatureCodes
from stasis_app.phones.services import BridgedCall, CallParty, PhoneServices

log = logging.getLogger(__name__)


class FeatureCode(enum.Enum):
    BLIND_TRANSFER = "blind-transfer"
    ATTENDED_TRANSFER = "attended-transfer"
    PARK = "park"


@dataclass(frozen=True)
class BufferResult:
    """What one digit did: ``feature`` fired (or None) and ``released`` digits that are no code."""

    feature: FeatureCode | None = None
    released: str = ""


class DigitBuffer:
    """Holds digits that may start an in-call code; pure (the caller passes the time)."""

    def __init__(self, codes: dict[str, FeatureCode], timeout: float) -> None:
        if any(not code for code in codes):
            raise ValueError("in-call codes must not be empty")
        self.codes = dict(codes)
        self.timeout = timeout
        self.pending = ""
        self.last_at: float | None = None

    @classmethod
    def for_codes(cls, codes: FeatureCodes) -> DigitBuffer:
        return cls(
            {
                codes.blind_transfer: FeatureCode.BLIND_TRANSFER,
                codes.attended_transfer: FeatureCode.ATTENDED_TRANSFER,
                codes.park: FeatureCode.PARK,
            },
            codes.interdigit_timeout,
        )

    def _is_prefix(self, text: str) -> bool:
        return any(code.startswith(text) for code in self.codes)

    def deadline(self) -> float | None:
        """When the held digits stop being a possible code (None when nothing is held)."""
        if not self.pending or self.last_at is None:
            return None
        return self.last_at + self.timeout

    def expire(self, now: float) -> str:
        """Give up a partial code whose time is over; returns the digits released."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return ""
        released, self.pending, self.last_at = self.pending, "", None
        return released

    def feed(self, digit: str, now: float) -> BufferResult:
        released = self.expire(now)
        candidate = self.pending + digit
        while candidate:
            if candidate in self.codes:
                self.pending, self.last_at = "", None
                return BufferResult(self.codes[candidate], released)
            if self._is_prefix(candidate):
                self.pending, self.last_at = candidate, now
                return BufferResult(None, released)
            released += candidate[0]
            candidate = candidate[1:]
        self.pending, self.last_at = "", None
        return BufferResult(None, released)


# Conversations ------------------------------------------------------------------------------------


class CallLedger(Protocol):
    """Where a campaign call's outcome is written (queue_log / ACD); at most one of these is called."""

    def transferred(self, event: str, extension: str, context: str) -> None:
        """The call left the agent: TRANSFER, BLINDTRANSFER or ATTENDEDTRANSFER (the latter, as
        Asterisk logs a transfer that joins the target to the caller's bridge, with ``BRIDGE`` and
        the bridge id in place of extension and context)."""

    def completed(self, *, by_customer: bool) -> None:
        """The call ended with a hang-up while still the agent's."""


@dataclass
class Party:
    """One side of a conversation; ``dial`` rings this person again (empty: cannot be rung)."""

    channel_id: str
    kind: str
    extension: str = ""
    number: str = ""
    features: bool = False
    dial: str = ""
    agent: str = ""

    @property
    def label(self) -> str:
        return self.extension or self.agent or self.number or self.channel_id


@dataclass(frozen=True)
class Target:
    """Where a transfer goes: a dial string, or a conference room; ``label`` is what was asked."""

    kind: str
    dial: str = ""
    room: str = ""
    label: str = ""
    context: str = "from-internal"
    party_kind: str = "phone"
    extension: str = ""


@dataclass(frozen=True)
class Command:
    """An API request run by the conversation's task; ``reply`` gets the answer."""

    action: str
    target: Target | None
    reply: asyncio.Future[dict[str, Any]]
    room: str = ""


@dataclass
class IncallSettings:
    """What the in-call features do beyond the codes (which live in ``FeatureCodes``)."""

    relay_digits: bool = False
    park_timeout: float = 45.0
    ring_timeout: int = 20
    moh_class: str = "default"
    transfer_prompt: str = "sound:transfer"
    invalid_prompt: str = "sound:pbx-invalid"
    unavailable_prompt: str = "sound:cannot-complete-as-dialed"
    room_alone_prompt: str = "sound:conf-onlyperson"
    prompt_limit: float = 10.0


ScriptRunner = Callable[["Conversation", str, "Party", "Command | None"], Awaitable[None]]


class ConversationOver(Exception):
    """Raised inside a feature when the conversation has ended (everyone left or was handed on)."""


class Conversation:
    """A two-party call the features watch and, once a code fires, own.

    One task reads the inbox (digits, hang-ups, legs, playbacks, commands) in order; the feature
    scripts in ``transfers`` read the same inbox, so at any time exactly one piece of code decides
    what happens to the call.
    """

    def __init__(
        self,
        service: InCallService,
        parties: list[Party],
        bridge_id: str,
        *,
        origin: BridgedCall | None = None,
        ledger: CallLedger | None = None,
    ) -> None:
        self.id = f"conv-{uuid.uuid4().hex[:12]}"
        self.service = service
        self.control: CallControl = service.control
        self.parties = parties
        self.bridge_id: str | None = bridge_id
        self.origin = origin
        self.owned = origin is None
        self.ledger = ledger
        self.inbox: asyncio.Queue[Signal] = asyncio.Queue()
        self.buffers: dict[str, DigitBuffer] = {}
        self.task: asyncio.Task[None] | None = None
        self.pending: list[Signal] = []
        self.over = False
        #: The running transfer's state machine (``transfers.TransferMachine``), for status and tests.
        self.machine: Any = None
        #: Legs and bridges a running step made besides the call's own (a consultation), which
        #: ``finish`` removes too when the conversation ends in the middle of that step.
        self.side_legs: set[str] = set()
        self.side_bridges: set[str] = set()

    # Wiring ---------------------------------------------------------------------------------

    @property
    def notify(self) -> Notify:
        return self.inbox.put_nowait

    def watch(self) -> None:
        codes = self.service.codes
        for party in self.parties:
            self.service.by_channel[party.channel_id] = self
            if party.features:
                self.buffers.setdefault(party.channel_id, DigitBuffer.for_codes(codes))
            if self.owned:
                self.control.own(party.channel_id, self.notify)
            else:
                self.control.watch_digits(party.channel_id, self.notify)

    def party(self, channel_id: str) -> Party | None:
        return next((p for p in self.parties if p.channel_id == channel_id), None)

    def other(self, party: Party) -> Party:
        return next(p for p in self.parties if p is not party)

    def set_parties(self, parties: list[Party], bridge_id: str | None) -> None:
        """The conversation continues with new people (after a transfer or a return)."""
        for old in self.parties:
            if old not in parties and self.service.by_channel.get(old.channel_id) is self:
                del self.service.by_channel[old.channel_id]
                self.buffers.pop(old.channel_id, None)
        self.parties = parties
        self.bridge_id = bridge_id
        self.watch()
        presence = self.service.services.presence
        presence.release_call(self.id)
        for party in parties:
            presence.claim(party.extension if party.kind == "phone" else "", self.id)

    # Inbox ----------------------------------------------------------------------------------

    async def next(self, within: float | None = None) -> Signal | None:
        """The next new signal, or None after ``within`` seconds.

        Signals a step put back with :meth:`later` are not given out again here (a step that
        skips a signal and asks again would otherwise get the same one back at once, forever,
        without ever yielding to the event loop); the main loop takes them once the step is over.
        """
        try:
            if within is None:
                return await self.inbox.get()
            return await asyncio.wait_for(self.inbox.get(), max(0.0, within))
        except TimeoutError:
            return None

    def later(self, signal: Signal) -> None:
        """Put back a signal a feature step does not handle; the main loop takes it afterwards."""
        self.pending.append(signal)

    # Main loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while not self.over:
                signal = self.pending.pop(0) if self.pending else await self.next(self._buffer_wait())
                if signal is None:
                    await self._expire_buffers()
                    continue
                await self.handle(signal)
        except ConversationOver:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("conversation %s failed; ending it", self.id)
            if self.owned:
                await self.finish(None)
        finally:
            if self.owned and not self.over:
                await self.finish(None)
            self.service.forget(self)

    def _buffer_wait(self) -> float | None:
        deadlines = [d for d in (b.deadline() for b in self.buffers.values()) if d is not None]
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - self.service.clock())

    async def _expire_buffers(self) -> None:
        now = self.service.clock()
        for channel_id, buffer in self.buffers.items():
            released = buffer.expire(now)
            if released:
                await self._relay(channel_id, released)

    async def _relay(self, channel_id: str, digits: str) -> None:
        party = self.party(channel_id)
        if party is None or not self.service.settings.relay_digits or self.bridge_id is None:
            return
        peer = self.other(party)
        log.debug("conversation %s: relaying %r from %s to %s", self.id, digits, party.label, peer.label)
        await self.control.send_dtmf(peer.channel_id, digits)

    async def handle(self, signal: Signal) -> None:
        if isinstance(signal, Digit):
            buffer = self.buffers.get(signal.channel_id)
            party = self.party(signal.channel_id)
            if buffer is None or party is None:
                return
            result = buffer.feed(signal.digit, self.service.clock())
            if result.released:
                await self._relay(signal.channel_id, result.released)
            if result.feature is not None:
                log.info("conversation %s: %s dialed %s", self.id, party.label, result.feature.value)
                await self.run_feature(result.feature, party, None)
        elif isinstance(signal, Gone):
            if not self.owned:
                # The flow that bridged the call ends it; there is nothing left to watch.
                self.stop_watching()
                return
            await self.finish(signal.channel_id)
        elif isinstance(signal, Wake) and isinstance(signal.payload, Command):
            await self.run_command(signal.payload)

    async def run_feature(self, code: FeatureCode, actor: Party, command: Command | None) -> None:
        await self._run_script(code.value, actor, command)

    async def _run_script(self, action: str, actor: Party, command: Command | None) -> None:
        runner = self.service.runner
        if runner is None:
            _answer(command, {"ok": False, "error": "in-call features are not installed"})
            return
        if not await self.take_over():
            _answer(command, {"ok": False, "error": "the call is over"})
            return
        await runner(self, action, actor, command)

    async def run_command(self, command: Command) -> None:
        actor = next((p for p in self.parties if p.agent or p.features), None)
        if actor is None or len(self.parties) != 2:
            _answer(command, {"ok": False, "error": "the call has no party who may use features"})
            return
        if command.action == "park":
            await self.run_feature(FeatureCode.PARK, actor, command)
        elif command.action == "blind":
            await self.run_feature(FeatureCode.BLIND_TRANSFER, actor, command)
        elif command.action == "attended":
            await self.run_feature(FeatureCode.ATTENDED_TRANSFER, actor, command)
        elif command.action == "conference":
            await self._run_script("conference", actor, command)
        else:
            _answer(command, {"ok": False, "error": f"no transfer in progress to {command.action}"})

    # Ownership ------------------------------------------------------------------------------

    async def take_over(self) -> bool:
        """Own both channels from now on, in a bridge of our own; False if the call is gone."""
        if self.owned:
            return True
        origin = self.origin
        assert origin is not None
        self.owned = True
        for party in self.parties:
            origin.hand_over(party.channel_id)
            self.control.own(party.channel_id, self.notify, digits=True)
        origin.end()
        log.info("conversation %s takes over call %s", self.id, origin.call_id)
        try:
            bridge_id = await self.control.new_bridge("oc-feature-bridge")
        except Exception:
            log.exception("conversation %s: no bridge", self.id)
            await self.finish(None)
            return False
        self.bridge_id = bridge_id
        if not await self.control.bridge_add(bridge_id, *(p.channel_id for p in self.parties)):
            await self.finish(None)
            return False
        await self.control.destroy_bridge(origin.bridge_id)
        self.set_parties(list(self.parties), bridge_id)
        return True

    async def finish(self, gone_channel: str | None) -> None:
        """The conversation is over: whoever is still here is hung up and the bridge goes."""
        if self.over:
            return
        self.over = True
        gone = self.party(gone_channel) if gone_channel else None
        if self.ledger is not None:
            ledger, self.ledger = self.ledger, None
            ledger.completed(by_customer=gone is not None and gone.kind == "customer")
        for party in self.parties:
            self.control.release(party.channel_id)
            if party.channel_id != gone_channel:
                await self.control.hangup(party.channel_id)
        for leg in self.side_legs - {p.channel_id for p in self.parties}:
            self.control.release(leg)
            await self.control.hangup(leg)
        await self.control.destroy_bridge(self.bridge_id)
        for bridge_id in self.side_bridges - {self.bridge_id}:
            await self.control.destroy_bridge(bridge_id)
        self.side_legs.clear()
        self.side_bridges.clear()
        self.bridge_id = None
        log.info("conversation %s over (%s left)", self.id, gone.label if gone is not None else "nobody")

    def stop_watching(self) -> None:
        """A call the features only listened to ended without them: drop its digit watchers."""
        self.over = True
        for party in self.parties:
            if self.control.digit_owners.get(party.channel_id) == self.notify:
                del self.control.digit_owners[party.channel_id]

    def hand_on(self) -> None:
        """Everyone was handed on (to a room, the parking lot...): stop without hanging up."""
        self.over = True
        for party in self.parties:
            if self.service.by_channel.get(party.channel_id) is self:
                del self.service.by_channel[party.channel_id]

    def record_transfer(self, event: str, extension: str, context: str) -> None:
        if self.ledger is not None:
            ledger, self.ledger = self.ledger, None
            ledger.transferred(event, extension, context)

    def record_completed(self, *, by_customer: bool) -> None:
        if self.ledger is not None:
            ledger, self.ledger = self.ledger, None
            ledger.completed(by_customer=by_customer)


def _answer(command: Command | None, payload: dict[str, Any]) -> None:
    if command is not None and not command.reply.done():
        command.reply.set_result(payload)


answer_command = _answer


class InCallService:
    """Implements ``InCallFeatures``: attaches to bridged calls and runs their conversations."""

    def __init__(
        self,
        control: CallControl,
        services: PhoneServices,
        settings: IncallSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.control = control
        self.services = services
        self.settings = settings or IncallSettings(ring_timeout=services.settings.ring_timeout)
        self.clock = clock
        self.conversations: dict[str, Conversation] = {}
        self.by_channel: dict[str, Conversation] = {}
        self.by_call: dict[str, Conversation] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Filled in by the service assembly (the features call each other).
        self.parking: Any = None
        self.conferences: Any = None
        #: Runs a feature script: ``runner(conversation, action, actor, command)``.
        self.runner: ScriptRunner | None = None

    @property
    def codes(self) -> FeatureCodes:
        return self.services.settings.codes

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def stop(self) -> None:
        """No more events in; running conversations end (releasing their calls) and timers stop."""
        self.control.uninstall()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.parking is not None:
            await self.parking.close()
        if self.conferences is not None:
            await self.conferences.close()
        await self.control.release_all()

    # InCallFeatures ---------------------------------------------------------------------------

    def attach(self, call: BridgedCall, ledger: CallLedger | None = None) -> None:
        parties = [self.party_from(p) for p in call.parties]
        if not any(p.features for p in parties) or len(parties) != 2:
            return
        conv = Conversation(self, parties, call.bridge_id, origin=call, ledger=ledger)
        self.by_call[call.call_id] = conv
        self.start(conv)

    def detach(self, call_id: str) -> None:
        conv = self.by_call.pop(call_id, None)
        if conv is None or conv.owned:
            return
        for party in conv.parties:
            self.control.digit_owners.pop(party.channel_id, None)
        if conv.task is not None:
            conv.task.cancel()

    # Conversations ----------------------------------------------------------------------------

    def party_from(self, party: CallParty, agent: str = "", dial: str = "") -> Party:
        if not dial and party.kind == "phone" and party.extension:
            dial = self.services.settings.dial_extension(party.extension)
        return Party(party.channel_id, party.kind, party.extension, party.number, party.features, dial, agent)

    def start(self, conv: Conversation) -> None:
        self.conversations[conv.id] = conv
        conv.watch()
        conv.task = self.spawn(conv.run(), f"conversation {conv.id}")

    def adopt(self, parties: list[Party], bridge_id: str) -> Conversation:
        """A call the features put together themselves (a retrieved park, a call back)."""
        conv = Conversation(self, parties, bridge_id)
        self.start(conv)
        conv.set_parties(parties, bridge_id)
        return conv

    def forget(self, conv: Conversation) -> None:
        self.conversations.pop(conv.id, None)
        for channel_id, owner in list(self.by_channel.items()):
            if owner is conv:
                del self.by_channel[channel_id]
        for call_id, owner in list(self.by_call.items()):
            if owner is conv:
                del self.by_call[call_id]
        self.services.presence.release_call(conv.id)

    def features_for(self, kind: str) -> bool:
        return kind in self.services.settings.incall_feature_parties

    def party_for_target(self, target: Target, channel_id: str) -> Party:
        return Party(
            channel_id,
            target.party_kind,
            target.extension,
            target.label if target.party_kind != "phone" else "",
            self.features_for(target.party_kind),
            target.dial,
        )

    def submit(self, channel_id: str, command: Command) -> bool:
        """Hand an API command to the conversation ``channel_id`` is in; False if there is none."""
        conv = self.by_channel.get(channel_id)
        if conv is None or conv.over:
            return False
        conv.inbox.put_nowait(Wake("command", command))
        return True

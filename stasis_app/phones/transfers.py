"""Blind (##) and attended (#0) transfers, parking (#3) and moves to rooms, as explicit state machines.

``TransferMachine`` is pure: it knows which event may move a transfer from one state to the next,
records every transition with the time (clock injected) and logs it, and refuses anything else, so
a transfer can never be in two states at once or skip a step. The scripts below drive the ARI side
of a :class:`~stasis_app.phones.incall.Conversation` and fire the machine at each step.

Blind: ``TALKING -code-> COLLECTING -dialed-> RINGING_TARGET -answered-> COMPLETED``; the
transferrer is released when the target starts ringing; ``no-answer`` rings the transferrer back
(``CALLING_BACK -answered-> RETURNED``). Attended: ``COLLECTING -dialed-> CONSULT_RINGING
-answered-> CONSULTING``; the other party waits on hold (music) meanwhile; ``transferrer-left`` or
``complete`` connects the other party with the target; ``abort`` (*) or ``target-left`` returns to
the original call. A party hanging up at any step ends only what that party was part of.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from stasis_app.phones.call_control import Digit, Gone, LegDown, LegUp, Played, Signal, Wake
from stasis_app.phones.codes import ConferenceRoom, Invalid, parse_dialed, strip_send_key
from stasis_app.phones.incall import (
    Command,
    Conversation,
    ConversationOver,
    FeatureCode,
    Party,
    Target,
    answer_command,
)
from stasis_app.phones.services import PhoneServices

log = logging.getLogger(__name__)


class TransferState(enum.Enum):
    TALKING = "talking"
    COLLECTING = "collecting"
    RINGING_TARGET = "ringing-target"
    CALLING_BACK = "calling-back"
    CONSULT_RINGING = "consult-ringing"
    CONSULTING = "consulting"
    COMPLETED = "completed"
    RETURNED = "returned"
    TO_ROOM = "to-room"
    ENDED = "ended"


S = TransferState
FINAL = frozenset({S.COMPLETED, S.RETURNED, S.TO_ROOM, S.ENDED})

BLIND_STEPS: dict[tuple[TransferState, str], TransferState] = {
    (S.TALKING, "code"): S.COLLECTING,
    (S.TALKING, "dialed"): S.RINGING_TARGET,
    (S.COLLECTING, "invalid"): S.RETURNED,
    (S.COLLECTING, "abort"): S.RETURNED,
    (S.COLLECTING, "gone"): S.ENDED,
    (S.COLLECTING, "room"): S.TO_ROOM,
    (S.COLLECTING, "dialed"): S.RINGING_TARGET,
    (S.RINGING_TARGET, "answered"): S.COMPLETED,
    (S.RINGING_TARGET, "no-answer"): S.CALLING_BACK,
    (S.RINGING_TARGET, "gone"): S.ENDED,
    (S.CALLING_BACK, "answered"): S.RETURNED,
    (S.CALLING_BACK, "no-answer"): S.ENDED,
    (S.CALLING_BACK, "gone"): S.ENDED,
}

ATTENDED_STEPS: dict[tuple[TransferState, str], TransferState] = {
    (S.TALKING, "code"): S.COLLECTING,
    (S.TALKING, "dialed"): S.CONSULT_RINGING,
    (S.COLLECTING, "invalid"): S.RETURNED,
    (S.COLLECTING, "abort"): S.RETURNED,
    (S.COLLECTING, "gone"): S.ENDED,
    (S.COLLECTING, "room"): S.TO_ROOM,
    (S.COLLECTING, "dialed"): S.CONSULT_RINGING,
    (S.CONSULT_RINGING, "answered"): S.CONSULTING,
    (S.CONSULT_RINGING, "abort"): S.RETURNED,
    (S.CONSULT_RINGING, "no-answer"): S.RETURNED,
    (S.CONSULT_RINGING, "transferrer-left"): S.RINGING_TARGET,
    (S.CONSULT_RINGING, "other-left"): S.CONSULT_RINGING,
    (S.CONSULT_RINGING, "gone"): S.ENDED,
    (S.CONSULTING, "complete"): S.COMPLETED,
    (S.CONSULTING, "transferrer-left"): S.COMPLETED,
    (S.CONSULTING, "abort"): S.RETURNED,
    (S.CONSULTING, "target-left"): S.RETURNED,
    (S.CONSULTING, "other-left"): S.COMPLETED,
    (S.CONSULTING, "gone"): S.ENDED,
    **{key: value for key, value in BLIND_STEPS.items() if key[0] in (S.RINGING_TARGET, S.CALLING_BACK)},
}


class TransferError(Exception):
    """An event that the current state does not accept."""


@dataclass(frozen=True)
class Transition:
    at: float
    source: TransferState
    event: str
    target: TransferState


@dataclass
class TransferMachine:
    """One transfer's state; every move goes through :meth:`fire`."""

    kind: str
    steps: dict[tuple[TransferState, str], TransferState]
    clock: Callable[[], float] = time.monotonic
    label: str = ""
    state: TransferState = S.TALKING
    history: list[Transition] = field(default_factory=list)

    @classmethod
    def blind(cls, clock: Callable[[], float] = time.monotonic, label: str = "") -> TransferMachine:
        return cls("blind", BLIND_STEPS, clock, label)

    @classmethod
    def attended(cls, clock: Callable[[], float] = time.monotonic, label: str = "") -> TransferMachine:
        return cls("attended", ATTENDED_STEPS, clock, label)

    @property
    def finished(self) -> bool:
        return self.state in FINAL

    def accepts(self, event: str) -> bool:
        return (self.state, event) in self.steps

    def fire(self, event: str) -> TransferState:
        target = self.steps.get((self.state, event))
        if target is None:
            raise TransferError(f"{self.kind} transfer in {self.state.value} does not accept {event!r}")
        step = Transition(self.clock(), self.state, event, target)
        self.history.append(step)
        log.info(
            "%s transfer %s: %s --%s--> %s", self.kind, self.label, step.source.value, event, target.value
        )
        self.state = target
        return target

    def path(self) -> list[str]:
        return (
            [self.state.value]
            if not self.history
            else [self.history[0].source.value] + [step.target.value for step in self.history]
        )


# Shared steps -------------------------------------------------------------------------------------


def resolve_target(conv: Conversation, actor: Party, digits: str) -> Target | None:
    """What the transferrer dialed: a room, an extension or 9 + number (None when invalid)."""
    services = conv.service.services
    codes = services.settings.codes
    text = strip_send_key(digits, codes)
    intent = parse_dialed(text, codes, services.store.directory(), services.settings.classes)
    if isinstance(intent, ConferenceRoom):
        return Target("room", room=intent.room, label=text, context="conference")
    if isinstance(intent, Invalid) and not text:
        return None
    dial = services.dial_string(text, on_behalf_of=actor.extension)
    if dial is None:
        return None
    return dialled_target(services, text, dial)


def dialled_target(services: PhoneServices, dialled: str, dial: str) -> Target:
    """A transfer to what was dialled: a phone when it is a known extension, else an outside party."""
    internal = dialled in services.store.directory()
    return Target(
        "dial",
        dial=dial,
        label=dialled,
        party_kind="phone" if internal else "external",
        extension=dialled if internal else "",
    )


@dataclass
class Collected:
    digits: str = ""
    aborted: bool = False
    gone: str = ""


async def collect(conv: Conversation, actor: Party, *, abort_key: str) -> Collected:
    """Digits from the transferrer until the send key or a pause; ``abort_key`` first aborts."""
    codes = conv.service.codes
    digits = ""
    first_wait = max(codes.interdigit_timeout * 3, 5.0)
    while True:
        signal = await conv.next(codes.interdigit_timeout if digits else first_wait)
        if signal is None:
            return Collected(digits)
        if isinstance(signal, Gone):
            return Collected(digits, gone=signal.channel_id)
        if isinstance(signal, Digit) and signal.channel_id == actor.channel_id:
            if not digits and abort_key and signal.digit == abort_key:
                return Collected(aborted=True)
            if signal.digit == codes.send_key and digits:
                return Collected(digits)
            digits += signal.digit
        elif isinstance(signal, Wake):
            conv.later(signal)


async def hold_other(conv: Conversation, actor: Party) -> None:
    """The transferrer steps out of the call; the other party hears music on hold meanwhile."""
    if conv.bridge_id is not None:
        await conv.control.bridge_remove(conv.bridge_id, actor.channel_id)
        await conv.control.bridge_moh(conv.bridge_id, True, conv.service.settings.moh_class)


async def rejoin(conv: Conversation, actor: Party) -> None:
    """Back to the original call: music off, transferrer back in the bridge."""
    await conv.control.ring_stop(actor.channel_id)
    if conv.bridge_id is not None:
        await conv.control.bridge_moh(conv.bridge_id, False)
        if not await conv.control.bridge_add(conv.bridge_id, actor.channel_id):
            await conv.finish(None)
            raise ConversationOver


async def say(conv: Conversation, channel_id: str, media: str, *, wait: bool = False) -> None:
    """Play a prompt; with ``wait`` the script waits for it (other signals are kept for later)."""
    playback = await conv.control.play(channel_id, media, conv.notify if wait else None)
    if not wait or playback is None:
        return
    limit = conv.service.clock() + conv.service.settings.prompt_limit
    while (left := limit - conv.service.clock()) > 0:
        signal = await conv.next(left)
        if signal is None or (isinstance(signal, Played) and signal.playback_id == playback):
            return
        if isinstance(signal, Gone) and signal.channel_id == channel_id:
            conv.later(signal)
            return
        conv.later(signal)


def end_on_gone(conv: Conversation, machine: TransferMachine, gone: str) -> None:
    machine.fire("gone")
    conv.later(Gone(gone))


async def to_room(conv: Conversation, actor: Party, target: Target, event: str) -> None:
    """## 555XXX: the other party goes to the room; the transferrer's part of the call is done."""
    other = conv.other(actor)
    conferences = conv.service.conferences
    conv.record_transfer(event, target.label, "conference")
    if conv.bridge_id is not None:
        await conv.control.bridge_moh(conv.bridge_id, False)
    conv.control.release(other.channel_id)
    conv.control.release(actor.channel_id)
    conv.hand_on()
    await conv.control.hangup(actor.channel_id)
    await conv.control.destroy_bridge(conv.bridge_id)
    conv.bridge_id = None
    if conferences is None:
        await conv.control.hangup(other.channel_id)
        return
    await conferences.join_party(other, target.room)


async def ring_through(
    conv: Conversation,
    machine: TransferMachine,
    *,
    other: Party,
    target: Target,
    leg: str | None,
    actor: Party,
) -> None:
    """The other party hears ringing until the target answers; nobody answers -> the transferrer."""
    control = conv.control
    settings = conv.service.settings
    if conv.bridge_id is not None:
        await control.bridge_moh(conv.bridge_id, False)
    await control.ring(other.channel_id)
    if leg is None:
        leg = await control.originate(target.dial, conv.notify, ring_seconds=settings.ring_timeout)
    joined = await join_when_answered(conv, machine, leg, other)
    if joined is not None:
        conv.set_parties([other, conv.service.party_for_target(target, joined)], conv.bridge_id)
        return
    back = (
        await control.originate(actor.dial, conv.notify, ring_seconds=settings.ring_timeout)
        if actor.dial
        else None
    )
    joined = await join_when_answered(conv, machine, back, other)
    if joined is not None:
        returned = Party(
            joined, actor.kind, actor.extension, actor.number, actor.features, actor.dial, actor.agent
        )
        conv.set_parties([other, returned], conv.bridge_id)
        return
    conv.parties = [other]
    await conv.finish(None)
    raise ConversationOver


async def join_when_answered(
    conv: Conversation, machine: TransferMachine, leg: str | None, other: Party
) -> str | None:
    """`leg` once it answered and joined `other` in the bridge; None when it did not answer (or no
    call could be made). The machine hears "answered" or "no-answer"; `other` hanging up meanwhile
    ends the conversation."""
    if leg is not None:
        conv.side_legs.add(leg)
    answered = await wait_leg(conv, leg, other)
    if answered is None:
        raise ConversationOver
    if not answered:
        machine.fire("no-answer")
        return None
    assert leg is not None
    machine.fire("answered")
    await conv.control.ring_stop(other.channel_id)
    await conv.control.bridge_add(conv.bridge_id or "", other.channel_id, leg)
    return leg


async def wait_leg(conv: Conversation, leg: str | None, other: Party) -> bool | None:
    """True answered, False not; None when the other party hung up meanwhile (leg dropped)."""
    if leg is None:
        return False
    while True:
        signal = await conv.next()
        if isinstance(signal, LegUp) and signal.channel_id == leg:
            return True
        if isinstance(signal, LegDown) and signal.channel_id == leg:
            return False
        if isinstance(signal, Gone) and signal.channel_id == other.channel_id:
            conv.control.release(leg)
            await conv.control.hangup(leg)
            conv.parties = [other]
            await conv.finish(other.channel_id)
            return None
        if isinstance(signal, Wake) and isinstance(signal.payload, Command):
            answer_command(signal.payload, {"ok": False, "error": "a transfer is in progress"})


# Blind transfer -----------------------------------------------------------------------------------


async def blind_transfer(conv: Conversation, actor: Party, command: Command | None) -> None:
    machine = TransferMachine.blind(conv.service.clock, conv.id)
    conv.machine = machine
    other = conv.other(actor)
    await hold_other(conv, actor)
    if command is None:
        machine.fire("code")
        await say(conv, actor.channel_id, conv.service.settings.transfer_prompt)
        got = await collect(conv, actor, abort_key="")
        if got.gone:
            end_on_gone(conv, machine, got.gone)
            return
        target = resolve_target(conv, actor, got.digits) if got.digits else None
        if target is None:
            machine.fire("invalid")
            await say(conv, actor.channel_id, conv.service.settings.invalid_prompt, wait=True)
            await rejoin(conv, actor)
            return
        if target.kind == "room":
            machine.fire("room")
            await to_room(conv, actor, target, "BLINDTRANSFER")
            return
        machine.fire("dialed")
    else:
        target = command.target
        assert target is not None
        machine.fire("dialed")
    conv.record_transfer("BLINDTRANSFER", target.label, target.context)
    leg = await conv.control.originate(
        target.dial, conv.notify, ring_seconds=conv.service.settings.ring_timeout
    )
    answer_command(command, {"ok": leg is not None, "state": machine.state.value, "target": target.label})
    conv.control.release(actor.channel_id)
    await conv.control.hangup(actor.channel_id)
    conv.parties = [other]
    await ring_through(conv, machine, other=other, target=target, leg=leg, actor=actor)


# Attended transfer --------------------------------------------------------------------------------


async def attended_transfer(conv: Conversation, actor: Party, command: Command | None) -> None:
    settings = conv.service.settings
    machine = TransferMachine.attended(conv.service.clock, conv.id)
    conv.machine = machine
    other = conv.other(actor)
    control = conv.control
    await hold_other(conv, actor)
    abort_key = conv.service.codes.attended_abort
    if command is None:
        machine.fire("code")
        await say(conv, actor.channel_id, settings.transfer_prompt)
        got = await collect(conv, actor, abort_key=abort_key)
        if got.gone:
            end_on_gone(conv, machine, got.gone)
            return
        if got.aborted:
            machine.fire("abort")
            await rejoin(conv, actor)
            return
        target = resolve_target(conv, actor, got.digits) if got.digits else None
        if target is None:
            machine.fire("invalid")
            await say(conv, actor.channel_id, settings.invalid_prompt, wait=True)
            await rejoin(conv, actor)
            return
        if target.kind == "room":
            machine.fire("room")
            await to_room(conv, actor, target, "ATTENDEDTRANSFER")
            return
    else:
        target = command.target
        assert target is not None
    machine.fire("dialed")
    leg = await control.originate(target.dial, conv.notify, ring_seconds=settings.ring_timeout)
    answer_command(command, {"ok": leg is not None, "state": machine.state.value, "target": target.label})
    if leg is not None:
        conv.side_legs.add(leg)
    if leg is None:
        machine.fire("no-answer")
        await say(conv, actor.channel_id, settings.unavailable_prompt, wait=True)
        await rejoin(conv, actor)
        return
    await control.ring(actor.channel_id)
    other_left = False
    # CONSULT_RINGING
    while machine.state is S.CONSULT_RINGING:
        signal = await conv.next()
        if isinstance(signal, LegUp) and signal.channel_id == leg:
            machine.fire("answered")
        elif isinstance(signal, LegDown) and signal.channel_id == leg:
            if other_left:
                machine.fire("gone")
                conv.parties = [actor]
                await conv.finish(None)
                raise ConversationOver
            machine.fire("no-answer")
            await say(conv, actor.channel_id, settings.unavailable_prompt, wait=True)
            await rejoin(conv, actor)
            return
        elif _aborts(signal, actor, abort_key):
            machine.fire("abort")
            control.release(leg)
            await control.hangup(leg)
            _reply_wake(signal, {"ok": True, "state": machine.state.value})
            if other_left:
                await conv.finish(None)
                raise ConversationOver
            await rejoin(conv, actor)
            return
        elif isinstance(signal, Gone) and signal.channel_id == actor.channel_id:
            if other_left:
                machine.fire("gone")
                control.release(leg)
                await control.hangup(leg)
                conv.parties = []
                await conv.finish(None)
                raise ConversationOver
            machine.fire("transferrer-left")
            conv.record_transfer("ATTENDEDTRANSFER", "BRIDGE", conv.bridge_id or "")
            conv.parties = [other]
            await ring_through(conv, machine, other=other, target=target, leg=leg, actor=actor)
            return
        elif isinstance(signal, Gone) and signal.channel_id == other.channel_id:
            machine.fire("other-left")
            other_left = True
            conv.record_completed(by_customer=other.kind == "customer")
            conv.parties = [actor]
        elif isinstance(signal, Wake) and isinstance(signal.payload, Command):
            answer_command(signal.payload, {"ok": False, "error": "the target has not answered yet"})
    # CONSULTING: transferrer and target in a bridge of their own.
    await control.ring_stop(actor.channel_id)
    consult = await control.new_bridge("oc-consult-bridge")
    conv.side_bridges.add(consult)
    await control.bridge_add(consult, actor.channel_id, leg)
    target_party = conv.service.party_for_target(target, leg)
    if other_left:
        await control.destroy_bridge(conv.bridge_id)
        machine.fire("other-left")
        conv.set_parties([actor, target_party], consult)
        return
    while machine.state is S.CONSULTING:
        signal = await conv.next()
        if _aborts(signal, actor, abort_key):
            machine.fire("abort")
            control.release(leg)
            await control.hangup(leg)
            await control.destroy_bridge(consult)
            _reply_wake(signal, {"ok": True, "state": machine.state.value})
            await rejoin(conv, actor)
            return
        if isinstance(signal, Gone) and signal.channel_id == leg:
            machine.fire("target-left")
            await control.destroy_bridge(consult)
            await rejoin(conv, actor)
            return
        completing = isinstance(signal, Wake) and isinstance(signal.payload, Command)
        if completing and isinstance(signal, Wake) and signal.payload.action != "complete":
            answer_command(signal.payload, {"ok": False, "error": f"cannot {signal.payload.action} now"})
            continue
        if completing or (isinstance(signal, Gone) and signal.channel_id == actor.channel_id):
            machine.fire("complete" if completing else "transferrer-left")
            conv.record_transfer("ATTENDEDTRANSFER", "BRIDGE", conv.bridge_id or "")
            control.release(actor.channel_id)
            await control.hangup(actor.channel_id)
            if conv.bridge_id is not None:
                await control.bridge_moh(conv.bridge_id, False)
                await control.bridge_add(conv.bridge_id, leg)
            await control.destroy_bridge(consult)
            conv.set_parties([other, target_party], conv.bridge_id)
            _reply_wake(signal, {"ok": True, "state": machine.state.value})
            return
        if isinstance(signal, Gone) and signal.channel_id == other.channel_id:
            machine.fire("other-left")
            conv.record_completed(by_customer=other.kind == "customer")
            await control.destroy_bridge(conv.bridge_id)
            conv.set_parties([actor, target_party], consult)
            return


def _aborts(signal: Signal | None, actor: Party, abort_key: str) -> bool:
    if isinstance(signal, Digit):
        return signal.channel_id == actor.channel_id and bool(abort_key) and signal.digit == abort_key
    return (
        isinstance(signal, Wake) and isinstance(signal.payload, Command) and signal.payload.action == "abort"
    )


def _reply_wake(signal: Signal | None, payload: dict[str, object]) -> None:
    if isinstance(signal, Wake) and isinstance(signal.payload, Command):
        answer_command(signal.payload, dict(payload))


# Parking and rooms ----------------------------------------------------------------------------------


async def park(conv: Conversation, actor: Party, command: Command | None) -> None:
    """#3: the other party waits in a parking slot; the parker hears the slot and is released."""
    parking = conv.service.parking
    other = conv.other(actor)
    if parking is None:
        answer_command(command, {"ok": False, "error": "no parking"})
        return
    conv.control.release(other.channel_id)
    slot = await parking.park(other, actor)
    if slot is None:
        conv.control.own(other.channel_id, conv.notify)
        answer_command(command, {"ok": False, "error": "no free parking slot"})
        await say(conv, actor.channel_id, conv.service.settings.unavailable_prompt)
        return
    conv.record_transfer("TRANSFER", str(slot), "parking")
    answer_command(command, {"ok": True, "slot": slot})
    conv.parties = [actor]
    if conv.bridge_id is not None:
        await conv.control.bridge_remove(conv.bridge_id, actor.channel_id)
    await say(conv, actor.channel_id, f"digits:{slot}", wait=True)
    await conv.finish(None)
    raise ConversationOver


async def both_to_room(conv: Conversation, actor: Party, command: Command) -> None:
    """API conference: the agent and the other party both move to the room."""
    conferences = conv.service.conferences
    if conferences is None:
        answer_command(command, {"ok": False, "error": "no conference rooms"})
        return
    conv.record_transfer("TRANSFER", conv.service.codes.conference_prefix + command.room, "conference")
    for party in conv.parties:
        conv.control.release(party.channel_id)
    parties = list(conv.parties)
    conv.hand_on()
    for party in [conv.other(actor), actor] if actor in parties else parties:
        await conferences.join_party(party, command.room)
    await conv.control.destroy_bridge(conv.bridge_id)
    conv.bridge_id = None
    answer_command(command, {"ok": True, "room": command.room})
    raise ConversationOver


async def run_script(conv: Conversation, action: str, actor: Party, command: Command | None) -> None:
    """The ``InCallService.runner``: one feature script by name."""
    if action == FeatureCode.PARK.value:
        await park(conv, actor, command)
    elif action == FeatureCode.BLIND_TRANSFER.value:
        await blind_transfer(conv, actor, command)
    elif action == FeatureCode.ATTENDED_TRANSFER.value:
        await attended_transfer(conv, actor, command)
    elif action == "conference" and command is not None:
        await both_to_room(conv, actor, command)
    else:
        answer_command(command, {"ok": False, "error": f"unknown feature {action!r}"})


__all__ = [
    "ATTENDED_STEPS",
    "BLIND_STEPS",
    "TransferError",
    "TransferMachine",
    "TransferState",
    "attended_transfer",
    "blind_transfer",
    "both_to_room",
    "park",
    "resolve_target",
    "ring_through",
]

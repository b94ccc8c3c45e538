"""What the phone features share, and the plug-in points other parts implement.

``PhoneServices`` is built once per process and handed to the internal call flow, the voicemail
service, the in-call features and the inbound flow. Voicemail and in-call features are separate
modules implementing the protocols below; the internal flow hands channels to them and never
reaches into them otherwise.

Channel ownership rule: a channel handed to a protocol method belongs to the implementation from
that moment (it must hang it up or hand it on); the internal flow stops watching it. Methods are
called in their own task, outside the ARI event handlers, so they may run as long as the caller
stays on the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from stasis_app.phones.classes import CallClass, CallClassRules, may_call
from stasis_app.phones.codes import CallExtension, CallExternal, FeatureCodes, parse_target
from stasis_app.phones.forwarding import campaign_forward_target
from stasis_app.phones.recall import RecallSettings
from stasis_app.phones.settings_store import PhoneSettingsStore


@dataclass(frozen=True)
class CallerInfo:
    """Who is calling: caller-id number and name, and the extension when it is one of ours."""

    number: str
    name: str = ""
    extension: str = ""

    @property
    def caller_id(self) -> str:
        return f'"{self.name}" <{self.number}>' if self.name else self.number


@dataclass(frozen=True)
class PhoneSounds:
    """Media played by the phone features (ARI media URIs), configurable like the codes."""

    invalid_number: str = "sound:pbx-invalid"
    not_allowed: str = "sound:cannot-complete-as-dialed"
    unavailable: str = "sound:cannot-complete-as-dialed"
    nothing_to_pick_up: str = "sound:pbx-invalid"
    activated: str = "sound:activated"
    deactivated: str = "sound:de-activated"
    dnd: str = "sound:do-not-disturb"
    voicemail: str = "sound:vm-intro"
    forward_all: str = "sound:call-fwd-unconditional"
    forward_busy: str = "sound:call-fwd-on-busy"
    forward_noanswer: str = "sound:call-fwd-no-ans"
    nothing_active: str = "sound:de-activated"
    extension_is: str = "sound:extension"
    recording_started: str = "sound:beep"
    recording_stopped: str = "sound:beep"


@dataclass(frozen=True)
class PhoneSettings:
    """How phone calls are placed and which legs and contexts feature codes apply to.

    ``extension_dial`` and ``trunk_dial`` are dial strings with ``{ext}`` / ``{number}`` put in
    (``PJSIP/{ext}``, ``PJSIP/{number}@carrier1``).
    """

    codes: FeatureCodes = field(default_factory=FeatureCodes)
    classes: CallClassRules = field(default_factory=CallClassRules)
    sounds: PhoneSounds = field(default_factory=PhoneSounds)
    extension_dial: str = "PJSIP/{ext}"
    trunk_dial: str = "PJSIP/{number}@carrier1"
    #: Seconds an extension or an external number rings when no no-answer rule applies.
    ring_timeout: int = 30
    #: Dialplan contexts whose calls may use feature codes; calls from other contexts may only
    #: dial extensions and external numbers.
    feature_contexts: frozenset[str] = frozenset({"from-internal", "from-internal-stasis"})
    #: Kinds of parties on which in-call DTMF features are detected ("phone", "external", "customer").
    incall_feature_parties: frozenset[str] = frozenset({"phone"})
    #: Most forwarding hops one call may take.
    max_forwards: int = 5
    #: Ask the password when a phone checks its own mailbox (the product manual says it does).
    ask_own_password: bool = True
    #: External calls with recall (*25): interval, attempts, what the parties hear.
    recall: RecallSettings = field(default_factory=RecallSettings)

    def dial_extension(self, ext: str) -> str:
        return self.extension_dial.format(ext=ext)

    def dial_external(self, number: str) -> str:
        return self.trunk_dial.format(number=number)


# Protocols other parts implement ------------------------------------------------------------------


@runtime_checkable
class VoicemailService(Protocol):
    """Voicemail boxes (implemented by the voicemail module)."""

    async def leave_message(self, channel_id: str, box: str, caller: CallerInfo) -> None:
        """Greet the caller (channel may not be answered yet), record a message into ``box``, hang up."""

    async def check_mailbox(self, channel_id: str, box: str, ask_password: bool) -> None:
        """The mailbox menu for ``box`` (*66 / *66 + extension); three wrong passwords hang up."""

    async def delete_all(self, channel_id: str, box: str) -> None:
        """*67: ask the password, then delete every message only if the caller presses 7."""


@dataclass(frozen=True)
class CallParty:
    """One side of a bridged call. ``kind``: "phone" (an extension), "external", "customer"."""

    channel_id: str
    kind: str
    extension: str = ""
    number: str = ""
    #: Whether in-call DTMF features may be detected on this channel (see PhoneSettings).
    features: bool = False


@dataclass
class BridgedCall:
    """A two-party call the internal flow has bridged, offered to the in-call features.

    ``hand_over(channel_id)`` tells the flow that a feature now owns that channel (it is no longer
    hung up when the other party leaves); ``end()`` asks the flow to finish the call.
    """

    call_id: str
    bridge_id: str
    parties: list[CallParty]
    hand_over: Callable[[str], None]
    end: Callable[[], None]
    toggle_recording: Callable[[], object]


@runtime_checkable
class InCallFeatures(Protocol):
    """DTMF features during calls: transfers, parking, moving to a conference (in-call module)."""

    def attach(self, call: BridgedCall) -> None:
        """Start watching the call's feature-enabled parties for codes."""

    def detach(self, call_id: str) -> None:
        """The call is over; forget it."""


@runtime_checkable
class ConferenceRooms(Protocol):
    async def join(self, channel_id: str, room: str, caller: CallerInfo) -> None:
        """Put the channel into room ``room`` (created on first join)."""


@runtime_checkable
class Parking(Protocol):
    async def retrieve(self, channel_id: str, slot: int, caller: CallerInfo) -> None:
        """Connect the channel with the call parked in ``slot`` (or tell it the slot is empty)."""


# Shared state -------------------------------------------------------------------------------------


class PhonePresence:
    """Which extensions are in a call (an extension may hold several calls)."""

    def __init__(self) -> None:
        self._calls: dict[str, set[str]] = {}

    def claim(self, extension: str, call_id: str) -> None:
        if extension:
            self._calls.setdefault(extension, set()).add(call_id)

    def release(self, extension: str, call_id: str) -> None:
        calls = self._calls.get(extension)
        if calls is not None:
            calls.discard(call_id)
            if not calls:
                del self._calls[extension]

    def release_call(self, call_id: str) -> None:
        for extension in [ext for ext, calls in self._calls.items() if call_id in calls]:
            self.release(extension, call_id)

    def busy(self, extension: str) -> bool:
        return bool(self._calls.get(extension))


@dataclass
class PhoneServices:
    """The phone features' shared parts and plug-ins (set ``voicemail``/``incall``... when built)."""

    settings: PhoneSettings
    store: PhoneSettingsStore
    presence: PhonePresence = field(default_factory=PhonePresence)
    voicemail: VoicemailService | None = None
    incall: InCallFeatures | None = None
    conferences: ConferenceRooms | None = None
    parking: Parking | None = None

    def dial_string(self, target: str, *, on_behalf_of: str = "") -> str | None:
        """The dial string for ``target`` as dialed (extension or prefix + number), or None when it
        is unknown or ``on_behalf_of``'s call classes do not allow it."""
        codes = self.settings.codes
        parsed = parse_target(target, codes, self.store.directory(), self.settings.classes)
        if isinstance(parsed, CallExtension):
            return self.settings.dial_extension(parsed.extension)
        if isinstance(parsed, CallExternal):
            allowed = self.store.get(on_behalf_of).call_classes if on_behalf_of else frozenset(CallClass)
            if may_call(allowed, parsed.call_class):
                return self.settings.dial_external(parsed.number)
        return None

    def campaign_forward(self, extension: str, *, campaign_allows: bool) -> str | None:
        """For the inbound flow: where a campaign offer to ``extension`` should ring instead, as a
        dial string, or None to ring the extension itself (no forward, or the campaign forbids it)."""
        target = campaign_forward_target(self.store.get(extension), campaign_allows=campaign_allows)
        if target is None or target == extension:
            return None
        return self.dial_string(target, on_behalf_of=extension)

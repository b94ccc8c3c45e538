"""Feature codes and the parser of what a phone dialed.

Every code is a setting (``FeatureCodes``); the defaults are the product manual's. ``parse_dialed``
is pure: it turns the dialed text into an ``Intent`` using the codes, the set of known extensions and
the call-class rules, so the call flow only acts on decisions.
"""

from __future__ import annotations

import enum
from collections.abc import Container
from dataclasses import dataclass, field, fields

from stasis_app.phones.classes import CallClass, CallClassRules


class Feature(enum.Enum):
    """Per-extension switches set with feature codes."""

    FORWARD_ALL = "forward_all"
    FORWARD_BUSY = "forward_busy"
    FORWARD_NOANSWER = "forward_noanswer"
    DND = "dnd"
    VOICEMAIL = "voicemail"


@dataclass(frozen=True)
class FeatureCodes:
    """The dialable codes. Change any of them; the parser tries longer codes first."""

    pickup_group: str = "*8"
    pickup_extension_prefix: str = "*"
    forward_all_on: str = "*72"
    forward_all_off: str = "*73"
    forward_busy_on: str = "*62"
    forward_busy_off: str = "*63"
    forward_noanswer_on: str = "*64"
    forward_noanswer_off: str = "*65"
    dnd_on: str = "*78"
    dnd_off: str = "*79"
    voicemail_on: str = "*91"
    voicemail_off: str = "*92"
    voicemail_check: str = "*66"
    voicemail_delete_all: str = "*67"
    status: str = "*50"
    say_extension: str = "*75"
    record_toggle: str = "*88"
    #: Prefix of an external call with recall ("*25" + "9" + number); see ``recall``.
    external_recall: str = "*25"
    #: Cancels the extension's pending recalls (the prefix alone by default).
    recall_cancel: str = "*25"
    external_prefix: str = "9"
    conference_prefix: str = "555"
    conference_room_digits: int = 3
    park_first_slot: int = 701
    park_last_slot: int = 720
    #: Key that ends dialing on IP phones ("205#").
    send_key: str = "#"
    # In-call codes (detected on bridged legs by the in-call features, never here).
    blind_transfer: str = "##"
    attended_transfer: str = "#0"
    park: str = "#3"
    attended_abort: str = "*"
    #: Seconds between in-call digits before a partial code is given up.
    interdigit_timeout: float = 2.0

    def __post_init__(self) -> None:
        problems = [
            f.name
            for f in fields(self)
            if isinstance(getattr(self, f.name), str)
            and f.name != "attended_abort"
            and not getattr(self, f.name)
        ]
        if problems:
            raise ValueError(f"feature codes must not be empty: {', '.join(problems)}")
        if self.park_first_slot > self.park_last_slot:
            raise ValueError("park_first_slot must not exceed park_last_slot")

    def park_slots(self) -> range:
        return range(self.park_first_slot, self.park_last_slot + 1)


# Intents ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallExtension:
    extension: str


@dataclass(frozen=True)
class CallExternal:
    """``number`` without the external prefix; ``call_class`` None when no pattern matches."""

    number: str
    call_class: CallClass | None


@dataclass(frozen=True)
class ExternalWithRecall:
    """An external call that books a recall when busy or unanswered (same fields as CallExternal)."""

    number: str
    call_class: CallClass | None

    def as_call(self) -> CallExternal:
        return CallExternal(self.number, self.call_class)


@dataclass(frozen=True)
class CancelRecall:
    pass


@dataclass(frozen=True)
class FeatureToggle:
    """Switch a feature on or off; forwarding on carries its target as dialed ("214", "94013864")."""

    feature: Feature
    on: bool
    target: str = ""


@dataclass(frozen=True)
class Pickup:
    """Group pickup (``extension`` empty) or pickup of that ringing extension."""

    extension: str = ""

    @property
    def group(self) -> bool:
        return not self.extension


@dataclass(frozen=True)
class VoicemailCheck:
    """Listen to a mailbox: own (``box`` empty) or another extension's from this phone."""

    box: str = ""


@dataclass(frozen=True)
class VoicemailDeleteAll:
    box: str = ""


@dataclass(frozen=True)
class ConferenceRoom:
    room: str


@dataclass(frozen=True)
class ParkedCall:
    slot: int


@dataclass(frozen=True)
class SayStatus:
    pass


@dataclass(frozen=True)
class SayExtension:
    pass


@dataclass(frozen=True)
class ToggleRecording:
    pass


@dataclass(frozen=True)
class Invalid:
    reason: str
    dialed: str = ""


Intent = (
    CallExtension
    | CallExternal
    | ExternalWithRecall
    | CancelRecall
    | FeatureToggle
    | Pickup
    | VoicemailCheck
    | VoicemailDeleteAll
    | ConferenceRoom
    | ParkedCall
    | SayStatus
    | SayExtension
    | ToggleRecording
    | Invalid
)


@dataclass(frozen=True)
class _Exact:
    code: str
    intent: Intent


@dataclass(frozen=True)
class _Forward:
    code: str
    feature: Feature


@dataclass
class _Table:
    exact: list[_Exact] = field(default_factory=list)
    forwards: list[_Forward] = field(default_factory=list)


def _table(codes: FeatureCodes) -> _Table:
    table = _Table(
        exact=[
            _Exact(codes.forward_all_off, FeatureToggle(Feature.FORWARD_ALL, False)),
            _Exact(codes.forward_busy_off, FeatureToggle(Feature.FORWARD_BUSY, False)),
            _Exact(codes.forward_noanswer_off, FeatureToggle(Feature.FORWARD_NOANSWER, False)),
            _Exact(codes.dnd_on, FeatureToggle(Feature.DND, True)),
            _Exact(codes.dnd_off, FeatureToggle(Feature.DND, False)),
            _Exact(codes.voicemail_on, FeatureToggle(Feature.VOICEMAIL, True)),
            _Exact(codes.voicemail_off, FeatureToggle(Feature.VOICEMAIL, False)),
            _Exact(codes.voicemail_check, VoicemailCheck()),
            _Exact(codes.voicemail_delete_all, VoicemailDeleteAll()),
            _Exact(codes.status, SayStatus()),
            _Exact(codes.say_extension, SayExtension()),
            _Exact(codes.record_toggle, ToggleRecording()),
            _Exact(codes.pickup_group, Pickup()),
            _Exact(codes.recall_cancel, CancelRecall()),
        ],
        forwards=[
            _Forward(codes.forward_all_on, Feature.FORWARD_ALL),
            _Forward(codes.forward_busy_on, Feature.FORWARD_BUSY),
            _Forward(codes.forward_noanswer_on, Feature.FORWARD_NOANSWER),
        ],
    )
    table.forwards.sort(key=lambda entry: len(entry.code), reverse=True)
    return table


def strip_send_key(text: str, codes: FeatureCodes) -> str:
    """'205#' -> '205': the send key ends dialing and is not part of the number."""
    key = codes.send_key
    if text.endswith(key) and len(text) > len(key):
        return text[: -len(key)]
    return text


def parse_target(text: str, codes: FeatureCodes, directory: Container[str], rules: CallClassRules) -> Intent:
    """A call or forwarding target: an extension, or the external prefix and a number."""
    if text in directory:
        return CallExtension(text)
    prefix = codes.external_prefix
    if text.startswith(prefix) and len(text) > len(prefix):
        number = text[len(prefix) :]
        if _is_number(number):
            return CallExternal(number, rules.classify(number))
    return Invalid("unknown-extension", text)


def parse_dialed(
    text: str,
    codes: FeatureCodes,
    directory: Container[str],
    rules: CallClassRules | None = None,
) -> Intent:
    """What a phone meant by dialing ``text``. Codes win over extensions that start the same way."""
    rules = rules or CallClassRules()
    dialed = strip_send_key(text.strip(), codes)
    if not dialed:
        return Invalid("empty", text)
    table = _table(codes)
    for entry in table.exact:
        if dialed == entry.code:
            return entry.intent
    for forward in table.forwards:
        if dialed.startswith(forward.code):
            target = dialed[len(forward.code) :]
            if not target:
                return Invalid("missing-forward-target", dialed)
            parsed = parse_target(target, codes, directory, rules)
            if isinstance(parsed, Invalid) or (
                isinstance(parsed, CallExternal) and parsed.call_class is None
            ):
                return Invalid("unknown-forward-target", dialed)
            return FeatureToggle(forward.feature, True, target)
    recall = codes.external_recall
    if dialed.startswith(recall) and len(dialed) > len(recall):
        external = parse_target(dialed[len(recall) :], codes, directory, rules)
        if not isinstance(external, CallExternal):
            return Invalid("recall-needs-external-number", dialed)
        return ExternalWithRecall(external.number, external.call_class)
    for code, make in (
        (codes.voicemail_check, VoicemailCheck),
        (codes.voicemail_delete_all, VoicemailDeleteAll),
    ):
        if dialed.startswith(code) and dialed[len(code) :] in directory:
            return make(dialed[len(code) :])
    prefix = codes.pickup_extension_prefix
    if dialed.startswith(prefix) and dialed[len(prefix) :] in directory:
        return Pickup(dialed[len(prefix) :])
    if dialed in directory:
        return CallExtension(dialed)
    if dialed.isdigit():
        if int(dialed) in codes.park_slots() and len(dialed) == len(str(codes.park_last_slot)):
            return ParkedCall(int(dialed))
        room = dialed[len(codes.conference_prefix) :]
        if dialed.startswith(codes.conference_prefix) and len(room) == codes.conference_room_digits:
            return ConferenceRoom(room)
    parsed_target = parse_target(dialed, codes, directory, rules)
    if isinstance(parsed_target, Invalid):
        return Invalid("unknown-extension", dialed)
    return parsed_target


def _is_number(text: str) -> bool:
    body = text[1:] if text.startswith("+") else text
    return body.isdigit()

"""The messages that travel on the bus, as plain JSON-ready dicts.

Messages stay plain dicts so they cross a Redis channel unchanged and need no class on the
other side; the small constructors below are the one place that knows each type's fields, and
:func:`validate` checks a dict against them (the bus runs it on every publish). Types not listed
here pass with only the basic checks (a dict with a string ``type``), so a newer sender does not
break an older receiver.
"""

from __future__ import annotations

import json
from typing import Any

#: One message: a JSON object with at least a string ``type``.
Message = dict[str, Any]

#: Commands from the admin API to the Stasis app.
COMMANDS = "oc.commands"
#: Call and agent events from the Stasis app to whoever listens (the admin API's live view).
EVENTS = "oc.events"
#: Prefix of each bus instance's private reply channel (request/reply).
REPLIES_PREFIX = "oc.replies."

AGENT_LOGIN = "agent.login"
AGENT_LOGOFF = "agent.logoff"
AGENT_PAUSE = "agent.pause"
PHONE_HANGUP = "phone.hangup"
CAMPAIGNS_RELOAD = "campaigns.reload"
STATUS_SNAPSHOT = "status.snapshot"
AGENT_STATE = "agent.state"
CALL_ENTERED = "call.entered"
CALL_RINGING = "call.ringing"
CALL_CONNECTED = "call.connected"
CALL_ENDED = "call.ended"
CALL_ABANDONED = "call.abandoned"
REPLY = "reply"

#: The states an ``agent.state`` event names (the Stasis app's agent state machine).
AGENT_DISCONNECTED = "disconnected"
AGENT_FREE = "free"
AGENT_RINGING = "ringing"
AGENT_BUSY = "busy"
AGENT_WRAPUP = "wrap-up"
AGENT_PAUSED = "paused"
AGENT_STATES = (AGENT_DISCONNECTED, AGENT_FREE, AGENT_RINGING, AGENT_BUSY, AGENT_WRAPUP, AGENT_PAUSED)

_STR = (str,)
_STR_OR_NONE = (str, type(None))
_LIST_OR_NONE = (list, type(None))
_NUMBER = (int, float)

# type -> {field: accepted Python types}; every listed field is required.
_CALL_FIELDS: dict[str, tuple[type, ...]] = {"callid": _STR, "campaign": _STR, "caller": _STR}
_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    AGENT_LOGIN: {"agent": _STR, "interface": _STR, "campaigns": _LIST_OR_NONE},
    AGENT_LOGOFF: {"agent": _STR, "interface": _STR, "message": _STR},
    AGENT_PAUSE: {"agent": _STR, "paused": (bool,), "reason": _STR},
    PHONE_HANGUP: {"phone": _STR},
    CAMPAIGNS_RELOAD: {"names": _LIST_OR_NONE},
    STATUS_SNAPSHOT: {},
    AGENT_STATE: {"agent": _STR, "state": _STR, "campaigns": (list,), "since": _NUMBER},
    CALL_ENTERED: _CALL_FIELDS,
    CALL_RINGING: {**_CALL_FIELDS, "agent": _STR},
    CALL_CONNECTED: {**_CALL_FIELDS, "agent": _STR},
    CALL_ENDED: _CALL_FIELDS,
    CALL_ABANDONED: _CALL_FIELDS,
    REPLY: {"request_id": _STR, "payload": (dict,)},
}
# Optional fields that, when present, must have these types.
_OPTIONAL: dict[str, dict[str, tuple[type, ...]]] = {
    CALL_ENTERED: {"agent": _STR_OR_NONE},
    CALL_ENDED: {"agent": _STR_OR_NONE},
    CALL_ABANDONED: {"agent": _STR_OR_NONE},
}
_LIST_OF_STR_FIELDS = ("campaigns", "names")


class InvalidMessage(ValueError):
    """A message that does not have the shape its type requires."""


def validate(message: object) -> Message:
    """Return ``message`` if it is a valid message, else raise :class:`InvalidMessage`."""
    if not isinstance(message, dict):
        raise InvalidMessage(f"a message is a JSON object, not {type(message).__name__}")
    kind = message.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidMessage("a message needs a non-empty string 'type'")
    for name, types in _FIELDS.get(kind, {}).items():
        if name not in message:
            raise InvalidMessage(f"{kind}: missing field {name!r}")
        _check_field(kind, name, message[name], types)
    for name, types in _OPTIONAL.get(kind, {}).items():
        if name in message:
            _check_field(kind, name, message[name], types)
    if kind == REPLY and not isinstance(message["payload"].get("ok"), bool):
        raise InvalidMessage("reply: the payload needs a boolean 'ok'")
    return message


def _check_field(kind: str, name: str, value: object, types: tuple[type, ...]) -> None:
    # bool is an int in Python; a number field must not silently accept True.
    if isinstance(value, bool) and bool not in types:
        raise InvalidMessage(f"{kind}: field {name!r} must not be a boolean")
    if not isinstance(value, types):
        raise InvalidMessage(f"{kind}: field {name!r} has type {type(value).__name__}")
    if name in _LIST_OF_STR_FIELDS and isinstance(value, list):
        _check_strings(kind, name, value)


def _check_strings(kind: str, name: str, value: list[Any]) -> None:
    if not all(isinstance(item, str) for item in value):
        raise InvalidMessage(f"{kind}: field {name!r} must list strings")


def encode(message: Message) -> str:
    """Validate and serialise a message; raises :class:`InvalidMessage` if it is not JSON-ready."""
    validate(message)
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidMessage(f"message is not JSON-serialisable: {exc}") from exc


def decode(raw: str | bytes) -> Message:
    """Parse and validate a received message; raises :class:`InvalidMessage` on anything else."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    return validate(value)


def _build(kind: str, fields: dict[str, Any], extra: dict[str, Any]) -> Message:
    message: Message = {"type": kind, **extra, **fields}
    return validate(message)


# Commands (admin API -> Stasis app).


def agent_login(agent: str, interface: str, campaigns: list[str] | None = None) -> Message:
    """Log an agent in on a phone; ``campaigns`` None means all the agent's campaigns."""
    return _build(AGENT_LOGIN, {"agent": agent, "interface": interface, "campaigns": campaigns}, {})


def agent_logoff(agent: str, interface: str, message: str = "") -> Message:
    """Log an agent off; ``message`` says why (shown to the agent)."""
    return _build(AGENT_LOGOFF, {"agent": agent, "interface": interface, "message": message}, {})


def agent_pause(agent: str, paused: bool, reason: str = "") -> Message:
    """Pause or unpause an agent on all campaigns."""
    return _build(AGENT_PAUSE, {"agent": agent, "paused": paused, "reason": reason}, {})


def phone_hangup(phone: str) -> Message:
    """Hang up the call on a phone (extension, e.g. "1001")."""
    return _build(PHONE_HANGUP, {"phone": phone}, {})


def campaigns_reload(names: list[str] | None = None) -> Message:
    """Reload campaigns (and members) from the database; None means all."""
    return _build(CAMPAIGNS_RELOAD, {"names": names}, {})


def status_snapshot() -> Message:
    """Ask the Stasis app for its current agents and calls (to seed a live view)."""
    return _build(STATUS_SNAPSHOT, {}, {})


# Events (Stasis app -> listeners).


def agent_state(agent: str, state: str, campaigns: list[str], since: float) -> Message:
    """An agent's state changed; ``since`` is the change's Unix time in seconds."""
    return _build(AGENT_STATE, {"agent": agent, "state": state, "campaigns": campaigns, "since": since}, {})


def call_entered(callid: str, campaign: str, caller: str, **extra: Any) -> Message:
    """A caller entered a campaign's queue."""
    return _build(CALL_ENTERED, {"callid": callid, "campaign": campaign, "caller": caller}, extra)


def call_ringing(callid: str, campaign: str, caller: str, agent: str, **extra: Any) -> Message:
    """A call is being offered to an agent."""
    fields = {"callid": callid, "campaign": campaign, "caller": caller, "agent": agent}
    return _build(CALL_RINGING, fields, extra)


def call_connected(callid: str, campaign: str, caller: str, agent: str, **extra: Any) -> Message:
    """A caller and an agent are talking."""
    fields = {"callid": callid, "campaign": campaign, "caller": caller, "agent": agent}
    return _build(CALL_CONNECTED, fields, extra)


def call_ended(callid: str, campaign: str, caller: str, agent: str | None = None, **extra: Any) -> Message:
    """A call that reached an agent ended."""
    fields = {"callid": callid, "campaign": campaign, "caller": caller, "agent": agent}
    return _build(CALL_ENDED, fields, extra)


def call_abandoned(callid: str, campaign: str, caller: str, **extra: Any) -> Message:
    """A caller hung up before reaching an agent."""
    return _build(CALL_ABANDONED, {"callid": callid, "campaign": campaign, "caller": caller}, extra)


def reply(request_id: str, payload: dict[str, Any]) -> Message:
    """The answer to a request (see :meth:`bus.base.Bus.request`).

    Every payload says with a boolean ``ok`` whether the command took effect, so a requester can
    decide without knowing each command's own fields; those fields (``state``, ``campaigns``,
    ``result``, ``error``...) travel beside it.
    """
    return _build(REPLY, {"request_id": request_id, "payload": payload}, {})

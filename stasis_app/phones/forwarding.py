"""Where a call to an extension goes: ring it, forward it, voicemail, or busy (pure decisions).

Rules, in the order a PBX user expects them:
1. Unconditional forwarding (*72) sends the call on before the phone rings.
2. Do not disturb (*78): the caller gets busy.
3. The extension is already in a call: forward on busy (*62), else voicemail if enabled, else busy.
4. Otherwise it rings; when nobody answers (or the phone is unreachable): forward on no answer
   (*64), else voicemail if enabled, else the call ends. A phone that answers busy or rejects is
   treated as busy.
Calls offered by a campaign follow forwarding only when the campaign allows it. A forward never
goes back to an extension the call already visited (no loops).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from stasis_app.phones.settings_store import ExtensionSettings


class RingOutcome(enum.Enum):
    BUSY = "busy"
    NO_ANSWER = "noanswer"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class RingExtension:
    extension: str
    timeout: int


@dataclass(frozen=True)
class ForwardTo:
    """Send the call to ``target`` as dialed ("214" or "94013864"), by ``owner``'s ``rule``."""

    target: str
    owner: str
    rule: str


@dataclass(frozen=True)
class SendToVoicemail:
    box: str


@dataclass(frozen=True)
class GiveBusy:
    reason: str


@dataclass(frozen=True)
class GiveUp:
    reason: str


Decision = RingExtension | ForwardTo | SendToVoicemail | GiveBusy | GiveUp


def _usable(target: str, visited: frozenset[str]) -> bool:
    return bool(target) and target not in visited


def route_to_extension(
    settings: ExtensionSettings,
    *,
    busy: bool,
    ring_timeout: int,
    forwarding_allowed: bool = True,
    voicemail_available: bool = True,
    visited: frozenset[str] = frozenset(),
) -> Decision:
    """The first decision for a call reaching ``settings.extension``."""
    if forwarding_allowed and _usable(settings.forward_all, visited):
        return ForwardTo(settings.forward_all, settings.extension, "all")
    if settings.dnd:
        return GiveBusy("dnd")
    if busy:
        return after_ring(
            settings,
            RingOutcome.BUSY,
            forwarding_allowed=forwarding_allowed,
            voicemail_available=voicemail_available,
            visited=visited,
        )
    has_fallback = (forwarding_allowed and _usable(settings.forward_noanswer, visited)) or (
        voicemail_available and settings.voicemail_enabled
    )
    timeout = settings.noanswer_seconds if has_fallback and settings.noanswer_seconds > 0 else ring_timeout
    return RingExtension(settings.extension, timeout)


def after_ring(
    settings: ExtensionSettings,
    outcome: RingOutcome,
    *,
    forwarding_allowed: bool = True,
    voicemail_available: bool = True,
    visited: frozenset[str] = frozenset(),
) -> Decision:
    """What follows when the extension was busy, did not answer, or could not be reached."""
    voicemail = voicemail_available and settings.voicemail_enabled
    if outcome is RingOutcome.BUSY:
        if forwarding_allowed and _usable(settings.forward_busy, visited):
            return ForwardTo(settings.forward_busy, settings.extension, "busy")
        if voicemail:
            return SendToVoicemail(settings.extension)
        return GiveBusy("busy")
    if forwarding_allowed and _usable(settings.forward_noanswer, visited):
        return ForwardTo(settings.forward_noanswer, settings.extension, "noanswer")
    if voicemail:
        return SendToVoicemail(settings.extension)
    return GiveUp(outcome.value)


def campaign_forward_target(settings: ExtensionSettings | None, *, campaign_allows: bool) -> str | None:
    """For a campaign call offered to an agent's phone: the unconditional forward to use, if any.

    Agents' phones forward campaign calls only when the campaign allows it; otherwise the offer
    rings the agent's own phone as if no forwarding were set.
    """
    if settings is None or not campaign_allows or not settings.forward_all:
        return None
    return settings.forward_all

"""Forwarding decisions (pure): the order of the rules, loops, campaign calls."""

from __future__ import annotations

from stasis_app.phones.forwarding import (
    ForwardTo,
    GiveBusy,
    GiveUp,
    RingExtension,
    RingOutcome,
    SendToVoicemail,
    after_ring,
    campaign_forward_target,
    route_to_extension,
)
from stasis_app.phones.settings_store import ExtensionSettings

PLAIN = ExtensionSettings("202", noanswer_seconds=15)


def test_plain_extension_rings_for_the_ring_timeout() -> None:
    assert route_to_extension(PLAIN, busy=False, ring_timeout=30) == RingExtension("202", 30)
    assert route_to_extension(PLAIN, busy=True, ring_timeout=30) == GiveBusy("busy")
    assert after_ring(PLAIN, RingOutcome.NO_ANSWER) == GiveUp("noanswer")
    assert after_ring(PLAIN, RingOutcome.UNREACHABLE) == GiveUp("unreachable")


def test_unconditional_forward_wins_over_dnd_and_busy() -> None:
    settings = ExtensionSettings("202", forward_all="214", dnd=True)
    assert route_to_extension(settings, busy=True, ring_timeout=30) == ForwardTo("214", "202", "all")


def test_dnd_gives_busy_even_with_voicemail() -> None:
    settings = ExtensionSettings("202", dnd=True, voicemail_enabled=True, forward_busy="214")
    assert route_to_extension(settings, busy=False, ring_timeout=30) == GiveBusy("dnd")


def test_busy_forward_then_voicemail() -> None:
    both = ExtensionSettings("202", forward_busy="214", voicemail_enabled=True)
    assert route_to_extension(both, busy=True, ring_timeout=30) == ForwardTo("214", "202", "busy")
    assert after_ring(both, RingOutcome.BUSY) == ForwardTo("214", "202", "busy")
    voicemail = ExtensionSettings("202", voicemail_enabled=True)
    assert after_ring(voicemail, RingOutcome.BUSY) == SendToVoicemail("202")
    assert after_ring(voicemail, RingOutcome.BUSY, voicemail_available=False) == GiveBusy("busy")


def test_no_answer_forward_shortens_the_ring() -> None:
    settings = ExtensionSettings("202", forward_noanswer="94013864", noanswer_seconds=12)
    assert route_to_extension(settings, busy=False, ring_timeout=30) == RingExtension("202", 12)
    assert after_ring(settings, RingOutcome.NO_ANSWER) == ForwardTo("94013864", "202", "noanswer")
    assert after_ring(settings, RingOutcome.UNREACHABLE) == ForwardTo("94013864", "202", "noanswer")
    voicemail = ExtensionSettings("202", voicemail_enabled=True, noanswer_seconds=12)
    assert route_to_extension(voicemail, busy=False, ring_timeout=30) == RingExtension("202", 12)
    assert after_ring(voicemail, RingOutcome.NO_ANSWER) == SendToVoicemail("202")


def test_forward_loops_are_not_followed() -> None:
    settings = ExtensionSettings("202", forward_all="201", forward_noanswer="201")
    decision = route_to_extension(settings, busy=False, ring_timeout=30, visited=frozenset({"201"}))
    assert decision == RingExtension("202", 30)
    assert after_ring(settings, RingOutcome.NO_ANSWER, visited=frozenset({"201"})) == GiveUp("noanswer")


def test_campaign_calls_follow_forwarding_only_when_allowed() -> None:
    settings = ExtensionSettings("202", forward_all="214", forward_busy="215")
    assert campaign_forward_target(settings, campaign_allows=True) == "214"
    assert campaign_forward_target(settings, campaign_allows=False) is None
    assert campaign_forward_target(PLAIN, campaign_allows=True) is None
    assert campaign_forward_target(None, campaign_allows=True) is None
    blocked = route_to_extension(settings, busy=True, ring_timeout=30, forwarding_allowed=False)
    assert blocked == GiveBusy("busy")

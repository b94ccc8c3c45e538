"""Campaign parameters decided as ``app_queue`` decides them (pure rules, no routing)."""

from __future__ import annotations

import pytest

from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.parameters import (
    LEGACY_EMPTY,
    LOOSE,
    STRICT,
    AutoPause,
    DeviceState,
    EmptyCondition,
    JoinResult,
    MemberState,
    PauseScope,
    RingOutcome,
    attempt_ring_seconds,
    autopause_after_ring,
    available_for_turns,
    campaign_is_empty,
    can_ring,
    connect_at,
    decide_join,
    heavier_campaign_claims,
    insertion_index,
    is_member_available,
    is_our_turn,
    parse_autopause,
    parse_empty_options,
    queue_expiry,
    queue_timed_out,
    ring_next_after_failure,
)

E = EmptyCondition


@pytest.mark.parametrize(
    ("text", "joinempty", "expected", "why"),
    [
        ("yes", True, E.NONE, "joinempty=yes: always join"),
        ("no", True, LEGACY_EMPTY, "joinempty=no: legacy, refuse when penalty/invalid/paused only"),
        ("yes", False, LEGACY_EMPTY, "leavewhenempty=yes: the legacy set"),
        ("no", False, E.NONE, "leavewhenempty=no: never leave"),
        ("strict", True, STRICT, "strict = penalty, invalid, paused, unavailable"),
        ("loose", False, LOOSE, "loose = penalty, invalid"),
        ("penalty,paused", True, E.PENALTY | E.PAUSED, "words add up"),
        ("paused,strict", True, STRICT, "strict replaces what came before"),
        ("strict,inuse", True, STRICT | E.INUSE, "words after strict add to it"),
        ("Paused,WRAPUP", True, E.PAUSED | E.WRAPUP, "case does not matter"),
        ("inuse,nonsense", True, E.INUSE, "unknown words are ignored"),
        ("", True, E.NONE, "empty: nothing"),
        ("ringing,unknown,unavailable,invalid", False, E.RINGING | E.UNKNOWN | E.UNAVAILABLE | E.INVALID, ""),
    ],
)
def test_empty_option_parsing(text: str, joinempty: bool, expected: EmptyCondition, why: str) -> None:
    assert parse_empty_options(text, joinempty=joinempty) == expected, why


def test_campaign_row_reads_app_queue_parameters() -> None:
    config = CampaignConfig.from_row(
        {
            "name": "Sales",
            "strategy": "linear",
            "joinempty": "paused,unavailable",
            "leavewhenempty": "strict",
            "autofill": "no",
            "timeoutrestart": "yes",
            "memberdelay": "3",
            "autopause": "all",
            "autopausedelay": "10",
            "autopausebusy": "yes",
            "penaltymemberslimit": "2",
            "timeoutpriority": "conf",
        }
    )
    assert config.distribution.value == "linear"
    assert config.joinempty == E.PAUSED | E.UNAVAILABLE
    assert config.leavewhenempty == STRICT
    assert (config.autofill, config.timeoutrestart, config.memberdelay) == (False, True, 3)
    assert (config.autopause, config.autopausedelay, config.autopausebusy) == (AutoPause.ALL, 10, True)
    assert (config.penaltymemberslimit, config.timeoutpriority_app) == (2, False)
    defaults = CampaignConfig.from_row({"name": "Plain", "joinempty": "yes", "leavewhenempty": "no"})
    assert (defaults.joinempty, defaults.leavewhenempty, defaults.autofill) == (E.NONE, E.NONE, True)
    member = MemberConfig.from_row(
        {
            "queue_name": "Sales",
            "membername": "ann",
            "interface": "PJSIP/1",
            "wrapuptime": 7,
            "ringinuse": "1",
        }
    )
    assert (member.wrapuptime, member.ringinuse) == (7, True)
    assert MemberConfig.from_row({"queue_name": "Sales", "interface": "PJSIP/1"}).ringinuse is None


def members(*states: MemberState) -> list[MemberState]:
    return list(states)


def test_joinempty_and_maxlen() -> None:
    paused_only = members(MemberState(paused=True))
    # joinempty=strict: a paused member does not count -> JOINEMPTY, checked before maxlen.
    empty = campaign_is_empty(paused_only, STRICT, campaign_wrapuptime=0, now=0)
    assert empty
    assert decide_join(waiting=5, maxlen=5, joinempty=STRICT, empty=empty) is JoinResult.JOINEMPTY
    # joinempty=loose: paused members still count -> join (space left).
    assert not campaign_is_empty(paused_only, LOOSE, campaign_wrapuptime=0, now=0)
    assert decide_join(waiting=1, maxlen=2, joinempty=LOOSE, empty=False) is JoinResult.JOINED
    assert decide_join(waiting=2, maxlen=2, joinempty=LOOSE, empty=False) is JoinResult.FULL
    assert decide_join(waiting=999, maxlen=0, joinempty=E.NONE, empty=True) is JoinResult.JOINED
    # No members at all is empty under any condition.
    assert campaign_is_empty([], E.PAUSED, campaign_wrapuptime=0, now=0)


def test_leavewhenempty_conditions() -> None:
    talking = MemberState(status=DeviceState.INUSE)
    logged_off = MemberState(status=DeviceState.UNAVAILABLE)
    wrapping = MemberState(lastcall=100, wrapuptime=30)
    assert not campaign_is_empty([talking, logged_off], STRICT, campaign_wrapuptime=0, now=0)
    assert campaign_is_empty([talking, logged_off], STRICT | E.INUSE, campaign_wrapuptime=0, now=0)
    assert campaign_is_empty([wrapping], E.WRAPUP, campaign_wrapuptime=0, now=110)
    assert not campaign_is_empty([wrapping], E.WRAPUP, campaign_wrapuptime=0, now=130)
    assert not campaign_is_empty([wrapping], E.PAUSED, campaign_wrapuptime=0, now=110)


def test_can_ring_entry_rules() -> None:
    free = MemberState()
    assert can_ring(free, now=0, last_campaign_wrapuptime=0)
    assert not can_ring(MemberState(paused=True), now=0, last_campaign_wrapuptime=0)
    busy = MemberState(status=DeviceState.INUSE)
    assert not can_ring(busy, now=0, last_campaign_wrapuptime=0)
    assert can_ring(MemberState(status=DeviceState.INUSE, ringinuse=True), now=0, last_campaign_wrapuptime=0)
    assert can_ring(MemberState(status=DeviceState.UNKNOWN), now=0, last_campaign_wrapuptime=0)
    # Wrap-up: the campaign of the last call decides unless the member row has its own value.
    after_call = MemberState(lastcall=100)
    assert not can_ring(after_call, now=109, last_campaign_wrapuptime=10)
    assert can_ring(after_call, now=110, last_campaign_wrapuptime=10)
    own = MemberState(lastcall=100, wrapuptime=3)
    assert can_ring(own, now=103, last_campaign_wrapuptime=10)
    assert not can_ring(free, now=0, last_campaign_wrapuptime=0, blocked_by_heavier_campaign=True)
    assert not can_ring(free, now=0, last_campaign_wrapuptime=0, pending_elsewhere=True)
    ringinuse = MemberState(ringinuse=True)
    assert can_ring(ringinuse, now=0, last_campaign_wrapuptime=0, pending_elsewhere=True)


def test_member_availability_counts_for_autofill() -> None:
    assert is_member_available(MemberState(), 0, now=0)
    assert not is_member_available(MemberState(status=DeviceState.RINGING), 0, now=0)
    assert is_member_available(MemberState(status=DeviceState.RINGING, ringinuse=True), 0, now=0)
    assert not is_member_available(MemberState(status=DeviceState.INVALID, ringinuse=True), 0, now=0)
    assert not is_member_available(MemberState(lastcall=50), 20, now=60)
    assert available_for_turns(5, autofill=True, ringall=False) == 5
    assert available_for_turns(5, autofill=False, ringall=False) == 1
    assert available_for_turns(5, autofill=True, ringall=True) == 1
    assert available_for_turns(0, autofill=False, ringall=False) == 0


def test_whose_turn() -> None:
    # Two free members, autofill: the first two non-ringing callers may ring.
    assert is_our_turn(ahead_not_ringing=1, available=2, autofill=True, position=3)
    assert not is_our_turn(ahead_not_ringing=2, available=2, autofill=True, position=3)
    # Without autofill only position 1 rings, even when its turn would otherwise come.
    assert not is_our_turn(ahead_not_ringing=0, available=1, autofill=False, position=2)
    assert is_our_turn(ahead_not_ringing=0, available=1, autofill=False, position=1)


def test_weight_claims() -> None:
    assert heavier_campaign_claims(my_weight=0, other_weight=5, other_waiting=2, other_available=2)
    assert not heavier_campaign_claims(my_weight=0, other_weight=5, other_waiting=1, other_available=2)
    assert not heavier_campaign_claims(my_weight=5, other_weight=5, other_waiting=3, other_available=1)
    assert not heavier_campaign_claims(my_weight=0, other_weight=5, other_waiting=0, other_available=0)


@pytest.mark.parametrize(
    ("priorities", "priority", "position", "expected", "why"),
    [
        ([0, 0, 0], 0, 0, 3, "same priority: at the end"),
        ([5, 0, 0], 3, 0, 1, "before the first caller of lower priority"),
        ([5, 5, 1], 5, 0, 2, "after everyone of equal priority"),
        ([0, 0, 0], 0, 2, 1, "wanted position 2"),
        ([9, 9, 0], 0, 1, 2, "wanted position 1 but higher priorities stand there"),
        ([], 7, 0, 0, "empty queue"),
    ],
)
def test_priority_insertion(
    priorities: list[int], priority: int, position: int, expected: int, why: str
) -> None:
    assert insertion_index(priorities, priority, position) == expected, why


def test_attempt_timing_and_queue_timeout() -> None:
    # timeoutpriority=app: a queue timeout due in 8 s cuts a 15 s ring; one due in 30 s does not.
    assert attempt_ring_seconds(now=100, ring_timeout=15, expire=108, timeoutpriority_app=True) == 8
    assert attempt_ring_seconds(now=100, ring_timeout=15, expire=130, timeoutpriority_app=True) == 15
    assert attempt_ring_seconds(now=100, ring_timeout=0, expire=0, timeoutpriority_app=True) is None
    # timeoutpriority=conf: the campaign's timeout stands.
    assert attempt_ring_seconds(now=100, ring_timeout=15, expire=108, timeoutpriority_app=False) == 15
    assert attempt_ring_seconds(now=110, ring_timeout=15, expire=108, timeoutpriority_app=False) == 0
    assert queue_expiry(50, 0) == 0 and not queue_timed_out(10_000, 0)
    assert queue_expiry(50, 30) == 80
    assert not queue_timed_out(79.9, 80) and queue_timed_out(80, 80)
    assert connect_at(10, 3) == 13 and connect_at(10, 0) == 10


def test_ring_next_after_busy() -> None:
    # 15 s attempt started at 0; busy at 10: 5 s left -> ring the next member at once.
    assert ring_next_after_failure(
        ringall=False, timeoutrestart=False, attempt_started=0, ring_seconds=15, now=10
    ) == (True, 0)
    # Only 0.4 s left: not worth it; the attempt ends.
    assert ring_next_after_failure(
        ringall=False, timeoutrestart=False, attempt_started=0, ring_seconds=15, now=14.6
    ) == (False, 0)
    # timeoutrestart: the clock starts again at the failure.
    assert ring_next_after_failure(
        ringall=False, timeoutrestart=True, attempt_started=0, ring_seconds=15, now=14.6
    ) == (True, 14.6)
    # ringall ignores timeoutrestart and goes on while any time is left.
    assert ring_next_after_failure(
        ringall=True, timeoutrestart=True, attempt_started=0, ring_seconds=15, now=14.6
    ) == (True, 0)


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("", AutoPause.OFF),
        ("no", AutoPause.OFF),
        ("yes", AutoPause.ON),
        ("1", AutoPause.ON),
        ("all", AutoPause.ALL),
    ],
)
def test_autopause_parsing(text: str, mode: AutoPause) -> None:
    assert parse_autopause(text) is mode


OFF, ON, ALL = AutoPause.OFF, AutoPause.ON, AutoPause.ALL
NOANSWER, BUSY, CONGESTION = RingOutcome.NOANSWER, RingOutcome.BUSY, RingOutcome.CONGESTION
NONE, CAMPAIGN, EVERYWHERE = PauseScope.NONE, PauseScope.CAMPAIGN, PauseScope.ALL_CAMPAIGNS


@pytest.mark.parametrize(
    ("mode", "outcome", "flags", "delay", "lastcall", "scope", "why"),
    [
        (OFF, NOANSWER, "busy,unavail", 0, 0, NONE, "off"),
        (ON, NOANSWER, "", 0, 0, CAMPAIGN, "no answer always pauses, in this campaign"),
        (ALL, NOANSWER, "", 0, 0, EVERYWHERE, "autopause=all pauses in every campaign"),
        (ON, BUSY, "", 0, 0, NONE, "busy pauses only with autopausebusy"),
        (ON, BUSY, "busy", 0, 0, CAMPAIGN, "autopausebusy"),
        (ON, CONGESTION, "busy", 0, 0, NONE, "congestion needs autopauseunavail"),
        (ON, CONGESTION, "unavail", 0, 0, CAMPAIGN, "autopauseunavail"),
        (ON, NOANSWER, "", 30, 80, NONE, "last call 20 s ago < autopausedelay 30: spared"),
        (ON, NOANSWER, "", 30, 60, CAMPAIGN, "last call 40 s ago >= 30"),
        (ON, NOANSWER, "", 30, 0, CAMPAIGN, "never called: the delay does not apply"),
    ],
)
def test_autopause_decisions(
    mode: AutoPause,
    outcome: RingOutcome,
    flags: str,
    delay: int,
    lastcall: float,
    scope: PauseScope,
    why: str,
) -> None:
    decided = autopause_after_ring(
        mode=mode,
        outcome=outcome,
        autopausebusy="busy" in flags,
        autopauseunavail="unavail" in flags,
        autopausedelay=delay,
        lastcall=lastcall,
        now=100,
    )
    assert decided is scope, why

"""Campaign parameters with ``app_queue``'s meaning: plain values in, decisions out, time passed in.

Each function names the ``app_queue`` routine whose rule it states. Device states are this
application's own (it rings phones itself), mapped onto Asterisk's names so that the same
configuration means the same thing on both: an agent ringing for a call is ``RINGING``, talking is
``INUSE``, logged off is ``UNAVAILABLE``, idle is ``NOT_INUSE``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Asterisk's truth words (``ast_true`` / ``ast_false``) ------------------------------------------

_TRUE_WORDS = frozenset({"yes", "true", "y", "t", "1", "on"})
_FALSE_WORDS = frozenset({"no", "false", "n", "f", "0", "off"})


def ast_true(text: str | None) -> bool:
    return (text or "").strip().lower() in _TRUE_WORDS


def ast_false(text: str | None) -> bool:
    return (text or "").strip().lower() in _FALSE_WORDS


# joinempty / leavewhenempty ---------------------------------------------------------------------


class EmptyCondition(enum.IntFlag):
    """Member conditions that make a queue count as empty (``enum empty_conditions``)."""

    NONE = 0
    PENALTY = 1 << 0
    PAUSED = 1 << 1
    INUSE = 1 << 2
    RINGING = 1 << 3
    UNAVAILABLE = 1 << 4
    INVALID = 1 << 5
    UNKNOWN = 1 << 6
    WRAPUP = 1 << 7


_EMPTY_WORDS = {
    "paused": EmptyCondition.PAUSED,
    "penalty": EmptyCondition.PENALTY,
    "inuse": EmptyCondition.INUSE,
    "ringing": EmptyCondition.RINGING,
    "invalid": EmptyCondition.INVALID,
    "wrapup": EmptyCondition.WRAPUP,
    "unavailable": EmptyCondition.UNAVAILABLE,
    "unknown": EmptyCondition.UNKNOWN,
}
LOOSE = EmptyCondition.PENALTY | EmptyCondition.INVALID
STRICT = EmptyCondition.PENALTY | EmptyCondition.INVALID | EmptyCondition.PAUSED | EmptyCondition.UNAVAILABLE
#: What the legacy ``joinempty=no`` / ``leavewhenempty=yes`` mean.
LEGACY_EMPTY = EmptyCondition.PENALTY | EmptyCondition.INVALID | EmptyCondition.PAUSED


def parse_empty_options(value: str | None, *, joinempty: bool) -> EmptyCondition:
    """``parse_empty_options``: comma-separated words, read left to right.

    Condition words add to the set; ``loose``, ``strict`` and the legacy truth words *replace* it.
    For ``joinempty`` a false word (``no``) means "refuse when empty" and a true word means "always
    join"; for ``leavewhenempty`` it is the other way round. Unknown words are ignored (Asterisk
    warns). Case does not matter; blanks around words do (as in Asterisk, which does not trim).
    """
    conditions = EmptyCondition.NONE
    for word in (value or "").split(","):
        lowered = word.lower()
        if lowered in _EMPTY_WORDS:
            conditions |= _EMPTY_WORDS[lowered]
        elif lowered == "loose":
            conditions = LOOSE
        elif lowered == "strict":
            conditions = STRICT
        elif (lowered in _FALSE_WORDS and joinempty) or (lowered in _TRUE_WORDS and not joinempty):
            conditions = LEGACY_EMPTY
        elif (lowered in _FALSE_WORDS and not joinempty) or (lowered in _TRUE_WORDS and joinempty):
            conditions = EmptyCondition.NONE
    return conditions


class DeviceState(enum.Enum):
    """Asterisk's device states, as far as a member's availability goes."""

    UNKNOWN = "unknown"
    NOT_INUSE = "not_inuse"
    INUSE = "inuse"
    BUSY = "busy"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"
    RINGING = "ringing"
    RINGINUSE = "ringinuse"
    ONHOLD = "onhold"


@dataclass(frozen=True)
class MemberState:
    """One member of one campaign as the availability rules see it."""

    penalty: int = 0
    paused: bool = False
    status: DeviceState = DeviceState.NOT_INUSE
    ringinuse: bool = False
    #: End of the member's last call in any campaign (0: never).
    lastcall: float = 0.0
    #: Member-level wrap-up (``queue_members.wrapuptime``; 0: use the campaign's).
    wrapuptime: int = 0


def wrapup_seconds(member_wrapuptime: int, campaign_wrapuptime: int) -> int:
    """``get_wrapuptime``: the member's own value wins over the campaign's."""
    return member_wrapuptime if member_wrapuptime else campaign_wrapuptime


def in_wrapup(now: float, lastcall: float, wrapup: int) -> bool:
    """``(now - lastcall) < wrapuptime`` with a call on record."""
    return bool(lastcall) and wrapup > 0 and (now - lastcall) < wrapup


def status_available(status: DeviceState) -> bool:
    """``member_status_available``: idle or unknown."""
    return status in (DeviceState.NOT_INUSE, DeviceState.UNKNOWN)


def is_member_available(member: MemberState, campaign_wrapuptime: int, now: float) -> bool:
    """``is_member_available``: counted as available for ``autofill`` and ``compare_weight``."""
    busy = (
        DeviceState.INUSE,
        DeviceState.BUSY,
        DeviceState.RINGING,
        DeviceState.RINGINUSE,
        DeviceState.ONHOLD,
    )
    unreachable = member.status in (DeviceState.INVALID, DeviceState.UNAVAILABLE)
    occupied = member.status in busy and not member.ringinuse
    available = not (unreachable or occupied or member.paused)
    wrapup = wrapup_seconds(member.wrapuptime, campaign_wrapuptime)
    return available and not in_wrapup(now, member.lastcall, wrapup)


def can_ring(
    member: MemberState,
    *,
    now: float,
    last_campaign_wrapuptime: int,
    blocked_by_heavier_campaign: bool = False,
    pending_elsewhere: bool = False,
) -> bool:
    """``can_ring_entry``: paused, in use (unless ``ringinuse``), wrap-up of the campaign of the last
    call (``lastqueue``), a heavier campaign's claim (``compare_weight``), and a ring already pending
    from another campaign (the ``pending_members`` pool, skipped with ``ringinuse``)."""
    if member.paused:
        return False
    if not member.ringinuse and not status_available(member.status):
        return False
    if in_wrapup(now, member.lastcall, wrapup_seconds(member.wrapuptime, last_campaign_wrapuptime)):
        return False
    if blocked_by_heavier_campaign:
        return False
    return member.ringinuse or not pending_elsewhere


def counts_as_present(
    member: MemberState, conditions: EmptyCondition, *, campaign_wrapuptime: int, now: float
) -> bool:
    """One member seen by ``get_member_status``: True when it keeps the queue from being empty.

    (Per-caller penalty bounds are not used by the product, so ``PENALTY`` never excludes anyone.)
    """
    by_status = {
        DeviceState.INVALID: EmptyCondition.INVALID,
        DeviceState.UNAVAILABLE: EmptyCondition.UNAVAILABLE,
        DeviceState.INUSE: EmptyCondition.INUSE,
        DeviceState.RINGING: EmptyCondition.RINGING,
        DeviceState.UNKNOWN: EmptyCondition.UNKNOWN,
    }
    flag = by_status.get(member.status)
    if flag is not None and conditions & flag:
        return False
    if member.paused and conditions & EmptyCondition.PAUSED:
        return False
    wrapup = wrapup_seconds(member.wrapuptime, campaign_wrapuptime)
    return not (conditions & EmptyCondition.WRAPUP and in_wrapup(now, member.lastcall, wrapup))


def campaign_is_empty(
    members: Iterable[MemberState], conditions: EmptyCondition, *, campaign_wrapuptime: int, now: float
) -> bool:
    """``get_member_status`` != 0: no member is present under ``conditions`` (no members: empty)."""
    return not any(
        counts_as_present(m, conditions, campaign_wrapuptime=campaign_wrapuptime, now=now) for m in members
    )


# Joining -------------------------------------------------------------------------------------------


class JoinResult(enum.Enum):
    JOINED = "joined"
    #: ``QUEUE_JOINEMPTY``: refused by ``joinempty``.
    JOINEMPTY = "JOINEMPTY"
    #: ``QUEUE_FULL``: ``maxlen`` callers already wait.
    FULL = "FULL"


def decide_join(*, waiting: int, maxlen: int, joinempty: EmptyCondition, empty: bool) -> JoinResult:
    """``join_queue``: ``joinempty`` is checked first, then ``maxlen`` (0: no limit)."""
    if joinempty and empty:
        return JoinResult.JOINEMPTY
    if maxlen and waiting >= maxlen:
        return JoinResult.FULL
    return JoinResult.JOINED


def insertion_index(priorities: Sequence[int], priority: int, position: int = 0) -> int:
    """``join_queue``: where a caller of ``priority`` enters a queue whose callers have ``priorities``.

    Before the first caller of lower priority (so after everyone of equal or higher priority); a
    wanted ``position`` (1-based, 0: none) is honoured when no higher-priority caller stands there.
    """
    for index, other in enumerate(priorities):
        if priority > other:
            return index
        if position and priority >= other and position <= index + 1:
            return index
    return len(priorities)


# Whose turn ----------------------------------------------------------------------------------------


def available_for_turns(available: int, *, autofill: bool, ringall: bool) -> int:
    """``num_available_members``: without ``autofill`` (or with ``ringall``) at most 1 counts."""
    if not autofill or ringall:
        return min(available, 1)
    return available


def is_our_turn(*, ahead_not_ringing: int, available: int, autofill: bool, position: int) -> bool:
    """``is_our_turn``: fewer non-ringing callers ahead than available members; without
    ``autofill`` only the caller at position 1 may ring."""
    return ahead_not_ringing < available and (autofill or position == 1)


def heavier_campaign_claims(
    *, my_weight: int, other_weight: int, other_waiting: int, other_available: int
) -> bool:
    """``compare_weight`` for one other campaign holding the same member: it has callers, it is
    heavier, and it has at least as many callers as available members."""
    return other_waiting > 0 and other_weight > my_weight and other_waiting >= other_available


# Ringing an attempt --------------------------------------------------------------------------------


class RingOutcome(enum.Enum):
    ANSWERED = "answered"
    NOANSWER = "noanswer"
    BUSY = "busy"
    CONGESTION = "congestion"


def attempt_ring_seconds(
    *, now: float, ring_timeout: int, expire: float, timeoutpriority_app: bool = True
) -> float | None:
    """``try_calling``: how long one attempt may ring (None: without limit).

    With ``timeoutpriority=app`` (the default) the caller's queue timeout shortens the attempt when
    it comes first; with ``conf`` the campaign's ring timeout stands unless the caller has expired.
    """
    if timeoutpriority_app:
        if expire and (not ring_timeout or expire - now <= ring_timeout):
            return max(0.0, expire - now)
        return float(ring_timeout) if ring_timeout else None
    if expire and expire <= now:
        return 0.0
    return float(ring_timeout) if ring_timeout else None


#: ``wait_for_answer`` rings the next member only if more than this is left of the attempt.
MIN_RING_LEFT = 0.5


def ring_next_after_failure(
    *, ringall: bool, timeoutrestart: bool, attempt_started: float, ring_seconds: float | None, now: float
) -> tuple[bool, float]:
    """``wait_for_answer`` after a member is busy, congested or hangs up before the attempt's end:
    whether to ring on at once within the attempt, and the attempt's (possibly new) start.

    Other strategies ring the next member if more than half a second is left, ``timeoutrestart``
    first resetting the clock; ``ringall`` moves to the next tier once every phone of its tier is
    done, while any time is left, and never restarts the clock.
    """
    started = now if timeoutrestart and not ringall else attempt_started
    if ring_seconds is None:
        return True, started
    left = ring_seconds - (now - started)
    return (left > 0 if ringall else left > MIN_RING_LEFT), started


def queue_timed_out(now: float, expire: float) -> bool:
    """``qe.expire``: 0 means no queue timeout; otherwise EXITWITHTIMEOUT once reached."""
    return bool(expire) and now >= expire


def queue_expiry(entered_at: float, queue_timeout: int) -> float:
    return entered_at + queue_timeout if queue_timeout > 0 else 0.0


def next_attempt_at(attempt_ended: float, retry: int) -> float:
    """``wait_a_bit``: ``retry`` seconds between attempts (the product lets 0 mean at once)."""
    return attempt_ended + max(0, retry)


def connect_at(answered_at: float, memberdelay: int) -> float:
    """``memberdelay``: the agent hears silence this long before being bridged to the caller."""
    return answered_at + max(0, memberdelay)


# Auto-pause ------------------------------------------------------------------------------------------


class AutoPause(enum.Enum):
    OFF = "no"
    ON = "yes"
    ALL = "all"


def parse_autopause(value: str | None) -> AutoPause:
    """``autopause2int``: empty -> off, a true word -> on, ``all``, anything else -> off."""
    text = (value or "").strip()
    if not text:
        return AutoPause.OFF
    if ast_true(text):
        return AutoPause.ON
    for mode in AutoPause:
        if text.lower() == mode.value:
            return mode
    return AutoPause.OFF


class PauseScope(enum.Enum):
    NONE = "none"
    CAMPAIGN = "campaign"
    ALL_CAMPAIGNS = "all"


def autopause_after_ring(
    *,
    mode: AutoPause,
    outcome: RingOutcome,
    autopausebusy: bool,
    autopauseunavail: bool,
    autopausedelay: int,
    lastcall: float,
    now: float,
) -> PauseScope:
    """``rna``: pause a member who did not answer. No answer always counts; busy only with
    ``autopausebusy``; congestion only with ``autopauseunavail``. ``autopausedelay`` spares a member
    whose last call ended less than that many seconds ago."""
    if mode is AutoPause.OFF or outcome is RingOutcome.ANSWERED:
        return PauseScope.NONE
    eligible = {
        RingOutcome.NOANSWER: True,
        RingOutcome.BUSY: autopausebusy,
        RingOutcome.CONGESTION: autopauseunavail,
    }[outcome]
    if not eligible:
        return PauseScope.NONE
    if autopausedelay > 0 and lastcall and autopausedelay > (now - lastcall):
        return PauseScope.NONE
    return PauseScope.CAMPAIGN if mode is AutoPause.ON else PauseScope.ALL_CAMPAIGNS

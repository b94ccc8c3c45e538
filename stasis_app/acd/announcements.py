"""What a waiting caller hears besides music: position, estimated hold time, periodic announcements.

The rules are ``app_queue``'s (``say_position``, ``say_periodic_announcement``, ``recalc_holdtime``),
stated over plain values: the call flow passes the time, the caller's position and the campaign's
average hold time, and gets back the media to play (over a pause of the music on hold) and when to
look again. Nothing here polls: the flow asks at the time :func:`next_check` names, and again when
the caller's position changes.

* A position announcement needs ``announce-frequency``; it is made when at least
  ``min-announce-frequency`` seconds passed since the last one and either the position changed or
  ``announce-frequency`` seconds passed. ``announce-position`` says whether the position is told
  (``yes``; ``limit``: only up to ``announce-position-limit``; ``more``: beyond the limit "more than
  <limit>"), ``announce-holdtime`` whether the estimated wait is (``once``: at the first announcement
  only), rounded to ``announce-round-seconds``.
* A periodic announcement plays the campaign's ``periodic-announce`` files in turn (or at random)
  every ``periodic-announce-frequency`` seconds, counted from when the caller joined.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stasis_app.acd.parameters import ast_true

DEFAULT_MIN_ANNOUNCE_FREQUENCY = 15
DEFAULT_POSITION_LIMIT = 10
ROUNDING_CHOICES = (0, 5, 10, 15, 20, 30)
MAX_PERIODIC_ANNOUNCEMENTS = 10
DEFAULT_PERIODIC = "queue-periodic-announce"


class AnnouncePosition(enum.Enum):
    NO = "no"
    YES = "yes"
    LIMIT = "limit"
    MORE = "more"


class AnnounceHoldtime(enum.Enum):
    NO = "no"
    YES = "yes"
    ONCE = "once"


def parse_announce_position(value: str | None) -> AnnouncePosition:
    """``limit`` and ``more`` by name, a truth word means ``yes``, anything else ``no``."""
    text = (value or "").strip().lower()
    if text == "limit":
        return AnnouncePosition.LIMIT
    if text == "more":
        return AnnouncePosition.MORE
    return AnnouncePosition.YES if ast_true(text) else AnnouncePosition.NO


def parse_announce_holdtime(value: str | None) -> AnnounceHoldtime:
    text = (value or "").strip().lower()
    if text == "once":
        return AnnounceHoldtime.ONCE
    return AnnounceHoldtime.YES if ast_true(text) else AnnounceHoldtime.NO


def parse_round_seconds(value: int | str | None) -> int:
    """Only 0, 5, 10, 15, 20 and 30 make sense; Asterisk turns anything else into 0."""
    try:
        seconds = int(str(value).strip()) if value is not None else 0
    except ValueError:
        return 0
    return seconds if seconds in ROUNDING_CHOICES else 0


@dataclass(frozen=True)
class QueueSounds:
    """The prompts (``queue-youarenext``...), overridable per campaign."""

    you_are_next: str = "queue-youarenext"
    there_are: str = "queue-thereare"
    calls_waiting: str = "queue-callswaiting"
    quantity1: str = "queue-quantity1"
    quantity2: str = "queue-quantity2"
    holdtime: str = "queue-holdtime"
    minutes: str = "queue-minutes"
    minute: str = "queue-minute"
    seconds: str = "queue-seconds"
    thank_you: str = "queue-thankyou"


@dataclass(frozen=True)
class AnnouncementSettings:
    """A campaign's announcement options (``queues`` columns of the same names)."""

    frequency: int = 0
    min_frequency: int = DEFAULT_MIN_ANNOUNCE_FREQUENCY
    position: AnnouncePosition = AnnouncePosition.NO
    position_limit: int = DEFAULT_POSITION_LIMIT
    holdtime: AnnounceHoldtime = AnnounceHoldtime.NO
    round_seconds: int = 0
    to_first_user: bool = False
    periodic: tuple[str, ...] = (DEFAULT_PERIODIC,)
    periodic_frequency: int = 0
    random_periodic: bool = False
    relative_periodic: bool = False
    sounds: QueueSounds = field(default_factory=QueueSounds)

    @property
    def enabled(self) -> bool:
        return self.frequency > 0 or (self.periodic_frequency > 0 and bool(self.periodic))

    @classmethod
    def from_row(cls, row: Any) -> AnnouncementSettings:
        """Read the columns of a ``queues`` row (model instance or mapping); empty means default."""

        def read(name: str) -> Any:
            return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)

        def number(name: str, default: int) -> int:
            value = read(name)
            try:
                return int(str(value).strip()) if value not in (None, "") else default
            except ValueError:
                return default

        def flag(name: str) -> bool:
            value = read(name)
            return value if isinstance(value, bool) else ast_true(None if value is None else str(value))

        defaults = QueueSounds()
        sounds = QueueSounds(
            **{
                key: str(read(column) or getattr(defaults, key)).strip()
                for key, column in (
                    ("you_are_next", "queue_youarenext"),
                    ("there_are", "queue_thereare"),
                    ("calls_waiting", "queue_callswaiting"),
                    ("quantity1", "queue_quantity1"),
                    ("quantity2", "queue_quantity2"),
                    ("holdtime", "queue_holdtime"),
                    ("minutes", "queue_minutes"),
                    ("minute", "queue_minute"),
                    ("seconds", "queue_seconds"),
                    ("thank_you", "queue_thankyou"),
                )
            }
        )
        periodic_text = str(read("periodic_announce") or "").strip()
        periodic = (
            tuple(part for part in periodic_text.replace("|", ",").split(","))[:MAX_PERIODIC_ANNOUNCEMENTS]
            if periodic_text
            else (DEFAULT_PERIODIC,)
        )
        return cls(
            frequency=max(0, number("announce_frequency", 0)),
            min_frequency=max(0, number("min_announce_frequency", DEFAULT_MIN_ANNOUNCE_FREQUENCY)),
            position=parse_announce_position(read("announce_position")),
            position_limit=number("announce_position_limit", DEFAULT_POSITION_LIMIT),
            holdtime=parse_announce_holdtime(read("announce_holdtime")),
            round_seconds=parse_round_seconds(read("announce_round_seconds")),
            to_first_user=flag("announce_to_first_user"),
            periodic=periodic,
            periodic_frequency=max(0, number("periodic_announce_frequency", 0)),
            random_periodic=flag("random_periodic_announce"),
            relative_periodic=flag("relative_periodic_announce"),
            sounds=sounds,
        )


@dataclass
class AnnouncementState:
    """One waiting caller's announcement history (``queue_ent``'s ``last_pos``... fields)."""

    entered_at: float
    #: When the last position announcement started (None: none yet).
    last_position_at: float | None = None
    #: The position told then (0: none yet).
    last_position_said: int = 0
    #: Periodic announcements count from here (the join time at first).
    last_periodic_at: float = -1.0
    periodic_index: int = 0

    def __post_init__(self) -> None:
        if self.last_periodic_at < 0:
            self.last_periodic_at = self.entered_at


def sound(name: str) -> str:
    """A prompt name as ARI media (names already carrying a scheme are kept)."""
    return name if ":" in name else f"sound:{name}"


def number(value: int) -> str:
    """A number said in the channel's language (``ast_say_number``)."""
    return f"number:{value}"


def holdtime_estimate(holdtime: int, waited: int, round_seconds: int) -> tuple[int, int]:
    """``say_position``'s estimate: (minutes, seconds) of ``holdtime + 30 - waited``.

    The minutes are the quotient truncated toward zero, made positive; the seconds only with
    rounding, rounded down to a multiple of ``round_seconds``.
    """
    left = holdtime + 30 - waited
    minutes = abs(left) // 60
    seconds = 0
    if round_seconds:
        seconds = (abs(left) - 60 * minutes) // round_seconds * round_seconds
    return minutes, seconds


def position_announcement(
    settings: AnnouncementSettings,
    state: AnnouncementState,
    *,
    now: float,
    position: int,
    holdtime: int,
) -> list[str] | None:
    """``say_position``: the media to play now, or None when it is not time.

    An empty list means "time, but nothing to say" (the history is still updated, as Asterisk does).
    """
    if not settings.frequency:
        return None
    first = state.last_position_at is None
    since = float("inf") if state.last_position_at is None else now - state.last_position_at
    if since < settings.min_frequency:
        return None
    if state.last_position_said == position and since < settings.frequency:
        return None
    sounds = settings.sounds
    media: list[str] = []
    thanks = False
    said_next = False
    mode = settings.position
    if mode in (AnnouncePosition.YES, AnnouncePosition.MORE) or (
        mode is AnnouncePosition.LIMIT and position <= settings.position_limit
    ):
        thanks = True
        if position == 1:
            media.append(sound(sounds.you_are_next))
            said_next = True
        elif mode is AnnouncePosition.MORE and position > settings.position_limit:
            media += [sound(sounds.quantity1), number(settings.position_limit), sound(sounds.quantity2)]
        else:
            media += [sound(sounds.there_are), number(position), sound(sounds.calls_waiting)]
    if not said_next:
        minutes, seconds = holdtime_estimate(holdtime, int(now - state.entered_at), settings.round_seconds)
        wanted = settings.holdtime is AnnounceHoldtime.YES or (
            settings.holdtime is AnnounceHoldtime.ONCE and first
        )
        if minutes + seconds > 0 and wanted:
            thanks = True
            media.append(sound(sounds.holdtime))
            if minutes >= 1:
                media += [number(minutes), sound(sounds.minute if minutes == 1 else sounds.minutes)]
            if seconds >= 1:
                media += [number(seconds), sound(sounds.seconds)]
    if thanks:
        media.append(sound(sounds.thank_you))
    state.last_position_at = now
    state.last_position_said = position
    return media


def periodic_announcement(
    settings: AnnouncementSettings,
    state: AnnouncementState,
    *,
    now: float,
    choose: Callable[[int], int] | None = None,
) -> list[str] | None:
    """``say_periodic_announcement``: the next periodic file, or None when it is not time."""
    if not settings.periodic_frequency or not settings.periodic:
        return None
    if now - state.last_periodic_at < settings.periodic_frequency:
        return None
    count = len(settings.periodic)
    if settings.random_periodic:
        state.periodic_index = (choose or random.randrange)(count)
    elif state.periodic_index >= count or not settings.periodic[state.periodic_index]:
        state.periodic_index = 0
    name = settings.periodic[state.periodic_index]
    state.last_periodic_at = now
    if not settings.random_periodic:
        state.periodic_index += 1
    return [sound(name)] if name else []


@dataclass(frozen=True)
class Announcement:
    media: tuple[str, ...]
    #: When to ask again (None: nothing will ever be due without a position change).
    next_check: float | None


def plan(
    settings: AnnouncementSettings,
    state: AnnouncementState,
    *,
    now: float,
    position: int,
    holdtime: int,
    choose: Callable[[int], int] | None = None,
) -> Announcement:
    """Position announcement then periodic one, as one loop turn of ``wait_our_turn`` plays them."""
    media: list[str] = []
    told = position_announcement(settings, state, now=now, position=position, holdtime=holdtime)
    media += told or []
    periodic = periodic_announcement(settings, state, now=now, choose=choose)
    media += periodic or []
    return Announcement(tuple(media), next_check(settings, state))


def next_check(settings: AnnouncementSettings, state: AnnouncementState) -> float | None:
    """When an announcement falls due if the position stays the same.

    A position change makes a position announcement due ``min-announce-frequency`` after the last
    one; the flow asks again on such changes.
    """
    times: list[float] = []
    if settings.frequency:
        if state.last_position_at is None:
            times.append(state.entered_at)
        else:
            times.append(state.last_position_at + max(settings.frequency, settings.min_frequency))
    if settings.periodic_frequency and settings.periodic:
        times.append(state.last_periodic_at + settings.periodic_frequency)
    return min(times) if times else None


def position_change_check(settings: AnnouncementSettings, state: AnnouncementState) -> float | None:
    """When a changed position may be told (``min-announce-frequency`` after the last telling)."""
    if not settings.frequency:
        return None
    if state.last_position_at is None:
        return state.entered_at
    return state.last_position_at + settings.min_frequency


def periodic_finished(settings: AnnouncementSettings, state: AnnouncementState, now: float) -> None:
    """``relative-periodic-announce``: count the period from the end of the announcement."""
    if settings.relative_periodic:
        state.last_periodic_at = now


@dataclass
class HoldtimeAverage:
    """A campaign's estimated hold time (``recalc_holdtime``): ``(old * 3 + new) / 4`` in whole
    seconds, the first sample taken as is while no call has completed or been abandoned."""

    holdtime: int = 0
    #: Calls completed or abandoned so far (``callscompleted + callsabandoned``).
    finished: int = 0

    def connected(self, waited: float) -> int:
        new = int(waited)
        if self.finished == 0:
            self.holdtime = new
        else:
            self.holdtime = (self.holdtime * 3 + new) >> 2
        return self.holdtime

    def call_finished(self) -> None:
        self.finished += 1

"""Campaign opening hours in the product's text format.

A schedule is one or more entries ``<days>;<times>``, for example ``sun-sat;00:00-23:59`` or
``mon,tue,wed,thu,fri;08:00-12:00,14:00-18:00``. Entries are separated by ``|`` or new lines (the
admin screen keeps a list of them). Days are English three-letter names, single or as ranges that may
wrap (``fri-mon``); times are ``HH:MM-HH:MM`` with the end minute included, so ``00:00-23:59`` covers the
whole day; an end before the start runs past midnight and belongs to the day it starts on. An empty
schedule means always open. Holidays are a hook: a calendar that closes whole dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Protocol

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_INDEX = {name: index for index, name in enumerate(DAY_NAMES)}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
MINUTES_PER_DAY = 24 * 60


class ScheduleError(ValueError):
    """A schedule text that cannot be read."""


class HolidayCalendar(Protocol):
    """Dates on which a campaign is closed whatever its weekly schedule says."""

    def is_holiday(self, day: date) -> bool: ...


@dataclass(frozen=True)
class FixedHolidays:
    """A calendar from a set of dates (the simplest calendar; others can read a table)."""

    dates: frozenset[date] = frozenset()

    def is_holiday(self, day: date) -> bool:
        return day in self.dates


@dataclass(frozen=True)
class AnyHolidays:
    """Closed when any of several calendars says so (a campaign's own dates plus a site-wide one)."""

    calendars: tuple[HolidayCalendar, ...] = ()

    def is_holiday(self, day: date) -> bool:
        return any(calendar.is_holiday(day) for calendar in self.calendars)


@dataclass(frozen=True)
class TimeRange:
    """Minutes since midnight; ``end`` is exclusive and may exceed a day for overnight ranges."""

    start: int
    end: int


@dataclass(frozen=True)
class ScheduleEntry:
    days: frozenset[int]
    ranges: tuple[TimeRange, ...]


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule; ``always_open`` when it has no entries."""

    entries: tuple[ScheduleEntry, ...] = ()
    text: str = ""

    @property
    def always_open(self) -> bool:
        return not self.entries

    def is_open(self, at: datetime, holidays: HolidayCalendar | None = None) -> bool:
        """Whether the campaign takes calls at local time ``at``."""
        if holidays is not None and holidays.is_holiday(at.date()):
            return False
        if self.always_open:
            return True
        minute = at.hour * 60 + at.minute
        today = at.weekday()
        yesterday = (today - 1) % 7
        for entry in self.entries:
            for span in entry.ranges:
                if today in entry.days and span.start <= minute < span.end:
                    return True
                # The part of an overnight range that spills into today.
                if (
                    span.end > MINUTES_PER_DAY
                    and yesterday in entry.days
                    and minute < span.end - MINUTES_PER_DAY
                ):
                    if holidays is not None and holidays.is_holiday(at.date() - timedelta(days=1)):
                        continue
                    return True
        return False


def _parse_day(token: str) -> int:
    index = _DAY_INDEX.get(token.strip().lower()[:3])
    if index is None or len(token.strip()) < 3:
        raise ScheduleError(f"unknown day {token.strip()!r}")
    return index


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        if "-" in part:
            first_text, last_text = part.split("-", 1)
            first, last = _parse_day(first_text), _parse_day(last_text)
            day = first
            while True:
                days.add(day)
                if day == last:
                    break
                day = (day + 1) % 7
        else:
            days.add(_parse_day(part))
    if not days:
        raise ScheduleError(f"no days in {text!r}")
    return frozenset(days)


def _parse_time(text: str) -> int:
    match = _TIME.match(text.strip())
    if match is None:
        raise ScheduleError(f"bad time {text.strip()!r} (expected HH:MM)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"bad time {text.strip()!r}")
    return hours * 60 + minutes


def _parse_ranges(text: str) -> tuple[TimeRange, ...]:
    ranges: list[TimeRange] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        if part.count("-") != 1:
            raise ScheduleError(f"bad time range {part!r} (expected HH:MM-HH:MM)")
        start_text, end_text = part.split("-")
        start, end = _parse_time(start_text), _parse_time(end_text) + 1
        if end <= start:
            end += MINUTES_PER_DAY
        ranges.append(TimeRange(start, end))
    if not ranges:
        raise ScheduleError(f"no time ranges in {text!r}")
    return tuple(ranges)


def _entry_texts(text: str) -> Iterable[str]:
    for line in re.split(r"[|\n]", text):
        if line.strip():
            yield line.strip()


def parse_schedule(text: str | None) -> Schedule:
    """Read a schedule; raises :class:`ScheduleError` on anything it cannot understand."""
    raw = (text or "").strip()
    entries: list[ScheduleEntry] = []
    for entry_text in _entry_texts(raw):
        if entry_text.count(";") != 1:
            raise ScheduleError(f"bad schedule entry {entry_text!r} (expected <days>;<times>)")
        days_text, times_text = entry_text.split(";")
        entries.append(ScheduleEntry(_parse_days(days_text), _parse_ranges(times_text)))
    return Schedule(tuple(entries), raw)


def format_minutes(minutes: int) -> str:
    """``570`` -> ``09:30`` (for log lines)."""
    return time((minutes // 60) % 24, minutes % 60).strftime("%H:%M")

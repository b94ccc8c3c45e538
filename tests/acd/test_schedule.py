"""Opening hours in the product's schedule format."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stasis_app.acd.schedule import DAY_NAMES, FixedHolidays, ScheduleError, parse_schedule

# 2026-11-30 is a Monday.
MONDAY = datetime(2026, 11, 30)


def at(day_offset: int, hh: int, mm: int) -> datetime:
    return MONDAY + timedelta(days=day_offset, hours=hh, minutes=mm)


def test_whole_week_whole_day_is_open_at_the_last_minute() -> None:
    schedule = parse_schedule("sun-sat;00:00-23:59")
    assert schedule.is_open(at(6, 23, 59))
    assert schedule.is_open(at(0, 0, 0))


def test_day_list_and_hours() -> None:
    schedule = parse_schedule("mon,tue,wed,thu,fri,sat;08:00-21:00")
    assert schedule.is_open(at(0, 8, 0))
    assert schedule.is_open(at(5, 21, 0))
    assert not schedule.is_open(at(5, 21, 1))
    assert not schedule.is_open(at(0, 7, 59))
    assert not schedule.is_open(at(6, 12, 0))  # Sunday


def test_several_entries_and_ranges() -> None:
    schedule = parse_schedule("mon-fri;08:00-12:00,14:00-18:00|sat;09:00-13:00")
    assert schedule.is_open(at(2, 11, 30))
    assert not schedule.is_open(at(2, 13, 0))
    assert schedule.is_open(at(4, 17, 59))
    assert schedule.is_open(at(5, 10, 0))
    assert not schedule.is_open(at(5, 14, 0))


def test_wrapping_day_range_and_overnight_hours() -> None:
    schedule = parse_schedule("fri-mon;22:00-06:00")
    assert schedule.is_open(at(4, 23, 0))  # Friday night
    assert schedule.is_open(at(5, 3, 0))  # early Saturday, from Friday's range
    assert schedule.is_open(at(1, 5, 59))  # early Tuesday, from Monday's range
    assert not schedule.is_open(at(1, 22, 30))  # Tuesday night is not in the days
    assert not schedule.is_open(at(3, 3, 0))  # early Thursday


def test_empty_schedule_is_always_open_but_holidays_close() -> None:
    schedule = parse_schedule("")
    assert schedule.always_open and schedule.is_open(at(3, 3, 3))
    holidays = FixedHolidays(frozenset({date(2026, 12, 25)}))
    assert not schedule.is_open(datetime(2026, 12, 25, 10, 0), holidays)
    assert schedule.is_open(datetime(2026, 12, 26, 10, 0), holidays)


@pytest.mark.parametrize(
    "text", ["mon", "mon;8-9", "xyz;08:00-09:00", "mon;08:00-24:00", "mon;08:00", ";08:00-09:00"]
)
def test_bad_schedules_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        parse_schedule(text)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_full_week_is_open_at_any_moment(moment: datetime) -> None:
    assert parse_schedule("sun-sat;00:00-23:59").is_open(moment)


@given(
    st.integers(0, 6),
    st.integers(0, 23 * 60 + 59),
    st.integers(0, 23 * 60 + 59),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_single_day_range_matches_a_plain_minute_check(
    day: int, first: int, second: int, moment: datetime
) -> None:
    start, end = min(first, second), max(first, second)
    text = f"{DAY_NAMES[day]};{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
    minute = moment.hour * 60 + moment.minute
    expected = moment.weekday() == day and start <= minute <= end
    assert parse_schedule(text).is_open(moment) == expected

"""The announcement planner against app_queue's say_position / say_periodic_announcement rules."""

from __future__ import annotations

import pytest

from stasis_app.acd.announcements import (
    AnnounceHoldtime,
    AnnouncementSettings,
    AnnouncementState,
    AnnouncePosition,
    HoldtimeAverage,
    holdtime_estimate,
    next_check,
    parse_announce_holdtime,
    parse_announce_position,
    parse_round_seconds,
    periodic_announcement,
    plan,
    position_announcement,
)


def settings(**changes: object) -> AnnouncementSettings:
    base: dict[str, object] = {"frequency": 30, "min_frequency": 15}
    base.update(changes)
    return AnnouncementSettings(**base)  # type: ignore[arg-type]


def test_parsing_follows_asterisk() -> None:
    assert parse_announce_position("limit") is AnnouncePosition.LIMIT
    assert parse_announce_position("MORE") is AnnouncePosition.MORE
    assert parse_announce_position("yes") is AnnouncePosition.YES
    assert parse_announce_position("whatever") is AnnouncePosition.NO
    assert parse_announce_holdtime("once") is AnnounceHoldtime.ONCE
    assert parse_announce_holdtime("true") is AnnounceHoldtime.YES
    assert parse_announce_holdtime("") is AnnounceHoldtime.NO
    assert [parse_round_seconds(v) for v in (0, 5, 10, 15, 20, 30, 7, "abc", None)] == [
        0, 5, 10, 15, 20, 30, 0, 0, 0,
    ]  # fmt: skip


def test_settings_from_a_campaign_row() -> None:
    row = {
        "announce_frequency": 20,
        "min_announce_frequency": None,
        "announce_position": "limit",
        "announce_position_limit": 3,
        "announce_holdtime": "once",
        "announce_round_seconds": 12,
        "periodic_announce": "a|b,c",
        "periodic_announce_frequency": 60,
        "queue_youarenext": "custom-next",
    }
    read = AnnouncementSettings.from_row(row)
    assert (read.frequency, read.min_frequency, read.position, read.position_limit) == (
        20,
        15,
        AnnouncePosition.LIMIT,
        3,
    )
    assert (read.holdtime, read.round_seconds, read.periodic) == (AnnounceHoldtime.ONCE, 0, ("a", "b", "c"))
    assert read.sounds.you_are_next == "custom-next" and read.sounds.there_are == "queue-thereare"
    assert AnnouncementSettings.from_row({}).periodic == ("queue-periodic-announce",)
    assert not AnnouncementSettings.from_row({}).enabled


@pytest.mark.parametrize(
    ("holdtime", "waited", "rounding", "expected"),
    [
        (120, 0, 0, (2, 0)),  # (120 + 30) / 60 = 2
        (89, 0, 0, (1, 0)),  # 119 / 60 = 1
        (120, 10, 15, (2, 15)),  # 140: 2 min, 20 s -> 15
        (120, 10, 30, (2, 0)),
        (20, 100, 5, (0, 50)),  # 20 + 30 - 100 = -50: the magnitude is told
        (0, 31, 0, (0, 0)),
    ],
)
def test_holdtime_estimate(holdtime: int, waited: int, rounding: int, expected: tuple[int, int]) -> None:
    assert holdtime_estimate(holdtime, waited, rounding) == expected


def test_first_announcement_at_once_then_by_frequency() -> None:
    conf = settings(position=AnnouncePosition.YES)
    state = AnnouncementState(entered_at=100.0)
    assert position_announcement(conf, state, now=100.0, position=3, holdtime=0) == [
        "sound:queue-thereare",
        "number:3",
        "sound:queue-callswaiting",
        "sound:queue-thankyou",
    ]
    # Same position: not before announce-frequency.
    assert position_announcement(conf, state, now=120.0, position=3, holdtime=0) is None
    assert position_announcement(conf, state, now=130.0, position=3, holdtime=0) is not None
    # A changed position waits only for min-announce-frequency.
    assert position_announcement(conf, state, now=140.0, position=2, holdtime=0) is None
    assert position_announcement(conf, state, now=145.0, position=2, holdtime=0) is not None


def test_position_one_is_next_and_skips_holdtime() -> None:
    conf = settings(position=AnnouncePosition.YES, holdtime=AnnounceHoldtime.YES)
    state = AnnouncementState(entered_at=0.0)
    assert position_announcement(conf, state, now=0.0, position=1, holdtime=300) == [
        "sound:queue-youarenext",
        "sound:queue-thankyou",
    ]


def test_limit_and_more() -> None:
    limit = settings(position=AnnouncePosition.LIMIT, position_limit=2)
    assert position_announcement(limit, AnnouncementState(0.0), now=0.0, position=3, holdtime=0) == []
    more = settings(position=AnnouncePosition.MORE, position_limit=2)
    assert position_announcement(more, AnnouncementState(0.0), now=0.0, position=3, holdtime=0) == [
        "sound:queue-quantity1",
        "number:2",
        "sound:queue-quantity2",
        "sound:queue-thankyou",
    ]
    assert position_announcement(more, AnnouncementState(0.0), now=0.0, position=2, holdtime=0) == [
        "sound:queue-thereare",
        "number:2",
        "sound:queue-callswaiting",
        "sound:queue-thankyou",
    ]


def test_holdtime_yes_and_once() -> None:
    conf = settings(holdtime=AnnounceHoldtime.YES, round_seconds=10)
    state = AnnouncementState(entered_at=0.0)
    assert position_announcement(conf, state, now=0.0, position=2, holdtime=60) == [
        "sound:queue-holdtime",
        "number:1",
        "sound:queue-minute",
        "number:30",
        "sound:queue-seconds",
        "sound:queue-thankyou",
    ]
    once = settings(holdtime=AnnounceHoldtime.ONCE)
    state = AnnouncementState(entered_at=0.0)
    assert position_announcement(once, state, now=0.0, position=2, holdtime=150) == [
        "sound:queue-holdtime",
        "number:3",
        "sound:queue-minutes",
        "sound:queue-thankyou",
    ]
    # Said once: later announcements stay silent about the hold time.
    assert position_announcement(once, state, now=40.0, position=2, holdtime=150) == []


def test_periodic_in_turn_and_random() -> None:
    conf = settings(frequency=0, periodic=("p1", "p2"), periodic_frequency=20)
    state = AnnouncementState(entered_at=0.0)
    assert periodic_announcement(conf, state, now=10.0) is None
    assert periodic_announcement(conf, state, now=20.0) == ["sound:p1"]
    assert periodic_announcement(conf, state, now=39.0) is None
    assert periodic_announcement(conf, state, now=40.0) == ["sound:p2"]
    assert periodic_announcement(conf, state, now=60.0) == ["sound:p1"]
    rand = settings(frequency=0, periodic=("p1", "p2", "p3"), periodic_frequency=5, random_periodic=True)
    state = AnnouncementState(entered_at=0.0)
    assert periodic_announcement(rand, state, now=5.0, choose=lambda n: n - 1) == ["sound:p3"]


def test_plan_combines_and_names_the_next_check() -> None:
    conf = settings(position=AnnouncePosition.YES, periodic=("p",), periodic_frequency=10)
    state = AnnouncementState(entered_at=0.0)
    first = plan(conf, state, now=0.0, position=2, holdtime=0)
    assert first.media[0] == "sound:queue-thereare" and "sound:p" not in first.media
    assert first.next_check == 10.0
    second = plan(conf, state, now=10.0, position=2, holdtime=0)
    assert second.media == ("sound:p",)
    assert next_check(conf, state) == 20.0
    third = plan(conf, state, now=30.0, position=2, holdtime=0)
    assert third.media[0] == "sound:queue-thereare" and third.media[-1] == "sound:p"


def test_holdtime_average_is_asterisks_exponential_average() -> None:
    average = HoldtimeAverage()
    assert average.connected(40) == 40
    assert average.connected(80) == 80  # nothing completed yet: the newest sample stands
    average.call_finished()
    assert average.connected(0) == 60  # (80 * 3 + 0) / 4
    assert average.connected(13) == (60 * 3 + 13) >> 2

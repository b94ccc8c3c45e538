"""Real-time statistics from queue_log rows and agent states, against hand-computed figures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stasis_app.acd import records
from stasis_app.acd.records import QueueLogRow
from stasis_app.acd.statistics import (
    CallStatistics,
    Counters,
    ServiceLevelFormula,
    StatisticsSettings,
    Window,
    service_level,
)

#: Local noon, so that no scenario crosses midnight unless it means to.
BASE = datetime(2024, 5, 6, 12, 0, 0)
T0 = BASE.timestamp()


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> datetime:
        self.now = T0 + seconds
        return BASE + timedelta(seconds=seconds)


def make(threshold: int | None = 20, **options: object) -> tuple[CallStatistics, Clock]:
    clock = Clock()
    stats = CallStatistics(
        StatisticsSettings(**options),  # type: ignore[arg-type]
        clock=clock,
        threshold_for=lambda _name: threshold,
    )
    return stats, clock


def enter(stats: CallStatistics, clock: Clock, t: float, callid: str, campaign: str = "Sales") -> None:
    stats.record(records.enter_queue(clock.at(t), callid, campaign, caller_number="555", position=1))


def connect(stats: CallStatistics, clock: Clock, t: float, callid: str, agent: str, hold: float) -> None:
    stats.record(
        records.connect(clock.at(t), callid, "Sales", agent, holdtime=hold, member_uniqueid="x", ringtime=2)
    )


def abandon(stats: CallStatistics, clock: Clock, t: float, callid: str, wait: float) -> None:
    stats.record(
        records.abandon(clock.at(t), callid, "Sales", position=1, original_position=1, waittime=wait)
    )


def complete(
    stats: CallStatistics, clock: Clock, t: float, callid: str, agent: str, hold: float, talk: float
) -> None:
    row = records.complete(
        clock.at(t), callid, "Sales", agent, by_caller=True, holdtime=hold, calltime=talk, original_position=1
    )
    stats.record(row)


def state(stats: CallStatistics, clock: Clock, t: float, agent: str, name: str, reason: str = "") -> None:
    clock.at(t)
    stats.agent_state(agent, name, ["Sales"], T0 + t, reason)


def row(clock: Clock, t: float, callid: str, event: str, agent: str = "NONE", *data: str) -> QueueLogRow:
    return QueueLogRow(clock.at(t), callid, "Sales", agent, event, *data)


def busy_day() -> tuple[CallStatistics, Clock]:
    """Six callers and two agents (threshold 20 s); see the expected figures in each test."""
    stats, clock = make()
    state(stats, clock, 0, "a1", "free")
    state(stats, clock, 0, "a2", "free")
    enter(stats, clock, 0, "c1")
    enter(stats, clock, 0, "c2")
    enter(stats, clock, 5, "c3")
    state(stats, clock, 8, "a1", "ringing")
    state(stats, clock, 10, "a1", "busy")
    connect(stats, clock, 10, "c1", "a1", hold=10)  # answered within 20 s
    abandon(stats, clock, 12, "c3", wait=7)  # a short abandon
    abandon(stats, clock, 30, "c2", wait=30)
    enter(stats, clock, 40, "c4")
    state(stats, clock, 60, "a2", "ringing")
    stats.record(records.ring_no_answer(clock.at(62), "c4", "Sales", "a2", 2000))
    state(stats, clock, 65, "a2", "busy")
    connect(stats, clock, 65, "c4", "a2", hold=25)  # answered late
    enter(stats, clock, 70, "c5")
    enter(stats, clock, 71, "c6")
    stats.record(row(clock, 80, "c4", "HOLD", "a2"))
    stats.record(row(clock, 95, "c4", "UNHOLD", "a2"))
    stats.record(row(clock, 100, "c5", "EXITWITHTIMEOUT", "NONE", "1", "1", "30"))
    complete(stats, clock, 125, "c4", "a2", hold=25, talk=60)
    state(stats, clock, 125, "a2", "wrap-up")
    complete(stats, clock, 130, "c1", "a1", hold=10, talk=120)
    state(stats, clock, 130, "a1", "wrap-up")
    state(stats, clock, 135, "a2", "free")
    state(stats, clock, 140, "a1", "free")
    state(stats, clock, 150, "a1", "paused", "LUNCH")
    clock.at(200)
    return stats, clock


def test_campaign_counts_waits_and_service_levels() -> None:
    stats, _clock = busy_day()
    sales = stats.campaign("Sales")
    assert (sales["offered"], sales["answered"], sales["abandoned"], sales["exited"]) == (6, 2, 2, 1)
    assert (sales["waiting"], sales["longest_wait"], sales["talking"]) == (1, 129.0, 0)
    assert (sales["answered_in_threshold"], sales["abandoned_in_threshold"]) == (1, 1)
    assert (sales["exit_timeout"], sales["ring_no_answer"], sales["threshold"]) == (1, 1, 20)
    # The default formula excludes short abandons: 1 / (2 + 2 - 1 + 1).
    assert sales["formula"] == "short-abandons-excluded" and sales["service_level"] == 0.25
    assert sales["service_levels"] == {
        "offered": 0.2,  # 1 / (2 answered + 2 abandoned + 1 exit)
        "short-abandons-excluded": 0.25,
        "answered": 0.5,  # 1 / 2
        "abandons-met": 0.5,  # (1 + 1) / (2 + 2)
    }
    assert sales["asa"] == 17.5  # (10 + 25) / 2
    assert sales["longest_answer_wait"] == 25.0
    assert sales["average_abandon_wait"] == 18.5  # (7 + 30) / 2
    assert sales["abandon_rate"] == 0.4  # 2 / 5
    # Talk 120 + (60 - 15 on hold), hold 15, wrap-ups 10 + 10: AHT = 200 / 2.
    assert (sales["handled"], sales["talk_time"], sales["hold_time"], sales["wrapup_time"]) == (
        2,
        165,
        15,
        20,
    )
    assert sales["aht"] == 100.0
    # Busy 120 + 60 and wrap-up 10 + 10 over staffed (200 - 50 on break) + 200.
    assert sales["occupancy"] == round(200 / 350, 4)
    assert (sales["agents_logged_in"], sales["agents_free"], sales["agents_paused"]) == (2, 1, 1)


def test_agent_figures_and_breaks() -> None:
    stats, _clock = busy_day()
    a1 = stats.agent("a1")
    assert (a1["state"], a1["time_in_state"], a1["pause_reason"]) == ("paused", 50.0, "LUNCH")
    assert (a1["calls"], a1["handled"], a1["campaigns"]) == (1, 1, ["Sales"])
    assert (a1["talk_time"], a1["wrapup_time"], a1["break_time"], a1["ringing_time"]) == (120, 10, 50, 2)
    assert (a1["free_time"], a1["logged_in_time"]) == (18, 200)
    assert a1["occupancy"] == round(130 / 150, 4)  # break time is not time to take calls
    a2 = stats.agent("a2")
    assert (a2["state"], a2["time_in_state"], a2["calls"], a2["ring_no_answer"]) == ("free", 65.0, 1, 1)
    assert (a2["talk_time"], a2["wrapup_time"], a2["break_time"], a2["occupancy"]) == (60, 10, 0, 0.35)
    nobody = stats.agent("nobody")
    assert (nobody["state"], nobody["calls"], nobody["occupancy"]) == ("disconnected", 0, None)


def test_rolling_window_forgets_older_events() -> None:
    stats, _clock = busy_day()
    last2 = stats.campaign("Sales", window=Window.ROLLING, minutes=2)  # from t=80 to t=200
    assert (last2["window"], last2["minutes"]) == ("rolling", 2)
    assert (last2["offered"], last2["answered"], last2["exited"], last2["handled"]) == (0, 0, 1, 2)
    assert last2["waiting"] == 1  # a gauge: the caller still waits whatever the window
    a1 = stats.agent("a1", window=Window.ROLLING, minutes=2)
    assert (a1["talk_time"], a1["wrapup_time"], a1["free_time"], a1["break_time"]) == (50, 10, 10, 50)
    assert a1["occupancy"] == round(60 / 70, 4)
    last1 = stats.campaign("Sales", window=Window.ROLLING, minutes=1)
    assert (last1["offered"], last1["handled"], last1["service_level"]) == (0, 0, None)
    # Asking for more than is kept gives what is kept.
    assert stats.campaign("Sales", window=Window.ROLLING, minutes=500)["minutes"] == 60


def test_today_starts_again_at_midnight_and_since_start_does_not() -> None:
    stats, clock = make()
    late = 12 * 3600 - 10  # 23:59:50
    enter(stats, clock, late, "c1")
    connect(stats, clock, late + 5, "c1", "a1", hold=5)
    enter(stats, clock, late + 20, "c2")  # 00:00:10 the next day
    today = stats.campaign("Sales", window=Window.TODAY)
    start = stats.campaign("Sales", window=Window.START)
    assert (today["offered"], today["answered"], today["waiting"]) == (1, 0, 1)
    assert (start["offered"], start["answered"], start["waiting"]) == (2, 1, 1)
    clock.at(late + 2 * 86400)
    assert stats.campaign("Sales", window=Window.TODAY)["offered"] == 0


def test_no_calls_reads_as_zeros_and_nones() -> None:
    stats, _clock = make()
    empty = stats.campaign("Empty")
    assert (empty["offered"], empty["waiting"], empty["longest_wait"]) == (0, 0, 0.0)
    assert all(value is None for value in empty["service_levels"].values())
    assert (empty["asa"], empty["aht"], empty["occupancy"], empty["abandon_rate"]) == (None, None, None, None)
    assert stats.snapshot(campaigns=["Empty"])["campaigns"][0]["campaign"] == "Empty"


def test_all_abandoned() -> None:
    stats, clock = make()
    for i, wait in enumerate((5, 30)):
        enter(stats, clock, 0, f"c{i}")
        abandon(stats, clock, wait, f"c{i}", wait=wait)
    sales = stats.campaign("Sales")
    assert sales["service_levels"] == {
        "offered": 0.0,
        "short-abandons-excluded": 0.0,  # 0 / (2 - 1)
        "answered": None,
        "abandons-met": 0.5,
    }
    assert (sales["abandon_rate"], sales["asa"], sales["waiting"]) == (1.0, None, 0)


def test_only_short_abandons_leave_nothing_to_measure_by_default() -> None:
    stats, clock = make()
    enter(stats, clock, 0, "c1")
    abandon(stats, clock, 3, "c1", wait=3)
    levels = stats.campaign("Sales")["service_levels"]
    assert (levels["short-abandons-excluded"], levels["offered"], levels["abandons-met"]) == (None, 0.0, 1.0)


def test_threshold_comes_from_the_campaign_or_the_default() -> None:
    strict, clock = make(threshold=5)
    enter(strict, clock, 0, "c1")
    connect(strict, clock, 10, "c1", "a1", hold=10)
    assert strict.campaign("Sales")["service_levels"]["answered"] == 0.0
    lenient, clock2 = make(threshold=0, default_threshold=30)
    enter(lenient, clock2, 0, "c1")
    connect(lenient, clock2, 10, "c1", "a1", hold=10)
    figures = lenient.campaign("Sales")
    assert (figures["threshold"], figures["service_levels"]["answered"]) == (30, 1.0)


def test_configured_formula_and_window_are_the_defaults() -> None:
    stats, clock = make(formula=ServiceLevelFormula.ANSWERED, window=Window.START)
    enter(stats, clock, 0, "c1")
    abandon(stats, clock, 40, "c1", wait=40)
    snapshot = stats.snapshot()
    assert (snapshot["formula"], snapshot["window"]) == ("answered", "start")
    assert snapshot["campaigns"][0]["service_level"] is None
    other = stats.snapshot("Sales", formula=ServiceLevelFormula.OFFERED)
    assert other["campaigns"][0]["service_level"] == 0.0


def test_transfers_and_exits_by_key_and_empty() -> None:
    stats, clock = make()
    for callid in ("c1", "c2", "c3"):
        enter(stats, clock, 0, callid)
    connect(stats, clock, 4, "c1", "a1", hold=4)
    stats.record(row(clock, 34, "c1", "BLINDTRANSFER", "a1", "200", "from-internal", "4", "30", "1"))
    stats.record(row(clock, 35, "c2", "EXITWITHKEY", "NONE", "5", "1"))
    stats.record(row(clock, 36, "c3", "EXITEMPTY", "NONE", "1", "1", "36"))
    sales = stats.campaign("Sales")
    assert (sales["handled"], sales["transferred"], sales["talk_time"]) == (1, 1, 30)
    assert (sales["exit_key"], sales["exit_empty"], sales["exited"], sales["waiting"]) == (1, 1, 2, 0)
    assert stats.agent("a1")["handled"] == 1


def test_service_level_formulas_directly() -> None:
    c = Counters(answered=8, answered_in_sl=6, abandoned=4, abandoned_in_sl=2, exit_timeout=1)
    assert service_level(c, ServiceLevelFormula.OFFERED) == round(6 / 13, 4)
    assert service_level(c, ServiceLevelFormula.SHORT_ABANDONS_EXCLUDED) == round(6 / 11, 4)
    assert service_level(c, ServiceLevelFormula.ANSWERED) == 0.75
    assert service_level(c, ServiceLevelFormula.ABANDONS_MET) == round(8 / 12, 4)


def test_settings_from_environment() -> None:
    read = StatisticsSettings.from_env(
        {"OC_STATS_WINDOW": "rolling", "OC_STATS_ROLLING_MINUTES": "15", "OC_STATS_FORMULA": "offered"}
    )
    assert (read.window, read.rolling_minutes, read.formula) == (
        Window.ROLLING,
        15,
        ServiceLevelFormula.OFFERED,
    )
    assert StatisticsSettings.from_env({}) == StatisticsSettings()
    with pytest.raises(ValueError):
        StatisticsSettings.from_env({"OC_STATS_FORMULA": "best"})


def test_agent_history_stays_short_over_days() -> None:
    stats, clock = make(rolling_minutes=1)
    for i in range(400):
        state(stats, clock, i * 900, "a1", "busy" if i % 2 else "free")
    kept = len(stats.agents["a1"].clock._times)
    assert kept <= 100  # one day of changes at most, not every change since the start
    assert stats.agent("a1", window=Window.START)["logged_in_time"] == 399 * 900


# Property: under any sequence, every caller who entered is answered, gone or still waiting. ------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["enter", "connect", "abandon", "timeout", "key", "empty", "complete"]),
        st.integers(min_value=0, max_value=40),
        st.integers(min_value=0, max_value=60),
    ),
    max_size=80,
)


@settings(max_examples=150, deadline=None)
@given(ACTIONS)
def test_counts_stay_consistent(actions: list[tuple[str, int, int]]) -> None:
    stats, clock = make()
    waiting: list[str] = []
    talking: list[str] = []
    t = 0.0
    exits = {"timeout": "EXITWITHTIMEOUT", "key": "EXITWITHKEY", "empty": "EXITEMPTY"}
    for n, (action, pick, step) in enumerate(actions):
        t += step
        if action == "enter":
            waiting.append(f"c{n}")
            enter(stats, clock, t, f"c{n}")
        elif action == "complete" and talking:
            callid = talking.pop(pick % len(talking))
            complete(stats, clock, t, callid, "a1", hold=1, talk=step)
        elif action != "complete" and waiting:
            callid = waiting.pop(pick % len(waiting))
            if action == "connect":
                talking.append(callid)
                connect(stats, clock, t, callid, "a1", hold=step)
            elif action == "abandon":
                abandon(stats, clock, t, callid, wait=step)
            else:
                stats.record(row(clock, t, callid, exits[action], "NONE", "1", "1", str(step)))
    for window in (Window.START, Window.TODAY):
        c = stats.campaign("Sales", window=window)
        if t < 12 * 3600 or window is Window.START:
            assert c["offered"] == c["answered"] + c["abandoned"] + c["exited"] + c["waiting"]
        assert c["waiting"] == len(waiting) and c["talking"] == len(talking)
        assert c["answered_in_threshold"] <= c["answered"]
        assert c["abandoned_in_threshold"] <= c["abandoned"]
        for level in c["service_levels"].values():
            assert level is None or 0.0 <= level <= 1.0

"""Real-time contact-centre statistics, folded from queue_log rows and agent state changes.

The core is fed two streams and never reads anything else: the queue_log rows the call flows write
(:meth:`CallStatistics.record`, any object with ``time``/``callid``/``queuename``/``agent``/``event``/
``data1..5``) and the agents' state changes (:meth:`CallStatistics.agent_state`, the states of
``bus.messages.AGENT_STATES``). Each input costs O(1): counters are added to three places, the
since-start totals, today's totals and the current bucket of the rolling window; agents' times are
kept as running totals plus a short history of their state changes, from which the time spent in
each state during any recent window is read with one binary search. Nothing is ever rescanned.

Counts are attributed to the moment their event happened (a call entering at 09:59:50 and answered
at 10:00:05 is offered in the first minute and answered in the second), as queue wallboards do; over
the since-start window every call entered is exactly one of answered, abandoned, exited or waiting.

Formulas are in ``docs/statistics.md``.
"""

from __future__ import annotations

import bisect
import enum
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Protocol

#: Threshold used when a campaign has no ``servicelevel`` (the common "80 % in 20 s" target).
DEFAULT_THRESHOLD = 20

# Agent states as the Stasis app publishes them (bus.messages.AGENT_STATES).
DISCONNECTED = "disconnected"
FREE = "free"
RINGING = "ringing"
BUSY = "busy"
WRAPUP = "wrap-up"
PAUSED = "paused"
_STATE_INDEX = {name: i for i, name in enumerate((DISCONNECTED, FREE, RINGING, BUSY, WRAPUP, PAUSED))}

#: Rows with which the agent's part of a call ends (the call was handled).
HANDLED_EVENTS = frozenset(
    {"COMPLETECALLER", "COMPLETEAGENT", "TRANSFER", "BLINDTRANSFER", "ATTENDEDTRANSFER"}
)
#: Rows with which a caller leaves the queue unanswered without hanging up, by counter name.
EXIT_EVENTS = {"EXITWITHTIMEOUT": "exit_timeout", "EXITWITHKEY": "exit_key", "EXITEMPTY": "exit_empty"}


class Window(enum.Enum):
    """Which period the counters cover."""

    TODAY = "today"  # since local midnight
    ROLLING = "rolling"  # the last N minutes
    START = "start"  # since the process started


class ServiceLevelFormula(enum.Enum):
    """The industry's ways to compute the service level (see docs/statistics.md)."""

    #: answered within threshold / offered (every unanswered call counts against).
    OFFERED = "offered"
    #: answered within threshold / (offered - abandoned within threshold): short abandons excluded.
    SHORT_ABANDONS_EXCLUDED = "short-abandons-excluded"
    #: answered within threshold / answered (abandons ignored).
    ANSWERED = "answered"
    #: (answered + abandoned within threshold) / (answered + abandoned), Asterisk's ``SL2``.
    ABANDONS_MET = "abandons-met"


DEFAULT_FORMULA = ServiceLevelFormula.SHORT_ABANDONS_EXCLUDED


class QueueLogLike(Protocol):
    @property
    def time(self) -> datetime: ...
    @property
    def callid(self) -> str: ...
    @property
    def queuename(self) -> str: ...
    @property
    def agent(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def data1(self) -> str: ...
    @property
    def data2(self) -> str: ...
    @property
    def data3(self) -> str: ...
    @property
    def data4(self) -> str: ...


@dataclass(frozen=True)
class StatisticsSettings:
    """How the statistics are kept and shown; read from ``OC_STATS_*`` by the service."""

    window: Window = Window.TODAY
    #: Default length of the rolling window; also how long its history is kept (the longest allowed).
    rolling_minutes: int = 60
    #: Granularity of the rolling window's counters.
    bucket_seconds: int = 10
    formula: ServiceLevelFormula = DEFAULT_FORMULA
    #: Threshold of campaigns whose ``servicelevel`` is 0.
    default_threshold: int = DEFAULT_THRESHOLD

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StatisticsSettings:
        """``OC_STATS_WINDOW`` (today/rolling/start), ``OC_STATS_ROLLING_MINUTES``,
        ``OC_STATS_FORMULA``, ``OC_STATS_DEFAULT_THRESHOLD``; bad values raise ValueError."""
        defaults = cls()
        return cls(
            window=Window(env.get("OC_STATS_WINDOW", "").strip() or defaults.window.value),
            rolling_minutes=max(1, int(env.get("OC_STATS_ROLLING_MINUTES", "") or defaults.rolling_minutes)),
            formula=ServiceLevelFormula(env.get("OC_STATS_FORMULA", "").strip() or defaults.formula.value),
            default_threshold=max(
                0, int(env.get("OC_STATS_DEFAULT_THRESHOLD", "") or defaults.default_threshold)
            ),
        )


@dataclass(slots=True)
class Counters:
    """Additive figures of one period (campaign or agent); ``max_*`` fields combine by maximum."""

    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    abandoned_in_sl: int = 0
    exit_timeout: int = 0
    exit_key: int = 0
    exit_empty: int = 0
    ring_no_answer: int = 0
    handled: int = 0
    transferred: int = 0
    answer_wait: float = 0.0
    abandon_wait: float = 0.0
    max_answer_wait: float = 0.0
    talk: float = 0.0
    hold: float = 0.0
    wrapup: float = 0.0

    def add(self, other: Counters) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            setattr(self, f.name, max(mine, theirs) if f.name.startswith("max_") else mine + theirs)

    @property
    def exited(self) -> int:
        return self.exit_timeout + self.exit_key + self.exit_empty


class WindowedCounters:
    """One set of counters kept since start, for today and per rolling bucket."""

    __slots__ = ("_bucket_seconds", "_buckets", "_day", "_retention", "start", "today")

    def __init__(self, bucket_seconds: int, retention_seconds: int) -> None:
        self.start = Counters()
        self.today = Counters()
        self._day: date | None = None
        self._bucket_seconds = bucket_seconds
        self._retention = retention_seconds
        self._buckets: deque[tuple[float, Counters]] = deque()

    def at(self, when: float) -> list[Counters]:
        """The counters an event at ``when`` adds to (callers then add to each)."""
        day = datetime.fromtimestamp(when).date()
        if self._day is None or day > self._day:
            self._day, self.today = day, Counters()
        slot = when - when % self._bucket_seconds
        if self._buckets and self._buckets[-1][0] >= slot:
            bucket = self._buckets[-1][1]  # same bucket, or an event slightly out of order
        else:
            bucket = Counters()
            self._buckets.append((slot, bucket))
            while self._buckets and self._buckets[0][0] < when - self._retention - self._bucket_seconds:
                self._buckets.popleft()
        return [self.start, self.today, bucket] if day == self._day else [self.start, bucket]

    def read(self, window: Window, now: float, minutes: int) -> Counters:
        if window is Window.START:
            return self.start
        if window is Window.TODAY:
            return self.today if self._day == datetime.fromtimestamp(now).date() else Counters()
        since = now - minutes * 60
        total = Counters()
        for slot, bucket in reversed(self._buckets):
            if slot + self._bucket_seconds <= since:
                break
            total.add(bucket)
        return total


class StateClock:
    """Time an agent spent in each state: running totals and the recent history of changes."""

    __slots__ = ("_history", "_times", "_totals", "since", "state")

    def __init__(self, state: str, since: float) -> None:
        self.state = state
        self.since = since
        self._totals = [0.0] * len(_STATE_INDEX)
        # (time of change, totals at that time, state from then on), oldest first.
        self._times: deque[float] = deque([since])
        self._history: deque[tuple[list[float], str]] = deque([(list(self._totals), state)])

    def change(self, state: str, at: float, keep_from: float) -> float:
        """Enter ``state`` at ``at``; returns the seconds spent in the state left."""
        at = max(at, self.since)
        spent = at - self.since
        self._totals[_STATE_INDEX[self.state]] += spent
        self.state, self.since = state, at
        self._times.append(at)
        self._history.append((list(self._totals), state))
        # Keep one change at or before ``keep_from`` so that times from then on can be read.
        while len(self._times) > 1 and self._times[1] <= keep_from:
            self._times.popleft()
            self._history.popleft()
        return spent

    def totals_at(self, when: float) -> list[float]:
        """Seconds per state from the first change kept up to ``when``."""
        if when >= self.since:
            totals = list(self._totals)
            totals[_STATE_INDEX[self.state]] += when - self.since
            return totals
        i = bisect.bisect_right(self._times, when) - 1
        if i < 0:
            return [0.0] * len(_STATE_INDEX)
        snapshot, state = self._history[i]
        totals = list(snapshot)
        totals[_STATE_INDEX[state]] += when - self._times[i]
        return totals

    def between(self, start: float, end: float) -> dict[str, float]:
        """Seconds per state from ``start`` (-inf: since the clock began) to ``end``."""
        after = self.totals_at(end)
        before = [0.0] * len(after) if start == float("-inf") else self.totals_at(max(start, self._times[0]))
        return {name: max(0.0, after[i] - before[i]) for name, i in _STATE_INDEX.items()}


@dataclass
class _Campaign:
    counters: WindowedCounters
    #: callid -> time it entered the queue, oldest first.
    waiting: dict[str, float] = field(default_factory=dict)
    talking: set[str] = field(default_factory=set)


@dataclass
class _Agent:
    clock: StateClock
    counters: WindowedCounters
    campaigns: list[str] = field(default_factory=list)
    pause_reason: str = ""
    #: Campaign of the agent's last handled call, which its next wrap-up is counted to.
    last_campaign: str = ""


@dataclass
class _LiveCall:
    campaign: str
    entered: float
    agent: str = ""
    held_since: float | None = None
    hold: float = 0.0


def _seconds(text: str) -> float | None:
    try:
        return max(0.0, float(text))
    except ValueError:
        return None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def service_level(counters: Counters, formula: ServiceLevelFormula) -> float | None:
    """The share (0..1) of calls served within the threshold; None when nothing counts yet."""
    c = counters
    if formula is ServiceLevelFormula.OFFERED:
        return _ratio(c.answered_in_sl, c.answered + c.abandoned + c.exited)
    if formula is ServiceLevelFormula.SHORT_ABANDONS_EXCLUDED:
        return _ratio(c.answered_in_sl, c.answered + c.abandoned - c.abandoned_in_sl + c.exited)
    if formula is ServiceLevelFormula.ANSWERED:
        return _ratio(c.answered_in_sl, c.answered)
    return _ratio(c.answered_in_sl + c.abandoned_in_sl, c.answered + c.abandoned)


class CallStatistics:
    """Campaign and agent figures, updated per event; read with :meth:`campaign` and :meth:`agent`."""

    def __init__(
        self,
        settings: StatisticsSettings | None = None,
        *,
        clock: Callable[[], float],
        threshold_for: Callable[[str], int | None] = lambda _name: None,
    ) -> None:
        self.settings = settings or StatisticsSettings()
        self.clock = clock
        #: The campaign's ``servicelevel`` seconds (None or 0: ``settings.default_threshold``).
        self.threshold_for = threshold_for
        self.campaigns: dict[str, _Campaign] = {}
        self.agents: dict[str, _Agent] = {}
        self.calls: dict[str, _LiveCall] = {}
        self.rows_seen = 0

    # Inputs -----------------------------------------------------------------------------------------

    def threshold(self, campaign: str) -> int:
        found = self.threshold_for(campaign)
        return found if found else self.settings.default_threshold

    def _counters(self) -> WindowedCounters:
        return WindowedCounters(self.settings.bucket_seconds, self.settings.rolling_minutes * 60)

    def _campaign(self, name: str) -> _Campaign:
        found = self.campaigns.get(name)
        if found is None:
            found = self.campaigns[name] = _Campaign(self._counters())
        return found

    def _agent(self, name: str, at: float) -> _Agent:
        found = self.agents.get(name)
        if found is None:
            found = self.agents[name] = _Agent(StateClock(DISCONNECTED, at), self._counters())
        return found

    def _keep_from(self, now: float) -> float:
        """Agents' history older than this is no longer needed by any window."""
        midnight = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0)
        return min(midnight.timestamp(), now - self.settings.rolling_minutes * 60)

    def record(self, row: QueueLogLike) -> None:
        """Fold one queue_log row in; unknown events and malformed data are ignored."""
        self.rows_seen += 1
        at = row.time.timestamp()
        event = row.event
        if event == "ENTERQUEUE":
            campaign = self._campaign(row.queuename)
            campaign.waiting.pop(row.callid, None)
            campaign.waiting[row.callid] = at
            self.calls[row.callid] = _LiveCall(row.queuename, at)
            for c in campaign.counters.at(at):
                c.offered += 1
        elif event == "CONNECT":
            self._connect(row, at)
        elif event in HANDLED_EVENTS:
            self._handled(row, at)
        elif event == "ABANDON":
            self._left_queue(row.callid, row.queuename)
            wait = _seconds(row.data3) or 0.0
            in_sl = wait <= self.threshold(row.queuename)
            for c in self._campaign(row.queuename).counters.at(at):
                c.abandoned += 1
                c.abandoned_in_sl += in_sl
                c.abandon_wait += wait
        elif event in EXIT_EVENTS:
            self._left_queue(row.callid, row.queuename)
            name = EXIT_EVENTS[event]
            for c in self._campaign(row.queuename).counters.at(at):
                setattr(c, name, getattr(c, name) + 1)
        elif event == "RINGNOANSWER":
            for c in (
                *self._campaign(row.queuename).counters.at(at),
                *self._agent(row.agent, at).counters.at(at),
            ):
                c.ring_no_answer += 1
        elif event in ("HOLD", "UNHOLD"):
            call = self.calls.get(row.callid)
            if call is not None:
                if event == "HOLD" and call.held_since is None:
                    call.held_since = at
                elif event == "UNHOLD" and call.held_since is not None:
                    call.hold += max(0.0, at - call.held_since)
                    call.held_since = None
        # AGENTLOGIN/OFF, PAUSE/UNPAUSE(ALL), ADD/REMOVEMEMBER: the agent-state feed carries these
        # (with ringing and wrap-up, which queue_log lacks); counting both would count twice.

    def _left_queue(self, callid: str, campaign: str) -> None:
        self._campaign(campaign).waiting.pop(callid, None)
        self.calls.pop(callid, None)

    def _connect(self, row: QueueLogLike, at: float) -> None:
        campaign = self._campaign(row.queuename)
        entered = campaign.waiting.pop(row.callid, None)
        wait = _seconds(row.data1)
        if wait is None:
            wait = max(0.0, at - entered) if entered is not None else 0.0
        call = self.calls.get(row.callid) or _LiveCall(row.queuename, at - wait)
        call.agent = row.agent
        self.calls[row.callid] = call
        campaign.talking.add(row.callid)
        in_sl = wait <= self.threshold(row.queuename)
        for c in campaign.counters.at(at):
            c.answered += 1
            c.answered_in_sl += in_sl
            c.answer_wait += wait
            c.max_answer_wait = max(c.max_answer_wait, wait)
        for c in self._agent(row.agent, at).counters.at(at):
            c.answered += 1

    def _handled(self, row: QueueLogLike, at: float) -> None:
        campaign = self._campaign(row.queuename)
        campaign.talking.discard(row.callid)
        call = self.calls.pop(row.callid, None)
        calltime = _seconds(row.data4 if row.event.endswith("TRANSFER") else row.data2) or 0.0
        hold = 0.0
        if call is not None:
            hold = call.hold + (max(0.0, at - call.held_since) if call.held_since is not None else 0.0)
        hold = min(hold, calltime)
        agent = self._agent(row.agent, at)
        agent.last_campaign = row.queuename
        for c in (*campaign.counters.at(at), *agent.counters.at(at)):
            c.handled += 1
            c.transferred += row.event.endswith("TRANSFER")
            c.talk += calltime - hold
            c.hold += hold

    def agent_state(
        self, agent: str, state: str, campaigns: Iterable[str], at: float, pause_reason: str = ""
    ) -> None:
        """An agent entered ``state`` at ``at``; a wrap-up that ends is counted to its call's campaign."""
        if state not in _STATE_INDEX:
            return
        found = self._agent(agent, at)
        found.campaigns = sorted(campaigns)
        found.pause_reason = pause_reason if state == PAUSED else ""
        for name in found.campaigns:
            self._campaign(name)
        left = found.clock.state
        if left == state:
            return
        spent = found.clock.change(state, at, self._keep_from(self.clock()))
        if left == WRAPUP and spent > 0:
            targets = list(found.counters.at(at))
            if found.last_campaign:
                targets += self._campaign(found.last_campaign).counters.at(at)
            for c in targets:
                c.wrapup += spent

    # Reading ----------------------------------------------------------------------------------------

    def _period(self, window: Window | None, minutes: int | None) -> tuple[Window, int, float, float]:
        now = self.clock()
        window = window or self.settings.window
        minutes = min(minutes or self.settings.rolling_minutes, self.settings.rolling_minutes)
        if window is Window.ROLLING:
            start = now - minutes * 60
        elif window is Window.TODAY:
            start = datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        else:
            start = float("-inf")
        return window, minutes, start, now

    def _agent_times(
        self, name: str, agent: _Agent, start: float, now: float, cache: dict[str, dict[str, float]] | None
    ) -> dict[str, float]:
        if cache is None:
            return agent.clock.between(start, now)
        found = cache.get(name)
        if found is None:
            found = cache[name] = agent.clock.between(start, now)
        return found

    def campaign(
        self,
        name: str,
        *,
        window: Window | None = None,
        minutes: int | None = None,
        formula: ServiceLevelFormula | None = None,
        _times: dict[str, dict[str, float]] | None = None,
    ) -> dict[str, Any]:
        """One campaign's figures (a campaign never seen reads as zeros)."""
        window, minutes, start, now = self._period(window, minutes)
        formula = formula or self.settings.formula
        found = self.campaigns.get(name)
        c = found.counters.read(window, now, minutes) if found else Counters()
        oldest = next(iter(found.waiting.values()), None) if found and found.waiting else None
        busy = wrapup = staffed = 0.0
        states = {s: 0 for s in _STATE_INDEX if s != DISCONNECTED}
        for agent_name, agent in self.agents.items():
            if name not in agent.campaigns:
                continue
            if agent.clock.state != DISCONNECTED:
                states[agent.clock.state] += 1
            times = self._agent_times(agent_name, agent, start, now, _times)
            busy += times[BUSY]
            wrapup += times[WRAPUP]
            staffed += _staffed(times)
        handle_time = c.talk + c.hold + c.wrapup
        return {
            "campaign": name,
            "window": window.value,
            "minutes": minutes if window is Window.ROLLING else None,
            "threshold": self.threshold(name),
            "formula": formula.value,
            "waiting": len(found.waiting) if found else 0,
            "longest_wait": round(max(0.0, now - oldest), 3) if oldest is not None else 0.0,
            "talking": len(found.talking) if found else 0,
            "offered": c.offered,
            "answered": c.answered,
            "answered_in_threshold": c.answered_in_sl,
            "abandoned": c.abandoned,
            "abandoned_in_threshold": c.abandoned_in_sl,
            "exited": c.exited,
            "exit_timeout": c.exit_timeout,
            "exit_key": c.exit_key,
            "exit_empty": c.exit_empty,
            "ring_no_answer": c.ring_no_answer,
            "handled": c.handled,
            "transferred": c.transferred,
            "service_level": service_level(c, formula),
            "service_levels": {f.value: service_level(c, f) for f in ServiceLevelFormula},
            "abandon_rate": _ratio(c.abandoned, c.answered + c.abandoned + c.exited),
            "asa": _ratio(c.answer_wait, c.answered),
            "average_abandon_wait": _ratio(c.abandon_wait, c.abandoned),
            "longest_answer_wait": round(c.max_answer_wait, 3),
            "aht": _ratio(handle_time, c.handled),
            "talk_time": round(c.talk, 3),
            "hold_time": round(c.hold, 3),
            "wrapup_time": round(c.wrapup, 3),
            "occupancy": _ratio(busy + wrapup, staffed),
            "agents_logged_in": sum(states.values()),
            "agents_free": states[FREE],
            "agents_ringing": states[RINGING],
            "agents_busy": states[BUSY],
            "agents_wrapup": states[WRAPUP],
            "agents_paused": states[PAUSED],
        }

    def agent(self, name: str, *, window: Window | None = None, minutes: int | None = None) -> dict[str, Any]:
        """One agent's state, time in it, calls and times over the window."""
        window, minutes, start, now = self._period(window, minutes)
        found = self.agents.get(name)
        if found is None:
            found = _Agent(StateClock(DISCONNECTED, now), self._counters())
        c = found.counters.read(window, now, minutes)
        times = found.clock.between(start, now)
        staffed = _staffed(times)
        return {
            "agent": name,
            "window": window.value,
            "minutes": minutes if window is Window.ROLLING else None,
            "state": found.clock.state,
            "since": found.clock.since,
            "time_in_state": round(max(0.0, now - found.clock.since), 3),
            "pause_reason": found.pause_reason,
            "campaigns": list(found.campaigns),
            "calls": c.answered,
            "handled": c.handled,
            "ring_no_answer": c.ring_no_answer,
            "talk_time": round(times[BUSY], 3),
            "wrapup_time": round(times[WRAPUP], 3),
            "break_time": round(times[PAUSED], 3),
            "ringing_time": round(times[RINGING], 3),
            "free_time": round(times[FREE], 3),
            "logged_in_time": round(sum(v for k, v in times.items() if k != DISCONNECTED), 3),
            "occupancy": _ratio(times[BUSY] + times[WRAPUP], staffed),
        }

    def snapshot(
        self,
        campaign: str | None = None,
        *,
        campaigns: Iterable[str] = (),
        window: Window | None = None,
        minutes: int | None = None,
        formula: ServiceLevelFormula | None = None,
    ) -> dict[str, Any]:
        """Every campaign (those seen plus ``campaigns``) and agent, or one campaign and its agents."""
        if campaign is not None:
            names = [campaign]
            agents = sorted(a for a, found in self.agents.items() if campaign in found.campaigns)
        else:
            names = sorted(set(self.campaigns) | set(campaigns))
            agents = sorted(self.agents)
        window, minutes, _start, now = self._period(window, minutes)
        times: dict[str, dict[str, float]] = {}
        return {
            "time": now,
            "window": window.value,
            "minutes": minutes if window is Window.ROLLING else None,
            "formula": (formula or self.settings.formula).value,
            "campaigns": [
                self.campaign(n, window=window, minutes=minutes, formula=formula, _times=times) for n in names
            ],
            "agents": [self.agent(a, window=window, minutes=minutes) for a in agents],
        }


def _staffed(times: dict[str, float]) -> float:
    """Logged-in time less breaks: the time an agent was there to take calls."""
    return sum(v for k, v in times.items() if k not in (DISCONNECTED, PAUSED))

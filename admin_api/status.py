"""Live view of campaigns and agents, kept up to date from the events the Stasis app publishes.

The Stasis app owns the calls; the API only listens. Events arrive on the bus thread while HTTP
requests read the view on server threads, so every access goes through one lock. Counters are since the
API started (the view is a live board, not a report: reports come from queue_log).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from admin_api.bus_link import EVENTS, EventSource, Message
from bus import messages

log = logging.getLogger(__name__)

# Events after which a caller is no longer waiting.
_LEAVES_QUEUE = frozenset({messages.CALL_CONNECTED, messages.CALL_ENDED, messages.CALL_ABANDONED})
# Agent states in which an agent has no call.
_NO_CALL_STATES = frozenset(
    {messages.AGENT_DISCONNECTED, messages.AGENT_FREE, messages.AGENT_WRAPUP, messages.AGENT_PAUSED}
)


@dataclass
class _WaitingCall:
    callid: str
    caller: str
    since: float


@dataclass
class _CampaignBoard:
    waiting: dict[str, _WaitingCall] = field(default_factory=dict)
    talking: set[str] = field(default_factory=set)
    answered: int = 0
    abandoned: int = 0
    entered: int = 0


@dataclass
class _AgentBoard:
    state: str
    since: float
    campaigns: list[str] = field(default_factory=list)
    call: dict[str, str] | None = None


class LiveStatus:
    """Folds `call.*` and `agent.state` events into per-campaign and per-agent figures."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._campaigns: dict[str, _CampaignBoard] = {}
        self._agents: dict[str, _AgentBoard] = {}
        self._events_seen = 0

    def attach(self, source: EventSource) -> None:
        """Start listening on the events channel."""
        source.subscribe(EVENTS, self.handle)

    def handle(self, message: Message) -> None:
        """Apply one event; malformed events are logged and dropped, never raised into the bus."""
        try:
            self._apply(message)
        except (KeyError, TypeError, ValueError):
            log.warning("status view ignored a malformed event: %r", message)

    def _event_time(self, message: Message) -> float:
        stamp = message.get("time")
        if isinstance(stamp, int | float) and not isinstance(stamp, bool):
            return float(stamp)
        return self._clock()

    def _apply(self, message: Message) -> None:
        kind = str(message.get("type", ""))
        if kind == "agent.state":
            self._apply_agent_state(message)
        elif kind.startswith("call."):
            self._apply_call(kind, message)
        else:
            return
        with self._lock:
            self._events_seen += 1

    def _apply_agent_state(self, message: Message) -> None:
        agent = str(message["agent"])
        since = message.get("since")
        when = float(since) if isinstance(since, int | float) else self._event_time(message)
        campaigns = message.get("campaigns") or []
        with self._lock:
            board = self._agents.get(agent)
            if board is None:
                board = self._agents[agent] = _AgentBoard(state=str(message["state"]), since=when)
            board.state = str(message["state"])
            board.since = when
            board.campaigns = [str(name) for name in campaigns]
            if board.state in _NO_CALL_STATES:
                board.call = None

    def _apply_call(self, kind: str, message: Message) -> None:
        campaign = str(message["campaign"])
        callid = str(message["callid"])
        caller = str(message.get("caller", ""))
        agent = message.get("agent")
        now = self._event_time(message)
        with self._lock:
            board = self._campaigns.setdefault(campaign, _CampaignBoard())
            if kind == "call.entered":
                board.entered += 1
                board.waiting[callid] = _WaitingCall(callid, caller, now)
            elif kind in _LEAVES_QUEUE:
                board.waiting.pop(callid, None)
            if kind == messages.CALL_RINGING and agent:
                agent_board = self._agents.setdefault(str(agent), _AgentBoard(messages.AGENT_RINGING, now))
                agent_board.call = {"callid": callid, "campaign": campaign, "caller": caller}
            elif kind == messages.CALL_CONNECTED:
                board.answered += 1
                board.talking.add(callid)
                if agent:
                    agent_board = self._agents.setdefault(str(agent), _AgentBoard(messages.AGENT_BUSY, now))
                    agent_board.call = {"callid": callid, "campaign": campaign, "caller": caller}
            elif kind == "call.abandoned":
                board.abandoned += 1
            elif kind == "call.ended":
                board.talking.discard(callid)
                for agent_board in self._agents.values():
                    if agent_board.call and agent_board.call["callid"] == callid:
                        agent_board.call = None

    def snapshot(
        self, campaign_names: list[str] | None = None, agent_names: list[str] | None = None
    ) -> dict[str, Any]:
        """The board as JSON-ready data; known campaigns/agents with no events yet show as zero/offline."""
        now = self._clock()
        with self._lock:
            names = sorted(set(self._campaigns) | set(campaign_names or []))
            campaigns = []
            for name in names:
                board = self._campaigns.get(name, _CampaignBoard())
                oldest = min((w.since for w in board.waiting.values()), default=None)
                campaigns.append(
                    {
                        "name": name,
                        "waiting": len(board.waiting),
                        "talking": len(board.talking),
                        "answered": board.answered,
                        "abandoned": board.abandoned,
                        "entered": board.entered,
                        "longest_wait_seconds": round(now - oldest, 3) if oldest is not None else 0.0,
                    }
                )
            agent_list = []
            for agent in sorted(set(self._agents) | set(agent_names or [])):
                found = self._agents.get(agent)
                agent_list.append(
                    {
                        "agent": agent,
                        "state": found.state if found else messages.AGENT_DISCONNECTED,
                        "since": found.since if found else None,
                        "campaigns": list(found.campaigns) if found else [],
                        "call": dict(found.call) if found and found.call else None,
                    }
                )
            return {"time": now, "events": self._events_seen, "campaigns": campaigns, "agents": agent_list}

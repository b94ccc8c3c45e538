"""Agents, the campaigns they work in, and their state.

An agent is a campaign member (``queue_members.membername``) who logged in on a phone (its
interface, e.g. ``PJSIP/1001``). What the agent is doing is kept as separate facts: logged in or not,
paused (with a reason: a break) or not, the call it is ringing for or talking on, and the end of its
wrap-up. The state shown to supervisors (:class:`AgentState`) is derived from those facts, so a pause
asked for during a call takes effect when the call ends without any extra bookkeeping.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from stasis_app.acd.campaigns import MemberConfig


class AgentState(enum.Enum):
    DISCONNECTED = "disconnected"
    FREE = "free"
    RINGING = "ringing"
    BUSY = "busy"
    WRAPUP = "wrap-up"
    PAUSED = "paused"


class Activity(enum.Enum):
    IDLE = "idle"
    RINGING = "ringing"
    TALKING = "talking"


class AgentError(ValueError):
    """A command about an agent that cannot apply (unknown agent, not logged in...)."""


@dataclass
class Agent:
    name: str
    interface: str = ""
    logged_in: bool = False
    #: Campaigns the agent takes calls for while logged in.
    campaigns: set[str] = field(default_factory=set)
    paused: bool = False
    pause_reason: str = ""
    activity: Activity = Activity.IDLE
    call: str | None = None
    wrapup_until: float = 0.0
    login_at: float = 0.0
    #: When the agent last finished a call (0: never), for the least-recent strategy.
    last_call_end: float = 0.0
    calls_taken: int = 0

    def state(self, now: float) -> AgentState:
        if not self.logged_in:
            return AgentState.DISCONNECTED
        if self.activity is Activity.RINGING:
            return AgentState.RINGING
        if self.activity is Activity.TALKING:
            return AgentState.BUSY
        if self.paused:
            return AgentState.PAUSED
        if self.wrapup_until > now:
            return AgentState.WRAPUP
        return AgentState.FREE

    def available(self, now: float) -> bool:
        return self.state(now) is AgentState.FREE


@dataclass(frozen=True)
class MemberChanges:
    """What a reload of campaign members changed."""

    added: tuple[MemberConfig, ...] = ()
    removed: tuple[MemberConfig, ...] = ()


def interface_matches(interface: str, phone: str) -> bool:
    """``PJSIP/1001`` matches ``1001`` and ``PJSIP/1001``; ``Local/1001@ctx`` matches ``1001``."""
    if not interface or not phone:
        return False
    if interface == phone:
        return True
    resource = interface.split("/", 1)[-1]
    return resource == phone or resource.split("@", 1)[0] == phone


class AgentRegistry:
    """Every agent known from campaign members, and what each is doing."""

    def __init__(self) -> None:
        self.members: dict[str, dict[str, MemberConfig]] = {}
        self.agents: dict[str, Agent] = {}

    # Membership --------------------------------------------------------------------------------

    def set_members(
        self, members: Iterable[MemberConfig], campaigns: Iterable[str] | None = None
    ) -> MemberChanges:
        """Replace the members of ``campaigns`` (all when None) with ``members``; report the difference."""
        fresh: dict[str, dict[str, MemberConfig]] = {}
        for member in members:
            fresh.setdefault(member.campaign, {})[member.agent] = member
        names = set(self.members) | set(fresh) if campaigns is None else set(campaigns)
        added: list[MemberConfig] = []
        removed: list[MemberConfig] = []
        for campaign in sorted(names):
            before = self.members.get(campaign, {})
            after = fresh.get(campaign, {})
            added.extend(after[agent] for agent in sorted(after) if agent not in before)
            removed.extend(before[agent] for agent in sorted(before) if agent not in after)
            if after:
                self.members[campaign] = after
            else:
                self.members.pop(campaign, None)
        for member in removed:
            agent = self.agents.get(member.agent)
            if agent is not None:
                agent.campaigns.discard(member.campaign)
        for by_agent in self.members.values():
            for name in by_agent:
                self.agents.setdefault(name, Agent(name))
        return MemberChanges(tuple(added), tuple(removed))

    def member_of(self, name: str) -> list[str]:
        return sorted(campaign for campaign, by_agent in self.members.items() if name in by_agent)

    def member(self, campaign: str, name: str) -> MemberConfig | None:
        return self.members.get(campaign, {}).get(name)

    def get(self, name: str) -> Agent:
        agent = self.agents.get(name)
        if agent is None:
            raise AgentError(f"unknown agent {name!r} (not a member of any campaign)")
        return agent

    def by_phone(self, phone: str) -> Agent | None:
        """The logged-in agent on that phone (extension or interface)."""
        for agent in self.agents.values():
            if agent.logged_in and interface_matches(agent.interface, phone):
                return agent
        return None

    # Login, logoff, pause ----------------------------------------------------------------------

    def login(self, name: str, interface: str, campaigns: Iterable[str] | None, now: float) -> Agent:
        """Log in on ``interface`` (empty: the member row's) for ``campaigns`` (None: all of them)."""
        agent = self.get(name)
        memberships = self.member_of(name)
        wanted = memberships if campaigns is None else [c for c in campaigns if c in memberships]
        if not wanted:
            raise AgentError(f"agent {name!r} is not a member of {sorted(campaigns or [])}")
        if not interface:
            interface = next(
                (m.interface for c in wanted if (m := self.member(c, name)) is not None and m.interface), ""
            )
        if not interface:
            raise AgentError(f"agent {name!r} has no phone to ring")
        if not agent.logged_in:
            agent.login_at = now
            agent.paused = any((m := self.member(c, name)) is not None and m.paused for c in wanted)
            agent.pause_reason = ""
        agent.logged_in = True
        agent.interface = interface
        agent.campaigns = set(wanted)
        return agent

    def logoff(self, name: str, now: float) -> tuple[Agent, float]:
        """Log off; answers the agent and the seconds it was logged in."""
        agent = self.get(name)
        if not agent.logged_in:
            raise AgentError(f"agent {name!r} is not logged in")
        seconds = max(0.0, now - agent.login_at)
        agent.logged_in = False
        agent.campaigns = set()
        agent.paused = False
        agent.pause_reason = ""
        agent.wrapup_until = 0.0
        return agent, seconds

    def pause(self, name: str, paused: bool, reason: str) -> Agent:
        agent = self.get(name)
        if not agent.logged_in:
            raise AgentError(f"agent {name!r} is not logged in")
        agent.paused = paused
        agent.pause_reason = reason if paused else ""
        return agent

    # Calls -------------------------------------------------------------------------------------

    def start_ringing(self, name: str, callid: str) -> Agent:
        agent = self.get(name)
        agent.activity = Activity.RINGING
        agent.call = callid
        return agent

    def stop_ringing(self, name: str, callid: str) -> Agent | None:
        """The offer of ``callid`` ended unanswered; a no-op if the agent moved on meanwhile."""
        agent = self.agents.get(name)
        if agent is None or agent.call != callid or agent.activity is not Activity.RINGING:
            return None
        agent.activity = Activity.IDLE
        agent.call = None
        return agent

    def connect(self, name: str, callid: str) -> Agent:
        agent = self.get(name)
        agent.activity = Activity.TALKING
        agent.call = callid
        return agent

    def end_call(self, name: str, callid: str, now: float, wrapup: float) -> Agent | None:
        """The call ended; the agent goes through ``wrapup`` seconds of wrap-up (if logged in)."""
        agent = self.agents.get(name)
        if agent is None or agent.call != callid:
            return None
        agent.activity = Activity.IDLE
        agent.call = None
        agent.last_call_end = now
        agent.calls_taken += 1
        agent.wrapup_until = now + wrapup if agent.logged_in and wrapup > 0 else 0.0
        return agent

    def available(self, campaign: str, now: float) -> list[Agent]:
        """Agents logged in for ``campaign`` who could take a call right now."""
        return [
            agent
            for name in sorted(self.members.get(campaign, {}))
            if (agent := self.agents.get(name)) is not None
            and campaign in agent.campaigns
            and agent.available(now)
        ]

    def next_wrapup_end(self, now: float) -> float | None:
        ends = [a.wrapup_until for a in self.agents.values() if a.logged_in and a.wrapup_until > now]
        return min(ends) if ends else None

"""Agents, the campaigns they work in, their state, and the indexes routing reads.

An agent is a campaign member (``queue_members.membername``) who logged in on a phone (its
interface, e.g. ``PJSIP/1001``). What the agent is doing is kept as separate facts: logged in or not,
paused (a break: for every campaign, or for some campaigns only) or not, the call it is ringing for
or talking on, and the end of its last call. The state shown to supervisors (:class:`AgentState`)
is derived from those facts, so a pause asked for during a call takes effect when the call ends
without any extra bookkeeping.

Routing must not look at every agent of every campaign on each event. The registry therefore keeps,
per campaign, a :class:`~stasis_app.acd.strategies.MemberIndex` holding that campaign's members
sorted for its strategy, with the members that may be rung now marked free. Every change of an
agent touches only the indexes of the campaigns that agent belongs to, and names those campaigns as
*dirty* so that the router looks at them (and only them) next. Wrap-ups end on a timer heap.

As with Asterisk's ``shared_lastcall=yes``, the end of an agent's last call and its call count are
shared by all its campaigns; the wrap-up after a call is the member row's own ``wrapuptime`` or,
without one, the wrap-up of the campaign that call came from (``lastqueue``).
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.parameters import (
    DeviceState,
    EmptyCondition,
    MemberState,
    campaign_is_empty,
    in_wrapup,
    status_available,
    wrapup_seconds,
)
from stasis_app.acd.strategies import MemberFacts, MemberIndex, Strategy, parse_strategy

#: The break motives the product ships with; campaigns may add their own.
BREAK_MOTIVES = ("BATHROOM", "TRAINING", "LUNCH", "PERSONAL", "OTHER")


class AgentState(enum.Enum):
    DISCONNECTED = "disconnected"
    FREE = "free"
    RINGING = "ringing"
    BUSY = "busy"
    WRAPUP = "wrap-up"
    PAUSED = "paused"


class SeedStatus(enum.Enum):
    """The five states supervisors' monitors name."""

    DISCONNECTED = "disconnected"
    FREE = "free"
    BUSY = "busy"
    FREE_ON_BREAK = "free on break"
    BUSY_ON_BREAK = "busy on break"


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
    #: Paused in every campaign (a break), with its motive.
    paused: bool = False
    pause_reason: str = ""
    #: Paused in some campaigns only: campaign -> motive.
    paused_in: dict[str, str] = field(default_factory=dict)
    activity: Activity = Activity.IDLE
    call: str | None = None
    #: Every call the agent is ringing for or talking on (several only with ``ringinuse``).
    calls: set[str] = field(default_factory=set)
    wrapup_until: float = 0.0
    login_at: float = 0.0
    #: When the agent last finished a call (0: never), for the least-recent strategy.
    last_call_end: float = 0.0
    calls_taken: int = 0
    #: Campaign of the last call (Asterisk's ``lastqueue``) and that campaign's wrap-up.
    last_campaign: str = ""
    last_campaign_wrapup: int = 0
    #: The agent ended the current wrap-up early.
    wrapup_finished: bool = False

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

    def seed_status(self, now: float) -> SeedStatus:
        """Ringing, talking and wrap-up are all "busy"; a break in any campaign is "on break"."""
        if not self.logged_in:
            return SeedStatus.DISCONNECTED
        on_break = self.paused or bool(self.paused_in)
        busy = self.activity is not Activity.IDLE or self.wrapup_until > now
        if on_break:
            return SeedStatus.BUSY_ON_BREAK if busy else SeedStatus.FREE_ON_BREAK
        return SeedStatus.BUSY if busy else SeedStatus.FREE

    def available(self, now: float) -> bool:
        return self.state(now) is AgentState.FREE

    def wrapup_left(self, now: float) -> float:
        """Seconds of wrap-up left (the countdown agents see); 0 when not wrapping up."""
        return max(0.0, self.wrapup_until - now) if self.activity is Activity.IDLE else 0.0

    def break_reason(self, campaign: str | None = None) -> str:
        """The motive of the break in ``campaign`` (None: the break for every campaign)."""
        if self.paused:
            return self.pause_reason
        return self.paused_in.get(campaign, "") if campaign is not None else ""

    def paused_for(self, campaign: str) -> bool:
        return self.paused or campaign in self.paused_in

    def device_state(self) -> DeviceState:
        """The agent's phone as Asterisk would report it."""
        if not self.logged_in:
            return DeviceState.UNAVAILABLE
        if self.activity is Activity.RINGING:
            return DeviceState.RINGING
        if self.activity is Activity.TALKING:
            return DeviceState.INUSE
        return DeviceState.NOT_INUSE


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


def _phone_keys(interface: str) -> set[str]:
    resource = interface.split("/", 1)[-1]
    return {interface, resource, resource.split("@", 1)[0]} - {""}


class AgentRegistry:
    """Every agent known from campaign members, what each is doing, and per-campaign indexes."""

    def __init__(self) -> None:
        self.members: dict[str, dict[str, MemberConfig]] = {}
        self.agents: dict[str, Agent] = {}
        #: agent -> campaigns it is a member of.
        self._memberships: dict[str, set[str]] = {}
        self._indexes: dict[str, MemberIndex] = {}
        self._index_config: dict[str, CampaignConfig | None] = {}
        self._configs: Mapping[str, CampaignConfig] = {}
        self._dirty: set[str] = set()
        self._changed: set[str] = set()
        self._wrapups: list[tuple[float, int, str]] = []
        self._order = itertools.count(1)
        self._seq = itertools.count()
        self._phones: dict[str, set[str]] = {}
        #: (campaign, agent) -> order added, kept while the member stays.
        self._added: dict[tuple[str, str], int] = {}
        self._neighbours: dict[str, set[str]] = {}
        self._removed: dict[str, list[int]] = {}
        #: The latest time seen; state changes without a time of their own are judged at it.
        self._now = 0.0

    # Campaign settings ---------------------------------------------------------------------------

    def bind_campaigns(self, configs: Mapping[str, CampaignConfig]) -> None:
        """The campaign settings routing reads; checked lazily, campaign by campaign, when used."""
        if configs is not self._configs:
            self._configs = configs
            self._dirty.update(self._indexes)

    def config(self, campaign: str) -> CampaignConfig | None:
        return self._configs.get(campaign)

    def index(self, campaign: str) -> MemberIndex:
        """The campaign's member index, rebuilt if its strategy settings changed since last use."""
        config = self._configs.get(campaign)
        index = self._indexes.get(campaign)
        if index is not None and self._index_config.get(campaign) is config:
            return index
        strategy = parse_strategy(config.strategy) if config else Strategy.RINGALL
        limit = config.penaltymemberslimit if config else 0
        if index is None or index.strategy is not strategy or index.penaltymemberslimit != limit:
            index = MemberIndex(strategy, penaltymemberslimit=limit)
            for member in self.members.get(campaign, {}).values():
                index.add(self._facts(member))
            self._indexes[campaign] = index
        self._index_config[campaign] = config
        for name in index.names():
            self._refresh_one(name, campaign, index)
        self._dirty.add(campaign)
        return index

    def _facts(self, member: MemberConfig) -> MemberFacts:
        agent = self.agents.get(member.agent)
        added = self._added.setdefault((member.campaign, member.agent), next(self._order))
        return MemberFacts(
            member.agent,
            member.interface or (agent.interface if agent else ""),
            member.penalty,
            agent.calls_taken if agent else 0,
            int(agent.last_call_end) if agent else 0,
            added,
        )

    # Membership --------------------------------------------------------------------------------

    def set_members(
        self, members: Iterable[MemberConfig], campaigns: Iterable[str] | None = None
    ) -> MemberChanges:
        """Replace the members of ``campaigns`` (all when None) with ``members``; report the difference.

        Members keep the order given (order added); a member already present keeps its place.
        """
        self._neighbours.clear()
        fresh: dict[str, dict[str, MemberConfig]] = {}
        for member in members:
            fresh.setdefault(member.campaign, {})[member.agent] = member
        names = set(self.members) | set(fresh) if campaigns is None else set(campaigns)
        added: list[MemberConfig] = []
        removed: list[MemberConfig] = []
        for campaign in sorted(names):
            before = self.members.get(campaign, {})
            after = fresh.get(campaign, {})
            self._record_removals(campaign, before, after)
            added.extend(after[agent] for agent in sorted(after) if agent not in before)
            gone = [before[agent] for agent in sorted(before) if agent not in after]
            removed.extend(gone)
            if after:
                self.members[campaign] = after
            else:
                self.members.pop(campaign, None)
            index = self._indexes.get(campaign)
            for member in gone:
                self._memberships.get(member.agent, set()).discard(campaign)
                self._added.pop((campaign, member.agent), None)
                if index is not None:
                    index.remove(member.agent)
            for member in after.values():
                self._added.setdefault((campaign, member.agent), next(self._order))
                self.agents.setdefault(member.agent, Agent(member.agent))
                self._memberships.setdefault(member.agent, set()).add(campaign)
                if index is not None:
                    if member.agent in index:
                        index.update(self._facts(member), at=self._now)
                    else:
                        index.add(self._facts(member))
                    self._refresh_one(member.agent, campaign, index)
            self._dirty.add(campaign)
        for member in removed:
            agent = self.agents.get(member.agent)
            if agent is not None:
                agent.campaigns.discard(member.campaign)
                agent.paused_in.pop(member.campaign, None)
                self._changed.add(agent.name)
        return MemberChanges(tuple(added), tuple(removed))

    def _record_removals(
        self, campaign: str, before: Mapping[str, MemberConfig], after: Mapping[str, MemberConfig]
    ) -> None:
        """Positions (in order added) of the members leaving, one removal after another."""
        gone = [name for name in before if name not in after]
        if not gone:
            return
        order = sorted(before, key=lambda name: self._added.get((campaign, name), 0))
        log = self._removed.setdefault(campaign, [])
        for name in gone:
            log.append(order.index(name))
            order.remove(name)

    def removed_positions(self, campaign: str) -> list[int]:
        """Every member removal of ``campaign`` so far, as the position the member had."""
        return self._removed.setdefault(campaign, [])

    def member_of(self, name: str) -> list[str]:
        return sorted(self._memberships.get(name, ()))

    def member(self, campaign: str, name: str) -> MemberConfig | None:
        return self.members.get(campaign, {}).get(name)

    def get(self, name: str) -> Agent:
        agent = self.agents.get(name)
        if agent is None:
            raise AgentError(f"unknown agent {name!r} (not a member of any campaign)")
        return agent

    def by_phone(self, phone: str) -> Agent | None:
        """The logged-in agent on that phone (extension or interface)."""
        for name in sorted(self._phones.get(phone, ())):
            agent = self.agents.get(name)
            if agent is not None and agent.logged_in and interface_matches(agent.interface, phone):
                return agent
        return None

    def neighbours(self, campaign: str) -> set[str]:
        """Campaigns sharing at least one member with ``campaign`` (cached until members change)."""
        found = self._neighbours.get(campaign)
        if found is None:
            found = set()
            for name in self.members.get(campaign, {}):
                found |= self._memberships.get(name, set())
            found.discard(campaign)
            self._neighbours[campaign] = found
        return found

    # Availability --------------------------------------------------------------------------------

    def member_state(self, agent: Agent, campaign: str) -> MemberState:
        """The agent as one campaign's member, in ``app_queue``'s terms."""
        member = self.member(campaign, agent.name)
        config = self._configs.get(campaign)
        ringinuse = (
            member.ringinuse if member and member.ringinuse is not None else bool(config and config.ringinuse)
        )
        logged_here = agent.logged_in and campaign in agent.campaigns
        return MemberState(
            penalty=member.penalty if member else 0,
            paused=agent.paused_for(campaign),
            status=agent.device_state() if logged_here else DeviceState.UNAVAILABLE,
            ringinuse=ringinuse,
            lastcall=0.0 if agent.wrapup_finished else agent.last_call_end,
            wrapuptime=member.wrapuptime if member else 0,
        )

    def campaign_empty(self, campaign: str, conditions: EmptyCondition, now: float) -> bool:
        """``get_member_status`` for ``joinempty`` / ``leavewhenempty`` (no conditions: never empty).

        A member free to ring counts as present under every condition set, so with one free
        member the answer costs nothing; otherwise the campaign's members are looked at until one
        counts.
        """
        if not conditions:
            return False
        self.advance(now)
        if self.index(campaign).free_count:
            return False
        config = self._configs.get(campaign)
        states = (
            self.member_state(agent, campaign)
            for name in self.members.get(campaign, {})
            if (agent := self.agents.get(name)) is not None
        )
        return campaign_is_empty(
            states, conditions, campaign_wrapuptime=config.wrapuptime if config else 0, now=now
        )

    def wrapup_end(self, agent: Agent, campaign: str) -> float:
        """When the agent's wrap-up ends for ``campaign`` (0: none)."""
        if agent.wrapup_finished or not agent.last_call_end:
            return 0.0
        member = self.member(campaign, agent.name)
        seconds = wrapup_seconds(member.wrapuptime if member else 0, agent.last_campaign_wrapup)
        return agent.last_call_end + seconds if seconds > 0 else 0.0

    def ringable(self, agent: Agent, campaign: str, now: float) -> bool:
        """``can_ring_entry`` without the weight rule (the router applies that one)."""
        state = self.member_state(agent, campaign)
        if state.status is DeviceState.UNAVAILABLE or state.paused:
            return False
        if not state.ringinuse and not status_available(state.status):
            return False
        seconds = wrapup_seconds(state.wrapuptime, agent.last_campaign_wrapup)
        return not in_wrapup(now, state.lastcall, seconds)

    def _refresh_one(self, name: str, campaign: str, index: MemberIndex, now: float | None = None) -> None:
        agent = self.agents.get(name)
        if agent is None or name not in index:
            return
        moment = self._now if now is None else now
        free = self.ringable(agent, campaign, moment)
        if free and not index.is_free(name):
            self._dirty.add(campaign)
        index.set_free(name, free)

    def refresh(self, name: str, now: float) -> None:
        """Re-mark ``name`` free or not in each of its campaigns' indexes (only those)."""
        self._now = max(self._now, now)
        self._changed.add(name)
        for campaign in self._memberships.get(name, ()):
            index = self._indexes.get(campaign)
            if index is not None:
                self._refresh_one(name, campaign, index, now)
            else:
                self._dirty.add(campaign)

    def advance(self, now: float) -> None:
        """Wrap-ups that ended by ``now`` free their agents."""
        self._now = max(self._now, now)
        while self._wrapups and self._wrapups[0][0] <= now:
            _, _, name = heapq.heappop(self._wrapups)
            self.refresh(name, now)

    def take_dirty(self) -> set[str]:
        dirty, self._dirty = self._dirty, set()
        return dirty

    def mark_dirty(self, campaigns: Iterable[str]) -> None:
        self._dirty.update(campaigns)

    def drain_changed(self) -> set[str]:
        """Agents whose state may have changed since the last call (for publishing states)."""
        changed, self._changed = self._changed, set()
        return changed

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
            agent.paused_in = {}
        if agent.interface:
            for key in _phone_keys(agent.interface):
                self._phones.get(key, set()).discard(name)
        agent.logged_in = True
        agent.interface = interface
        agent.campaigns = set(wanted)
        for key in _phone_keys(interface):
            self._phones.setdefault(key, set()).add(name)
        self.refresh(name, now)
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
        agent.paused_in = {}
        agent.wrapup_until = 0.0
        self.refresh(name, now)
        return agent, seconds

    def pause(self, name: str, paused: bool, reason: str, campaigns: Iterable[str] | None = None) -> Agent:
        """Pause (a break with ``reason``) or unpause, in every campaign or in ``campaigns`` only."""
        agent = self.get(name)
        if not agent.logged_in:
            raise AgentError(f"agent {name!r} is not logged in")
        if campaigns is None:
            agent.paused = paused
            agent.pause_reason = reason if paused else ""
            if not paused:
                agent.paused_in = {}
        else:
            for campaign in campaigns:
                if paused:
                    agent.paused_in[campaign] = reason
                else:
                    agent.paused_in.pop(campaign, None)
        self.refresh(name, self._now)
        return agent

    def finish_wrapup(self, name: str, now: float) -> float:
        """End the wrap-up early (``FINISHWRAPUP``); answers the seconds that were left."""
        agent = self.get(name)
        left = max(0.0, agent.wrapup_until - now)
        agent.wrapup_until = 0.0
        agent.wrapup_finished = True
        self.refresh(name, now)
        return left

    # Calls -------------------------------------------------------------------------------------

    def start_ringing(self, name: str, callid: str) -> Agent:
        agent = self.get(name)
        if agent.activity is Activity.IDLE:
            agent.activity = Activity.RINGING
        agent.call = callid
        agent.calls.add(callid)
        self.refresh(name, self._now)
        return agent

    def stop_ringing(self, name: str, callid: str) -> Agent | None:
        """The offer of ``callid`` ended unanswered; a no-op if the agent moved on meanwhile."""
        agent = self.agents.get(name)
        if agent is None or callid not in agent.calls:
            return None
        if agent.activity is Activity.TALKING and agent.call == callid:
            return None
        agent.calls.discard(callid)
        if agent.call == callid:
            agent.call = next(iter(sorted(agent.calls)), None)
        if not agent.calls:
            agent.activity = Activity.IDLE
        self.refresh(name, self._now)
        return agent

    def connect(self, name: str, callid: str) -> Agent:
        agent = self.get(name)
        agent.activity = Activity.TALKING
        agent.call = callid
        agent.calls.add(callid)
        self.refresh(name, self._now)
        return agent

    def end_call(
        self, name: str, callid: str, now: float, wrapup: float, campaign: str | None = None
    ) -> Agent | None:
        """The call ended; the agent goes through its wrap-up (if logged in).

        ``wrapup`` is the call's campaign wrap-up; a member row's own ``wrapuptime`` overrides it
        per campaign. The call count and the end time are shared by all the agent's campaigns.
        """
        agent = self.agents.get(name)
        if agent is None or callid not in agent.calls:
            return None
        agent.calls.discard(callid)
        agent.call = next(iter(sorted(agent.calls)), None)
        agent.activity = Activity.IDLE if not agent.calls else Activity.TALKING
        agent.last_call_end = now
        agent.calls_taken += 1
        agent.last_campaign = campaign or agent.last_campaign
        agent.last_campaign_wrapup = int(wrapup)
        agent.wrapup_finished = False
        ends = [self.wrapup_end(agent, c) for c in self._memberships.get(name, ())]
        longest = max(ends, default=0.0)
        agent.wrapup_until = longest if agent.logged_in and longest > now else 0.0
        for end in sorted({e for e in ends if e > now}):
            heapq.heappush(self._wrapups, (end, next(self._seq), name))
        for member_campaign in self._memberships.get(name, ()):
            index = self._indexes.get(member_campaign)
            member = self.member(member_campaign, name)
            if index is not None and member is not None and name in index:
                index.update(self._facts(member), at=now)
        self.refresh(name, now)
        return agent

    def available(self, campaign: str, now: float) -> list[Agent]:
        """Agents logged in for ``campaign`` who could take a call right now."""
        self.advance(now)
        index = self.index(campaign)
        return [self.agents[name] for name in sorted(index.free_names())]

    def next_wrapup_end(self, now: float) -> float | None:
        while self._wrapups:
            end, _, name = self._wrapups[0]
            agent = self.agents.get(name)
            if end > now and agent is not None and agent.logged_in and not agent.wrapup_finished:
                return end
            if end > now:
                heapq.heappop(self._wrapups)
                continue
            return end
        return None

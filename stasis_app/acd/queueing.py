"""Callers waiting in campaigns, and who is offered to whom next.

Each campaign keeps its callers in arrival order (position 1 is next). :func:`plan_offers` pairs
waiting callers with free agents: callers of heavier campaigns first, then the longest waiting; each
caller's agent is chosen by the campaign's strategy among the free members of its lowest penalty,
skipping agents the caller already rang in this round (a new round starts when all were tried). A
strategy is a plain function, so the other distribution strategies plug in beside these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from stasis_app.acd.agents import Agent, AgentRegistry
from stasis_app.acd.campaigns import CampaignConfig


@dataclass
class WaitingCaller:
    callid: str
    campaign: str
    caller: str
    entered_at: float
    #: Position when the caller joined (Asterisk's ``origposition``).
    original_position: int
    #: Not offered again before this time (the campaign's ``retry`` after an unanswered offer).
    ready_at: float = 0.0
    #: The agent being rung for this caller, if any.
    ringing: str | None = None
    #: Agents rung without answer in the current round.
    tried: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Offer:
    callid: str
    campaign: str
    agent: str
    interface: str


@dataclass
class StrategyMemory:
    """What strategies remember between offers: the last agent offered a call, per campaign."""

    last_offered: dict[str, str] = field(default_factory=dict)


#: ``strategy(caller, candidates, memory) -> chosen agent``; ``candidates`` is sorted by name, non-empty.
Strategy = Callable[[WaitingCaller, Sequence[Agent], StrategyMemory], Agent]


def least_recent(caller: WaitingCaller, candidates: Sequence[Agent], memory: StrategyMemory) -> Agent:
    """The agent whose last call ended longest ago (never called first; ties by name)."""
    return min(candidates, key=lambda agent: (agent.last_call_end, agent.name))


def round_robin_memory(caller: WaitingCaller, candidates: Sequence[Agent], memory: StrategyMemory) -> Agent:
    """The first agent after the one offered last in this campaign, in name order, wrapping around."""
    last = memory.last_offered.get(caller.campaign)
    if last is not None:
        for agent in candidates:
            if agent.name > last:
                return agent
    return candidates[0]


STRATEGIES: dict[str, Strategy] = {"leastrecent": least_recent, "rrmemory": round_robin_memory}
DEFAULT_STRATEGY = "rrmemory"


def strategy_named(name: str) -> Strategy:
    """The strategy for a campaign's ``strategy`` column; unknown names use ``rrmemory`` for now."""
    return STRATEGIES.get(name.strip().lower(), STRATEGIES[DEFAULT_STRATEGY])


class CampaignQueues:
    """The waiting callers of every campaign."""

    def __init__(self) -> None:
        self._queues: dict[str, list[WaitingCaller]] = {}
        self._by_callid: dict[str, WaitingCaller] = {}

    def __len__(self) -> int:
        return len(self._by_callid)

    def __contains__(self, callid: object) -> bool:
        return callid in self._by_callid

    def enter(self, callid: str, campaign: str, caller: str, now: float) -> WaitingCaller:
        if callid in self._by_callid:
            raise ValueError(f"call {callid} is already waiting")
        queue = self._queues.setdefault(campaign, [])
        waiting = WaitingCaller(callid, campaign, caller, now, len(queue) + 1, ready_at=now)
        queue.append(waiting)
        self._by_callid[callid] = waiting
        return waiting

    def get(self, callid: str) -> WaitingCaller | None:
        return self._by_callid.get(callid)

    def position(self, callid: str) -> int:
        """1-based position of a waiting caller in its campaign; 0 when not waiting."""
        waiting = self._by_callid.get(callid)
        if waiting is None:
            return 0
        return self._queues[waiting.campaign].index(waiting) + 1

    def leave(self, callid: str) -> tuple[WaitingCaller, int] | None:
        """Take a caller out; answers it and the position it had."""
        waiting = self._by_callid.pop(callid, None)
        if waiting is None:
            return None
        queue = self._queues[waiting.campaign]
        position = queue.index(waiting) + 1
        queue.remove(waiting)
        if not queue:
            del self._queues[waiting.campaign]
        return waiting, position

    def waiting(self, campaign: str) -> list[WaitingCaller]:
        return list(self._queues.get(campaign, []))

    def all_waiting(self) -> list[WaitingCaller]:
        return [w for queue in self._queues.values() for w in queue]

    def next_ready_at(self, now: float) -> float | None:
        """When the earliest caller now held back by ``retry`` may be offered again."""
        times = [w.ready_at for w in self._by_callid.values() if w.ringing is None and w.ready_at > now]
        return min(times) if times else None


def plan_offers(
    queues: CampaignQueues,
    agents: AgentRegistry,
    campaigns: Mapping[str, CampaignConfig],
    memory: StrategyMemory,
    *,
    now: float,
    strategy_for: Callable[[str], Strategy] = strategy_named,
) -> list[Offer]:
    """Pair waiting callers with free agents; marks them as ringing in the queue and the registry."""
    ready = [w for w in queues.all_waiting() if w.ringing is None and w.ready_at <= now]

    def order(waiting: WaitingCaller) -> tuple[int, float, int]:
        campaign = campaigns.get(waiting.campaign)
        return (-(campaign.weight if campaign else 0), waiting.entered_at, waiting.original_position)

    offers: list[Offer] = []
    for waiting in sorted(ready, key=order):
        campaign = campaigns.get(waiting.campaign)
        if campaign is None:
            continue
        free = agents.available(waiting.campaign, now)
        if not free:
            continue
        fresh = [agent for agent in free if agent.name not in waiting.tried]
        if not fresh:
            waiting.tried.clear()
            fresh = free
        penalties = {
            agent.name: (m.penalty if (m := agents.member(waiting.campaign, agent.name)) else 0)
            for agent in fresh
        }
        lowest = min(penalties.values())
        candidates = [agent for agent in fresh if penalties[agent.name] == lowest]
        chosen = strategy_for(campaign.strategy)(waiting, candidates, memory)
        memory.last_offered[waiting.campaign] = chosen.name
        waiting.ringing = chosen.name
        agents.start_ringing(chosen.name, waiting.callid)
        offers.append(Offer(waiting.callid, waiting.campaign, chosen.name, chosen.interface))
    return offers


def offer_failed(
    queues: CampaignQueues, agents: AgentRegistry, offer: Offer, now: float, retry: float
) -> None:
    """An offer ended unanswered: the agent is free again; the caller waits ``retry`` seconds."""
    agents.stop_ringing(offer.agent, offer.callid)
    waiting = queues.get(offer.callid)
    if waiting is not None and waiting.ringing == offer.agent:
        waiting.ringing = None
        waiting.tried.add(offer.agent)
        waiting.ready_at = now + retry

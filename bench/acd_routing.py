"""Cost of one routing decision in the ACD core, from 10 to 10,000 agents and 1 or 500 campaigns.

A steady contact centre is simulated with the core alone (no I/O): every agent is logged in and
talking, and each campaign has callers waiting. One cycle is what the call flow does around a
routing decision:

1. a random talking agent hangs up (``end_call``) -> ``plan_offers`` offers one of the agent's
   campaigns' waiting callers to that agent (this ``plan_offers`` is the *decision* timed);
2. the agent answers (the caller leaves the queue);
3. a new caller arrives in a random campaign -> ``plan_offers`` again (timed too: no agent is free,
   so it must find that out cheaply).

Agents are spread over the campaigns round-robin, and every fifth agent also belongs to a second
campaign. For contrast, the last column times the literal ``calc_metric`` model (every member
scored, as ``app_queue`` does on each attempt) over one campaign's members.

    python bench/acd_routing.py                 # all sizes, rrmemory
    python bench/acd_routing.py --strategy leastrecent --cycles 3000
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass

from stasis_app.acd.agents import AgentRegistry
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.queueing import CampaignQueues, StrategyMemory, plan_offers
from stasis_app.acd.strategies import MemberFacts, parse_strategy, reference_ranking

WAITING_PER_CAMPAIGN = 3


@dataclass
class Result:
    agents: int
    campaigns: int
    decisions: list[float]
    arrivals: list[float]
    offers: int
    literal_us: float


def build(
    agent_count: int, campaign_count: int, strategy: str, seed: int
) -> tuple[AgentRegistry, CampaignQueues, dict[str, CampaignConfig], StrategyMemory, list[str]]:
    campaigns = {
        f"camp{c:03d}": CampaignConfig(f"camp{c:03d}", strategy=strategy, weight=c % 3)
        for c in range(campaign_count)
    }
    names = list(campaigns)
    rows = []
    for a in range(agent_count):
        agent = f"agent{a:05d}"
        rows.append(MemberConfig(names[a % campaign_count], agent, f"PJSIP/{10000 + a}", penalty=a % 2))
        if a % 5 == 0 and campaign_count > 1:
            rows.append(MemberConfig(names[(a + 1) % campaign_count], agent, f"PJSIP/{10000 + a}"))
    agents = AgentRegistry()
    agents.set_members(rows)
    queues = CampaignQueues()
    memory = StrategyMemory.seeded(seed)
    agents.bind_campaigns(campaigns)
    talking: list[str] = []
    for a in range(agent_count):
        name = f"agent{a:05d}"
        agents.login(name, "", None, now=0)
        agents.start_ringing(name, f"boot{a}")
        agents.connect(name, f"boot{a}")
        talking.append(name)
    counter = 0
    for name in names:
        for _ in range(WAITING_PER_CAMPAIGN):
            counter += 1
            queues.enter(f"w{counter}", name, "555", now=0)
    plan_offers(queues, agents, campaigns, memory, now=0)
    return agents, queues, campaigns, memory, talking


def run(agent_count: int, campaign_count: int, cycles: int, strategy: str, seed: int) -> Result:
    agents, queues, campaigns, memory, talking = build(agent_count, campaign_count, strategy, seed)
    rng = random.Random(seed)
    names = list(campaigns)
    calls = {name: f"boot{index}" for index, name in enumerate(talking)}
    decisions: list[float] = []
    arrivals: list[float] = []
    offers = 0
    now = 1.0
    for counter in range(1, cycles + 1):
        now += 0.01
        agent = rng.choice(talking)
        agents.end_call(agent, calls[agent], now, 0)
        started = time.perf_counter()
        made = plan_offers(queues, agents, campaigns, memory, now=now)
        decisions.append(time.perf_counter() - started)
        offers += len(made)
        for offer in made:
            queues.leave(offer.callid)
            agents.connect(offer.agent, offer.callid)
            calls[offer.agent] = offer.callid
        if not made:
            # Nobody waited in this agent's campaigns: it takes a fresh call directly.
            agents.start_ringing(agent, f"direct{now}")
            agents.connect(agent, f"direct{now}")
            calls[agent] = f"direct{now}"
        queues.enter(f"n{counter}", rng.choice(names), "555", now=now)
        started = time.perf_counter()
        plan_offers(queues, agents, campaigns, memory, now=now)
        arrivals.append(time.perf_counter() - started)
    literal = literal_cost(agent_count // campaign_count or 1, strategy, seed)
    return Result(agent_count, campaign_count, decisions, arrivals, offers, literal)


def literal_cost(members: int, strategy: str, seed: int) -> float:
    """Microseconds to score every member of one campaign the way ``calc_metric`` does."""
    facts = [MemberFacts(f"m{i}", f"PJSIP/{10000 + i}", i % 2, i % 7, 1000 + i, i) for i in range(members)]
    rng_strategy = parse_strategy(strategy)
    repeats = max(3, 2000 // max(1, members))
    started = time.perf_counter()
    for _ in range(repeats):
        reference_ranking(rng_strategy, facts, now=5000, cursor=seed % max(1, members))
    return (time.perf_counter() - started) / repeats * 1e6


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--strategy", default="rrmemory")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--agents", type=int, nargs="*", default=[10, 100, 1000, 10000])
    parser.add_argument("--campaigns", type=int, nargs="*", default=[1, 500])
    args = parser.parse_args()
    print(f"strategy {args.strategy}, {args.cycles} cycles per row (times in microseconds)")
    header = (
        f"{'agents':>7} {'campaigns':>9} | {'decision p50':>12} {'p99':>8} {'decisions/s':>11} | "
        f"{'arrival p50':>11} {'p99':>8} | {'offers':>6} | {'literal scan of a campaign':>26}"
    )
    print(header)
    print("-" * len(header))
    for campaigns in args.campaigns:
        for agents in args.agents:
            result = run(agents, campaigns, args.cycles, args.strategy, args.seed)
            p50 = statistics.median(result.decisions) * 1e6
            p99 = percentile(result.decisions, 0.99) * 1e6
            rate = len(result.decisions) / sum(result.decisions)
            a50 = statistics.median(result.arrivals) * 1e6
            a99 = percentile(result.arrivals, 0.99) * 1e6
            print(
                f"{agents:>7} {campaigns:>9} | {p50:>12.1f} {p99:>8.1f} {rate:>11,.0f} | "
                f"{a50:>11.1f} {a99:>8.1f} | {result.offers:>6} | {result.literal_us:>23.1f} us"
            )


if __name__ == "__main__":
    main()

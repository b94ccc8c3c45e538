"""The live view of the flow: the status snapshot and the agent state events on the bus."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bus import messages

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow


def snapshot(flow: InboundFlow) -> dict[str, Any]:
    now = flow.clock()
    return {
        "agents": [
            {
                "agent": a.name,
                "state": a.state(now).value,
                "interface": a.interface,
                "campaigns": sorted(a.campaigns),
                "call": a.call,
            }
            for a in sorted(flow.agents.agents.values(), key=lambda a: a.name)
        ],
        "calls": [
            {
                "callid": c.callid,
                "campaign": c.campaign.name if c.campaign else None,
                "caller": c.caller_number,
                "phase": c.phase.value,
                "agent": c.connected.offer.agent
                if c.connected
                else (c.offer.offer.agent if c.offer else None),
            }
            for c in flow.calls.values()
        ],
    }


def publish_agent_changes(flow: InboundFlow) -> None:
    """Publish the agents whose state changed: only those the registry marked since the last
    call (a wrap-up's end is marked when routing advances past it), never a scan of all."""
    now = flow.clock()
    changed = flow.agents.drain_changed()
    if len(flow._published_states) < len(flow.agents.agents):
        # Agents new since the last call (a reload added members): announced once, as before.
        changed |= {name for name in flow.agents.agents if name not in flow._published_states}
    for name in sorted(changed):
        agent = flow.agents.agents.get(name)
        if agent is None:
            continue
        state = agent.state(now).value
        if flow._published_states.get(agent.name) != state:
            flow._published_states[agent.name] = state
            event = messages.agent_state(agent.name, state, sorted(agent.campaigns), now)
            event["wrapup_until"] = agent.wrapup_until
            event["pause_reason"] = agent.pause_reason if agent.paused else ""
            flow._emit(event)

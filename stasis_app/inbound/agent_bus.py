"""Agent commands from the bus: login, logoff, pause and breaks (REALPAUSE/REALUNPAUSE, BREAK),
finishing wrap-up, hanging up an agent's phone, reloading campaigns, the status snapshot.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.agents import AgentError
from stasis_app.acd.records import local_time
from stasis_app.inbound import ari_requests, campaign_reload, live_status, offering
from stasis_app.inbound.calls import Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)

#: Bus command ending an agent's wrap-up early (queue_log FINISHWRAPUP).
FINISH_WRAPUP = "agent.finish_wrapup"


async def on_command(flow: InboundFlow, message: messages.Message) -> None:
    kind = message.get("type")
    if kind in flow.delegated_commands:
        return
    try:
        payload = await command(flow, message)
    except AgentError as exc:
        payload = {"ok": False, "error": str(exc)}
    except Exception as exc:
        log.exception("command %s failed", kind)
        payload = {"ok": False, "error": repr(exc)}
    if flow.bus is not None and message.get("request_id"):
        # A requester always gets an answer, so it never waits out its timeout for nothing.
        await flow.bus.reply(message, payload or {"ok": False, "error": f"unknown command {kind!r}"})


async def command(flow: InboundFlow, message: messages.Message) -> dict[str, Any] | None:
    kind = message.get("type")
    now = flow.clock()
    if kind == messages.AGENT_LOGIN:
        agent = flow.agents.login(
            message["agent"], message.get("interface", ""), message.get("campaigns"), now
        )
        flow._log_row(records.agent_login(local_time(now), agent.name, agent.interface))
        offering.dispatch(flow)
        return {
            "ok": True,
            "agent": agent.name,
            "state": agent.state(now).value,
            "campaigns": sorted(agent.campaigns),
        }
    if kind == messages.AGENT_LOGOFF:
        return await logoff(flow, message["agent"])
    if kind == messages.AGENT_PAUSE:
        return pause(flow, message, now)
    if kind == FINISH_WRAPUP:
        left = finish_wrapup(flow, str(message["agent"]))
        return {"ok": True, "agent": message["agent"], "timeleft": int(left)}
    if kind == messages.PHONE_HANGUP:
        done = await hangup_phone(flow, str(message["phone"]))
        # "result" is the seed's HangupPhone body (1/0); "ok" is what every reply carries.
        return {"ok": done, "result": 1 if done else 0}
    if kind == messages.CAMPAIGNS_RELOAD:
        return {"ok": True, **await campaign_reload.reload(flow, message.get("names"))}
    if kind == messages.STATUS_SNAPSHOT:
        return {"ok": True, **live_status.snapshot(flow)}
    return None


def pause(flow: InboundFlow, message: messages.Message, now: float) -> dict[str, Any]:
    """A break (pause with a motive) or its end, in every campaign or in ``campaigns`` only.

    Rows: PAUSEALL/UNPAUSEALL then PAUSE/UNPAUSE per campaign (Asterisk's), and BREAK
    motive|comment when a break with a motive starts, UNBREAK motive|comment|breaktime when it ends.
    """
    name = str(message["agent"])
    paused = bool(message["paused"])
    reason = str(message.get("reason", ""))
    comment = str(message.get("comment", ""))
    wanted = message.get("campaigns")
    scope = None if not wanted else [str(c) for c in wanted]
    agent = flow.agents.pause(name, paused, reason, campaigns=scope)
    at = local_time(now)
    campaigns = sorted(agent.campaigns) if scope is None else sorted(scope)
    if scope is None:
        flow._log_row(records.pause_all(at, agent.name, paused, reason))
    for campaign in campaigns:
        flow._log_row(records.pause(at, campaign, agent.name, paused, reason))
    real_pause_change(flow, agent.name, agent.paused or bool(agent.paused_in), now)
    running = flow.breaks.pop(name, None)
    if running is not None:
        where, motive, said, started = running
        flow._log_row(records.break_end(at, where, name, motive, breaktime=now - started, comment=said))
    if paused and reason:
        where = records.NONE if scope is None else ",".join(campaigns)
        flow.breaks[name] = (where, reason, comment, now)
        flow._log_row(records.break_start(at, where, name, reason, comment))
    offering.dispatch(flow)
    return {
        "ok": True,
        "agent": agent.name,
        "state": agent.state(now).value,
        "status": agent.seed_status(now).value,
    }


def real_pause_change(flow: InboundFlow, name: str, on_pause: bool, now: float) -> None:
    """REALPAUSE when the agent goes from working to on pause (in one campaign or all: one row),
    REALUNPAUSE pausetime when no pause is left. Pausing more campaigns, or changing the motive,
    while already on pause writes neither. Only the agent's own pause commands count: the
    telephony's ``autopause`` is a PAUSE row alone."""
    started = flow.real_pauses.get(name)
    if on_pause and started is None:
        flow.real_pauses[name] = now
        flow._log_row(records.real_pause(local_time(now), name))
    elif not on_pause and started is not None:
        del flow.real_pauses[name]
        flow._log_row(records.real_unpause(local_time(now), name, now - started))


def finish_wrapup(flow: InboundFlow, name: str) -> float:
    """End an agent's wrap-up early: FINISHWRAPUP timeleft; answers the seconds that were left."""
    agent = flow.agents.get(name)
    now = flow.clock()
    if not agent.logged_in:
        raise AgentError(f"agent {name!r} is not logged in")
    if agent.wrapup_left(now) <= 0:
        raise AgentError(f"agent {name!r} is not in wrap-up")
    left = flow.agents.finish_wrapup(name, now)
    flow._log_row(records.finish_wrapup(local_time(now), name, left, agent.last_campaign or records.NONE))
    offering.dispatch(flow)
    return left


async def logoff(flow: InboundFlow, name: str) -> dict[str, Any]:
    agent = flow.agents.get(name)
    ringing_call = flow.calls.get(agent.call) if agent.call else None
    interface = agent.interface
    # Logging off ends the pause too: its time is closed before AGENTLOGOFF.
    real_pause_change(flow, name, False, flow.clock())
    _, seconds = flow.agents.logoff(name, flow.clock())
    flow._log_row(records.agent_logoff(local_time(flow.clock()), name, interface, seconds))
    if ringing_call is not None:
        async with ringing_call.lock:
            for leg in ringing_call.offers:
                if leg.offer.agent == name and not leg.ended:
                    leg.cancelled = "logoff"
                    await ari_requests.hangup_channel(flow, leg.leg_id)
    live_status.publish_agent_changes(flow)
    return {"ok": True, "agent": name, "logged_in_seconds": int(seconds)}


async def hangup_phone(flow: InboundFlow, phone: str) -> bool:
    agent = flow.agents.by_phone(phone)
    if agent is None or agent.call is None:
        return False
    call = flow.calls.get(agent.call)
    if call is None:
        for hang_up in flow.phone_hangups:
            if await hang_up(agent.name, agent.call):
                return True
        return False
    leg = (
        call.connected
        if call.phase is Phase.CONNECTED
        else next((o for o in call.offers if o.offer.agent == agent.name and not o.ended), None)
    )
    if leg is None or leg.offer.agent != agent.name:
        return False
    if not leg.answered:
        leg.cancelled = "hangup"
    await ari_requests.hangup_channel(flow, leg.leg_id)
    return True

"""Offering waiting callers to free agents: ringing agent legs, their unanswered ends
(RINGNOANSWER, ``autopause``, ``retry``) and the wake-ups for retries and wrap-up ends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.campaigns import CampaignConfig
from stasis_app.acd.parameters import PauseScope, RingOutcome
from stasis_app.acd.queueing import AUTO_PAUSE_REASON, autopause_member, offer_failed, plan_offers
from stasis_app.acd.records import local_time
from stasis_app.ari import AriConnection, AriError, AriUnavailable
from stasis_app.inbound import ari_requests, leaving, live_status
from stasis_app.inbound.calls import AGENT_KIND, ANSWERED_ELSEWHERE, AgentLeg, InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)

#: Q.850 cause 19: the originate ``timeout`` expired (Asterisk reports it only in ChannelDestroyed).
CAUSE_NO_ANSWER = 19
#: Q.850 causes of a busy phone (17) and of congestion (34 no circuit, 38 network out of order).
CAUSE_BUSY = 17
CAUSES_CONGESTION = frozenset({34, 38})
#: Channel variables asking an agent's phone to pick up by itself (campaign ``auto_answer``).
AUTO_ANSWER_VARIABLES = {
    "PJSIP_HEADER(add,Call-Info)": ";answer-after=0",
    "PJSIP_HEADER(add,Alert-Info)": "auto-answer",
}


def dispatch(flow: InboundFlow) -> None:
    """Offer waiting callers to free agents now; plan the next wake-up for retries and wrap-ups."""
    now = flow.clock()
    leaving.expire_and_empty(flow, now)
    offers = plan_offers(
        flow.queues, flow.agents, flow.campaigns, flow.memory, now=now, parallel_ringall=True
    )
    for offer in offers:
        call = flow.calls.get(offer.callid)
        campaign = flow.campaigns.get(offer.campaign)
        if call is None or campaign is None:
            offer_failed(flow.queues, flow.agents, offer, now, 0)
            continue
        # The core says how long this ring may last (what is left of the caller's attempt).
        ring_timeout = campaign.ring_timeout if offer.timeout is None else max(1, math.ceil(offer.timeout))
        leg = AgentLeg(offer, f"oc-agent-{uuid.uuid4().hex}", now, ring_timeout)
        call.offers = [*(other for other in call.offers if not other.ended), leg]
        flow.legs[leg.leg_id] = call
        if call.phase is Phase.VIRTUAL_HOLD and flow.virtual_hold is not None:
            # The caller left the line: their turn came, so they are called back first.
            flow.virtual_hold.turn_came(call, leg)
            continue
        flow._emit(
            messages.call_ringing(
                call.callid,
                offer.campaign,
                call.caller_number,
                offer.agent,
                interface=offer.interface,
                caller_name=call.caller_name,
            )
        )
        flow._spawn(ring(flow, call, leg), f"offer of {call.callid} to {offer.agent}")
    live_status.publish_agent_changes(flow)
    plan_wakeup(flow)


def plan_wakeup(flow: InboundFlow) -> None:
    now = flow.clock()
    times = [
        t
        for t in (
            flow.queues.next_ready_at(now),
            flow.agents.next_wrapup_end(now),
            flow.queues.next_expiry(),
        )
        if t is not None
    ]
    if flow._wakeup is not None:
        flow._wakeup.cancel()
        flow._wakeup = None
    if times:
        delay = max(0.0, min(times) - now) + 0.001
        flow._wakeup = asyncio.get_running_loop().call_later(delay, partial(on_wakeup, flow))


def on_wakeup(flow: InboundFlow) -> None:
    flow._wakeup = None
    dispatch(flow)


async def ring(flow: InboundFlow, call: InboundCall, leg: AgentLeg) -> None:
    async with call.lock:
        if leg not in call.offers or leg.ended or call.phase is not Phase.WAITING:
            release_offer(flow, call, leg, record=False)
            return
        interface = leg.offer.interface
        params: dict[str, Any] = {
            "endpoint": interface,
            "app": flow.app_name,
            "appArgs": f"{AGENT_KIND},{call.callid}",
            "timeout": leg.ring_timeout,
            "channelId": leg.leg_id,
            "callerId": call.caller_id,
        }
        if call.campaign is not None and call.campaign.auto_answer:
            params["variables"] = dict(AUTO_ANSWER_VARIABLES)
        if interface.lower().startswith("local/"):
            # Local channels originated without formats come up at 192 kHz (see the design notes).
            params["formats"] = "ulaw"
        else:
            params["originator"] = call.callid
        try:
            channel = await flow.connection.rest.channels.originate(**params)
        except AriError as exc:
            log.warning("call %s: cannot ring %s on %s: %s", call.callid, leg.offer.agent, interface, exc)
            release_offer(flow, call, leg, record=True)
            if isinstance(exc, AriUnavailable):
                # The originate may have reached Asterisk all the same: a phone would ring for a
                # leg the flow forgot. It has the id chosen here, so it is hung up by that id (now,
                # or after the reconnect when ARI does not answer now either).
                await ari_requests.hangup_channel(flow, leg.leg_id)
            return
        leg.originated = True
        if isinstance(channel, dict):
            leg.channel_name = str(channel.get("name", ""))


def release_offer(
    flow: InboundFlow, call: InboundCall, leg: AgentLeg, *, record: bool, cause: int = 0
) -> None:
    """An offer ended without answer: free the agent, log it, let the caller be offered again."""
    if leg.answered:
        return
    first_time = not leg.ended
    leg.ended = True
    flow.legs.pop(leg.leg_id, None)
    now = flow.clock()
    campaign = flow.campaigns.get(leg.offer.campaign) or call.campaign
    if record and first_time and call.phase is Phase.WAITING and leg.cancelled in (None, "logoff", "hangup"):
        ring_ms = (
            leg.ring_timeout * 1000
            if cause == CAUSE_NO_ANSWER and leg.cancelled is None
            else int((now - leg.started) * 1000)
        )
        flow._log_row(
            records.ring_no_answer(local_time(now), call.callid, leg.offer.campaign, leg.offer.agent, ring_ms)
        )
    retry = 0 if leg.cancelled == "logoff" or campaign is None else campaign.retry
    outcome = _ring_outcome(leg, cause)
    offer_failed(flow.queues, flow.agents, leg.offer, now, retry, outcome=outcome)
    if record and first_time and outcome is not None and campaign is not None:
        autopause(flow, campaign, leg.offer.agent, outcome, now)
    call.offers = [other for other in call.offers if other is not leg]
    dispatch(flow)


def autopause(
    flow: InboundFlow, campaign: CampaignConfig, agent: str, outcome: RingOutcome, now: float
) -> None:
    """``autopause``: a member who let the call ring out is paused (PAUSE / PAUSEALL rows)."""
    scope = autopause_member(flow.agents, campaign, agent, outcome, now)
    if scope is PauseScope.NONE:
        return
    at = local_time(now)
    holder = flow.agents.agents[agent]
    if scope is PauseScope.ALL_CAMPAIGNS:
        flow._log_row(records.pause_all(at, agent, True, AUTO_PAUSE_REASON))
        for name in sorted(holder.campaigns):
            flow._log_row(records.pause(at, name, agent, True, AUTO_PAUSE_REASON))
    else:
        flow._log_row(records.pause(at, campaign.name, agent, True, AUTO_PAUSE_REASON))
    live_status.publish_agent_changes(flow)


async def cancel_other_legs(flow: InboundFlow, call: InboundCall, winner: AgentLeg) -> None:
    """``ringall``: the first agent to answer takes the call; the other phones stop ringing
    (app_queue logs nothing for them)."""
    for other in list(call.offers):
        if other is not winner and not other.ended:
            other.cancelled = ANSWERED_ELSEWHERE
            await ari_requests.hangup_channel(flow, other.leg_id, reason="answered_elsewhere")


async def on_dial(flow: InboundFlow, event: dict[str, Any], _conn: AriConnection) -> None:
    peer = event.get("peer") or {}
    peer_id = str(peer.get("id"))
    call = flow.legs.get(peer_id)
    leg = next((o for o in call.offers if o.leg_id == peer_id), None) if call is not None else None
    if leg is not None:
        leg.dial_status = str(event.get("dialstatus", ""))
        leg.channel_name = str(peer.get("name", leg.channel_name))


def _ring_outcome(leg: AgentLeg, cause: int) -> RingOutcome | None:
    """How an unanswered ring ended, in app_queue's terms (None: cancelled here, or not known)."""
    if leg.cancelled is not None:
        return None
    if cause == CAUSE_NO_ANSWER:
        return RingOutcome.NOANSWER
    status = leg.dial_status.upper()
    if status == "BUSY" or cause == CAUSE_BUSY:
        return RingOutcome.BUSY
    if status == "CONGESTION" or cause in CAUSES_CONGESTION:
        return RingOutcome.CONGESTION
    return None

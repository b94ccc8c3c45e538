"""The ends of calls: hang-ups of callers and agent legs (ABANDON, RINGCANCELED, COMPLETECALLER,
COMPLETEAGENT), the one CDR row of each call, and releasing a call after an unexpected error.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.records import QueueLogRow, local_time
from stasis_app.ari import AriConnection, AriRequestError
from stasis_app.inbound import announcing, ari_requests, connecting, live_status, offering
from stasis_app.inbound.ari_requests import GONE_STATUSES
from stasis_app.inbound.calls import InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)


async def on_stasis_end(flow: InboundFlow, event: dict[str, Any], _conn: AriConnection) -> None:
    channel_id = str((event.get("channel") or {}).get("id"))
    await channel_gone(flow, channel_id, cause=0)


async def on_channel_destroyed(flow: InboundFlow, event: dict[str, Any], _conn: AriConnection) -> None:
    channel_id = str((event.get("channel") or {}).get("id"))
    cause = event.get("cause")
    await channel_gone(flow, channel_id, cause=cause if isinstance(cause, int) else 0)


async def channel_gone(flow: InboundFlow, channel_id: str, cause: int) -> None:
    """A caller or agent leg left Stasis or was destroyed (each is acted on once)."""
    flow._strays.pop(channel_id, None)
    owner = flow.calls.get(channel_id) or flow.legs.get(channel_id)
    if owner is not None and channel_id in owner.handed_over:
        return
    call = flow.calls.get(channel_id)
    if call is not None:
        async with call.lock:
            await caller_gone(flow, call, cause)
        return
    call = flow.legs.get(channel_id)
    if call is None:
        return
    async with call.lock:
        if call.connected is not None and call.connected.leg_id == channel_id:
            if call.phase is Phase.CONNECTED:
                await complete(flow, call, by_caller=False)
            return
        if call.delayed is not None and call.delayed.leg_id == channel_id:
            # The agent hung up during ``memberdelay`` or the announcement: AGENTDUMP.
            connecting.agent_dumped(flow, call, call.delayed)
            return
        ringing = next((o for o in call.offers if o.leg_id == channel_id), None)
        if ringing is not None:
            # The offer ended before answer: timeout (19), busy, unreachable, or our own cancel.
            offering.release_offer(flow, call, ringing, record=True, cause=cause)
        else:
            flow.legs.pop(channel_id, None)


async def caller_gone(flow: InboundFlow, call: InboundCall, cause: int = 0) -> None:
    if call.phase is Phase.ENDED:
        return
    if call.phase is Phase.VIRTUAL_HOLD:
        # The line was left on purpose; a callback channel reuses the call's id.
        if flow.virtual_hold is not None:
            await flow.virtual_hold.callback_gone(call, cause)
        return
    now = flow.clock()
    campaign = call.campaign
    if (
        call.phase is Phase.WAITING
        and campaign is not None
        and campaign.virtual_hold
        and campaign.virtual_hold_hangup
        and flow.virtual_hold is not None
        and call.offer is None
        and call.delayed is None
        and flow.virtual_hold.keep_place(call, how="hangup")
    ):
        # Hanging up kept the caller's place: they are called back at their turn.
        return
    if call.phase is Phase.WAITING and campaign is not None:
        left = flow.queues.leave(call.callid)
        position = left[1] if left else 0
        announcing.positions_changed(flow, campaign.name)
        announcing.cancel_announcements(flow, call)
        announcing.holdtime(flow, campaign.name).call_finished()
        # The agent who answered and was about to be put through: app_queue names it in the
        # ABANDON row, and its phone was not ringing any more (no RINGCANCELED for it).
        about_to_talk = call.delayed.offer.agent if call.delayed is not None else records.NONE
        legs = [
            *call.offers,
            *([call.delayed] if call.delayed and call.delayed not in call.offers else []),
        ]
        for leg in legs:
            if leg.ended:
                continue
            leg.cancelled = "caller"
            if leg.answered:
                leg.answered = False
                call.delayed = None
            else:
                flow._log_row(
                    records.ring_canceled(
                        local_time(now),
                        call.callid,
                        campaign.name,
                        leg.offer.agent,
                        int((now - leg.started) * 1000),
                    )
                )
            await ari_requests.hangup_channel(flow, leg.leg_id)
        flow._log_row(
            records.abandon(
                local_time(now),
                call.callid,
                campaign.name,
                position=position,
                original_position=call.original_position,
                waittime=now - call.entered_at,
                agent=about_to_talk,
            )
        )
        flow._emit(messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=position))
        end(flow, call)
        return
    if call.phase is Phase.CONNECTED:
        await complete(flow, call, by_caller=True)
        return
    end(flow, call)


async def complete(flow: InboundFlow, call: InboundCall, *, by_caller: bool) -> None:
    leg = call.connected
    campaign = call.campaign
    assert leg is not None and campaign is not None
    now = flow.clock()
    flow._log_row(
        records.complete(
            local_time(now),
            call.callid,
            campaign.name,
            leg.offer.agent,
            by_caller=by_caller,
            holdtime=call.connected_at - call.entered_at,
            calltime=now - call.connected_at,
            original_position=call.original_position,
        )
    )
    flow.agents.end_call(leg.offer.agent, call.callid, now, campaign.wrapuptime, campaign.name)
    announcing.holdtime(flow, campaign.name).call_finished()
    flow._emit(
        messages.call_ended(
            call.callid,
            campaign.name,
            call.caller_number,
            leg.offer.agent,
            ended_by="caller" if by_caller else "agent",
        )
    )
    end(flow, call)
    await ari_requests.hangup_channel(flow, leg.leg_id if by_caller else call.callid)
    await ari_requests.destroy_bridge(flow, call)
    offering.dispatch(flow)


def end_handed_over(flow: InboundFlow, callid: str, row: QueueLogRow, *, ended_by: str) -> None:
    """An in-call feature owns the call's channels: log how the agent's part ended (``row``: a
    transfer or the completion), free the agent and write the CDR, touching no channel."""
    call = flow.calls.get(callid)
    if call is None or call.phase is not Phase.CONNECTED or call.connected is None:
        return
    campaign = call.campaign
    agent = call.connected.offer.agent
    flow._log_row(row)
    flow.agents.end_call(agent, callid, flow.clock(), campaign.wrapuptime if campaign else 0)
    flow._emit(
        messages.call_ended(
            callid, campaign.name if campaign else "", call.caller_number, agent, ended_by=ended_by
        )
    )
    call.bridge_id = None
    end(flow, call)
    offering.dispatch(flow)


def end(flow: InboundFlow, call: InboundCall) -> None:
    """The call is over for the flow: write its one CDR row and forget it."""
    call.phase = Phase.ENDED
    if flow.queues.leave(call.callid) is not None and call.campaign is not None:
        announcing.positions_changed(flow, call.campaign.name)
    announcing.cancel_announcements(flow, call)
    # Legs still ringing are being hung up; ChannelDestroyed of each frees its agent.
    if call.playback_id is not None:
        flow.playbacks.pop(call.playback_id, None)
    flow.calls.pop(call.callid, None)
    if call.connected is not None:
        flow.legs.pop(call.connected.leg_id, None)
    if not call.recorded:
        call.recorded = True
        call.facts.ended = flow.clock()
        try:
            flow.records.cdr(**records.cdr_row(call.facts))
        except Exception:
            log.exception("call %s: the CDR row could not be queued", call.callid)
    live_status.publish_agent_changes(flow)


async def fail(flow: InboundFlow, call: InboundCall, why: str) -> None:
    """Something unexpected: never leave the caller in silence or an agent ringing."""
    log.error("inbound call %s: %s; releasing the call", call.callid, why, exc_info=True)
    for leg in (*call.offers, call.delayed, call.connected):
        if leg is not None:
            leg.cancelled = leg.cancelled or "hangup"
            if leg.answered:
                flow.agents.end_call(leg.offer.agent, call.callid, flow.clock(), 0)
            await ari_requests.hangup_channel(flow, leg.leg_id)
    await ari_requests.destroy_bridge(flow, call)
    phase = call.phase
    call.facts.disposition = records.FAILED
    close_queue_rows(flow, call)
    end(flow, call)
    if phase is not Phase.ENDED:
        # Until its StasisEnd says it left, the caller is sent back again after a reconnect:
        # this request fails too when ARI is what failed.
        flow._strays[call.callid] = "send_back"
        await flow.application.send_back(call.callid, why)
    offering.dispatch(flow)


def close_queue_rows(flow: InboundFlow, call: InboundCall) -> None:
    """A failed call's last queue_log row, so every ENTERQUEUE has its end in the reports: a
    waiting caller left unserved (ABANDON; the CDR's FAILED says why), a connected one ended on
    the agent's side (COMPLETEAGENT)."""
    campaign = call.campaign
    if campaign is None:
        return
    now = flow.clock()
    if call.phase is Phase.WAITING:
        left = flow.queues.leave(call.callid)
        position = left[1] if left else 0
        announcing.positions_changed(flow, campaign.name)
        announcing.holdtime(flow, campaign.name).call_finished()
        flow._log_row(
            records.abandon(
                local_time(now),
                call.callid,
                campaign.name,
                position=position,
                original_position=call.original_position,
                waittime=now - call.entered_at,
            )
        )
        flow._emit(messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=position))
    elif call.phase is Phase.CONNECTED and call.connected is not None:
        flow._log_row(
            records.complete(
                local_time(now),
                call.callid,
                campaign.name,
                call.connected.offer.agent,
                by_caller=False,
                holdtime=call.connected_at - call.entered_at,
                calltime=now - call.connected_at,
                original_position=call.original_position,
            )
        )
        announcing.holdtime(flow, campaign.name).call_finished()


async def on_request_error(flow: InboundFlow, call: InboundCall, exc: AriRequestError, step: str) -> None:
    """A request about a channel that just hung up fails; its StasisEnd finishes the call."""
    if exc.status in GONE_STATUSES:
        log.info(
            "call %s: %s: a channel is gone (%s); the hang-up path finishes the call",
            call.callid,
            step,
            exc,
        )
        return
    await fail(flow, call, f"{step}: {exc!r}")

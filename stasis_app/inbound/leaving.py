"""Callers taken out of the queue by the flow: queue timeout (EXITWITHTIMEOUT), a campaign left
without agents under ``leavewhenempty`` (EXITEMPTY), a key of the exit context (EXITWITHKEY).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.records import local_time
from stasis_app.ari import AriConnection, AriRequestError
from stasis_app.inbound import announcing, ari_requests, entry, offering, teardown
from stasis_app.inbound.calls import InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow


def expire_and_empty(flow: InboundFlow, now: float) -> None:
    """Callers whose ``queue_timeout`` passed leave (EXITWITHTIMEOUT); callers of campaigns that
    became empty under ``leavewhenempty`` leave (EXITEMPTY). Both then get the fall-through.

    As in ``app_queue``, both are checked between ring attempts: a caller whose agent rings now
    leaves when that ring ends unanswered.
    """
    for expired in flow.queues.take_expired(now):
        flow._expired_ringing.add(expired.callid)
    for callid in list(flow._expired_ringing):
        waiting = flow.queues.get(callid)
        call = flow.calls.get(callid)
        if waiting is None or call is None:
            flow._expired_ringing.discard(callid)
        elif not waiting.pending and call.delayed is None:
            flow._expired_ringing.discard(callid)
            take_out(flow, call, "timeout")
    if not leaving_empty(flow):
        return
    for campaign_name in {w.campaign for w in flow.queues.all_waiting()}:
        campaign = flow.campaigns.get(campaign_name)
        if campaign is None or not campaign.leavewhenempty:
            continue
        if not flow.agents.campaign_empty(campaign_name, campaign.leavewhenempty, now):
            continue
        for queued in flow.queues.waiting(campaign_name):
            call = flow.calls.get(queued.callid)
            if call is not None and call.phase is Phase.WAITING and not queued.pending:
                take_out(flow, call, "empty")


def leaving_empty(flow: InboundFlow) -> bool:
    return len(flow.queues) > 0 and any(c.leavewhenempty for c in flow.campaigns.values())


def take_out(flow: InboundFlow, call: InboundCall, why: str, key: str = "") -> bool:
    """Take a waiting caller out of the queue with EXITWITHTIMEOUT / EXITEMPTY / EXITWITHKEY
    (at once, so no agent is offered the call meanwhile); the caller is then played out."""
    campaign = call.campaign
    if call.phase not in (Phase.WAITING, Phase.VIRTUAL_HOLD) or campaign is None:
        return False
    if call.offer is not None or call.delayed is not None:
        return False
    left = flow.queues.leave(call.callid)
    if left is None:
        return False
    now = flow.clock()
    position = left[1]
    at = local_time(now)
    waited = now - call.entered_at
    origin = call.original_position
    if why == "timeout":
        row = records.exit_with_timeout(
            at, call.callid, campaign.name, position=position, original_position=origin, waittime=waited
        )
    elif why == "empty":
        row = records.exit_empty(
            at, call.callid, campaign.name, position=position, original_position=origin, waittime=waited
        )
    else:
        row = records.exit_with_key(
            at,
            call.callid,
            campaign.name,
            key=key,
            position=position,
            original_position=origin,
            waittime=waited,
        )
    flow._log_row(row)
    announcing.positions_changed(flow, campaign.name)
    announcing.holdtime(flow, campaign.name).call_finished()
    announcing.cancel_announcements(flow, call)
    flow._emit(messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=position))
    if call.phase is Phase.VIRTUAL_HOLD:
        teardown.end(flow, call)
        return True
    call.phase = Phase.LEFT
    call.facts.userfield = why.upper()
    flow._spawn(play_out(flow, call, why, key), f"{why} exit of {call.callid}")
    return True


async def play_out(flow: InboundFlow, call: InboundCall, why: str, key: str) -> None:
    """After leaving the queue: the exit key's context, or the campaign's fall-through."""
    async with call.lock:
        campaign = call.campaign
        if call.phase is not Phase.LEFT or campaign is None:
            return
        try:
            await ari_requests.request(flow, "stopMoh", channelId=call.callid)
            if call.playback_id is not None:
                await ari_requests.stop_playback(flow, call)
            if why == "key":
                call.handed_over.add(call.callid)
                await flow.connection.rest.channels.continueInDialplan(
                    channelId=call.callid, context=campaign.exit_context, extension=key, priority=1
                )
                teardown.end(flow, call)
            else:
                await entry.after_out_of_hours(flow, call)
        except AriRequestError as exc:
            await teardown.on_request_error(flow, call, exc, f"leaving the queue ({why})")
    offering.dispatch(flow)


async def on_dtmf(flow: InboundFlow, event: dict[str, Any], _conn: AriConnection) -> None:
    """A waiting caller's key: virtual hold, or the campaign's exit ``context`` (EXITWITHKEY)."""
    channel_id = str((event.get("channel") or {}).get("id"))
    call = flow.calls.get(channel_id)
    digit = str(event.get("digit", ""))
    if call is None or call.phase is not Phase.WAITING or call.campaign is None or not digit:
        return
    campaign = call.campaign
    if campaign.virtual_hold and campaign.virtual_hold_key == digit and flow.virtual_hold is not None:
        async with call.lock:
            if call.phase is Phase.WAITING and call.offer is None and call.delayed is None:
                await flow.virtual_hold.leave_line(call, digit)
        return
    if campaign.exit_context:
        async with call.lock:
            take_out(flow, call, "key", digit)

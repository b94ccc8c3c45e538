"""An agent answered: ``memberdelay``, the campaign's ``announce`` to the agent (AGENTDUMP when the
agent hangs up before being put through), then the bridge, CONNECT and the recording.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.parameters import RingOutcome
from stasis_app.acd.queueing import offer_failed
from stasis_app.acd.records import local_time
from stasis_app.application import StasisApplication
from stasis_app.ari import AriError, AriRequestError
from stasis_app.inbound import announcing, ari_requests, live_status, offering, teardown
from stasis_app.inbound.ari_requests import gone
from stasis_app.inbound.calls import ANSWERED_ELSEWHERE, AgentLeg, InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)


async def on_agent_answered(
    flow: InboundFlow, channel: dict[str, Any], args: list[str], _app: StasisApplication
) -> None:
    """StasisStart of an agent leg: the agent picked up (``args`` is ``[callid]``)."""
    leg_id = str(channel["id"])
    call = flow.legs.get(leg_id)
    if call is None or not args or args[0] != call.callid:
        log.warning("agent leg %s answered for a call that is over (%s); hanging it up", leg_id, args)
        await ari_requests.hangup_channel(flow, leg_id)
        return
    async with call.lock:
        leg = next((o for o in call.offers if o.leg_id == leg_id), None)
        if leg is None or leg.ended or call.phase is not Phase.WAITING or call.delayed is not None:
            log.info("agent leg %s answered after call %s moved on; hanging it up", leg_id, call.callid)
            if leg is not None:
                leg.cancelled = leg.cancelled or ANSWERED_ELSEWHERE
            await ari_requests.hangup_channel(flow, leg_id)
            return
        campaign = call.campaign
        try:
            await offering.cancel_other_legs(flow, call, leg)
            if campaign is not None and (campaign.memberdelay > 0 or campaign.announce):
                # Until put through, the answered agent is ``delayed``: the caller keeps the music
                # and the agent hanging up is an AGENTDUMP (app_queue's try_calling).
                leg.answered = True
                call.delayed = leg
            if campaign is not None and campaign.memberdelay > 0:
                # ``memberdelay``: the agent hears silence before being put through (CONNECT after).
                await ari_requests.request(flow, "startSilence", channelId=leg_id)
                flow._spawn(
                    connect_after_delay(flow, call, leg, channel, campaign.memberdelay),
                    f"memberdelay of {call.callid}",
                )
                return
            await announce_or_connect(flow, call, leg, channel)
        except AriRequestError as exc:
            await teardown.on_request_error(flow, call, exc, "connecting the agent")
        except Exception as exc:
            await teardown.fail(flow, call, f"connecting the agent failed: {exc!r}")


async def connect_after_delay(
    flow: InboundFlow, call: InboundCall, leg: AgentLeg, channel: dict[str, Any], delay: int
) -> None:
    await asyncio.sleep(delay)
    async with call.lock:
        if call.delayed is not leg or call.phase is not Phase.WAITING or leg.ended:
            return
        try:
            if call.campaign is not None and call.campaign.announce:
                await ari_requests.request(flow, "stopSilence", channelId=leg.leg_id)
            await announce_or_connect(flow, call, leg, channel)
        except AriRequestError as exc:
            await teardown.on_request_error(flow, call, exc, "connecting the agent")
        except Exception as exc:
            await teardown.fail(flow, call, f"connecting the agent failed: {exc!r}")


async def announce_or_connect(
    flow: InboundFlow, call: InboundCall, leg: AgentLeg, channel: dict[str, Any]
) -> None:
    """The campaign's ``announce`` to the agent who answered, then the bridge; without one (or
    when it cannot be played: app_queue goes on too), the bridge at once."""
    campaign = call.campaign
    media = campaign.announce if campaign is not None else ()
    if media:
        playback_id = f"oc-pb-{uuid.uuid4().hex}"
        flow.agent_announcements[playback_id] = (call, leg, channel)
        try:
            await flow.connection.rest.channels.playWithId(
                channelId=leg.leg_id, playbackId=playback_id, media=",".join(media)
            )
            return
        except AriError as exc:
            flow.agent_announcements.pop(playback_id, None)
            if gone(exc):
                raise
            log.warning(
                "call %s: cannot play %s to agent %s (%s); putting it through without it",
                call.callid,
                media,
                leg.offer.agent,
                exc,
            )
    call.delayed = None
    await connect(flow, call, leg, channel)


async def after_agent_announcement(flow: InboundFlow, playback_id: str) -> None:
    """The agent heard the whole ``announce``: now the caller is put through."""
    call, leg, channel = flow.agent_announcements.pop(playback_id)
    async with call.lock:
        if call.delayed is not leg or call.phase is not Phase.WAITING or leg.ended:
            return
        try:
            # A playback also finishes when its channel hangs up, and its PlaybackFinished comes
            # before the StasisEnd: an agent gone meanwhile is left to that StasisEnd (AGENTDUMP).
            await flow.connection.rest.channels.get(channelId=leg.leg_id)
        except AriError as exc:
            if gone(exc):
                return
            log.info("call %s: agent leg %s could not be looked at: %s", call.callid, leg.leg_id, exc)
        call.delayed = None
        try:
            await connect(flow, call, leg, channel)
        except AriRequestError as exc:
            await teardown.on_request_error(flow, call, exc, "connecting the agent")
        except Exception as exc:
            await teardown.fail(flow, call, f"connecting the agent failed: {exc!r}")


def agent_dumped(flow: InboundFlow, call: InboundCall, leg: AgentLeg) -> None:
    """The agent answered but hung up before being put through (``memberdelay`` or ``announce``):
    AGENTDUMP, the agent is free again (no wrap-up: there was no call), and the caller, who kept
    the music, waits ``retry`` before the next offer, as app_queue's try_calling returns to the
    queue loop (no RINGNOANSWER, no auto-pause: the phone was answered)."""
    call.delayed = None
    leg.answered = False
    leg.ended = True
    flow.legs.pop(leg.leg_id, None)
    for playback_id, (_call, announced, _channel) in list(flow.agent_announcements.items()):
        if announced is leg:
            del flow.agent_announcements[playback_id]
    now = flow.clock()
    campaign = flow.campaigns.get(leg.offer.campaign) or call.campaign
    if call.phase is Phase.WAITING:
        flow._log_row(records.agent_dump(local_time(now), call.callid, leg.offer.campaign, leg.offer.agent))
    retry = 0 if leg.cancelled == "logoff" or campaign is None else campaign.retry
    # NOANSWER ends the attempt: the caller waits ``retry`` rather than ringing the next at once.
    offer_failed(flow.queues, flow.agents, leg.offer, now, retry, outcome=RingOutcome.NOANSWER)
    call.offers = [other for other in call.offers if other is not leg]
    offering.dispatch(flow)


async def connect(flow: InboundFlow, call: InboundCall, leg: AgentLeg, channel: dict[str, Any]) -> None:
    now = flow.clock()
    campaign = call.campaign
    assert campaign is not None
    leg.answered = True
    announcing.cancel_announcements(flow, call)
    if call.playback_id is not None:
        await ari_requests.stop_playback(flow, call)
    holdtime = announcing.holdtime(flow, campaign.name).connected(now - call.entered_at)
    log.debug("campaign %s: estimated hold time now %ds", campaign.name, holdtime)
    leg.channel_name = str(channel.get("name", leg.channel_name))
    call.offers = [o for o in call.offers if o is not leg]
    call.connected = leg
    call.connected_at = now
    call.phase = Phase.CONNECTED
    flow.queues.leave(call.callid)
    announcing.positions_changed(flow, campaign.name)
    flow.agents.connect(leg.offer.agent, call.callid)
    call.facts.answered = now
    call.facts.agent = leg.offer.agent
    call.facts.dstchannel = leg.channel_name
    flow._log_row(
        records.connect(
            local_time(now),
            call.callid,
            campaign.name,
            leg.offer.agent,
            holdtime=now - call.entered_at,
            member_uniqueid=leg.leg_id,
            ringtime=now - leg.started,
        )
    )
    flow._emit(
        messages.call_connected(
            call.callid,
            campaign.name,
            call.caller_number,
            leg.offer.agent,
            caller_name=call.caller_name,
            connected_at=now,
        )
    )
    live_status.publish_agent_changes(flow)
    await ari_requests.request(flow, "stopMoh", channelId=call.callid)
    bridge_id = f"oc-bridge-{call.callid}"
    # Known before the request: a create whose answer is lost may have made it all the same.
    call.bridge_id = bridge_id
    await flow.connection.rest.bridges.createWithId(
        bridgeId=bridge_id, type="mixing", name=f"call-{call.callid}"
    )
    await flow.connection.rest.bridges.addChannel(bridgeId=bridge_id, channel=f"{call.callid},{leg.leg_id}")
    if campaign.record:
        await record(flow, call, bridge_id)
    if flow.on_bridged is not None:
        flow.on_bridged(call)


async def record(flow: InboundFlow, call: InboundCall, bridge_id: str) -> None:
    """Campaign ``record``: record the conversation, named by the call's CDR guid."""
    try:
        await flow.connection.rest.bridges.record(
            bridgeId=bridge_id, name=call.facts.guid, format="wav", ifExists="overwrite"
        )
        call.facts.userfield = f"recording:{call.facts.guid}"
    except AriError as exc:
        if gone(exc):
            raise
        log.warning("call %s: recording could not start: %s", call.callid, exc)

"""What a waiting caller hears besides the music: position, hold time and periodic announcements,
and the campaign's estimated hold time they are based on.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from stasis_app.acd.announcements import HoldtimeAverage, next_check, periodic_finished, position_change_check
from stasis_app.acd.announcements import plan as plan_announcement
from stasis_app.ari import AriRequestError
from stasis_app.inbound import ari_requests, teardown
from stasis_app.inbound.calls import InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow


def holdtime(flow: InboundFlow, campaign: str) -> HoldtimeAverage:
    return flow.holdtimes.setdefault(campaign, HoldtimeAverage())


def schedule_announcement(flow: InboundFlow, call: InboundCall, at: float | None) -> None:
    """Look at the caller's announcements at ``at`` (None: only when the position changes)."""
    if call.announce_timer is not None:
        call.announce_timer.cancel()
        call.announce_timer = None
    if at is None or call.announcements is None:
        return
    delay = max(0.0, at - flow.clock())
    call.announce_timer = asyncio.get_running_loop().call_later(
        delay, lambda: flow._spawn(announce(flow, call), f"announcement to {call.callid}")
    )


def cancel_announcements(flow: InboundFlow, call: InboundCall) -> None:
    if call.announce_timer is not None:
        call.announce_timer.cancel()
        call.announce_timer = None
    call.announcements = None


async def announce(flow: InboundFlow, call: InboundCall) -> None:
    """``wait_our_turn``'s announcements: stop the music, play, and the music resumes after."""
    async with call.lock:
        call.announce_timer = None
        state, campaign = call.announcements, call.campaign
        if state is None or campaign is None or call.phase is not Phase.WAITING:
            return
        waiting = flow.queues.get(call.callid)
        if waiting is None:
            return
        now = flow.clock()
        settings = campaign.announcements
        position = flow.queues.position(call.callid)
        if waiting.pending or call.playback_id is not None or call.delayed is not None:
            # Ringing an agent (or speaking already): announcements wait for the next turn.
            schedule_announcement(flow, call, now + 1.0)
            return
        if position == 1 and not settings.to_first_user and flow.agents.index(campaign.name).free_count:
            # The head caller whose turn it is hears announcements only with announce-to-first-user.
            schedule_announcement(flow, call, now + 1.0)
            return
        planned = plan_announcement(
            settings, state, now=now, position=position, holdtime=holdtime(flow, campaign.name).holdtime
        )
        if planned.media:
            try:
                await ari_requests.request(flow, "stopMoh", channelId=call.callid)
                call.announcing = True
                if not await ari_requests.play(flow, call, planned.media):
                    call.announcing = False
                    await ari_requests.request(
                        flow, "startMoh", channelId=call.callid, mohClass=campaign.musiconhold
                    )
            except AriRequestError as exc:
                await teardown.on_request_error(flow, call, exc, "announcing")
                return
        if not call.announcing:
            schedule_announcement(flow, call, planned.next_check)


async def after_announcement(flow: InboundFlow, call: InboundCall) -> None:
    call.announcing = False
    campaign, state = call.campaign, call.announcements
    if call.phase is not Phase.WAITING or campaign is None:
        return
    await ari_requests.request(flow, "startMoh", channelId=call.callid, mohClass=campaign.musiconhold)
    if state is None:
        return
    now = flow.clock()
    periodic_finished(campaign.announcements, state, now)
    planned_next = next_check(campaign.announcements, state)
    schedule_announcement(flow, call, planned_next)


def positions_changed(flow: InboundFlow, campaign: str) -> None:
    """Callers behind a leaver moved up: a changed position may be told sooner."""
    config = flow.campaigns.get(campaign)
    if config is None or not config.announcements.frequency:
        return
    for waiting in flow.queues.waiting(campaign):
        call = flow.calls.get(waiting.callid)
        state = call.announcements if call is not None else None
        if call is None or state is None or call.announcing:
            continue
        at = position_change_check(config.announcements, state)
        if at is not None and call.announce_timer is not None:
            when = call.announce_timer.when() - asyncio.get_running_loop().time() + flow.clock()
            if at < when:
                schedule_announcement(flow, call, at)

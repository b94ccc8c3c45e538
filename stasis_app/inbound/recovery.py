"""After a reconnect to ARI: what happened while no event could be heard (Asterisk replays none),
and the releases that could not be made then.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from stasis_app.ari import AriConnection, AriRequestError, AriUnavailable, ResyncReport
from stasis_app.inbound import ari_requests, connecting, entry, teardown
from stasis_app.inbound.calls import INBOUND_KIND

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)


async def on_resync(flow: InboundFlow, report: ResyncReport, _conn: AriConnection) -> None:
    """What happened while the events could not be heard (Asterisk replays none of them).

    Channels that vanished: their calls are over; record them. Agent legs that entered Stasis:
    the agent answered (their StasisStart is lost). Inbound calls that arrived meanwhile on a
    reconnect: nothing was done to them yet, so they are routed now. Then ``tie_loose_ends``.
    """
    for snapshot in [*report.channels_gone, *report.channels_left]:
        channel_id = str(snapshot.get("id"))
        flow._strays.pop(channel_id, None)
        if channel_id in flow.calls or channel_id in flow.legs:
            log.warning("channel %s vanished while ARI was unreachable; finishing its call", channel_id)
            await teardown.channel_gone(flow, channel_id, cause=0)
    for snapshot in report.channels_new:
        channel_id = str(snapshot.get("id"))
        args = _stasis_args(snapshot)
        if channel_id in flow.legs and channel_id not in flow._strays:
            log.warning("agent leg %s answered while ARI was unreachable", channel_id)
            flow._spawn(
                connecting.on_agent_answered(flow, snapshot, args[1:], flow.application),
                f"agent leg {channel_id} answered during the outage",
            )
        elif channel_id in flow.calls or channel_id in flow._strays:
            continue
        elif not report.first and args[:1] == [INBOUND_KIND]:
            log.warning("inbound call %s arrived while ARI was unreachable; routing it", channel_id)
            flow._spawn(
                entry.on_inbound(flow, snapshot, args[1:], flow.application),
                f"inbound call {channel_id} found after reconnecting",
            )
        else:
            # A call this process does not know (it restarted): it cannot be resumed, so it is
            # handed back to the dialplan rather than left in silence.
            await flow.application.send_back(channel_id, "unknown call found after reconnecting")
    alive = {str(s.get("id")) for s in [*report.channels_kept, *report.channels_new]}
    flow._spawn(tie_loose_ends(flow, alive), "loose ends after reconnecting")


async def tie_loose_ends(flow: InboundFlow, in_stasis: set[str]) -> None:
    """After a reconnect, what no event will tell any more: ringing agent legs that ended while
    the events could not be heard (their ChannelDestroyed is lost: the offer ends as unanswered
    and the caller is offered again), playbacks that finished (the call's next step runs), and
    the channels and bridges the flow let go of but could not release then (released now).

    A request failing here closes the socket too, and the next reconnect comes back here.
    """
    try:
        await tie_loose_ends_once(flow, in_stasis)
    except AriUnavailable as exc:
        log.warning("loose ends left for the next reconnect: %s", exc)


async def tie_loose_ends_once(flow: InboundFlow, in_stasis: set[str]) -> None:
    ringing = [
        leg.leg_id
        for call in {id(c): c for c in flow.legs.values()}.values()
        for leg in call.offers
        if leg.originated and not leg.answered and not leg.ended and leg.leg_id not in in_stasis
    ]
    live: set[str] = set(in_stasis)
    if ringing or flow._strays:
        channels = await flow.connection.rest.channels.list()
        live = {str(c.get("id")) for c in channels} if isinstance(channels, list) else set()
    for leg_id in ringing:
        if leg_id not in live:
            log.warning("agent leg %s ended while ARI was unreachable", leg_id)
            await teardown.channel_gone(flow, leg_id, cause=0)
    for channel_id, how in list(flow._strays.items()):
        if channel_id not in live or (how == "send_back" and channel_id not in in_stasis):
            flow._strays.pop(channel_id, None)
        elif how == "send_back":
            await flow.application.send_back(channel_id, "released before ARI became unreachable")
        else:
            await ari_requests.hangup_channel(flow, channel_id)
    if flow._stray_bridges:
        bridges = await flow.connection.rest.bridges.list()
        present = {str(b.get("id")) for b in bridges} if isinstance(bridges, list) else set()
        for bridge_id in list(flow._stray_bridges):
            flow._stray_bridges.discard(bridge_id)
            if bridge_id in present:
                await ari_requests.destroy_bridge_id(flow, bridge_id)
    for playback_id in [*flow.playbacks, *flow.agent_announcements]:
        try:
            await flow.connection.rest.playbacks.get(playbackId=playback_id)
        except AriRequestError as exc:
            if exc.status == 404:
                log.warning("playback %s finished while ARI was unreachable", playback_id)
                await flow.on_playback_finished({"playback": {"id": playback_id}}, flow.connection)


def _stasis_args(channel: dict[str, Any]) -> list[str]:
    """The Stasis arguments of a channel snapshot (its dialplan ``app_data`` after the app's name),
    e.g. ``["inbound", "880000"]``; empty when the snapshot does not say."""
    dialplan = channel.get("dialplan") or {}
    data = dialplan.get("app_data") if isinstance(dialplan, dict) else None
    if not isinstance(data, str) or not data:
        return []
    return [part.strip() for part in data.split(",")[1:]]

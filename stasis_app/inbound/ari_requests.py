"""ARI requests about the flow's channels, bridges and playbacks, and what a failed one means.

A request about a channel that has just hung up fails with one of ``GONE_STATUSES``; such a
failure is left to the hang-up path. A release that cannot reach ARI is remembered as a stray and
finished after the reconnect (see ``stasis_app.inbound.recovery``).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from stasis_app.ari import AriError, AriRequestError, AriUnavailable
from stasis_app.inbound.calls import InboundCall

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)

#: Answers meaning "that channel is gone or left Stasis" (bridge adds answer 400/422 for those).
GONE_STATUSES = frozenset({400, 404, 409, 422})


async def play(flow: InboundFlow, call: InboundCall, media: tuple[str, ...]) -> bool:
    """Start playing ``media`` to the caller; False when there is nothing (more) to wait for."""
    if not media:
        return False
    playback_id = f"oc-pb-{uuid.uuid4().hex}"
    call.playback_id = playback_id
    flow.playbacks[playback_id] = call
    try:
        await flow.connection.rest.channels.playWithId(
            channelId=call.callid, playbackId=playback_id, media=",".join(media)
        )
    except AriError as exc:
        flow.playbacks.pop(playback_id, None)
        call.playback_id = None
        if gone(exc):
            raise
        log.warning("call %s: cannot play %s (%s); going on without it", call.callid, media, exc)
        return False
    return True


async def stop_playback(flow: InboundFlow, call: InboundCall) -> None:
    playback_id, call.playback_id = call.playback_id, None
    call.announcing = False
    if playback_id is None:
        return
    flow.playbacks.pop(playback_id, None)
    try:
        await flow.connection.rest.playbacks.stop(playbackId=playback_id)
    except AriError as exc:
        log.info("stopping playback %s: %s", playback_id, exc)


async def hangup_channel(flow: InboundFlow, channel_id: str, reason: str = "normal") -> None:
    try:
        await flow.connection.rest.channels.hangup(channelId=channel_id, reason=reason)
    except AriRequestError as exc:
        if exc.status != 404:
            log.warning("hanging up %s failed: %s", channel_id, exc)
    except AriUnavailable as exc:
        log.warning("hanging up %s failed: %s; trying again after the reconnect", channel_id, exc)
        flow._strays[channel_id] = "hangup"
    except AriError as exc:
        log.warning("hanging up %s failed: %s", channel_id, exc)


async def destroy_bridge(flow: InboundFlow, call: InboundCall) -> None:
    bridge_id, call.bridge_id = call.bridge_id, None
    if bridge_id is not None:
        await destroy_bridge_id(flow, bridge_id)


async def destroy_bridge_id(flow: InboundFlow, bridge_id: str) -> None:
    try:
        await flow.connection.rest.bridges.destroy(bridgeId=bridge_id)
    except AriUnavailable as exc:
        log.warning("destroying bridge %s failed: %s; trying again after the reconnect", bridge_id, exc)
        flow._stray_bridges.add(bridge_id)
    except AriError as exc:
        if not (isinstance(exc, AriRequestError) and exc.status == 404):
            log.warning("destroying bridge %s failed: %s", bridge_id, exc)


async def request(flow: InboundFlow, nickname: str, **params: object) -> None:
    """A channel request whose failure does not change the call (progress, stopMoh...)."""
    try:
        await flow.connection.rest.call("channels", nickname, **params)
    except AriError as exc:
        if gone(exc):
            raise
        log.info("channels.%s %s failed: %s", nickname, params, exc)


def gone(exc: AriError) -> bool:
    """The channel no longer exists or left Stasis: the hang-up path takes over."""
    return isinstance(exc, AriRequestError) and exc.status in GONE_STATUSES

"""Virtual hold: a waiting caller leaves the line and keeps their place; at their turn, a callback.

With the campaign's ``virtual_hold`` on, a caller who presses ``virtual_hold_key`` (or hangs up,
with ``virtual_hold_hangup``) stays in the queue without a channel. Routing goes on as for anyone
else; when an agent is chosen for them the agent is held for the call (shown ringing) while the
system dials the caller's number through the campaign's ``dialstring``. The callback channel takes
the call's own id (the caller's first channel is gone by then), so from the moment the caller picks
up the call goes on exactly like one that never left: music, the agent's phone rings, CONNECT.

queue_log rows (the product's own, named like Asterisk's, data fields ``|``-separated):

* ``VIRTUALHOLD how|position|origposition|waittime|number`` -- the caller left the line (``how`` is
  the key pressed or ``hangup``);
* ``CALLBACK dialstring|attempt|waittime`` -- their turn came, the callback is dialed;
* ``CALLBACKANSWER channel uniqueid|ringtime`` -- the caller picked up; CONNECT and COMPLETE* follow;
* ``CALLBACKFAILED dialstatus|attempt|waittime`` -- nobody picked up; the call ends (the agent is
  free again at once).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.queueing import offer_failed
from stasis_app.acd.records import local_time
from stasis_app.ari import AriError, AriRequestError
from stasis_app.inbound import announcing, ari_requests, offering, teardown
from stasis_app.inbound.calls import AgentLeg, InboundCall, Phase

if TYPE_CHECKING:
    from stasis_app.application import StasisApplication
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)

CALLBACK_KIND = "callback"
#: Seconds the caller's phone may ring for the callback.
CALLBACK_RING_SECONDS = 30
#: Tries to reuse the call's id while the first channel is still being torn down.
ID_RETRIES = 20
ID_RETRY_PAUSE = 0.1
#: Confirmation played before the line is released after the key.
CONFIRMATION = ("sound:queue-thankyou",)


def callback_dialstring(template: str, number: str) -> str:
    """``{number}`` in the campaign's dial string is replaced; otherwise the number is appended
    (``PJSIP/carrier/`` + number, ``SIP/CLEVERSIP/9898`` + number: a prefix)."""
    if not template or not number:
        return ""
    return template.replace("{number}", number) if "{number}" in template else template + number


@dataclass
class Callback:
    """One callback in progress."""

    leg: AgentLeg
    dialstring: str
    started: float
    attempt: int = 1
    answered: bool = False


class VirtualHold:
    """Keeps places for callers who left, and calls them back (plugged into the inbound flow)."""

    def __init__(self, flow: InboundFlow) -> None:
        self.flow = flow
        self.callbacks: dict[str, Callback] = {}
        flow.virtual_hold = self

    def install(self) -> None:
        self.flow.application.register_flow(CALLBACK_KIND, self.on_callback_answered)

    def available(self, call: InboundCall) -> bool:
        campaign = call.campaign
        return bool(
            campaign is not None
            and campaign.virtual_hold
            and callback_dialstring(campaign.dialstring, call.caller_number)
        )

    # Leaving the line ------------------------------------------------------------------------

    def keep_place(self, call: InboundCall, *, how: str) -> bool:
        """The caller's channel is gone (or going): the place is kept, with VIRTUALHOLD."""
        flow = self.flow
        campaign = call.campaign
        if not self.available(call) or campaign is None:
            return False
        now = flow.clock()
        position = flow.queues.position(call.callid)
        call.phase = Phase.VIRTUAL_HOLD
        announcing.cancel_announcements(flow, call)
        if call.playback_id is not None:
            flow.playbacks.pop(call.playback_id, None)
            call.playback_id = None
        call.announcing = False
        flow._log_row(
            records.virtual_hold(
                local_time(now),
                call.callid,
                campaign.name,
                how=how,
                position=position,
                original_position=call.original_position,
                waittime=now - call.entered_at,
                number=call.caller_number,
            )
        )
        flow._emit(
            {
                "type": "call.virtual_hold",
                "callid": call.callid,
                "campaign": campaign.name,
                "caller": call.caller_number,
                "position": position,
                "time": now,
            }
        )
        return True

    async def leave_line(self, call: InboundCall, key: str) -> None:
        """The caller pressed the virtual hold key: confirm, keep the place, release the line."""
        if not self.keep_place(call, how=key):
            return
        try:
            await ari_requests.request(self.flow, "stopMoh", channelId=call.callid)
            await self.flow.connection.rest.channels.play(channelId=call.callid, media=",".join(CONFIRMATION))
        except AriError as exc:
            log.info("call %s: virtual hold confirmation not played: %s", call.callid, exc)
        self.flow._spawn(self._release_line(call.callid), f"virtual hold of {call.callid}")

    async def _release_line(self, channel_id: str) -> None:
        await asyncio.sleep(1.0)
        await ari_requests.hangup_channel(self.flow, channel_id)

    # The turn comes --------------------------------------------------------------------------

    def turn_came(self, call: InboundCall, leg: AgentLeg) -> None:
        """An agent is chosen for a caller on virtual hold: hold the agent and dial the caller."""
        campaign = call.campaign
        assert campaign is not None
        dialstring = callback_dialstring(campaign.dialstring, call.caller_number)
        previous = self.callbacks.get(call.callid)
        callback = Callback(
            leg, dialstring, self.flow.clock(), attempt=(previous.attempt + 1 if previous else 1)
        )
        self.callbacks[call.callid] = callback
        self.flow._spawn(self._dial(call, callback), f"callback of {call.callid}")

    async def _dial(self, call: InboundCall, callback: Callback) -> None:
        flow = self.flow
        campaign = call.campaign
        assert campaign is not None
        now = flow.clock()
        flow._log_row(
            records.callback_start(
                local_time(now),
                call.callid,
                campaign.name,
                dialstring=callback.dialstring,
                attempt=callback.attempt,
                waittime=now - call.entered_at,
            )
        )
        params: dict[str, Any] = {
            "endpoint": callback.dialstring,
            "app": flow.app_name,
            "appArgs": f"{CALLBACK_KIND},{call.callid}",
            "timeout": CALLBACK_RING_SECONDS,
            "channelId": call.callid,
            "callerId": campaign.dids[0] if campaign.dids else campaign.name,
        }
        if callback.dialstring.lower().startswith("local/"):
            params["formats"] = "ulaw"
        for _ in range(ID_RETRIES):
            try:
                await flow.connection.rest.channels.originate(**params)
                return
            except AriRequestError as exc:
                if exc.status not in (409, 500):
                    log.warning("call %s: callback to %s failed: %s", call.callid, callback.dialstring, exc)
                    break
                # The first channel with this id may still be going away.
                await asyncio.sleep(ID_RETRY_PAUSE)
            except AriError as exc:
                log.warning("call %s: callback to %s failed: %s", call.callid, callback.dialstring, exc)
                break
        async with call.lock:
            await self._failed(call, callback, "CHANUNAVAIL")

    async def on_callback_answered(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        """The caller picked up the callback: music, then the agent's phone rings as usual."""
        flow = self.flow
        callid = str(channel["id"])
        call = flow.calls.get(callid)
        callback = self.callbacks.get(callid)
        if call is None or callback is None or call.phase is not Phase.VIRTUAL_HOLD:
            await ari_requests.hangup_channel(flow, callid)
            return
        async with call.lock:
            campaign = call.campaign
            assert campaign is not None
            now = flow.clock()
            callback.answered = True
            call.phase = Phase.WAITING
            call.channel_name = str(channel.get("name", call.channel_name))
            flow._log_row(
                records.callback_answered(
                    local_time(now),
                    call.callid,
                    campaign.name,
                    channel_id=callid,
                    ringtime=now - callback.started,
                )
            )
            try:
                await ari_requests.request(flow, "startMoh", channelId=callid, mohClass=campaign.musiconhold)
            except AriRequestError as exc:
                await teardown.on_request_error(flow, call, exc, "callback music")
                return
            leg = callback.leg
            if leg.ended or leg not in call.offers:
                # The agent went away meanwhile: the caller waits for the next one, in place.
                flow.dispatch()
                return
        flow._spawn(offering.ring(flow, call, leg), f"offer of {call.callid} to {leg.offer.agent}")

    async def callback_gone(self, call: InboundCall, cause: int) -> None:
        """A channel with the call's id went away while on virtual hold: the first one (nothing to
        do) or an unanswered callback (the call ends)."""
        callback = self.callbacks.get(call.callid)
        if callback is None or callback.answered:
            return
        status = "BUSY" if cause == 17 else "NOANSWER" if cause in (0, 16, 19, 21) else "CHANUNAVAIL"
        await self._failed(call, callback, status)

    async def _failed(self, call: InboundCall, callback: Callback, status: str) -> None:
        flow = self.flow
        campaign = call.campaign
        self.callbacks.pop(call.callid, None)
        if campaign is None or call.phase is not Phase.VIRTUAL_HOLD:
            return
        now = flow.clock()
        leg = callback.leg
        leg.ended = True
        leg.cancelled = "caller"
        flow.legs.pop(leg.leg_id, None)
        call.offers = [o for o in call.offers if o is not leg]
        offer_failed(flow.queues, flow.agents, leg.offer, now, 0)
        flow._log_row(
            records.callback_failed(
                local_time(now),
                call.callid,
                campaign.name,
                dialstatus=status,
                attempt=callback.attempt,
                waittime=now - call.entered_at,
            )
        )
        flow._emit(messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=1))
        teardown.end(flow, call)
        flow.dispatch()

    def forget(self, callid: str) -> None:
        self.callbacks.pop(callid, None)

"""The inbound call flow: a customer dials a campaign's number and is put through to a free agent.

One :class:`InboundFlow` serves every inbound call of the process. The domain core
(``stasis_app.acd``) decides; this module turns ARI events into domain inputs and decisions into ARI
requests, queue_log/CDR rows and bus events.

A call's phases::

    ROUTING --unknown DID--> NOTICE (number-not-in-service audio) --> hang up (unallocated)
            --closed------> OUT_OF_HOURS (audio) --> VOICEMAIL (dialplan vm<box>) | hang up
            --open--------> WELCOME (answered, audio) --> WAITING (music on hold, ENTERQUEUE)
    WAITING: offer to a free agent = originate to the agent's interface with the ring timeout
             (appArgs "agent,<callid>"); unanswered -> RINGNOANSWER, next offer after ``retry``;
             answered -> CONNECTED (bridge, CONNECT); caller hangs up -> RINGCANCELED + ABANDON.
    CONNECTED: either side hangs up -> COMPLETECALLER / COMPLETEAGENT, both legs and the bridge go.
    Every call ends in ENDED with exactly one CDR row.

Handlers run in each channel's ordered queue and never wait for another event: anything slow is an
event later (PlaybackFinished, StasisStart of the agent leg, ChannelDestroyed). A call's steps from
different channels (caller, agent leg) are serialised by the call's lock; every step re-checks the
call's phase after each request, because the other side may have hung up meanwhile. An unexpected
error ends the call cleanly: the agent leg is hung up and the caller sent back to the dialplan.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import math
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from bus import messages
from bus.base import Bus
from stasis_app.acd import records
from stasis_app.acd.agents import AgentError, AgentRegistry
from stasis_app.acd.campaigns import CampaignConfig, DidDirectory, MemberConfig
from stasis_app.acd.parameters import RingOutcome
from stasis_app.acd.queueing import (
    CampaignQueues,
    Offer,
    StrategyMemory,
    offer_failed,
    plan_offers,
)
from stasis_app.acd.records import CallFacts, QueueLogRow, local_time
from stasis_app.acd.schedule import HolidayCalendar
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError, ResyncReport
from stasis_app.inbound.ports import CampaignLoader, RecordSink

log = logging.getLogger(__name__)

#: Played to a caller whose number no campaign owns (Asterisk core sound).
NOT_IN_SERVICE_MEDIA = "sound:ss-noservice"
RETURN_CONTEXT = "stasis-return"
#: Q.850 cause 19: the originate ``timeout`` expired (Asterisk reports it only in ChannelDestroyed).
CAUSE_NO_ANSWER = 19
#: Q.850 causes of a busy phone (17) and of congestion (34 no circuit, 38 network out of order).
CAUSE_BUSY = 17
CAUSES_CONGESTION = frozenset({34, 38})
#: Stasis argument of the agent legs this flow originates.
AGENT_KIND = "agent"
INBOUND_KIND = "inbound"
#: Answers meaning "that channel is gone or left Stasis" (bridge adds answer 400/422 for those).
GONE_STATUSES = frozenset({400, 404, 409, 422})


class Phase(enum.Enum):
    ROUTING = "routing"
    NOTICE = "notice"
    OUT_OF_HOURS = "out-of-hours"
    VOICEMAIL = "voicemail"
    WELCOME = "welcome"
    WAITING = "waiting"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass
class AgentLeg:
    """One offer of a call to an agent: the channel originated to the agent's phone."""

    offer: Offer
    leg_id: str
    started: float
    ring_timeout: int
    answered: bool = False
    ended: bool = False
    #: Why the flow hung this leg up before answer: "caller", "logoff", "hangup"; None otherwise.
    cancelled: str | None = None
    channel_name: str = ""
    dial_status: str = ""


@dataclass
class InboundCall:
    callid: str
    channel_name: str
    caller_number: str
    caller_name: str
    did: str
    facts: CallFacts
    campaign: CampaignConfig | None = None
    phase: Phase = Phase.ROUTING
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    playback_id: str | None = None
    entered_at: float = 0.0
    original_position: int = 0
    offer: AgentLeg | None = None
    connected: AgentLeg | None = None
    connected_at: float = 0.0
    bridge_id: str | None = None
    recorded: bool = False
    #: Channels an in-call feature (transfer, park, conference) owns now: their hang-ups are its.
    handed_over: set[str] = field(default_factory=set)

    @property
    def caller_id(self) -> str:
        return f'"{self.caller_name}" <{self.caller_number}>' if self.caller_name else self.caller_number


class InboundFlow:
    """Inbound calls, agent legs, agent commands from the bus, and their records."""

    def __init__(
        self,
        application: StasisApplication,
        *,
        records_sink: RecordSink,
        load_campaigns: CampaignLoader,
        bus: Bus | None = None,
        clock: Callable[[], float] = time.time,
        holidays: HolidayCalendar | None = None,
    ) -> None:
        self.application = application
        self.connection: AriConnection = application.connection
        self.app_name = application.connection.settings.app
        self.records = records_sink
        self.load_campaigns = load_campaigns
        self.bus = bus
        self.clock = clock
        self.holidays = holidays
        self.campaigns: dict[str, CampaignConfig] = {}
        self.directory = DidDirectory({})
        self.agents = AgentRegistry()
        self.queues = CampaignQueues()
        self.memory = StrategyMemory()
        self.calls: dict[str, InboundCall] = {}
        self.legs: dict[str, InboundCall] = {}
        self.playbacks: dict[str, InboundCall] = {}
        self.loaded = False
        self._published_states: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wakeup: asyncio.TimerHandle | None = None
        self._outbox: asyncio.Queue[messages.Message] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._removers: list[Callable[[], None]] = []
        self._subscription: Any = None
        #: Command types another subscriber of the bus answers (see stasis_app.agent_commands).
        self.delegated_commands: set[str] = set()
        #: Told about each call once its agent is bridged (the in-call features attach there).
        self.on_bridged: Callable[[InboundCall], None] | None = None

    # Wiring ---------------------------------------------------------------------------------------

    def install(self) -> None:
        """Register the flows and event handlers (before the connection starts)."""
        self.application.register_flow(INBOUND_KIND, self.on_inbound)
        self.application.register_flow(AGENT_KIND, self.on_agent_answered)
        conn = self.connection
        self._removers += [
            conn.on("StasisEnd", self._on_stasis_end),
            conn.on("ChannelDestroyed", self._on_channel_destroyed),
            conn.on("PlaybackFinished", self._on_playback_finished),
            conn.on("Dial", self._on_dial),
            conn.on_resync(self._on_resync),
        ]
        if self.bus is not None:
            self._subscription = self.bus.subscribe(messages.COMMANDS, self.on_command)

    async def start(self) -> None:
        """Load campaigns (retrying in the background while the database is away)."""
        self._outbox = asyncio.Queue()
        self._publisher = asyncio.create_task(self._publish_loop(), name="inbound-events")
        try:
            await self.reload(None, initial=True)
        except Exception as exc:
            log.error("campaigns could not be loaded (%s); retrying in the background", exc)
            self._spawn(self._load_until_done(), "campaign loader")

    async def stop(self) -> None:
        if self._wakeup is not None:
            self._wakeup.cancel()
        for remove in self._removers:
            remove()
        if self._subscription is not None:
            self._subscription.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._publisher is not None:
            if self._outbox is not None:
                try:
                    await asyncio.wait_for(self._outbox.join(), 1.0)
                except TimeoutError:
                    log.warning("dropping %d unpublished events at stop", self._outbox.qsize())
            self._publisher.cancel()
            await asyncio.gather(self._publisher, return_exceptions=True)

    async def _load_until_done(self, pause: float = 2.0) -> None:
        while not self.loaded:
            await asyncio.sleep(pause)
            try:
                await self.reload(None, initial=True)
            except Exception as exc:
                log.warning("campaigns still cannot be loaded: %s", exc)

    def _spawn(self, work: Coroutine[Any, Any, Any], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.create_task(guarded(), name=what)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # Campaigns ------------------------------------------------------------------------------------

    async def reload(self, names: list[str] | None, *, initial: bool = False) -> dict[str, Any]:
        """Read campaigns and members again; new members get ADDMEMBER, removed ones REMOVEMEMBER."""
        campaigns, members = await self.load_campaigns(names)
        now = self.clock()
        if names is None:
            self.campaigns = {c.name: c for c in campaigns}
        else:
            for name in names:
                self.campaigns.pop(name, None)
            self.campaigns.update({c.name: c for c in campaigns})
        self.directory = DidDirectory.build(self.campaigns.values())
        for conflict in self.directory.conflicts:
            log.error("campaign configuration: %s", conflict)
        changes = self.agents.set_members(members, names)
        if not initial or self.loaded:
            for member in changes.added:
                self._log_row(
                    records.add_member(local_time(now), member.campaign, member.agent, member.paused)
                )
            for member in changes.removed:
                self._log_row(records.remove_member(local_time(now), member.campaign, member.agent))
        self.loaded = True
        log.info(
            "loaded %d campaigns (%d DIDs) and %d members",
            len(campaigns),
            len(self.directory.by_did),
            len(members),
        )
        self._publish_agent_changes()
        self.dispatch()
        return {
            "campaigns": sorted(c.name for c in campaigns),
            "added": [_member_text(m) for m in changes.added],
            "removed": [_member_text(m) for m in changes.removed],
        }

    # Inbound calls --------------------------------------------------------------------------------

    async def on_inbound(self, channel: dict[str, Any], args: list[str], _app: StasisApplication) -> None:
        """StasisStart of a call from a trunk: ``args`` is ``[DID]``."""
        now = self.clock()
        callid = str(channel["id"])
        caller = channel.get("caller") or {}
        did = args[0] if args else ""
        call = InboundCall(
            callid=callid,
            channel_name=str(channel.get("name", "")),
            caller_number=str(caller.get("number", "")),
            caller_name=str(caller.get("name", "")),
            did=did,
            facts=CallFacts(
                guid=str(uuid.uuid4()),
                uniqueid=callid,
                channel=str(channel.get("name", "")),
                started=now,
                src=str(caller.get("number", "")),
                caller_name=str(caller.get("name", "")),
                dst=did,
                dcontext=str((channel.get("dialplan") or {}).get("context", "from-trunk")),
            ),
        )
        self.calls[callid] = call
        async with call.lock:
            try:
                await self._route(call)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "routing")
            except Exception as exc:
                await self._fail(call, f"routing failed: {exc!r}")

    async def _route(self, call: InboundCall) -> None:
        campaign = self.directory.match(call.did)
        if campaign is None:
            log.warning(
                "inbound call %s from %r to DID %r: no campaign owns this number; "
                "playing the not-in-service notice and hanging up",
                call.callid,
                call.caller_number,
                call.did,
            )
            call.phase = Phase.NOTICE
            call.facts.disposition = records.FAILED
            call.facts.lastdata = call.did
            await self._request("progress", channelId=call.callid)
            if not await self._play(call, (NOT_IN_SERVICE_MEDIA,)):
                await self._after_notice(call)
            return
        call.campaign = campaign
        call.facts.campaign = campaign.name
        now = self.clock()
        if not campaign.schedule.is_open(local_time(now), self.holidays):
            log.info(
                "call %s to %s (%s) outside its schedule %r",
                call.callid,
                call.did,
                campaign.name,
                campaign.schedule.text,
            )
            call.phase = Phase.OUT_OF_HOURS
            await self.connection.rest.channels.answer(channelId=call.callid)
            if not await self._play(call, campaign.out_of_hours):
                await self._after_out_of_hours(call)
            return
        call.phase = Phase.WELCOME
        await self.connection.rest.channels.answer(channelId=call.callid)
        if not await self._play(call, campaign.welcome):
            await self._enter_queue(call)

    async def _play(self, call: InboundCall, media: tuple[str, ...]) -> bool:
        """Start playing ``media`` to the caller; False when there is nothing (more) to wait for."""
        if not media:
            return False
        playback_id = f"oc-pb-{uuid.uuid4().hex}"
        call.playback_id = playback_id
        self.playbacks[playback_id] = call
        try:
            await self.connection.rest.channels.playWithId(
                channelId=call.callid, playbackId=playback_id, media=",".join(media)
            )
        except AriError as exc:
            self.playbacks.pop(playback_id, None)
            call.playback_id = None
            if _gone(exc):
                raise
            log.warning("call %s: cannot play %s (%s); going on without it", call.callid, media, exc)
            return False
        return True

    async def _on_playback_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        playback = event.get("playback") or {}
        call = self.playbacks.pop(str(playback.get("id")), None)
        if call is None:
            return
        async with call.lock:
            if call.playback_id != playback.get("id") or call.phase is Phase.ENDED:
                return
            call.playback_id = None
            try:
                if call.phase is Phase.NOTICE:
                    await self._after_notice(call)
                elif call.phase is Phase.OUT_OF_HOURS:
                    await self._after_out_of_hours(call)
                elif call.phase is Phase.WELCOME:
                    await self._enter_queue(call)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "after playback")
            except Exception as exc:
                await self._fail(call, f"after playback: {exc!r}")

    async def _after_notice(self, call: InboundCall) -> None:
        await self._hangup_channel(call.callid, reason="unallocated")

    async def _after_out_of_hours(self, call: InboundCall) -> None:
        campaign = call.campaign
        if campaign is not None and campaign.voicemail:
            call.phase = Phase.VOICEMAIL
            call.facts.lastapp = "VoiceMail"
            call.facts.lastdata = campaign.voicemail
            await self.connection.rest.channels.continueInDialplan(
                channelId=call.callid, context=RETURN_CONTEXT, extension=f"vm{campaign.voicemail}", priority=1
            )
            return
        await self._hangup_channel(call.callid, reason="normal")

    async def _enter_queue(self, call: InboundCall) -> None:
        campaign = call.campaign
        assert campaign is not None
        now = self.clock()
        await self.connection.rest.channels.startMoh(channelId=call.callid, mohClass=campaign.musiconhold)
        waiting = self.queues.enter(call.callid, campaign.name, call.caller_number, now)
        call.phase = Phase.WAITING
        call.entered_at = now
        call.original_position = waiting.original_position
        call.facts.lastapp = "Queue"
        call.facts.lastdata = campaign.name
        self._log_row(
            records.enter_queue(
                local_time(now),
                call.callid,
                campaign.name,
                caller_number=call.caller_number,
                position=waiting.original_position,
            )
        )
        self._emit(
            messages.call_entered(
                call.callid,
                campaign.name,
                call.caller_number,
                position=waiting.original_position,
                did=call.did,
            )
        )
        self.dispatch()

    # Offering calls to agents ---------------------------------------------------------------------

    def dispatch(self) -> None:
        """Offer waiting callers to free agents now; plan the next wake-up for retries and wrap-ups."""
        now = self.clock()
        offers = plan_offers(self.queues, self.agents, self.campaigns, self.memory, now=now)
        for offer in offers:
            call = self.calls.get(offer.callid)
            campaign = self.campaigns.get(offer.campaign)
            if call is None or campaign is None:
                offer_failed(self.queues, self.agents, offer, now, 0)
                continue
            # The core says how long this ring may last (what is left of the caller's attempt).
            ring_timeout = (
                campaign.ring_timeout if offer.timeout is None else max(1, math.ceil(offer.timeout))
            )
            leg = AgentLeg(offer, f"oc-agent-{uuid.uuid4().hex}", now, ring_timeout)
            call.offer = leg
            self.legs[leg.leg_id] = call
            self._emit(
                messages.call_ringing(
                    call.callid,
                    offer.campaign,
                    call.caller_number,
                    offer.agent,
                    interface=offer.interface,
                    caller_name=call.caller_name,
                )
            )
            self._spawn(self._ring(call, leg), f"offer of {call.callid} to {offer.agent}")
        self._publish_agent_changes()
        self._plan_wakeup()

    def _plan_wakeup(self) -> None:
        now = self.clock()
        times = [
            t for t in (self.queues.next_ready_at(now), self.agents.next_wrapup_end(now)) if t is not None
        ]
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if times:
            delay = max(0.0, min(times) - now) + 0.001
            self._wakeup = asyncio.get_running_loop().call_later(delay, self._on_wakeup)

    def _on_wakeup(self) -> None:
        self._wakeup = None
        self.dispatch()

    async def _ring(self, call: InboundCall, leg: AgentLeg) -> None:
        async with call.lock:
            if call.offer is not leg or leg.ended or call.phase is not Phase.WAITING:
                self._release_offer(call, leg, record=False)
                return
            interface = leg.offer.interface
            params: dict[str, Any] = {
                "endpoint": interface,
                "app": self.app_name,
                "appArgs": f"{AGENT_KIND},{call.callid}",
                "timeout": leg.ring_timeout,
                "channelId": leg.leg_id,
                "callerId": call.caller_id,
            }
            if interface.lower().startswith("local/"):
                # Local channels originated without formats come up at 192 kHz (see the design notes).
                params["formats"] = "ulaw"
            else:
                params["originator"] = call.callid
            try:
                channel = await self.connection.rest.channels.originate(**params)
            except AriError as exc:
                log.warning("call %s: cannot ring %s on %s: %s", call.callid, leg.offer.agent, interface, exc)
                self._release_offer(call, leg, record=True)
                return
            if isinstance(channel, dict):
                leg.channel_name = str(channel.get("name", ""))

    def _release_offer(self, call: InboundCall, leg: AgentLeg, *, record: bool, cause: int = 0) -> None:
        """An offer ended without answer: free the agent, log it, let the caller be offered again."""
        if leg.answered:
            return
        first_time = not leg.ended
        leg.ended = True
        self.legs.pop(leg.leg_id, None)
        now = self.clock()
        campaign = self.campaigns.get(leg.offer.campaign) or call.campaign
        if (
            record
            and first_time
            and call.phase is Phase.WAITING
            and leg.cancelled in (None, "logoff", "hangup")
        ):
            ring_ms = (
                leg.ring_timeout * 1000
                if cause == CAUSE_NO_ANSWER and leg.cancelled is None
                else int((now - leg.started) * 1000)
            )
            self._log_row(
                records.ring_no_answer(
                    local_time(now), call.callid, leg.offer.campaign, leg.offer.agent, ring_ms
                )
            )
        retry = 0 if leg.cancelled == "logoff" or campaign is None else campaign.retry
        offer_failed(self.queues, self.agents, leg.offer, now, retry, outcome=_ring_outcome(leg, cause))
        if call.offer is leg:
            call.offer = None
        self.dispatch()

    async def on_agent_answered(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        """StasisStart of an agent leg: the agent picked up (``args`` is ``[callid]``)."""
        leg_id = str(channel["id"])
        call = self.legs.get(leg_id)
        if call is None or not args or args[0] != call.callid:
            log.warning("agent leg %s answered for a call that is over (%s); hanging it up", leg_id, args)
            await self._hangup_channel(leg_id)
            return
        async with call.lock:
            leg = call.offer
            if leg is None or leg.leg_id != leg_id or leg.ended or call.phase is not Phase.WAITING:
                log.info("agent leg %s answered after call %s moved on; hanging it up", leg_id, call.callid)
                await self._hangup_channel(leg_id)
                return
            try:
                await self._connect(call, leg, channel)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "connecting the agent")
            except Exception as exc:
                await self._fail(call, f"connecting the agent failed: {exc!r}")

    async def _connect(self, call: InboundCall, leg: AgentLeg, channel: dict[str, Any]) -> None:
        now = self.clock()
        campaign = call.campaign
        assert campaign is not None
        leg.answered = True
        leg.channel_name = str(channel.get("name", leg.channel_name))
        call.offer = None
        call.connected = leg
        call.connected_at = now
        call.phase = Phase.CONNECTED
        self.queues.leave(call.callid)
        self.agents.connect(leg.offer.agent, call.callid)
        call.facts.answered = now
        call.facts.agent = leg.offer.agent
        call.facts.dstchannel = leg.channel_name
        self._log_row(
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
        self._emit(
            messages.call_connected(
                call.callid,
                campaign.name,
                call.caller_number,
                leg.offer.agent,
                caller_name=call.caller_name,
                connected_at=now,
            )
        )
        self._publish_agent_changes()
        await self._request("stopMoh", channelId=call.callid)
        bridge_id = f"oc-bridge-{call.callid}"
        await self.connection.rest.bridges.createWithId(
            bridgeId=bridge_id, type="mixing", name=f"call-{call.callid}"
        )
        call.bridge_id = bridge_id
        await self.connection.rest.bridges.addChannel(
            bridgeId=bridge_id, channel=f"{call.callid},{leg.leg_id}"
        )
        if self.on_bridged is not None:
            self.on_bridged(call)

    async def _on_dial(self, event: dict[str, Any], _conn: AriConnection) -> None:
        peer = event.get("peer") or {}
        call = self.legs.get(str(peer.get("id")))
        if call is not None and call.offer is not None and call.offer.leg_id == peer.get("id"):
            call.offer.dial_status = str(event.get("dialstatus", ""))
            call.offer.channel_name = str(peer.get("name", call.offer.channel_name))

    # Hang-ups -------------------------------------------------------------------------------------

    async def _on_stasis_end(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        await self._channel_gone(channel_id, cause=0)

    async def _on_channel_destroyed(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        cause = event.get("cause")
        await self._channel_gone(channel_id, cause=cause if isinstance(cause, int) else 0)

    async def _channel_gone(self, channel_id: str, cause: int) -> None:
        """A caller or agent leg left Stasis or was destroyed (each is acted on once)."""
        owner = self.calls.get(channel_id) or self.legs.get(channel_id)
        if owner is not None and channel_id in owner.handed_over:
            return
        call = self.calls.get(channel_id)
        if call is not None:
            async with call.lock:
                await self._caller_gone(call)
            return
        call = self.legs.get(channel_id)
        if call is None:
            return
        async with call.lock:
            if call.connected is not None and call.connected.leg_id == channel_id:
                if call.phase is Phase.CONNECTED:
                    await self._complete(call, by_caller=False)
                return
            leg = call.offer
            if leg is not None and leg.leg_id == channel_id:
                # The offer ended before answer: timeout (19), busy, unreachable, or our own cancel.
                self._release_offer(call, leg, record=True, cause=cause)
            else:
                self.legs.pop(channel_id, None)

    async def _caller_gone(self, call: InboundCall) -> None:
        if call.phase is Phase.ENDED:
            return
        now = self.clock()
        campaign = call.campaign
        if call.phase is Phase.WAITING and campaign is not None:
            left = self.queues.leave(call.callid)
            position = left[1] if left else 0
            leg = call.offer
            if leg is not None and not leg.ended:
                leg.cancelled = "caller"
                self._log_row(
                    records.ring_canceled(
                        local_time(now),
                        call.callid,
                        campaign.name,
                        leg.offer.agent,
                        int((now - leg.started) * 1000),
                    )
                )
                await self._hangup_channel(leg.leg_id)
            self._log_row(
                records.abandon(
                    local_time(now),
                    call.callid,
                    campaign.name,
                    position=position,
                    original_position=call.original_position,
                    waittime=now - call.entered_at,
                )
            )
            self._emit(
                messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=position)
            )
            self._end(call)
            return
        if call.phase is Phase.CONNECTED:
            await self._complete(call, by_caller=True)
            return
        self._end(call)

    async def _complete(self, call: InboundCall, *, by_caller: bool) -> None:
        leg = call.connected
        campaign = call.campaign
        assert leg is not None and campaign is not None
        now = self.clock()
        self._log_row(
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
        self.agents.end_call(leg.offer.agent, call.callid, now, campaign.wrapuptime, campaign.name)
        self._emit(
            messages.call_ended(
                call.callid,
                campaign.name,
                call.caller_number,
                leg.offer.agent,
                ended_by="caller" if by_caller else "agent",
            )
        )
        self._end(call)
        await self._hangup_channel(leg.leg_id if by_caller else call.callid)
        await self._destroy_bridge(call)
        self.dispatch()

    def end_handed_over(self, callid: str, row: QueueLogRow, *, ended_by: str) -> None:
        """An in-call feature owns the call's channels: log how the agent's part ended (``row``: a
        transfer or the completion), free the agent and write the CDR, touching no channel."""
        call = self.calls.get(callid)
        if call is None or call.phase is not Phase.CONNECTED or call.connected is None:
            return
        campaign = call.campaign
        agent = call.connected.offer.agent
        self._log_row(row)
        self.agents.end_call(agent, callid, self.clock(), campaign.wrapuptime if campaign else 0)
        self._emit(
            messages.call_ended(
                callid, campaign.name if campaign else "", call.caller_number, agent, ended_by=ended_by
            )
        )
        call.bridge_id = None
        self._end(call)
        self.dispatch()

    def _end(self, call: InboundCall) -> None:
        """The call is over for the flow: write its one CDR row and forget it."""
        call.phase = Phase.ENDED
        self.queues.leave(call.callid)
        if call.offer is not None and not call.offer.ended:
            # Its leg is being hung up; ChannelDestroyed of the leg frees the agent.
            pass
        if call.playback_id is not None:
            self.playbacks.pop(call.playback_id, None)
        self.calls.pop(call.callid, None)
        if call.connected is not None:
            self.legs.pop(call.connected.leg_id, None)
        if not call.recorded:
            call.recorded = True
            call.facts.ended = self.clock()
            try:
                self.records.cdr(**records.cdr_row(call.facts))
            except Exception:
                log.exception("call %s: the CDR row could not be queued", call.callid)
        self._publish_agent_changes()

    async def _fail(self, call: InboundCall, why: str) -> None:
        """Something unexpected: never leave the caller in silence or an agent ringing."""
        log.error("inbound call %s: %s; releasing the call", call.callid, why, exc_info=True)
        for leg in (call.offer, call.connected):
            if leg is not None:
                leg.cancelled = leg.cancelled or "hangup"
                if leg.answered:
                    self.agents.end_call(leg.offer.agent, call.callid, self.clock(), 0)
                await self._hangup_channel(leg.leg_id)
        await self._destroy_bridge(call)
        phase = call.phase
        call.facts.disposition = records.FAILED
        self._end(call)
        if phase is not Phase.ENDED:
            await self.application.send_back(call.callid, why)
        self.dispatch()

    async def _on_request_error(self, call: InboundCall, exc: AriRequestError, step: str) -> None:
        """A request about a channel that just hung up fails; its StasisEnd finishes the call."""
        if exc.status in GONE_STATUSES:
            log.info(
                "call %s: %s: a channel is gone (%s); the hang-up path finishes the call",
                call.callid,
                step,
                exc,
            )
            return
        await self._fail(call, f"{step}: {exc!r}")

    async def _hangup_channel(self, channel_id: str, reason: str = "normal") -> None:
        try:
            await self.connection.rest.channels.hangup(channelId=channel_id, reason=reason)
        except AriRequestError as exc:
            if exc.status != 404:
                log.warning("hanging up %s failed: %s", channel_id, exc)
        except AriError as exc:
            log.warning("hanging up %s failed: %s", channel_id, exc)

    async def _destroy_bridge(self, call: InboundCall) -> None:
        bridge_id, call.bridge_id = call.bridge_id, None
        if bridge_id is None:
            return
        try:
            await self.connection.rest.bridges.destroy(bridgeId=bridge_id)
        except AriError as exc:
            if not (isinstance(exc, AriRequestError) and exc.status == 404):
                log.warning("destroying bridge %s failed: %s", bridge_id, exc)

    async def _request(self, nickname: str, **params: object) -> None:
        """A channel request whose failure does not change the call (progress, stopMoh...)."""
        try:
            await self.connection.rest.call("channels", nickname, **params)
        except AriError as exc:
            if _gone(exc):
                raise
            log.info("channels.%s %s failed: %s", nickname, params, exc)

    async def _on_resync(self, report: ResyncReport, _conn: AriConnection) -> None:
        """Channels that vanished while the link was down: their calls are over; record them."""
        for snapshot in [*report.channels_gone, *report.channels_left]:
            channel_id = str(snapshot.get("id"))
            if channel_id in self.calls or channel_id in self.legs:
                log.warning("channel %s vanished while ARI was unreachable; finishing its call", channel_id)
                await self._channel_gone(channel_id, cause=0)
        for snapshot in report.channels_new:
            channel_id = str(snapshot.get("id"))
            if channel_id not in self.calls and channel_id not in self.legs:
                # A call this process does not know (it restarted): it cannot be resumed, so it is
                # handed back to the dialplan rather than left in silence.
                await self.application.send_back(channel_id, "unknown call found after reconnecting")

    # Agent commands from the bus ------------------------------------------------------------------

    async def on_command(self, message: messages.Message) -> None:
        kind = message.get("type")
        if kind in self.delegated_commands:
            return
        try:
            payload = await self._command(message)
        except AgentError as exc:
            payload = {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("command %s failed", kind)
            payload = {"ok": False, "error": repr(exc)}
        if self.bus is not None and message.get("request_id"):
            # A requester always gets an answer, so it never waits out its timeout for nothing.
            await self.bus.reply(message, payload or {"ok": False, "error": f"unknown command {kind!r}"})

    async def _command(self, message: messages.Message) -> dict[str, Any] | None:
        kind = message.get("type")
        now = self.clock()
        if kind == messages.AGENT_LOGIN:
            agent = self.agents.login(
                message["agent"], message.get("interface", ""), message.get("campaigns"), now
            )
            self._log_row(records.agent_login(local_time(now), agent.name, agent.interface))
            self.dispatch()
            return {
                "ok": True,
                "agent": agent.name,
                "state": agent.state(now).value,
                "campaigns": sorted(agent.campaigns),
            }
        if kind == messages.AGENT_LOGOFF:
            return await self._logoff(message["agent"])
        if kind == messages.AGENT_PAUSE:
            agent = self.agents.pause(
                message["agent"], bool(message["paused"]), str(message.get("reason", ""))
            )
            at = local_time(now)
            self._log_row(records.pause_all(at, agent.name, agent.paused, str(message.get("reason", ""))))
            for campaign in sorted(agent.campaigns):
                self._log_row(
                    records.pause(at, campaign, agent.name, agent.paused, str(message.get("reason", "")))
                )
            self.dispatch()
            return {"ok": True, "agent": agent.name, "state": agent.state(now).value}
        if kind == messages.PHONE_HANGUP:
            done = await self._hangup_phone(str(message["phone"]))
            # "result" is the seed's HangupPhone body (1/0); "ok" is what every reply carries.
            return {"ok": done, "result": 1 if done else 0}
        if kind == messages.CAMPAIGNS_RELOAD:
            return {"ok": True, **await self.reload(message.get("names"))}
        if kind == messages.STATUS_SNAPSHOT:
            return {"ok": True, **self.snapshot()}
        return None

    async def _logoff(self, name: str) -> dict[str, Any]:
        agent = self.agents.get(name)
        ringing_call = self.calls.get(agent.call) if agent.call else None
        interface = agent.interface
        _, seconds = self.agents.logoff(name, self.clock())
        self._log_row(records.agent_logoff(local_time(self.clock()), name, interface, seconds))
        if ringing_call is not None:
            async with ringing_call.lock:
                leg = ringing_call.offer
                if leg is not None and leg.offer.agent == name and not leg.ended:
                    leg.cancelled = "logoff"
                    await self._hangup_channel(leg.leg_id)
        self._publish_agent_changes()
        return {"ok": True, "agent": name, "logged_in_seconds": int(seconds)}

    async def _hangup_phone(self, phone: str) -> bool:
        agent = self.agents.by_phone(phone)
        if agent is None or agent.call is None:
            return False
        call = self.calls.get(agent.call)
        if call is None:
            return False
        leg = call.connected if call.phase is Phase.CONNECTED else call.offer
        if leg is None or leg.offer.agent != agent.name:
            return False
        if not leg.answered:
            leg.cancelled = "hangup"
        await self._hangup_channel(leg.leg_id)
        return True

    # Live status ------------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "agents": [
                {
                    "agent": a.name,
                    "state": a.state(now).value,
                    "interface": a.interface,
                    "campaigns": sorted(a.campaigns),
                    "call": a.call,
                }
                for a in sorted(self.agents.agents.values(), key=lambda a: a.name)
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
                for c in self.calls.values()
            ],
        }

    def _publish_agent_changes(self) -> None:
        now = self.clock()
        for agent in self.agents.agents.values():
            state = agent.state(now).value
            if self._published_states.get(agent.name) != state:
                self._published_states[agent.name] = state
                event = messages.agent_state(agent.name, state, sorted(agent.campaigns), now)
                event["wrapup_until"] = agent.wrapup_until
                event["pause_reason"] = agent.pause_reason if agent.paused else ""
                self._emit(event)

    def _emit(self, message: messages.Message) -> None:
        if self.bus is None or self._outbox is None:
            return
        self._outbox.put_nowait(message)

    async def _publish_loop(self) -> None:
        assert self._outbox is not None
        while True:
            message = await self._outbox.get()
            try:
                if self.bus is not None:
                    await self.bus.publish(messages.EVENTS, message)
            except Exception:
                log.exception("publishing %s failed", message.get("type"))
            finally:
                self._outbox.task_done()

    def _log_row(self, row: QueueLogRow) -> None:
        try:
            self.records.queue_log(**row.as_kwargs())
        except Exception:
            log.exception("queue_log %s for %s could not be queued", row.event, row.callid)


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


def _gone(exc: AriError) -> bool:
    """The channel no longer exists or left Stasis: the hang-up path takes over."""
    return isinstance(exc, AriRequestError) and exc.status in GONE_STATUSES


def _member_text(member: MemberConfig) -> str:
    return f"{member.campaign}/{member.agent}"

"""The inbound call flow: a customer dials a campaign's number and is put through to a free agent.

One :class:`InboundFlow` serves every inbound call of the process. The domain core
(``stasis_app.acd``) decides; this module turns ARI events into domain inputs and decisions into ARI
requests, queue_log/CDR rows and bus events.

A call's phases::

    ROUTING --unknown DID--> NOTICE (number-not-in-service audio) --> hang up (unallocated)
            --closed------> OUT_OF_HOURS (audio) --> VOICEMAIL (the campaign's mailbox) | hang up
            --open--------> WELCOME (answered, audio) --> join: ``joinempty`` / ``maxlen`` refuse
                            (no row, the fall-through: mailbox or hang-up) or WAITING (music on
                            hold, ENTERQUEUE; Stasis argument 2 is the caller's priority)
    WAITING: offer to free agents = originate to each agent's interface with the ring timeout
             (appArgs "agent,<callid>"; every member of the tier at once with ``ringall``, the
             first to answer wins and the others are hung up without a row); unanswered ->
             RINGNOANSWER (and PAUSE with ``autopause``), next offer after ``retry``; answered ->
             ``memberdelay`` of silence for the agent, then the campaign's ``announce`` played to
             the agent (the caller keeps the music), then CONNECTED (bridge, CONNECT, recording
             with ``record``); the agent hanging up before that -> AGENTDUMP and the caller waits
             for the next offer after ``retry``; caller hangs up -> RINGCANCELED + ABANDON (or
             VIRTUAL_HOLD).
             Announcements (position, hold time, periodic) pause the music; ``queue_timeout`` ->
             EXITWITHTIMEOUT, ``leavewhenempty`` -> EXITEMPTY (both then the fall-through), a key
             of the exit ``context`` -> EXITWITHKEY; the virtual hold key -> VIRTUAL_HOLD.
    VIRTUAL_HOLD: no channel; at the caller's turn a callback (stasis_app.inbound.virtual_hold).
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
from typing import TYPE_CHECKING, Any

from bus import messages
from bus.base import Bus
from stasis_app.acd import records
from stasis_app.acd.agents import AgentError, AgentRegistry
from stasis_app.acd.announcements import (
    AnnouncementState,
    HoldtimeAverage,
    next_check,
    periodic_finished,
    position_change_check,
)
from stasis_app.acd.announcements import plan as plan_announcement
from stasis_app.acd.campaigns import CampaignConfig, DidDirectory, MemberConfig
from stasis_app.acd.parameters import JoinResult, PauseScope, RingOutcome, decide_join
from stasis_app.acd.queueing import (
    AUTO_PAUSE_REASON,
    CampaignQueues,
    Offer,
    StrategyMemory,
    autopause_member,
    offer_failed,
    plan_offers,
)
from stasis_app.acd.records import CallFacts, QueueLogRow, local_time
from stasis_app.acd.schedule import AnyHolidays, HolidayCalendar
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError, AriUnavailable, ResyncReport
from stasis_app.inbound.ports import CampaignLoader, RecordSink
from stasis_app.phones.services import CallerInfo

if TYPE_CHECKING:
    from stasis_app.inbound.virtual_hold import VirtualHold
    from stasis_app.phones.voicemail import Voicemail

log = logging.getLogger(__name__)

#: Played to a caller whose number no campaign owns (Asterisk core sound).
NOT_IN_SERVICE_MEDIA = "sound:ss-noservice"
RETURN_CONTEXT = "stasis-return"
#: Q.850 cause 19: the originate ``timeout`` expired (Asterisk reports it only in ChannelDestroyed).
CAUSE_NO_ANSWER = 19
#: Q.850 causes of a busy phone (17) and of congestion (34 no circuit, 38 network out of order).
CAUSE_BUSY = 17
CAUSES_CONGESTION = frozenset({34, 38})
#: Bus command ending an agent's wrap-up early (queue_log FINISHWRAPUP).
FINISH_WRAPUP = "agent.finish_wrapup"
#: Stasis argument of the agent legs this flow originates.
AGENT_KIND = "agent"
INBOUND_KIND = "inbound"
#: Answers meaning "that channel is gone or left Stasis" (bridge adds answer 400/422 for those).
GONE_STATUSES = frozenset({400, 404, 409, 422})
#: Channel variables asking an agent's phone to pick up by itself (campaign ``auto_answer``).
AUTO_ANSWER_VARIABLES = {
    "PJSIP_HEADER(add,Call-Info)": ";answer-after=0",
    "PJSIP_HEADER(add,Alert-Info)": "auto-answer",
}
#: Why a ringing leg was hung up by the flow when another agent took the call (``ringall``).
ANSWERED_ELSEWHERE = "answered-elsewhere"


class Phase(enum.Enum):
    ROUTING = "routing"
    NOTICE = "notice"
    OUT_OF_HOURS = "out-of-hours"
    VOICEMAIL = "voicemail"
    WELCOME = "welcome"
    WAITING = "waiting"
    #: Taken out of the queue (EXITEMPTY, EXITWITHTIMEOUT, EXITWITHKEY): on the way out.
    LEFT = "left"
    #: Left the line on virtual hold: no channel; called back at their turn.
    VIRTUAL_HOLD = "virtual-hold"
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
    #: Asterisk answered the originate: the leg exists until an event (or a resync) says it ended.
    originated: bool = False


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
    #: Every leg ringing for this call (several at once with ``ringall``).
    offers: list[AgentLeg] = field(default_factory=list)
    connected: AgentLeg | None = None
    connected_at: float = 0.0
    bridge_id: str | None = None
    recorded: bool = False
    #: Channels an in-call feature (transfer, park, conference) owns now: their hang-ups are its.
    handed_over: set[str] = field(default_factory=set)
    #: Caller priority (``QUEUE_PRIO``; a higher one is served first).
    priority: int = 0
    announcements: AnnouncementState | None = None
    announce_timer: asyncio.TimerHandle | None = None
    #: The playback in progress is an announcement (the music resumes after it).
    announcing: bool = False
    #: An agent answered and waits ``memberdelay`` before being bridged.
    delayed: AgentLeg | None = None

    @property
    def offer(self) -> AgentLeg | None:
        """The first leg still ringing (the only one except with ``ringall``)."""
        return next((leg for leg in self.offers if not leg.ended), None)

    @offer.setter
    def offer(self, leg: AgentLeg | None) -> None:
        self.offers = [] if leg is None else [leg]

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
        #: Asked (agent, callid) by ``phone.hangup`` for an agent's call another module owns; the
        #: flow still answers the request, so it gets exactly one reply.
        self.phone_hangups: list[Callable[[str, str], Coroutine[Any, Any, bool]]] = []
        #: Told about each call once its agent is bridged (the in-call features attach there).
        self.on_bridged: Callable[[InboundCall], None] | None = None
        #: Out-of-hours and not-available callers of campaigns with a mailbox go there.
        self.voicemail: Voicemail | None = None
        self.virtual_hold: VirtualHold | None = None
        #: Each campaign's estimated hold time (``recalc_holdtime``).
        self.holdtimes: dict[str, HoldtimeAverage] = {}
        #: Breaks in progress: agent -> (campaign or NONE, motive, comment, started).
        self.breaks: dict[str, tuple[str, str, str, float]] = {}
        #: Callers whose queue timeout passed while an agent rang for them.
        self._expired_ringing: set[str] = set()
        #: Channels the flow let go of while ARI could not be reached (a hang-up or a send-back that
        #: failed, an originate whose answer never came), by id -> "hangup" or "send_back", and
        #: bridges it could not destroy: finished after the reconnect (see ``_tie_loose_ends``).
        self._strays: dict[str, str] = {}
        self._stray_bridges: set[str] = set()
        #: Agents on pause (REALPAUSE written) -> when the pause began, for REALUNPAUSE's pausetime.
        self.real_pauses: dict[str, float] = {}
        #: ``announce`` playbacks to answered agents: playback id -> (call, leg, agent channel).
        self.agent_announcements: dict[str, tuple[InboundCall, AgentLeg, dict[str, Any]]] = {}

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
            conn.on("ChannelDtmfReceived", self._on_dtmf),
            conn.on_resync(self._on_resync),
        ]
        if self.bus is not None:
            self._subscription = self.bus.subscribe(messages.COMMANDS, self.on_command)
        from stasis_app.inbound.virtual_hold import VirtualHold  # noqa: PLC0415 - it imports this module

        VirtualHold(self).install()

    async def start(self) -> None:
        """Load campaigns (retrying in the background while the database is away)."""
        self._outbox = asyncio.Queue()
        self._publisher = asyncio.create_task(self._publish_loop(), name="inbound-events")
        # Asterisk's logger writes QUEUESTART once when queueing starts; this process is that start.
        self._log_row(records.queue_start(local_time(self.clock())))
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
        """Read campaigns and members again; campaigns new since the first load get CREATEDQUEUE, new
        members ADDMEMBER (at the first load too, as app_queue logs its realtime members when it
        first reads them), removed ones REMOVEMEMBER."""
        campaigns, members = await self.load_campaigns(names)
        now = self.clock()
        created = [c.name for c in campaigns if c.name not in self.campaigns] if self.loaded else []
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
        for name in sorted(created):
            self._log_row(records.created_queue(local_time(now), name))
        for member in changes.added:
            self._log_row(records.add_member(local_time(now), member.campaign, member.agent, member.paused))
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
        priority = _priority(args[1] if len(args) > 1 else "")
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
            priority=priority,
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
        if not campaign.schedule.is_open(local_time(now), self._holidays_of(campaign)):
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

    def _holidays_of(self, campaign: CampaignConfig) -> HolidayCalendar:
        """The campaign's holidays from the database, plus the calendar the process was given."""
        if self.holidays is None:
            return campaign.holidays
        return AnyHolidays((campaign.holidays, self.holidays))

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
        if str(playback.get("id")) in self.agent_announcements:
            await self._after_agent_announcement(str(playback.get("id")))
            return
        call = self.playbacks.pop(str(playback.get("id")), None)
        if call is None:
            return
        async with call.lock:
            if call.playback_id != playback.get("id") or call.phase is Phase.ENDED:
                return
            call.playback_id = None
            try:
                if call.announcing:
                    await self._after_announcement(call)
                elif call.phase is Phase.NOTICE:
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
        """The campaign's fall-through (out of hours, full, empty, queue timeout): its mailbox if
        it has one, else hang up."""
        campaign = call.campaign
        if campaign is not None and campaign.voicemail:
            call.phase = Phase.VOICEMAIL
            call.facts.lastapp = "VoiceMail"
            call.facts.lastdata = campaign.voicemail
            if self.voicemail is not None:
                # The voicemail owns the channel from now on and hangs it up; the call is over here.
                call.handed_over.add(call.callid)
                voicemail, box = self.voicemail, campaign.voicemail
                caller = CallerInfo(call.caller_number, call.caller_name)
                self._end(call)
                self._spawn(voicemail.leave_message(call.callid, box, caller), f"voicemail of {call.callid}")
                return
            await self.connection.rest.channels.continueInDialplan(
                channelId=call.callid, context=RETURN_CONTEXT, extension=f"vm{campaign.voicemail}", priority=1
            )
            return
        await self._hangup_channel(call.callid, reason="normal")

    async def _enter_queue(self, call: InboundCall) -> None:
        campaign = call.campaign
        assert campaign is not None
        now = self.clock()
        joined = decide_join(
            waiting=self.queues.count(campaign.name),
            maxlen=campaign.maxlen,
            joinempty=campaign.joinempty,
            empty=self.agents.campaign_empty(campaign.name, campaign.joinempty, now),
        )
        if joined is not JoinResult.JOINED:
            # Asterisk writes no queue_log row for a refused join (QUEUESTATUS FULL / JOINEMPTY).
            log.info("call %s not queued in %s: %s", call.callid, campaign.name, joined.value)
            call.facts.lastapp = "Queue"
            call.facts.lastdata = campaign.name
            call.facts.userfield = joined.value
            await self._after_out_of_hours(call)
            return
        await self.connection.rest.channels.startMoh(channelId=call.callid, mohClass=campaign.musiconhold)
        waiting = self.queues.enter(
            call.callid,
            campaign.name,
            call.caller_number,
            now,
            priority=call.priority,
            queue_timeout=campaign.queue_timeout,
        )
        call.phase = Phase.WAITING
        call.entered_at = now
        call.original_position = waiting.original_position
        if campaign.announcements.enabled:
            call.announcements = AnnouncementState(entered_at=now)
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
        self._schedule_announcement(call, now)

    # Offering calls to agents ---------------------------------------------------------------------

    def dispatch(self) -> None:
        """Offer waiting callers to free agents now; plan the next wake-up for retries and wrap-ups."""
        now = self.clock()
        self._expire_and_empty(now)
        offers = plan_offers(
            self.queues, self.agents, self.campaigns, self.memory, now=now, parallel_ringall=True
        )
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
            call.offers = [*(other for other in call.offers if not other.ended), leg]
            self.legs[leg.leg_id] = call
            if call.phase is Phase.VIRTUAL_HOLD and self.virtual_hold is not None:
                # The caller left the line: their turn came, so they are called back first.
                self.virtual_hold.turn_came(call, leg)
                continue
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

    def _expire_and_empty(self, now: float) -> None:
        """Callers whose ``queue_timeout`` passed leave (EXITWITHTIMEOUT); callers of campaigns that
        became empty under ``leavewhenempty`` leave (EXITEMPTY). Both then get the fall-through.

        As in ``app_queue``, both are checked between ring attempts: a caller whose agent rings now
        leaves when that ring ends unanswered.
        """
        for expired in self.queues.take_expired(now):
            self._expired_ringing.add(expired.callid)
        for callid in list(self._expired_ringing):
            waiting = self.queues.get(callid)
            call = self.calls.get(callid)
            if waiting is None or call is None:
                self._expired_ringing.discard(callid)
            elif not waiting.pending and call.delayed is None:
                self._expired_ringing.discard(callid)
                self._take_out(call, "timeout")
        if not self._leaving_empty():
            return
        for campaign_name in {w.campaign for w in self.queues.all_waiting()}:
            campaign = self.campaigns.get(campaign_name)
            if campaign is None or not campaign.leavewhenempty:
                continue
            if not self.agents.campaign_empty(campaign_name, campaign.leavewhenempty, now):
                continue
            for queued in self.queues.waiting(campaign_name):
                call = self.calls.get(queued.callid)
                if call is not None and call.phase is Phase.WAITING and not queued.pending:
                    self._take_out(call, "empty")

    def _leaving_empty(self) -> bool:
        return len(self.queues) > 0 and any(c.leavewhenempty for c in self.campaigns.values())

    def _take_out(self, call: InboundCall, why: str, key: str = "") -> bool:
        """Take a waiting caller out of the queue with EXITWITHTIMEOUT / EXITEMPTY / EXITWITHKEY
        (at once, so no agent is offered the call meanwhile); the caller is then played out."""
        campaign = call.campaign
        if call.phase not in (Phase.WAITING, Phase.VIRTUAL_HOLD) or campaign is None:
            return False
        if call.offer is not None or call.delayed is not None:
            return False
        left = self.queues.leave(call.callid)
        if left is None:
            return False
        now = self.clock()
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
        self._log_row(row)
        self._positions_changed(campaign.name)
        self._holdtime(campaign.name).call_finished()
        self._cancel_announcements(call)
        self._emit(messages.call_abandoned(call.callid, campaign.name, call.caller_number, position=position))
        if call.phase is Phase.VIRTUAL_HOLD:
            self._end(call)
            return True
        call.phase = Phase.LEFT
        call.facts.userfield = why.upper()
        self._spawn(self._play_out(call, why, key), f"{why} exit of {call.callid}")
        return True

    async def _play_out(self, call: InboundCall, why: str, key: str) -> None:
        """After leaving the queue: the exit key's context, or the campaign's fall-through."""
        async with call.lock:
            campaign = call.campaign
            if call.phase is not Phase.LEFT or campaign is None:
                return
            try:
                await self._request("stopMoh", channelId=call.callid)
                if call.playback_id is not None:
                    await self._stop_playback(call)
                if why == "key":
                    call.handed_over.add(call.callid)
                    await self.connection.rest.channels.continueInDialplan(
                        channelId=call.callid, context=campaign.exit_context, extension=key, priority=1
                    )
                    self._end(call)
                else:
                    await self._after_out_of_hours(call)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, f"leaving the queue ({why})")
        self.dispatch()

    async def _stop_playback(self, call: InboundCall) -> None:
        playback_id, call.playback_id = call.playback_id, None
        call.announcing = False
        if playback_id is None:
            return
        self.playbacks.pop(playback_id, None)
        try:
            await self.connection.rest.playbacks.stop(playbackId=playback_id)
        except AriError as exc:
            log.info("stopping playback %s: %s", playback_id, exc)

    def _holdtime(self, campaign: str) -> HoldtimeAverage:
        return self.holdtimes.setdefault(campaign, HoldtimeAverage())

    # Announcements ----------------------------------------------------------------------------------

    def _schedule_announcement(self, call: InboundCall, at: float | None) -> None:
        """Look at the caller's announcements at ``at`` (None: only when the position changes)."""
        if call.announce_timer is not None:
            call.announce_timer.cancel()
            call.announce_timer = None
        if at is None or call.announcements is None:
            return
        delay = max(0.0, at - self.clock())
        call.announce_timer = asyncio.get_running_loop().call_later(
            delay, lambda: self._spawn(self._announce(call), f"announcement to {call.callid}")
        )

    def _cancel_announcements(self, call: InboundCall) -> None:
        if call.announce_timer is not None:
            call.announce_timer.cancel()
            call.announce_timer = None
        call.announcements = None

    async def _announce(self, call: InboundCall) -> None:
        """``wait_our_turn``'s announcements: stop the music, play, and the music resumes after."""
        async with call.lock:
            call.announce_timer = None
            state, campaign = call.announcements, call.campaign
            if state is None or campaign is None or call.phase is not Phase.WAITING:
                return
            waiting = self.queues.get(call.callid)
            if waiting is None:
                return
            now = self.clock()
            settings = campaign.announcements
            position = self.queues.position(call.callid)
            if waiting.pending or call.playback_id is not None or call.delayed is not None:
                # Ringing an agent (or speaking already): announcements wait for the next turn.
                self._schedule_announcement(call, now + 1.0)
                return
            if position == 1 and not settings.to_first_user and self.agents.index(campaign.name).free_count:
                # The head caller whose turn it is hears announcements only with announce-to-first-user.
                self._schedule_announcement(call, now + 1.0)
                return
            planned = plan_announcement(
                settings, state, now=now, position=position, holdtime=self._holdtime(campaign.name).holdtime
            )
            if planned.media:
                try:
                    await self._request("stopMoh", channelId=call.callid)
                    call.announcing = True
                    if not await self._play(call, planned.media):
                        call.announcing = False
                        await self._request("startMoh", channelId=call.callid, mohClass=campaign.musiconhold)
                except AriRequestError as exc:
                    await self._on_request_error(call, exc, "announcing")
                    return
            if not call.announcing:
                self._schedule_announcement(call, planned.next_check)

    async def _after_announcement(self, call: InboundCall) -> None:
        call.announcing = False
        campaign, state = call.campaign, call.announcements
        if call.phase is not Phase.WAITING or campaign is None:
            return
        await self._request("startMoh", channelId=call.callid, mohClass=campaign.musiconhold)
        if state is None:
            return
        now = self.clock()
        periodic_finished(campaign.announcements, state, now)
        planned_next = next_check(campaign.announcements, state)
        self._schedule_announcement(call, planned_next)

    def _positions_changed(self, campaign: str) -> None:
        """Callers behind a leaver moved up: a changed position may be told sooner."""
        config = self.campaigns.get(campaign)
        if config is None or not config.announcements.frequency:
            return
        for waiting in self.queues.waiting(campaign):
            call = self.calls.get(waiting.callid)
            state = call.announcements if call is not None else None
            if call is None or state is None or call.announcing:
                continue
            at = position_change_check(config.announcements, state)
            if at is not None and call.announce_timer is not None:
                when = call.announce_timer.when() - asyncio.get_running_loop().time() + self.clock()
                if at < when:
                    self._schedule_announcement(call, at)

    def _plan_wakeup(self) -> None:
        now = self.clock()
        times = [
            t
            for t in (
                self.queues.next_ready_at(now),
                self.agents.next_wrapup_end(now),
                self.queues.next_expiry(),
            )
            if t is not None
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
            if leg not in call.offers or leg.ended or call.phase is not Phase.WAITING:
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
            if call.campaign is not None and call.campaign.auto_answer:
                params["variables"] = dict(AUTO_ANSWER_VARIABLES)
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
                if isinstance(exc, AriUnavailable):
                    # The originate may have reached Asterisk all the same: a phone would ring for a
                    # leg the flow forgot. It has the id chosen here, so it is hung up by that id (now,
                    # or after the reconnect when ARI does not answer now either).
                    await self._hangup_channel(leg.leg_id)
                return
            leg.originated = True
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
        outcome = _ring_outcome(leg, cause)
        offer_failed(self.queues, self.agents, leg.offer, now, retry, outcome=outcome)
        if record and first_time and outcome is not None and campaign is not None:
            self._autopause(campaign, leg.offer.agent, outcome, now)
        call.offers = [other for other in call.offers if other is not leg]
        self.dispatch()

    def _autopause(self, campaign: CampaignConfig, agent: str, outcome: RingOutcome, now: float) -> None:
        """``autopause``: a member who let the call ring out is paused (PAUSE / PAUSEALL rows)."""
        scope = autopause_member(self.agents, campaign, agent, outcome, now)
        if scope is PauseScope.NONE:
            return
        at = local_time(now)
        holder = self.agents.agents[agent]
        if scope is PauseScope.ALL_CAMPAIGNS:
            self._log_row(records.pause_all(at, agent, True, AUTO_PAUSE_REASON))
            for name in sorted(holder.campaigns):
                self._log_row(records.pause(at, name, agent, True, AUTO_PAUSE_REASON))
        else:
            self._log_row(records.pause(at, campaign.name, agent, True, AUTO_PAUSE_REASON))
        self._publish_agent_changes()

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
            leg = next((o for o in call.offers if o.leg_id == leg_id), None)
            if leg is None or leg.ended or call.phase is not Phase.WAITING or call.delayed is not None:
                log.info("agent leg %s answered after call %s moved on; hanging it up", leg_id, call.callid)
                if leg is not None:
                    leg.cancelled = leg.cancelled or ANSWERED_ELSEWHERE
                await self._hangup_channel(leg_id)
                return
            campaign = call.campaign
            try:
                await self._cancel_other_legs(call, leg)
                if campaign is not None and (campaign.memberdelay > 0 or campaign.announce):
                    # Until put through, the answered agent is ``delayed``: the caller keeps the music
                    # and the agent hanging up is an AGENTDUMP (app_queue's try_calling).
                    leg.answered = True
                    call.delayed = leg
                if campaign is not None and campaign.memberdelay > 0:
                    # ``memberdelay``: the agent hears silence before being put through (CONNECT after).
                    await self._request("startSilence", channelId=leg_id)
                    self._spawn(
                        self._connect_after_delay(call, leg, channel, campaign.memberdelay),
                        f"memberdelay of {call.callid}",
                    )
                    return
                await self._announce_or_connect(call, leg, channel)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "connecting the agent")
            except Exception as exc:
                await self._fail(call, f"connecting the agent failed: {exc!r}")

    async def _cancel_other_legs(self, call: InboundCall, winner: AgentLeg) -> None:
        """``ringall``: the first agent to answer takes the call; the other phones stop ringing
        (app_queue logs nothing for them)."""
        for other in list(call.offers):
            if other is not winner and not other.ended:
                other.cancelled = ANSWERED_ELSEWHERE
                await self._hangup_channel(other.leg_id, reason="answered_elsewhere")

    async def _connect_after_delay(
        self, call: InboundCall, leg: AgentLeg, channel: dict[str, Any], delay: int
    ) -> None:
        await asyncio.sleep(delay)
        async with call.lock:
            if call.delayed is not leg or call.phase is not Phase.WAITING or leg.ended:
                return
            try:
                if call.campaign is not None and call.campaign.announce:
                    await self._request("stopSilence", channelId=leg.leg_id)
                await self._announce_or_connect(call, leg, channel)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "connecting the agent")
            except Exception as exc:
                await self._fail(call, f"connecting the agent failed: {exc!r}")

    async def _announce_or_connect(self, call: InboundCall, leg: AgentLeg, channel: dict[str, Any]) -> None:
        """The campaign's ``announce`` to the agent who answered, then the bridge; without one (or
        when it cannot be played: app_queue goes on too), the bridge at once."""
        campaign = call.campaign
        media = campaign.announce if campaign is not None else ()
        if media:
            playback_id = f"oc-pb-{uuid.uuid4().hex}"
            self.agent_announcements[playback_id] = (call, leg, channel)
            try:
                await self.connection.rest.channels.playWithId(
                    channelId=leg.leg_id, playbackId=playback_id, media=",".join(media)
                )
                return
            except AriError as exc:
                self.agent_announcements.pop(playback_id, None)
                if _gone(exc):
                    raise
                log.warning(
                    "call %s: cannot play %s to agent %s (%s); putting it through without it",
                    call.callid,
                    media,
                    leg.offer.agent,
                    exc,
                )
        call.delayed = None
        await self._connect(call, leg, channel)

    async def _after_agent_announcement(self, playback_id: str) -> None:
        """The agent heard the whole ``announce``: now the caller is put through."""
        call, leg, channel = self.agent_announcements.pop(playback_id)
        async with call.lock:
            if call.delayed is not leg or call.phase is not Phase.WAITING or leg.ended:
                return
            try:
                # A playback also finishes when its channel hangs up, and its PlaybackFinished comes
                # before the StasisEnd: an agent gone meanwhile is left to that StasisEnd (AGENTDUMP).
                await self.connection.rest.channels.get(channelId=leg.leg_id)
            except AriError as exc:
                if _gone(exc):
                    return
                log.info("call %s: agent leg %s could not be looked at: %s", call.callid, leg.leg_id, exc)
            call.delayed = None
            try:
                await self._connect(call, leg, channel)
            except AriRequestError as exc:
                await self._on_request_error(call, exc, "connecting the agent")
            except Exception as exc:
                await self._fail(call, f"connecting the agent failed: {exc!r}")

    def _agent_dumped(self, call: InboundCall, leg: AgentLeg) -> None:
        """The agent answered but hung up before being put through (``memberdelay`` or ``announce``):
        AGENTDUMP, the agent is free again (no wrap-up: there was no call), and the caller, who kept
        the music, waits ``retry`` before the next offer, as app_queue's try_calling returns to the
        queue loop (no RINGNOANSWER, no auto-pause: the phone was answered)."""
        call.delayed = None
        leg.answered = False
        leg.ended = True
        self.legs.pop(leg.leg_id, None)
        for playback_id, (_call, announced, _channel) in list(self.agent_announcements.items()):
            if announced is leg:
                del self.agent_announcements[playback_id]
        now = self.clock()
        campaign = self.campaigns.get(leg.offer.campaign) or call.campaign
        if call.phase is Phase.WAITING:
            self._log_row(
                records.agent_dump(local_time(now), call.callid, leg.offer.campaign, leg.offer.agent)
            )
        retry = 0 if leg.cancelled == "logoff" or campaign is None else campaign.retry
        # NOANSWER ends the attempt: the caller waits ``retry`` rather than ringing the next at once.
        offer_failed(self.queues, self.agents, leg.offer, now, retry, outcome=RingOutcome.NOANSWER)
        call.offers = [other for other in call.offers if other is not leg]
        self.dispatch()

    async def _connect(self, call: InboundCall, leg: AgentLeg, channel: dict[str, Any]) -> None:
        now = self.clock()
        campaign = call.campaign
        assert campaign is not None
        leg.answered = True
        self._cancel_announcements(call)
        if call.playback_id is not None:
            await self._stop_playback(call)
        holdtime = self._holdtime(campaign.name).connected(now - call.entered_at)
        log.debug("campaign %s: estimated hold time now %ds", campaign.name, holdtime)
        leg.channel_name = str(channel.get("name", leg.channel_name))
        call.offers = [o for o in call.offers if o is not leg]
        call.connected = leg
        call.connected_at = now
        call.phase = Phase.CONNECTED
        self.queues.leave(call.callid)
        self._positions_changed(campaign.name)
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
        # Known before the request: a create whose answer is lost may have made it all the same.
        call.bridge_id = bridge_id
        await self.connection.rest.bridges.createWithId(
            bridgeId=bridge_id, type="mixing", name=f"call-{call.callid}"
        )
        await self.connection.rest.bridges.addChannel(
            bridgeId=bridge_id, channel=f"{call.callid},{leg.leg_id}"
        )
        if campaign.record:
            await self._record(call, bridge_id)
        if self.on_bridged is not None:
            self.on_bridged(call)

    async def _record(self, call: InboundCall, bridge_id: str) -> None:
        """Campaign ``record``: record the conversation, named by the call's CDR guid."""
        try:
            await self.connection.rest.bridges.record(
                bridgeId=bridge_id, name=call.facts.guid, format="wav", ifExists="overwrite"
            )
            call.facts.userfield = f"recording:{call.facts.guid}"
        except AriError as exc:
            if _gone(exc):
                raise
            log.warning("call %s: recording could not start: %s", call.callid, exc)

    async def _on_dial(self, event: dict[str, Any], _conn: AriConnection) -> None:
        peer = event.get("peer") or {}
        peer_id = str(peer.get("id"))
        call = self.legs.get(peer_id)
        leg = next((o for o in call.offers if o.leg_id == peer_id), None) if call is not None else None
        if leg is not None:
            leg.dial_status = str(event.get("dialstatus", ""))
            leg.channel_name = str(peer.get("name", leg.channel_name))

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
        self._strays.pop(channel_id, None)
        owner = self.calls.get(channel_id) or self.legs.get(channel_id)
        if owner is not None and channel_id in owner.handed_over:
            return
        call = self.calls.get(channel_id)
        if call is not None:
            async with call.lock:
                await self._caller_gone(call, cause)
            return
        call = self.legs.get(channel_id)
        if call is None:
            return
        async with call.lock:
            if call.connected is not None and call.connected.leg_id == channel_id:
                if call.phase is Phase.CONNECTED:
                    await self._complete(call, by_caller=False)
                return
            if call.delayed is not None and call.delayed.leg_id == channel_id:
                # The agent hung up during ``memberdelay`` or the announcement: AGENTDUMP.
                self._agent_dumped(call, call.delayed)
                return
            ringing = next((o for o in call.offers if o.leg_id == channel_id), None)
            if ringing is not None:
                # The offer ended before answer: timeout (19), busy, unreachable, or our own cancel.
                self._release_offer(call, ringing, record=True, cause=cause)
            else:
                self.legs.pop(channel_id, None)

    async def _caller_gone(self, call: InboundCall, cause: int = 0) -> None:
        if call.phase is Phase.ENDED:
            return
        if call.phase is Phase.VIRTUAL_HOLD:
            # The line was left on purpose; a callback channel reuses the call's id.
            if self.virtual_hold is not None:
                await self.virtual_hold.callback_gone(call, cause)
            return
        now = self.clock()
        campaign = call.campaign
        if (
            call.phase is Phase.WAITING
            and campaign is not None
            and campaign.virtual_hold
            and campaign.virtual_hold_hangup
            and self.virtual_hold is not None
            and call.offer is None
            and call.delayed is None
            and self.virtual_hold.keep_place(call, how="hangup")
        ):
            # Hanging up kept the caller's place: they are called back at their turn.
            return
        if call.phase is Phase.WAITING and campaign is not None:
            left = self.queues.leave(call.callid)
            position = left[1] if left else 0
            self._positions_changed(campaign.name)
            self._cancel_announcements(call)
            self._holdtime(campaign.name).call_finished()
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
                    agent=about_to_talk,
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
        self._holdtime(campaign.name).call_finished()
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
        if self.queues.leave(call.callid) is not None and call.campaign is not None:
            self._positions_changed(call.campaign.name)
        self._cancel_announcements(call)
        # Legs still ringing are being hung up; ChannelDestroyed of each frees its agent.
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
        for leg in (*call.offers, call.delayed, call.connected):
            if leg is not None:
                leg.cancelled = leg.cancelled or "hangup"
                if leg.answered:
                    self.agents.end_call(leg.offer.agent, call.callid, self.clock(), 0)
                await self._hangup_channel(leg.leg_id)
        await self._destroy_bridge(call)
        phase = call.phase
        call.facts.disposition = records.FAILED
        self._close_queue_rows(call)
        self._end(call)
        if phase is not Phase.ENDED:
            # Until its StasisEnd says it left, the caller is sent back again after a reconnect:
            # this request fails too when ARI is what failed.
            self._strays[call.callid] = "send_back"
            await self.application.send_back(call.callid, why)
        self.dispatch()

    def _close_queue_rows(self, call: InboundCall) -> None:
        """A failed call's last queue_log row, so every ENTERQUEUE has its end in the reports: a
        waiting caller left unserved (ABANDON; the CDR's FAILED says why), a connected one ended on
        the agent's side (COMPLETEAGENT)."""
        campaign = call.campaign
        if campaign is None:
            return
        now = self.clock()
        if call.phase is Phase.WAITING:
            left = self.queues.leave(call.callid)
            position = left[1] if left else 0
            self._positions_changed(campaign.name)
            self._holdtime(campaign.name).call_finished()
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
        elif call.phase is Phase.CONNECTED and call.connected is not None:
            self._log_row(
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
            self._holdtime(campaign.name).call_finished()

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
        except AriUnavailable as exc:
            log.warning("hanging up %s failed: %s; trying again after the reconnect", channel_id, exc)
            self._strays[channel_id] = "hangup"
        except AriError as exc:
            log.warning("hanging up %s failed: %s", channel_id, exc)

    async def _destroy_bridge(self, call: InboundCall) -> None:
        bridge_id, call.bridge_id = call.bridge_id, None
        if bridge_id is not None:
            await self._destroy_bridge_id(bridge_id)

    async def _destroy_bridge_id(self, bridge_id: str) -> None:
        try:
            await self.connection.rest.bridges.destroy(bridgeId=bridge_id)
        except AriUnavailable as exc:
            log.warning("destroying bridge %s failed: %s; trying again after the reconnect", bridge_id, exc)
            self._stray_bridges.add(bridge_id)
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
        """What happened while the events could not be heard (Asterisk replays none of them).

        Channels that vanished: their calls are over; record them. Agent legs that entered Stasis:
        the agent answered (their StasisStart is lost). Inbound calls that arrived meanwhile on a
        reconnect: nothing was done to them yet, so they are routed now. Then ``_tie_loose_ends``.
        """
        for snapshot in [*report.channels_gone, *report.channels_left]:
            channel_id = str(snapshot.get("id"))
            self._strays.pop(channel_id, None)
            if channel_id in self.calls or channel_id in self.legs:
                log.warning("channel %s vanished while ARI was unreachable; finishing its call", channel_id)
                await self._channel_gone(channel_id, cause=0)
        for snapshot in report.channels_new:
            channel_id = str(snapshot.get("id"))
            args = _stasis_args(snapshot)
            if channel_id in self.legs and channel_id not in self._strays:
                log.warning("agent leg %s answered while ARI was unreachable", channel_id)
                self._spawn(
                    self.on_agent_answered(snapshot, args[1:], self.application),
                    f"agent leg {channel_id} answered during the outage",
                )
            elif channel_id in self.calls or channel_id in self._strays:
                continue
            elif not report.first and args[:1] == [INBOUND_KIND]:
                log.warning("inbound call %s arrived while ARI was unreachable; routing it", channel_id)
                self._spawn(
                    self.on_inbound(snapshot, args[1:], self.application),
                    f"inbound call {channel_id} found after reconnecting",
                )
            else:
                # A call this process does not know (it restarted): it cannot be resumed, so it is
                # handed back to the dialplan rather than left in silence.
                await self.application.send_back(channel_id, "unknown call found after reconnecting")
        alive = {str(s.get("id")) for s in [*report.channels_kept, *report.channels_new]}
        self._spawn(self._tie_loose_ends(alive), "loose ends after reconnecting")

    async def _tie_loose_ends(self, in_stasis: set[str]) -> None:
        """After a reconnect, what no event will tell any more: ringing agent legs that ended while
        the events could not be heard (their ChannelDestroyed is lost: the offer ends as unanswered
        and the caller is offered again), playbacks that finished (the call's next step runs), and
        the channels and bridges the flow let go of but could not release then (released now).

        A request failing here closes the socket too, and the next reconnect comes back here.
        """
        try:
            await self._tie_loose_ends_once(in_stasis)
        except AriUnavailable as exc:
            log.warning("loose ends left for the next reconnect: %s", exc)

    async def _tie_loose_ends_once(self, in_stasis: set[str]) -> None:
        ringing = [
            leg.leg_id
            for call in {id(c): c for c in self.legs.values()}.values()
            for leg in call.offers
            if leg.originated and not leg.answered and not leg.ended and leg.leg_id not in in_stasis
        ]
        live: set[str] = set(in_stasis)
        if ringing or self._strays:
            channels = await self.connection.rest.channels.list()
            live = {str(c.get("id")) for c in channels} if isinstance(channels, list) else set()
        for leg_id in ringing:
            if leg_id not in live:
                log.warning("agent leg %s ended while ARI was unreachable", leg_id)
                await self._channel_gone(leg_id, cause=0)
        for channel_id, how in list(self._strays.items()):
            if channel_id not in live or (how == "send_back" and channel_id not in in_stasis):
                self._strays.pop(channel_id, None)
            elif how == "send_back":
                await self.application.send_back(channel_id, "released before ARI became unreachable")
            else:
                await self._hangup_channel(channel_id)
        if self._stray_bridges:
            bridges = await self.connection.rest.bridges.list()
            present = {str(b.get("id")) for b in bridges} if isinstance(bridges, list) else set()
            for bridge_id in list(self._stray_bridges):
                self._stray_bridges.discard(bridge_id)
                if bridge_id in present:
                    await self._destroy_bridge_id(bridge_id)
        for playback_id in [*self.playbacks, *self.agent_announcements]:
            try:
                await self.connection.rest.playbacks.get(playbackId=playback_id)
            except AriRequestError as exc:
                if exc.status == 404:
                    log.warning("playback %s finished while ARI was unreachable", playback_id)
                    await self._on_playback_finished({"playback": {"id": playback_id}}, self.connection)

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
            return self._pause(message, now)
        if kind == FINISH_WRAPUP:
            left = self.finish_wrapup(str(message["agent"]))
            return {"ok": True, "agent": message["agent"], "timeleft": int(left)}
        if kind == messages.PHONE_HANGUP:
            done = await self._hangup_phone(str(message["phone"]))
            # "result" is the seed's HangupPhone body (1/0); "ok" is what every reply carries.
            return {"ok": done, "result": 1 if done else 0}
        if kind == messages.CAMPAIGNS_RELOAD:
            return {"ok": True, **await self.reload(message.get("names"))}
        if kind == messages.STATUS_SNAPSHOT:
            return {"ok": True, **self.snapshot()}
        return None

    def _pause(self, message: messages.Message, now: float) -> dict[str, Any]:
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
        agent = self.agents.pause(name, paused, reason, campaigns=scope)
        at = local_time(now)
        campaigns = sorted(agent.campaigns) if scope is None else sorted(scope)
        if scope is None:
            self._log_row(records.pause_all(at, agent.name, paused, reason))
        for campaign in campaigns:
            self._log_row(records.pause(at, campaign, agent.name, paused, reason))
        self._real_pause_change(agent.name, agent.paused or bool(agent.paused_in), now)
        running = self.breaks.pop(name, None)
        if running is not None:
            where, motive, said, started = running
            self._log_row(records.break_end(at, where, name, motive, breaktime=now - started, comment=said))
        if paused and reason:
            where = records.NONE if scope is None else ",".join(campaigns)
            self.breaks[name] = (where, reason, comment, now)
            self._log_row(records.break_start(at, where, name, reason, comment))
        self.dispatch()
        return {
            "ok": True,
            "agent": agent.name,
            "state": agent.state(now).value,
            "status": agent.seed_status(now).value,
        }

    def _real_pause_change(self, name: str, on_pause: bool, now: float) -> None:
        """REALPAUSE when the agent goes from working to on pause (in one campaign or all: one row),
        REALUNPAUSE pausetime when no pause is left. Pausing more campaigns, or changing the motive,
        while already on pause writes neither. Only the agent's own pause commands count: the
        telephony's ``autopause`` is a PAUSE row alone."""
        started = self.real_pauses.get(name)
        if on_pause and started is None:
            self.real_pauses[name] = now
            self._log_row(records.real_pause(local_time(now), name))
        elif not on_pause and started is not None:
            del self.real_pauses[name]
            self._log_row(records.real_unpause(local_time(now), name, now - started))

    def finish_wrapup(self, name: str) -> float:
        """End an agent's wrap-up early: FINISHWRAPUP timeleft; answers the seconds that were left."""
        agent = self.agents.get(name)
        now = self.clock()
        if not agent.logged_in:
            raise AgentError(f"agent {name!r} is not logged in")
        if agent.wrapup_left(now) <= 0:
            raise AgentError(f"agent {name!r} is not in wrap-up")
        left = self.agents.finish_wrapup(name, now)
        self._log_row(records.finish_wrapup(local_time(now), name, left, agent.last_campaign or records.NONE))
        self.dispatch()
        return left

    async def _on_dtmf(self, event: dict[str, Any], _conn: AriConnection) -> None:
        """A waiting caller's key: virtual hold, or the campaign's exit ``context`` (EXITWITHKEY)."""
        channel_id = str((event.get("channel") or {}).get("id"))
        call = self.calls.get(channel_id)
        digit = str(event.get("digit", ""))
        if call is None or call.phase is not Phase.WAITING or call.campaign is None or not digit:
            return
        campaign = call.campaign
        if campaign.virtual_hold and campaign.virtual_hold_key == digit and self.virtual_hold is not None:
            async with call.lock:
                if call.phase is Phase.WAITING and call.offer is None and call.delayed is None:
                    await self.virtual_hold.leave_line(call, digit)
            return
        if campaign.exit_context:
            async with call.lock:
                self._take_out(call, "key", digit)

    async def _logoff(self, name: str) -> dict[str, Any]:
        agent = self.agents.get(name)
        ringing_call = self.calls.get(agent.call) if agent.call else None
        interface = agent.interface
        # Logging off ends the pause too: its time is closed before AGENTLOGOFF.
        self._real_pause_change(name, False, self.clock())
        _, seconds = self.agents.logoff(name, self.clock())
        self._log_row(records.agent_logoff(local_time(self.clock()), name, interface, seconds))
        if ringing_call is not None:
            async with ringing_call.lock:
                for leg in ringing_call.offers:
                    if leg.offer.agent == name and not leg.ended:
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
            for hang_up in self.phone_hangups:
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
        """Publish the agents whose state changed: only those the registry marked since the last
        call (a wrap-up's end is marked when routing advances past it), never a scan of all."""
        now = self.clock()
        changed = self.agents.drain_changed()
        if len(self._published_states) < len(self.agents.agents):
            # Agents new since the last call (a reload added members): announced once, as before.
            changed |= {name for name in self.agents.agents if name not in self._published_states}
        for name in sorted(changed):
            agent = self.agents.agents.get(name)
            if agent is None:
                continue
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


def _priority(text: str) -> int:
    """The caller's priority from the Stasis arguments (``QUEUE_PRIO``); not a number: 0."""
    try:
        return int(text.strip())
    except ValueError:
        return 0


def _stasis_args(channel: dict[str, Any]) -> list[str]:
    """The Stasis arguments of a channel snapshot (its dialplan ``app_data`` after the app's name),
    e.g. ``["inbound", "880000"]``; empty when the snapshot does not say."""
    dialplan = channel.get("dialplan") or {}
    data = dialplan.get("app_data") if isinstance(dialplan, dict) else None
    if not isinstance(data, str) or not data:
        return []
    return [part.strip() for part in data.split(",")[1:]]


def _gone(exc: AriError) -> bool:
    """The channel no longer exists or left Stasis: the hang-up path takes over."""
    return isinstance(exc, AriRequestError) and exc.status in GONE_STATUSES


def _member_text(member: MemberConfig) -> str:
    return f"{member.campaign}/{member.agent}"

"""The inbound call flow: a customer dials a campaign's number and is put through to a free agent.

One :class:`InboundFlow` serves every inbound call of the process. The domain core
(``stasis_app.acd``) decides; the flow turns ARI events into domain inputs and decisions into ARI
requests, queue_log/CDR rows and bus events.


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

How the flow is laid out: :class:`InboundFlow` owns the state (calls, legs, playbacks, the agents,
queues and campaigns) and wires the event handlers; each step of a call is a function of one module
of this package taking the flow explicitly:

* ``calls`` -- the records: :class:`InboundCall` (with its :class:`Phase`) and :class:`AgentLeg`;
* ``campaign_reload`` -- reading campaigns and members, CREATEDQUEUE / ADDMEMBER / REMOVEMEMBER;
* ``entry`` -- DID, schedule, welcome, joining the queue, and the fall-throughs (mailbox, hang-up);
* ``announcing`` -- position, hold time and periodic announcements; the hold-time estimate;
* ``leaving`` -- queue timeout, ``leavewhenempty`` and the exit key take a caller out of the queue;
* ``offering`` -- offers to free agents, ringing legs, unanswered rings, ``autopause``, wake-ups;
* ``connecting`` -- answered legs: ``memberdelay``, ``announce`` to the agent, AGENTDUMP, the bridge;
* ``teardown`` -- hang-ups, completions, the CDR row, releasing a call after an error;
* ``agent_bus`` -- agent commands from the bus (login, logoff, pause, breaks, wrap-up, hang-up...);
* ``recovery`` -- after a reconnect: lost events, and releases that could not be made then;
* ``live_status`` -- the status snapshot and agent state events;
* ``ari_requests`` -- the ARI requests the steps share, and which failures mean "channel gone";
* ``virtual_hold`` -- callers who leave the line and are called back at their turn.

Names with one underscore on the flow (``_spawn``, ``_emit``, ``_log_row``, ``_strays``...) are
shared by these modules but are not meant for the rest of the process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from bus import messages
from bus.base import Bus
from stasis_app.acd import records
from stasis_app.acd.agents import AgentRegistry
from stasis_app.acd.announcements import HoldtimeAverage
from stasis_app.acd.campaigns import CampaignConfig, DidDirectory
from stasis_app.acd.queueing import CampaignQueues, StrategyMemory
from stasis_app.acd.records import QueueLogRow, local_time
from stasis_app.acd.schedule import HolidayCalendar
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriRequestError
from stasis_app.inbound import (
    agent_bus,
    announcing,
    campaign_reload,
    connecting,
    entry,
    leaving,
    live_status,
    offering,
    recovery,
    teardown,
)
from stasis_app.inbound.calls import AGENT_KIND, INBOUND_KIND, AgentLeg, InboundCall, Phase
from stasis_app.inbound.ports import CampaignLoader, RecordSink
from stasis_app.inbound.virtual_hold import VirtualHold

if TYPE_CHECKING:
    from stasis_app.phones.voicemail import Voicemail

log = logging.getLogger(__name__)


class InboundFlow:
    """Inbound calls, agent legs, agent commands from the bus, and their records: the state, and the
    wiring of ARI events and bus commands to the steps in this package's modules."""

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
        #: bridges it could not destroy: finished after the reconnect (see ``recovery.tie_loose_ends``).
        self._strays: dict[str, str] = {}
        self._stray_bridges: set[str] = set()
        #: Agents on pause (REALPAUSE written) -> when the pause began, for REALUNPAUSE's pausetime.
        self.real_pauses: dict[str, float] = {}
        #: ``announce`` playbacks to answered agents: playback id -> (call, leg, agent channel).
        self.agent_announcements: dict[str, tuple[InboundCall, AgentLeg, dict[str, Any]]] = {}

    def install(self) -> None:
        """Register the flows and event handlers (before the connection starts)."""
        self.application.register_flow(INBOUND_KIND, self.on_inbound)
        self.application.register_flow(AGENT_KIND, partial(connecting.on_agent_answered, self))
        conn = self.connection
        self._removers += [
            conn.on("StasisEnd", partial(teardown.on_stasis_end, self)),
            conn.on("ChannelDestroyed", partial(teardown.on_channel_destroyed, self)),
            conn.on("PlaybackFinished", self.on_playback_finished),
            conn.on("Dial", partial(offering.on_dial, self)),
            conn.on("ChannelDtmfReceived", partial(leaving.on_dtmf, self)),
            conn.on_resync(partial(recovery.on_resync, self)),
        ]
        if self.bus is not None:
            self._subscription = self.bus.subscribe(messages.COMMANDS, self.on_command)
        VirtualHold(self).install()

    async def start(self) -> None:
        """Load campaigns (retrying in the background while the database is away)."""
        self._outbox = asyncio.Queue()
        self._publisher = asyncio.create_task(self._publish_loop(), name="inbound-events")
        # Asterisk's logger writes QUEUESTART once when queueing starts; this process is that start.
        self._log_row(records.queue_start(local_time(self.clock())))
        try:
            await campaign_reload.reload(self, None, initial=True)
        except Exception as exc:
            log.error("campaigns could not be loaded (%s); retrying in the background", exc)
            self._spawn(campaign_reload.load_until_done(self), "campaign loader")

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

    async def on_playback_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        """The next step after a playback, by what was playing: the agent's ``announce``, a waiting
        caller's announcement, the notice, the out-of-hours audio or the welcome."""
        playback = event.get("playback") or {}
        if str(playback.get("id")) in self.agent_announcements:
            await connecting.after_agent_announcement(self, str(playback.get("id")))
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
                    await announcing.after_announcement(self, call)
                elif call.phase is Phase.NOTICE:
                    await entry.after_notice(self, call)
                elif call.phase is Phase.OUT_OF_HOURS:
                    await entry.after_out_of_hours(self, call)
                elif call.phase is Phase.WELCOME:
                    await entry.enter_queue(self, call)
            except AriRequestError as exc:
                await teardown.on_request_error(self, call, exc, "after playback")
            except Exception as exc:
                await teardown.fail(self, call, f"after playback: {exc!r}")

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

    # The flow's interface to the rest of the process ---------------------------------------------

    async def reload(self, names: list[str] | None, *, initial: bool = False) -> dict[str, Any]:
        """See :func:`stasis_app.inbound.campaign_reload.reload`."""
        return await campaign_reload.reload(self, names, initial=initial)

    async def on_inbound(self, channel: dict[str, Any], args: list[str], app: StasisApplication) -> None:
        """See :func:`stasis_app.inbound.entry.on_inbound`."""
        await entry.on_inbound(self, channel, args, app)

    def dispatch(self) -> None:
        """See :func:`stasis_app.inbound.offering.dispatch`."""
        offering.dispatch(self)

    def end_handed_over(self, callid: str, row: QueueLogRow, *, ended_by: str) -> None:
        """See :func:`stasis_app.inbound.teardown.end_handed_over`."""
        teardown.end_handed_over(self, callid, row, ended_by=ended_by)

    async def on_command(self, message: messages.Message) -> None:
        """See :func:`stasis_app.inbound.agent_bus.on_command`."""
        await agent_bus.on_command(self, message)

    def finish_wrapup(self, name: str) -> float:
        """See :func:`stasis_app.inbound.agent_bus.finish_wrapup`."""
        return agent_bus.finish_wrapup(self, name)

    def snapshot(self) -> dict[str, Any]:
        """See :func:`stasis_app.inbound.live_status.snapshot`."""
        return live_status.snapshot(self)

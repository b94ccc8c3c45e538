"""What an agent's softphone and a supervisor's console ask the Stasis app to do, beyond the ACD.

The inbound flow owns calls and agent states; this module adds the call controls an agent uses on a
call it already has (answer when the phone does not answer by itself, reject, hold, mute, DTMF, end
of wrap-up; hold, mute and DTMF also on the calls agents place, ``stasis_app.outbound_calls``),
the supervisor's listening modes (spy, whisper, barge through ARI snoop) and the per-agent desk the
web clients rebuild themselves from after a reconnect (state, current call, the session's call
history). Commands arrive on the bus like the flow's own; the flow leaves the types
listed in :data:`COMMAND_TYPES` to this module (``flow.delegated_commands``), so each request gets
exactly one answer.

The desk is folded from the bus events (the flow's ``agent.state`` and ``call.*`` plus this
module's own), in publish order, so what a reconnecting client is told matches what the live events
told it before.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from bus import messages
from bus.base import Bus, Subscription
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError
from stasis_app.inbound.calls import AGENT_KIND, InboundCall, Phase
from stasis_app.inbound.flow import InboundFlow

if TYPE_CHECKING:
    from stasis_app.outbound_calls import OutboundCalls

log = logging.getLogger(__name__)

CALL_ANSWER = "call.answer"
CALL_REJECT = "call.reject"
CALL_HOLD = "call.hold"
CALL_MUTE = "call.mute"
CALL_DTMF = "call.dtmf"
WRAPUP_END = "agent.wrapup.end"
AGENT_SESSION = "agent.session"
AGENTS_GRID = "agents.grid"
MONITOR = "supervisor.monitor"
MONITOR_STOP = "supervisor.monitor.stop"
COMMAND_TYPES = frozenset(
    {
        CALL_ANSWER,
        CALL_REJECT,
        CALL_HOLD,
        CALL_MUTE,
        CALL_DTMF,
        WRAPUP_END,
        AGENT_SESSION,
        AGENTS_GRID,
        MONITOR,
        MONITOR_STOP,
    }
)

# Events this module publishes (beside the flow's).
CALL_HELD = "call.held"
CALL_UNHELD = "call.unheld"
CALL_MUTED = "call.muted"
CALL_UNMUTED = "call.unmuted"
CALL_MISSED = "call.missed"
AGENT_WRAPUP = "agent.wrapup"
AGENT_HISTORY = "agent.history"
CAMPAIGN_STATS = "campaign.stats"
MONITOR_STARTED = "monitor.started"
MONITOR_ENDED = "monitor.ended"

SNOOP_KIND = "snoop"
MONITOR_KIND = "monitor"
MONITOR_MODES = ("spy", "whisper", "barge")
#: Headers most SIP phones honour to pick up at once (intercom); sent when the agent answers from the browser.
AUTO_ANSWER_VARIABLES = {
    "PJSIP_HEADER(add,Call-Info)": ";answer-after=0",
    "PJSIP_HEADER(add,Alert-Info)": "auto-answer",
}
DTMF_DIGITS = re.compile(r"^[0-9A-D*#]{1,32}$")
HISTORY_LENGTH = 100


class CommandRefused(Exception):
    """A command that cannot apply now; the text is the reason the agent is shown."""


@dataclass(frozen=True)
class ConnectedCall:
    """An agent's connected call as the call controls need it, whichever module owns the call.

    Hold and DTMF act on the customer's channel, mute on the agent's; events name ``callid``, the id
    the call's ``call.connected`` carried, so the desks follow them.
    """

    callid: str
    customer_leg: str
    agent_leg: str
    campaign: str
    caller: str
    musiconhold: str = "default"

    @classmethod
    def of_campaign_call(cls, call: InboundCall, agent_leg: str) -> ConnectedCall:
        campaign = call.campaign
        return cls(
            callid=call.callid,
            customer_leg=call.callid,
            agent_leg=agent_leg,
            campaign=campaign.name if campaign else "",
            caller=call.caller_number,
            musiconhold=campaign.musiconhold if campaign else "default",
        )


@dataclass
class CallView:
    """A call as an agent's softphone shows it."""

    callid: str
    campaign: str
    caller: str
    caller_name: str = ""
    direction: str = "inbound"
    guid: str = ""
    offered_at: float = 0.0
    connected_at: float | None = None
    held: bool = False
    muted: bool = False


@dataclass
class Desk:
    """One agent's session as the clients see it."""

    agent: str
    state: str = messages.AGENT_DISCONNECTED
    since: float = 0.0
    campaigns: list[str] = field(default_factory=list)
    pause_reason: str = ""
    wrapup_until: float = 0.0
    offer: CallView | None = None
    call: CallView | None = None
    rejected: set[str] = field(default_factory=set)
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=HISTORY_LENGTH))

    def as_json(self, now: float) -> dict[str, Any]:
        current = self.call or self.offer
        return {
            "agent": self.agent,
            "state": self.state,
            "since": self.since,
            "seconds_in_state": round(max(0.0, now - self.since), 3) if self.since else 0.0,
            "campaigns": list(self.campaigns),
            "pause_reason": self.pause_reason,
            "wrapup_until": self.wrapup_until,
            "ringing": asdict(self.offer) if self.offer else None,
            "call": asdict(self.call) if self.call else None,
            "call_seconds": round(now - self.call.connected_at, 3)
            if self.call and self.call.connected_at
            else 0.0,
            "current_callid": current.callid if current else None,
            "history": list(self.history),
        }


@dataclass
class CampaignStats:
    entered: int = 0
    answered: int = 0
    abandoned: int = 0
    waiting: dict[str, float] = field(default_factory=dict)
    talking: set[str] = field(default_factory=set)


@dataclass
class Monitor:
    """A supervisor listening to (or joining) an agent's call."""

    monitor_id: str
    supervisor: str
    agent: str
    callid: str
    mode: str
    leg_id: str
    snoop_id: str | None = None
    bridge_id: str | None = None
    answered: bool = False
    ended: bool = False


class AgentCommands:
    """Call controls, supervisor monitoring and agent desks; wire with :meth:`install`."""

    def __init__(self, flow: InboundFlow, bus: Bus, clock: Callable[[], float] = time.time) -> None:
        self.flow = flow
        self.bus = bus
        self.clock = clock
        self.application: StasisApplication = flow.application
        self.connection: AriConnection = flow.connection
        self.desks: dict[str, Desk] = {}
        self.campaign_stats: dict[str, CampaignStats] = {}
        #: Per campaign, how many logged-in desks are in each state: kept as desks change, so a
        #: campaign's figures never need a look at every desk.
        self._desk_states: dict[str, Counter[str]] = {}
        self.monitors: dict[str, Monitor] = {}
        self._by_leg: dict[str, Monitor] = {}
        self._subscriptions: list[Subscription] = []
        self._removers: list[Callable[[], None]] = []
        #: The calls agents place themselves: the call controls apply to them too.
        self.outbound: OutboundCalls | None = None

    def install(self) -> None:
        """Subscribe to commands and events and register the monitoring legs' flows."""
        self.flow.delegated_commands.update(COMMAND_TYPES)
        self._subscriptions.append(self.bus.subscribe(messages.COMMANDS, self.on_command))
        self._subscriptions.append(self.bus.subscribe(messages.EVENTS, self.on_event))
        self.application.register_flow(SNOOP_KIND, self._on_snoop_start)
        self.application.register_flow(MONITOR_KIND, self._on_monitor_answered)
        self._removers += [
            self.connection.on("StasisEnd", self._on_channel_end),
            self.connection.on("ChannelDestroyed", self._on_channel_end),
        ]

    async def stop(self) -> None:
        for sub in self._subscriptions:
            sub.cancel()
        for remove in self._removers:
            remove()
        for monitor in list(self.monitors.values()):
            await self._end_monitor(monitor, "stopped")

    def desk(self, agent: str) -> Desk:
        return self.desks.setdefault(agent, Desk(agent))

    # Commands ---------------------------------------------------------------------------------

    async def on_command(self, message: messages.Message) -> None:
        kind = message.get("type")
        if kind not in COMMAND_TYPES:
            return
        try:
            payload = await self._command(str(kind), message)
        except CommandRefused as exc:
            payload = {"ok": False, "error": str(exc)}
        except AriError as exc:
            log.warning("command %s failed on ARI: %s", kind, exc)
            payload = {"ok": False, "error": f"the phone system refused: {exc}"}
        except Exception as exc:
            log.exception("command %s failed", kind)
            payload = {"ok": False, "error": repr(exc)}
        if message.get("request_id"):
            await self.bus.reply(message, payload)

    async def _command(self, kind: str, message: messages.Message) -> dict[str, Any]:
        if kind == AGENT_SESSION:
            return {"ok": True, "session": self.desk(text_field(message, "agent")).as_json(self.clock())}
        if kind == AGENTS_GRID:
            return {"ok": True, **self.grid()}
        if kind == MONITOR:
            return await self._monitor(message)
        if kind == MONITOR_STOP:
            return await self._monitor_stop(text_field(message, "supervisor"))
        agent = text_field(message, "agent")
        if kind == WRAPUP_END:
            return self._end_wrapup(agent)
        if kind == CALL_ANSWER:
            return await self._answer(agent)
        if kind == CALL_REJECT:
            return await self._reject(agent)
        call = self._connected_call(agent)
        if kind == CALL_HOLD:
            return await self._hold(agent, call, bool(message.get("on", True)))
        if kind == CALL_MUTE:
            return await self._mute(agent, call, bool(message.get("on", True)))
        if kind == CALL_DTMF:
            digits = text_field(message, "digits")
            if not DTMF_DIGITS.match(digits):
                raise CommandRefused(f"{digits!r} is not a DTMF string (0-9, *, #, A-D; at most 32)")
            await self.connection.rest.channels.sendDTMF(channelId=call.customer_leg, dtmf=digits)
            return {"ok": True, "callid": call.callid, "digits": digits}
        raise CommandRefused(f"unknown command {kind!r}")

    def _ringing_call(self, agent: str) -> InboundCall:
        for call in self.flow.calls.values():
            leg = call.offer
            if leg is not None and leg.offer.agent == agent and not leg.ended and call.phase is Phase.WAITING:
                return call
        raise CommandRefused(f"agent {agent} has no ringing call")

    def _campaign_call(self, agent: str) -> tuple[InboundCall, str]:
        """The agent's connected campaign call and the agent's leg of it."""
        for call in self.flow.calls.values():
            leg = call.connected
            if leg is not None and leg.offer.agent == agent and call.phase is Phase.CONNECTED:
                return call, leg.leg_id
        raise CommandRefused(f"agent {agent} is not in a call")

    def _connected_call(self, agent: str) -> ConnectedCall:
        """The agent's connected call: a campaign call, else a call the agent placed."""
        try:
            return ConnectedCall.of_campaign_call(*self._campaign_call(agent))
        except CommandRefused:
            found = self.outbound.connected_call(agent) if self.outbound is not None else None
            if found is None:
                raise
            return found

    async def _answer(self, agent: str) -> dict[str, Any]:
        """Ring the agent's phone again with the auto-answer headers, in place of the ringing leg.

        A SIP phone cannot be made to pick up through ARI; phones do pick up by themselves when the
        INVITE asks for it (``Call-Info: answer-after=0``), which is what the browser's answer
        button relies on. The new leg replaces the old one in the offer, so the call is not offered
        to anyone else meanwhile.
        """
        call = self._ringing_call(agent)
        async with call.lock:
            leg = call.offer
            if leg is None or leg.offer.agent != agent or leg.ended or call.phase is not Phase.WAITING:
                raise CommandRefused(f"the call to {agent} stopped ringing")
            old_id, new_id = leg.leg_id, f"oc-agent-{uuid.uuid4().hex}"
            params: dict[str, Any] = {
                "endpoint": leg.offer.interface,
                "app": self.flow.app_name,
                "appArgs": f"{AGENT_KIND},{call.callid}",
                "timeout": leg.ring_timeout,
                "channelId": new_id,
                "callerId": call.caller_id,
                "variables": dict(AUTO_ANSWER_VARIABLES),
            }
            if leg.offer.interface.lower().startswith("local/"):
                params["formats"] = "ulaw"
            else:
                params["originator"] = call.callid
            self.flow.legs.pop(old_id, None)
            leg.leg_id = new_id
            self.flow.legs[new_id] = call
            try:
                await self.connection.rest.channels.hangup(channelId=old_id, reason="normal")
            except AriRequestError as exc:
                if exc.status != 404:
                    raise
            await self.connection.rest.channels.originate(**params)
        return {"ok": True, "callid": call.callid}

    async def _reject(self, agent: str) -> dict[str, Any]:
        call = self._ringing_call(agent)
        leg = call.offer
        assert leg is not None
        self.desk(agent).rejected.add(call.callid)
        leg.cancelled = "hangup"
        await self.connection.rest.channels.hangup(channelId=leg.leg_id, reason="busy")
        return {"ok": True, "callid": call.callid}

    async def _hold(self, agent: str, call: ConnectedCall, on: bool) -> dict[str, Any]:
        view = self._call_view(agent, call.callid)
        if view.held == on:
            raise CommandRefused("the call is already on hold" if on else "the call is not on hold")
        customer = call.customer_leg
        if on:
            await self.connection.rest.channels.mute(channelId=customer, direction="in")
            await self.connection.rest.channels.startMoh(channelId=customer, mohClass=call.musiconhold)
        else:
            await self.connection.rest.channels.stopMoh(channelId=customer)
            await self.connection.rest.channels.unmute(channelId=customer, direction="in")
        await self._publish(CALL_HELD if on else CALL_UNHELD, agent, call)
        return {"ok": True, "callid": call.callid, "held": on}

    async def _mute(self, agent: str, call: ConnectedCall, on: bool) -> dict[str, Any]:
        view = self._call_view(agent, call.callid)
        if view.muted == on:
            raise CommandRefused("the microphone is already muted" if on else "the microphone is not muted")
        if on:
            await self.connection.rest.channels.mute(channelId=call.agent_leg, direction="in")
        else:
            await self.connection.rest.channels.unmute(channelId=call.agent_leg, direction="in")
        await self._publish(CALL_MUTED if on else CALL_UNMUTED, agent, call)
        return {"ok": True, "callid": call.callid, "muted": on}

    def _call_view(self, agent: str, callid: str) -> CallView:
        view = self.desk(agent).call
        if view is None or view.callid != callid:
            # The connected event is still on its way: the call is fresh, neither held nor muted.
            return CallView(callid, "", "")
        return view

    def _end_wrapup(self, agent: str) -> dict[str, Any]:
        registry = self.flow.agents
        found = registry.agents.get(agent)
        now = self.clock()
        if found is None or not found.logged_in:
            raise CommandRefused(f"agent {agent} is not logged in")
        if found.wrapup_until <= now:
            raise CommandRefused(f"agent {agent} is not in wrap-up")
        left = registry.finish_wrapup(agent, now)
        self.flow.dispatch()
        return {"ok": True, "seconds_left": round(left, 3)}

    async def _publish(self, kind: str, agent: str, call: ConnectedCall, **extra: Any) -> None:
        event = {
            "type": kind,
            "agent": agent,
            "callid": call.callid,
            "campaign": call.campaign,
            "caller": call.caller,
            "time": self.clock(),
            **extra,
        }
        await self.bus.publish(messages.EVENTS, event)

    # Supervisor monitoring --------------------------------------------------------------------

    async def _monitor(self, message: messages.Message) -> dict[str, Any]:
        supervisor = text_field(message, "supervisor")
        interface = text_field(message, "interface")
        agent = text_field(message, "agent")
        mode = text_field(message, "mode")
        if mode not in MONITOR_MODES:
            raise CommandRefused(f"mode must be one of {', '.join(MONITOR_MODES)}")
        if not interface:
            raise CommandRefused(f"supervisor {supervisor} has no phone to ring")
        if any(m.supervisor == supervisor and not m.ended for m in self.monitors.values()):
            raise CommandRefused(f"supervisor {supervisor} is already monitoring a call")
        call, agent_leg = self._campaign_call(agent)
        monitor = Monitor(
            monitor_id=uuid.uuid4().hex,
            supervisor=supervisor,
            agent=agent,
            callid=call.callid,
            mode=mode,
            leg_id=f"oc-monitor-{uuid.uuid4().hex}",
        )
        self.monitors[monitor.monitor_id] = monitor
        self._by_leg[monitor.leg_id] = monitor
        try:
            if mode != "barge":
                monitor.snoop_id = f"oc-snoop-{uuid.uuid4().hex}"
                self._by_leg[monitor.snoop_id] = monitor
                await self.connection.rest.channels.snoopChannelWithId(
                    channelId=agent_leg,
                    snoopId=monitor.snoop_id,
                    spy="both",
                    whisper="out" if mode == "whisper" else "none",
                    app=self.flow.app_name,
                    appArgs=f"{SNOOP_KIND},{monitor.monitor_id}",
                )
            params: dict[str, Any] = {
                "endpoint": interface,
                "app": self.flow.app_name,
                "appArgs": f"{MONITOR_KIND},{monitor.monitor_id}",
                "timeout": 30,
                "channelId": monitor.leg_id,
                "callerId": f'"{mode} {agent}" <{agent}>',
                "variables": dict(AUTO_ANSWER_VARIABLES),
            }
            if interface.lower().startswith("local/"):
                params["formats"] = "ulaw"
            await self.connection.rest.channels.originate(**params)
        except BaseException:
            await self._end_monitor(monitor, "failed")
            raise
        return {"ok": True, "monitor": monitor.monitor_id, "callid": call.callid, "mode": mode}

    async def _monitor_stop(self, supervisor: str) -> dict[str, Any]:
        found = [m for m in self.monitors.values() if m.supervisor == supervisor and not m.ended]
        if not found:
            raise CommandRefused(f"supervisor {supervisor} is not monitoring any call")
        for monitor in found:
            await self._end_monitor(monitor, "supervisor")
        return {"ok": True, "stopped": len(found)}

    async def _on_snoop_start(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        monitor = self.monitors.get(args[0]) if args else None
        if monitor is None or monitor.ended:
            await self._hangup(str(channel["id"]))

    async def _on_monitor_answered(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        """The supervisor picked up: bridge the phone with the snoop channel (or the call itself)."""
        monitor = self.monitors.get(args[0]) if args else None
        leg_id = str(channel["id"])
        if monitor is None or monitor.ended or monitor.leg_id != leg_id:
            await self._hangup(leg_id)
            return
        call = self.flow.calls.get(monitor.callid)
        if call is None or call.phase is not Phase.CONNECTED:
            await self._end_monitor(monitor, "call ended")
            return
        monitor.answered = True
        try:
            if monitor.mode == "barge":
                if call.bridge_id is None:
                    raise CommandRefused("the call has no bridge to join")
                await self.connection.rest.bridges.addChannel(bridgeId=call.bridge_id, channel=leg_id)
            else:
                assert monitor.snoop_id is not None
                bridge_id = f"oc-monitor-bridge-{monitor.monitor_id}"
                await self.connection.rest.bridges.createWithId(
                    bridgeId=bridge_id, type="mixing", name=f"monitor-{monitor.monitor_id}"
                )
                monitor.bridge_id = bridge_id
                await self.connection.rest.bridges.addChannel(
                    bridgeId=bridge_id, channel=f"{monitor.snoop_id},{leg_id}"
                )
        except (AriError, CommandRefused) as exc:
            log.warning("monitor %s of %s failed: %s", monitor.mode, monitor.agent, exc)
            await self._end_monitor(monitor, "failed")
            return
        await self.bus.publish(
            messages.EVENTS,
            {
                "type": MONITOR_STARTED,
                "monitor": monitor.monitor_id,
                "supervisor": monitor.supervisor,
                "agent": monitor.agent,
                "callid": monitor.callid,
                "mode": monitor.mode,
                "time": self.clock(),
            },
        )

    async def _on_channel_end(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        monitor = self._by_leg.get(channel_id)
        if monitor is not None and not monitor.ended:
            reason = "supervisor" if channel_id == monitor.leg_id else "call ended"
            await self._end_monitor(monitor, reason)

    async def _end_monitor(self, monitor: Monitor, reason: str) -> None:
        if monitor.ended:
            return
        monitor.ended = True
        self.monitors.pop(monitor.monitor_id, None)
        for channel_id in (monitor.leg_id, monitor.snoop_id):
            if channel_id is not None:
                self._by_leg.pop(channel_id, None)
                await self._hangup(channel_id)
        if monitor.bridge_id is not None:
            try:
                await self.connection.rest.bridges.destroy(bridgeId=monitor.bridge_id)
            except AriError as exc:
                log.info("monitor bridge %s: %s", monitor.bridge_id, exc)
        await self.bus.publish(
            messages.EVENTS,
            {
                "type": MONITOR_ENDED,
                "monitor": monitor.monitor_id,
                "supervisor": monitor.supervisor,
                "agent": monitor.agent,
                "callid": monitor.callid,
                "mode": monitor.mode,
                "reason": reason,
                "time": self.clock(),
            },
        )

    async def _hangup(self, channel_id: str) -> None:
        try:
            await self.connection.rest.channels.hangup(channelId=channel_id)
        except AriError as exc:
            if not (isinstance(exc, AriRequestError) and exc.status == 404):
                log.info("hanging up %s: %s", channel_id, exc)

    # Desks, from the events -------------------------------------------------------------------

    def grid(self) -> dict[str, Any]:
        """Every agent's desk (without history) and every campaign's figures."""
        now = self.clock()
        agents = []
        for name in sorted(set(self.desks) | set(self.flow.agents.agents)):
            view = self.desk(name).as_json(now)
            view.pop("history")
            agents.append(view)
        return {"agents": agents, "campaigns": [self._stats(name, now) for name in sorted(self._campaigns())]}

    def _campaigns(self) -> set[str]:
        return set(self.flow.campaigns) | set(self.campaign_stats)

    def _stats(self, campaign: str, now: float) -> dict[str, Any]:
        stats = self.campaign_stats.get(campaign, CampaignStats())
        oldest = min(stats.waiting.values(), default=None)
        states = self._desk_states.get(campaign, Counter())
        return {
            "campaign": campaign,
            "entered": stats.entered,
            "answered": stats.answered,
            "abandoned": stats.abandoned,
            "waiting": len(stats.waiting),
            "talking": len(stats.talking),
            "longest_wait_seconds": round(now - oldest, 3) if oldest is not None else 0.0,
            "agents_logged_in": states.total(),
            "agents_free": states[messages.AGENT_FREE],
            "agents_busy": states[messages.AGENT_BUSY] + states[messages.AGENT_RINGING],
            "agents_paused": states[messages.AGENT_PAUSED],
            "agents_wrapup": states[messages.AGENT_WRAPUP],
        }

    async def on_event(self, message: messages.Message) -> None:
        kind = str(message.get("type", ""))
        if kind == messages.AGENT_STATE:
            await self._fold_state(message)
        elif kind in (CALL_HELD, CALL_UNHELD, CALL_MUTED, CALL_UNMUTED):
            view = self.desk(str(message["agent"])).call
            if view is not None and view.callid == message.get("callid"):
                if kind in (CALL_HELD, CALL_UNHELD):
                    view.held = kind == CALL_HELD
                else:
                    view.muted = kind == CALL_MUTED
        elif kind.startswith("call."):
            await self._fold_call(kind, message)

    async def _fold_state(self, message: messages.Message) -> None:
        agent = str(message["agent"])
        desk = self.desk(agent)
        previous = desk.state
        self._count_desk(desk, -1)
        desk.state = str(message["state"])
        desk.since = float(message.get("since") or self.clock())
        desk.campaigns = [str(c) for c in message.get("campaigns") or []]
        self._count_desk(desk, +1)
        found = self.flow.agents.agents.get(agent)
        desk.pause_reason = found.pause_reason if found is not None and found.paused else ""
        desk.wrapup_until = float(message.get("wrapup_until") or 0.0)
        if desk.state == messages.AGENT_WRAPUP:
            if not desk.wrapup_until and found is not None:
                desk.wrapup_until = found.wrapup_until
            await self.bus.publish(
                messages.EVENTS,
                {
                    "type": AGENT_WRAPUP,
                    "agent": agent,
                    "until": desk.wrapup_until,
                    "seconds": round(max(0.0, desk.wrapup_until - desk.since), 3),
                    "time": desk.since,
                },
            )
        if previous == messages.AGENT_RINGING and desk.state != messages.AGENT_BUSY and desk.offer:
            await self._missed(
                desk, desk.offer, "rejected" if desk.offer.callid in desk.rejected else "no-answer"
            )
        for campaign in desk.campaigns:
            await self._publish_stats(campaign)

    def _count_desk(self, desk: Desk, delta: int) -> None:
        """Add (``+1``) or take away (``-1``) a desk's state in its campaigns' counts."""
        if desk.state == messages.AGENT_DISCONNECTED:
            return
        for campaign in set(desk.campaigns):
            counts = self._desk_states.setdefault(campaign, Counter())
            counts[desk.state] += delta
            if counts[desk.state] <= 0:
                del counts[desk.state]

    async def _missed(self, desk: Desk, view: CallView, reason: str) -> None:
        desk.offer = None
        desk.rejected.discard(view.callid)
        entry = {
            "callid": view.callid,
            "direction": view.direction,
            "number": view.caller,
            "name": view.caller_name,
            "campaign": view.campaign,
            "time": view.offered_at,
            "talk_seconds": 0,
            "missed": True,
            "reason": reason,
        }
        desk.history.appendleft(entry)
        now = self.clock()
        await self.bus.publish(
            messages.EVENTS,
            {
                "type": CALL_MISSED,
                "agent": desk.agent,
                "callid": view.callid,
                "campaign": view.campaign,
                "caller": view.caller,
                "reason": reason,
                "time": now,
            },
        )
        await self.bus.publish(messages.EVENTS, {"type": AGENT_HISTORY, "agent": desk.agent, "entry": entry})

    async def _fold_call(self, kind: str, message: messages.Message) -> None:
        campaign = str(message.get("campaign", ""))
        callid = str(message.get("callid", ""))
        agent = message.get("agent")
        now = float(message.get("time") or self.clock())
        stats = self.campaign_stats.setdefault(campaign, CampaignStats()) if campaign else None
        live = self.flow.calls.get(callid)
        if kind == messages.CALL_ENTERED and stats is not None:
            stats.entered += 1
            stats.waiting[callid] = now
        elif kind == messages.CALL_RINGING and isinstance(agent, str):
            desk = self.desk(agent)
            if desk.offer is not None:
                # The previous offer ended unanswered and the call came straight back (retry 0).
                reason = "rejected" if desk.offer.callid in desk.rejected else "no-answer"
                await self._missed(desk, desk.offer, reason)
            desk.offer = CallView(
                callid,
                campaign,
                str(message.get("caller", "")),
                str(message.get("caller_name") or (live.caller_name if live else "")),
                guid=live.facts.guid if live else "",
                offered_at=now,
            )
        elif kind == messages.CALL_CONNECTED and isinstance(agent, str):
            desk = self.desk(agent)
            view = desk.offer if desk.offer and desk.offer.callid == callid else None
            if view is None:
                view = CallView(
                    callid,
                    campaign,
                    str(message.get("caller", "")),
                    direction=str(message.get("direction") or "inbound"),
                    guid=live.facts.guid if live else str(message.get("guid") or ""),
                )
            view.connected_at = float(message.get("connected_at") or now)
            desk.offer, desk.call = None, view
            if stats is not None:
                stats.answered += 1
                stats.waiting.pop(callid, None)
                stats.talking.add(callid)
        elif kind == messages.CALL_ENDED:
            if stats is not None:
                stats.talking.discard(callid)
                stats.waiting.pop(callid, None)
            if isinstance(agent, str):
                await self._ended(self.desk(agent), callid, str(message.get("ended_by", "")), now)
            for monitor in [m for m in self.monitors.values() if m.callid == callid]:
                await self._end_monitor(monitor, "call ended")
        elif kind == messages.CALL_ABANDONED:
            if stats is not None:
                stats.abandoned += 1
                stats.waiting.pop(callid, None)
            for desk in self.desks.values():
                if desk.offer is not None and desk.offer.callid == callid:
                    await self._missed(desk, desk.offer, "caller hung up")
        else:
            return
        if campaign:
            await self._publish_stats(campaign)

    async def _ended(self, desk: Desk, callid: str, ended_by: str, now: float) -> None:
        view = desk.call
        if view is None or view.callid != callid:
            return
        desk.call = None
        entry = {
            "callid": callid,
            "direction": view.direction,
            "number": view.caller,
            "name": view.caller_name,
            "campaign": view.campaign,
            "guid": view.guid,
            "time": view.connected_at or view.offered_at,
            "talk_seconds": round(now - (view.connected_at or now), 3),
            "missed": False,
            "ended_by": ended_by,
        }
        desk.history.appendleft(entry)
        await self.bus.publish(messages.EVENTS, {"type": AGENT_HISTORY, "agent": desk.agent, "entry": entry})

    async def _publish_stats(self, campaign: str) -> None:
        await self.bus.publish(
            messages.EVENTS, {"type": CAMPAIGN_STATS, **self._stats(campaign, self.clock())}
        )


def text_field(message: messages.Message, name: str) -> str:
    """A command's string field, stripped (missing: empty); anything but a string is refused."""
    value = message.get(name, "")
    if not isinstance(value, str):
        raise CommandRefused(f"{name!r} must be a string")
    return value.strip()

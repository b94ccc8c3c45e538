"""Calls an agent places (``call.dial``) and parked calls an agent takes back (``call.retrieve``).

A dial rings the agent's own phone first (with the auto-answer headers when the campaign answers
by itself, or when the request asks for them), so the agent hears the call progress; once the agent
picks up, the customer is dialed through the outbound campaign's ``dialstring`` (else the phones'
trunk template) showing the campaign's caller ID (its rules, or the one the agent chose if the
campaign owns it), and both are bridged when the customer answers. The agent is busy from the
moment the phone answers until the call ends, then wraps up with the campaign's wrap-up time.

Each dial ends with one queue_log ``OUTCALL`` row (dialstatus|duration|totaltime|dialednumber|
guid: Asterisk's dial status, seconds talked, seconds since the dial began) and one CDR row (src
the agent, dst the number, the campaign and the guid the request was answered with). The portal
follows it through ``call.dialing``, ``call.connected`` and ``call.ended`` (``direction``
``outbound``). Once bridged, the in-call features (transfer, park, conference by keys or commands)
attach to it as to campaign calls; a feature that takes the call over ends the agent's part of it.

A retrieve rings the agent's phone (auto-answer) and hands the answered leg to the parking lot,
which bridges it with the slot's call; the agent is busy until that conversation ends.

Commands are answered as soon as the agent's phone is being rung (the portal's feature requests
wait two seconds at most): the outcome arrives as events and records.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus import messages
from bus.base import Bus, Subscription
from stasis_app.acd import records
from stasis_app.acd.agents import Activity, AgentState
from stasis_app.acd.caller_ids import caller_id_allowed, choose_caller_id, parse_rules
from stasis_app.acd.campaigns import CampaignConfig
from stasis_app.acd.records import CallFacts, QueueLogRow, local_time
from stasis_app.agent_commands import CALL_HELD, CALL_UNHELD, CommandRefused, ConnectedCall, text_field
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection, AriError, AriRequestError
from stasis_app.inbound.flow import InboundFlow
from stasis_app.inbound.offering import AUTO_ANSWER_VARIABLES
from stasis_app.inbound.virtual_hold import callback_dialstring
from stasis_app.phones.incall import InCallService
from stasis_app.phones.services import BridgedCall, CallerInfo, CallParty, PhoneServices

log = logging.getLogger(__name__)

CALL_DIAL = "call.dial"
CALL_RETRIEVE = "call.retrieve"
COMMAND_TYPES = frozenset({CALL_DIAL, CALL_RETRIEVE})
#: Published when the agent's phone starts ringing for a call the agent places.
CALL_DIALING = "call.dialing"
OUTBOUND = "outbound"
#: Stasis arguments of the legs this module originates.
AGENT_LEG_KIND = "outbound-agent"
CUSTOMER_LEG_KIND = "outbound-customer"
RETRIEVER_KIND = "retrieve-agent"
NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
#: Dial statuses (Asterisk's DIALSTATUS) from the hang-up cause of a customer leg never answered.
CAUSE_STATUSES = {17: "BUSY", 21: "BUSY", 18: "NOANSWER", 19: "NOANSWER", 34: "CONGESTION", 38: "CONGESTION"}
FAILED_STATUSES = frozenset({"BUSY", "CONGESTION", "CHANUNAVAIL"})
CDR_DISPOSITIONS = {"BUSY": records.BUSY, "CONGESTION": records.FAILED, "CHANUNAVAIL": records.FAILED}
#: The context the CDR names for calls agents place (the seed's "agents" flows).
AGENT_CONTEXT = "agents"
#: queue_log rows of the hold events the call controls publish.
HOLD_ROWS = {CALL_HELD: "HOLD", CALL_UNHELD: "UNHOLD"}


class Step(enum.Enum):
    AGENT_RINGING = "agent-ringing"
    DIALING = "dialing"
    CONNECTED = "connected"
    ENDED = "ended"


@dataclass
class OutboundCall:
    """One call an agent places; ``callid`` is the agent leg's channel id (the queue_log callid)."""

    callid: str
    customer_id: str
    guid: str
    agent: str
    interface: str
    campaign: CampaignConfig
    number: str
    dialstring: str
    caller_id: str
    started: float
    step: Step = Step.AGENT_RINGING
    agent_answered: bool = False
    connected_at: float | None = None
    dialstatus: str = ""
    bridge_id: str | None = None
    agent_channel: str = ""
    customer_channel: str = ""
    cause: int = 0
    #: Channels an in-call feature owns now: their hang-ups are not this module's to act on.
    handed_over: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Retrieval:
    """An agent's phone ringing to take a parked call back."""

    leg_id: str
    agent: str
    interface: str
    slot: int
    busy: bool = False


@dataclass(frozen=True)
class DialSettings:
    #: Seconds the agent's phone rings before the dial is given up.
    agent_ring_seconds: int = 30
    #: Seconds the customer's phone rings (Asterisk's Dial timeout).
    customer_ring_seconds: int = 45


class OutboundLedger:
    """How a feature that took an outbound call over ends the agent's part of it."""

    def __init__(self, owner: OutboundCalls, call: OutboundCall) -> None:
        self.owner = owner
        self.call = call

    def transferred(self, event: str, extension: str, context: str) -> None:
        call = self.call
        now = self.owner.flow.clock()
        talked = now - call.connected_at if call.connected_at is not None else 0.0
        self.owner.flow._log_row(
            QueueLogRow(
                local_time(now),
                call.callid,
                call.campaign.name,
                call.agent,
                event,
                extension,
                context,
                "0",
                str(max(0, int(talked))),
                "1",
            )
        )
        self.owner.finish(call, ended_by="transfer")

    def completed(self, *, by_customer: bool) -> None:
        self.owner.finish(self.call, ended_by="customer" if by_customer else "agent")


class OutboundCalls:
    """Serves ``call.dial`` and ``call.retrieve``; wire with :meth:`install`."""

    def __init__(
        self,
        flow: InboundFlow,
        bus: Bus,
        phones: PhoneServices | None = None,
        incall: InCallService | None = None,
        *,
        settings: DialSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.flow = flow
        self.bus = bus
        self.phones = phones
        self.incall = incall
        self.settings = settings or DialSettings()
        self.rng = rng or random.Random()
        self.application: StasisApplication = flow.application
        self.connection: AriConnection = flow.connection
        self.calls: dict[str, OutboundCall] = {}
        self.legs: dict[str, OutboundCall] = {}
        self.retrievals: dict[str, Retrieval] = {}
        self._subscriptions: list[Subscription] = []
        self._removers: list[Callable[[], None]] = []

    def install(self) -> None:
        self.flow.delegated_commands.update(COMMAND_TYPES)
        self.flow.phone_hangups.append(self.hang_up_phone)
        self._subscriptions.append(self.bus.subscribe(messages.COMMANDS, self.on_command))
        self._subscriptions.append(self.bus.subscribe(messages.EVENTS, self.on_event))
        self.application.register_flow(AGENT_LEG_KIND, self._on_agent_up)
        self.application.register_flow(CUSTOMER_LEG_KIND, self._on_customer_up)
        self.application.register_flow(RETRIEVER_KIND, self._on_retriever_up)
        conn = self.connection
        self._removers += [
            conn.on("StasisEnd", self._on_gone),
            conn.on("ChannelDestroyed", self._on_gone),
            conn.on("Dial", self._on_dial),
        ]

    async def stop(self) -> None:
        """Calls still up end (their records written), so no agent stays busy for nothing."""
        for sub in self._subscriptions:
            sub.cancel()
        self._subscriptions.clear()
        for remove in self._removers:
            remove()
        self._removers.clear()
        if self.hang_up_phone in self.flow.phone_hangups:
            self.flow.phone_hangups.remove(self.hang_up_phone)
        for call in list(self.calls.values()):
            async with call.lock:
                if call.step is not Step.ENDED:
                    await self._hang_up_all(call)
                    self.finish(call, ended_by="system")

    def busy(self, agent: str) -> bool:
        return any(c.agent == agent and c.step is not Step.ENDED for c in self.calls.values())

    def connected_call(self, agent: str) -> ConnectedCall | None:
        """The agent's call once the customer answered, for the call controls (hold, mute, DTMF)."""
        for call in self.calls.values():
            if call.agent == agent and call.step is Step.CONNECTED:
                return ConnectedCall(
                    callid=call.callid,
                    customer_leg=call.customer_id,
                    agent_leg=call.callid,
                    campaign=call.campaign.name,
                    caller=call.number,
                    musiconhold=call.campaign.musiconhold,
                )
        return None

    async def hang_up_phone(self, agent: str, callid: str) -> bool:
        """``phone.hangup`` for a call the agent placed (the flow asks, and answers the request).

        The agent's leg goes, ringing or talking; its end finishes the call like a hang-up on the
        phone itself, so the records are written once, by :meth:`finish`.
        """
        call = self.calls.get(callid)
        if call is None or call.agent != agent or call.step is Step.ENDED:
            return False
        await self._hangup(call.callid)
        return True

    async def on_event(self, message: messages.Message) -> None:
        """HOLD / UNHOLD rows for the calls agents place, as the campaign calls get them."""
        event = HOLD_ROWS.get(str(message.get("type", "")))
        call = self.calls.get(str(message.get("callid", ""))) if event is not None else None
        if event is None or call is None:
            return
        self.flow._log_row(
            QueueLogRow(
                local_time(self.flow.clock()),
                call.callid,
                call.campaign.name,
                call.agent,
                event,
                call.customer_channel,
                "",
                call.number,
                call.agent,
                call.interface.split("/", 1)[-1],
            )
        )

    # Commands ---------------------------------------------------------------------------------

    async def on_command(self, message: messages.Message) -> None:
        kind = message.get("type")
        if kind not in COMMAND_TYPES:
            return
        try:
            if kind == CALL_DIAL:
                payload = await self.dial(message)
            else:
                payload = await self.retrieve(message)
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

    def _free_agent(self, name: str, *, allow_wrapup: bool) -> tuple[str, str]:
        """The agent's phone (interface) if the agent may take a call now; refused otherwise."""
        agent = self.flow.agents.agents.get(name)
        if agent is None or not agent.logged_in:
            raise CommandRefused(f"agent {name} is not logged in")
        state = agent.state(self.flow.clock())
        if self.busy(name) or any(r.agent == name for r in self.retrievals.values()):
            raise CommandRefused(f"agent {name} is in a call")
        if agent.activity is not Activity.IDLE:
            raise CommandRefused(f"agent {name} is not free ({state.value})")
        if state is not AgentState.FREE and not (allow_wrapup and state is AgentState.WRAPUP):
            raise CommandRefused(f"agent {name} is not free ({state.value})")
        if not agent.interface:
            raise CommandRefused(f"agent {name} has no phone to ring")
        return agent.name, agent.interface

    def _caller_id(self, campaign: CampaignConfig, number: str, chosen: str) -> str:
        rules = parse_rules(campaign.callerid)
        if chosen:
            if not caller_id_allowed(rules, campaign.dids, chosen):
                raise CommandRefused(f"caller ID {chosen} is not one of campaign {campaign.name}'s")
            return chosen
        return choose_caller_id(rules, number, self.rng) or (campaign.dids[0] if campaign.dids else "")

    def _dialstring(self, campaign: CampaignConfig, number: str) -> str:
        dial = callback_dialstring(campaign.dialstring, number)
        if dial:
            return dial
        if self.phones is None:
            raise CommandRefused(f"campaign {campaign.name} has no dial string")
        return self.phones.settings.dial_external(number)

    async def dial(self, message: messages.Message) -> dict[str, Any]:
        """Check the request, ring the agent's phone; the rest follows from its answer."""
        name = text_field(message, "agent")
        number = text_field(message, "number")
        campaign_name = text_field(message, "campaign")
        chosen = text_field(message, "callerid")
        if not NUMBER.match(number):
            raise CommandRefused(f"{number!r} is not a number that can be dialed")
        campaign = self.flow.campaigns.get(campaign_name)
        if campaign is None:
            raise CommandRefused(f"unknown campaign {campaign_name!r}")
        if campaign.inbound:
            raise CommandRefused(f"campaign {campaign_name} is not an outbound campaign")
        agent, interface = self._free_agent(name, allow_wrapup=False)
        caller_id = self._caller_id(campaign, number, chosen)
        dialstring = self._dialstring(campaign, number)
        now = self.flow.clock()
        callid = f"oc-out-{uuid.uuid4().hex}"
        call = OutboundCall(
            callid=callid,
            customer_id=f"{callid}-customer",
            guid=str(uuid.uuid4()),
            agent=agent,
            interface=interface,
            campaign=campaign,
            number=number,
            dialstring=dialstring,
            caller_id=caller_id,
            started=now,
        )
        self.calls[callid] = call
        self.legs[call.customer_id] = call
        self.flow.agents.start_ringing(agent, callid)
        params: dict[str, Any] = {
            "endpoint": interface,
            "app": self.flow.app_name,
            "appArgs": f"{AGENT_LEG_KIND},{callid}",
            "timeout": self.settings.agent_ring_seconds,
            "channelId": callid,
            "callerId": f'"{campaign.name}" <{number}>',
        }
        if campaign.auto_answer or message.get("auto_answer") is True:
            params["variables"] = dict(AUTO_ANSWER_VARIABLES)
        if interface.lower().startswith("local/"):
            params["formats"] = "ulaw"
        async with call.lock:
            try:
                await self.connection.rest.channels.originate(**params)
            except AriError:
                self.calls.pop(callid, None)
                self.legs.pop(call.customer_id, None)
                call.step = Step.ENDED
                self.flow.agents.stop_ringing(agent, callid)
                self.flow.dispatch()
                raise
            self.flow._emit(
                {
                    "type": CALL_DIALING,
                    "callid": callid,
                    "campaign": campaign.name,
                    "caller": number,
                    "number": number,
                    "agent": agent,
                    "callerid": caller_id,
                    "guid": call.guid,
                    "direction": OUTBOUND,
                    "time": now,
                }
            )
            self.flow.dispatch()
        log.info("agent %s dials %s for %s (call %s)", agent, number, campaign.name, callid)
        return {
            "ok": True,
            "guid": call.guid,
            "callid": callid,
            "campaign": campaign.name,
            "number": number,
            "callerid": caller_id,
        }

    # The call's legs --------------------------------------------------------------------------

    async def _on_agent_up(self, channel: dict[str, Any], args: list[str], _app: StasisApplication) -> None:
        """The agent picked up: the customer is dialed now, and the agent hears it ring."""
        leg_id = str(channel["id"])
        call = self.calls.get(args[0]) if args else None
        if call is None or call.callid != leg_id:
            await self._hangup(leg_id)
            return
        async with call.lock:
            if call.step is not Step.AGENT_RINGING:
                await self._hangup(leg_id)
                return
            call.step = Step.DIALING
            call.agent_answered = True
            call.agent_channel = str(channel.get("name", ""))
            self.flow.agents.connect(call.agent, call.callid)
            self.flow.dispatch()
            await self._request("ring", channelId=leg_id)
            params: dict[str, Any] = {
                "endpoint": call.dialstring,
                "app": self.flow.app_name,
                "appArgs": f"{CUSTOMER_LEG_KIND},{call.callid}",
                "timeout": self.settings.customer_ring_seconds,
                "channelId": call.customer_id,
            }
            if call.caller_id:
                params["callerId"] = call.caller_id
            if call.dialstring.lower().startswith("local/"):
                params["formats"] = "ulaw"
            else:
                params["originator"] = leg_id
            try:
                await self.connection.rest.channels.originate(**params)
            except AriError as exc:
                log.warning("call %s: %s cannot be dialed: %s", call.callid, call.dialstring, exc)
                call.dialstatus = "CHANUNAVAIL"
                await self._hangup(leg_id)
                self.finish(call, ended_by="system")

    async def _on_customer_up(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        """The customer answered: both in one bridge, the call is connected."""
        leg_id = str(channel["id"])
        call = self.calls.get(args[0]) if args else None
        if call is None or call.customer_id != leg_id:
            await self._hangup(leg_id)
            return
        async with call.lock:
            if call.step is not Step.DIALING:
                await self._hangup(leg_id)
                return
            now = self.flow.clock()
            call.step = Step.CONNECTED
            call.connected_at = now
            call.dialstatus = "ANSWER"
            call.customer_channel = str(channel.get("name", ""))
            await self._request("ringStop", channelId=call.callid)
            bridge_id = f"oc-out-bridge-{call.callid}"
            try:
                await self.connection.rest.bridges.createWithId(
                    bridgeId=bridge_id, type="mixing", name=f"outbound-{call.callid}"
                )
                call.bridge_id = bridge_id
                await self.connection.rest.bridges.addChannel(
                    bridgeId=bridge_id, channel=f"{call.callid},{call.customer_id}"
                )
            except AriRequestError as exc:
                # One side just hung up: its hang-up finishes the call.
                log.info("call %s: bridging failed (%s)", call.callid, exc)
                return
            self.flow._emit(
                messages.call_connected(
                    call.callid,
                    call.campaign.name,
                    call.number,
                    call.agent,
                    connected_at=now,
                    direction=OUTBOUND,
                    guid=call.guid,
                )
            )
            self._attach_features(call, bridge_id)

    def _attach_features(self, call: OutboundCall, bridge_id: str) -> None:
        incall = self.incall
        if incall is None:
            return
        allowed = incall.services.settings.incall_feature_parties
        bridged = BridgedCall(
            call_id=call.callid,
            bridge_id=bridge_id,
            parties=[
                CallParty(call.customer_id, "customer", "", call.number, "customer" in allowed),
                CallParty(call.callid, "phone", "", "", True),
            ],
            hand_over=call.handed_over.add,
            end=lambda: None,
            toggle_recording=lambda: None,
        )
        incall.attach(bridged, OutboundLedger(self, call))
        conv = incall.by_call.get(call.callid)
        party = conv.party(call.callid) if conv is not None else None
        if party is not None:
            party.agent = call.agent
            party.dial = call.interface

    async def _on_dial(self, event: dict[str, Any], _conn: AriConnection) -> None:
        """A busy or unreachable customer: the answer is known, the leg need not linger."""
        peer_id = str((event.get("peer") or {}).get("id"))
        call = self.legs.get(peer_id)
        status = str(event.get("dialstatus", ""))
        if call is None or status not in FAILED_STATUSES:
            return
        async with call.lock:
            if call.step is Step.DIALING and not call.dialstatus:
                call.dialstatus = status
                await self._hangup(peer_id, reason="busy" if status == "BUSY" else "normal")

    async def _on_gone(self, event: dict[str, Any], _conn: AriConnection) -> None:
        channel_id = str((event.get("channel") or {}).get("id"))
        cause = event.get("cause") if event.get("type") == "ChannelDestroyed" else 0
        retrieval = self.retrievals.get(channel_id)
        if retrieval is not None and not retrieval.busy:
            # The agent's phone did not answer: nothing was taken from the slot.
            self.retrievals.pop(channel_id, None)
            return
        call = self.calls.get(channel_id) or self.legs.get(channel_id)
        if call is None or channel_id in call.handed_over:
            return
        async with call.lock:
            if call.step is Step.ENDED:
                return
            if channel_id == call.customer_id:
                if call.step is Step.DIALING and not call.dialstatus:
                    code = cause if isinstance(cause, int) else 0
                    call.cause = code
                    call.dialstatus = CAUSE_STATUSES.get(code, "CHANUNAVAIL")
                await self._hangup(call.callid)
                self.finish(call, ended_by="customer")
                return
            if call.step is Step.AGENT_RINGING or (call.step is Step.DIALING and not call.dialstatus):
                call.dialstatus = "CANCEL"
            await self._hangup(call.customer_id)
            self.finish(call, ended_by="agent")

    # The end ----------------------------------------------------------------------------------

    def finish(self, call: OutboundCall, *, ended_by: str) -> None:
        """The agent's part of the call is over: records, the agent's wrap-up, ``call.ended``."""
        if call.step is Step.ENDED:
            return
        was_connected = call.step is Step.CONNECTED
        call.step = Step.ENDED
        now = self.flow.clock()
        self.calls.pop(call.callid, None)
        self.legs.pop(call.customer_id, None)
        if call.bridge_id is not None and not call.handed_over:
            self.flow._spawn(self._destroy_bridge(call.bridge_id), f"bridge of {call.callid}")
        call.bridge_id = None
        status = "ANSWER" if was_connected else (call.dialstatus or "CANCEL")
        talked = now - call.connected_at if call.connected_at is not None else 0.0
        self.flow._log_row(
            QueueLogRow(
                local_time(now),
                call.callid,
                call.campaign.name,
                call.agent,
                "OUTCALL",
                status,
                str(max(0, int(talked))),
                str(max(0, int(now - call.started))),
                call.number,
                call.guid,
            )
        )
        facts = CallFacts(
            guid=call.guid,
            uniqueid=call.callid,
            channel=call.agent_channel,
            started=call.started,
            src=call.agent,
            dst=call.number,
            dcontext=AGENT_CONTEXT,
            campaign=call.campaign.name,
            agent=call.agent,
            dstchannel=call.customer_channel,
            answered=call.connected_at,
            ended=now,
            disposition=CDR_DISPOSITIONS.get(status, records.NO_ANSWER),
            causecode=call.cause,
            lastapp="Dial",
            lastdata=call.dialstring,
            userfield=OUTBOUND,
        )
        row = records.cdr_row(facts)
        if call.caller_id:
            row["clid"] = call.caller_id
        try:
            self.flow.records.cdr(**row)
        except Exception:
            log.exception("call %s: the CDR row could not be queued", call.callid)
        agents = self.flow.agents
        if call.agent_answered:
            agents.end_call(call.agent, call.callid, now, call.campaign.wrapuptime, call.campaign.name)
        else:
            agents.stop_ringing(call.agent, call.callid)
        self.flow._emit(
            messages.call_ended(
                call.callid,
                call.campaign.name,
                call.number,
                call.agent,
                ended_by=ended_by,
                direction=OUTBOUND,
                dialstatus=status,
                guid=call.guid,
                time=now,
            )
        )
        self.flow.dispatch()
        log.info("call %s of %s to %s ended: %s (%s)", call.callid, call.agent, call.number, status, ended_by)

    async def _hang_up_all(self, call: OutboundCall) -> None:
        for channel_id in (call.callid, call.customer_id):
            if channel_id not in call.handed_over:
                await self._hangup(channel_id)

    # Retrieving a parked call -----------------------------------------------------------------

    async def retrieve(self, message: messages.Message) -> dict[str, Any]:
        """Ring the agent's phone; once it answers, the parking lot bridges it with the slot."""
        name = text_field(message, "agent")
        slot_text = str(message.get("slot", "")).strip()
        if not slot_text.isdigit():
            raise CommandRefused("slot must be a parking slot number")
        slot = int(slot_text)
        parking = self.incall.parking if self.incall is not None else None
        if parking is None:
            raise CommandRefused("parking is not available")
        if slot not in parking.lot.entries:
            raise CommandRefused(f"slot {slot} is empty")
        agent, interface = self._free_agent(name, allow_wrapup=True)
        leg_id = f"oc-retrieve-{uuid.uuid4().hex}"
        self.retrievals[leg_id] = Retrieval(leg_id, agent, interface, slot)
        params: dict[str, Any] = {
            "endpoint": interface,
            "app": self.flow.app_name,
            "appArgs": f"{RETRIEVER_KIND},{leg_id}",
            "timeout": self.settings.agent_ring_seconds,
            "channelId": leg_id,
            "callerId": f'"parked {slot}" <{slot}>',
            "variables": dict(AUTO_ANSWER_VARIABLES),
        }
        if interface.lower().startswith("local/"):
            params["formats"] = "ulaw"
        try:
            await self.connection.rest.channels.originate(**params)
        except AriError:
            self.retrievals.pop(leg_id, None)
            raise
        return {"ok": True, "slot": slot, "callid": leg_id}

    async def _on_retriever_up(
        self, channel: dict[str, Any], args: list[str], _app: StasisApplication
    ) -> None:
        leg_id = str(channel["id"])
        retrieval = self.retrievals.get(leg_id)
        if retrieval is None or not args or args[0] != leg_id or self.incall is None:
            await self._hangup(leg_id)
            return
        incall = self.incall
        retrieval.busy = True
        self.flow.agents.connect(retrieval.agent, leg_id)
        self.flow.dispatch()
        extension = retrieval.interface.split("/", 1)[-1]
        caller = CallerInfo(extension, retrieval.agent, extension)
        try:
            await incall.parking.retrieve(leg_id, retrieval.slot, caller)
        finally:
            conv = incall.by_channel.get(leg_id)
            party = conv.party(leg_id) if conv is not None else None
            if conv is None or party is None or conv.task is None:
                self._retrieval_over(retrieval)
            else:
                party.agent = retrieval.agent
                party.dial = retrieval.interface
                conv.task.add_done_callback(lambda _task: self._retrieval_over(retrieval))

    def _retrieval_over(self, retrieval: Retrieval) -> None:
        if self.retrievals.pop(retrieval.leg_id, None) is None:
            return
        self.flow.agents.end_call(retrieval.agent, retrieval.leg_id, self.flow.clock(), 0)
        self.flow.dispatch()

    # ARI helpers ------------------------------------------------------------------------------

    async def _hangup(self, channel_id: str, reason: str = "normal") -> None:
        try:
            await self.connection.rest.channels.hangup(channelId=channel_id, reason=reason)
        except AriError as exc:
            if not (isinstance(exc, AriRequestError) and exc.status == 404):
                log.info("hanging up %s: %s", channel_id, exc)

    async def _request(self, nickname: str, **params: object) -> None:
        try:
            await self.connection.rest.call("channels", nickname, **params)
        except AriError as exc:
            log.info("channels.%s %s: %s", nickname, params, exc)

    async def _destroy_bridge(self, bridge_id: str) -> None:
        try:
            await self.connection.rest.bridges.destroy(bridgeId=bridge_id)
        except AriError as exc:
            if not (isinstance(exc, AriRequestError) and exc.status == 404):
                log.info("destroying bridge %s: %s", bridge_id, exc)

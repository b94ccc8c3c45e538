"""Transfers, parking and conferences for agents, through the bus and on their phones' keypads.

Campaign calls get the same in-call features as phone calls: the agent's leg may use the codes,
the customer's leg never does. What happens to a campaign call is written to queue_log the way
Asterisk writes it: ``BLINDTRANSFER`` / ``TRANSFER`` (extension|context|holdtime|calltime|
origposition; parking and rooms are ``TRANSFER`` to the slot or the room), ``ATTENDEDTRANSFER``
(BRIDGE|bridge id|holdtime|calltime|origposition: the target joins the customer's bridge),
``COMPLETECALLER`` / ``COMPLETEAGENT`` when the call ends while a feature owns it, and
``HOLD`` / ``UNHOLD`` (channel|calleridname|calleridnum|connectedlinename|connectedlinenum)
whenever an agent puts the customer on hold or takes it off.

Bus commands (answers always carry ``ok``):

- ``call.transfer`` ``{agent, mode: blind|attended|complete|abort, to: agent|campaign|number|
  extension, target}``; a campaign transfer puts the customer back in that campaign's queue.
- ``call.park`` ``{agent}`` -> ``{slot}``.
- ``call.conference`` ``{agent, room}``: the agent and the customer both go to the room.

``call.hold`` and ``call.mute`` are answered by ``stasis_app.agent_commands``; this module logs the
hold rows from the events that module publishes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from bus import messages
from bus.base import Bus, Subscription
from stasis_app.acd.records import QueueLogRow, local_time
from stasis_app.agent_commands import CommandRefused, text_field
from stasis_app.application import StasisApplication
from stasis_app.inbound.calls import InboundCall, Phase
from stasis_app.inbound.flow import InboundFlow
from stasis_app.phones.call_control import CallControl
from stasis_app.phones.conference import ConferenceService
from stasis_app.phones.incall import Command, Conversation, InCallService, IncallSettings, Target
from stasis_app.phones.parking import ParkingService
from stasis_app.phones.services import BridgedCall, CallParty, PhoneServices
from stasis_app.phones.transfers import dialled_target, run_script

log = logging.getLogger(__name__)

CALL_TRANSFER = "call.transfer"
CALL_PARK = "call.park"
CALL_CONFERENCE = "call.conference"
COMMAND_TYPES = frozenset({CALL_TRANSFER, CALL_PARK, CALL_CONFERENCE})
HELD_EVENTS = {"call.held": "HOLD", "call.unheld": "UNHOLD"}
#: Longest wait for a conversation to take a command in hand.
COMMAND_TIMEOUT = 15.0


class CampaignLedger:
    """Writes a campaign call's end as the in-call features decide it (see ``CallLedger``)."""

    def __init__(self, flow: InboundFlow, call: InboundCall) -> None:
        self.flow = flow
        self.call = call

    def _times(self) -> tuple[str, str, str]:
        now = self.flow.clock()
        call = self.call
        return (
            str(max(0, int(call.connected_at - call.entered_at))),
            str(max(0, int(now - call.connected_at))),
            str(call.original_position),
        )

    def _agent(self) -> str:
        return self.call.connected.offer.agent if self.call.connected else "NONE"

    def _campaign(self) -> str:
        return self.call.campaign.name if self.call.campaign else "NONE"

    def _row(self, event: str, *data: str) -> QueueLogRow:
        return QueueLogRow(
            local_time(self.flow.clock()), self.call.callid, self._campaign(), self._agent(), event, *data
        )

    def transferred(self, event: str, extension: str, context: str) -> None:
        row = self._row(event, extension, context, *self._times())
        self.flow.end_handed_over(self.call.callid, row, ended_by="transfer")

    def completed(self, *, by_customer: bool) -> None:
        row = self._row("COMPLETECALLER" if by_customer else "COMPLETEAGENT", *self._times())
        self.flow.end_handed_over(self.call.callid, row, ended_by="caller" if by_customer else "agent")


class AgentCalls:
    """Attaches the in-call features to campaign calls and serves the agents' call commands."""

    def __init__(self, flow: InboundFlow, incall: InCallService, bus: Bus | None) -> None:
        self.flow = flow
        self.incall = incall
        self.bus = bus
        self._subscriptions: list[Subscription] = []

    def install(self) -> None:
        self.flow.on_bridged = self.on_campaign_bridged
        if self.bus is not None:
            self.flow.delegated_commands.update(COMMAND_TYPES)
            self._subscriptions.append(self.bus.subscribe(messages.COMMANDS, self.on_command))
            self._subscriptions.append(self.bus.subscribe(messages.EVENTS, self.on_event))

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions.clear()

    # Campaign calls ---------------------------------------------------------------------------

    def on_campaign_bridged(self, call: InboundCall) -> None:
        leg = call.connected
        if leg is None or call.bridge_id is None:
            return
        allowed = self.incall.services.settings.incall_feature_parties
        parties = [
            CallParty(call.callid, "customer", "", call.caller_number, "customer" in allowed),
            CallParty(leg.leg_id, "phone", "", "", True),
        ]
        bridged = BridgedCall(
            call_id=call.callid,
            bridge_id=call.bridge_id,
            parties=parties,
            hand_over=call.handed_over.add,
            end=lambda: None,
            toggle_recording=lambda: None,
        )
        self.incall.attach(bridged, CampaignLedger(self.flow, call))
        conv = self.incall.by_call.get(call.callid)
        if conv is not None:
            agent_party = conv.party(leg.leg_id)
            if agent_party is not None:
                agent_party.agent = leg.offer.agent
                agent_party.dial = leg.offer.interface

    # Commands ---------------------------------------------------------------------------------

    async def on_command(self, message: messages.Message) -> None:
        kind = message.get("type")
        if kind not in COMMAND_TYPES:
            return
        try:
            payload = await self._command(str(kind), message)
        except CommandRefused as exc:
            payload = {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("command %s failed", kind)
            payload = {"ok": False, "error": repr(exc)}
        if self.bus is not None and message.get("request_id"):
            await self.bus.reply(message, payload)

    def conversation_of(self, agent: str) -> Conversation:
        for conv in self.incall.conversations.values():
            if not conv.over and any(p.agent == agent for p in conv.parties):
                return conv
        raise CommandRefused(f"agent {agent} is not in a call")

    async def _command(self, kind: str, message: messages.Message) -> dict[str, Any]:
        agent = text_field(message, "agent")
        conv = self.conversation_of(agent)
        if kind == CALL_PARK:
            return await self._submit(conv, agent, Command("park", None, _future()))
        if kind == CALL_CONFERENCE:
            room = text_field(message, "room")
            if not room.isdigit():
                raise CommandRefused("room must be digits")
            return await self._submit(conv, agent, Command("conference", None, _future(), room=room))
        mode = text_field(message, "mode") or "blind"
        if mode in ("complete", "abort"):
            return await self._submit(conv, agent, Command(mode, None, _future()))
        if mode not in ("blind", "attended"):
            raise CommandRefused("mode must be blind, attended, complete or abort")
        to = text_field(message, "to") or "extension"
        target = text_field(message, "target")
        if to == "campaign":
            if mode != "blind":
                raise CommandRefused("a call is put in a campaign's queue with a blind transfer")
            return await self._to_campaign(conv, agent, target)
        return await self._submit(conv, agent, Command(mode, self._target(to, target, agent), _future()))

    def _target(self, to: str, target: str, agent: str) -> Target:
        services = self.incall.services
        if to == "agent":
            found = self.flow.agents.agents.get(target)
            if found is None or not found.logged_in or not found.interface:
                raise CommandRefused(f"agent {target} is not logged in")
            return Target("dial", dial=found.interface, label=target, context="agent", party_kind="phone")
        if to == "number":
            dial = services.dial_string(services.settings.codes.external_prefix + target)
            if dial is None:
                raise CommandRefused(f"{target} cannot be called")
            return Target("dial", dial=dial, label=target, context="external", party_kind="external")
        if to == "extension":
            dial = services.dial_string(target)
            if dial is None:
                raise CommandRefused(f"{target} is not a known extension or number")
            return dialled_target(services, target, dial)
        raise CommandRefused("to must be agent, campaign, number or extension")

    async def _submit(self, conv: Conversation, agent: str, command: Command) -> dict[str, Any]:
        actor = next((p for p in conv.parties if p.agent == agent), None)
        if actor is None or not self.incall.submit(actor.channel_id, command):
            raise CommandRefused(f"agent {agent} is not in a call")
        try:
            return await asyncio.wait_for(asyncio.shield(command.reply), COMMAND_TIMEOUT)
        except TimeoutError:
            raise CommandRefused("the call did not take the command in time") from None

    async def _to_campaign(self, conv: Conversation, agent: str, name: str) -> dict[str, Any]:
        """The customer goes back into a queue: the agent's leg ends, the call is routed anew."""
        campaign = self.flow.campaigns.get(name)
        if campaign is None or not campaign.dids:
            raise CommandRefused(f"campaign {name} does not take calls")
        origin = conv.origin
        call = self.flow.calls.get(origin.call_id) if origin is not None else None
        if conv.owned or call is None or call.phase is not Phase.CONNECTED or call.connected is None:
            raise CommandRefused("the call is in a transfer already")
        did = campaign.dids[0]
        customer, leg_id = call.callid, call.connected.leg_id
        call.handed_over.update({customer, leg_id})
        self.incall.detach(customer)
        CampaignLedger(self.flow, call).transferred("BLINDTRANSFER", did, "campaign")
        control: CallControl = self.incall.control
        await control.hangup(leg_id)
        await control.destroy_bridge(origin.bridge_id if origin else None)
        snapshot = {
            "id": customer,
            "name": call.channel_name,
            "caller": {"number": call.caller_number, "name": call.caller_name},
            "dialplan": {"context": call.facts.dcontext},
        }
        await self.flow.on_inbound(snapshot, [did], self.flow.application)
        return {"ok": True, "campaign": name, "callid": customer}

    # Hold rows --------------------------------------------------------------------------------

    async def on_event(self, message: messages.Message) -> None:
        event = HELD_EVENTS.get(str(message.get("type", "")))
        if event is None:
            return
        call = self.flow.calls.get(str(message.get("callid", "")))
        if call is None:
            return
        leg = call.connected
        interface = leg.offer.interface if leg else ""
        row = QueueLogRow(
            local_time(self.flow.clock()),
            call.callid,
            call.campaign.name if call.campaign else "NONE",
            str(message.get("agent", "")),
            event,
            call.channel_name,
            call.caller_name,
            call.caller_number,
            str(message.get("agent", "")),
            interface.split("/", 1)[-1],
        )
        try:
            self.flow.records.queue_log(**row.as_kwargs())
        except Exception:
            log.exception("queue_log %s for %s could not be queued", event, call.callid)


def _future() -> asyncio.Future[dict[str, Any]]:
    return asyncio.get_running_loop().create_future()


def install_in_call_features(
    application: StasisApplication,
    phones: PhoneServices,
    flow: InboundFlow | None,
    bus: Bus | None,
    *,
    settings: IncallSettings | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[InCallService, AgentCalls | None]:
    """Build the in-call features and plug them into the phone services and the inbound flow."""
    control = CallControl(application)
    control.install()
    incall = InCallService(control, phones, settings, clock)
    incall.runner = run_script
    incall.parking = ParkingService(incall)
    incall.conferences = ConferenceService(incall)
    phones.incall = incall
    phones.parking = incall.parking
    phones.conferences = incall.conferences
    agent_calls = None
    if flow is not None:
        agent_calls = AgentCalls(flow, incall, bus)
        agent_calls.install()
    return incall, agent_calls

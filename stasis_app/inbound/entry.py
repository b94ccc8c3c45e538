"""A call's entry: the DID picks the campaign, the schedule says open or closed, the welcome plays,
and the caller joins the queue -- or gets the campaign's fall-through (mailbox or hang-up).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

from bus import messages
from stasis_app.acd import records
from stasis_app.acd.announcements import AnnouncementState
from stasis_app.acd.campaigns import CampaignConfig
from stasis_app.acd.parameters import JoinResult, decide_join
from stasis_app.acd.records import CallFacts, local_time
from stasis_app.acd.schedule import AnyHolidays, HolidayCalendar
from stasis_app.application import StasisApplication
from stasis_app.ari import AriRequestError
from stasis_app.inbound import announcing, ari_requests, offering, teardown
from stasis_app.inbound.calls import InboundCall, Phase
from stasis_app.phones.services import CallerInfo

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)

#: Played to a caller whose number no campaign owns (Asterisk core sound).
NOT_IN_SERVICE_MEDIA = "sound:ss-noservice"
RETURN_CONTEXT = "stasis-return"


async def on_inbound(
    flow: InboundFlow, channel: dict[str, Any], args: list[str], _app: StasisApplication
) -> None:
    """StasisStart of a call from a trunk: ``args`` is ``[DID]``."""
    now = flow.clock()
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
    flow.calls[callid] = call
    async with call.lock:
        try:
            await route(flow, call)
        except AriRequestError as exc:
            await teardown.on_request_error(flow, call, exc, "routing")
        except Exception as exc:
            await teardown.fail(flow, call, f"routing failed: {exc!r}")


async def route(flow: InboundFlow, call: InboundCall) -> None:
    campaign = flow.directory.match(call.did)
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
        await ari_requests.request(flow, "progress", channelId=call.callid)
        if not await ari_requests.play(flow, call, (NOT_IN_SERVICE_MEDIA,)):
            await after_notice(flow, call)
        return
    call.campaign = campaign
    call.facts.campaign = campaign.name
    now = flow.clock()
    if not campaign.schedule.is_open(local_time(now), holidays_of(flow, campaign)):
        log.info(
            "call %s to %s (%s) outside its schedule %r",
            call.callid,
            call.did,
            campaign.name,
            campaign.schedule.text,
        )
        call.phase = Phase.OUT_OF_HOURS
        await flow.connection.rest.channels.answer(channelId=call.callid)
        if not await ari_requests.play(flow, call, campaign.out_of_hours):
            await after_out_of_hours(flow, call)
        return
    call.phase = Phase.WELCOME
    await flow.connection.rest.channels.answer(channelId=call.callid)
    if not await ari_requests.play(flow, call, campaign.welcome):
        await enter_queue(flow, call)


def holidays_of(flow: InboundFlow, campaign: CampaignConfig) -> HolidayCalendar:
    """The campaign's holidays from the database, plus the calendar the process was given."""
    if flow.holidays is None:
        return campaign.holidays
    return AnyHolidays((campaign.holidays, flow.holidays))


async def after_notice(flow: InboundFlow, call: InboundCall) -> None:
    await ari_requests.hangup_channel(flow, call.callid, reason="unallocated")


async def after_out_of_hours(flow: InboundFlow, call: InboundCall) -> None:
    """The campaign's fall-through (out of hours, full, empty, queue timeout): its mailbox if
    it has one, else hang up."""
    campaign = call.campaign
    if campaign is not None and campaign.voicemail:
        call.phase = Phase.VOICEMAIL
        call.facts.lastapp = "VoiceMail"
        call.facts.lastdata = campaign.voicemail
        if flow.voicemail is not None:
            # The voicemail owns the channel from now on and hangs it up; the call is over here.
            call.handed_over.add(call.callid)
            voicemail, box = flow.voicemail, campaign.voicemail
            caller = CallerInfo(call.caller_number, call.caller_name)
            teardown.end(flow, call)
            flow._spawn(voicemail.leave_message(call.callid, box, caller), f"voicemail of {call.callid}")
            return
        await flow.connection.rest.channels.continueInDialplan(
            channelId=call.callid, context=RETURN_CONTEXT, extension=f"vm{campaign.voicemail}", priority=1
        )
        return
    await ari_requests.hangup_channel(flow, call.callid, reason="normal")


async def enter_queue(flow: InboundFlow, call: InboundCall) -> None:
    campaign = call.campaign
    assert campaign is not None
    now = flow.clock()
    joined = decide_join(
        waiting=flow.queues.count(campaign.name),
        maxlen=campaign.maxlen,
        joinempty=campaign.joinempty,
        empty=flow.agents.campaign_empty(campaign.name, campaign.joinempty, now),
    )
    if joined is not JoinResult.JOINED:
        # Asterisk writes no queue_log row for a refused join (QUEUESTATUS FULL / JOINEMPTY).
        log.info("call %s not queued in %s: %s", call.callid, campaign.name, joined.value)
        call.facts.lastapp = "Queue"
        call.facts.lastdata = campaign.name
        call.facts.userfield = joined.value
        await after_out_of_hours(flow, call)
        return
    await flow.connection.rest.channels.startMoh(channelId=call.callid, mohClass=campaign.musiconhold)
    waiting = flow.queues.enter(
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
    flow._log_row(
        records.enter_queue(
            local_time(now),
            call.callid,
            campaign.name,
            caller_number=call.caller_number,
            position=waiting.original_position,
        )
    )
    flow._emit(
        messages.call_entered(
            call.callid,
            campaign.name,
            call.caller_number,
            position=waiting.original_position,
            did=call.did,
        )
    )
    offering.dispatch(flow)
    announcing.schedule_announcement(flow, call, now)


def _priority(text: str) -> int:
    """The caller's priority from the Stasis arguments (``QUEUE_PRIO``); not a number: 0."""
    try:
        return int(text.strip())
    except ValueError:
        return 0

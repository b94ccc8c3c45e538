"""The rows OpenContact writes to ``queue_log`` and ``cdr``, built from plain facts.

Event names and data fields are Asterisk's (``apps/app_queue.c``), so queue reporting tools read
them unchanged: ``callid`` is the caller channel's uniqueid, ``agent`` the member name, and
``queuename`` the campaign (``NONE`` for agent events that concern no campaign). Times in the data
fields are whole seconds, except ring times of RINGNOANSWER / RINGCANCELED, which are milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NONE = "NONE"


@dataclass(frozen=True)
class QueueLogRow:
    time: datetime
    callid: str
    queuename: str
    agent: str
    event: str
    data1: str = ""
    data2: str = ""
    data3: str = ""
    data4: str = ""
    data5: str = ""

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "callid": self.callid,
            "queuename": self.queuename,
            "agent": self.agent,
            "event": self.event,
            "data1": self.data1,
            "data2": self.data2,
            "data3": self.data3,
            "data4": self.data4,
            "data5": self.data5,
        }


def _secs(value: float) -> str:
    return str(max(0, int(value)))


def enter_queue(
    at: datetime, callid: str, campaign: str, *, caller_number: str, position: int, url: str = ""
) -> QueueLogRow:
    """ENTERQUEUE url|callerid|position."""
    return QueueLogRow(at, callid, campaign, NONE, "ENTERQUEUE", url, caller_number, str(position))


def ring_no_answer(at: datetime, callid: str, campaign: str, agent: str, ring_ms: int) -> QueueLogRow:
    """RINGNOANSWER ringtime (ms)."""
    return QueueLogRow(at, callid, campaign, agent, "RINGNOANSWER", str(max(0, ring_ms)))


def ring_canceled(at: datetime, callid: str, campaign: str, agent: str, ring_ms: int) -> QueueLogRow:
    """RINGCANCELED ringtime (ms): the caller left while this agent's phone rang."""
    return QueueLogRow(at, callid, campaign, agent, "RINGCANCELED", str(max(0, ring_ms)))


def connect(
    at: datetime,
    callid: str,
    campaign: str,
    agent: str,
    *,
    holdtime: float,
    member_uniqueid: str,
    ringtime: float,
) -> QueueLogRow:
    """CONNECT holdtime|bridged channel uniqueid|ringtime (s)."""
    return QueueLogRow(
        at, callid, campaign, agent, "CONNECT", _secs(holdtime), member_uniqueid, _secs(ringtime)
    )


def complete(
    at: datetime,
    callid: str,
    campaign: str,
    agent: str,
    *,
    by_caller: bool,
    holdtime: float,
    calltime: float,
    original_position: int,
) -> QueueLogRow:
    """COMPLETECALLER / COMPLETEAGENT holdtime|calltime|origposition."""
    event = "COMPLETECALLER" if by_caller else "COMPLETEAGENT"
    return QueueLogRow(
        at, callid, campaign, agent, event, _secs(holdtime), _secs(calltime), str(original_position)
    )


def abandon(
    at: datetime,
    callid: str,
    campaign: str,
    *,
    position: int,
    original_position: int,
    waittime: float,
    agent: str = NONE,
) -> QueueLogRow:
    """ABANDON position|origposition|waittime. ``agent`` is the member the caller was about to be
    put through to when they hung up during its ``memberdelay`` or announcement (app_queue names it
    then), else NONE."""
    return QueueLogRow(
        at, callid, campaign, agent, "ABANDON", str(position), str(original_position), _secs(waittime)
    )


def agent_dump(at: datetime, callid: str, campaign: str, agent: str) -> QueueLogRow:
    """AGENTDUMP (no data): the agent answered but hung up before being put through to the caller
    (during ``memberdelay`` or the campaign's ``announce``); the caller goes on waiting."""
    return QueueLogRow(at, callid, campaign, agent, "AGENTDUMP")


def agent_login(at: datetime, agent: str, interface: str) -> QueueLogRow:
    """AGENTLOGIN channel (the phone the agent logged in on)."""
    return QueueLogRow(at, NONE, NONE, agent, "AGENTLOGIN", interface)


def agent_logoff(at: datetime, agent: str, interface: str, logged_in_seconds: float) -> QueueLogRow:
    """AGENTLOGOFF channel|logintime."""
    return QueueLogRow(at, NONE, NONE, agent, "AGENTLOGOFF", interface, _secs(logged_in_seconds))


def add_member(
    at: datetime, campaign: str, agent: str, paused: bool, source: str = "REALTIME"
) -> QueueLogRow:
    """ADDMEMBER PAUSED-or-empty (a member loaded from the database)."""
    return QueueLogRow(at, source, campaign, agent, "ADDMEMBER", "PAUSED" if paused else "")


def remove_member(at: datetime, campaign: str, agent: str, source: str = "REALTIME") -> QueueLogRow:
    """REMOVEMEMBER (empty data)."""
    return QueueLogRow(at, source, campaign, agent, "REMOVEMEMBER")


def queue_start(at: datetime) -> QueueLogRow:
    """QUEUESTART with every field NONE: queueing started in this process (Asterisk's logger writes
    it once per start)."""
    return QueueLogRow(at, NONE, NONE, NONE, "QUEUESTART")


def created_queue(at: datetime, campaign: str, source: str = "REALTIME") -> QueueLogRow:
    """CREATEDQUEUE (no data): a campaign appeared in a reload while the process was running."""
    return QueueLogRow(at, source, campaign, NONE, "CREATEDQUEUE")


def pause(at: datetime, campaign: str, agent: str, paused: bool, reason: str) -> QueueLogRow:
    """PAUSE / UNPAUSE reason, one per campaign."""
    return QueueLogRow(at, NONE, campaign, agent, "PAUSE" if paused else "UNPAUSE", reason)


def pause_all(at: datetime, agent: str, paused: bool, reason: str) -> QueueLogRow:
    """PAUSEALL / UNPAUSEALL reason, once before the per-campaign rows."""
    return QueueLogRow(at, NONE, NONE, agent, "PAUSEALL" if paused else "UNPAUSEALL", reason)


def real_pause(at: datetime, agent: str) -> QueueLogRow:
    """REALPAUSE (no data): the agent went on pause, once whatever the campaigns paused (the
    telephony PAUSE / PAUSEALL rows say which); ``queuename`` is NONE, as for agent events."""
    return QueueLogRow(at, NONE, NONE, agent, "REALPAUSE")


def real_unpause(at: datetime, agent: str, pausetime: float) -> QueueLogRow:
    """REALUNPAUSE pausetime: the agent's pause is over, after that many whole seconds."""
    return QueueLogRow(at, NONE, NONE, agent, "REALUNPAUSE", _secs(pausetime))


def _exit_row(
    event: str,
    at: datetime,
    callid: str,
    campaign: str,
    *,
    position: int,
    original_position: int,
    waittime: float,
) -> QueueLogRow:
    return QueueLogRow(
        at, callid, campaign, NONE, event, str(position), str(original_position), _secs(waittime)
    )


def exit_empty(
    at: datetime, callid: str, campaign: str, *, position: int, original_position: int, waittime: float
) -> QueueLogRow:
    """EXITEMPTY position|origposition|waittime: ``leavewhenempty`` sent the caller out."""
    return _exit_row(
        "EXITEMPTY",
        at,
        callid,
        campaign,
        position=position,
        original_position=original_position,
        waittime=waittime,
    )


def exit_with_timeout(
    at: datetime, callid: str, campaign: str, *, position: int, original_position: int, waittime: float
) -> QueueLogRow:
    """EXITWITHTIMEOUT position|origposition|waittime: the campaign's ``queue_timeout`` passed."""
    return _exit_row(
        "EXITWITHTIMEOUT",
        at,
        callid,
        campaign,
        position=position,
        original_position=original_position,
        waittime=waittime,
    )


def exit_with_key(
    at: datetime,
    callid: str,
    campaign: str,
    *,
    key: str,
    position: int,
    original_position: int,
    waittime: float,
) -> QueueLogRow:
    """EXITWITHKEY key|position|origposition|waittime: the caller pressed a key of the campaign's
    exit ``context``."""
    return QueueLogRow(
        at,
        callid,
        campaign,
        NONE,
        "EXITWITHKEY",
        key,
        str(position),
        str(original_position),
        _secs(waittime),
    )


def break_start(at: datetime, campaign: str, agent: str, motive: str, comment: str = "") -> QueueLogRow:
    """BREAK motive|comment: a break begins (``campaign`` NONE for a break in every campaign)."""
    return QueueLogRow(at, NONE, campaign, agent, "BREAK", motive, comment)


def break_end(
    at: datetime, campaign: str, agent: str, motive: str, *, breaktime: float, comment: str = ""
) -> QueueLogRow:
    """UNBREAK motive|comment|breaktime (seconds the break lasted)."""
    return QueueLogRow(at, NONE, campaign, agent, "UNBREAK", motive, comment, _secs(breaktime))


def finish_wrapup(at: datetime, agent: str, timeleft: float, campaign: str = NONE) -> QueueLogRow:
    """FINISHWRAPUP timeleft: the agent ended the wrap-up with that many seconds still to go."""
    return QueueLogRow(at, NONE, campaign, agent, "FINISHWRAPUP", _secs(timeleft))


# Virtual hold (the product's own events, named after Asterisk's) ----------------------------------


def virtual_hold(
    at: datetime,
    callid: str,
    campaign: str,
    *,
    how: str,
    position: int,
    original_position: int,
    waittime: float,
    number: str,
) -> QueueLogRow:
    """VIRTUALHOLD how|position|origposition|waittime|number: the caller left the line keeping the
    place (``how``: the key pressed, or ``hangup``) and will be called back at ``number``."""
    return QueueLogRow(
        at,
        callid,
        campaign,
        NONE,
        "VIRTUALHOLD",
        how,
        str(position),
        str(original_position),
        _secs(waittime),
        number,
    )


def callback_start(
    at: datetime, callid: str, campaign: str, *, dialstring: str, attempt: int, waittime: float
) -> QueueLogRow:
    """CALLBACK dialstring|attempt|waittime: the caller's turn came; the system dials them back."""
    return QueueLogRow(at, callid, campaign, NONE, "CALLBACK", dialstring, str(attempt), _secs(waittime))


def callback_answered(
    at: datetime, callid: str, campaign: str, *, channel_id: str, ringtime: float
) -> QueueLogRow:
    """CALLBACKANSWER channel uniqueid|ringtime: the caller picked up the callback."""
    return QueueLogRow(at, callid, campaign, NONE, "CALLBACKANSWER", channel_id, _secs(ringtime))


def callback_failed(
    at: datetime, callid: str, campaign: str, *, dialstatus: str, attempt: int, waittime: float
) -> QueueLogRow:
    """CALLBACKFAILED dialstatus|attempt|waittime: the callback was not answered; the call ends."""
    return QueueLogRow(
        at, callid, campaign, NONE, "CALLBACKFAILED", dialstatus, str(attempt), _secs(waittime)
    )


# CDR --------------------------------------------------------------------------------------------

ANSWERED = "ANSWERED"
NO_ANSWER = "NO ANSWER"
BUSY = "BUSY"
FAILED = "FAILED"


def local_time(epoch: float) -> datetime:
    """Records carry local wall-clock time, as Asterisk writes queue_log and cdr."""
    return datetime.fromtimestamp(epoch)


@dataclass
class CallFacts:
    """What is known about one inbound call, collected as it goes, for its single CDR row.

    Times are Unix seconds from the injected clock.
    """

    guid: str
    uniqueid: str
    channel: str
    started: float
    src: str = ""
    caller_name: str = ""
    dst: str = ""
    dcontext: str = "from-trunk"
    campaign: str = ""
    agent: str = ""
    dstchannel: str = ""
    answered: float | None = None
    ended: float | None = None
    disposition: str = NO_ANSWER
    causecode: int = 0
    lastapp: str = "Stasis"
    lastdata: str = ""
    userfield: str = ""

    @property
    def clid(self) -> str:
        return f'"{self.caller_name}" <{self.src}>' if self.caller_name else self.src


def cdr_row(facts: CallFacts) -> dict[str, Any]:
    """Asterisk's cdr columns plus the product's (guid, campaign, causecode).

    The call counts as answered from the moment an agent answered: a caller who only heard the
    welcome and the music was not served, so such a call is ``NO ANSWER`` (or ``FAILED`` for a number
    nobody owns) with billsec 0. ``accountcode`` names the agent who took the call.
    """
    ended = facts.ended if facts.ended is not None else facts.started
    duration = max(0, int(ended - facts.started))
    billsec = 0 if facts.answered is None else max(0, int(ended - facts.answered))
    return {
        "calldate": local_time(facts.started),
        "start": local_time(facts.started),
        "answer": None if facts.answered is None else local_time(facts.answered),
        "end": local_time(ended),
        "clid": facts.clid,
        "src": facts.src,
        "dst": facts.dst,
        "dcontext": facts.dcontext,
        "channel": facts.channel,
        "dstchannel": facts.dstchannel,
        "lastapp": facts.lastapp,
        "lastdata": facts.lastdata,
        "duration": duration,
        "billsec": billsec,
        "disposition": ANSWERED if facts.answered is not None else facts.disposition,
        "amaflags": "DOCUMENTATION",
        "accountcode": facts.agent,
        "uniqueid": facts.uniqueid,
        "linkedid": facts.uniqueid,
        "userfield": facts.userfield,
        "guid": facts.guid,
        "campaign": facts.campaign,
        "causecode": str(facts.causecode),
    }

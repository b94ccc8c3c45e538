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
    at: datetime, callid: str, campaign: str, *, position: int, original_position: int, waittime: float
) -> QueueLogRow:
    """ABANDON position|origposition|waittime."""
    return QueueLogRow(
        at, callid, campaign, NONE, "ABANDON", str(position), str(original_position), _secs(waittime)
    )


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


def pause(at: datetime, campaign: str, agent: str, paused: bool, reason: str) -> QueueLogRow:
    """PAUSE / UNPAUSE reason, one per campaign."""
    return QueueLogRow(at, NONE, campaign, agent, "PAUSE" if paused else "UNPAUSE", reason)


def pause_all(at: datetime, agent: str, paused: bool, reason: str) -> QueueLogRow:
    """PAUSEALL / UNPAUSEALL reason, once before the per-campaign rows."""
    return QueueLogRow(at, NONE, NONE, agent, "PAUSEALL" if paused else "UNPAUSEALL", reason)


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

"""The flow's record of each inbound call and of each agent leg rung for it."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field

from stasis_app.acd.announcements import AnnouncementState
from stasis_app.acd.campaigns import CampaignConfig
from stasis_app.acd.queueing import Offer
from stasis_app.acd.records import CallFacts

#: Stasis argument of the agent legs this flow originates.
AGENT_KIND = "agent"
INBOUND_KIND = "inbound"
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

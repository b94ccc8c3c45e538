"""Campaign settings as the call flow needs them, and finding a campaign by the number dialed.

A campaign is a row of Asterisk's realtime ``queues`` table plus the product's own columns. This
module reads such a row (any object with those attributes, or a mapping) into a frozen
:class:`CampaignConfig`, with defaults for what is empty, so the call flow never touches the
database model. A campaign may own several DIDs joined by ``&``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stasis_app.acd.announcements import AnnouncementSettings
from stasis_app.acd.parameters import (
    AutoPause,
    EmptyCondition,
    ast_false,
    ast_true,
    parse_autopause,
    parse_empty_options,
)
from stasis_app.acd.schedule import FixedHolidays, Schedule, ScheduleError, parse_schedule
from stasis_app.acd.strategies import Strategy, parse_strategy

log = logging.getLogger(__name__)

#: Media schemes ARI plays; a bare name is a sound file.
MEDIA_SCHEMES = ("sound:", "recording:", "number:", "digits:", "characters:", "tone:")
DEFAULT_RING_TIMEOUT = 15
DEFAULT_RETRY = 5


def _read(row: Any, name: str, default: Any = None) -> Any:
    value = row.get(name, default) if isinstance(row, Mapping) else getattr(row, name, default)
    return default if value is None else value


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "yes", "true", "on", "y")


def _optional_flag(value: Any, default: bool) -> bool:
    """A yes/no column that may be empty (then ``default``)."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    if ast_true(text):
        return True
    if ast_false(text):
        return False
    return default


def split_dids(text: str | None) -> tuple[str, ...]:
    """``"2000 & 2001"`` -> ``("2000", "2001")``; blanks dropped, order kept, duplicates removed."""
    seen: dict[str, None] = {}
    for part in (text or "").split("&"):
        did = normalise_did(part)
        if did:
            seen.setdefault(did, None)
    return tuple(seen)


def normalise_did(did: str) -> str:
    """DIDs compare without spaces, dashes or dots (carriers and admins format them differently)."""
    return "".join(ch for ch in did.strip() if ch not in " -.()")


def media_list(text: str | None) -> tuple[str, ...]:
    """Audio names joined by ``&`` (as Asterisk's Playback takes them) -> ARI media URIs."""
    items: list[str] = []
    for part in (text or "").split("&"):
        name = part.strip()
        if not name:
            continue
        items.append(name if name.startswith(MEDIA_SCHEMES) else f"sound:{name}")
    return tuple(items)


def welcome_and_out_of_hours(text: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ``welcome`` column holds ``<welcome audio>;<out-of-hours audio>``, each ``&``-joined."""
    welcome, _, out_of_hours = (text or "").partition(";")
    return media_list(welcome), media_list(out_of_hours)


@dataclass(frozen=True)
class CampaignConfig:
    """What the inbound flow needs to know about one campaign."""

    name: str
    dids: tuple[str, ...] = ()
    direction: str = "inbound"
    strategy: str = "rrmemory"
    #: Seconds an agent's phone rings before the offer is given up.
    ring_timeout: int = DEFAULT_RING_TIMEOUT
    #: Seconds to wait after an unanswered offer before offering again.
    retry: int = DEFAULT_RETRY
    wrapuptime: int = 0
    maxlen: int = 0
    weight: int = 0
    musiconhold: str = "default"
    welcome: tuple[str, ...] = ()
    out_of_hours: tuple[str, ...] = ()
    #: Mailbox for callers outside the schedule; empty: none.
    voicemail: str = ""
    schedule: Schedule = field(default_factory=Schedule)
    #: Longest wait in the queue in seconds (0: no limit).
    queue_timeout: int = 0
    language: str = ""
    ringinuse: bool = False
    #: ``joinempty`` / ``leavewhenempty`` as Asterisk's condition sets (``parse_empty_options``).
    joinempty: EmptyCondition = EmptyCondition.NONE
    leavewhenempty: EmptyCondition = EmptyCondition.NONE
    #: Several callers may ring at once (Asterisk's ``autofill``); off: only the head caller.
    autofill: bool = True
    #: A busy or congested member restarts the attempt's ring time for the next one.
    timeoutrestart: bool = False
    #: Seconds the agent waits after answering before being bridged to the caller.
    memberdelay: int = 0
    #: ``announce``: played to the agent who answered, before the caller is put through.
    announce: tuple[str, ...] = ()
    autopause: AutoPause = AutoPause.OFF
    autopausedelay: int = 0
    autopausebusy: bool = False
    autopauseunavail: bool = False
    #: Penalties are ignored while the campaign has no more members than this.
    penaltymemberslimit: int = 0
    #: ``timeoutpriority=app`` (default): the caller's queue timeout may shorten an attempt.
    timeoutpriority_app: bool = True
    servicelevel: int = 0
    #: Position, hold-time and periodic announcements to waiting callers.
    announcements: AnnouncementSettings = field(default_factory=AnnouncementSettings)
    #: ``context``: a waiting caller pressing a key leaves to this dialplan context (EXITWITHKEY).
    exit_context: str = ""
    #: Record answered calls (the bridge, named by the call's CDR guid).
    record: bool = False
    #: Agents' phones are told to answer by themselves.
    auto_answer: bool = False
    #: Virtual hold: a waiting caller may leave and keep their place; called back at their turn.
    virtual_hold: bool = False
    #: The key that asks for virtual hold ('' : none).
    virtual_hold_key: str = ""
    #: Hanging up while waiting also asks for virtual hold.
    virtual_hold_hangup: bool = False
    #: How to dial out (callbacks): ``{number}`` is replaced, or the number is appended.
    dialstring: str = ""
    #: Outbound caller-ID rules, one a line (``stasis_app.acd.caller_ids``).
    callerid: str = ""
    #: The campaign's own break motives (besides the product's).
    breaks: tuple[str, ...] = ()
    #: Dates the campaign is closed (its own holidays and those of every campaign).
    holidays: FixedHolidays = field(default_factory=FixedHolidays)

    @property
    def inbound(self) -> bool:
        return self.direction.strip().lower() != "outbound"

    @property
    def distribution(self) -> Strategy:
        """The strategy as ``app_queue`` reads it (unknown names ring all)."""
        return parse_strategy(self.strategy)

    @classmethod
    def from_row(cls, row: Any) -> CampaignConfig:
        """Read a ``queues`` row (model instance or mapping); bad values fall back to defaults."""
        name = str(_read(row, "name", "")).strip()
        schedule_text = str(_read(row, "schedule", ""))
        try:
            schedule = parse_schedule(schedule_text)
        except ScheduleError as exc:
            # An unreadable schedule must not turn every caller away: keep the campaign open, loudly.
            log.error(
                "campaign %r: schedule %r cannot be read (%s); treating it as always open",
                name,
                schedule_text,
                exc,
            )
            schedule = Schedule(text=schedule_text)
        welcome, out_of_hours = welcome_and_out_of_hours(str(_read(row, "welcome", "")))
        for column in ("outofhours", "out_of_hours", "outofhours_audio"):
            own = media_list(str(_read(row, column, "")))
            if own:
                out_of_hours = own
                break
        voicemail = str(_read(row, "voicemail", "")).strip()
        if voicemail.lower() in ("0", "false", "no", "none"):
            voicemail = ""
        return cls(
            name=name,
            dids=split_dids(str(_read(row, "did", ""))),
            direction=str(_read(row, "direction", "inbound")) or "inbound",
            strategy=str(_read(row, "strategy", "rrmemory")) or "rrmemory",
            ring_timeout=max(1, _int(_read(row, "timeout"), DEFAULT_RING_TIMEOUT)),
            retry=max(0, _int(_read(row, "retry"), DEFAULT_RETRY)),
            wrapuptime=max(0, _int(_read(row, "wrapuptime"), 0)),
            maxlen=max(0, _int(_read(row, "maxlen"), 0)),
            weight=_int(_read(row, "weight"), 0),
            musiconhold=str(_read(row, "musiconhold", "default")).strip() or "default",
            welcome=welcome,
            out_of_hours=out_of_hours,
            voicemail=voicemail,
            schedule=schedule,
            queue_timeout=max(0, _int(_read(row, "queue_timeout"), 0)),
            language=str(_read(row, "language", "")).strip(),
            ringinuse=_flag(_read(row, "ringinuse", False)),
            joinempty=parse_empty_options(str(_read(row, "joinempty", "")), joinempty=True),
            leavewhenempty=parse_empty_options(str(_read(row, "leavewhenempty", "")), joinempty=False),
            autofill=_optional_flag(_read(row, "autofill"), True),
            timeoutrestart=_flag(_read(row, "timeoutrestart", False)),
            memberdelay=max(0, _int(_read(row, "memberdelay"), 0)),
            announce=media_list(str(_read(row, "announce", ""))),
            autopause=parse_autopause(str(_read(row, "autopause", ""))),
            autopausedelay=max(0, _int(_read(row, "autopausedelay"), 0)),
            autopausebusy=_flag(_read(row, "autopausebusy", False)),
            autopauseunavail=_flag(_read(row, "autopauseunavail", False)),
            penaltymemberslimit=max(0, _int(_read(row, "penaltymemberslimit"), 0)),
            timeoutpriority_app=str(_read(row, "timeoutpriority", "app")).strip().lower() != "conf",
            servicelevel=max(0, _int(_read(row, "servicelevel"), 0)),
            announcements=AnnouncementSettings.from_row(row),
            exit_context=str(_read(row, "context", "")).strip(),
            record=_flag(_read(row, "record", False)),
            auto_answer=_flag(_read(row, "auto_answer", False)),
            virtual_hold=_flag(_read(row, "virtual_hold", False)),
            virtual_hold_key=str(_read(row, "virtual_hold_key", "")).strip()[:1],
            virtual_hold_hangup=_flag(_read(row, "virtual_hold_hangup", False)),
            dialstring=str(_read(row, "dialstring", "")).strip(),
            callerid=str(_read(row, "callerid", "")).strip(),
            breaks=tuple(
                part.strip()
                for part in str(_read(row, "queue_breaks", "")).replace(";", ",").split(",")
                if part.strip()
            ),
        )


@dataclass(frozen=True)
class MemberConfig:
    """A ``queue_members`` row: an agent (``membername``) able to take a campaign's calls."""

    campaign: str
    agent: str
    interface: str
    penalty: int = 0
    paused: bool = False
    #: Member-level wrap-up seconds (0: the campaign's).
    wrapuptime: int = 0
    #: Member-level ``ringinuse`` (None: the campaign's).
    ringinuse: bool | None = None

    @classmethod
    def from_row(cls, row: Any) -> MemberConfig:
        interface = str(_read(row, "interface", "")).strip()
        agent = str(_read(row, "membername", "")).strip() or interface
        ringinuse = _read(row, "ringinuse")
        return cls(
            campaign=str(_read(row, "queue_name", "")).strip(),
            agent=agent,
            interface=interface,
            penalty=_int(_read(row, "penalty"), 0),
            paused=_flag(_read(row, "paused", False)),
            wrapuptime=max(0, _int(_read(row, "wrapuptime"), 0)),
            ringinuse=None if ringinuse is None or str(ringinuse).strip() == "" else _flag(ringinuse),
        )


class DuplicateDid(ValueError):
    """Two campaigns claim the same DID."""


@dataclass(frozen=True)
class DidDirectory:
    """DID -> inbound campaign. Built once per (re)load; lookups are plain dict reads."""

    by_did: Mapping[str, CampaignConfig]
    conflicts: tuple[str, ...] = ()

    @classmethod
    def build(cls, campaigns: Iterable[CampaignConfig]) -> DidDirectory:
        """The first campaign (by name) keeps a DID claimed twice; the conflict is reported."""
        by_did: dict[str, CampaignConfig] = {}
        conflicts: list[str] = []
        for campaign in sorted(campaigns, key=lambda c: c.name):
            if not campaign.inbound:
                continue
            for did in campaign.dids:
                owner = by_did.get(did)
                if owner is not None and owner.name != campaign.name:
                    conflicts.append(f"DID {did} is claimed by {owner.name!r} and {campaign.name!r}")
                    continue
                by_did[did] = campaign
        return cls(by_did, tuple(conflicts))

    def match(self, dialed: str) -> CampaignConfig | None:
        """The campaign for a dialed number; also tries it with and without a leading ``+``."""
        did = normalise_did(dialed)
        if not did:
            return None
        found = self.by_did.get(did)
        if found is None:
            other = did[1:] if did.startswith("+") else "+" + did
            found = self.by_did.get(other)
        return found

"""The Stasis application process put together: ARI connection, call flows, bus, record writer.

``build_service(settings)`` makes everything from the environment's settings; the embedded mode
and the tests pass their own bus (shared with the admin API in one process) and session factory.
``start()`` starts the parts in dependency order, ``stop()`` stops them in reverse; parts passed in
by the caller are the caller's to start and stop.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bus import Bus, bus_from_url
from datastore.database import database_url_from_env, make_engine
from datastore.database import session_factory as make_session_factory
from datastore.record_writer import RecordWriter
from stasis_app.acd.schedule import HolidayCalendar
from stasis_app.acd.statistics import CallStatistics, StatisticsSettings
from stasis_app.agent_calls import AgentCalls, install_in_call_features
from stasis_app.agent_commands import AgentCommands
from stasis_app.application import StasisApplication
from stasis_app.ari import AriConnection
from stasis_app.inbound.flow import InboundFlow
from stasis_app.inbound.loading import database_loader
from stasis_app.live_statistics import DEFAULT_PUSH_SECONDS, STATS_SNAPSHOT, LiveStatistics, StatisticsTee
from stasis_app.outbound_calls import OutboundCalls
from stasis_app.phones.incall import InCallService
from stasis_app.phones.internal_flow import InternalFlow
from stasis_app.phones.services import PhoneServices, PhoneSettings
from stasis_app.phones.settings_store import PhoneSettingsStore
from stasis_app.phones.voicemail import VOICEMAIL_KIND, Voicemail, VoicemailSettings
from stasis_app.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_JOURNAL_DIR = "var/journal"


@dataclass(frozen=True)
class ServiceSettings:
    """What the process needs beyond ARI: the database, the bus and the record journal."""

    database_url: str = ""
    redis_url: str = ""
    journal_dir: str = DEFAULT_JOURNAL_DIR
    statistics: StatisticsSettings = field(default_factory=StatisticsSettings)
    #: Seconds between ``campaign.stats`` pushes (0: only on request).
    stats_push_seconds: float = DEFAULT_PUSH_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        env = os.environ if environ is None else environ
        database_url = env.get("OC_DATABASE_URL", "").strip() or (
            database_url_from_env() if environ is None else ""
        )
        return cls(
            database_url=database_url,
            redis_url=env.get("OC_REDIS_URL", "").strip(),
            journal_dir=env.get("OC_JOURNAL_DIR", "").strip() or DEFAULT_JOURNAL_DIR,
            statistics=StatisticsSettings.from_env(env),
            stats_push_seconds=float(env.get("OC_STATS_PUSH_SECONDS", "") or DEFAULT_PUSH_SECONDS),
        )


@dataclass
class StasisService:
    """The running parts; build it with :func:`build_service`."""

    application: StasisApplication
    flow: InboundFlow
    bus: Bus
    writer: RecordWriter
    owned_bus: bool
    owned_writer: bool
    phones: PhoneServices
    internal: InternalFlow
    started: bool = field(default=False)
    agent_commands: AgentCommands | None = None
    incall: InCallService | None = None
    agent_calls: AgentCalls | None = None
    voicemail: Voicemail | None = None
    statistics: LiveStatistics | None = None
    outbound: OutboundCalls | None = None

    @property
    def connection(self) -> AriConnection:
        return self.application.connection

    async def start(self) -> None:
        """Bus, writer, campaigns, then ARI (calls arrive only once campaigns are known)."""
        if self.owned_bus:
            await self.bus.start()
        if self.owned_writer:
            self.writer.start()
        await self.flow.start()
        await self.internal.start()
        await self.application.start()
        if self.statistics is not None:
            self.statistics.start()
        self.started = True

    async def stop(self) -> None:
        """Phone flows and features first, while ARI is still up (their scripts release what they
        hold with ARI requests as they are cancelled), then ARI (no new calls), then the inbound
        flow, then flush records and close the bus."""
        if self.statistics is not None:
            await self.statistics.stop()
        if self.agent_commands is not None:
            await self.agent_commands.stop()
        if self.agent_calls is not None:
            self.agent_calls.stop()
        if self.outbound is not None:
            await self.outbound.stop()
        await self.internal.stop()
        if self.incall is not None:
            await self.incall.stop()
        await self.application.stop()
        if self.voicemail is not None:
            await self.voicemail.close()
        await self.flow.stop()
        if self.owned_writer:
            self.writer.stop()
        if self.owned_bus:
            await self.bus.close()
        self.started = False

    def status(self) -> dict[str, object]:
        return {
            **self.application.status(),
            "acd": self.flow.snapshot(),
            "records_pending": self.writer.pending(),
        }


def build_service(
    settings: Settings,
    *,
    service_settings: ServiceSettings | None = None,
    bus: Bus | None = None,
    session_factory: sessionmaker[Session] | None = None,
    writer: RecordWriter | None = None,
    clock: Callable[[], float] = time.time,
    holidays: HolidayCalendar | None = None,
    phone_settings: PhoneSettings | None = None,
    voicemail_settings: VoicemailSettings | None = None,
) -> StasisService:
    """Assemble the process; ``bus``, ``session_factory`` and ``writer`` may be shared with others."""
    extra = service_settings or ServiceSettings.from_env()
    if session_factory is None:
        session_factory = make_session_factory(make_engine(extra.database_url))
    owned_writer = writer is None
    if writer is None:
        Path(extra.journal_dir).mkdir(parents=True, exist_ok=True)
        writer = RecordWriter(session_factory, extra.journal_dir)
    owned_bus = bus is None
    if bus is None:
        bus = bus_from_url(extra.redis_url or None)
    application = StasisApplication(AriConnection(settings.ari))
    statistics = CallStatistics(extra.statistics, clock=clock)
    flow = InboundFlow(
        application,
        records_sink=StatisticsTee(writer, statistics),
        load_campaigns=database_loader(session_factory),
        bus=bus,
        clock=clock,
        holidays=holidays,
    )
    flow.install()
    statistics.threshold_for = lambda name: c.servicelevel if (c := flow.campaigns.get(name)) else None
    live_statistics = LiveStatistics(
        statistics, bus, known_campaigns=lambda: flow.campaigns, push_seconds=extra.stats_push_seconds
    )
    flow.delegated_commands.add(STATS_SNAPSHOT)
    live_statistics.install()
    agent_commands = AgentCommands(flow, bus, clock)
    agent_commands.install()
    phones = PhoneServices(phone_settings or PhoneSettings(), PhoneSettingsStore(session_factory))
    voicemail = Voicemail(
        application.connection,
        session_factory,
        voicemail_settings or VoicemailSettings.from_env(),
        known_extension=phones.store.known,
    )
    voicemail.install()
    application.register_flow(VOICEMAIL_KIND, voicemail.on_dialplan_call)
    phones.voicemail = voicemail
    flow.voicemail = voicemail
    internal = InternalFlow(application, phones)
    internal.install()
    incall, agent_calls = install_in_call_features(application, phones, flow, bus)
    outbound = OutboundCalls(flow, bus, phones, incall)
    outbound.install()
    agent_commands.outbound = outbound
    return StasisService(
        application,
        flow,
        bus,
        writer,
        owned_bus,
        owned_writer,
        phones,
        internal,
        agent_commands=agent_commands,
        incall=incall,
        agent_calls=agent_calls,
        voicemail=voicemail,
        statistics=live_statistics,
        outbound=outbound,
    )

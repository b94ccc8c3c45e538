"""The embedded default: the whole contact center in one process, with simulated people.

``opencontact run`` starts, on loopback and with nothing else installed or running:

- a SQLite database (``OC_DATABASE_URL``, default ``var/opencontact.db``) with the schema and the
  demo data (campaign "Sales" on DIDs 2000 and 2001, agents agent1..agent3 on phones 1001..1003,
  the administrative user admin/admin);
- the ARI simulator with the project's dialplan, standing in for Asterisk, and the agents' phones
  registered on it;
- the Stasis service (inbound flow, queue_log/CDR writer with its journal) connected to that ARI;
- the admin API, sharing the in-process bus with the Stasis service (its live status board follows
  the Stasis app's events);
- the demo agents logged in with the same bus command the API's AgentLogin sends;
- a stream of simulated customers calling the campaign (see :mod:`stasis_app.demo_callers`).

Each part is the production one; only Asterisk and the people are simulated. Stopping goes in
reverse: callers hang up, the API stops, the Stasis service stops (the writer flushes every
record), then the bus and the simulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import random
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import Engine as DatabaseEngine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from admin_api.app import create_app
from admin_api.config import ApiConfig
from admin_api.realtime import attach_realtime
from admin_api.server import ApiServer
from ari_sim.dialplan import project_dialplan_path
from ari_sim.engine import Engine as SimEngine
from ari_sim.server import build
from ari_sim.settings import SimSettings
from bus import COMMANDS, BusError, InProcessBus, SyncBus, messages
from datastore.database import create_schema, database_url_from_env, make_engine, session_factory
from datastore.demo import (
    DEMO_ADMIN,
    DEMO_AGENT_PASSWORD,
    DEMO_AGENTS,
    DEMO_CAMPAIGN,
    DEMO_DIDS,
    load_demo_data,
)
from stasis_app.demo_callers import DemoCallers, DemoPhones, TrafficSettings
from stasis_app.service import DEFAULT_JOURNAL_DIR, ServiceSettings, StasisService, build_service
from stasis_app.settings import AriSettings, Settings

log = logging.getLogger(__name__)

#: The Stasis application the project's dialplan hands calls to (its OC_APP global).
DIALPLAN_APP = "opencontact"
LOGIN_TIMEOUT = 5.0


@dataclass(frozen=True)
class EmbeddedSettings:
    """Where the embedded parts listen and how much simulated traffic there is."""

    host: str = "127.0.0.1"
    api_port: int = 8080
    ari_port: int = 8088
    #: "" = ``OC_DATABASE_URL`` or the SQLite file under ``var/``.
    database_url: str = ""
    #: "" = ``OC_JOURNAL_DIR`` or ``var/journal``.
    journal_dir: str = ""
    #: Real seconds between simulated callers.
    call_interval: float = 3.0
    callers: bool = True
    #: The simulator's speed of simulated time (1.0 = real time; tests use less).
    time_scale: float = 1.0
    #: Seed of the simulated people's choices (None: different every run).
    seed: int | None = None
    traffic: TrafficSettings = field(default_factory=TrafficSettings)

    def resolved_database_url(self) -> str:
        return self.database_url or database_url_from_env()

    def resolved_journal_dir(self) -> str:
        return self.journal_dir or os.environ.get("OC_JOURNAL_DIR", "").strip() or DEFAULT_JOURNAL_DIR


def prepare_database(url: str) -> tuple[DatabaseEngine, sessionmaker[Session]]:
    """The schema and the demo rows (both idempotent: a restart keeps what the API changed)."""
    engine = make_engine(url)
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        load_demo_data(session)
        session.commit()
    return engine, sessions


class EmbeddedSystem:
    """All parts of the embedded mode; ``await start()``, then ``await stop()``."""

    def __init__(self, settings: EmbeddedSettings | None = None) -> None:
        self.settings = settings or EmbeddedSettings()
        self.database_url = self.settings.resolved_database_url()
        self.rng = random.Random(self.settings.seed)
        self.bus = InProcessBus()
        self.sync_bus = SyncBus(self.bus)
        self.database: DatabaseEngine | None = None
        self.sessions: sessionmaker[Session] | None = None
        self.sim: SimEngine | None = None
        self.sim_settings: SimSettings | None = None
        self.service: StasisService | None = None
        self.api: ApiServer | None = None
        self.phones: DemoPhones | None = None
        self.callers: DemoCallers | None = None
        self.ari_url = ""
        self._sim_runner: web.AppRunner | None = None
        self._bus_started = False
        self._agents_in: list[str] = []

    @property
    def api_url(self) -> str:
        return self.api.url if self.api is not None else ""

    async def start(self) -> None:
        """Start every part; on failure, whatever started is stopped again."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        settings = self.settings
        self.database, self.sessions = await asyncio.to_thread(prepare_database, self.database_url)
        await self.bus.start()
        await asyncio.to_thread(self.sync_bus.start)
        self._bus_started = True
        await self._start_simulator()
        await self._start_service()
        await asyncio.to_thread(self._start_api)
        await self._log_agents_in()
        if settings.callers:
            assert self.sim is not None
            traffic = dataclasses.replace(
                settings.traffic, call_interval=settings.call_interval, dids=DEMO_DIDS
            )
            self.callers = DemoCallers(self.sim, traffic, phones=self.phones, rng=self.rng)
            self.callers.start()

    async def _start_simulator(self) -> None:
        settings = self.settings
        self.sim_settings = SimSettings(
            host=settings.host,
            port=settings.ari_port,
            dialplan_path=str(project_dialplan_path()),
            time_scale=settings.time_scale,
        )
        self.sim, app = build(self.sim_settings)
        self._sim_runner = web.AppRunner(app)
        await self._sim_runner.setup()
        await web.TCPSite(self._sim_runner, settings.host, settings.ari_port).start()
        host, port = self._sim_runner.addresses[0][:2]
        self.ari_url = f"http://{host}:{port}"
        self.phones = DemoPhones(
            self.sim,
            [agent.phone for agent in DEMO_AGENTS],
            answer_after=settings.traffic.answer_after,
            rng=self.rng,
        )
        await self.phones.register()

    async def _start_service(self) -> None:
        assert self.sim_settings is not None and self.sessions is not None
        ari = AriSettings(
            url=self.ari_url,
            username=self.sim_settings.username,
            password=self.sim_settings.password,
            app=DIALPLAN_APP,
        )
        journal_dir = self.settings.resolved_journal_dir()
        self.service = build_service(
            Settings(ari=ari),
            service_settings=ServiceSettings(database_url=self.database_url, journal_dir=journal_dir),
            bus=self.bus,
            session_factory=self.sessions,
        )
        await self.service.start()
        await asyncio.wait_for(self.service.connection.wait_connected(), 10)

    def _start_api(self) -> None:
        config = ApiConfig.from_mapping(
            {
                "database_url": self.database_url,
                "host": self.settings.host,
                "port": self.settings.api_port,
                "secret_key": os.environ.get("OC_SECRET_KEY", ""),
            }
        )
        app = create_app(config, bus=self.sync_bus, sessions=self.sessions)
        # Agents and supervisors get their live events here too (long-polling under waitress).
        attach_realtime(app, bus=self.sync_bus)
        self.api = ApiServer(app, config.host, config.port)
        self.api.start()

    async def _log_agents_in(self) -> None:
        """The demo agents start their shift: the same command the API's AgentLogin sends."""
        for agent in DEMO_AGENTS:
            message = messages.agent_login(agent.username, agent.interface, None)
            try:
                reply = await self.bus.request(COMMANDS, message, LOGIN_TIMEOUT)
            except BusError as exc:
                raise RuntimeError(f"the Stasis app did not answer the login of {agent.username}") from exc
            if not reply.get("ok"):
                raise RuntimeError(f"the Stasis app refused the login of {agent.username}: {reply}")
            log.info("%s logged in on %s (%s)", agent.username, agent.interface, reply.get("state"))
            self._agents_in.append(agent.username)

    async def _log_agents_off(self) -> None:
        """End of the shift: AGENTLOGOFF rows close the agents' sessions in queue_log."""
        for name in self._agents_in:
            message = messages.agent_logoff(name, "", "the demo stopped")
            try:
                await self.bus.request(COMMANDS, message, LOGIN_TIMEOUT)
            except BusError as exc:
                log.warning("%s could not be logged off: %s", name, exc)
        self._agents_in.clear()

    async def stop(self) -> None:
        """Stop in reverse order; safe to call after a partial start and more than once."""
        if self.callers is not None:
            await self.callers.stop()
            self.callers = None
            await self._let_calls_finish()
        if self.api is not None:
            await asyncio.to_thread(self.api.stop)
            self.api = None
        if self._agents_in:
            await self._log_agents_off()
        if self.service is not None:
            await self.service.stop()
            self.service = None
        if self._bus_started:
            await asyncio.to_thread(self.sync_bus.close)
            self._bus_started = False
        if self._sim_runner is not None:
            await self._sim_runner.cleanup()
            self._sim_runner = None
        if self.database is not None:
            self.database.dispose()
            self.database = None

    async def _let_calls_finish(self, within: float = 3.0) -> None:
        """Give the Stasis app a moment to record the calls the callers just ended (ABANDON, CDR)."""
        if self.service is None:
            return
        for _ in range(int(within / 0.05)):
            if not self.service.flow.calls:
                return
            await asyncio.sleep(0.05)
        log.warning("%d calls were still up at stop", len(self.service.flow.calls))

    def banner(self) -> str:
        """What the console shows at start: where everything is and how to log in."""
        api = self.api_url
        sim = self.sim_settings or SimSettings()
        admin_user, admin_password = DEMO_ADMIN
        agents = ", ".join(f"{a.username} (phone {a.phone})" for a in DEMO_AGENTS)
        callers = (
            f"a simulated caller about every {self.settings.call_interval:g} s"
            if self.settings.callers
            else "no simulated callers (--no-callers)"
        )
        return "\n".join(
            [
                "OpenContact is running (embedded demo).",
                f"  Admin API:      {api}/api/v1",
                f"  Live status:    {api}/api/v1/status",
                f"  Seed API:       {api}/Integra/resources/",
                f"  Health:         {api}/health",
                f"  ARI simulator:  {self.ari_url}/ari  (user {sim.username}, password {sim.password})",
                f"  Database:       {_safe_url(self.database_url)}",
                f"  Demo login:     {admin_user} / {admin_password}  "
                f"(agents log in with password {DEMO_AGENT_PASSWORD})",
                f"  Campaign {DEMO_CAMPAIGN} on DIDs {' and '.join(DEMO_DIDS)}; agents {agents}; {callers}.",
                "  Watch it:",
                f"    TOKEN=$(curl -s -d user={admin_user} -d password={admin_password} "
                f"{api}/Integra/resources/auth/getUserToken | tr -d '\"')",
                f'    curl -s -H "Authorization: Basic $TOKEN" {api}/api/v1/status',
                "  Ctrl-C stops it.",
            ]
        )


def _safe_url(url: str) -> str:
    """The database URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


async def run_embedded(settings: EmbeddedSettings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (the command line sets it on Ctrl-C)."""
    system = EmbeddedSystem(settings)
    await system.start()
    try:
        print(system.banner(), flush=True)
        await stop.wait()
    finally:
        await system.stop()

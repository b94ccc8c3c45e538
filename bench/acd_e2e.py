"""End-to-end inbound routing on the simulator: routed calls per second, ring latency, ARI and CPU cost.

Three processes, so the CPU of each side can be told apart:

- the simulator (``opencontact-ari-sim`` or ``python -m ari_sim.cli``) with the project's dialplan,
  plays Asterisk, the trunk and the agents' phones (they answer after ``--answer-after`` simulated
  seconds);
- a caller driver (this file with ``--drive``) places ``--calls`` calls at ``--rate`` per second
  through the simulator's control side (``/_sim/calls``) and hangs each caller up ``--talk`` seconds
  after it was put through to an agent;
- this process runs the Stasis service exactly as production builds it (``build_service``: ARI
  connection, inbound flow with the ACD core, agent commands, in-call features, record writer with
  its journal and a database), with an in-process bus. ``--agents`` agents, spread over
  ``--campaigns`` campaigns, log in through the bus with registered simulated phones.

Timing comes from inside the Stasis process: ENTERQUEUE and CONNECT when the flow writes those
queue_log rows, the agent's phone ringing when the ``Dial`` event with ``RINGING`` for the agent leg
is handled. ARI requests are counted by the connection layer.

    python bench/acd_e2e.py                                  # 500 agents, 2,000 calls at 150/s
    python bench/acd_e2e.py --rate 250 --campaigns 20 --strategy leastrecent
    python bench/acd_e2e.py --database mysql+pymysql://root@127.0.0.1:3306   # a scratch MariaDB database
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import gc
import json
import logging
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import aiohttp
from sim_process import (
    PASSWORD,
    USERNAME,
    SimulatorProcess,
    child_env,
    cpu_seconds_of,
    own_cpu_seconds,
    simulator_process,
)
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from bus import InProcessBus
from bus import messages as bus_messages
from datastore.database import create_schema, make_engine, session_factory
from datastore.models import Campaign, CampaignMember
from datastore.record_writer import RecordWriter
from stasis_app.service import ServiceSettings, StasisService, build_service
from stasis_app.settings import AriSettings, Settings

THIS_FILE = Path(__file__).resolve()
REPO_ROOT = THIS_FILE.parents[1]
APP = "opencontact"
FIRST_PHONE = 20000
FIRST_DID = 880000


# Shared helpers ------------------------------------------------------------------------------------


def basic_auth() -> dict[str, str]:
    token = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


# The caller driver (its own process) ----------------------------------------------------------------


@dataclass
class DriverTally:
    placed: int = 0
    place_errors: int = 0
    hangups: int = 0
    hangup_errors: int = 0
    late_max: float = 0.0
    placing_seconds: float = 0.0


async def drive(url: str, calls: int, rate: float, talk: float, dids: list[str]) -> None:
    """Place the calls on schedule; hang callers up ``talk`` s after the Stasis side says CONNECT.

    The Stasis side writes one caller channel id per line on stdin; EOF ends the run. The tally is
    printed as one JSON line on stdout.
    """
    loop = asyncio.get_running_loop()
    tally = DriverTally()
    cpu_before = own_cpu_seconds()
    pending: set[asyncio.Task[None]] = set()
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(headers=basic_auth(), connector=connector) as session:

        async def place(number: int) -> None:
            body = {"to": dids[number % len(dids)], "caller_number": f"555{number:07d}"}
            try:
                async with session.post(f"{url}/_sim/calls", json=body) as resp:
                    await resp.read()
                    if resp.status >= 300:
                        tally.place_errors += 1
                        return
            except aiohttp.ClientError:
                tally.place_errors += 1
                return
            tally.placed += 1

        async def hang_up(channel_id: str) -> None:
            await asyncio.sleep(talk)
            try:
                async with session.post(f"{url}/_sim/channels/{channel_id}/hangup", json={}) as resp:
                    await resp.read()
                    # 404: the call already ended (the agent side hung up first).
                    if resp.status >= 300 and resp.status != 404:
                        tally.hangup_errors += 1
                        return
            except aiohttp.ClientError:
                tally.hangup_errors += 1
                return
            tally.hangups += 1

        def spawn(work: Any) -> None:
            task = loop.create_task(work)
            pending.add(task)
            task.add_done_callback(pending.discard)

        async def read_connects() -> None:
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
            while line := await reader.readline():
                channel_id = line.decode().strip()
                if channel_id:
                    spawn(hang_up(channel_id))

        reading = loop.create_task(read_connects())
        started = loop.time()
        for number in range(calls):
            due = started + (number / rate if rate > 0 else 0.0)
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                tally.late_max = max(tally.late_max, -delay)
            spawn(place(number))
        tally.placing_seconds = loop.time() - started
        await reading
        while pending:
            await asyncio.gather(*list(pending))
    result = {**tally.__dict__, "cpu": own_cpu_seconds() - cpu_before}
    print(json.dumps(result), flush=True)


# The simulator process ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def simulator(time_scale: float, profile: str | None = None) -> AsyncIterator[SimulatorProcess]:
    extra = [
        "--dialplan",
        str(REPO_ROOT / "dialplan" / "extensions.conf"),
        # Not a line of access log per request: this measures the simulator, not its logging.
        "--log-level",
        "WARNING",
    ]
    async with simulator_process(time_scale, extra, profile) as sim:
        yield sim


async def control(session: aiohttp.ClientSession, url: str, method: str, path: str, body: Any = None) -> Any:
    async with session.request(method, f"{url}/_sim{path}", json=body) as resp:
        text = await resp.text()
        if resp.status >= 300:
            raise RuntimeError(f"{method} /_sim{path}: {resp.status} {text}")
        return json.loads(text) if text else None


# The Stasis side ------------------------------------------------------------------------------------


@dataclass
class Timings:
    """What the Stasis process saw, by caller channel id (perf_counter seconds)."""

    entered: dict[str, float] = field(default_factory=dict)
    rang: dict[str, float] = field(default_factory=dict)
    connected: dict[str, float] = field(default_factory=dict)
    events: Counter[str] = field(default_factory=Counter)
    cdrs: int = 0


class GcPauses:
    """Time spent in the garbage collector, per generation (a full collection stops everything)."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = perf_counter()
        else:
            self.pauses[info["generation"]].append(perf_counter() - self._started)

    def start(self) -> None:
        gc.callbacks.append(self)

    def stop(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)

    def text(self) -> str:
        return "   ".join(
            f"gen{g} {len(p)}x max {max(p, default=0.0) * 1000:.1f} ms" for g, p in self.pauses.items()
        )


class LoopLag:
    """How late a 10 ms timer fires on this event loop: a busy loop delays every call's next step."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.lags: list[float] = []
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._due = loop.time() + self.period
        self._handle = loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.lags.append(now - self._due)
        self._due = now + self.period
        self._handle = loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()


@dataclass
class Measured:
    """The run's figures besides the per-call timings."""

    elapsed: float = 0.0
    own_cpu: float = 0.0
    sim_cpu: float = 0.0
    requests: int = 0
    events: int = 0
    lags: list[float] = field(default_factory=list)
    strays: dict[str, int] = field(default_factory=dict)
    tally: dict[str, Any] = field(default_factory=dict)
    timed_out: bool = False
    gc: str = ""


@dataclass
class Options:
    agents: int
    calls: int
    rate: float
    campaigns: int
    strategy: str
    answer_after: float
    talk: float
    time_scale: float
    database: str
    limit: float
    log_level: str
    profile: str | None
    profile_sim: str | None
    gc_freeze: bool = False


class TimedWriter(RecordWriter):
    """The production writer, noting ENTERQUEUE/CONNECT times and CDRs as the flow writes them."""

    def __init__(self, timings: Timings, ended: asyncio.Event, calls: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timings = timings
        self.ended = ended
        self.calls = calls
        #: Told each CONNECT's caller channel id (the driver hangs the caller up later).
        self.on_connect: Callable[[str], None] = lambda _callid: None

    def queue_log(
        self,
        time: datetime,
        callid: str,
        queuename: str,
        agent: str,
        event: str,
        data1: str = "",
        data2: str = "",
        data3: str = "",
        data4: str = "",
        data5: str = "",
        *,
        origid: int | None = None,
    ) -> str:
        now = perf_counter()
        self.timings.events[event] += 1
        if event == "ENTERQUEUE":
            self.timings.entered.setdefault(callid, now)
        elif event == "CONNECT":
            self.timings.connected[callid] = now
            self.on_connect(callid)
        return super().queue_log(
            time, callid, queuename, agent, event, data1, data2, data3, data4, data5, origid=origid
        )

    def cdr(self, **cols: Any) -> str:
        self.timings.cdrs += 1
        if self.timings.cdrs >= self.calls:
            self.ended.set()
        return super().cdr(**cols)


def database_for(option: str, workdir: Path) -> tuple[str, URL | None]:
    """The database URL to use, and the scratch database to drop afterwards (if one was made).

    ``sqlite``: a file in the run's directory. A MySQL/MariaDB server URL without a database name:
    a fresh ``oc_bench_<hex>`` database on it, dropped at the end. Any other URL is used as given.
    """
    if option == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    url = make_url(option)
    if url.get_backend_name() not in ("mysql", "mariadb") or url.database:
        return option, None
    scratch = url.set(database=f"oc_bench_{uuid.uuid4().hex[:12]}")
    server = create_engine(url)
    with server.begin() as connection:
        connection.execute(text(f"CREATE DATABASE `{scratch.database}` CHARACTER SET utf8mb4"))
    server.dispose()
    return scratch.render_as_string(hide_password=False), scratch


def drop_scratch_database(scratch: URL) -> None:
    server = create_engine(scratch.set(database=None))
    with server.begin() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS `{scratch.database}`"))
    server.dispose()


def seed_database(factory: sessionmaker[Session], opts: Options) -> list[str]:
    """Campaign rows (one DID each) and their members; returns the DIDs."""
    dids = []
    with factory() as session:
        for c in range(opts.campaigns):
            did = str(FIRST_DID + c)
            dids.append(did)
            session.add(
                Campaign(
                    name=f"bench{c:03d}",
                    did=did,
                    direction="inbound",
                    strategy=opts.strategy,
                    timeout=15,
                    retry=0,
                    wrapuptime=0,
                    schedule="sun-sat;00:00-23:59",
                    musiconhold="default",
                )
            )
        for n in range(opts.agents):
            session.add(
                CampaignMember(
                    queue_name=f"bench{n % opts.campaigns:03d}",
                    interface=f"PJSIP/{FIRST_PHONE + n}",
                    membername=f"agent{n:05d}",
                )
            )
        session.commit()
    return dids


async def run(opts: Options) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="acd-e2e-"))
    log_file = workdir / "stasis.log"
    logging.basicConfig(
        filename=log_file,
        level=opts.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    database_url, scratch = database_for(opts.database, workdir)
    engine = make_engine(database_url)
    create_schema(engine)
    factory = session_factory(engine)
    dids = seed_database(factory, opts)

    timings = Timings()
    ended = asyncio.Event()
    driver: asyncio.subprocess.Process | None = None

    def tell_driver(callid: str) -> None:
        if driver is not None and driver.stdin is not None:
            driver.stdin.write(f"{callid}\n".encode())

    writer = TimedWriter(timings, ended, opts.calls, factory, workdir / "journal")
    writer.on_connect = tell_driver

    async with (
        simulator(opts.time_scale, opts.profile_sim) as sim,
        aiohttp.ClientSession(headers=basic_auth()) as session,
    ):
        behaviour = {"mode": "answer", "answer_after": opts.answer_after}
        for n in range(opts.agents):
            await control(session, sim.url, "POST", f"/phones/PJSIP/{FIRST_PHONE + n}", behaviour)

        bus = InProcessBus()
        await bus.start()
        settings = Settings(ari=AriSettings(url=sim.url, username=USERNAME, password=PASSWORD, app=APP))
        service = build_service(
            settings,
            service_settings=ServiceSettings(database_url=database_url, journal_dir=str(workdir)),
            bus=bus,
            session_factory=factory,
            writer=writer,
        )
        flow = service.flow
        conn = service.connection

        def on_dial(event: dict[str, Any], _conn: Any) -> None:
            if event.get("dialstatus") != "RINGING":
                return
            call = flow.legs.get(str((event.get("peer") or {}).get("id")))
            if call is not None:
                timings.rang.setdefault(call.callid, time.perf_counter())

        conn.on("Dial", on_dial)
        writer.start()
        await service.start()
        async with asyncio.timeout(20):
            await conn.wait_connected()
        for n in range(opts.agents):
            reply = await bus.request(
                bus_messages.COMMANDS,
                bus_messages.agent_login(f"agent{n:05d}", f"PJSIP/{FIRST_PHONE + n}"),
                10,
            )
            if not reply.get("ok"):
                raise RuntimeError(f"login of agent{n:05d} failed: {reply}")

        driver = await asyncio.create_subprocess_exec(
            sys.executable,
            str(THIS_FILE),
            "--drive",
            sim.url,
            "--calls",
            str(opts.calls),
            "--rate",
            str(opts.rate),
            "--talk",
            str(opts.talk),
            "--dids",
            ",".join(dids),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=child_env(),
        )
        if opts.gc_freeze:
            # What a long-running process can do once it is set up: leave everything made so far
            # (ARI description, models, agents) out of later collections, which then stay short.
            gc.collect()
            gc.freeze()
        profiler = cProfile.Profile() if opts.profile else None
        timings.events.clear()
        lag = LoopLag()
        gc_pauses = GcPauses()
        gc_pauses.start()
        requests_before = conn.status().requests
        events_before = conn.events_received
        sim_cpu_before = cpu_seconds_of(sim.process.pid) or 0.0
        own_cpu_before = own_cpu_seconds()
        started = time.perf_counter()
        lag.start()
        if profiler is not None:
            profiler.enable()
        measured = Measured()
        try:
            async with asyncio.timeout(opts.limit):
                await ended.wait()
        except TimeoutError:
            measured.timed_out = True
        if profiler is not None:
            profiler.disable()
        lag.stop()
        gc_pauses.stop()
        measured.gc = gc_pauses.text()
        measured.elapsed = time.perf_counter() - started
        measured.own_cpu = own_cpu_seconds() - own_cpu_before
        measured.sim_cpu = (cpu_seconds_of(sim.process.pid) or 0.0) - sim_cpu_before
        measured.lags = lag.lags

        assert driver.stdin is not None
        driver.stdin.close()
        try:
            async with asyncio.timeout(30):
                out, _ = await driver.communicate()
            measured.tally = json.loads(out.decode().strip().splitlines()[-1])
        except (TimeoutError, ValueError, IndexError):
            driver.kill()

        measured.strays = await settle_and_count_strays(session, sim.url, service, within=10.0)
        # Counted once everything settled, so the last calls' hang-ups are in.
        measured.requests = conn.status().requests - requests_before
        measured.events = conn.events_received - events_before
        status = conn.status()
        await service.stop()
        writer.stop()
        await bus.close()
    engine.dispose()
    if scratch is not None:
        drop_scratch_database(scratch)
    if profiler is not None and opts.profile:
        profiler.dump_stats(opts.profile)

    problems = report(opts, timings, measured)
    problems += 0 if status.handler_errors == 0 else 1
    warnings = sum(
        1 for line in log_file.read_text().splitlines() if " WARNING " in line or " ERROR " in line
    )
    print(f"handler errors               {status.handler_errors}")
    if problems == 0:
        print(f"warnings/errors in the log   {warnings}")
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    print(f"warnings/errors in the log   {warnings}   (log, journal and database kept in {workdir})")
    return 1


async def settle_and_count_strays(
    session: aiohttp.ClientSession, url: str, service: StasisService, within: float
) -> dict[str, int]:
    """Wait for the last hang-ups to play out; then count what is left anywhere (should be 0)."""
    deadline = time.monotonic() + within
    while True:
        snapshot = await control(session, url, "GET", "/snapshot")
        flow = service.flow
        now = flow.clock()
        not_free = sum(1 for a in flow.agents.agents.values() if a.state(now).value != "free")
        strays = {
            "sim channels": int(snapshot["channels"]),
            "sim bridges": int(snapshot["bridges"]),
            "flow calls": len(flow.calls),
            "flow legs": len(flow.legs),
            "agents not free": not_free,
            "waiting callers": len(flow.queues),
        }
        if not any(strays.values()) or time.monotonic() >= deadline:
            return strays
        await asyncio.sleep(0.1)


def report(opts: Options, timings: Timings, measured: Measured) -> int:
    """Print the table; answers how many problems the run had (0: every call routed and ended)."""
    tally, own_cpu, sim_cpu = measured.tally, measured.own_cpu, measured.sim_cpu
    strays, elapsed = measured.strays, measured.elapsed
    connects = len(timings.connected)
    ring_waits = [timings.rang[c] - timings.entered[c] for c in timings.rang if c in timings.entered]
    holds = [timings.connected[c] - timings.entered[c] for c in timings.connected if c in timings.entered]
    first = min(timings.entered.values(), default=0.0)
    last = max(timings.connected.values(), default=0.0)
    routed_rate = connects / (last - first) if connects > 1 and last > first else 0.0
    per_thousand = 1000 / max(connects, 1)
    placing = float(tally.get("placing_seconds", 0.0)) or float("nan")
    database_kind = "SQLite" if opts.database == "sqlite" else make_url(opts.database).get_backend_name()
    print(
        f"{opts.agents} agents, {opts.campaigns} campaign(s), {opts.strategy}; {opts.calls} calls offered at "
        f"{opts.rate:g}/s; phones answer after {opts.answer_after:g} sim-s x {opts.time_scale:g}, talk "
        f"{opts.talk:g} s; database {database_kind}"
    )
    if measured.timed_out:
        print(f"STOPPED at the {opts.limit:.0f} s limit")
    rows = [
        ("calls placed / connected", f"{tally.get('placed', '?')} / {connects}"),
        ("offered rate (achieved)", f"{tally.get('placed', 0) / placing:.1f} calls/s"),
        ("routed calls per second", f"{routed_rate:.1f}  (CONNECTs / first ENTERQUEUE..last CONNECT)"),
        (
            "ENTERQUEUE -> agent ringing",
            f"p50 {statistics.median(ring_waits) * 1000 if ring_waits else float('nan'):.1f} ms   "
            f"p99 {percentile(ring_waits, 0.99) * 1000:.1f} ms   "
            f"max {max(ring_waits, default=0) * 1000:.1f} ms",
        ),
        (
            "ENTERQUEUE -> CONNECT",
            f"p50 {statistics.median(holds) * 1000 if holds else float('nan'):.1f} ms   "
            f"p99 {percentile(holds, 0.99) * 1000:.1f} ms",
        ),
        ("ARI requests per routed call", f"{measured.requests / max(connects, 1):.2f}"),
        ("ARI events per routed call", f"{measured.events / max(connects, 1):.1f}"),
        ("CPU s / 1000 calls, Stasis", f"{own_cpu * per_thousand:.2f}  ({own_cpu:.1f} s in {elapsed:.1f} s)"),
        ("CPU s / 1000 calls, simulator", f"{sim_cpu * per_thousand:.2f}  ({sim_cpu:.1f} s)"),
        ("CPU s / 1000 calls, callers", f"{float(tally.get('cpu', 0.0)) * per_thousand:.2f}"),
        (
            "Stasis CPU alone would allow",
            f"{connects / own_cpu if own_cpu > 0 else float('nan'):.0f} calls/s per core",
        ),
        (
            "Stasis event loop lag",
            f"p50 {percentile(measured.lags, 0.5) * 1000:.1f} ms   "
            f"p99 {percentile(measured.lags, 0.99) * 1000:.1f} ms   "
            f"max {max(measured.lags, default=0.0) * 1000:.1f} ms",
        ),
        ("Stasis garbage collections", measured.gc),
        ("queue_log events", ", ".join(f"{k} {v}" for k, v in sorted(timings.events.items()))),
        ("CDRs", str(timings.cdrs)),
        ("strays after the run", ", ".join(f"{k} {v}" for k, v in strays.items())),
        (
            "driver errors",
            f"placing {tally.get('place_errors', '?')}, hanging up {tally.get('hangup_errors', '?')}, "
            f"max lateness {float(tally.get('late_max', 0.0)) * 1000:.0f} ms",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    problems = 0
    if measured.timed_out or connects != opts.calls or timings.cdrs != opts.calls:
        problems += 1
    if any(strays.values()) or tally.get("place_errors") or tally.get("hangup_errors"):
        problems += 1
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=150.0, help="calls per second offered (0: all at once)")
    parser.add_argument("--campaigns", type=int, default=1)
    parser.add_argument("--strategy", default="rrmemory")
    parser.add_argument("--answer-after", type=float, default=1.0, help="simulated seconds of ringing")
    parser.add_argument(
        "--talk", type=float, default=1.0, help="seconds from CONNECT to the caller's hang-up"
    )
    parser.add_argument("--time-scale", type=float, default=0.05, help="simulator's time scale")
    parser.add_argument(
        "--database",
        default="sqlite",
        help="'sqlite' (a temporary file), a MySQL/MariaDB server URL (a scratch database is made "
        "and dropped), or a database URL",
    )
    parser.add_argument("--limit", type=float, default=120.0, help="stop after this many seconds")
    parser.add_argument("--log-level", default="INFO", help="the Stasis side's logging level (to a file)")
    parser.add_argument("--profile", default=None, help="write a cProfile of the Stasis side here")
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() the Stasis side once it is set up"
    )
    parser.add_argument("--profile-sim", default=None, help="write a cProfile of the simulator here")
    parser.add_argument("--drive", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dids", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        asyncio.run(drive(args.drive, args.calls, args.rate, args.talk, args.dids.split(",")))
        return
    if args.agents < 1 or args.calls < 1 or args.campaigns < 1 or args.campaigns > args.agents:
        parser.error("need --agents >= --campaigns >= 1 and --calls >= 1")
    opts = Options(
        agents=args.agents,
        calls=args.calls,
        rate=args.rate,
        campaigns=args.campaigns,
        strategy=args.strategy,
        answer_after=args.answer_after,
        talk=args.talk,
        time_scale=args.time_scale,
        database=args.database,
        limit=args.limit,
        log_level=args.log_level,
        profile=args.profile,
        profile_sim=args.profile_sim,
        gc_freeze=args.gc_freeze,
    )
    sys.exit(asyncio.run(run(opts)))


if __name__ == "__main__":
    main()

"""`opencontact`: the project's console command.

``opencontact run`` is the embedded default: the ARI simulator (with the project's dialplan and
three demo phones) and the Stasis application in one process, on loopback. ``opencontact stasis``
runs only the Stasis application against the ARI its settings name (a real Asterisk in production).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence

from aiohttp import web

from ari_sim.dialplan import project_dialplan_path
from ari_sim.engine import PhoneBehaviour
from ari_sim.server import build
from ari_sim.settings import SimSettings
from stasis_app.application import StasisApplication
from stasis_app.service import build_service
from stasis_app.settings import AriSettings, Settings

log = logging.getLogger("opencontact")

DEMO_PHONES = ("1001", "1002", "1003")


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_stasis(settings: Settings) -> None:
    service = build_service(settings)
    await service.start()
    log.info("Stasis app %r connecting to %s", settings.ari.app, settings.ari.url)
    try:
        await _wait_for_signal()
    finally:
        await service.stop()


async def run_embedded(host: str, port: int) -> None:
    sim_settings = SimSettings(host=host, port=port, dialplan_path=str(project_dialplan_path()))
    engine, sim_app = build(sim_settings)
    runner = web.AppRunner(sim_app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    for phone in DEMO_PHONES:
        await engine.register_phone(phone, PhoneBehaviour(mode="answer", answer_after=2.0))
    url = f"http://{host}:{port}"
    ari = AriSettings(url=url, username=sim_settings.username, password=sim_settings.password)
    application = StasisApplication.from_settings(Settings(ari=ari))
    await application.start()
    print(
        f"OpenContact is running. ARI simulator: {url}/ari (user {sim_settings.username}); "
        f"demo phones: {', '.join('PJSIP/' + p for p in DEMO_PHONES)}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        await _wait_for_signal()
    finally:
        await application.stop()
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="opencontact", description="OpenContact contact center")
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="everything on embedded defaults, with the ARI simulator")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8088)
    commands.add_parser("stasis", help="the Stasis app alone, against the ARI named by OC_ARI_* settings")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        asyncio.run(run_embedded(args.host, args.port))
    else:
        asyncio.run(run_stasis(Settings.from_env()))


if __name__ == "__main__":
    main()

"""`opencontact`: the project's console command.

``opencontact run`` is the embedded default: the admin API, the Stasis application and the ARI
simulator in one process on loopback, over SQLite with demo data and simulated callers (see
:mod:`stasis_app.embedded`). ``opencontact stasis`` runs only the Stasis application against the ARI
its settings name (a real Asterisk in production).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence

from stasis_app.embedded import EmbeddedSettings, run_embedded
from stasis_app.service import build_service
from stasis_app.settings import Settings

log = logging.getLogger("opencontact")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await stop.wait()


async def run_stasis(settings: Settings) -> None:
    service = build_service(settings)
    await service.start()
    # Everything built so far lives as long as the process: moving it out of the collector's reach
    # keeps full collections short, which is what sets the tail of the time to ring an agent.
    gc.collect()
    gc.freeze()
    log.info("Stasis app %r connecting to %s", settings.ari.app, settings.ari.url)
    try:
        await _wait_for_signal()
    finally:
        await service.stop()


async def run_demo(settings: EmbeddedSettings) -> None:
    """The embedded mode until Ctrl-C (or SIGTERM)."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    await run_embedded(settings, stop)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="opencontact", description="OpenContact contact center")
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="the whole contact center on embedded defaults: SQLite, the ARI simulator, demo callers"
    )
    run.add_argument("--host", default="127.0.0.1", help="address every part listens on")
    run.add_argument("--api-port", type=int, default=8080, help="admin API port (0: any free port)")
    run.add_argument("--ari-port", type=int, default=8088, help="ARI simulator port (0: any free port)")
    run.add_argument("--call-interval", type=_positive, default=3.0, help="seconds between simulated callers")
    run.add_argument("--no-callers", action="store_true", help="no simulated callers")
    run.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="speed of simulated time (ringing, audio, talking); 0.1 runs ten times faster",
    )
    run.add_argument("--seed", type=int, default=None, help="seed of the simulated callers' choices")
    commands.add_parser("stasis", help="the Stasis app alone, against the ARI named by OC_ARI_* settings")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        # One access-log line per ARI request would drown what the demo has to say.
        logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, logging.root.level))
        settings = EmbeddedSettings(
            host=args.host,
            api_port=args.api_port,
            ari_port=args.ari_port,
            call_interval=args.call_interval,
            callers=not args.no_callers,
            time_scale=args.time_scale,
            seed=args.seed,
        )
        asyncio.run(run_demo(settings))
    else:
        asyncio.run(run_stasis(Settings.from_env()))


if __name__ == "__main__":
    main()

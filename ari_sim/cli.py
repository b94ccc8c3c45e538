"""`opencontact-ari-sim`: run the ARI simulator on loopback."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from aiohttp import web

from ari_sim.server import build
from ari_sim.settings import SimSettings


def build_parser() -> argparse.ArgumentParser:
    defaults = SimSettings()
    parser = argparse.ArgumentParser(prog="opencontact-ari-sim", description="Asterisk ARI simulator")
    parser.add_argument("--host", default=defaults.host)
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--username", default=defaults.username)
    parser.add_argument("--password", default=defaults.password)
    parser.add_argument("--dialplan", default=None, help="extensions.conf to run calls through")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplier for simulated durations")
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="INFO logs every HTTP request; WARNING keeps load tests from measuring the logging",
    )
    return parser


def settings_from(args: argparse.Namespace) -> SimSettings:
    return SimSettings(
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        dialplan_path=args.dialplan,
        time_scale=args.time_scale,
    )


def parse_args(argv: Sequence[str] | None = None) -> SimSettings:
    return settings_from(build_parser().parse_args(argv))


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=str(args.log_level).upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = settings_from(args)
    _engine, app = build(settings)
    web.run_app(app, host=settings.host, port=settings.port)


if __name__ == "__main__":
    main()

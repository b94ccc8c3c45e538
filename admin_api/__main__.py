"""`python -m admin_api`: serve the admin API on OC_API_HOST:OC_API_PORT with waitress.

Run this way the API is its own process, so commands reach the Stasis app over Redis (OC_REDIS_URL);
without it the API serves configuration only and answers "0" to commands needing the Stasis app.
"""

from __future__ import annotations

import argparse
import logging
import os

from admin_api.app import create_app
from admin_api.config import ApiConfig
from admin_api.server import ApiServer
from bus import SyncBus, bus_from_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m admin_api", description=__doc__)
    parser.add_argument("--host", help="address to listen on (default OC_API_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default OC_API_PORT or 8080)")
    parser.add_argument("--create-schema", action="store_true", help="create missing tables first")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("OC_LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s"
    )

    config = ApiConfig.from_env()
    overrides = {
        "host": args.host or config.host,
        "port": args.port if args.port is not None else config.port,
        "create_schema": args.create_schema,
    }
    config = ApiConfig.from_mapping({**config.__dict__, **overrides})
    sync_bus: SyncBus | None = None
    if config.redis_url:
        sync_bus = SyncBus(bus_from_url(config.redis_url))
        sync_bus.start()
    try:
        app = create_app(config, bus=sync_bus)
        server = ApiServer(app, config.host, config.port)
        print(f"OpenContact admin API on {server.url}", flush=True)
        server.serve_forever()
    finally:
        if sync_bus is not None:
            sync_bus.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

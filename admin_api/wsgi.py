"""The WSGI entry for gunicorn: the admin API with the agent and supervisor portals.

    gunicorn -k gthread --threads 200 -w 2 'admin_api.wsgi:app'

Socket.IO runs in ``threading`` mode, so each open WebSocket holds one worker thread: give
``--threads`` at least the number of clients one worker should hold. With several workers
(``-w``), OC_REDIS_URL is required: it carries the bus to the Stasis app and Socket.IO's message
queue between workers (channel OC_SOCKETIO_CHANNEL, default ``flask-socketio``), and clients must use
the WebSocket transport or a sticky load balancer. Do not use ``--preload``: each worker starts its
own bus thread after the fork.

Other settings are the API's (OC_DATABASE_URL, ...); OC_BUS_NAMESPACE prefixes the bus's channel
names when several deployments share one Redis.
"""

from __future__ import annotations

import atexit
import logging
import os
from collections.abc import Mapping

from flask import Flask

from admin_api.app import create_app
from admin_api.config import ApiConfig
from admin_api.realtime import DEFAULT_CHANNEL, attach_realtime
from bus import SyncBus, bus_from_url


def build_app(environ: Mapping[str, str] | None = None) -> Flask:
    """The API for this process, connected to the bus when OC_REDIS_URL is set."""
    env = os.environ if environ is None else environ
    logging.basicConfig(level=env.get("OC_LOG_LEVEL", "WARNING"), format="%(asctime)s %(name)s %(message)s")
    config = ApiConfig.from_env(env)
    if env.get("OC_API_CREATE_SCHEMA"):
        config = ApiConfig.from_mapping({**config.__dict__, "create_schema": True})
    sync_bus: SyncBus | None = None
    if config.redis_url:
        sync_bus = SyncBus(bus_from_url(config.redis_url, namespace=env.get("OC_BUS_NAMESPACE", "")))
        sync_bus.start()
        atexit.register(sync_bus.close)
    application = create_app(config, bus=sync_bus)
    origins = env.get("OC_SOCKETIO_CORS", "")
    attach_realtime(
        application,
        bus=sync_bus,
        message_queue=config.redis_url,
        channel=env.get("OC_SOCKETIO_CHANNEL", "") or DEFAULT_CHANNEL,
        cors_origins=[o.strip() for o in origins.split(",") if o.strip()] or None,
    )
    return application


app = build_app()

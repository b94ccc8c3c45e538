"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from admin_api.bus_link import CommandBus, EventSource
from admin_api.config import ApiConfig
from admin_api.errors import register_app_errors
from admin_api.integra import blueprint as integra_blueprint
from admin_api.login_guard import LoginGuard
from admin_api.services import EXTENSION_KEY, ApiServices
from admin_api.status import LiveStatus
from admin_api.v1 import blueprint as v1_blueprint
from datastore.database import create_schema, make_engine, session_factory

log = logging.getLogger(__name__)


def create_app(
    config: ApiConfig | Mapping[str, Any],
    *,
    bus: CommandBus | None = None,
    events: EventSource | None = None,
    engine: Engine | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> Flask:
    """Build the admin API.

    `bus` carries commands to the Stasis app and `events` brings its events back (usually the same
    `bus.SyncBus`); when `events` is None but `bus` can subscribe, `bus` is used for both. The embedded
    mode passes the bus it shares with the Stasis app; `serve` builds one from OC_REDIS_URL. Without a
    bus the API still serves configuration, and commands that need the Stasis app answer "0".
    """
    settings = config if isinstance(config, ApiConfig) else ApiConfig.from_mapping(config)
    if sessions is None:
        engine = engine or make_engine(settings.database_url)
        if settings.create_schema:
            create_schema(engine)
        sessions = session_factory(engine)

    app = Flask("admin_api")
    app.config["SECRET_KEY"] = settings.secret_key
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the seed's key order

    status = LiveStatus()
    if events is not None:
        status.attach(events)
    elif isinstance(bus, EventSource):
        status.attach(bus)
    app.extensions[EXTENSION_KEY] = ApiServices(
        config=settings,
        sessions=sessions,
        bus=bus,
        status=status,
        guard=LoginGuard(settings.max_failed_logins, timedelta(seconds=settings.lockout_seconds)),
    )

    app.register_blueprint(integra_blueprint)
    app.register_blueprint(v1_blueprint)
    register_app_errors(app)

    @app.get("/health")
    def health() -> tuple[Response, int]:
        """Unauthenticated liveness/readiness: says only whether the database answers."""
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
        except Exception:  # any database failure means "not ready"
            log.exception("health check: database unreachable")
            return jsonify({"status": "unavailable"}), 503
        return jsonify({"status": "ok"}), 200

    return app

"""Puts the simulator together: events websocket, ARI routes, API documents and the control side."""

from __future__ import annotations

from aiohttp import web

from ari_sim.apidocs import add_apidocs_routes
from ari_sim.control import add_control_routes
from ari_sim.engine import Engine
from ari_sim.handlers import HANDLERS
from ari_sim.router import add_ari_routes
from ari_sim.settings import SimSettings
from ari_sim.websocket import add_events_route


def create_app(engine: Engine, settings: SimSettings) -> web.Application:
    app = web.Application()
    # Order matters: the specific routes go before the router's /ari catch-all.
    add_events_route(app, engine)
    add_apidocs_routes(app)
    add_control_routes(app, engine)
    add_ari_routes(app, engine, HANDLERS, settings.username, settings.password)

    async def stop_engine(_app: web.Application) -> None:
        await engine.close()

    app.on_shutdown.append(stop_engine)
    return app


def build(settings: SimSettings) -> tuple[Engine, web.Application]:
    """An engine (with the dialplan loaded when a path is set) and the app serving it."""
    engine = Engine(settings)
    if settings.dialplan_path:
        engine.load_dialplan(settings.dialplan_path)
    return engine, create_app(engine, settings)

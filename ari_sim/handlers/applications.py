"""Handlers for /applications: the registered Stasis applications and their subscriptions."""

from __future__ import annotations

from ari_sim.engine import Engine
from ari_sim.handlers.params import required_list
from ari_sim.types import Params, Reply


def _sources(params: Params) -> list[str]:
    return required_list(params, "eventSource", "Missing parameter eventSource")


async def list_applications(engine: Engine, params: Params) -> Reply:
    return 200, [a.to_json() for a in engine.apps.values() if a.queue is not None]


async def get(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_app(str(params["applicationName"])).to_json()


async def subscribe(engine: Engine, params: Params) -> Reply:
    return 200, engine.app_subscribe(str(params["applicationName"]), _sources(params))


async def unsubscribe(engine: Engine, params: Params) -> Reply:
    return 200, engine.app_unsubscribe(str(params["applicationName"]), _sources(params))


async def filter_events(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_app(str(params["applicationName"])).to_json()


HANDLERS = {
    "applications.list": list_applications,
    "applications.get": get,
    "applications.subscribe": subscribe,
    "applications.unsubscribe": unsubscribe,
    "applications.filter": filter_events,
}

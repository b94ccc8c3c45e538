"""Handlers for /endpoints."""

from __future__ import annotations

from ari_sim.engine import Engine
from ari_sim.errors import AriError
from ari_sim.types import Params, Reply


async def list_endpoints(engine: Engine, params: Params) -> Reply:
    return 200, [e.to_json() for e in engine.endpoints.values()]


async def list_by_tech(engine: Engine, params: Params) -> Reply:
    tech = str(params.get("tech") or "")
    found = [e.to_json() for e in engine.endpoints.values() if e.tech.lower() == tech.lower()]
    if not found:
        raise AriError(404, f"No Endpoints found - invalid tech {tech}")
    return 200, found


async def get(engine: Engine, params: Params) -> Reply:
    key = f"{params.get('tech')}/{params.get('resource')}"
    for ep in engine.endpoints.values():
        if ep.key.lower() == key.lower():
            return 200, ep.to_json()
    raise AriError(404, "Endpoint not found")


HANDLERS = {
    "endpoints.list": list_endpoints,
    "endpoints.listByTech": list_by_tech,
    "endpoints.get": get,
}

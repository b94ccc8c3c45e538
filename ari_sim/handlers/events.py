"""Handlers for /events (the websocket itself is served by ari_sim.websocket)."""

from __future__ import annotations

from ari_sim.engine import Engine, _variables
from ari_sim.errors import AriError
from ari_sim.handlers.params import listed
from ari_sim.types import Params, Reply


async def user_event(engine: Engine, params: Params) -> Reply:
    app = str(params.get("application") or "")
    if not app:
        raise AriError(400, "Missing parameter application")
    engine.user_event(
        app, str(params["eventName"]), listed(params, "source"), _variables(params.get("variables"))
    )
    return 204, None


HANDLERS = {"events.userEvent": user_event}

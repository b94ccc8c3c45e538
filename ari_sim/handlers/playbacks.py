"""Handlers for /playbacks."""

from __future__ import annotations

from ari_sim.engine import Engine
from ari_sim.types import Params, Reply


async def get(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_playback(str(params["playbackId"])).to_json()


async def stop(engine: Engine, params: Params) -> Reply:
    pb = engine.get_playback(str(params["playbackId"]))
    engine._finish_playback(pb, "done")
    return 204, None


async def control(engine: Engine, params: Params) -> Reply:
    pb = engine.get_playback(str(params["playbackId"]))
    engine.control_playback(pb, str(params["operation"]))
    return 204, None


HANDLERS = {"playbacks.get": get, "playbacks.stop": stop, "playbacks.control": control}

"""Handlers for /recordings: live recordings and the stored ones they leave."""

from __future__ import annotations

from ari_sim.engine import Engine
from ari_sim.types import Params, Reply


async def list_stored(engine: Engine, params: Params) -> Reply:
    return 200, [r.to_json() for r in engine.stored_recordings.values()]


async def get_stored(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_stored(str(params["recordingName"])).to_json()


async def delete_stored(engine: Engine, params: Params) -> Reply:
    engine.get_stored(str(params["recordingName"]))
    del engine.stored_recordings[str(params["recordingName"])]
    return 204, None


async def copy_stored(engine: Engine, params: Params) -> Reply:
    copy = engine.copy_stored(str(params["recordingName"]), str(params.get("destinationRecordingName") or ""))
    return 200, copy.to_json()


async def get_live(engine: Engine, params: Params) -> Reply:
    return 200, engine.live_json(engine.get_live(str(params["recordingName"])))


def _operation(name: str) -> object:
    async def run(engine: Engine, params: Params) -> Reply:
        engine.recording_op(str(params["recordingName"]), name)
        return 204, None

    return run


HANDLERS = {
    "recordings.listStored": list_stored,
    "recordings.getStored": get_stored,
    "recordings.deleteStored": delete_stored,
    "recordings.copyStored": copy_stored,
    "recordings.getLive": get_live,
    "recordings.cancel": _operation("cancel"),
    "recordings.stop": _operation("stop"),
    "recordings.pause": _operation("pause"),
    "recordings.unpause": _operation("unpause"),
    "recordings.mute": _operation("mute"),
    "recordings.unmute": _operation("unmute"),
}

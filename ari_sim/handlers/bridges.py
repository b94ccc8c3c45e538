"""Handlers for /bridges: create, membership, media, recording, variables."""

from __future__ import annotations

from ari_sim.engine import Engine, _variables
from ari_sim.errors import AriError
from ari_sim.handlers.params import media, recording_options, required_list, variable_name
from ari_sim.types import Params, Reply

NO_CONTENT: Reply = (204, None)


async def list_bridges(engine: Engine, params: Params) -> Reply:
    return 200, [b.to_json() for b in engine.bridges.values()]


async def create(engine: Engine, params: Params) -> Reply:
    bridge = engine.create_bridge(params.get("bridgeId"), params.get("type"), params.get("name"))
    bridge.variables.update(_variables(params.get("variables")))
    return 200, bridge.to_json()


async def get(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_bridge(params["bridgeId"]).to_json()


async def destroy(engine: Engine, params: Params) -> Reply:
    engine.destroy_bridge(engine.get_bridge(params["bridgeId"]))
    return NO_CONTENT


def _channel_ids(params: Params) -> list[str]:
    return required_list(params, "channel", "Missing parameter channel")


async def add_channel(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    channels = []
    for cid in _channel_ids(params):
        ch = engine.channels.get(cid)
        if ch is None:
            raise AriError(400, "Channel not found")
        if ch.stasis_app is None:
            raise AriError(422, "Channel not in Stasis application")
        if any(r.target_kind == "channel" and r.target_id == cid for r in engine.live_recordings.values()):
            raise AriError(409, f"Channel {cid} currently recording")
        channels.append(ch)
    absorb = params.get("absorbDTMF") is True
    for ch in channels:
        engine.add_to_bridge(bridge, ch, absorb_dtmf=absorb)
    return NO_CONTENT


async def remove_channel(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    channels = []
    for cid in _channel_ids(params):
        ch = engine.channels.get(cid)
        if ch is None:
            raise AriError(400, "Channel not found")
        if ch.stasis_app is None or ch.bridge_id != bridge.id:
            raise AriError(422, "Channel not in this bridge")
        channels.append(ch)
    for ch in channels:
        engine.remove_from_bridge(bridge, ch)
    return NO_CONTENT


async def start_moh(engine: Engine, params: Params) -> Reply:
    engine.bridge_moh(engine.get_bridge(params["bridgeId"]), params.get("mohClass"))
    return NO_CONTENT


async def stop_moh(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    if bridge.moh_class is None:
        raise AriError(409, "Bridge isn't playing music")
    bridge.moh_class = None
    return NO_CONTENT


async def play(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    pb = engine.play("bridge", bridge.id, media(params), params.get("lang"), params.get("playbackId"))
    return 201, pb.to_json()


async def record(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    rec = engine.record("bridge", bridge.id, **recording_options(params))
    return 201, engine.live_json(rec)


async def get_bridge_var(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    name = variable_name(params)
    if name not in bridge.variables:
        raise AriError(404, "Provided variable was not found")
    return 200, {"value": bridge.variables[name]}


async def set_bridge_var(engine: Engine, params: Params) -> Reply:
    bridge = engine.get_bridge(params["bridgeId"])
    name = variable_name(params)
    bridge.variables[name] = str(params.get("value") or "")
    return NO_CONTENT


HANDLERS = {
    "bridges.list": list_bridges,
    "bridges.create": create,
    "bridges.createWithId": create,
    "bridges.get": get,
    "bridges.destroy": destroy,
    "bridges.addChannel": add_channel,
    "bridges.removeChannel": remove_channel,
    "bridges.startMoh": start_moh,
    "bridges.stopMoh": stop_moh,
    "bridges.play": play,
    "bridges.playWithId": play,
    "bridges.record": record,
    "bridges.getBridgeVar": get_bridge_var,
    "bridges.setBridgeVar": set_bridge_var,
}

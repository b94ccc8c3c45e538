"""Handlers for /asterisk: info, ping and global variables."""

from __future__ import annotations

import platform

from ari_sim.engine import Engine
from ari_sim.events import ari_timestamp
from ari_sim.handlers.params import variable_name
from ari_sim.types import Params, Reply

VERSION = "22.10.1"


async def get_info(engine: Engine, params: Params) -> Reply:
    started = ari_timestamp(engine.started)
    info = {
        "build": {
            "os": platform.system(),
            "kernel": platform.release(),
            "options": "",
            "machine": platform.machine(),
            "date": started,
            "user": "opencontact",
        },
        "system": {"version": VERSION, "entity_id": engine.asterisk_id},
        "config": {
            "name": engine.settings.system_name,
            "default_language": "en",
            "setid": {"user": "", "group": ""},
        },
        "status": {"startup_time": started, "last_reload_time": started},
    }
    only = params.get("only")
    if only:
        wanted = only if isinstance(only, list) else str(only).split(",")
        info = {k: v for k, v in info.items() if k in wanted}
    return 200, info


async def ping(engine: Engine, params: Params) -> Reply:
    return 200, {"asterisk_id": engine.asterisk_id, "ping": "pong", "timestamp": ari_timestamp()}


async def get_global_var(engine: Engine, params: Params) -> Reply:
    return 200, {"value": engine.global_vars.get(variable_name(params), "")}


async def set_global_var(engine: Engine, params: Params) -> Reply:
    engine.set_global(variable_name(params), str(params.get("value") or ""))
    return 204, None


HANDLERS = {
    "asterisk.getInfo": get_info,
    "asterisk.ping": ping,
    "asterisk.getGlobalVar": get_global_var,
    "asterisk.setGlobalVar": set_global_var,
}

"""Handlers for /channels: originate, create/dial, control, media, variables, snoop."""

from __future__ import annotations

from typing import Any

from ari_sim.engine import Engine, _split_args, _variables
from ari_sim.errors import AriError
from ari_sim.events import HANGUP_REASONS
from ari_sim.handlers.params import media, recording_options, required_list
from ari_sim.types import Params, Reply

NO_CONTENT: Reply = (204, None)


async def list_channels(engine: Engine, params: Params) -> Reply:
    return 200, [c.to_json() for c in engine.channels.values()]


async def originate(engine: Engine, params: Params) -> Reply:
    return 200, engine.originate(params).to_json()


async def originate_with_id(engine: Engine, params: Params) -> Reply:
    return 200, engine.originate(params).to_json()


async def create(engine: Engine, params: Params) -> Reply:
    return 200, engine.create(params).to_json()


async def get(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_channel(params["channelId"]).to_json()


async def hangup(engine: Engine, params: Params) -> Reply:
    ch = engine.get_channel(params["channelId"])
    reason, code = params.get("reason"), params.get("reason_code")
    if reason and code:
        raise AriError(400, "The reason and reason_code can't both be specified")
    if code:
        try:
            cause = int(code)
        except ValueError as exc:
            raise AriError(400, "Invalid reason for hangup reason code provided") from exc
    elif reason:
        if reason not in HANGUP_REASONS:
            raise AriError(400, "Invalid reason for hangup reason provided")
        cause = HANGUP_REASONS[reason]
    else:
        cause = ch.hangup_cause if ch.hangup_cause is not None else 16
    engine.hangup(ch, cause, "ari")
    return NO_CONTENT


async def continue_in_dialplan(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    engine.require_usable_state(ch)
    priority = params.get("priority")
    engine.continue_in_dialplan(
        ch, params.get("context"), params.get("extension"), int(priority) if priority else None
    )
    return NO_CONTENT


async def move(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    engine.move(ch, str(params["app"]), _split_args(params.get("appArgs")))
    return NO_CONTENT


async def redirect(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    engine.require_usable_state(ch)
    endpoint = str(params.get("endpoint") or "")
    if not endpoint:
        raise AriError(400, "Required parameter 'endpoint' not provided.")
    tech, sep, resource = endpoint.partition("/")
    if not sep:
        raise AriError(422, f"Endpoint parameter '{endpoint}' does not contain tech/resource")
    if not resource:
        raise AriError(422, f"No resource provided in endpoint parameter '{endpoint}'")
    if tech.lower() != ch.tech.lower():
        raise AriError(422, f"Endpoint technology '{tech}' does not match channel technology '{ch.tech}'")
    engine.hangup(ch, 16, "queued")
    return NO_CONTENT


def _control(engine: Engine, params: Params) -> Any:
    ch = engine.stasis_channel(params["channelId"])
    engine.require_usable_state(ch)
    return ch


async def answer(engine: Engine, params: Params) -> Reply:
    engine.answer(_control(engine, params))
    return NO_CONTENT


async def ring(engine: Engine, params: Params) -> Reply:
    ch = _control(engine, params)
    engine._indicate_ringing(ch)
    return NO_CONTENT


async def ring_stop(engine: Engine, params: Params) -> Reply:
    _control(engine, params).ringing = False
    return NO_CONTENT


async def progress(engine: Engine, params: Params) -> Reply:
    _control(engine, params)
    return NO_CONTENT


async def send_dtmf(engine: Engine, params: Params) -> Reply:
    ch = _control(engine, params)
    dtmf = str(params.get("dtmf") or "")
    if not dtmf:
        raise AriError(400, "DTMF is required")
    engine.send_dtmf(
        ch,
        dtmf,
        before=int(params.get("before") or 0),
        between=int(params.get("between") or 100),
        duration=int(params.get("duration") or 100),
        after=int(params.get("after") or 0),
    )
    return NO_CONTENT


def _direction(params: Params) -> set[str]:
    direction = str(params.get("direction") or "")
    if not direction:
        raise AriError(400, "Direction is required")
    if direction not in ("both", "in", "out"):
        raise AriError(400, "Invalid direction specified")
    return {"in", "out"} if direction == "both" else {direction}


async def mute(engine: Engine, params: Params) -> Reply:
    ch = _control(engine, params)
    ch.muted |= _direction(params)
    return NO_CONTENT


async def unmute(engine: Engine, params: Params) -> Reply:
    ch = _control(engine, params)
    ch.muted -= _direction(params)
    return NO_CONTENT


async def hold(engine: Engine, params: Params) -> Reply:
    engine.hold(_control(engine, params), True)
    return NO_CONTENT


async def unhold(engine: Engine, params: Params) -> Reply:
    engine.hold(_control(engine, params), False)
    return NO_CONTENT


async def start_moh(engine: Engine, params: Params) -> Reply:
    engine.start_moh(_control(engine, params), params.get("mohClass"))
    return NO_CONTENT


async def stop_moh(engine: Engine, params: Params) -> Reply:
    _control(engine, params).moh_class = None
    return NO_CONTENT


async def start_silence(engine: Engine, params: Params) -> Reply:
    engine.start_silence(_control(engine, params))
    return NO_CONTENT


async def stop_silence(engine: Engine, params: Params) -> Reply:
    _control(engine, params).silence = False
    return NO_CONTENT


async def play(engine: Engine, params: Params) -> Reply:
    ch = _control(engine, params)
    pb = engine.play("channel", ch.id, media(params), params.get("lang"), params.get("playbackId"))
    return 201, pb.to_json()


async def play_with_id(engine: Engine, params: Params) -> Reply:
    return await play(engine, params)


async def record(engine: Engine, params: Params) -> Reply:
    ch = engine.get_channel(params["channelId"])
    if ch.stasis_app is None:
        raise AriError(409, "Channel not in Stasis application")
    rec = engine.record("channel", ch.id, **recording_options(params))
    return 201, engine.live_json(rec)


async def get_channel_var(engine: Engine, params: Params) -> Reply:
    if params["channelId"] not in engine.channels:
        raise AriError(404, "Provided channel was not found")
    ch = engine.stasis_channel(params["channelId"])
    return 200, {"value": engine.get_variable(ch, str(params.get("variable") or ""))}


async def set_channel_var(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    engine.set_variable(ch, str(params.get("variable") or ""), str(params.get("value") or ""))
    return NO_CONTENT


async def get_channel_vars(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    items = required_list(params, "variables", "Variable names are required")
    return 200, {"variables": {name: engine.get_variable(ch, name) for name in items}}


async def set_channel_vars(engine: Engine, params: Params) -> Reply:
    ch = engine.stasis_channel(params["channelId"])
    if params.get("variables") is None:
        raise AriError(400, "The 'variables' field is required")
    for key, value in _variables(params.get("variables")).items():
        engine.set_variable(ch, key, value)
    return NO_CONTENT


async def snoop_channel(engine: Engine, params: Params) -> Reply:
    if not params.get("app"):
        raise AriError(400, "Application name is required")
    target = engine.channels.get(params["channelId"])
    if target is None:
        raise AriError(404, "Provided channel was not found")
    snoop = engine.snoop(
        target,
        spy=str(params.get("spy") or "none"),
        whisper=str(params.get("whisper") or "none"),
        app=str(params["app"]),
        args=_split_args(params.get("appArgs")),
        snoop_id=params.get("snoopId"),
    )
    return 200, snoop.to_json()


async def dial(engine: Engine, params: Params) -> Reply:
    timeout = params.get("timeout")
    engine.dial(params["channelId"], params.get("caller"), int(timeout) if timeout else None)
    return NO_CONTENT


HANDLERS = {
    "channels.list": list_channels,
    "channels.originate": originate,
    "channels.originateWithId": originate_with_id,
    "channels.create": create,
    "channels.get": get,
    "channels.hangup": hangup,
    "channels.continueInDialplan": continue_in_dialplan,
    "channels.move": move,
    "channels.redirect": redirect,
    "channels.answer": answer,
    "channels.ring": ring,
    "channels.ringStop": ring_stop,
    "channels.progress": progress,
    "channels.sendDTMF": send_dtmf,
    "channels.mute": mute,
    "channels.unmute": unmute,
    "channels.hold": hold,
    "channels.unhold": unhold,
    "channels.startMoh": start_moh,
    "channels.stopMoh": stop_moh,
    "channels.startSilence": start_silence,
    "channels.stopSilence": stop_silence,
    "channels.play": play,
    "channels.playWithId": play_with_id,
    "channels.record": record,
    "channels.getChannelVar": get_channel_var,
    "channels.setChannelVar": set_channel_var,
    "channels.getChannelVars": get_channel_vars,
    "channels.setChannelVars": set_channel_vars,
    "channels.snoopChannel": snoop_channel,
    "channels.snoopChannelWithId": snoop_channel,
    "channels.dial": dial,
}

"""Calls run through a dialplan: the engine as the interpreter's host."""

from __future__ import annotations

import asyncio

from ari_sim.engine import PhoneBehaviour

from .conftest import Sim

DIALPLAN = """
[from-trunk]
exten => 5551000,1,Answer()
 same => n,Playback(hello-world)
 same => n,Stasis(opencontact,inbound,${EXTEN})
 same => n,Set(AFTER=yes)
 same => n,Hangup()

[from-internal]
exten => 1001,1,Dial(PJSIP/1001,5)
 same => n,Hangup()
"""


async def _gone(sim: Sim, channel_id: str) -> None:
    for _ in range(200):
        if channel_id not in sim.engine.channels:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{channel_id} still up")


async def test_dialplan_answer_playback_stasis_continue(sim: Sim) -> None:
    sim.engine.load_dialplan_text(DIALPLAN)
    events = await sim.events("opencontact")
    cid = await sim.engine.place_call("5551000", "0611223344")
    start = await events.next()
    assert start["type"] == "StasisStart"
    assert start["args"] == ["inbound", "5551000"]
    assert start["channel"]["state"] == "Up"
    assert start["channel"]["dialplan"]["app_name"] == "Stasis"
    assert {"kind": "playback", "media": "sound:hello-world"} in sim.engine.heard(cid)
    await sim.ok("POST", f"/channels/{cid}/continue")
    assert (await events.next())["type"] == "StasisEnd"
    await _gone(sim, cid)


async def test_dialplan_dial_to_phone_and_hangup(sim: Sim) -> None:
    sim.engine.load_dialplan_text(DIALPLAN)
    await sim.engine.register_phone("1001", PhoneBehaviour("answer", answer_after=0.5))
    watch = await sim.events("watch", subscribe_all=True)
    caller = await sim.engine.place_call("1001", "2000", context="from-internal", from_endpoint="PJSIP/2000")
    got = await watch.until_match(lambda e: e.get("dialstatus") == "ANSWER")
    dials = [e for e in got if e["type"] == "Dial"]
    assert [d["dialstatus"] for d in dials] == ["", "RINGING", "ANSWER"]
    assert all(d["caller"]["id"] == caller for d in dials)
    up = await watch.next()
    assert (up["type"], up["channel"]["id"], up["channel"]["state"]) == ("ChannelStateChange", caller, "Up")
    assert {"kind": "ringing"} in sim.engine.heard(caller)
    peer = dials[0]["peer"]["id"]
    assert dials[0]["dialstring"] == "1001"
    await sim.engine.far_end_hangup(peer)
    await _gone(sim, caller)
    await _gone(sim, peer)


async def test_dialplan_dial_busy_sets_dialstatus(sim: Sim) -> None:
    sim.engine.load_dialplan_text(DIALPLAN)
    await sim.engine.register_phone("1001", PhoneBehaviour("busy"))
    watch = await sim.events("watch", subscribe_all=True)
    caller = await sim.engine.place_call("1001", "2000", context="from-internal", from_endpoint="PJSIP/2000")
    seen = await watch.until_match(
        lambda e: e["type"] == "ChannelDestroyed" and e["channel"]["id"] == caller, limit=30
    )
    dials = [e["dialstatus"] for e in seen if e["type"] == "Dial"]
    assert dials == ["", "BUSY"]
    varsets = {e["variable"]: e["value"] for e in seen if e["type"] == "ChannelVarset"}
    assert varsets.get("DIALSTATUS") == "BUSY"
    await _gone(sim, caller)

"""Originate, create/dial and the far-end phone behaviours, with Asterisk's event order."""

from __future__ import annotations

from ari_sim.engine import PhoneBehaviour

from .conftest import Sim, types


async def test_originate_to_phone_that_answers(sim: Sim) -> None:
    await sim.engine.register_phone("1001", PhoneBehaviour("answer", answer_after=1.0))
    events = await sim.events("t")
    body = await sim.ok(
        "POST", "/channels", endpoint="PJSIP/1001", app="t", appArgs="a,b", callerId="Bob <200>"
    )
    assert body["state"] == "Down"
    assert body["name"].startswith("PJSIP/1001-")
    got = await events.until("StasisStart")
    assert types(got) == [
        "Dial",
        "ChannelStateChange",
        "Dial",
        "ChannelStateChange",
        "Dial",
        "ChannelVarset",
        "StasisStart",
    ]
    assert (got[5]["variable"], got[5]["value"]) == ("STASISSTATUS", "")
    assert [e.get("dialstatus") for e in got if e["type"] == "Dial"] == ["", "RINGING", "ANSWER"]
    assert [e["channel"]["state"] for e in got if e["type"] == "ChannelStateChange"] == ["Ringing", "Up"]
    start = got[-1]
    assert start["args"] == ["a", "b"]
    assert start["channel"]["id"] == body["id"]
    assert start["channel"]["caller"] == {"name": "Bob", "number": "200"}
    for event in got:
        assert event["application"] == "t"
        assert event["asterisk_id"] == sim.engine.asterisk_id
        assert event["timestamp"].endswith("+0000")
    assert sim.engine.channels_of("PJSIP/1001") == [body["id"]]


async def test_originate_busy_phone(sim: Sim) -> None:
    await sim.engine.register_phone("1002", PhoneBehaviour("busy"))
    events = await sim.events("t")
    await sim.ok("POST", "/channels", endpoint="PJSIP/1002", app="t")
    got = await events.until("ChannelDestroyed")
    assert types(got) == ["Dial", "Dial", "ChannelDestroyed"]
    assert got[1]["dialstatus"] == "BUSY"
    assert (got[2]["cause"], got[2]["cause_txt"]) == (17, "User busy")


async def test_originate_ring_without_answer_times_out(sim: Sim) -> None:
    await sim.engine.register_phone("1003", PhoneBehaviour("ring"))
    events = await sim.events("t")
    await sim.ok("POST", "/channels", endpoint="PJSIP/1003", app="t", timeout=2)
    got = await events.until("ChannelDestroyed")
    assert types(got) == ["Dial", "ChannelStateChange", "Dial", "ChannelDestroyed"]
    assert got[-1]["cause"] == 19


async def test_originate_unreachable_and_offline(sim: Sim) -> None:
    await sim.engine.register_phone("1004", PhoneBehaviour("unreachable"))
    await sim.engine.register_phone("1005")
    await sim.engine.unregister_phone("1005")
    events = await sim.events("t")
    for endpoint in ("PJSIP/1004", "PJSIP/1005"):
        await sim.ok("POST", "/channels", endpoint=endpoint, app="t")
        got = await events.until("ChannelDestroyed")
        assert types(got) == ["Dial", "ChannelHangupRequest", "Dial", "ChannelDestroyed"]
        assert got[2]["dialstatus"] == "CHANUNAVAIL"
        assert got[3]["cause"] == 20


async def test_originate_rejected(sim: Sim) -> None:
    await sim.engine.register_phone("1006", PhoneBehaviour("reject"))
    events = await sim.events("t")
    await sim.ok("POST", "/channels", endpoint="PJSIP/1006", app="t")
    got = await events.until("ChannelDestroyed")
    assert types(got) == ["Dial", "ChannelHangupRequest", "Dial", "ChannelDestroyed"]
    assert got[1]["cause"] == 21
    assert got[3]["cause_txt"] == "Call Rejected"


async def test_originate_local_pair(sim: Sim) -> None:
    caller_app = await sim.events("t")
    dialplan_app = await sim.events("opencontact")
    one = await sim.ok(
        "POST", "/channels", endpoint="Local/200@from-internal", app="t", channelId="L1", otherChannelId="L2"
    )
    assert one["id"] == "L1" and one["name"].endswith(";1")
    got = await caller_app.take(3)
    assert types(got) == ["Dial", "ChannelDialplan", "ChannelVarset"]
    assert got[1]["channel"]["id"] == "L2" and got[1]["dialplan_app"] == "Stasis"
    assert got[1]["dialplan_app_data"] == "opencontact,from-internal,200"
    start = await dialplan_app.next()
    assert start["type"] == "StasisStart"
    assert start["channel"]["id"] == "L2"
    assert start["args"] == ["from-internal", "200"]
    await sim.ok("POST", "/channels/L2/answer")
    got = await caller_app.until("StasisStart")
    assert types(got) == ["ChannelStateChange", "ChannelStateChange", "Dial", "ChannelVarset", "StasisStart"]
    assert [e["channel"]["id"] for e in got if e["type"] != "Dial"] == ["L2", "L1", "L1", "L1"]
    assert got[2]["dialstatus"] == "ANSWER"


async def test_originate_local_to_missing_extension(sim: Sim) -> None:
    sim.engine.load_dialplan_text("[from-internal]\nexten => 100,1,Answer()\n")
    events = await sim.events("t")
    status, _ = await sim.call("POST", "/channels", endpoint="Local/999@from-internal", app="t")
    assert status == 200
    got = await events.take(2)
    assert types(got) == ["ChannelDestroyed", "ChannelDestroyed"]
    assert {e["cause"] for e in got} == {0}


async def test_create_then_dial_and_hangup(sim: Sim) -> None:
    await sim.engine.register_phone("1001", PhoneBehaviour("ring"))
    events = await sim.events("t")
    ch = await sim.ok("POST", "/channels/create", endpoint="PJSIP/1001", app="t", channelId="c1")
    got = await events.take(3)
    assert types(got) == ["ChannelDialplan", "ChannelVarset", "StasisStart"]
    assert (got[0]["dialplan_app"], got[0]["dialplan_app_data"]) == ("Stasis", "t")
    assert (got[2]["channel"]["id"], got[2]["channel"]["state"]) == ("c1", "Down")
    assert (await sim.call("POST", "/channels/c1/answer"))[0] == 412
    await sim.ok("POST", "/channels/c1/dial", timeout=30)
    got = await events.take(3)
    assert types(got) == ["Dial", "ChannelStateChange", "Dial"]
    assert [got[0]["dialstatus"], got[2]["dialstatus"]] == ["", "RINGING"]
    assert got[0]["dialstring"] == "1001"
    for path in ("/channels/c1/answer", "/channels/c1/hold", "/channels/c1/moh", "/channels/c1/ring"):
        assert (await sim.call("POST", path))[0] == 412, path
    assert (await sim.call("POST", "/channels/c1/play", media="sound:hello"))[0] == 412
    assert (await sim.call("POST", "/channels/c1/dial"))[0] == 409
    await sim.engine.far_end_answer(ch["id"])
    got = await events.take(2)
    assert types(got) == ["ChannelStateChange", "Dial"]
    assert got[1]["dialstatus"] == "ANSWER" and got[1]["peer"]["state"] == "Up"
    await sim.ok("DELETE", "/channels/c1")
    got = await events.take(4)
    assert types(got) == ["ChannelHangupRequest", "StasisEnd", "ChannelVarset", "ChannelDestroyed"]
    assert (got[0]["cause"], got[0]["soft"]) == (32, True)
    assert (got[2]["variable"], got[2]["value"]) == ("STASISSTATUS", "SUCCESS")
    assert (got[3]["cause"], got[3]["cause_txt"]) == (16, "Normal Clearing")
    assert sim.engine.snapshot()["channels"] == 0


async def test_dial_busy_leaves_channel_down(sim: Sim) -> None:
    await sim.engine.register_phone("1001", PhoneBehaviour("busy"))
    events = await sim.events("t")
    await sim.ok("POST", "/channels/create", endpoint="PJSIP/1001", app="t", channelId="c1")
    await events.until("StasisStart")
    await sim.ok("POST", "/channels/c1/dial")
    got = await events.take(2)
    assert [e["dialstatus"] for e in got] == ["", "BUSY"]
    await events.quiet()
    assert (await sim.ok("GET", "/channels/c1"))["state"] == "Down"
    await sim.ok("DELETE", "/channels/c1")
    got = await events.take(4)
    assert types(got) == ["ChannelHangupRequest", "StasisEnd", "ChannelVarset", "ChannelDestroyed"]
    assert got[3]["cause"] == 17


async def test_dial_timeout_hangs_up_with_cause_19(sim: Sim) -> None:
    await sim.engine.register_phone("1001", PhoneBehaviour("ring"))
    events = await sim.events("t")
    await sim.ok("POST", "/channels/create", endpoint="PJSIP/1001", app="t", channelId="c1")
    await events.until("StasisStart")
    await sim.ok("POST", "/channels/c1/dial", timeout=2)
    got = await events.until("ChannelDestroyed")
    assert types(got) == [
        "Dial",
        "ChannelStateChange",
        "Dial",
        "ChannelHangupRequest",
        "StasisEnd",
        "ChannelVarset",
        "ChannelDestroyed",
    ]
    assert (got[3]["cause"], got[3]["soft"]) == (32, True)
    assert "NOANSWER" not in [e.get("dialstatus") for e in got]
    assert got[-1]["cause"] == 19


async def test_inbound_call_enters_stasis_and_far_end_hangs_up(sim: Sim) -> None:
    events = await sim.events("opencontact")
    cid = await sim.engine.place_call("5551000", "0611223344", "Alice")
    start = await events.next()
    assert start["type"] == "StasisStart"
    assert start["args"] == ["from-trunk", "5551000"]
    assert start["channel"]["state"] == "Ring"
    assert start["channel"]["caller"] == {"name": "Alice", "number": "0611223344"}
    assert start["channel"]["dialplan"]["app_name"] == "Stasis"
    await sim.ok("POST", f"/channels/{cid}/answer")
    assert (await events.next())["channel"]["state"] == "Up"
    await sim.engine.far_end_hangup(cid, 16)
    got = await events.take(2)
    assert types(got) == ["ChannelHangupRequest", "StasisEnd"]
    assert got[0]["cause"] == 16 and "soft" not in got[0]
    # The application stops following a channel once it has left Stasis.
    await events.quiet()

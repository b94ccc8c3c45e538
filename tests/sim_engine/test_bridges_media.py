"""Bridges, playbacks, recordings, DTMF, hold, snoop and variables."""

from __future__ import annotations

from ari_sim.engine import PhoneBehaviour

from .conftest import EventStream, Sim, types


async def _inbound(sim: Sim, events: EventStream, number: str = "5551000") -> str:
    cid = await sim.engine.place_call(number, "0611223344")
    start = await events.next()
    assert start["type"] == "StasisStart" and start["channel"]["id"] == cid
    await sim.ok("POST", f"/channels/{cid}/answer")
    assert (await events.next())["type"] == "ChannelStateChange"
    return cid


async def test_bridge_add_remove_destroy(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    b = await _inbound(sim, events)
    bridge = await sim.ok("POST", "/bridges", type="mixing", name="call")
    assert (bridge["bridge_type"], bridge["technology"], bridge["bridge_class"]) == (
        "mixing",
        "simple_bridge",
        "stasis",
    )
    await events.quiet()  # nobody follows a new bridge: no BridgeCreated
    bid = bridge["id"]
    await sim.ok("POST", f"/bridges/{bid}/addChannel", channel=f"{a},{b}")
    got = await events.take(4)
    assert types(got) == ["ChannelEnteredBridge", "ChannelEnteredBridge", "ChannelVarset", "ChannelVarset"]
    assert got[1]["bridge"]["channels"] == [a, b]
    names = {c["id"]: c["name"] for c in await sim.ok("GET", "/channels")}
    assert [(e["channel"]["id"], e["variable"], e["value"]) for e in got[2:]] == [
        (a, "BRIDGEPEER", names[b]),
        (b, "BRIDGEPEER", names[a]),
    ]
    assert (await sim.ok("GET", f"/bridges/{bid}"))["channels"] == [a, b]
    assert {"kind": "bridged", "bridge_id": bid, "with": [b]} in sim.engine.heard(a)
    await sim.ok("POST", f"/bridges/{bid}/removeChannel", channel=a)
    cleared = await events.next()
    assert (cleared["type"], cleared["variable"], cleared["value"]) == ("ChannelVarset", "BRIDGEPEER", "")
    left = await events.next()
    assert (left["type"], left["channel"]["id"], left["bridge"]["channels"]) == ("ChannelLeftBridge", a, [b])
    assert (await sim.call("POST", f"/bridges/{bid}/removeChannel", channel=a))[0] == 422
    await sim.ok("DELETE", f"/bridges/{bid}")
    got = await events.take(2)
    assert types(got) == ["ChannelVarset", "ChannelLeftBridge"]
    # b is still in Stasis, so the app stopped following the bridge as b left it: no BridgeDestroyed.
    await events.quiet()
    assert (await sim.call("GET", f"/bridges/{bid}")) == (404, {"message": "Bridge not found"})

    # A member hanging up inside the bridge leaves the app following it: BridgeDestroyed does come.
    second = (await sim.ok("POST", "/bridges", type="mixing"))["id"]
    await sim.ok("POST", f"/bridges/{second}/addChannel", channel=b)
    assert types(await events.take(1)) == ["ChannelEnteredBridge"]
    await sim.engine.far_end_hangup(b)
    assert types(await events.take(3)) == ["ChannelHangupRequest", "ChannelLeftBridge", "StasisEnd"]
    await events.quiet()
    await sim.ok("DELETE", f"/bridges/{second}")
    destroyed = await events.next()
    assert (destroyed["type"], destroyed["bridge"]["id"]) == ("BridgeDestroyed", second)


async def test_bridge_errors(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    await sim.ok("POST", "/bridges/b1")
    assert await sim.call("POST", "/bridges/b1") == (409, {"message": "Bridge with id 'b1' already exists"})
    assert await sim.call("POST", "/bridges/nope/addChannel", channel=a) == (
        404,
        {"message": "Bridge not found"},
    )
    assert await sim.call("POST", "/bridges/b1/addChannel", channel="nope") == (
        400,
        {"message": "Channel not found"},
    )
    await sim.ok("POST", f"/channels/{a}/continue")
    assert (await events.next())["type"] == "StasisEnd"


async def test_hangup_in_bridge_order(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    b = await _inbound(sim, events)
    await sim.ok("POST", "/bridges/b1")
    await sim.ok("POST", "/bridges/b1/addChannel", channel=f"{a},{b}")
    await events.take(4)
    watch = await sim.events("watch", subscribe_all=True)
    await sim.engine.far_end_hangup(a, 17)
    got = await events.take(4)
    assert types(got) == ["ChannelHangupRequest", "ChannelVarset", "ChannelLeftBridge", "StasisEnd"]
    assert got[0]["cause"] == 17
    seen = await watch.take(6)
    assert types(seen) == [
        "ChannelHangupRequest",
        "ChannelVarset",
        "ChannelLeftBridge",
        "ChannelVarset",
        "ChannelHangupRequest",
        "ChannelDestroyed",
    ]
    assert seen[3]["variable"] == "STASISSTATUS"
    assert (seen[4]["cause"], seen[4]["soft"]) == (16, True)
    assert (seen[5]["cause"], seen[5]["cause_txt"]) == (17, "User busy")
    await events.quiet()  # a Stasis bridge does not hang up the others
    assert (await sim.ok("GET", "/bridges/b1"))["channels"] == [b]


async def test_local_pair_hangup_cascade(sim: Sim) -> None:
    events = await sim.events("t")
    other = await sim.events("opencontact")
    await sim.ok("POST", "/channels/create", endpoint="Local/300@from-internal", app="t", channelId="L1")
    await events.until("StasisStart")
    await sim.ok("POST", "/channels/L1/dial")
    l2 = (await other.next())["channel"]["id"]
    await sim.ok("POST", f"/channels/{l2}/answer")
    # channels/create follows only the `;1` half (unlike originate): nothing about `;2` reaches "t".
    got = await events.take(3)
    assert [(e["type"], (e.get("channel") or e["peer"])["id"]) for e in got] == [
        ("Dial", "L1"),
        ("ChannelStateChange", "L1"),
        ("Dial", "L1"),
    ]
    assert [e["dialstatus"] for e in (got[0], got[2])] == ["", "ANSWER"]
    await sim.ok("DELETE", "/channels/L1")
    got = await events.take(4)
    assert [(e["type"], e["channel"]["id"]) for e in got] == [
        ("ChannelHangupRequest", "L1"),
        ("StasisEnd", "L1"),
        ("ChannelVarset", "L1"),
        ("ChannelDestroyed", "L1"),
    ]
    assert (got[0]["cause"], got[0]["soft"]) == (32, True)
    assert got[3]["cause"] == 16
    # The `;2` half's app sees the hang-up pass through the pair (cause 16, not soft), then StasisEnd.
    ends = await other.take(3)
    assert types(ends) == ["ChannelStateChange", "ChannelHangupRequest", "StasisEnd"]
    assert ends[1]["cause"] == 16 and "soft" not in ends[1]
    await events.quiet()
    assert sim.engine.snapshot()["channels"] == 0


async def test_playback_on_channel_and_bridge(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    pb = await sim.ok("POST", f"/channels/{a}/play", media="sound:hello-world", playbackId="p1")
    assert (pb["id"], pb["state"], pb["target_uri"]) == ("p1", "queued", f"channel:{a}")
    got = await events.take(2)
    assert types(got) == ["PlaybackStarted", "PlaybackFinished"]
    assert [e["playback"]["state"] for e in got] == ["playing", "done"]
    assert {"kind": "playback", "media": "sound:hello-world"} in sim.engine.heard(a)
    await sim.ok("POST", "/bridges/b1")
    await sim.ok("POST", "/bridges/b1/addChannel", channel=a)
    await events.next()
    pb = await sim.ok("POST", "/bridges/b1/play", media="sound:one,digits:12")
    # The announcer Asterisk plays through joins the bridge first: a's BRIDGEPEER names it.
    peer = await events.next()
    assert (peer["type"], peer["variable"]) == ("ChannelVarset", "BRIDGEPEER")
    assert peer["value"].startswith("Announcer/ARI-") and peer["value"].endswith(";2")
    got = await events.take(4)
    assert types(got) == ["PlaybackStarted", "PlaybackContinuing", "PlaybackStarted", "PlaybackFinished"]
    assert got[0]["playback"]["next_media_uri"] == "digits:12"
    assert got[0]["playback"]["target_uri"] == "bridge:b1"
    assert [e["playback"]["media_uri"] for e in got] == ["sound:one", "sound:one", "digits:12", "digits:12"]
    assert [e["playback"]["state"] for e in got] == ["playing", "continuing", "playing", "done"]
    assert await sim.call("GET", f"/playbacks/{pb['id']}") == (404, {"message": "Playback not found"})
    await events.quiet()  # the announcer leaves a lone member: nothing to re-announce


async def test_playback_stop(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    await sim.ok("POST", f"/channels/{a}/play", media="tone:ring", playbackId="p1")
    assert (await events.next())["type"] == "PlaybackStarted"
    assert (await sim.ok("GET", "/playbacks/p1"))["state"] == "playing"
    await sim.ok("POST", "/playbacks/p1/control", operation="pause")
    assert (await sim.ok("GET", "/playbacks/p1"))["state"] == "paused"
    await sim.ok("POST", "/playbacks/p1/control", operation="unpause")
    resumed = await events.next()
    assert (resumed["type"], resumed["playback"]["state"]) == ("PlaybackStarted", "playing")
    await sim.ok("DELETE", "/playbacks/p1")
    assert (await events.next())["type"] == "PlaybackFinished"


async def test_record_stop_then_stored(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    live = await sim.ok("POST", f"/channels/{a}/record", name="r1", format="wav")
    assert (live["name"], live["state"], live["target_uri"]) == ("r1", "queued", f"channel:{a}")
    started = await events.next()
    assert (started["type"], started["recording"]["state"]) == ("RecordingStarted", "recording")
    await sim.ok("POST", "/recordings/live/r1/pause")
    assert (await sim.ok("GET", "/recordings/live/r1"))["state"] == "paused"
    await sim.ok("DELETE", "/recordings/live/r1/pause")
    await sim.ok("POST", "/recordings/live/r1/stop")
    finished = await events.next()
    assert (finished["type"], finished["recording"]["state"]) == ("RecordingFinished", "done")
    assert await sim.ok("GET", "/recordings/stored/r1") == {"name": "r1", "format": "wav"}
    assert await sim.call("POST", f"/channels/{a}/record", name="r1", format="wav") == (
        409,
        {"message": "Recording 'r1' already exists and can not be overwritten"},
    )
    assert (await sim.call("POST", f"/channels/{a}/record", name="r2", format="nope"))[0] == 422
    await sim.ok("POST", "/recordings/stored/r1/copy", destinationRecordingName="r1b")
    assert {r["name"] for r in await sim.ok("GET", "/recordings/stored")} == {"r1", "r1b"}
    await sim.ok("DELETE", "/recordings/stored/r1")
    assert await sim.call("GET", "/recordings/stored/r1") == (404, {"message": "Recording not found"})


async def test_record_terminated_by_dtmf(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    await sim.ok("POST", f"/channels/{a}/record", name="vm", format="wav", terminateOn="#")
    assert (await events.next())["type"] == "RecordingStarted"
    await sim.engine.far_end_dtmf(a, "1#", 80)
    got = await events.take(3)
    assert types(got) == ["ChannelDtmfReceived", "ChannelDtmfReceived", "RecordingFinished"]
    assert [(e["digit"], e["duration_ms"]) for e in got[:2]] == [("1", 80), ("#", 80)]


async def test_dtmf_to_local_half_arrives_on_other(sim: Sim) -> None:
    events = await sim.events("t")
    other = await sim.events("opencontact")
    await sim.ok("POST", "/channels/create", endpoint="Local/300@from-internal", app="t", channelId="L1")
    await events.until("StasisStart")
    await sim.ok("POST", "/channels/L1/dial")
    l2 = (await other.next())["channel"]["id"]
    await sim.ok("POST", f"/channels/{l2}/answer")
    await events.take(3)
    await sim.ok("POST", "/channels/L1/dtmf", dtmf="42", duration=50, between=10)
    assert (await other.next())["type"] == "ChannelStateChange"
    dtmf = await other.take(2)
    assert [(e["digit"], e["channel"]["id"]) for e in dtmf] == [("4", l2), ("2", l2)]
    assert [h for h in sim.engine.heard("L1") if h["kind"] == "dtmf"] == [
        {"kind": "dtmf", "digit": "4"},
        {"kind": "dtmf", "digit": "2"},
    ]


async def test_hold_moh_snoop_and_variables(sim: Sim) -> None:
    events = await sim.events("opencontact")
    spy = await sim.events("spy")
    a = await _inbound(sim, events)
    await sim.ok("POST", f"/channels/{a}/hold")
    await sim.ok("DELETE", f"/channels/{a}/hold")
    assert {"kind": "hold"} in sim.engine.heard(a)
    await events.quiet()  # ARI hold reports no ChannelHold: that event is for holds from the far end
    await sim.ok("POST", f"/channels/{a}/moh", mohClass="jazz")
    assert {"kind": "moh", "class": "jazz"} in sim.engine.heard(a)
    snoop = await sim.ok("POST", f"/channels/{a}/snoop", spy="in", app="spy", appArgs="x", snoopId="s1")
    assert snoop["id"] == "s1" and snoop["name"].startswith("Snoop/")
    start = await spy.next()
    assert (start["type"], start["args"], start["channel"]["id"]) == ("StasisStart", ["x"], "s1")
    assert (await sim.call("POST", f"/channels/{a}/snoop", app="spy"))[0] == 400
    await sim.ok("POST", f"/channels/{a}/variable", variable="QUEUE", value="sales")
    varset = await events.next()
    assert (varset["type"], varset["variable"], varset["value"]) == ("ChannelVarset", "QUEUE", "sales")
    assert await sim.ok("GET", f"/channels/{a}/variable", variable="QUEUE") == {"value": "sales"}
    assert await sim.call("GET", f"/channels/{a}/variable", variable="NOPE") == (
        404,
        {"message": "Provided variable was not found"},
    )
    await sim.ok("POST", f"/channels/{a}/variable", variable="CALLERID(num)", value="777")
    assert (await events.next())["type"] == "ChannelCallerId"
    assert await sim.ok("GET", f"/channels/{a}/variable", variable="CALLERID(num)") == {"value": "777"}
    await sim.ok("DELETE", f"/channels/{a}")
    end = await spy.next()
    assert (end["type"], end["channel"]["id"]) == ("StasisEnd", "s1")
    assert "s1" not in sim.engine.channels


async def test_phone_endpoint_state_events(sim: Sim) -> None:
    events = await sim.events("watch")
    await sim.engine.register_phone("1001", PhoneBehaviour())
    await sim.ok("POST", "/applications/watch/subscription", eventSource="endpoint:PJSIP/1001")
    await sim.engine.unregister_phone("1001")
    change = await events.next()
    assert change["type"] == "EndpointStateChange"
    assert change["endpoint"] == {
        "technology": "PJSIP",
        "resource": "1001",
        "state": "offline",
        "channel_ids": [],
    }
    assert (await sim.ok("GET", "/endpoints/PJSIP/1001"))["state"] == "offline"
    assert await sim.call("GET", "/endpoints/PJSIP/9999") == (404, {"message": "Endpoint not found"})


async def test_record_cancel_and_silence_limit(sim: Sim) -> None:
    events = await sim.events("opencontact")
    a = await _inbound(sim, events)
    await sim.ok("POST", f"/channels/{a}/record", name="gone", format="wav")
    assert (await events.next())["type"] == "RecordingStarted"
    await sim.ok("DELETE", "/recordings/live/gone")
    finished = await events.next()
    assert (finished["type"], finished["recording"]["state"]) == ("RecordingFinished", "done")
    assert (await sim.call("GET", "/recordings/stored/gone"))[0] == 404
    await sim.ok("POST", f"/channels/{a}/record", name="quiet", format="wav", maxSilenceSeconds=1)
    assert (await events.next())["type"] == "RecordingStarted"
    finished = await events.next()
    assert finished["recording"]["silence_duration"] == 0 and finished["recording"]["duration"] == 0
    assert (await sim.ok("GET", "/recordings/stored/quiet"))["format"] == "wav"

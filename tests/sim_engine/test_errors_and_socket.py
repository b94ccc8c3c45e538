"""Asterisk's status codes and messages, and the events websocket's rules."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from ari_sim.engine import PhoneBehaviour

from .conftest import Sim, types


async def test_channel_not_found_and_not_in_stasis(sim: Sim) -> None:
    assert await sim.call("GET", "/channels/nope") == (404, {"message": "Channel not found"})
    assert await sim.call("POST", "/channels/nope/answer") == (404, {"message": "Channel not found"})
    assert await sim.call("DELETE", "/channels/nope") == (404, {"message": "Channel not found"})
    sim.engine.load_dialplan_text("[ctx]\nexten => 1,1,Wait(10)\n")
    events = await sim.events("t")
    await sim.ok("POST", "/channels", endpoint="Local/1@ctx", app="t", channelId="L1", otherChannelId="L2")
    assert (await events.next())["type"] == "Dial"
    # The `;2` half is running the dialplan, not a Stasis application.
    status, body = await sim.call("POST", "/channels/L2/answer")
    assert (status, body) == (409, {"message": "Channel not in Stasis application"})


async def test_hangup_reason_checks(sim: Sim) -> None:
    events = await sim.events("opencontact")
    cid = await sim.engine.place_call("100", "200")
    await events.next()
    assert (await sim.call("DELETE", f"/channels/{cid}", reason="nonsense"))[0] == 400
    assert (await sim.call("DELETE", f"/channels/{cid}", reason="busy", reason_code="17"))[0] == 400
    watch = await sim.events("watch", subscribe_all=True)
    await sim.ok("DELETE", f"/channels/{cid}", reason="no_answer")
    got = await events.take(2)
    assert types(got) == ["ChannelHangupRequest", "StasisEnd"]
    assert got[0]["cause"] == 32
    destroyed = (await watch.until("ChannelDestroyed"))[-1]
    assert (destroyed["cause"], destroyed["cause_txt"]) == (19, "User alerting, no answer")


async def test_originate_checks(sim: Sim) -> None:
    events = await sim.events("t")
    assert (await sim.call("POST", "/channels", endpoint="nonsense", app="t"))[0] == 400
    await sim.engine.register_phone("1001", PhoneBehaviour("ring"))
    await sim.ok("POST", "/channels", endpoint="PJSIP/1001", app="t", channelId="dup")
    assert await sim.call("POST", "/channels", endpoint="PJSIP/1001", app="t", channelId="dup") == (
        409,
        {"message": "Channel with given unique ID already exists"},
    )
    assert (await events.next())["type"] == "Dial"


async def test_recording_and_playback_not_found(sim: Sim) -> None:
    assert await sim.call("GET", "/recordings/live/x") == (404, {"message": "Recording not found"})
    assert await sim.call("POST", "/recordings/live/x/stop") == (404, {"message": "Recording not found"})
    assert await sim.call("DELETE", "/playbacks/x") == (404, {"message": "Playback not found"})
    assert await sim.call("GET", "/applications/none") == (404, {"message": "Application not found"})


async def test_websocket_auth_and_app_required(sim: Sim) -> None:
    async with aiohttp.ClientSession() as anonymous:
        with pytest.raises(aiohttp.WSServerHandshakeError) as denied:
            await anonymous.ws_connect(f"{sim.base}/ari/events", params={"app": "t"})
        assert denied.value.status == 401
        ws = await anonymous.ws_connect(
            f"{sim.base}/ari/events", params={"app": "t", "api_key": "asterisk:asterisk"}
        )
        await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as missing:
        await sim.http.ws_connect(f"{sim.base}/ari/events")
    assert missing.value.status == 400


async def test_application_registered_while_socket_open_and_replaced(sim: Sim) -> None:
    first = await sim.events("t")
    names = [a["name"] for a in await sim.ok("GET", "/applications")]
    assert names == ["t"]
    second = await sim.events("t")
    replaced = await first.next()
    assert replaced["type"] == "ApplicationReplaced" and replaced["application"] == "t"
    await sim.engine.register_phone("1001", PhoneBehaviour())
    await sim.ok("POST", "/channels", endpoint="PJSIP/1001", app="t")
    assert (await second.next())["type"] == "Dial"
    await second.ws.close()
    await first.ws.close()
    for _ in range(50):
        if not await sim.ok("GET", "/applications"):
            break
        await asyncio.sleep(0.01)
    assert await sim.ok("GET", "/applications") == []


async def test_subscribe_unsubscribe(sim: Sim) -> None:
    events = await sim.events("t")
    assert (await sim.call("POST", "/applications/t/subscription", eventSource="bridge:nope"))[0] == 422
    assert (await sim.call("POST", "/applications/t/subscription", eventSource="foo:bar"))[0] == 400
    await sim.ok("POST", "/bridges/b1")
    app = await sim.ok("POST", "/applications/t/subscription", eventSource="bridge:b1")
    assert app["bridge_ids"] == ["b1"]
    app = await sim.ok("DELETE", "/applications/t/subscription", eventSource="bridge:b1")
    assert app["bridge_ids"] == []
    assert (await sim.call("DELETE", "/applications/t/subscription", eventSource="bridge:b1"))[0] == 422
    await events.quiet()


async def test_more_asterisk_messages(sim: Sim) -> None:
    events = await sim.events("opencontact")
    cid = await sim.engine.place_call("100", "200")
    await events.next()
    await sim.ok("POST", f"/channels/{cid}/answer")
    assert await sim.call("POST", "/channels", endpoint="Bogus/thing", app="t") == (
        500,
        {"message": "Allocation failed"},
    )
    assert await sim.call("GET", "/endpoints/Local") == (
        404,
        {"message": "No Endpoints found - invalid tech Local"},
    )
    assert await sim.call("POST", "/bridges", type="bogus") == (
        500,
        {"message": "Unable to create bridge. Possible duplicate bridge id '(null)'"},
    )
    assert await sim.call("POST", f"/channels/{cid}/snoop", spy="none", whisper="none", app="x") == (
        400,
        {"message": "Direction must be specified for at least spy or whisper"},
    )
    assert await sim.call("POST", "/channels/nope/snoop", spy="in", app="x") == (
        404,
        {"message": "Provided channel was not found"},
    )
    assert await sim.call("POST", f"/channels/{cid}/variable", variable="NOSUCHFUNC(x)", value="1") == (
        204,
        None,
    )
    assert (await sim.call("GET", f"/channels/{cid}/variable", variable="CHANNEL(bogus)"))[0] == 500
    await sim.ok("POST", f"/channels/{cid}/variable", variable="EMPTY")
    assert (await sim.call("GET", f"/channels/{cid}/variable", variable="EMPTY"))[0] == 404
    assert (await sim.call("GET", "/asterisk/variable"))[0] == 400
    await sim.ok("POST", "/asterisk/variable", variable="G", value="1")
    assert await sim.ok("GET", "/asterisk/variable", variable="G") == {"value": "1"}


async def test_user_event_reaches_the_application(sim: Sim) -> None:
    events = await sim.events("opencontact")
    cid = await sim.engine.place_call("100", "200")
    await events.next()
    await sim.ok("POST", "/events/user/Ping", application="opencontact", source=f"channel:{cid}")
    got = await events.next()
    assert (got["type"], got["eventname"], got["channel"]["id"]) == ("ChannelUserevent", "Ping", cid)
    assert got["userevent"] == {}
    assert (await sim.call("POST", "/events/user/Ping", application="nope"))[0] == 404
    assert await sim.call("POST", "/events/user/Ping", application="opencontact", source="channel:nope") == (
        422,
        {"message": "Event source was not found"},
    )


async def test_variables_wrapped_twice_are_refused_as_asterisk_does(sim: Sim) -> None:
    await sim.engine.register_phone("1001", PhoneBehaviour("ring"))
    url = f"{sim.base}/ari/channels?endpoint=PJSIP/1001&app=t"
    twice = {"variables": {"variables": {"PJSIP_HEADER(add,Alert-Info)": "auto answer"}}}
    async with sim.http.post(url, json=twice) as resp:
        assert resp.status == 400
        assert (await resp.json())["message"].startswith("Each value in 'variables' must be a string")
    once = {"variables": {"PJSIP_HEADER(add,Alert-Info)": "auto answer"}}
    async with sim.http.post(url, json=once) as resp:
        assert resp.status == 200
        assert (await resp.json())["name"].startswith("PJSIP/1001-")

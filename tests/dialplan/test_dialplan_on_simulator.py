"""The project's dialplan loaded by a running simulator: calls placed over the control API reach the
Stasis application with the arguments dialplan/extensions.conf gives them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from simulator_http import served_simulator

from ari_sim.engine import Engine
from ari_sim.settings import SimSettings

CONF = Path(__file__).resolve().parents[2] / "dialplan" / "extensions.conf"


@dataclass
class Running:
    engine: Engine
    base: str
    http: aiohttp.ClientSession

    async def post(self, path: str, body: dict[str, Any] | None = None, **query: str) -> Any:
        async with self.http.post(f"{self.base}{path}", json=body, params=query) as resp:
            text = await resp.text()
            assert resp.status in (200, 201, 204), (resp.status, text)
            return json.loads(text) if text else None

    async def get(self, path: str) -> Any:
        async with self.http.get(f"{self.base}{path}") as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    settings = SimSettings(port=0, dialplan_path=str(CONF), time_scale=0.01)
    async with served_simulator(settings) as (engine, base, session):
        yield Running(engine, base, session)


async def next_of(ws: aiohttp.ClientWebSocketResponse, event_type: str, limit: int = 60) -> dict[str, Any]:
    """The next event of `event_type` ("*": any) on the socket (bounded)."""
    for _ in range(limit):
        msg = await ws.receive(timeout=3.0)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        event: dict[str, Any] = json.loads(msg.data)
        if event_type in ("*", event["type"]):
            return event
    raise AssertionError(f"no {event_type}")


async def heard_until(running: Running, channel_id: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    for _ in range(300):
        heard: list[dict[str, Any]] = (await running.get(f"/_sim/channels/{channel_id}/heard"))["heard"]
        if entry in heard:
            return heard
        await asyncio.sleep(0.01)
    raise AssertionError(f"{entry} never heard on {channel_id}")


@pytest.mark.parametrize("did", ["+59899123456", "2000"])
async def test_inbound_call_reaches_the_app_with_its_did(running: Running, did: str) -> None:
    events = f"{running.base}/ari/events"
    async with (
        running.http.ws_connect(events, params={"app": "opencontact"}) as ws,
        running.http.ws_connect(events, params={"app": "watcher", "subscribeAll": "true"}) as watcher,
    ):
        placed = await running.post("/_sim/calls", {"to": did, "caller_number": "099111222"})
        start = await next_of(ws, "StasisStart")
        assert start["args"] == ["inbound", did, ""]  # QUEUE_PRIO unset: an empty priority
        channel = start["channel"]
        assert channel["id"] == placed["channel_id"]
        assert channel["dialplan"]["context"] == "from-trunk"
        assert channel["dialplan"]["exten"] == did
        assert channel["dialplan"]["app_name"] == "Stasis"
        assert channel["dialplan"]["app_data"] == f"opencontact,inbound,{did},"
        assert channel["caller"]["number"] == "099111222"
        # the application sends it back for a polite goodbye
        await running.post(
            f"/ari/channels/{channel['id']}/continue",
            context="stasis-return",
            extension="hangup",
            priority="1",
        )
        assert (await next_of(ws, "StasisEnd"))["channel"]["id"] == channel["id"]
        steps: list[tuple[str, str, str, str]] = []
        for _ in range(60):
            event = await next_of(watcher, "*")
            if event["type"] == "ChannelDialplan":
                plan = event["channel"]["dialplan"]
                steps.append(
                    (plan["context"], plan["exten"], event["dialplan_app"], event["dialplan_app_data"])
                )
            if event["type"] == "ChannelDestroyed":
                break
        assert steps == [
            ("from-trunk", did, "NoOp", f"Inbound call to DID {did} from 099111222"),
            ("from-trunk", did, "Stasis", f"opencontact,inbound,{did},"),
            ("stasis-return", "hangup", "NoOp", "Goodbye to 099111222"),
            ("stasis-return", "hangup", "Playback", "vm-goodbye"),
            ("stasis-return", "hangup", "Hangup", "NORMAL_CLEARING"),
        ]
        assert event["type"] == "ChannelDestroyed"
        assert event["channel"]["id"] == channel["id"]
        assert event["cause"] == 16
        await heard_until(running, channel["id"], {"kind": "playback", "media": "sound:vm-goodbye"})


@pytest.mark.parametrize("dialed", ["*72205", "##", "555123", "9099123456"])
async def test_phone_dialing_reaches_the_app_as_internal(running: Running, dialed: str) -> None:
    async with running.http.ws_connect(f"{running.base}/ari/events", params={"app": "opencontact"}) as ws:
        await running.post(
            "/_sim/calls", {"to": dialed, "context": "from-internal", "from_endpoint": "PJSIP/1001"}
        )
        start = await next_of(ws, "StasisStart")
        assert start["args"] == ["internal", dialed, "1001"]
        assert start["channel"]["name"].startswith("PJSIP/1001-")
        assert start["channel"]["dialplan"]["context"] == "from-internal"


async def test_call_without_the_app_hears_no_service(running: Running) -> None:
    placed = await running.post("/_sim/calls", {"to": "2000", "caller_number": "099111222"})
    heard = await heard_until(
        running, placed["channel_id"], {"kind": "playback", "media": "sound:ss-noservice"}
    )
    assert {"kind": "playback", "media": "sound:vm-goodbye"} not in heard


async def test_dialer_leg_originated_into_the_amd_context(running: Running) -> None:
    async with running.http.ws_connect(f"{running.base}/ari/events", params={"app": "opencontact"}) as ws:
        await running.post("/_sim/phones/PJSIP/2001", {"mode": "ring"})
        leg = await running.post(
            "/ari/channels", endpoint="PJSIP/2001", context="dialer-amd", extension="099123456"
        )
        # what the answering-machine detector will conclude on this leg (no control route for it yet)
        running.engine.channels[leg["id"]].amd = ("MACHINE", "INITIALSILENCE-2500-2500")
        await running.post(f"/_sim/channels/{leg['id']}/answer")
        start = await next_of(ws, "StasisStart")
        assert start["args"] == ["dialer", "MACHINE", "INITIALSILENCE-2500-2500"]
        assert start["channel"]["id"] == leg["id"]
        assert start["channel"]["dialplan"]["context"] == "dialer-amd"
        assert start["channel"]["dialplan"]["exten"] == "099123456"

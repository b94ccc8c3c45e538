"""The assembled simulator against Asterisk's models: every REST body and every event of a sample
of calls must be shaped exactly as Asterisk 22 documents it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from ari_sim.description import OPERATIONS_BY_KEY, operation
from ari_sim.handlers import HANDLERS
from ari_sim.server import create_app
from ari_sim.settings import SimSettings

from .ari_models import assert_valid_event, assert_valid_response
from .conftest import AUTH, PASSWORD, USER, serving

APP = "contract"


@dataclass
class Live:
    """A running simulator, a client session and the events its application received."""

    base: str
    session: aiohttp.ClientSession
    events: list[dict[str, Any]]
    engine: Any

    async def call(self, key: str, path: str, **kwargs: Any) -> Any:
        """Run operation `key` and check the answer against the operation's responseClass."""
        op = operation(key)
        async with self.session.request(op.method, self.base + path, headers=AUTH, **kwargs) as response:
            text = await response.text()
            assert 200 <= response.status < 300, f"{key}: {response.status} {text}"
            if op.response in ("void", "binary"):
                assert response.status == 204 or op.response == "binary", f"{key}: {response.status} {text}"
                return None
            body = json.loads(text)
            assert_valid_response(body, op.response)
            return body

    async def wait_for(self, event_type: str, count: int = 1) -> list[dict[str, Any]]:
        for _ in range(400):
            found = [e for e in self.events if e["type"] == event_type]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {event_type} among {[e['type'] for e in self.events]}")


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    from ari_sim.engine import Engine  # noqa: PLC0415 - imported with the app under test

    settings = SimSettings(port=0, username=USER, password=PASSWORD, time_scale=0.01)
    engine = Engine(settings)
    app = create_app(engine, settings)
    events: list[dict[str, Any]] = []
    async with serving(app) as base, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{base}/ari/events?app={APP}&subscribeAll=true", headers=AUTH)

        async def pump() -> None:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    events.append(json.loads(message.data))

        reader = asyncio.ensure_future(pump())
        try:
            yield Live(base, session, events, engine)
        finally:
            await ws.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


def test_every_handler_is_a_described_operation() -> None:
    unknown = sorted(set(HANDLERS) - set(OPERATIONS_BY_KEY))
    assert not unknown, f"handlers for operations ARI does not have: {unknown}"
    assert not any(OPERATIONS_BY_KEY[key].websocket for key in HANDLERS)


async def test_rest_bodies_and_events_match_asterisks_models(live: Live) -> None:
    await live.call("asterisk.ping", "/ari/asterisk/ping")
    await live.call("asterisk.getInfo", "/ari/asterisk/info")
    await live.call("applications.list", "/ari/applications")
    await live.call("applications.get", f"/ari/applications/{APP}")

    await live.engine.register_phone("1001")
    await live.engine.register_phone("1002")
    await live.call("endpoints.list", "/ari/endpoints")
    await live.call("endpoints.listByTech", "/ari/endpoints/PJSIP")
    await live.call("endpoints.get", "/ari/endpoints/PJSIP/1001")

    first = await live.call(
        "channels.originate", "/ari/channels", params={"endpoint": "PJSIP/1001", "app": APP, "appArgs": "a,b"}
    )
    second = await live.call(
        "channels.originateWithId",
        "/ari/channels/contract-two",
        params={"endpoint": "PJSIP/1002", "app": APP},
        json={"variables": {"CALLERID(name)": "Ann"}},
    )
    await live.wait_for("StasisStart", 2)
    await live.call("channels.list", "/ari/channels")
    await live.call("channels.get", f"/ari/channels/{first['id']}")
    await live.call(
        "channels.setChannelVar",
        f"/ari/channels/{first['id']}/variable",
        params={"variable": "X", "value": "1"},
    )
    await live.call(
        "channels.getChannelVar", f"/ari/channels/{first['id']}/variable", params={"variable": "X"}
    )

    bridge = await live.call("bridges.create", "/ari/bridges", params={"type": "mixing", "name": "room"})
    await live.call(
        "bridges.addChannel",
        f"/ari/bridges/{bridge['id']}/addChannel",
        params={"channel": f"{first['id']},{second['id']}"},
    )
    await live.wait_for("ChannelEnteredBridge", 2)
    await live.call("bridges.get", f"/ari/bridges/{bridge['id']}")
    await live.call("bridges.list", "/ari/bridges")
    playback = await live.call(
        "bridges.play", f"/ari/bridges/{bridge['id']}/play", params={"media": "sound:hello-world"}
    )
    await live.call("playbacks.get", f"/ari/playbacks/{playback['id']}")
    await live.wait_for("PlaybackFinished")
    await live.call(
        "bridges.record",
        f"/ari/bridges/{bridge['id']}/record",
        params={"name": "contract-rec", "format": "wav"},
    )
    await live.call("recordings.getLive", "/ari/recordings/live/contract-rec")
    await live.call("recordings.stop", "/ari/recordings/live/contract-rec/stop")
    await live.wait_for("RecordingFinished")
    await live.call("recordings.listStored", "/ari/recordings/stored")
    await live.call("recordings.getStored", "/ari/recordings/stored/contract-rec")

    await live.call("channels.sendDTMF", f"/ari/channels/{first['id']}/dtmf", params={"dtmf": "12"})
    await live.engine.far_end_dtmf(second["id"], "5")
    await live.wait_for("ChannelDtmfReceived")
    await live.call(
        "bridges.removeChannel",
        f"/ari/bridges/{bridge['id']}/removeChannel",
        params={"channel": second["id"]},
    )
    await live.call("channels.hangup", f"/ari/channels/{first['id']}")
    await live.engine.far_end_hangup(second["id"])
    await live.wait_for("ChannelDestroyed", 2)
    await live.call("bridges.destroy", f"/ari/bridges/{bridge['id']}")
    await live.wait_for("BridgeDestroyed")

    assert live.events, "the application received no events"
    for event in live.events:
        assert_valid_event(event)
        assert event["application"] == APP

"""The simulator's control routes themselves: authentication, input checks and their answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from harness.sim_backend import SimServer


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    started = SimServer()
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


async def control(
    server: SimServer, method: str, path: str, body: Any = None, auth: bool = True
) -> tuple[int, Any]:
    client = server.client()
    headers = client.headers if auth else {}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.request(method, f"{server.url}/_sim{path}", json=body) as response,
    ):
        text = await response.text()
        return response.status, (await response.json()) if text else None


async def test_control_routes_need_the_ari_credentials(server: SimServer) -> None:
    status, body = await control(server, "GET", "/snapshot", auth=False)
    assert status == 401
    assert body == {"message": "Authentication required"}
    status, body = await control(server, "GET", "/snapshot?api_key=asterisk:asterisk", auth=False)
    assert status == 200
    assert body["channels"] == 0


async def test_register_phone_makes_the_endpoint_online(server: SimServer) -> None:
    status, body = await control(server, "POST", "/phones/PJSIP/2001", {"mode": "ring"})
    assert status == 200
    assert body == {"endpoint": "PJSIP/2001", "mode": "ring", "answer_after": 0.0}
    endpoint = await server.client().get("/endpoints/PJSIP/2001")
    assert endpoint["state"] == "online"
    status, _ = await control(server, "DELETE", "/phones/PJSIP/2001")
    assert status == 204
    assert (await server.client().get("/endpoints/PJSIP/2001"))["state"] == "offline"


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("POST", "/phones/PJSIP/2002", {"mode": "sleep"}, "'mode' must be one of"),
        ("POST", "/phones/PJSIP/2002", {"answer_after": -1}, "must not be negative"),
        ("POST", "/phones/PJSIP/2002", {"answer_after": "soon"}, "number of seconds"),
        ("PUT", "/phones/PJSIP/2002/behaviour", {"colour": "red"}, "unknown field(s): colour"),
        ("POST", "/phones/9bad/2002", {}, "not a valid channel technology"),
        ("POST", "/calls", {"caller_number": "555"}, "'to' is required"),
        ("POST", "/calls", {"to": 7000}, "'to' must be a string"),
        ("POST", "/calls", {"to": "7000", "from_endpoint": "1001"}, "'from_endpoint' must look like"),
        ("POST", "/calls", [1, 2], "body must be a JSON object"),
        ("POST", "/channels/x/hangup", {"cause": 300}, "'cause' must be between 0 and 127"),
        ("POST", "/channels/x/dtmf", {"digits": "12x"}, "'digits' may hold only"),
        ("POST", "/channels/x/dtmf", {}, "'digits' is required"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message(
    server: SimServer, method: str, path: str, body: Any, message: str
) -> None:
    status, answer = await control(server, method, path, body)
    assert status == 400
    assert message in answer["message"]


async def test_unknown_channel_is_not_found(server: SimServer) -> None:
    status, answer = await control(server, "POST", "/channels/nope/answer")
    assert status == 404
    assert answer["message"]


async def test_placed_call_is_live_and_listed_in_the_snapshot(server: SimServer) -> None:
    status, answer = await control(server, "POST", "/calls", {"to": "7000", "caller_number": "5550001"})
    assert status == 200
    channel = await server.client().get(f"/channels/{answer['channel_id']}")
    assert channel["caller"]["number"] == "5550001"
    status, snapshot = await control(server, "GET", "/snapshot")
    assert snapshot["channels"] >= 1
    status, _ = await control(server, "POST", f"/channels/{answer['channel_id']}/hangup", {"cause": 16})
    assert status == 204

"""The REST router over a real socket: Asterisk's authentication, routing answers and parameter rules.

Handlers here are small recording functions so that what the router hands over can be checked
exactly; the full engine is exercised in test_live_simulator.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from ari_sim.description import OPERATIONS, Operation
from ari_sim.errors import AriError
from ari_sim.router import add_ari_routes, separate_args
from ari_sim.types import Handler, Params, Reply

from .conftest import AUTH, PASSWORD, USER, Fetch, basic, make_fetch, serving

SEEN: list[tuple[str, Params]] = []


def _echo(key: str) -> Handler:
    async def handler(engine: Any, params: Params) -> Reply:
        SEEN.append((key, params))
        return 200, {"key": key, "params": params}

    return handler


async def _fails(engine: Any, params: Params) -> Reply:
    raise AriError(404, "Channel not found")


async def _crashes(engine: Any, params: Params) -> Reply:
    raise RuntimeError("boom")


async def _empty(engine: Any, params: Params) -> Reply:
    return 204, None


async def _ok_without_body(engine: Any, params: Params) -> Reply:
    return 200, None


HANDLERS: dict[str, Handler] = {op.key: _echo(op.key) for op in OPERATIONS if not op.websocket}
HANDLERS["channels.get"] = _fails
HANDLERS["bridges.get"] = _crashes
HANDLERS["channels.answer"] = _empty
HANDLERS["channels.ring"] = _ok_without_body
del HANDLERS["mailboxes.delete"]


@pytest.fixture
async def fetch() -> AsyncIterator[Fetch]:
    SEEN.clear()
    app = web.Application()
    add_ari_routes(app, engine=None, handlers=HANDLERS, username=USER, password=PASSWORD)  # type: ignore[arg-type]
    async with serving(app) as base, aiohttp.ClientSession() as session:
        yield make_fetch(session, base)


# --- authentication -------------------------------------------------------------------------------


async def test_no_credentials_is_401_with_a_basic_challenge(fetch: Fetch) -> None:
    status, body, response = await fetch("GET", "/ari/channels", auth=None)
    assert status == 401
    assert body == {"message": "Authentication required"}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Asterisk REST Interface"'
    assert response.headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"auth": AUTH}, 200),
        ({"auth": basic(USER, "wrong")}, 401),
        ({"auth": None, "params": {"api_key": f"{USER}:{PASSWORD}"}}, 200),
        ({"auth": None, "params": {"api_key": f"{USER}:nope"}}, 401),
        ({"auth": None, "params": {"api_key": USER}}, 401),
        # A Basic header is used when present; api_key is then not consulted.
        ({"auth": basic(USER, "wrong"), "params": {"api_key": f"{USER}:{PASSWORD}"}}, 401),
    ],
)
async def test_basic_auth_and_api_key(fetch: Fetch, kwargs: dict[str, Any], expected: int) -> None:
    status, _, _ = await fetch("GET", "/ari/channels", **kwargs)
    assert status == expected


async def test_authentication_comes_before_routing(fetch: Fetch) -> None:
    status, body, _ = await fetch("GET", "/ari/nothing/here", auth=None)
    assert (status, body) == (401, {"message": "Authentication required"})


# --- routing --------------------------------------------------------------------------------------


async def test_unknown_path_is_404_resource_not_found(fetch: Fetch) -> None:
    assert (await fetch("GET", "/ari/nonsense"))[:2] == (404, {"message": "Resource not found"})
    assert (await fetch("GET", "/ari/channels/abc/nonsense"))[:2] == (404, {"message": "Resource not found"})


async def test_trailing_slash_is_404_with_a_hint(fetch: Fetch) -> None:
    status, body, _ = await fetch("GET", "/ari/channels/")
    assert (status, body) == (404, {"message": "ARI URLs do not end with a slash. Try /ari/channels"})


async def test_wrong_method_is_405_invalid_method_with_allow(fetch: Fetch) -> None:
    status, body, response = await fetch("DELETE", "/ari/channels")
    assert (status, body) == (405, {"message": "Invalid method"})
    assert response.headers["Allow"] == "OPTIONS,GET,POST"


async def test_literal_segment_wins_over_a_variable_like_asterisk(fetch: Fetch) -> None:
    # /channels/create only has POST; Asterisk does not fall back to GET /channels/{channelId}.
    status, body, response = await fetch("GET", "/ari/channels/create")
    assert (status, body) == (405, {"message": "Invalid method"})
    assert response.headers["Allow"] == "OPTIONS,POST"


async def test_options_lists_the_methods(fetch: Fetch) -> None:
    status, body, response = await fetch("OPTIONS", "/ari/channels/abc")
    assert (status, body) == (204, None)
    assert response.headers["Allow"] == "OPTIONS,GET,POST,DELETE"


async def test_missing_handler_is_501_naming_the_operation(fetch: Fetch) -> None:
    status, body, _ = await fetch("DELETE", "/ari/mailboxes/box1")
    assert (status, body) == (501, {"message": "mailboxes.delete is not implemented by the simulator"})


def _sample_path(op: Operation) -> str:
    path = op.path
    for param in op.params:
        if param.where == "path":
            path = path.replace("{" + param.name + "}", f"x-{param.name}")
    return "/ari" + path


def _required_values(op: Operation) -> tuple[dict[str, str], dict[str, Any] | None]:
    query: dict[str, str] = {}
    body: dict[str, Any] | None = None
    for param in op.params:
        if not param.required or param.where == "path":
            continue
        if param.where == "body":
            body = {param.name: {"K": "V"}}
        elif param.choices:
            query[param.name] = param.choices[0]
        elif param.data_type in ("int", "long"):
            query[param.name] = "1"
        else:
            query[param.name] = "value"
    return query, body


@pytest.mark.parametrize("op", [op for op in OPERATIONS if not op.websocket], ids=lambda op: op.key)
async def test_every_operation_reaches_its_handler(fetch: Fetch, op: Operation) -> None:
    query, body = _required_values(op)
    status, answer, _ = await fetch(op.method, _sample_path(op), params=query, json=body)
    if op.key == "mailboxes.delete":
        assert status == 501
        return
    if op.key in ("channels.get", "bridges.get", "channels.answer", "channels.ring"):
        assert status in (404, 500, 204)
        return
    assert status == 200, answer
    assert isinstance(answer, dict) and answer["key"] == op.key
    for param in op.params:
        if param.where == "path":
            assert answer["params"][param.name] == f"x-{param.name}"


# --- handler answers ------------------------------------------------------------------------------


async def test_ari_error_becomes_its_status_and_message(fetch: Fetch) -> None:
    assert (await fetch("GET", "/ari/channels/nope"))[:2] == (404, {"message": "Channel not found"})


async def test_unexpected_exception_is_500_with_a_message(fetch: Fetch) -> None:
    status, body, _ = await fetch("GET", "/ari/bridges/b1")
    assert status == 500
    assert isinstance(body, dict) and "bridges.get" in body["message"] and "boom" in body["message"]


async def test_empty_answers_have_no_body(fetch: Fetch) -> None:
    status, body, _ = await fetch("POST", "/ari/channels/c1/answer")
    assert (status, body) == (204, None)
    status, body, _ = await fetch("POST", "/ari/channels/c1/ring")
    assert (status, body) == (204, None)


# --- parameters -----------------------------------------------------------------------------------


async def _params(fetch: Fetch, method: str, path: str, **kwargs: Any) -> Params:
    status, body, _ = await fetch(method, path, **kwargs)
    assert status == 200, body
    assert isinstance(body, dict)
    params: Params = body["params"]
    return params


async def test_ints_follow_c_atoi_and_booleans_asterisk_words(fetch: Fetch) -> None:
    params = await _params(
        fetch,
        "POST",
        "/ari/channels/c1/record",
        params={"name": "r", "format": "wav", "maxDurationSeconds": "12s"},
    )
    assert params["maxDurationSeconds"] == 12
    assert params["beep"] is False and params["ifExists"] == "fail" and params["terminateOn"] == "none"
    params = await _params(
        fetch, "POST", "/ari/channels/c1/record", params={"name": "r", "format": "wav", "beep": "yes"}
    )
    assert params["beep"] is True and params["maxDurationSeconds"] == 0
    params = await _params(fetch, "POST", "/ari/channels", params={"endpoint": "PJSIP/1", "timeout": "abc"})
    assert params["timeout"] == 0


async def test_defaults_are_filled_in(fetch: Fetch) -> None:
    params = await _params(fetch, "POST", "/ari/channels", params={"endpoint": "PJSIP/1001"})
    assert params == {"endpoint": "PJSIP/1001", "timeout": 30}


async def test_allow_multiple_splits_on_commas_outside_quotes(fetch: Fetch) -> None:
    params = await _params(fetch, "POST", "/ari/bridges/b1/addChannel", params={"channel": 'a,b,"c,d",e\\,f'})
    assert params["channel"] == ["a", "b", "c,d", "e,f"]
    assert separate_args("sound:x,") == ["sound:x", ""]
    assert separate_args("func(a,b),c") == ["func(a,b)", "c"]


async def test_json_body_keys_supply_and_override_parameters(fetch: Fetch) -> None:
    body = {"endpoint": "PJSIP/2", "app": "oc", "variables": {"CALLERID(name)": "Ann"}, "timeout": 5}
    params = await _params(
        fetch, "POST", "/ari/channels", params={"endpoint": "PJSIP/1", "timeout": "9"}, json=body
    )
    assert params["endpoint"] == "PJSIP/2"
    assert params["timeout"] == 5
    assert params["app"] == "oc"
    assert params["variables"] == {"CALLERID(name)": "Ann"}
    params = await _params(fetch, "POST", "/ari/channels/c1/play", json={"media": ["sound:a", "sound:b"]})
    assert params["media"] == ["sound:a", "sound:b"]


async def test_form_fields_count_but_query_wins(fetch: Fetch) -> None:
    params = await _params(
        fetch,
        "POST",
        "/ari/channels?context=from-query",
        data={"endpoint": "PJSIP/9", "context": "from-form"},
    )
    assert params["endpoint"] == "PJSIP/9"
    assert params["context"] == "from-query"


async def test_filter_body_is_the_whole_object(fetch: Fetch) -> None:
    body = {"allowed": [{"type": "StasisStart"}], "disallowed": []}
    params = await _params(fetch, "PUT", "/ari/applications/app1/eventFilter", json=body)
    assert params == {"applicationName": "app1", "filter": body}


async def test_path_segments_are_decoded(fetch: Fetch) -> None:
    params = await _params(fetch, "GET", "/ari/endpoints/PJSIP/a%2Fb+c")
    assert params == {"tech": "PJSIP", "resource": "a/b c"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "message"),
    [
        ("POST", "/ari/channels", {}, "Endpoint must be specified"),
        ("POST", "/ari/channels", {"params": {"endpoint": ""}}, "Endpoint must be specified"),
        ("POST", "/ari/channels", {"json": {"endpoint": 5}}, "Endpoint must be specified"),
        ("POST", "/ari/channels/c1/redirect", {}, "Required parameter 'endpoint' not provided."),
        ("POST", "/ari/bridges/b1/addChannel", {}, "Missing parameter channel"),
        ("GET", "/ari/channels/c1/variable", {}, "Variable name is required"),
        ("GET", "/ari/channels/c1/variables", {}, "At least one variable name is required"),
        ("POST", "/ari/channels/c1/variables", {}, "The 'variables' field is required"),
        (
            "POST",
            "/ari/channels/c1/variables",
            {"json": {"variables": "x"}},
            "The 'variables' field must be a JSON object",
        ),
        ("POST", "/ari/channels/c1/snoop", {}, "Application name is required"),
        (
            "POST",
            "/ari/channels/c1/snoop",
            {"params": {"app": "a", "spy": "up"}},
            "Invalid direction specified for spy",
        ),
        (
            "DELETE",
            "/ari/channels/c1",
            {"params": {"reason": "tired"}},
            "Invalid reason for hangup reason provided",
        ),
        ("POST", "/ari/channels/c1/mute", {"params": {"direction": "up"}}, "Invalid direction specified"),
        (
            "POST",
            "/ari/channels/c1/play",
            {"params": {"media": "sound:x", "skipms": "-1"}},
            "skipms cannot be negative",
        ),
        (
            "POST",
            "/ari/channels/c1/play",
            {"params": {"media": "s", "offsetms": "-5"}},
            "offsetms cannot be negative",
        ),
        (
            "POST",
            "/ari/channels/c1/record",
            {"params": {"name": "r", "format": "wav", "ifExists": "keep"}},
            "ifExists invalid",
        ),
        (
            "POST",
            "/ari/channels/c1/record",
            {"params": {"name": "r", "format": "wav", "maxSilenceSeconds": "-1"}},
            "max_silence_seconds cannot be negative",
        ),
        ("POST", "/ari/playbacks/p1/control", {}, "Missing operation"),
        ("POST", "/ari/playbacks/p1/control", {"params": {"operation": "jump"}}, "Invalid operation jump"),
        ("POST", "/ari/applications/a/subscription", {}, "Missing parameter eventSource"),
        (
            "POST",
            "/ari/channels/c1/play",
            {"params": {"media": ",".join(["m"] * 128)}},
            "Too many values for media",
        ),
        ("POST", "/ari/channels/externalMedia", {"params": {"format": "ulaw"}}, "app cannot be empty"),
        (
            "POST",
            "/ari/channels",
            {"data": "{not json", "headers": {"Content-Type": "application/json"}},
            "Error parsing request body",
        ),
    ],
)
async def test_bad_parameters_are_400_with_asterisks_message(
    fetch: Fetch, method: str, path: str, kwargs: dict[str, Any], message: str
) -> None:
    status, body, _ = await fetch(method, path, **kwargs)
    assert (status, body) == (400, {"message": message})
    assert not SEEN, "the handler must not run"


async def test_get_info_ignores_unknown_sections_like_asterisk(fetch: Fetch) -> None:
    params = await _params(fetch, "GET", "/ari/asterisk/info", params={"only": "build,nonsense"})
    assert params["only"] == ["build", "nonsense"]


async def test_answers_are_compact_json(fetch: Fetch) -> None:
    status, body, response = await fetch("GET", "/ari/asterisk/ping")
    assert status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert isinstance(body, dict) and body["key"] == "asterisk.ping"

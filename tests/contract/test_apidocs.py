"""The served Swagger documents: what aioari loads, and the same facts as Asterisk's documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aioari
import aiohttp
import pytest
from aiohttp import web

from ari_sim.apidocs import add_apidocs_routes
from ari_sim.description import OPERATIONS, RESOURCES
from ari_sim.router import add_ari_routes
from ari_sim.types import Params, Reply

from .ari_models import load_spec
from .conftest import PASSWORD, USER, Fetch, make_fetch, serving

PING = {"asterisk_id": "02:42:ac:11:00:02", "ping": "pong", "timestamp": "2026-11-29T08:31:09.123+0000"}


async def _ping(engine: Any, params: Params) -> Reply:
    return 200, PING


@pytest.fixture
async def base() -> AsyncIterator[str]:
    app = web.Application()
    add_apidocs_routes(app)
    add_ari_routes(app, engine=None, handlers={"asterisk.ping": _ping}, username=USER, password=PASSWORD)  # type: ignore[arg-type]
    async with serving(app) as url:
        yield url


@pytest.fixture
async def fetch(base: str) -> AsyncIterator[Fetch]:
    async with aiohttp.ClientSession() as session:
        yield make_fetch(session, base)


async def test_resource_listing_points_back_at_the_server(fetch: Fetch, base: str) -> None:
    status, body, _ = await fetch("GET", "/ari/api-docs/resources.json")
    assert status == 200 and isinstance(body, dict)
    assert body["swaggerVersion"] == "1.1"
    assert body["basePath"] == base + "/ari"
    assert [api["path"] for api in body["apis"]] == [api["path"] for api in load_spec().listing["apis"]]


async def test_base_path_follows_the_host_header(fetch: Fetch) -> None:
    status, body, _ = await fetch("GET", "/ari/api-docs/channels.json", headers={"Host": "pbx.example:8088"})
    assert status == 200 and isinstance(body, dict)
    assert body["basePath"] == "http://pbx.example:8088/ari"


async def test_docs_need_credentials_and_get(fetch: Fetch) -> None:
    assert (await fetch("GET", "/ari/api-docs/resources.json", auth=None))[:2] == (
        401,
        {"message": "Authentication required"},
    )
    assert (await fetch("GET", "/ari/api-docs/nothing.json"))[:2] == (404, {"message": "Resource not found"})
    assert (await fetch("POST", "/ari/api-docs/resources.json"))[:2] == (
        405,
        {"message": "Unsupported method"},
    )


def _param_facts(param: dict[str, Any]) -> tuple[Any, ...]:
    required = bool(param.get("required")) or param["paramType"] == "path"
    return (
        param["name"],
        param["paramType"],
        param["dataType"],
        required,
        bool(param.get("allowMultiple")),
        param.get("allowableValues"),
        param.get("defaultValue"),
    )


def _op_facts(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, ...]]:
    facts = {}
    for api in doc["apis"]:
        for op in api["operations"]:
            facts[(api["path"], op["httpMethod"])] = (
                op["nickname"],
                op["responseClass"],
                op.get("upgrade"),
                sorted(int(err["code"]) for err in op.get("errorResponses", [])),
                [_param_facts(p) for p in op.get("parameters", [])],
            )
    return facts


def _model_facts(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        name: (
            {
                p: (v["type"], bool(v.get("required")), v.get("allowableValues"))
                for p, v in m["properties"].items()
            },
            m.get("subTypes"),
            m.get("discriminator"),
        )
        for name, m in doc["models"].items()
    }


@pytest.mark.parametrize("name", [res.name for res in RESOURCES])
async def test_served_document_states_the_same_facts_as_asterisk(fetch: Fetch, name: str) -> None:
    status, served, _ = await fetch("GET", f"/ari/api-docs/{name}.json")
    assert status == 200 and isinstance(served, dict)
    theirs = load_spec().documents[name]
    assert served["resourcePath"] == theirs["resourcePath"]
    assert _op_facts(served) == _op_facts(theirs)
    assert _model_facts(served) == _model_facts(theirs)


async def test_aioari_builds_a_client_with_every_resource_and_operation(base: str) -> None:
    client = await aioari.connect(base + "/", USER, PASSWORD)
    try:
        resources = client.swagger.resources
        assert set(resources) == {res.name for res in RESOURCES}
        for op in OPERATIONS:
            assert resources[op.resource].get_operation(op.nickname) is not None, op.key
        assert set(client.event_models) >= {"StasisStart", "ChannelDestroyed", "Dial"}
        response = await client.asterisk.ping()
        assert response == PING
    finally:
        await client.close()

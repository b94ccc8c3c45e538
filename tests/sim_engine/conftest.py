"""A real simulator server on an ephemeral loopback port, real HTTP and websocket clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from simulator_http import served_simulator

from ari_sim.engine import Engine
from ari_sim.settings import SimSettings

TIME_SCALE = 0.01


class EventStream:
    """The events one websocket receives, read in order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def next(self, wait: float = 2.0) -> dict[str, Any]:
        msg = await self.ws.receive(timeout=wait)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        event: dict[str, Any] = json.loads(msg.data)
        self.seen.append(event)
        return event

    async def take(self, count: int, wait: float = 2.0) -> list[dict[str, Any]]:
        return [await self.next(wait) for _ in range(count)]

    async def until(self, event_type: str, wait: float = 2.0, limit: int = 50) -> list[dict[str, Any]]:
        """Events up to and including the first of `event_type`."""
        got: list[dict[str, Any]] = []
        for _ in range(limit):
            event = await self.next(wait)
            got.append(event)
            if event["type"] == event_type:
                return got
        raise AssertionError(f"no {event_type} in {[e['type'] for e in got]}")

    async def until_match(
        self, predicate: Callable[[dict[str, Any]], bool], wait: float = 2.0, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Events up to and including the first one `predicate` accepts."""
        got: list[dict[str, Any]] = []
        for _ in range(limit):
            event = await self.next(wait)
            got.append(event)
            if predicate(event):
                return got
        raise AssertionError(f"no matching event in {[e['type'] for e in got]}")

    async def quiet(self, seconds: float = 0.1) -> None:
        """Assert nothing more arrives for a while."""
        with pytest.raises(asyncio.TimeoutError):
            event = await self.next(wait=seconds)
            raise AssertionError(f"unexpected event {event}")


class Sim:
    def __init__(self, engine: Engine, base: str, session: aiohttp.ClientSession) -> None:
        self.engine = engine
        self.base = base
        self.http = session

    async def call(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        query = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items()}
        async with self.http.request(method, f"{self.base}/ari{path}", params=query) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        status, body = await self.call(method, path, **params)
        assert status in (200, 201, 204), (status, body)
        return body

    async def events(self, app: str, subscribe_all: bool = False) -> EventStream:
        ws = await self.http.ws_connect(
            f"{self.base}/ari/events", params={"app": app, "subscribeAll": str(subscribe_all).lower()}
        )
        await asyncio.sleep(0.01)
        return EventStream(ws)


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with served_simulator(SimSettings(port=0, time_scale=TIME_SCALE)) as (engine, base, session):
        yield Sim(engine, base, session)


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]

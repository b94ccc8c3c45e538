"""Servers on ephemeral loopback ports for the contract tests."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from aiohttp import web

USER = "asterisk"
PASSWORD = "secret"


def basic(username: str, password: str) -> dict[str, str]:
    """An `Authorization: Basic` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


AUTH = basic(USER, PASSWORD)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on 127.0.0.1 with a port the system picks; yields `http://127.0.0.1:<port>`."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


Fetch = Callable[..., Awaitable[tuple[int, object, aiohttp.ClientResponse]]]


def make_fetch(session: aiohttp.ClientSession, base: str) -> Fetch:
    """`await fetch(method, path, auth=headers|None, **kw)` -> (status, JSON body or None, response).

    Requests carry the test user's Basic credentials unless `auth` says otherwise.
    """

    async def fetch(
        method: str, path: str, auth: dict[str, str] | None = AUTH, **kwargs: Any
    ) -> tuple[int, object, aiohttp.ClientResponse]:
        headers = {**(auth or {}), **kwargs.pop("headers", {})}
        async with session.request(method, base + path, headers=headers, **kwargs) as response:
            text = await response.text()
            body = None
            if text:
                body = await response.json(content_type=None)
            return response.status, body, response

    return fetch

"""GET /ari/events: the Stasis applications' event stream.

The applications named in `app` are registered while the socket is open (a second socket for the
same name replaces the first, which gets ApplicationReplaced); every event is one JSON text frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web

from ari_sim.engine import Engine, EventQueue
from ari_sim.router import is_authenticated, unauthorized

ENGINE_KEY: web.AppKey[Engine] = web.AppKey("ari_sim_engine", Engine)


async def events_socket(request: web.Request) -> web.StreamResponse:
    if not is_authenticated(request):
        return unauthorized()
    names = [n.strip() for n in request.query.get("app", "").split(",") if n.strip()]
    if not names:
        # Asterisk answers with its plain HTTP error page here, not a JSON body.
        return web.Response(status=400, text="HTTP request is missing param: [app]", content_type="text/html")
    subscribe_all = request.query.get("subscribeAll", "false").lower() in ("true", "yes", "1", "on")
    engine = request.app[ENGINE_KEY]
    ws = web.WebSocketResponse(heartbeat=None)
    await ws.prepare(request)
    queue: EventQueue = asyncio.Queue()
    for name in names:
        engine.register_app(name, queue, subscribe_all)
    sender = asyncio.ensure_future(_pump(queue, ws))
    try:
        async for msg in ws:
            if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
            if sender.done():
                break
    finally:
        for name in names:
            engine.unregister_app(name, queue)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        await ws.close()
    return ws


async def _pump(queue: EventQueue, ws: web.WebSocketResponse) -> None:
    """Forward events until the queue is closed (None) or the socket goes away."""
    while True:
        event: dict[str, Any] | None = await queue.get()
        if event is None:
            await ws.close()
            return
        if ws.closed:
            return
        await ws.send_str(json.dumps(event))


def add_events_route(app: web.Application, engine: Engine) -> None:
    """Must be added before the ARI catch-all routes so /ari/events reaches it."""
    app[ENGINE_KEY] = engine
    app.router.add_get("/ari/events", events_socket)

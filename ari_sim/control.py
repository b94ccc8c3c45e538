"""The simulator's control side: plays the callers and the phones over JSON HTTP under `/_sim/`.

Tests and demos script the outside world here (register a phone, make it busy, place a call to a
DID, answer, hang up, press keys, ask what a far end heard) while the system under test talks ARI
to the same server. The routes use the same credentials as ARI so one client serves both.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, cast

from aiohttp import web

from ari_sim.engine import PhoneBehaviour
from ari_sim.errors import AriError

if TYPE_CHECKING:
    from ari_sim.engine import Engine

PhoneMode = Literal["answer", "ring", "busy", "reject", "unreachable"]
PHONE_MODES: tuple[PhoneMode, ...] = ("answer", "ring", "busy", "reject", "unreachable")
DTMF_DIGITS = re.compile(r"^[0-9A-Da-d*#]+$")
TECH_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESOURCE_NAME = re.compile(r"^[^/\s]+$")
CHANNEL_ID = re.compile(r"^[^/\s]+$")
ENDPOINT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*/[^/\s]+$")

JsonHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlInputError(Exception):
    """A control request that cannot be carried out as written (answered 400)."""


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def credentials_match(request: web.Request, username: str, password: str) -> bool:
    """ARI's two ways of authenticating: HTTP basic auth, or `api_key=user:password`."""
    api_key = request.query.get("api_key")
    if api_key is not None:
        return api_key == f"{username}:{password}"
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return decoded == f"{username}:{password}"


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object body; an empty body counts as `{}`."""
    if not request.can_read_body:
        return {}
    text = await request.text()
    if not text.strip():
        return {}
    try:
        body = json.loads(text)
    except ValueError as error:
        raise ControlInputError(f"body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise ControlInputError("body must be a JSON object")
    return body


def reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ControlInputError(
            f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )


def string_field(body: dict[str, Any], name: str, *, required: bool, default: str = "") -> str:
    if name not in body or body[name] is None:
        if required:
            raise ControlInputError(f"'{name}' is required")
        return default
    value = body[name]
    if not isinstance(value, str):
        raise ControlInputError(f"'{name}' must be a string")
    if required and not value:
        raise ControlInputError(f"'{name}' must not be empty")
    return value


def int_field(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    if name not in body:
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlInputError(f"'{name}' must be an integer")
    if not low <= value <= high:
        raise ControlInputError(f"'{name}' must be between {low} and {high}")
    return value


def parse_behaviour(body: dict[str, Any]) -> tuple[PhoneMode, float]:
    """`{"mode": ..., "answer_after": seconds}`; both optional (answer at once)."""
    reject_unknown(body, {"mode", "answer_after"})
    mode = body.get("mode", "answer")
    if mode not in PHONE_MODES:
        raise ControlInputError(f"'mode' must be one of {', '.join(PHONE_MODES)}")
    after = body.get("answer_after", 0.0)
    if isinstance(after, bool) or not isinstance(after, int | float) or not math.isfinite(after):
        raise ControlInputError("'answer_after' must be a number of seconds")
    if after < 0:
        raise ControlInputError("'answer_after' must not be negative")
    return cast(PhoneMode, mode), float(after)


def path_part(request: web.Request, name: str, pattern: re.Pattern[str], what: str) -> str:
    value = request.match_info[name]
    if not pattern.match(value):
        raise ControlInputError(f"'{value}' is not a valid {what}")
    return value


class ControlRoutes:
    """The `/_sim/` handlers bound to one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def behaviour(self, mode: PhoneMode, answer_after: float) -> PhoneBehaviour:
        return PhoneBehaviour(mode=mode, answer_after=answer_after)

    def phone(self, request: web.Request) -> tuple[str, str]:
        tech = path_part(request, "tech", TECH_NAME, "channel technology")
        resource = path_part(request, "resource", RESOURCE_NAME, "endpoint resource")
        return tech, resource

    def channel(self, request: web.Request) -> str:
        return path_part(request, "channel_id", CHANNEL_ID, "channel id")

    async def register_phone(self, request: web.Request) -> web.StreamResponse:
        tech, resource = self.phone(request)
        mode, after = parse_behaviour(await read_object(request))
        await self.engine.register_phone(resource, self.behaviour(mode, after), tech=tech)
        return web.json_response({"endpoint": f"{tech}/{resource}", "mode": mode, "answer_after": after})

    async def unregister_phone(self, request: web.Request) -> web.StreamResponse:
        tech, resource = self.phone(request)
        await self.engine.unregister_phone(resource, tech=tech)
        return web.Response(status=204)

    async def set_behaviour(self, request: web.Request) -> web.StreamResponse:
        tech, resource = self.phone(request)
        mode, after = parse_behaviour(await read_object(request))
        await self.engine.set_phone_behaviour(resource, self.behaviour(mode, after), tech=tech)
        return web.json_response({"endpoint": f"{tech}/{resource}", "mode": mode, "answer_after": after})

    async def phone_channels(self, request: web.Request) -> web.StreamResponse:
        tech, resource = self.phone(request)
        return web.json_response({"channels": list(self.engine.channels_of(f"{tech}/{resource}"))})

    async def place_call(self, request: web.Request) -> web.StreamResponse:
        body = await read_object(request)
        reject_unknown(body, {"to", "caller_number", "caller_name", "context", "from_endpoint"})
        to = string_field(body, "to", required=True)
        caller_number = string_field(body, "caller_number", required=False)
        caller_name = string_field(body, "caller_name", required=False)
        context = string_field(body, "context", required=False, default="from-trunk") or "from-trunk"
        from_endpoint: str | None = string_field(body, "from_endpoint", required=False) or None
        if from_endpoint is not None and not ENDPOINT_NAME.match(from_endpoint):
            raise ControlInputError("'from_endpoint' must look like 'PJSIP/1001'")
        channel_id = await self.engine.place_call(
            to,
            caller_number,
            caller_name=caller_name,
            context=context,
            from_endpoint=from_endpoint,
        )
        return web.json_response({"channel_id": channel_id})

    async def answer(self, request: web.Request) -> web.StreamResponse:
        channel_id = self.channel(request)
        reject_unknown(await read_object(request), set())
        await self.engine.far_end_answer(channel_id)
        return web.Response(status=204)

    async def hangup(self, request: web.Request) -> web.StreamResponse:
        channel_id = self.channel(request)
        body = await read_object(request)
        reject_unknown(body, {"cause"})
        cause = int_field(body, "cause", 16, 0, 127)
        await self.engine.far_end_hangup(channel_id, cause=cause)
        return web.Response(status=204)

    async def dtmf(self, request: web.Request) -> web.StreamResponse:
        channel_id = self.channel(request)
        body = await read_object(request)
        reject_unknown(body, {"digits", "duration_ms"})
        digits = string_field(body, "digits", required=True)
        if not DTMF_DIGITS.match(digits):
            raise ControlInputError("'digits' may hold only 0-9, A-D, * and #")
        duration_ms = int_field(body, "duration_ms", 100, 1, 60_000)
        await self.engine.far_end_dtmf(channel_id, digits.upper(), duration_ms=duration_ms)
        return web.Response(status=204)

    async def heard(self, request: web.Request) -> web.StreamResponse:
        channel_id = self.channel(request)
        return web.json_response({"channel_id": channel_id, "heard": list(self.engine.heard(channel_id))})

    async def snapshot(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.engine.snapshot())


def guarded(handler: JsonHandler, username: str, password: str) -> JsonHandler:
    """Authenticate, then turn input and engine errors into JSON answers with their status."""

    async def run(request: web.Request) -> web.StreamResponse:
        if not credentials_match(request, username, password):
            return web.json_response(
                {"message": "Authentication required"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="Asterisk REST Interface"'},
            )
        try:
            return await handler(request)
        except ControlInputError as error:
            return json_error(400, str(error))
        except AriError as error:
            return web.json_response(error.body(), status=error.status)
        except KeyError as error:
            return json_error(404, f"not found: {error.args[0] if error.args else ''}")
        except ValueError as error:
            return json_error(400, str(error))

    return run


def add_control_routes(app: web.Application, engine: Engine) -> None:
    """Register the `/_sim/` routes on the simulator's application."""
    settings = engine.settings
    routes = ControlRoutes(engine)
    phone = "/_sim/phones/{tech}/{resource}"
    channel = "/_sim/channels/{channel_id}"
    table: list[tuple[str, str, JsonHandler]] = [
        ("POST", phone, routes.register_phone),
        ("DELETE", phone, routes.unregister_phone),
        ("PUT", phone + "/behaviour", routes.set_behaviour),
        ("GET", phone + "/channels", routes.phone_channels),
        ("POST", "/_sim/calls", routes.place_call),
        ("POST", channel + "/answer", routes.answer),
        ("POST", channel + "/hangup", routes.hangup),
        ("POST", channel + "/dtmf", routes.dtmf),
        ("GET", channel + "/heard", routes.heard),
        ("GET", "/_sim/snapshot", routes.snapshot),
    ]
    for method, path, handler in table:
        app.router.add_route(method, path, guarded(handler, settings.username, settings.password))

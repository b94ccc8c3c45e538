"""ARI's REST routes, built from the description, answering the way Asterisk's res_ari does.

Asterisk resolves a request by walking a tree of path segments (a literal segment wins over a
`{variable}` one), so `GET /ari/channels/create` is a 405 and not a lookup of a channel called
"create". The simulator walks the same tree instead of relying on aiohttp's matching; one
catch-all route under `/ari` feeds it. More specific routes (the events websocket, api-docs) are
indexed by aiohttp ahead of the catch-all whatever the order they were added in.

Parameters are read the way the generated `res_ari_*.c` code reads them: form fields, then the
query string (the later occurrence wins), then the keys of a JSON body, which override both.
Integers use C `atoi` rules, booleans Asterisk's `ast_true` words, allowMultiple values are split
on commas outside quotes and brackets. Body parameters arrive as the value under their own key
(`variables`, `fields`), except `filter`, which is the whole JSON body, as Asterisk hands it over.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

from aiohttp import web

from ari_sim.description import OPERATIONS, Operation, Param
from ari_sim.errors import AriError
from ari_sim.types import Handler, Params

if TYPE_CHECKING:
    from ari_sim.engine import Engine

log = logging.getLogger(__name__)

#: Credentials the ARI routes (and the api-docs) accept: (username, password).
ARI_CREDENTIALS: web.AppKey[tuple[str, str]] = web.AppKey("ari_sim_credentials", tuple)

#: Asterisk's default `auth_realm` from ari.conf.
AUTH_REALM = "Asterisk REST Interface"

#: Asterisk's generated code refuses this many values (or more) for one allowMultiple parameter.
MAX_VALUES = 128

#: HTTP methods in the order of Asterisk's `enum ast_http_method`, which orders the Allow header.
_METHOD_ORDER = ("GET", "POST", "HEAD", "PUT", "DELETE")


def json_response(status: int, body: Any) -> web.Response:
    """A JSON answer as res_ari writes it: compact, `application/json`; no body for None."""
    if body is None:
        return web.Response(status=204 if status == 200 else status)
    text = json.dumps(body, separators=(",", ":"))
    return web.Response(status=status, text=text, content_type="application/json")


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    response = json_response(status, {"message": message})
    if headers:
        response.headers.update(headers)
    return response


def _basic_credentials(request: web.Request) -> tuple[str, str] | None:
    """The first usable `Authorization: Basic` header, like ast_http_get_auth."""
    for value in request.headers.getall("Authorization", []):
        if not value.startswith("Basic "):
            continue
        try:
            decoded = base64.b64decode(value[6:].strip(), validate=False).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            decoded = ""
        username, sep, password = decoded.partition(":")
        if sep and password:
            return username, password
    return None


def _api_key_credentials(request: web.Request) -> tuple[str, str] | None:
    """`?api_key=user:password`: only the first api_key counts, and it needs a password."""
    if "api_key" not in request.query:
        return None
    username, _, password = request.query["api_key"].partition(":")
    return (username, password) if password else None


def is_authenticated(request: web.Request) -> bool:
    """Basic auth when the request carries it, otherwise `api_key`, checked against the app's user."""
    expected = request.app.get(ARI_CREDENTIALS)
    if expected is None:
        return True
    given = _basic_credentials(request) or _api_key_credentials(request)
    return given == expected


def unauthorized() -> web.Response:
    return error_response(401, "Authentication required", {"WWW-Authenticate": f'Basic realm="{AUTH_REALM}"'})


# --- the path tree --------------------------------------------------------------------------------


@dataclass
class _Node:
    """One path segment: literal children, at most one `{variable}` child, and its operations."""

    literals: dict[str, _Node] = field(default_factory=dict)
    variable: tuple[str, _Node] | None = None
    methods: dict[str, Operation] = field(default_factory=dict)

    def allow_header(self) -> str:
        return ",".join(["OPTIONS", *[m for m in _METHOD_ORDER if m in self.methods]])


def build_tree(operations: tuple[Operation, ...] = OPERATIONS) -> _Node:
    root = _Node()
    for op in operations:
        node = root
        for segment in op.path.strip("/").split("/"):
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.variable is None:
                    node.variable = (name, _Node())
                assert node.variable[0] == name, f"two variable names under one segment: {op.path}"
                node = node.variable[1]
            else:
                node = node.literals.setdefault(segment, _Node())
        node.methods[op.method] = op
    return root


def resolve(root: _Node, raw_path: str) -> tuple[_Node, dict[str, str]] | None:
    """Walk the tree like ast_ari_invoke: each segment decoded, stopping at an empty segment."""
    node = root
    path_vars: dict[str, str] = {}
    for raw in raw_path.split("/"):
        if not raw:
            break
        segment = unquote_plus(raw)
        if segment in node.literals:
            node = node.literals[segment]
        elif node.variable is not None:
            name, node = node.variable
            path_vars[name] = segment
        else:
            return None
    return node, path_vars


# --- parameter parsing ----------------------------------------------------------------------------


def c_atoi(text: str) -> int:
    """C's atoi/atol: optional blanks and sign, then as many digits as there are; otherwise 0."""
    match = re.match(r"\s*([+-]?\d+)", text)
    return int(match.group(1)) if match else 0


def ast_true(text: str) -> bool:
    return text.strip().lower() in {"yes", "true", "y", "t", "1", "on"}


def separate_args(text: str) -> list[str]:
    """Split on commas outside quotes, brackets and parentheses (quotes and backslashes removed)."""
    if text == "":
        return [""]
    values: list[str] = []
    current: list[str] = []
    paren = bracket = 0
    quote = False
    chars = iter(text)
    for raw in chars:
        char = raw
        if char == "(":
            paren += 1
        elif char == ")":
            paren = max(paren - 1, 0)
        elif char == "[":
            bracket += 1
        elif char == "]":
            bracket = max(bracket - 1, 0)
        elif char == '"':
            quote = not quote
            continue
        elif char == "\\":
            char = next(chars, "")
        elif char == "," and not (paren or quote or bracket):
            values.append("".join(current))
            current = []
            continue
        current.append(char)
    values.append("".join(current))
    return values


class BadRequest(Exception):
    """A parameter problem answered with 400 before any handler runs."""


def _from_text(param: Param, text: str) -> Any:
    if param.multiple:
        values = separate_args(text)
        if len(values) >= MAX_VALUES:
            raise BadRequest(f"Too many values for {param.name}")
        return values
    if param.data_type in ("int", "long"):
        return c_atoi(text)
    if param.data_type == "boolean":
        return ast_true(text)
    return text


def _from_json(param: Param, value: Any) -> Any:
    """A JSON body field as the generated *_parse_body functions read it."""
    if param.multiple:
        items = value if isinstance(value, list) else [value]
        return [item for item in items if isinstance(item, str)]
    if param.data_type in ("int", "long"):
        return value if isinstance(value, int) and not isinstance(value, bool) else 0
    if param.data_type == "boolean":
        return value is True
    return value if isinstance(value, str) else None


def _is_missing(value: Any) -> bool:
    if value is None or value == "":
        return True
    return isinstance(value, list) and all(item == "" for item in value)


def _check(param: Param, value: Any) -> None:
    values = value if isinstance(value, list) else [value]
    if param.choices and not param.lenient:
        for item in values:
            if item not in param.choices:
                template = param.invalid or f"{param.name} invalid"
                raise BadRequest(template.replace("{value}", str(item)))
    floor = 0 if param.non_negative else None if param.lenient else param.minimum
    if floor is not None and isinstance(value, int) and value < floor:
        raise BadRequest(param.invalid or f"{param.name} cannot be negative")


def parse_params(
    op: Operation,
    path_vars: Mapping[str, str],
    fields: list[tuple[str, str]],
    body: Any,
) -> Params:
    """Typed parameters for `op`, or BadRequest with Asterisk's message."""
    params: Params = {}
    body_object = body if isinstance(body, dict) else {}
    for param in op.params:
        if param.where == "path":
            params[param.name] = path_vars.get(param.name, "")
            continue
        if param.where == "body":
            if param.data_type == "object":
                value: Any = body
            else:
                value = body_object.get(param.name)
            if value is not None:
                params[param.name] = value
            elif param.required:
                raise BadRequest(param.missing or f"Missing parameter {param.name}")
            continue
        texts = [text for name, text in fields if name == param.name]
        value = _from_text(param, texts[-1]) if texts else None
        if param.name in body_object:
            value = _from_json(param, body_object[param.name])
        if _is_missing(value):
            if param.required and not param.absent_ok:
                raise BadRequest(param.missing or f"Missing parameter {param.name}")
            if param.default is not None:
                params[param.name] = param.default
            elif value == "" and param.data_type == "string":
                params[param.name] = value
            continue
        _check(param, value)
        params[param.name] = value
    if op.key in {"channels.setChannelVars", "bridges.setBridgeVars"} and not isinstance(
        params.get("variables"), dict
    ):
        raise BadRequest("The 'variables' field must be a JSON object")
    return params


async def _read_body(request: web.Request) -> tuple[list[tuple[str, str]], Any]:
    """Form fields and the JSON body, as ast_ari_callback reads them (only one of the two)."""
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if not request.can_read_body:
        return [], None
    raw = await request.read()
    if not raw:
        return [], None
    if content_type == "application/x-www-form-urlencoded":
        return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True), None
    if content_type == "application/json":
        try:
            return [], json.loads(raw)
        except ValueError as exc:
            raise BadRequest("Error parsing request body") from exc
    return [], None


# --- the aiohttp side -----------------------------------------------------------------------------


class AriRouter:
    """Answers every request under /ari that no more specific route took."""

    def __init__(self, engine: Engine, handlers: Mapping[str, Handler]) -> None:
        self.engine = engine
        self.handlers = handlers
        self.tree = build_tree()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            form, body = await _read_body(request)
        except BadRequest as exc:
            return error_response(400, str(exc))
        if not is_authenticated(request):
            return unauthorized()
        raw = request.rel_url.raw_path
        tail = raw[len("/ari") :].removeprefix("/") if raw.startswith("/ari") else raw
        if tail.endswith("/"):
            return error_response(404, f"ARI URLs do not end with a slash. Try /ari/{tail[:-1]}")
        if tail.startswith("api-docs/"):
            if request.method != "GET":
                return error_response(405, "Unsupported method")
            return error_response(404, "Resource not found")
        found = resolve(self.tree, tail)
        if found is None:
            return error_response(404, "Resource not found")
        node, path_vars = found
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={"Allow": node.allow_header()})
        op = node.methods.get(request.method)
        if op is None:
            return error_response(405, "Invalid method", {"Allow": node.allow_header()})
        fields = form + [(k, v) for k, v in request.query.items()]
        try:
            params = parse_params(op, path_vars, fields, body)
        except BadRequest as exc:
            return error_response(400, str(exc))
        handler = self.handlers.get(op.key)
        if handler is None:
            return error_response(501, f"{op.key} is not implemented by the simulator")
        return await self._run(op, handler, params)

    async def _run(self, op: Operation, handler: Handler, params: Params) -> web.StreamResponse:
        try:
            status, body = await handler(self.engine, params)
        except AriError as exc:
            return error_response(exc.status, exc.message)
        except Exception as exc:
            log.exception("%s failed with %r", op.key, params)
            return error_response(500, f"{op.key} failed: {type(exc).__name__}: {exc}")
        if isinstance(body, web.StreamResponse):
            return body
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, content_type="application/octet-stream")
        return json_response(status, body)


def add_ari_routes(
    app: web.Application,
    engine: Engine,
    handlers: Mapping[str, Handler],
    username: str,
    password: str,
) -> None:
    """Serve every ARI operation under /ari (the events websocket excepted) with Asterisk's auth."""
    app[ARI_CREDENTIALS] = (username, password)
    router = AriRouter(engine, handlers)
    app.router.add_route("*", "/ari", router.handle)
    app.router.add_route("*", "/ari/{tail:.*}", router.handle)

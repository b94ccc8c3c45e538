"""The REST side of ARI, with aioari confined to this module behind narrow typed wrappers.

aioari (with aioswagger11) loads Asterisk's own description of ARI at connect time and turns
``client.channels.answer(channelId=...)`` into the right method, path, query string and JSON body,
checking required and unknown parameters. Everything else is ours: the HTTP transport (one shared
aiohttp session with basic auth), error mapping, and the events WebSocket (see ``connection``).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, cast
from urllib.parse import quote_plus, urljoin

import aiohttp
from aioari.client import Client as _AioariClient

log = logging.getLogger(__name__)

#: Decoded JSON as ARI answers it: a dict, a list, or None for an empty (204) answer.
Json = Any

#: Called after each successful operation: ``(resource, nickname, params, result)``.
RequestObserver = Callable[[str, str, Mapping[str, object], Json], None]


class AriError(Exception):
    """Base of the errors this package raises for REST calls."""


class AriRequestError(AriError):
    """Asterisk answered a request with an error status (404 no such channel, 409, 422...)."""

    def __init__(self, status: int, message: str, method: str, url: str) -> None:
        super().__init__(f"{method} {url} -> {status}: {message}")
        self.status = status
        self.message = message
        self.method = method
        self.url = url


class AriUnavailable(AriError):
    """Asterisk could not be reached (not connected yet, connection refused or dropped)."""


class _Reply:
    """A fully read HTTP answer; aioari and aioswagger11 only need ``status`` and ``text()``."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body

    async def text(self) -> str:
        return self.body

    async def json(self) -> Json:
        return json.loads(self.body) if self.body else None


def _error_message(body: str) -> str:
    try:
        decoded = json.loads(body)
    except ValueError:
        return body.strip()
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return str(decoded["message"])
    return body.strip()


class SessionTransport:
    """The HTTP client aioswagger11 drives, on our session: reads answers fully, raises our errors.

    ``on_unreachable`` is told when a request fails at the connection level, so the connection
    can treat it like a dropped WebSocket.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        on_unreachable: Callable[[BaseException], None],
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self._on_unreachable = on_unreachable
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        #: Requests sent so far (health figures, benchmarks).
        self.requests = 0
        # aioswagger11 reads this attribute; authentication is the session's job here.
        self.authenticator = None

    async def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, object] | None = None,
        data: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> _Reply:
        query = {key: _query_value(value) for key, value in (params or {}).items()}
        self.requests += 1
        try:
            async with self.session.request(
                method, url, params=query, data=data, headers=headers, timeout=self._timeout
            ) as resp:
                body = await resp.text()
                status = resp.status
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            self._on_unreachable(exc)
            raise AriUnavailable(f"{method} {url}: {exc!r}") from exc
        if status >= 400:
            raise AriRequestError(status, _error_message(body), method, url)
        return _Reply(status, body)

    async def ws_connect(
        self, url: str, params: Mapping[str, object] | None = None
    ) -> aiohttp.ClientWebSocketResponse:
        query = {key: _query_value(value) for key, value in (params or {}).items()}
        return await self.session.ws_connect(url, params=query)

    async def close(self) -> None:
        """The session belongs to the connection, which closes it."""


def _query_value(value: object) -> str | int | float:
    """aiohttp refuses booleans in query strings; ARI spells them ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    return str(value)


class RestOperation:
    """One ARI operation, e.g. ``channels.answer``; call it with the ARI parameter names."""

    def __init__(self, api: RestApi, resource: str, nickname: str) -> None:
        self._api = api
        self.resource = resource
        self.nickname = nickname

    async def __call__(self, **params: object) -> Json:
        return await self._api.call(self.resource, self.nickname, **params)

    def __repr__(self) -> str:
        return f"<ARI operation {self.resource}.{self.nickname}>"


class RestResource:
    """One ARI resource (``channels``, ``bridges``...); its operations are attributes."""

    def __init__(self, api: RestApi, name: str) -> None:
        self._api = api
        self.name = name

    def __getattr__(self, nickname: str) -> RestOperation:
        if nickname.startswith("_"):
            raise AttributeError(nickname)
        if not self._api.has_operation(self.name, nickname):
            raise AttributeError(f"ARI resource {self.name!r} has no operation {nickname!r}")
        return RestOperation(self._api, self.name, nickname)


class RestApi:
    """ARI's REST operations by resource and nickname, answering decoded JSON.

    ``await api.channels.answer(channelId=cid)`` or ``await api.call("channels", "answer", channelId=cid)``.
    Answers are plain JSON, not aioari's model objects: those are untyped and tied to one
    connection, while this object survives reconnects (the description is reloaded each time).
    """

    def __init__(self, observer: RequestObserver | None = None) -> None:
        self._client: Any = None
        self._observer = observer

    @property
    def loaded(self) -> bool:
        return self._client is not None

    @property
    def native(self) -> Any:
        """The underlying aioari client, for its object model (``await native.channels.get(...)``)."""
        if self._client is None:
            raise AriUnavailable("ARI description not loaded yet")
        return self._client

    async def load(self, base_url: str, transport: SessionTransport) -> None:
        """Load ``/ari/api-docs/resources.json`` and the resource documents it lists."""
        client = _AioariClient(_with_slash(base_url), transport)
        await client.init()
        self._client = client

    def resources(self) -> list[str]:
        if self._client is None:
            return []
        return sorted(cast(dict[str, Any], self._client.swagger.resources))

    def has_operation(self, resource: str, nickname: str) -> bool:
        return self._operation(resource, nickname) is not None

    def _operation(self, resource: str, nickname: str) -> Any:
        if self._client is None:
            raise AriUnavailable("ARI description not loaded yet")
        swagger_resource = self._client.swagger.resources.get(resource)
        if swagger_resource is None:
            return None
        return swagger_resource.operations.get(nickname)

    def __getattr__(self, name: str) -> RestResource:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._client is not None and name not in self._client.swagger.resources:
            raise AttributeError(f"ARI has no resource {name!r}")
        return RestResource(self, name)

    async def call(self, resource: str, nickname: str, **params: object) -> Json:
        """Run one operation. Raises AriRequestError, AriUnavailable, or TypeError for bad parameters."""
        operation = self._operation(resource, nickname)
        if operation is None:
            raise AttributeError(f"ARI has no operation {resource}.{nickname}")
        if operation.json.get("is_websocket") or not isinstance(operation.http_client, SessionTransport):
            reply = await operation(**params)
        else:
            reply = await _send(operation, params)
        result = await reply.json() if isinstance(reply, _Reply) else None
        if self._observer is not None:
            self._observer(resource, nickname, params, result)
        return result


async def _send(operation: Any, arguments: Mapping[str, object]) -> _Reply:
    """One operation on the call path, as aioswagger11 would send it (path parameters quoted into
    the URL, query parameters, body parameters as a JSON object, list values comma-joined, the same
    errors for a missing or unknown parameter), without its per-call debug formatting."""
    spec: dict[str, Any] = operation.json
    nickname = spec["nickname"]
    left = dict(arguments)
    uri: str = operation.uri
    query: dict[str, object] = {}
    body: dict[str, object] | None = None
    for param in spec.get("parameters", ()):
        name = param["name"]
        value = left.get(name)
        if isinstance(value, list):
            value = ",".join(value)
        if value is None:
            if param["required"]:
                raise TypeError(f"Missing required parameter '{name}' for '{nickname}'")
            continue
        kind = param["paramType"]
        if kind == "path":
            uri = uri.replace("{" + name + "}", quote_plus(str(value)))
        elif kind == "query":
            query[name] = value
        elif kind == "body":
            body = body or {}
            body[name] = value
        else:
            raise AssertionError(f"Unsupported paramType {kind}")
        del left[name]
    if left:
        raise TypeError(f"'{nickname}' does not have parameters {left.keys()!r}")
    headers = {"Accept": "application/json"}
    data = None
    if body:
        data = json.dumps(body)
        headers["Content-type"] = "application/json"
    transport: SessionTransport = operation.http_client
    return await transport.request(spec["httpMethod"], uri, params=query, headers=headers, data=data)


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` header value for HTTP basic auth (Asterisk's ``ari.conf`` users)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def ari_url(base_url: str, path: str) -> str:
    """``http://host:8088`` + ``/channels`` -> ``http://host:8088/ari/channels``."""
    return urljoin(_with_slash(base_url), "ari/" + path.lstrip("/"))

"""Swagger 1.1 documents of the simulator's ARI, rendered from `ari_sim.description`.

ARI clients such as aioari build themselves from `/ari/api-docs/resources.json` and the
documents it lists when they connect, so these must carry everything the loaders read:
`swaggerVersion`, a `basePath` pointing back at this server, every operation with its
parameters (`required` always present) and the models, including the event models that aioari
uses to hand typed objects to event callbacks. Like Asterisk, the documents need the same
credentials as the rest of ARI, and `basePath` follows the request's Host header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from ari_sim.description import (
    API_VERSION,
    RESOURCES,
    RESOURCES_BY_NAME,
    SWAGGER_VERSION,
    Model,
    Operation,
    Param,
)
from ari_sim.router import error_response, is_authenticated, json_response, unauthorized

BaseUrlResolver = Callable[[web.Request], str]


def base_url_from_request(request: web.Request) -> str:
    """`http://<Host header>/ari`, as Asterisk builds basePath."""
    return f"{request.scheme}://{request.host}/ari"


def _param_doc(param: Param) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": param.name,
        "paramType": param.where,
        "required": param.required,
        "allowMultiple": param.multiple,
        "dataType": param.data_type,
    }
    if param.choices:
        doc["allowableValues"] = {"valueType": "LIST", "values": list(param.choices)}
    elif param.minimum is not None:
        doc["allowableValues"] = {"valueType": "RANGE", "min": param.minimum}
    if param.default is not None:
        doc["defaultValue"] = param.default
    return doc


def _operation_doc(op: Operation) -> dict[str, Any]:
    doc: dict[str, Any] = {"httpMethod": op.method, "summary": op.summary, "nickname": op.nickname}
    if op.websocket:
        doc["upgrade"] = "websocket"
        doc["websocketProtocol"] = "ari"
    doc["responseClass"] = op.response
    if op.params:
        doc["parameters"] = [_param_doc(p) for p in op.params]
    if op.errors:
        doc["errorResponses"] = [{"code": code, "reason": reason} for code, reason in op.errors]
    return doc


def _model_doc(model: Model) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for prop in model.props:
        entry: dict[str, Any] = {"type": prop.type, "required": prop.required}
        if prop.choices:
            entry["allowableValues"] = {"valueType": "LIST", "values": list(prop.choices)}
        props[prop.name] = entry
    doc: dict[str, Any] = {"id": model.name, "description": model.summary}
    if model.discriminator:
        doc["discriminator"] = model.discriminator
    doc["properties"] = props
    if model.sub_types:
        doc["subTypes"] = list(model.sub_types)
    return doc


def resource_listing(base_url: str) -> dict[str, Any]:
    """The resources.json document."""
    return {
        "apiVersion": API_VERSION,
        "swaggerVersion": SWAGGER_VERSION,
        "basePath": base_url,
        "apis": [
            {"path": f"/api-docs/{res.name}.{{format}}", "description": res.summary} for res in RESOURCES
        ],
    }


def api_declaration(name: str, base_url: str) -> dict[str, Any]:
    """One `{resource}.json` document: operations grouped by path, in description order."""
    resource = RESOURCES_BY_NAME[name]
    apis: list[dict[str, Any]] = []
    by_path: dict[str, dict[str, Any]] = {}
    for op in resource.operations:
        if op.path not in by_path:
            by_path[op.path] = {"path": op.path, "description": op.summary, "operations": []}
            apis.append(by_path[op.path])
        by_path[op.path]["operations"].append(_operation_doc(op))
    return {
        "apiVersion": API_VERSION,
        "swaggerVersion": SWAGGER_VERSION,
        "basePath": base_url,
        "resourcePath": f"/api-docs/{name}.{{format}}",
        "apis": apis,
        "models": {model.name: _model_doc(model) for model in resource.models},
    }


def add_apidocs_routes(app: web.Application, base_url_resolver: BaseUrlResolver | None = None) -> None:
    """Serve /ari/api-docs/resources.json and /ari/api-docs/{resource}.json (GET, authenticated)."""
    resolve_base = base_url_resolver or base_url_from_request

    async def serve(request: web.Request) -> web.Response:
        if not is_authenticated(request):
            return unauthorized()
        document = request.match_info["document"]
        stem, dot, extension = document.partition(".")
        if dot and extension == "json":
            if stem == "resources":
                return json_response(200, resource_listing(resolve_base(request)))
            if stem in RESOURCES_BY_NAME:
                return json_response(200, api_declaration(stem, resolve_base(request)))
        return error_response(404, "Resource not found")

    app.router.add_get("/ari/api-docs/{document}", serve, allow_head=False)

"""Reading and validating request input for the JSON API."""

from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema

from admin_api.errors import ApiError
from admin_api.schemas.v1 import PageQuery
from admin_api.services import services


def json_body(schema: Schema, *, partial: bool = False) -> dict[str, Any]:
    """The JSON object of the request, loaded by `schema` (ValidationError becomes a 400)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "send a JSON object with Content-Type: application/json")
    loaded = schema.load(body, partial=partial)
    assert isinstance(loaded, dict)
    if partial and not loaded:
        raise ApiError(400, "bad_request", "nothing to change: the object is empty")
    return loaded


def page_args() -> tuple[int, int]:
    """`page` and `per_page` from the query string, capped by the configured largest page."""
    loaded = PageQuery().load(request.args.to_dict())
    assert isinstance(loaded, dict)
    per_page = min(int(loaded["per_page"]), services().config.max_page_size)
    return int(loaded["page"]), per_page


def page_body(items: list[dict[str, Any]], page: int, per_page: int, total: int) -> dict[str, Any]:
    return {"items": items, "page": page, "per_page": per_page, "total": total}

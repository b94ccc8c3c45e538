"""Reading and validating request input for the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from marshmallow import Schema
from sqlalchemy import ColumnElement, ColumnExpressionArgument, func, select
from sqlalchemy.orm import Session

from admin_api.errors import ApiError
from admin_api.schemas.v1 import PageQuery
from admin_api.services import services

Row = TypeVar("Row")


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


def page_of_rows(
    session: Session,
    page: tuple[int, int],
    model: type[Row],
    order_by: ColumnExpressionArgument[Any],
    summary: Callable[[Row], dict[str, Any]],
    *,
    where: ColumnElement[bool] | None = None,
) -> dict[str, Any]:
    """The page (number, size) of `model`'s rows matching `where`, summarised, with the total count."""
    number, per_page = page
    count = select(func.count()).select_from(model)
    rows = select(model)
    if where is not None:
        count, rows = count.where(where), rows.where(where)
    total = session.scalar(count) or 0
    found = session.scalars(rows.order_by(order_by).limit(per_page).offset((number - 1) * per_page))
    return page_body([summary(row) for row in found], number, per_page, total)

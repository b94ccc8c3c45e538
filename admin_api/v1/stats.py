"""/api/v1/stats: real-time campaign and agent statistics (supervisors and administrative users).

The figures live in the Stasis app, which folds every queue_log row and agent state change as it
happens; the API asks it with a ``stats.snapshot`` request on the bus and adds what only the
database knows (each campaign's ``thresholds`` setting). Query parameters: ``window`` (``today``,
``rolling``, ``start``), ``minutes`` (length of the rolling window) and ``formula`` (the service level
formula, see docs/statistics.md); without them the Stasis app's configured defaults apply.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from marshmallow import fields, validate
from sqlalchemy import select

from admin_api.auth import STAFF, require_roles
from admin_api.bus_link import COMMANDS
from admin_api.errors import ApiError, not_found
from admin_api.schemas.v1 import StrictSchema
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from bus import BusError
from datastore.models import Campaign

STATS_SNAPSHOT = "stats.snapshot"
WINDOWS = ("today", "rolling", "start")
FORMULAS = ("offered", "short-abandons-excluded", "answered", "abandons-met")
MAX_MINUTES = 24 * 60


class StatsQuery(StrictSchema):
    window = fields.String(validate=validate.OneOf(WINDOWS))
    minutes = fields.Integer(validate=validate.Range(min=1, max=MAX_MINUTES))
    formula = fields.String(validate=validate.OneOf(FORMULAS))


def _ask(campaign: str | None = None, names: list[str] | None = None) -> dict[str, Any]:
    """The Stasis app's snapshot for the query string (``names``: campaigns to list even if it has
    not loaded them); 503 when it cannot answer."""
    query = StatsQuery().load(request.args.to_dict())
    assert isinstance(query, dict)
    api = services()
    if api.bus is None:
        raise ApiError(503, "unavailable", "no call server is connected")
    message: dict[str, Any] = {"type": STATS_SNAPSHOT, **query}
    if campaign is not None:
        message["campaign"] = campaign
    if names:
        message["campaigns"] = names
    try:
        reply = api.bus.request(COMMANDS, message, api.config.bus_timeout_seconds)
    except (BusError, TimeoutError) as exc:
        raise ApiError(503, "unavailable", f"the call server did not answer ({type(exc).__name__})") from exc
    if not reply.get("ok"):
        raise ApiError(400, "bad_request", str(reply.get("error", "the call server refused the request")))
    reply.pop("ok", None)
    return reply


def _thresholds() -> dict[str, str]:
    with services().sessions() as session:
        return {
            name: thresholds
            for name, thresholds in session.execute(select(Campaign.name, Campaign.thresholds))
        }


def _with_settings(items: list[dict[str, Any]], thresholds: dict[str, str]) -> list[dict[str, Any]]:
    return [{**item, "thresholds": thresholds.get(str(item.get("campaign")), "")} for item in items]


@blueprint.get("/stats/campaigns")
@require_roles(*STAFF)
def campaign_stats() -> Response:
    thresholds = _thresholds()
    # Campaigns the call server has not loaded yet are listed too (as zeros, like a new campaign).
    snapshot = _ask(names=sorted(thresholds))
    return jsonify(
        {key: value for key, value in snapshot.items() if key != "agents"}
        | {"campaigns": _with_settings(snapshot["campaigns"], thresholds)}
    )


@blueprint.get("/stats/campaigns/<name>")
@require_roles(*STAFF)
def one_campaign_stats(name: str) -> Response:
    thresholds = _thresholds()
    if name not in thresholds:
        raise not_found(f"campaign {name}")
    snapshot = _ask(name)
    [figures] = _with_settings(snapshot["campaigns"], thresholds)
    return jsonify({"time": snapshot["time"], **figures, "agents": snapshot["agents"]})


@blueprint.get("/stats/agents")
@require_roles(*STAFF)
def agent_stats() -> Response:
    snapshot = _ask()
    return jsonify({key: value for key, value in snapshot.items() if key != "campaigns"})

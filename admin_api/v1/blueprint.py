"""Assembles the /api/v1 blueprint from its route modules."""

from __future__ import annotations

from flask import Blueprint

from admin_api.errors import register_json_errors

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")
register_json_errors(blueprint)

# Route modules attach themselves to the blueprint on import.
from admin_api.v1 import agents, auth_routes, campaigns, holidays, stats, status_routes  # noqa: E402

__all__ = ["agents", "auth_routes", "blueprint", "campaigns", "holidays", "stats", "status_routes"]

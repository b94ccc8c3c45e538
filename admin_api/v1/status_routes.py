"""/api/v1/status: the live board of campaigns and agents (supervisors and administrative users)."""

from __future__ import annotations

from flask import Response, jsonify
from sqlalchemy import select

from admin_api.auth import AGENT, STAFF, require_roles
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from datastore.models import Campaign, User


@blueprint.get("/status")
@require_roles(*STAFF)
def live_status() -> Response:
    api = services()
    with api.sessions() as session:
        campaigns = list(session.scalars(select(Campaign.name)))
        agents = list(session.scalars(select(User.username).where(User.role == AGENT)))
    return jsonify(api.status.snapshot(campaigns, agents))

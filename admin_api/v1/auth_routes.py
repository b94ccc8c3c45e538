"""Tokens for the JSON API (the same tokens the seed's routes use)."""

from __future__ import annotations

from flask import Response, jsonify, request
from sqlalchemy import select

from admin_api.auth import (
    ROLES,
    LoginRefused,
    authenticate,
    client_ip,
    current_caller,
    hash_token,
    issue_token,
    require_roles,
    token_from_header,
)
from admin_api.errors import ApiError
from admin_api.login_guard import utcnow
from admin_api.schemas.v1 import TokenRequest
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from admin_api.v1.inputs import json_body
from datastore.models import ApiToken


@blueprint.post("/auth/token")
def create_token() -> tuple[Response, int]:
    body = json_body(TokenRequest())
    with services().sessions() as session:
        try:
            user = authenticate(session, body["username"], body["password"], client_ip())
        except LoginRefused as exc:
            raise ApiError(
                401, "unauthorized", "wrong user name or password, or the account is inactive or locked"
            ) from exc
        token = issue_token(session, user)
        expires = session.scalars(
            select(ApiToken.expires_at).where(ApiToken.token_hash == hash_token(token))
        ).one()
        return jsonify(
            {
                "token": token,
                "token_type": "Basic",
                "expires_at": expires.isoformat() + "Z",
                "user": {"username": user.username, "fullname": user.fullname, "role": user.role},
            }
        ), 201


@blueprint.delete("/auth/token")
@require_roles(*ROLES)
def revoke_token() -> tuple[str, int]:
    """Log out: the presented token stops working at once."""
    token = token_from_header(request.headers.get("Authorization")) or ""
    with services().sessions() as session:
        row = session.get(ApiToken, hash_token(token))
        if row is not None:
            row.revoked = True
            row.expires_at = min(row.expires_at, utcnow())
            session.commit()
    return "", 204


@blueprint.get("/auth/me")
@require_roles(*ROLES)
def who_am_i() -> Response:
    caller = current_caller()
    return jsonify(
        {"username": caller.username, "fullname": caller.fullname, "role": caller.role, "phone": caller.phone}
    )

"""/api/v1/agents: agents (users with role agent) and their phones."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from admin_api.agents_store import (
    PhoneSettings,
    ProvisioningError,
    add_phone,
    create_user,
    delete_user,
    extension_taken,
    find_user,
    memberships,
    remove_phone,
    user_summary,
)
from admin_api.audit import record_audit
from admin_api.auth import ADMINISTRATIVE, AGENT, ROLES, STAFF, caller_actor, current_caller, require_roles
from admin_api.commands import tell_stasis
from admin_api.errors import ApiError, conflict, not_found
from admin_api.schemas.v1 import AgentCreate, AgentUpdate
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from admin_api.v1.inputs import json_body, page_args, page_of_rows
from bus import messages
from datastore.models import CampaignMember, PsAuth, PsEndpoint, User, sip_phone_rows
from datastore.passwords import hash_password, sip_md5_cred


def _check_password_policy(password: str, field: str) -> None:
    shortest = services().config.min_password_length
    if len(password) < shortest:
        raise ValidationError({field: [f"must be at least {shortest} characters long"]})


def _agent_or_404(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None or user.role != AGENT:
        raise not_found(f"agent {username}")
    return user


def _phone_settings(webrtc: bool, language: str | None) -> PhoneSettings:
    config = services().config
    return PhoneSettings(
        context=config.phone_context, webrtc=webrtc, language=language or None, realm=config.sip_realm
    )


def _reload(names: list[str]) -> None:
    if names:
        tell_stasis(messages.campaigns_reload(sorted(set(names))))


@blueprint.get("/agents")
@require_roles(*STAFF)
def list_agents() -> Response:
    page = page_args()
    with services().sessions() as session:
        agents = page_of_rows(
            session,
            page,
            User,
            User.username,
            lambda user: user_summary(session, user),
            where=User.role == AGENT,
        )
    return jsonify(agents)


@blueprint.get("/agents/<username>")
@require_roles(*ROLES)
def get_agent(username: str) -> Response:
    caller = current_caller()
    if not caller.is_staff and caller.username != username:
        raise ApiError(403, "forbidden", "agents may only read their own record")
    with services().sessions() as session:
        return jsonify(user_summary(session, _agent_or_404(session, username)))


@blueprint.post("/agents")
@require_roles(ADMINISTRATIVE)
def create_agent() -> tuple[Response, int, dict[str, str]]:
    body = json_body(AgentCreate())
    _check_password_policy(body["password"], "password")
    phone: str | None = body.get("phone")
    with services().sessions() as session:
        try:
            user = create_user(
                session,
                username=body["username"],
                password=body["password"],
                fullname=body["fullname"],
                role=AGENT,
                phone=phone,
                email=body["email"],
                active=body["active"],
            )
            if phone:
                secret = body.get("sip_secret") or body["password"]
                add_phone(session, phone, secret, _phone_settings(body["webrtc"], body.get("language")))
        except ProvisioningError as exc:
            raise conflict(exc.message) from exc
        session.flush()
        summary = user_summary(session, user)
        record_audit(
            session,
            caller_actor(),
            "agent.create",
            f"agent:{user.username}",
            after=summary,
        )
        session.commit()
    location = url_for("api_v1.get_agent", username=summary["username"])
    return jsonify(summary), 201, {"Location": location}


def _change_phone(session: Session, user: User, body: dict[str, Any]) -> list[str]:
    """Move, add or remove the agent's phone; returns campaigns whose members changed."""
    old = user.phone
    new = body["phone"] or None
    if new == old:
        return []
    secret: str | None = None
    if new is not None:
        secret = body.get("sip_secret") or body.get("password")
        if not secret:
            raise ValidationError({"sip_secret": ["needed to set up the SIP credentials of the new phone"]})
        if extension_taken(session, new):
            raise conflict(f"extension {new} is already in use")
    touched: list[str] = []
    if old:
        old_interface = f"PJSIP/{old}"
        touched = [
            m.queue_name
            for m in session.scalars(select(CampaignMember).where(CampaignMember.interface == old_interface))
        ]
        if new is None:
            for member in memberships(session, user):
                session.delete(member)
        else:
            session.execute(
                update(CampaignMember)
                .where(CampaignMember.interface == old_interface)
                .values(interface=f"PJSIP/{new}")
            )
        remove_phone(session, old)
        session.flush()
    user.phone = new
    if new is not None and secret is not None:
        webrtc = body.get("webrtc", True)
        try:
            add_phone(session, new, secret, _phone_settings(webrtc, body.get("language")))
        except ProvisioningError as exc:
            raise conflict(exc.message) from exc
    return touched


def _update_sip(session: Session, user: User, body: dict[str, Any]) -> None:
    """Secret, WebRTC and language changes of an agent keeping the same phone."""
    if not user.phone:
        return
    endpoint = session.get(PsEndpoint, user.phone)
    auth = session.get(PsAuth, user.phone)
    if "sip_secret" in body and auth is not None:
        auth.md5_cred = sip_md5_cred(auth.username or user.phone, auth.realm, body["sip_secret"])
        auth.password = None
    if endpoint is None:
        return
    if "webrtc" in body and bool(endpoint.webrtc) != body["webrtc"]:
        template, _, _ = sip_phone_rows(
            user.phone, "-", context=endpoint.context or "", webrtc=body["webrtc"]
        )
        endpoint.webrtc = template.webrtc
        endpoint.allow = template.allow
        endpoint.dtls_auto_generate_cert = template.dtls_auto_generate_cert
    if "language" in body:
        endpoint.language = body["language"] or None


@blueprint.patch("/agents/<username>")
@require_roles(ADMINISTRATIVE)
def update_agent(username: str) -> Response:
    body = json_body(AgentUpdate(), partial=True)
    if "password" in body:
        _check_password_policy(body["password"], "password")
    with services().sessions() as session:
        user = _agent_or_404(session, username)
        before = user_summary(session, user)
        touched: list[str] = []
        if "phone" in body:
            touched = _change_phone(session, user, body)
        _update_sip(session, user, body)
        for name in ("fullname", "email", "active"):
            if name in body:
                setattr(user, name, body[name])
        if "password" in body:
            user.password_hash = hash_password(body["password"])
        session.flush()
        after = user_summary(session, user)
        # Which secrets changed, by name only (keys naming secrets are dropped by the audit).
        detail = {"rotated": sorted(name for name in ("password", "sip_secret") if name in body)}
        record_audit(
            session,
            caller_actor(),
            "agent.update",
            f"agent:{username}",
            detail,
            before=before,
            after=after,
        )
        session.commit()
    _reload(touched)
    return jsonify(after)


@blueprint.delete("/agents/<username>")
@require_roles(ADMINISTRATIVE)
def delete_agent(username: str) -> tuple[str, int]:
    with services().sessions() as session:
        user = _agent_or_404(session, username)
        before = user_summary(session, user)
        campaigns = delete_user(session, user)
        record_audit(
            session,
            caller_actor(),
            "agent.delete",
            f"agent:{username}",
            {"campaigns": campaigns},
            before=before,
        )
        session.commit()
    _reload(campaigns)
    return "", 204

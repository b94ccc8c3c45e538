"""/api/v1/campaigns and their members. Every change tells the Stasis app to reload the campaign."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.agents_store import find_user
from admin_api.audit import record_audit
from admin_api.auth import ADMINISTRATIVE, STAFF, caller_actor, require_roles
from admin_api.commands import member_interface, tell_stasis
from admin_api.errors import conflict, not_found
from admin_api.schemas.v1 import CAMPAIGN_FIELDS, CampaignCreate, CampaignUpdate, MemberCreate, MemberUpdate
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from admin_api.v1.inputs import json_body, page_args, page_of_rows
from bus import messages
from datastore.models import Campaign, CampaignMember, User


def campaign_body(campaign: Campaign) -> dict[str, Any]:
    body = {name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}
    body["dids"] = campaign.dids()
    body["members"] = len(campaign.members)
    return body


def member_body(member: CampaignMember) -> dict[str, Any]:
    return {
        "id": member.uniqueid,
        "campaign": member.queue_name,
        "membername": member.membername,
        "interface": member.interface,
        "penalty": member.penalty,
        "paused": bool(member.paused),
        "wrapuptime": member.wrapuptime,
        "ringinuse": member.ringinuse,
    }


def _campaign_or_404(session: Session, name: str) -> Campaign:
    campaign = session.get(Campaign, name)
    if campaign is None:
        raise not_found(f"campaign {name}")
    return campaign


@blueprint.get("/campaigns")
@require_roles(*STAFF)
def list_campaigns() -> Response:
    page = page_args()
    with services().sessions() as session:
        campaigns = page_of_rows(session, page, Campaign, Campaign.name, campaign_body)
    return jsonify(campaigns)


@blueprint.get("/campaigns/<name>")
@require_roles(*STAFF)
def get_campaign(name: str) -> Response:
    with services().sessions() as session:
        return jsonify(campaign_body(_campaign_or_404(session, name)))


@blueprint.post("/campaigns")
@require_roles(ADMINISTRATIVE)
def create_campaign() -> tuple[Response, int, dict[str, str]]:
    body = json_body(CampaignCreate())
    with services().sessions() as session:
        if session.get(Campaign, body["name"]) is not None:
            raise conflict(f"campaign {body['name']} already exists")
        campaign = Campaign(**body)
        session.add(campaign)
        session.flush()
        summary = campaign_body(campaign)
        record_audit(
            session,
            caller_actor(),
            "campaign.create",
            f"campaign:{campaign.name}",
            after=summary,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([summary["name"]]))
    return jsonify(summary), 201, {"Location": url_for("api_v1.get_campaign", name=summary["name"])}


@blueprint.patch("/campaigns/<name>")
@require_roles(ADMINISTRATIVE)
def update_campaign(name: str) -> Response:
    body = json_body(CampaignUpdate(), partial=True)
    with services().sessions() as session:
        campaign = _campaign_or_404(session, name)
        before = campaign_body(campaign)
        for field, value in body.items():
            setattr(campaign, field, value)
        session.flush()
        after = campaign_body(campaign)
        changed = {key: after[key] for key in body if before.get(key) != after.get(key)}
        record_audit(
            session,
            caller_actor(),
            "campaign.update",
            f"campaign:{name}",
            before={key: before[key] for key in changed},
            after=changed,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([name]))
    return jsonify(after)


@blueprint.delete("/campaigns/<name>")
@require_roles(ADMINISTRATIVE)
def delete_campaign(name: str) -> tuple[str, int]:
    with services().sessions() as session:
        campaign = _campaign_or_404(session, name)
        before = campaign_body(campaign)
        session.delete(campaign)
        record_audit(
            session,
            caller_actor(),
            "campaign.delete",
            f"campaign:{name}",
            before=before,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([name]))
    return "", 204


# --- members ------------------------------------------------------------------------------------


def _member_or_404(session: Session, campaign: str, member_id: int) -> CampaignMember:
    member = session.get(CampaignMember, member_id)
    if member is None or member.queue_name != campaign:
        raise not_found(f"member {member_id} of campaign {campaign}")
    return member


def _member_user_or_404(session: Session, username: str) -> User:
    """The user a member row may name: anyone but an administrative user."""
    user = find_user(session, username)
    if user is None or user.role == ADMINISTRATIVE:
        raise not_found(f"agent {username}")
    return user


@blueprint.get("/campaigns/<name>/members")
@require_roles(*STAFF)
def list_members(name: str) -> Response:
    page = page_args()
    with services().sessions() as session:
        _campaign_or_404(session, name)
        members = page_of_rows(
            session,
            page,
            CampaignMember,
            CampaignMember.uniqueid,
            member_body,
            where=CampaignMember.queue_name == name,
        )
    return jsonify(members)


@blueprint.get("/campaigns/<name>/members/<int:member_id>")
@require_roles(*STAFF)
def get_member(name: str, member_id: int) -> Response:
    with services().sessions() as session:
        return jsonify(member_body(_member_or_404(session, name, member_id)))


@blueprint.post("/campaigns/<name>/members")
@require_roles(ADMINISTRATIVE)
def create_member(name: str) -> tuple[Response, int, dict[str, str]]:
    body = json_body(MemberCreate())
    interface = member_interface(body["interface"])
    with services().sessions() as session:
        _campaign_or_404(session, name)
        user = _member_user_or_404(session, body["membername"])
        taken = session.scalars(
            select(CampaignMember).where(
                CampaignMember.queue_name == name, CampaignMember.interface == interface
            )
        ).first()
        if taken is not None:
            raise conflict(f"{interface} is already a member of {name}")
        member = CampaignMember(
            queue_name=name,
            interface=interface,
            membername=user.username,
            penalty=body["penalty"],
            paused=int(body["paused"]),
            wrapuptime=body.get("wrapuptime"),
            ringinuse=body.get("ringinuse"),
        )
        session.add(member)
        session.flush()
        summary = member_body(member)
        record_audit(
            session,
            caller_actor(),
            "member.add",
            f"campaign:{name}",
            after=summary,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([name]))
    location = url_for("api_v1.get_member", name=name, member_id=summary["id"])
    return jsonify(summary), 201, {"Location": location}


@blueprint.patch("/campaigns/<name>/members/<int:member_id>")
@require_roles(ADMINISTRATIVE)
def update_member(name: str, member_id: int) -> Response:
    body = json_body(MemberUpdate(), partial=True)
    with services().sessions() as session:
        member = _member_or_404(session, name, member_id)
        before = member_body(member)
        if "membername" in body:
            user = _member_user_or_404(session, body["membername"])
            member.membername = user.username
        if "paused" in body:
            member.paused = int(body["paused"])
        for field in ("penalty", "wrapuptime", "ringinuse"):
            if field in body:
                setattr(member, field, body[field])
        session.flush()
        after = member_body(member)
        record_audit(
            session,
            caller_actor(),
            "member.update",
            f"campaign:{name}",
            before=before,
            after=after,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([name]))
    return jsonify(after)


@blueprint.delete("/campaigns/<name>/members/<int:member_id>")
@require_roles(ADMINISTRATIVE)
def delete_member(name: str, member_id: int) -> tuple[str, int]:
    with services().sessions() as session:
        member = _member_or_404(session, name, member_id)
        before = member_body(member)
        session.delete(member)
        record_audit(
            session,
            caller_actor(),
            "member.remove",
            f"campaign:{name}",
            before=before,
        )
        session.commit()
    tell_stasis(messages.campaigns_reload([name]))
    return "", 204

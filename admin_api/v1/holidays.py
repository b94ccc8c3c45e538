"""/api/v1/holidays: dates on which a campaign (or every campaign) is closed whatever its schedule.

Administrative users manage them; each change is audited and tells the Stasis app to reload the
campaigns it concerns (all of them for a holiday of every campaign), so callers on that date get the
out-of-hours treatment.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.audit import record_audit
from admin_api.auth import ADMINISTRATIVE, STAFF, caller_actor, require_roles
from admin_api.commands import tell_stasis
from admin_api.errors import conflict, not_found
from admin_api.schemas.holidays import HolidayCreate, HolidayUpdate
from admin_api.services import services
from admin_api.v1.blueprint import blueprint
from admin_api.v1.inputs import json_body, page_args, page_of_rows
from bus import messages
from datastore.models import Campaign, Holiday


def holiday_body(holiday: Holiday) -> dict[str, Any]:
    return {
        "id": holiday.id,
        "date": holiday.day.isoformat(),
        "campaign": holiday.campaign,
        "description": holiday.description,
    }


def _holiday_or_404(session: Session, holiday_id: int) -> Holiday:
    holiday = session.get(Holiday, holiday_id)
    if holiday is None:
        raise not_found(f"holiday {holiday_id}")
    return holiday


def _check(session: Session, holiday: Holiday) -> None:
    """The campaign must exist (empty: every campaign) and the date be free for it."""
    if holiday.campaign and session.get(Campaign, holiday.campaign) is None:
        raise not_found(f"campaign {holiday.campaign}")
    clash = session.scalars(
        select(Holiday).where(
            Holiday.day == holiday.day, Holiday.campaign == holiday.campaign, Holiday.id != (holiday.id or 0)
        )
    ).first()
    if clash is not None:
        whose = holiday.campaign or "every campaign"
        raise conflict(f"{holiday.day.isoformat()} is already a holiday of {whose}")


def _reload(*campaigns: str) -> None:
    """Reload the campaigns concerned; a holiday of every campaign concerns them all."""
    if "" in campaigns:
        tell_stasis(messages.campaigns_reload(None))
    else:
        tell_stasis(messages.campaigns_reload(sorted(set(campaigns))))


@blueprint.get("/holidays")
@require_roles(*STAFF)
def list_holidays() -> Response:
    page = page_args()
    with services().sessions() as session:
        holidays = page_of_rows(session, page, Holiday, Holiday.day, holiday_body)
    return jsonify(holidays)


@blueprint.get("/holidays/<int:holiday_id>")
@require_roles(*STAFF)
def get_holiday(holiday_id: int) -> Response:
    with services().sessions() as session:
        return jsonify(holiday_body(_holiday_or_404(session, holiday_id)))


@blueprint.post("/holidays")
@require_roles(ADMINISTRATIVE)
def create_holiday() -> tuple[Response, int, dict[str, str]]:
    body = json_body(HolidayCreate())
    with services().sessions() as session:
        holiday = Holiday(day=body["date"], campaign=body["campaign"], description=body["description"])
        _check(session, holiday)
        session.add(holiday)
        session.flush()
        summary = holiday_body(holiday)
        record_audit(session, caller_actor(), "holiday.create", f"holiday:{holiday.id}", after=summary)
        session.commit()
    _reload(summary["campaign"])
    location = url_for("api_v1.get_holiday", holiday_id=summary["id"])
    return jsonify(summary), 201, {"Location": location}


@blueprint.patch("/holidays/<int:holiday_id>")
@require_roles(ADMINISTRATIVE)
def update_holiday(holiday_id: int) -> Response:
    body = json_body(HolidayUpdate(), partial=True)
    with services().sessions() as session:
        holiday = _holiday_or_404(session, holiday_id)
        before = holiday_body(holiday)
        if "date" in body:
            holiday.day = body["date"]
        for field in ("campaign", "description"):
            if field in body:
                setattr(holiday, field, body[field])
        _check(session, holiday)
        session.flush()
        after = holiday_body(holiday)
        changed = {key: after[key] for key in after if before[key] != after[key]}
        record_audit(
            session,
            caller_actor(),
            "holiday.update",
            f"holiday:{holiday_id}",
            before={key: before[key] for key in changed},
            after=changed,
        )
        session.commit()
    _reload(before["campaign"], after["campaign"])
    return jsonify(after)


@blueprint.delete("/holidays/<int:holiday_id>")
@require_roles(ADMINISTRATIVE)
def delete_holiday(holiday_id: int) -> tuple[str, int]:
    with services().sessions() as session:
        holiday = _holiday_or_404(session, holiday_id)
        before = holiday_body(holiday)
        session.delete(holiday)
        record_audit(session, caller_actor(), "holiday.delete", f"holiday:{holiday_id}", before=before)
        session.commit()
    _reload(before["campaign"])
    return "", 204

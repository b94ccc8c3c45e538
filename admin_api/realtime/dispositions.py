"""Call dispositions: the seed's DispositionCall route and the agent portal's command share this code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth import ROLES, current_caller, require_roles
from admin_api.services import services
from datastore.models import CallDisposition

log = logging.getLogger(__name__)

blueprint = Blueprint("dispositions", __name__, url_prefix="/Integra/resources")

FIELDS = (
    "campaign",
    "agent",
    "callerid",
    "guid",
    "l1",
    "l2",
    "l3",
    "d1",
    "d2",
    "comment",
    "schedule",
    "camptoreschedule",
    "tag",
)
SCHEDULE_FORMAT = "%Y-%m-%d %H:%M:%S"
LIMITS = {"l1": 128, "l2": 128, "l3": 128, "d1": 255, "d2": 255, "tag": 128, "camptoreschedule": 128}


class DispositionRefused(ValueError):
    """The disposition cannot be stored; the text says why."""


@dataclass(frozen=True)
class Disposition:
    campaign: str
    agent: str
    callerid: str
    guid: str
    l1: str
    l2: str = ""
    l3: str = ""
    d1: str = ""
    d2: str = ""
    comment: str = ""
    schedule: datetime | None = None
    camptoreschedule: str = ""
    tag: str = ""

    @classmethod
    def from_fields(cls, values: dict[str, Any]) -> Disposition:
        """Check and convert the seed's fields (all text; schedule ``YYYY-MM-DD HH:MM:SS`` or empty)."""
        text = {name: str(values.get(name) or "").strip() for name in FIELDS}
        for required in ("campaign", "agent", "guid", "l1"):
            if not text[required]:
                raise DispositionRefused(f"{required} is required")
        for name, limit in LIMITS.items():
            if len(text[name]) > limit:
                raise DispositionRefused(f"{name} is longer than {limit} characters")
        schedule = None
        if text["schedule"]:
            try:
                schedule = datetime.strptime(text["schedule"], SCHEDULE_FORMAT)
            except ValueError as exc:
                raise DispositionRefused("schedule must look like 2024-05-31 14:30:00") from exc
        return cls(
            campaign=text["campaign"],
            agent=text["agent"],
            callerid=text["callerid"],
            guid=text["guid"],
            l1=text["l1"],
            l2=text["l2"],
            l3=text["l3"],
            d1=text["d1"],
            d2=text["d2"],
            comment=text["comment"],
            schedule=schedule,
            camptoreschedule=text["camptoreschedule"],
            tag=text["tag"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in FIELDS if name != "schedule"},
            "schedule": self.schedule.strftime(SCHEDULE_FORMAT) if self.schedule else "",
        }


def save_disposition(sessions: sessionmaker[Session], disposition: Disposition) -> int:
    with sessions() as session:
        row = CallDisposition(
            campaign=disposition.campaign,
            agent=disposition.agent,
            callerid=disposition.callerid,
            guid=disposition.guid,
            l1=disposition.l1,
            l2=disposition.l2,
            l3=disposition.l3,
            d1=disposition.d1,
            d2=disposition.d2,
            comment=disposition.comment,
            schedule=disposition.schedule,
            camptoreschedule=disposition.camptoreschedule,
            tag=disposition.tag,
        )
        session.add(row)
        session.commit()
        return int(row.id)


def _zero(reason: str) -> Response:
    log.info("DispositionCall answered 0: %s", reason)
    response = Response("0", status=200, mimetype="text/plain")
    response.headers["X-OpenContact-Error"] = reason[:300]
    return response


@blueprint.post("/api/DispositionCall")
@require_roles(*ROLES, style="integra")
def disposition_call() -> Response:
    """The seed's DispositionCall: form fields in, ``"OK"`` or ``"0"`` out."""
    form = request.form.to_dict()
    caller = current_caller()
    if not caller.is_staff and form.get("agent", "") != caller.username:
        return _zero(f"{caller.username} may not set dispositions for {form.get('agent')!r}")
    try:
        disposition = Disposition.from_fields(form)
    except DispositionRefused as exc:
        return _zero(str(exc))
    save_disposition(services().sessions, disposition)
    return Response('"OK"', status=200, mimetype="application/json")

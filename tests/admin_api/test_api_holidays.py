"""/api/v1/holidays: administrative CRUD, validation, audit rows and the Stasis reload it asks for."""

from __future__ import annotations

from datetime import date

from admin_api_helpers import ADMIN, AGENT, CAMPAIGN, SUPERVISOR, StasisStandIn, basic, seed_token
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import AuditEntry, Holiday


def audit_actions(sessions: sessionmaker[Session], target: str) -> list[str]:
    with sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id))
        return [row.action for row in rows]


def test_holiday_lifecycle(
    client: FlaskClient, sessions: sessionmaker[Session], stasis: StasisStandIn
) -> None:
    admin = basic(seed_token(client, *ADMIN))
    created = client.post(
        "/api/v1/holidays",
        json={"date": "2031-12-25", "campaign": CAMPAIGN, "description": "Christmas"},
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body == {"id": body["id"], "date": "2031-12-25", "campaign": CAMPAIGN, "description": "Christmas"}
    assert created.headers["Location"] == f"/api/v1/holidays/{body['id']}"
    assert stasis.wait_for("campaigns.reload")["names"] == [CAMPAIGN]
    with sessions() as session:
        row = session.get(Holiday, body["id"])
        assert row is not None and row.day == date(2031, 12, 25)

    again = client.post("/api/v1/holidays", json={"date": "2031-12-25", "campaign": CAMPAIGN}, headers=admin)
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"

    stasis.commands.clear()
    everyone = client.post("/api/v1/holidays", json={"date": "2031-01-01"}, headers=admin)
    assert everyone.status_code == 201 and everyone.get_json()["campaign"] == ""
    assert stasis.wait_for("campaigns.reload")["names"] is None  # every campaign reloads

    listed = client.get("/api/v1/holidays", headers=admin).get_json()
    assert [h["date"] for h in listed["items"]][-2:] == ["2031-01-01", "2031-12-25"]

    moved = client.patch(f"/api/v1/holidays/{body['id']}", json={"date": "2031-12-26"}, headers=admin)
    assert moved.status_code == 200 and moved.get_json()["date"] == "2031-12-26"
    assert client.get(f"/api/v1/holidays/{body['id']}", headers=admin).get_json()["date"] == "2031-12-26"

    assert client.delete(f"/api/v1/holidays/{body['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/holidays/{body['id']}", headers=admin).status_code == 404
    assert audit_actions(sessions, f"holiday:{body['id']}") == [
        "holiday.create",
        "holiday.update",
        "holiday.delete",
    ]
    client.delete(f"/api/v1/holidays/{everyone.get_json()['id']}", headers=admin)


def test_holiday_validation_and_roles(client: FlaskClient) -> None:
    admin = basic(seed_token(client, *ADMIN))
    bad_date = client.post("/api/v1/holidays", json={"date": "2031-02-30"}, headers=admin)
    assert bad_date.status_code == 400 and "date" in bad_date.get_json()["fields"]
    unknown_key = client.post("/api/v1/holidays", json={"date": "2031-03-01", "when": "x"}, headers=admin)
    assert unknown_key.status_code == 400 and "when" in unknown_key.get_json()["fields"]
    no_campaign = client.post(
        "/api/v1/holidays", json={"date": "2031-03-01", "campaign": "Nowhere"}, headers=admin
    )
    assert no_campaign.status_code == 404
    for user in (SUPERVISOR, AGENT):
        headers = basic(seed_token(client, *user))
        refused = client.post("/api/v1/holidays", json={"date": "2031-03-02"}, headers=headers)
        assert refused.status_code == 403, user
    assert client.get("/api/v1/holidays", headers=basic(seed_token(client, *SUPERVISOR))).status_code == 200

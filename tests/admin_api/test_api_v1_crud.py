"""JSON CRUD of agents, campaigns and members: codes, validation messages, realtime rows and audit."""

from __future__ import annotations

import json

from admin_api_helpers import ADMIN, StasisStandIn, basic, seed_token
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import AuditEntry, CampaignMember, PsAuth, PsEndpoint, User
from datastore.passwords import sip_md5_cred, verify_password


def audit_rows(sessions: sessionmaker[Session], target: str) -> list[AuditEntry]:
    with sessions() as session:
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id))
        )


def test_agent_lifecycle_with_phone_and_audit(
    client: FlaskClient, sessions: sessionmaker[Session], stasis: StasisStandIn
) -> None:
    admin = basic(seed_token(client, *ADMIN))
    created = client.post(
        "/api/v1/agents",
        json={"username": "frank", "fullname": "Frank F", "password": "frank-pass-1", "phone": "1301"},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/v1/agents/frank"
    body = created.get_json()
    assert body["sip"]["extension"] == "1301" and body["role"] == "agent"
    assert "password" not in json.dumps(body) and "md5" not in json.dumps(body)
    with sessions() as session:
        auth = session.get(PsAuth, "1301")
        assert auth is not None and auth.md5_cred == sip_md5_cred("1301", "asterisk", "frank-pass-1")
        assert auth.password is None

    duplicate = client.post(
        "/api/v1/agents",
        json={"username": "frank", "fullname": "F", "password": "frank-pass-1"},
        headers=admin,
    )
    assert duplicate.status_code == 409 and duplicate.get_json()["error"] == "conflict"

    # Move the phone: new realtime rows, old ones gone, memberships follow the interface.
    client.post("/api/v1/campaigns", json={"name": "Moves", "did": "4000"}, headers=admin)
    client.post(
        "/api/v1/campaigns/Moves/members",
        json={"membername": "frank", "interface": "PJSIP/1301"},
        headers=admin,
    )
    stasis.commands.clear()
    moved = client.patch(
        "/api/v1/agents/frank", json={"phone": "1302", "sip_secret": "new-sip-secret"}, headers=admin
    )
    assert moved.status_code == 200 and moved.get_json()["phone"] == "1302"
    with sessions() as session:
        assert session.get(PsEndpoint, "1301") is None and session.get(PsEndpoint, "1302") is not None
        member = session.scalars(select(CampaignMember).where(CampaignMember.queue_name == "Moves")).one()
        assert member.interface == "PJSIP/1302"
    assert stasis.wait_for("campaigns.reload")["names"] == ["Moves"]

    needs_secret = client.patch("/api/v1/agents/frank", json={"phone": "1303"}, headers=admin)
    assert needs_secret.status_code == 400 and "sip_secret" in needs_secret.get_json()["fields"]

    renamed = client.patch(
        "/api/v1/agents/frank", json={"fullname": "Frank Fine", "password": "another-pass"}, headers=admin
    )
    assert renamed.status_code == 200 and renamed.get_json()["fullname"] == "Frank Fine"
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "frank")).one()
        assert verify_password(user.password_hash, "another-pass")

    assert client.delete("/api/v1/agents/frank", headers=admin).status_code == 204
    assert client.get("/api/v1/agents/frank", headers=admin).status_code == 404
    with sessions() as session:
        assert session.get(PsEndpoint, "1302") is None
        assert session.scalars(select(CampaignMember).where(CampaignMember.queue_name == "Moves")).all() == []

    rows = audit_rows(sessions, "agent:frank")
    assert [row.action for row in rows] == ["agent.create", "agent.update", "agent.update", "agent.delete"]
    for row in rows:
        assert row.user == ADMIN[0] and row.ip == "127.0.0.1" and row.time is not None
        assert "frank-pass-1" not in (row.detail or "") and "another-pass" not in (row.detail or "")
    update_detail = json.loads(rows[2].detail or "{}")
    assert (
        update_detail["before"]["fullname"] == "Frank F"
        and update_detail["after"]["fullname"] == "Frank Fine"
    )
    assert update_detail["rotated"] == ["password"]


def test_agent_validation_messages(client: FlaskClient) -> None:
    admin = basic(seed_token(client, *ADMIN))
    response = client.post(
        "/api/v1/agents",
        json={"username": "bad name", "fullname": "", "password": "short", "phone": "12 34", "email": "nope"},
        headers=admin,
    )
    assert response.status_code == 400
    fields = response.get_json()["fields"]
    assert set(fields) == {"username", "fullname", "phone", "email"}
    assert "letters, digits" in fields["username"][0]
    short = client.post(
        "/api/v1/agents", json={"username": "gina", "fullname": "G", "password": "short"}, headers=admin
    )
    assert short.status_code == 400 and short.get_json()["fields"] == {
        "password": ["must be at least 8 characters long"]
    }
    email = client.patch("/api/v1/agents/alice", json={"email": "not-an-address"}, headers=admin)
    assert email.status_code == 400 and email.get_json()["fields"] == {
        "email": ["is not a valid e-mail address"]
    }
    empty_patch = client.patch("/api/v1/agents/alice", json={}, headers=admin)
    assert empty_patch.status_code == 400
    assert client.patch("/api/v1/agents/nobody", json={"fullname": "X"}, headers=admin).status_code == 404


def test_campaign_and_member_crud(
    client: FlaskClient, sessions: sessionmaker[Session], stasis: StasisStandIn
) -> None:
    admin = basic(seed_token(client, *ADMIN))
    created = client.post(
        "/api/v1/campaigns",
        json={"name": "Support", "did": "5000&5001", "strategy": "rrmemory", "timeout": 20, "record": True},
        headers=admin,
    )
    assert created.status_code == 201 and created.headers["Location"] == "/api/v1/campaigns/Support"
    assert created.get_json()["dids"] == ["5000", "5001"]
    assert stasis.wait_for("campaigns.reload")["names"] == ["Support"]
    assert client.post("/api/v1/campaigns", json={"name": "Support"}, headers=admin).status_code == 409

    invalid = client.post(
        "/api/v1/campaigns",
        json={"name": "X", "strategy": "fastest", "did": "12;34", "timeout": "9"},
        headers=admin,
    )
    assert invalid.status_code == 400
    fields = invalid.get_json()["fields"]
    assert set(fields) == {"strategy", "did", "timeout"}
    assert "2000&2001" in fields["did"][0]

    patched = client.patch(
        "/api/v1/campaigns/Support", json={"timeout": 25, "welcome": "hello"}, headers=admin
    )
    assert patched.status_code == 200 and patched.get_json()["timeout"] == 25

    listing = client.get("/api/v1/campaigns?page=1&per_page=1", headers=admin).get_json()
    assert listing["per_page"] == 1 and len(listing["items"]) == 1 and listing["total"] >= 2
    assert client.get("/api/v1/campaigns?per_page=0", headers=admin).status_code == 400

    member = client.post(
        "/api/v1/campaigns/Support/members",
        json={"membername": "alice", "interface": "SIP/1101"},
        headers=admin,
    )
    assert member.status_code == 201
    member_id = member.get_json()["id"]
    assert member.get_json()["interface"] == "PJSIP/1101"
    again = client.post(
        "/api/v1/campaigns/Support/members",
        json={"membername": "alice", "interface": "PJSIP/1101"},
        headers=admin,
    )
    assert again.status_code == 409
    unknown = client.post(
        "/api/v1/campaigns/Support/members",
        json={"membername": "ghost", "interface": "PJSIP/9"},
        headers=admin,
    )
    assert unknown.status_code == 404
    paused = client.patch(
        f"/api/v1/campaigns/Support/members/{member_id}", json={"paused": True}, headers=admin
    )
    assert paused.get_json()["paused"] is True
    members = client.get("/api/v1/campaigns/Support/members", headers=admin).get_json()
    assert [item["membername"] for item in members["items"]] == ["alice"]
    assert client.delete(f"/api/v1/campaigns/Support/members/{member_id}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/campaigns/Support/members/{member_id}", headers=admin).status_code == 404

    assert client.delete("/api/v1/campaigns/Support", headers=admin).status_code == 204
    assert client.get("/api/v1/campaigns/Support", headers=admin).status_code == 404
    actions = [row.action for row in audit_rows(sessions, "campaign:Support")]
    assert actions == [
        "campaign.create",
        "campaign.update",
        "member.add",
        "member.update",
        "member.remove",
        "campaign.delete",
    ]
    update_row = audit_rows(sessions, "campaign:Support")[1]
    assert json.loads(update_row.detail or "{}") == {
        "before": {"timeout": 20, "welcome": ""},
        "after": {"timeout": 25, "welcome": "hello"},
    }

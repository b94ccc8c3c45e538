"""Tokens, lockout after failed logins, and role enforcement on both API styles."""

from __future__ import annotations

import json
from datetime import timedelta

from admin_api_helpers import ADMIN, AGENT, MAX_FAILED, SUPERVISOR, add_person, basic, seed_token
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth import hash_token
from admin_api.login_guard import utcnow
from datastore.models import ApiToken, AuditEntry, User

SEED = "/Integra/resources"


def audit_actions(sessions: sessionmaker[Session], username: str) -> list[str]:
    with sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.user == username).order_by(AuditEntry.id))
        return [row.action for row in rows]


def test_lockout_after_repeated_failures(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        add_person(session, "locky", "locky-pass-1", "agent")
        session.commit()
    for _ in range(MAX_FAILED):
        wrong = client.post(f"{SEED}/auth/getUserToken", data={"user": "locky", "password": "guess"})
        assert wrong.get_data(as_text=True) == '"0"'
    # Locked now: even the right password is refused, on both APIs.
    right = client.post(f"{SEED}/auth/getUserToken", data={"user": "locky", "password": "locky-pass-1"})
    assert right.get_data(as_text=True) == '"0"'
    json_login = client.post("/api/v1/auth/token", json={"username": "locky", "password": "locky-pass-1"})
    assert json_login.status_code == 401
    assert json_login.get_json()["error"] == "unauthorized"
    actions = audit_actions(sessions, "locky")
    assert actions[:MAX_FAILED] == ["auth.login_failed"] * MAX_FAILED
    assert actions[MAX_FAILED:] == ["auth.login_refused", "auth.login_refused"]
    with sessions() as session:
        locked = session.scalars(select(User).where(User.username == "locky")).one()
        assert locked.locked_until is not None and locked.locked_until > utcnow()
        last_failure = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed").order_by(AuditEntry.id.desc())
        ).first()
        assert last_failure is not None and "locked_for_seconds" in json.loads(last_failure.detail or "{}")
        # When the lock expires the right password works again.
        session.execute(
            update(User).where(User.username == "locky").values(locked_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert seed_token(client, "locky", "locky-pass-1")
    assert audit_actions(sessions, "locky")[-1] == "auth.login"


def test_passwords_never_reach_the_audit_trail(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    client.post(f"{SEED}/auth/getUserToken", data={"user": SUPERVISOR[0], "password": "typo-secret-77"})
    seed_token(client, *SUPERVISOR)
    with sessions() as session:
        details = [row.detail or "" for row in session.scalars(select(AuditEntry))]
    assert details
    assert not any("typo-secret-77" in detail or SUPERVISOR[1] in detail for detail in details)


def test_json_token_bearer_and_basic(client: FlaskClient) -> None:
    created = client.post("/api/v1/auth/token", json={"username": SUPERVISOR[0], "password": SUPERVISOR[1]})
    assert created.status_code == 201
    token = created.get_json()["token"]
    for scheme in ("Bearer", "Basic"):
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"{scheme} {token}"})
        assert me.status_code == 200 and me.get_json()["role"] == "supervisor"
    # A token from the seed's route works on the JSON API too.
    seed = seed_token(client, *SUPERVISOR)
    assert client.get("/api/v1/auth/me", headers=basic(seed)).status_code == 200


def test_bad_json_login_is_a_clear_400(client: FlaskClient) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "x", "pasword": "y"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "validation_failed"
    assert body["fields"] == {"password": ["Missing data for required field."], "pasword": ["Unknown field."]}
    not_json = client.post("/api/v1/auth/token", data="user=x")
    assert not_json.status_code == 400 and "JSON object" in not_json.get_json()["message"]


def test_expired_revoked_and_garbage_tokens(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    token = seed_token(client, *ADMIN)
    assert client.get("/api/v1/agents", headers=basic(token)).status_code == 200
    with sessions() as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    expired = client.get("/api/v1/agents", headers=basic(token))
    assert expired.status_code == 401 and expired.get_json()["error"] == "unauthorized"
    seed_expired = client.post(f"{SEED}/queues/getqueues", headers=basic(token))
    assert (seed_expired.status_code, seed_expired.get_data(as_text=True)) == (401, "0")

    fresh = seed_token(client, *ADMIN)
    assert client.delete("/api/v1/auth/token", headers=basic(fresh)).status_code == 204
    assert client.get("/api/v1/agents", headers=basic(fresh)).status_code == 401

    for header in ("Basic", "Basic !!!", "Token abc", "Basic YWRtaW46bm90LWEtdXVpZA=="):
        assert client.get("/api/v1/agents", headers={"Authorization": header}).status_code == 401


def test_roles_on_the_json_api(client: FlaskClient) -> None:
    agent = basic(seed_token(client, *AGENT))
    supervisor = basic(seed_token(client, *SUPERVISOR))
    assert client.get("/api/v1/agents", headers=agent).status_code == 403
    assert client.get(f"/api/v1/agents/{AGENT[0]}", headers=agent).status_code == 200
    assert client.get(f"/api/v1/agents/{SUPERVISOR[0]}", headers=agent).status_code == 403
    assert client.get("/api/v1/status", headers=agent).status_code == 403
    assert client.get("/api/v1/agents", headers=supervisor).status_code == 200
    denied = client.post("/api/v1/campaigns", json={"name": "Nope"}, headers=supervisor)
    assert denied.status_code == 403 and denied.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/agents").status_code == 401

"""Fixtures for the admin API tests: a real MariaDB, the in-process bus and a stand-in for the Stasis app.

The stand-in answers commands the way the Stasis app does (a reply payload with "ok"); the real Stasis
side is exercised end to end elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from admin_api.app import create_app
from admin_api.config import ApiConfig
from bus import COMMANDS, InProcessBus, Message, SyncBus
from datastore.database import make_engine, session_factory
from datastore.models import Campaign, User, sip_phone_rows
from datastore.passwords import hash_password

ADMIN = ("boss-admin", "admin-pass-1")
SUPERVISOR = ("sup", "sup-pass-12")
AGENT = ("alice", "alice-pass-1")
AGENT_PHONE = "1101"
OTHER_AGENT = ("bob", "bob-pass-12")
OTHER_PHONE = "1102"
CAMPAIGN = "Sales"
MAX_FAILED = 3


@dataclass
class StasisStandIn:
    """Plays the Stasis app's side of the bus: records commands and answers requests."""

    bus: InProcessBus
    commands: list[Message] = field(default_factory=list)
    phones_in_call: set[str] = field(default_factory=set)
    refused_agents: set[str] = field(default_factory=set)

    async def handle(self, message: Message) -> None:
        self.commands.append(message)
        if "request_id" not in message:
            return
        kind = message["type"]
        if kind == "phone.hangup":
            ok = message["phone"] in self.phones_in_call
        elif kind in {"agent.login", "agent.logoff"}:
            ok = message["agent"] not in self.refused_agents
        else:
            ok = True
        await self.bus.reply(message, {"ok": ok})

    def wait_for(self, kind: str, timeout: float = 3.0) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.commands:
                if message["type"] == kind:
                    return message
            time.sleep(0.01)
        raise AssertionError(f"no {kind} command reached the Stasis side; got {self.commands}")


def add_person(session: Session, username: str, password: str, role: str, phone: str | None = None) -> User:
    user = User(username=username, password_hash=hash_password(password), fullname=username.title(), role=role)
    if phone:
        user.phone = phone
        session.add_all(sip_phone_rows(phone, password, context="from-internal", realm="asterisk"))
    session.add(user)
    return user


@pytest.fixture(scope="module")
def sessions(mariadb_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(mariadb_url)
    factory = session_factory(engine)
    with factory() as session:
        add_person(session, *ADMIN, role="administrative")
        add_person(session, *SUPERVISOR, role="supervisor")
        add_person(session, *AGENT, role="agent", phone=AGENT_PHONE)
        add_person(session, *OTHER_AGENT, role="agent", phone=OTHER_PHONE)
        session.add(Campaign(name=CAMPAIGN, did="2000&2001", strategy="linear", timeout=15))
        session.commit()
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def bus_pair() -> Iterator[tuple[SyncBus, StasisStandIn]]:
    core = InProcessBus()
    stasis = StasisStandIn(core)
    core.subscribe(COMMANDS, stasis.handle)
    sync = SyncBus(core)
    sync.start()
    yield sync, stasis
    sync.close()


@pytest.fixture(scope="module")
def app(mariadb_url: str, sessions: sessionmaker[Session], bus_pair: tuple[SyncBus, StasisStandIn]) -> Flask:
    config = ApiConfig.from_mapping(
        {
            "database_url": mariadb_url,
            "max_failed_logins": MAX_FAILED,
            "lockout_seconds": 600,
            "bus_timeout_seconds": 2.0,
            "public_host": "contact.example.org",
        }
    )
    return create_app(config, bus=bus_pair[0], sessions=sessions)


@pytest.fixture
def stasis(bus_pair: tuple[SyncBus, StasisStandIn]) -> Iterator[StasisStandIn]:
    stand_in = bus_pair[1]
    stand_in.commands.clear()
    stand_in.phones_in_call.clear()
    stand_in.refused_agents.clear()
    yield stand_in


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def seed_token(client: FlaskClient, username: str, password: str) -> str:
    """A token through the seed's getUserToken (its body is the token in JSON quotes)."""
    response = client.post("/Integra/resources/auth/getUserToken", data={"user": username, "password": password})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith('"') and body != '"0"', body
    token: Any = response.get_json()
    assert isinstance(token, str)
    return token


def basic(token: str) -> dict[str, str]:
    return {"Authorization": f"Basic {token}"}

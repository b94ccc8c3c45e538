"""Fixtures for the admin API tests: a real MariaDB, the in-process bus and a stand-in for the Stasis app.

The stand-in answers commands the way the Stasis app does (a reply payload with "ok"); the real Stasis
side is exercised end to end elsewhere. Helpers live in admin_api_helpers.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from admin_api_helpers import (
    ADMIN,
    AGENT,
    AGENT_PHONE,
    CAMPAIGN,
    MAX_FAILED,
    OTHER_AGENT,
    OTHER_PHONE,
    SUPERVISOR,
    StasisStandIn,
    add_person,
)
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from admin_api.app import create_app
from admin_api.config import ApiConfig
from bus import COMMANDS, InProcessBus, SyncBus
from datastore.database import make_engine, session_factory
from datastore.models import Campaign


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

"""Demo data loads idempotently; engines are set up as each backend needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from datastore.database import DEFAULT_DATABASE_URL, create_schema, database_url_from_env, make_engine
from datastore.demo import DEMO_AGENTS, load_demo_data
from datastore.models import Campaign, CampaignMember, PsAor, PsAuth, PsEndpoint, User
from datastore.passwords import sip_md5_cred, verify_password

COUNTED = (Campaign, CampaignMember, User, PsEndpoint, PsAuth, PsAor)


def _counts(session: Session) -> dict[str, int]:
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0 for model in COUNTED}


def test_demo_data_loads_twice_without_duplicates(sessions: sessionmaker[Session]) -> None:
    for _ in range(2):
        with sessions() as session:
            load_demo_data(session)
            session.commit()
    with sessions() as session:
        assert _counts(session) == {
            "Campaign": 1,
            "CampaignMember": 3,
            "User": 4,
            "PsEndpoint": 3,
            "PsAuth": 3,
            "PsAor": 3,
        }
        sales = session.get(Campaign, "Sales")
        assert sales is not None
        assert sales.dids() == ["2000", "2001"]
        assert (sales.strategy, sales.timeout, sales.musiconhold) == ("rrmemory", 15, "default")
        assert sales.schedule == "sun-sat;00:00-23:59"
        assert sales.welcome
        members = {(member.membername, member.interface) for member in sales.members}
        assert members == {(agent.username, f"PJSIP/{agent.phone}") for agent in DEMO_AGENTS}

        agents = session.scalars(select(User).where(User.role == "agent").order_by(User.username)).all()
        assert [(user.username, user.phone) for user in agents] == [
            ("agent1", "1001"),
            ("agent2", "1002"),
            ("agent3", "1003"),
        ]
        assert all(verify_password(user.password_hash, "demo") for user in agents)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        assert admin.role == "administrative"
        assert admin.phone is None
        assert verify_password(admin.password_hash, "admin")
        auth = session.get(PsAuth, "1002")
        assert auth is not None
        assert auth.md5_cred == sip_md5_cred("1002", auth.realm, "demo")
        # Demo phones dial into the dialplan's phone context (dialplan/extensions.conf [from-internal]).
        contexts = set(session.scalars(select(PsEndpoint.context)))
        assert contexts == {"from-internal"}


def test_demo_data_keeps_later_changes(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        load_demo_data(session)
        session.commit()
    with sessions() as session:
        sales = session.get(Campaign, "Sales")
        assert sales is not None
        sales.timeout = 25
        session.commit()
    with sessions() as session:
        load_demo_data(session)
        session.commit()
        sales = session.get(Campaign, "Sales")
        assert sales is not None
        assert sales.timeout == 25


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'oc.db'}")
    try:
        create_schema(engine)
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    finally:
        engine.dispose()
    assert (tmp_path / "nested" / "dir" / "oc.db").exists()


def test_mysql_engine_talks_utf8mb4(mariadb_url: str) -> None:
    engine = make_engine(mariadb_url.split("?", maxsplit=1)[0])
    try:
        assert engine.url.query["charset"] == "utf8mb4"
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO users (username, password_hash) VALUES ('émoji😀', 'h')"))
            name = connection.execute(
                text("SELECT username FROM users WHERE HEX(username) = :hex"),
                {"hex": "émoji😀".encode().hex().upper()},
            ).scalar_one()
            connection.execute(text("DELETE FROM users WHERE username = :name"), {"name": name})
    finally:
        engine.dispose()
    assert name == "émoji😀"


def test_database_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OC_DATABASE_URL", raising=False)
    assert database_url_from_env() == DEFAULT_DATABASE_URL
    assert (tmp_path / "var").is_dir()
    monkeypatch.setenv("OC_DATABASE_URL", "mysql+pymysql://oc:pw@db.internal:3306/opencontact")
    assert database_url_from_env() == "mysql+pymysql://oc:pw@db.internal:3306/opencontact"

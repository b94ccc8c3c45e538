"""Every model survives a round trip through MariaDB and SQLite with every column set."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import pytest
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    Text,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import (
    ApiToken,
    AuditEntry,
    Base,
    Campaign,
    CampaignMember,
    Cdr,
    PsAor,
    PsAuth,
    PsEndpoint,
    QueueLogEntry,
    User,
    YesNo,
)

_MYSQL = mysql.dialect()
ROUND_TRIP_ORDER: tuple[type[Base], ...] = (
    PsEndpoint,
    PsAuth,
    PsAor,
    Campaign,
    CampaignMember,
    User,
    ApiToken,
    QueueLogEntry,
    Cdr,
    AuditEntry,
)


def _allowed_values(column: Column[Any]) -> list[str] | None:
    """The values a named CHECK allows for this column, if there is one."""
    for constraint in column.table.constraints:
        if (
            isinstance(constraint, CheckConstraint)
            and constraint.name == f"ck_{column.table.name}_{column.name}"
        ):
            return re.findall(r"'([^']*)'", str(constraint.sqltext))
    return None


def _default_of(column: Column[Any]) -> Any:
    default = column.default
    return getattr(default, "arg", None) if default is not None else None


def _value_for(column: Column[Any], seed: int) -> Any:
    """A value that differs from the column's default, fits its type and passes its CHECK."""
    column_type = column.type
    if isinstance(column_type, YesNo | Boolean):
        default = _default_of(column)
        return (not default) if isinstance(default, bool) else True
    allowed = _allowed_values(column)
    if allowed is not None:
        default = _default_of(column)
        choices = [value for value in allowed if value != default]
        return choices[seed % len(choices)]
    if isinstance(column_type, Text):
        return f"{column.name} ä😀 " * 50
    if isinstance(column_type, String):
        length = column_type.length or 40
        return f"{column.name}-{seed}-é"[:length]
    if isinstance(column_type, Integer):
        big = column_type.dialect_impl(_MYSQL).compile(dialect=_MYSQL).startswith("BIGINT")
        return (2**40 + seed) if big else 7 + seed
    if isinstance(column_type, Numeric) and not isinstance(column_type, Float):
        return Decimal("1234.5678") + seed
    if isinstance(column_type, Float):
        return 2.5 + seed
    if isinstance(column_type, DateTime):
        precise = getattr(column_type.dialect_impl(_MYSQL), "fsp", None) == 6
        return datetime(2024, 5, 6, 7, 8, 9 + seed, 123456 if precise else 0)
    raise AssertionError(f"no test value for {column.table.name}.{column.name} ({column_type!r})")


def _full_row(model: type[Base], parents: dict[str, Any], seed: int) -> tuple[Base, dict[str, Any]]:
    """An instance with every column set (foreign keys point at ``parents``) and the values used."""
    values: dict[str, Any] = {}
    mapper = inspect(model)
    for attribute in mapper.column_attrs:
        column = cast(Column[Any], attribute.columns[0])
        if column.primary_key and column.autoincrement is True:
            continue
        if column.foreign_keys:
            target = next(iter(column.foreign_keys)).column
            values[attribute.key] = parents[f"{target.table.name}.{target.name}"]
            continue
        values[attribute.key] = _value_for(column, seed)
    return model(**values), values


def test_every_model_round_trips_with_every_column(sessions: sessionmaker[Session]) -> None:
    parents: dict[str, Any] = {}
    written: list[tuple[type[Base], Any, dict[str, Any]]] = []
    with sessions() as session:
        for seed, model in enumerate(ROUND_TRIP_ORDER):
            row, values = _full_row(model, parents, seed)
            session.add(row)
            session.flush()
            identity = inspect(row).identity
            assert identity is not None
            key = identity[0] if len(identity) == 1 else identity
            written.append((model, key, values))
            if model is Campaign:
                parents["queues.name"] = values["name"]
            if model is User:
                parents["users.id"] = key
        session.commit()

    with sessions() as session:
        for model, key, values in written:
            loaded = session.get(model, key)
            assert loaded is not None, model.__name__
            stored = {name: getattr(loaded, name) for name in values}
            assert stored == values, model.__name__


def test_unset_settings_take_the_database_defaults(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """Rows inserted by other tools (plain SQL, no ORM defaults) get the same defaults as the ORM's."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO queues (name) VALUES ('Plain')"))
    with sessions() as session:
        plain = session.get(Campaign, "Plain")
        assert plain is not None
        orm_defaults = Campaign(name="Orm")
        session.add(orm_defaults)
        session.commit()
        for column in inspect(Campaign).columns:
            if column.key != "name":
                assert getattr(plain, column.key) == getattr(orm_defaults, column.key), column.key


def test_yes_no_options_are_stored_as_asterisk_text(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(Campaign(name="Flags", ringinuse=True, timeoutrestart=False))
        session.add(PsEndpoint(id="1009", webrtc=True, direct_media=False))
        session.commit()
    with engine.connect() as connection:
        flags = connection.execute(
            text("SELECT ringinuse, timeoutrestart FROM queues WHERE name='Flags'")
        ).one()
        endpoint = connection.execute(text("SELECT webrtc, direct_media, allow FROM ps_endpoints")).one()
    assert tuple(flags) == ("yes", "no")
    assert tuple(endpoint) == ("yes", "no", None)


def test_yes_no_reads_every_asterisk_spelling(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with engine.begin() as connection:
        for index, spelling in enumerate(("true", "1", "on", "false", "0", "off")):
            connection.execute(
                text(f"INSERT INTO ps_aors (id, remove_existing) VALUES ('a{index}', '{spelling}')")
            )
    with sessions() as session:
        read = [aor.remove_existing for aor in session.scalars(select(PsAor).order_by(PsAor.id))]
    assert read == [True, True, True, False, False, False]


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO users (username, password_hash, role) VALUES ('x', 'h', 'boss')", "ck_users_role"),
        ("INSERT INTO queues (name, strategy) VALUES ('q', 'fastest')", "ck_queues_strategy"),
        ("INSERT INTO queues (name, direction) VALUES ('q', 'sideways')", "ck_queues_direction"),
        ("INSERT INTO ps_endpoints (id, webrtc) VALUES ('e', 'maybe')", "ck_ps_endpoints_webrtc"),
        ("INSERT INTO ps_auths (id, auth_type) VALUES ('a', 'plain')", "ck_ps_auths_auth_type"),
        ("INSERT INTO queue_members (queue_name, interface) VALUES ('missing', 'PJSIP/1')", "FOREIGN KEY"),
    ],
)
def test_constraints_reject_bad_rows(engine: Engine, statement: str, constraint: str) -> None:
    """MariaDB reports a failed CHECK as an OperationalError (error 4025), SQLite as an IntegrityError."""
    with pytest.raises((IntegrityError, OperationalError)) as raised, engine.begin() as connection:
        connection.execute(text(statement))
    assert constraint.lower() in str(raised.value).lower()


def test_record_ids_are_unique(sessions: sessionmaker[Session]) -> None:
    """The records writer relies on this to never write a replayed record twice."""
    moment = datetime(2024, 1, 2, 3, 4, 5, 678901)
    with sessions() as session:
        session.add(QueueLogEntry(time=moment, event="ENTERQUEUE", record_id="r-1"))
        session.commit()
        session.add(QueueLogEntry(time=moment, event="ENTERQUEUE", record_id="r-1"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add(Cdr(calldate=moment.replace(microsecond=0), record_id="c-1"))
        session.add(Cdr(calldate=moment.replace(microsecond=0), record_id="c-1"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_queue_log_keeps_microseconds_and_order(sessions: sessionmaker[Session]) -> None:
    first = datetime(2024, 1, 2, 3, 4, 5, 100)
    second = datetime(2024, 1, 2, 3, 4, 5, 200)
    with sessions() as session:
        session.add_all(
            [
                QueueLogEntry(time=second, callid="c", queuename="Sales", event="CONNECT"),
                QueueLogEntry(time=first, callid="c", queuename="Sales", event="ENTERQUEUE"),
            ]
        )
        session.commit()
    with sessions() as session:
        rows = session.scalars(select(QueueLogEntry).order_by(QueueLogEntry.time)).all()
    assert [(row.event, row.time) for row in rows] == [("ENTERQUEUE", first), ("CONNECT", second)]
    assert [row.data1 for row in rows] == ["", ""]


def test_deleting_a_campaign_removes_its_members(engine: Engine, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        campaign = Campaign(name="Temp", did="5000")
        campaign.members.append(CampaignMember(interface="PJSIP/1001", membername="agent1"))
        campaign.members.append(CampaignMember(interface="PJSIP/1002", membername="agent2"))
        session.add(campaign)
        session.commit()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM queues WHERE name = 'Temp'"))
        left = connection.execute(text("SELECT COUNT(*) FROM queue_members")).scalar_one()
    assert left == 0


def test_one_member_row_per_campaign_and_interface(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(Campaign(name="Dup"))
        session.flush()
        session.add(CampaignMember(queue_name="Dup", interface="PJSIP/1001", membername="agent1"))
        session.add(CampaignMember(queue_name="Dup", interface="PJSIP/1001", membername="agent1"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_audit_entry_uses_the_seed_column_names(engine: Engine, sessions: sessionmaker[Session]) -> None:
    moment = datetime(2024, 3, 4, 5, 6, 7, 891011)
    with sessions() as session:
        session.add(
            AuditEntry(time=moment, user="admin", ip="2001:db8::1", action="agent.create", target="x")
        )
        session.commit()
    with engine.connect() as connection:
        row = connection.execute(text("SELECT datetime, userid, host, action, target FROM auditory")).one()
    stored_time = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(str(row[0]))
    assert (stored_time, *tuple(row)[1:]) == (moment, "admin", "2001:db8::1", "agent.create", "x")

"""sql/mysql/schema.sql and the SQLAlchemy models build the same schema on a real MariaDB."""

from __future__ import annotations

from mariadb import SCHEMA_SQL, fresh_database, load_sql, sql_statements
from schema_compare import describe, differences
from sqlalchemy import Engine, create_engine, text

from datastore.database import create_schema, make_engine
from datastore.models import Base


def _engine(url: str) -> Engine:
    return make_engine(url, pool_size=1, max_overflow=0)


def test_schema_sql_equals_models(mariadb_server_url: str) -> None:
    with fresh_database() as from_sql, fresh_database() as from_models:
        load_sql(from_sql)
        sql_engine, model_engine = _engine(from_sql), _engine(from_models)
        try:
            create_schema(model_engine)
            sql_shape, model_shape = describe(sql_engine), describe(model_engine)
        finally:
            sql_engine.dispose()
            model_engine.dispose()

    assert set(model_shape) == set(Base.metadata.tables)
    assert differences(sql_shape, model_shape) == []


def test_comparison_reports_a_changed_column(mariadb_server_url: str) -> None:
    """The comparison is able to fail: a one-column drift is reported by name."""
    with fresh_database() as original, fresh_database() as drifted:
        load_sql(original)
        load_sql(drifted)
        original_engine, drifted_engine = _engine(original), _engine(drifted)
        try:
            with drifted_engine.begin() as connection:
                connection.execute(text("ALTER TABLE queues MODIFY timeout INT NULL DEFAULT 30"))
                connection.execute(text("ALTER TABLE cdr DROP INDEX ix_cdr_guid"))
            found = differences(describe(original_engine), describe(drifted_engine))
        finally:
            original_engine.dispose()
            drifted_engine.dispose()

    assert any(line.startswith("column queues.timeout:") for line in found), found
    assert any(line.startswith("indexes of cdr:") and "ix_cdr_guid" in line for line in found), found
    assert len(found) == 2, found


def test_schema_sql_loads_twice_and_keeps_rows(mariadb_empty_url: str) -> None:
    load_sql(mariadb_empty_url)
    engine = create_engine(mariadb_empty_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO queues (name, did) VALUES ('Support', '3000')"))
        load_sql(mariadb_empty_url)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT name, did, timeout, strategy FROM queues")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("Support", "3000", 15, "rrmemory")


def test_every_statement_is_idempotent() -> None:
    statements = sql_statements(SCHEMA_SQL.read_text(encoding="utf-8"))
    creates = [statement for statement in statements if statement.upper().startswith("CREATE")]
    assert len(creates) == len(Base.metadata.tables)
    assert all(statement.startswith("CREATE TABLE IF NOT EXISTS") for statement in creates)
    assert {statement.split("`")[1] for statement in creates} == set(Base.metadata.tables)

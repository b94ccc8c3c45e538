"""Real MariaDB/MySQL databases for tests (a pytest plugin, registered in tests/conftest.py).

Every database is created fresh under a random ``oc_test_<hex>`` name and dropped afterwards, so tests
never see each other's rows or a developer's data. The server is ``OC_TEST_MYSQL_URL`` (default
``mysql+pymysql://root@127.0.0.1:3306``). When the server cannot be reached the tests FAIL: a test that
claims MySQL behaviour must not pass without MySQL.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

DEFAULT_SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306"
SCHEMA_SQL = Path(__file__).resolve().parents[1] / "sql" / "mysql" / "schema.sql"


def server_url() -> URL:
    """The test server's URL without a database name."""
    url = make_url(os.environ.get("OC_TEST_MYSQL_URL", "").strip() or DEFAULT_SERVER_URL)
    return url.set(database=None)


def _server_engine() -> Engine:
    return create_engine(server_url().update_query_dict({"charset": "utf8mb4"}), pool_pre_ping=True)


def check_server() -> None:
    """Fail the calling test with a clear message when the server is unreachable."""
    engine = _server_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        pytest.fail(
            f"MariaDB/MySQL is not reachable at {server_url().render_as_string(hide_password=True)} "
            f"(set OC_TEST_MYSQL_URL): {error}",
            pytrace=False,
        )
    finally:
        engine.dispose()


@contextmanager
def fresh_database(prefix: str = "oc_test") -> Iterator[str]:
    """An empty utf8mb4 database for the block; yields its SQLAlchemy URL and drops it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = _server_engine()
    try:
        with engine.begin() as connection:
            connection.execute(
                text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
        url = server_url().set(database=name).update_query_dict({"charset": "utf8mb4"})
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        engine.dispose()


def sql_statements(script: str) -> list[str]:
    """The statements of a DDL script: ``--`` comments removed, split at ';' ending a line."""
    without_comments = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("--"))
    parts = re.split(r";\s*(?:\n|$)", without_comments)
    return [part.strip() for part in parts if part.strip()]


def load_sql(url: str, path: Path = SCHEMA_SQL) -> None:
    """Run a DDL script (``schema.sql`` by default) against the database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in sql_statements(path.read_text(encoding="utf-8")):
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def mariadb_server_url() -> str:
    """The server URL (no database), after checking that the server answers."""
    check_server()
    return server_url().render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def mariadb_url(mariadb_server_url: str) -> Iterator[str]:
    """A fresh database for one test module, with ``sql/mysql/schema.sql`` loaded, dropped afterwards."""
    with fresh_database() as url:
        load_sql(url)
        yield url


@pytest.fixture
def mariadb_empty_url(mariadb_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    with fresh_database() as url:
        yield url

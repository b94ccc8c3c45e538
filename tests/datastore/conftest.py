"""Engines for the datastore tests: every behaviour is checked on MariaDB and on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from datastore.database import create_schema, make_engine, session_factory
from datastore.models import Base


def _empty_all_tables(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture(params=["mariadb", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a schema built the production way for that backend, with no rows in it.

    MariaDB gets ``sql/mysql/schema.sql`` (the module's database); SQLite gets ``create_schema`` in a
    file, as the embedded demo does.
    """
    if request.param == "mariadb":
        url: str = request.getfixturevalue("mariadb_url")
        built = make_engine(url, pool_size=2, max_overflow=0)
        _empty_all_tables(built)
    else:
        built = make_engine(f"sqlite:///{tmp_path / 'datastore.db'}")
        create_schema(built)
    try:
        yield built
    finally:
        if request.param == "mariadb":
            _empty_all_tables(built)
        built.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)

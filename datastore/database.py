"""Engines and sessions for MySQL/MariaDB (production) and SQLite (the embedded demo)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from datastore.models import Base

DEFAULT_DATABASE_URL = "sqlite:///var/opencontact.db"
"""Embedded default: a SQLite file under ``var/`` of the current directory."""


def database_url_from_env() -> str:
    """``OC_DATABASE_URL``, or the embedded SQLite file (its directory is created)."""
    url = os.environ.get("OC_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    _ensure_sqlite_directory(make_url(url))
    return url


def _ensure_sqlite_directory(url: URL) -> None:
    if url.get_backend_name() != "sqlite":
        return
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _is_memory_sqlite(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def make_engine(url: str, **overrides: Any) -> Engine:
    """An engine with pool settings fit for long-running processes.

    MySQL/MariaDB: utf8mb4, connections checked before use (the server drops idle ones) and recycled
    hourly. SQLite: usable from several threads, foreign keys enforced, WAL so the API and the Stasis
    app's writer do not block each other's reads, and a busy timeout instead of "database is locked".
    """
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_directory(parsed)
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if _is_memory_sqlite(parsed):
            options["poolclass"] = StaticPool
    else:
        if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        options.update(pool_pre_ping=True, pool_recycle=3600, pool_size=5, max_overflow=10)
    options.update(overrides)
    engine = create_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, memory=_is_memory_sqlite(parsed))
    return engine


def _configure_sqlite(engine: Engine, *, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (they are handed to other layers)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def create_schema(engine: Engine) -> None:
    """Create every missing table (SQLite/embedded and tests; MySQL deployments load ``sql/``)."""
    Base.metadata.create_all(engine)

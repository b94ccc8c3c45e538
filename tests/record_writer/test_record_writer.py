"""RecordWriter against a real MariaDB: batches, an outage through a closable proxy, crashes, replay."""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from datastore.database import create_schema, make_engine, session_factory
from datastore.models import Cdr, QueueLogEntry
from datastore.record_writer import RecordWriter

from .tcp_proxy import TcpProxy


@pytest.fixture
def proxy(mariadb_url: str) -> Iterator[TcpProxy]:
    url = make_url(mariadb_url)
    forwarder = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    forwarder.open()
    yield forwarder
    forwarder.close()


@pytest.fixture
def engine(mariadb_url: str, proxy: TcpProxy) -> Iterator[Engine]:
    """An engine that reaches MariaDB only through the proxy."""
    url = make_url(mariadb_url).set(host="127.0.0.1", port=proxy.port)
    database = make_engine(url.render_as_string(hide_password=False), connect_args={"connect_timeout": 2})
    yield database
    database.dispose()


@pytest.fixture
def callid() -> str:
    """A call id prefix unique to the test (the module shares one database)."""
    return uuid.uuid4().hex[:10]


def writer_for(engine: Engine, directory: Path, **options: float) -> RecordWriter:
    settings: dict[str, float] = {"flush_interval": 0.05, "min_backoff": 0.02, "max_backoff": 0.2}
    settings.update(options)
    return RecordWriter(session_factory(engine), directory, **settings)  # type: ignore[arg-type]


def queue_log_rows(engine: Engine, callid: str) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(QueueLogEntry.callid, QueueLogEntry.event, QueueLogEntry.record_id)
            .where(QueueLogEntry.callid.like(f"{callid}%"))
            .order_by(QueueLogEntry.id)
        )
        return [(r[0], r[1], r[2]) for r in rows]


def log_calls(writer: RecordWriter, callid: str, start: int, stop: int) -> list[str]:
    when = datetime(2025, 3, 1, 10, 0, 0, 123456)
    return [
        writer.queue_log(when, f"{callid}-{n}", "Sales", "agent1", "ENTERQUEUE", "", "5551234", "1")
        for n in range(start, stop)
    ]


def assert_exactly_once(engine: Engine, callid: str, record_ids: list[str]) -> None:
    rows = queue_log_rows(engine, callid)
    assert sorted(r[2] for r in rows) == sorted(record_ids)
    assert len({r[0] for r in rows}) == len(record_ids)


def test_batches_reach_the_database(engine: Engine, tmp_path: Path, callid: str) -> None:
    writer = writer_for(engine, tmp_path, batch_size=50)
    writer.start()
    ids = log_calls(writer, callid, 0, 230)
    cdr_id = writer.cdr(
        calldate=datetime(2025, 3, 1, 10, 0, 0),
        src="5551234",
        dst="2000",
        guid=callid,
        campaign="Sales",
        duration=42,
        billsec=30,
        disposition="ANSWERED",
        charged_balance=Decimal("1.2500"),
    )
    assert writer.flush(10)
    writer.stop()
    assert_exactly_once(engine, callid, ids)
    with engine.connect() as connection:
        entry = connection.execute(select(QueueLogEntry).where(QueueLogEntry.callid == f"{callid}-0")).one()
        cdr = connection.execute(select(Cdr).where(Cdr.guid == callid)).one()
    assert entry.time == datetime(2025, 3, 1, 10, 0, 0, 123456)
    assert (entry.queuename, entry.agent, entry.data2, entry.data3) == ("Sales", "agent1", "5551234", "1")
    assert (cdr.record_id, cdr.billsec, cdr.disposition) == (cdr_id, 30, "ANSWERED")
    assert cdr.charged_balance == Decimal("1.2500")
    assert writer.pending() == 0 and writer.written == 231


def test_unknown_cdr_column_fails_at_the_call(engine: Engine, tmp_path: Path) -> None:
    writer = writer_for(engine, tmp_path)
    writer.start()
    try:
        with pytest.raises(ValueError, match="no column"):
            writer.cdr(src="1", not_a_column="x")
        assert writer.pending() == 0
    finally:
        writer.stop()


def test_database_outage_loses_and_duplicates_nothing(
    engine: Engine, proxy: TcpProxy, tmp_path: Path, callid: str, caplog: pytest.LogCaptureFixture
) -> None:
    writer = writer_for(engine, tmp_path, batch_size=20)
    writer.start()
    ids = log_calls(writer, callid, 0, 40)
    assert writer.flush(10)

    proxy.close()
    with caplog.at_level(logging.WARNING, logger="datastore.record_writer"):
        started = time.monotonic()
        ids += log_calls(writer, callid, 40, 140)
        assert time.monotonic() - started < 1.0  # the call path never waits on the database
        assert not writer.flush(0.5)
    assert writer.pending() == 100
    assert writer.last_error is not None
    assert "database unavailable" in caplog.text

    proxy.open()
    ids += log_calls(writer, callid, 140, 150)
    assert writer.flush(15)
    writer.stop()
    assert writer.last_error is None
    assert_exactly_once(engine, callid, ids)


def test_restart_without_flush_replays_exactly_once(engine: Engine, tmp_path: Path, callid: str) -> None:
    # A long batching delay keeps everything in the journal when the process "dies".
    first = writer_for(engine, tmp_path, batch_size=10_000, flush_interval=60)
    first.start()
    ids = log_calls(first, callid, 0, 25)
    first.stop(flush=False)
    assert queue_log_rows(engine, callid) == []

    second = writer_for(engine, tmp_path)
    second.start()
    assert second.pending() == 25
    assert second.flush(10)
    second.stop()
    assert_exactly_once(engine, callid, ids)


def test_crash_between_insert_and_ack_never_duplicates(
    engine: Engine, proxy: TcpProxy, tmp_path: Path, callid: str
) -> None:
    live, snapshot = tmp_path / "live", tmp_path / "snapshot"
    proxy.close()
    writer = writer_for(engine, live)
    writer.start()
    ids = log_calls(writer, callid, 0, 30)
    assert writer.journal.sync()
    # The journal as it was before the database had these rows...
    shutil.copytree(live, snapshot)
    proxy.open()
    assert writer.flush(15)
    writer.stop()
    assert_exactly_once(engine, callid, ids)

    # ...is what a process that crashed after the commit but before the ack finds on restart.
    replay = writer_for(engine, snapshot)
    replay.start()
    assert replay.pending() == 30
    assert replay.flush(10)
    replay.stop()
    assert replay.written == 30
    assert_exactly_once(engine, callid, ids)


def test_torn_journal_line_is_skipped_and_the_rest_replays(
    engine: Engine, proxy: TcpProxy, tmp_path: Path, callid: str, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.close()
    writer = writer_for(engine, tmp_path)
    writer.start()
    ids = log_calls(writer, callid, 0, 5)
    writer.stop(flush=False)
    (segment,) = sorted(tmp_path.glob("segment-*.jsonl"))
    with segment.open("ab") as handle:
        handle.write(b'{"record_id": "torn", "kind": "queue_log", "row": {"callid": "')

    writer = writer_for(engine, tmp_path)
    writer.start()
    ids += log_calls(writer, callid, 5, 8)
    writer.stop(flush=False)

    proxy.open()
    writer = writer_for(engine, tmp_path)
    with caplog.at_level(logging.WARNING, logger="datastore.journal"):
        writer.start()
        assert writer.pending() == 8
        assert writer.flush(10)
        writer.stop()
    assert "torn last line" in caplog.text
    assert_exactly_once(engine, callid, ids)


def test_sqlite_replay_is_idempotent_too(tmp_path: Path, callid: str) -> None:
    """The embedded database uses INSERT OR IGNORE semantics for the same guarantee."""
    database = make_engine(f"sqlite:///{tmp_path / 'oc.db'}")
    create_schema(database)
    live, snapshot = tmp_path / "live", tmp_path / "snapshot"
    writer = writer_for(database, live, batch_size=10_000, flush_interval=60)
    writer.start()
    ids = log_calls(writer, callid, 0, 12)
    assert writer.journal.sync()
    shutil.copytree(live, snapshot)
    assert writer.flush(10)
    writer.stop()
    replay = writer_for(database, snapshot)
    replay.start()
    assert replay.flush(10)
    replay.stop()
    with database.connect() as connection:
        count = connection.execute(select(func.count()).select_from(QueueLogEntry)).scalar_one()
    assert count == 12
    assert_exactly_once(database, callid, ids)
    database.dispose()

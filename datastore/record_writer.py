"""queue_log and CDR rows written off the call path, through a journal that survives outages.

The call flow calls :meth:`RecordWriter.queue_log` or :meth:`RecordWriter.cdr`: the record gets a
unique ``record_id`` and is appended to the on-disk journal (see :mod:`datastore.journal`), and the
call goes on. A writer thread inserts journaled records in batches, acknowledging each batch in the
journal once committed. When the database is unreachable it keeps everything in the journal and
retries with backoff, forever; after a restart the unacknowledged records are replayed. Inserts
ignore rows whose ``record_id`` already exists, so a crash between commit and acknowledgement
never writes a row twice. A row the database refuses as such (bad data, not a lost connection) is
set aside in ``rejected.jsonl`` in the journal directory with an error log, so it cannot block the
rows behind it.

Datetimes are stored without a zone, as Asterisk does (local time); aware ones are converted to
local time first.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Float, Insert, Numeric, Table
from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from datastore.journal import Batch, Journal, JournalRecord
from datastore.models import Cdr, QueueLogEntry

log = logging.getLogger(__name__)

QUEUE_LOG = "queue_log"
CDR = "cdr"
_TABLES: dict[str, Table] = {
    QUEUE_LOG: QueueLogEntry.__table__,  # type: ignore[dict-item]
    CDR: Cdr.__table__,  # type: ignore[dict-item]
}
# Columns the writer fills itself (never taken from callers).
_OWN_COLUMNS = frozenset({"id", "record_id"})
# Errors that condemn the rows, not the connection: retrying the same rows would fail forever.
_ROW_ERRORS = (IntegrityError, DataError, ValueError, TypeError, KeyError)
_REJECTED_FILE = "rejected.jsonl"


class RecordWriter:
    """Journals records at once and writes them to the database from a background thread."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        journal_dir: str | Path,
        batch_size: int = 200,
        flush_interval: float = 0.2,
        *,
        min_backoff: float = 0.1,
        max_backoff: float = 5.0,
        segment_bytes: int = 8 << 20,
    ) -> None:
        self._session_factory = session_factory
        self.journal = Journal(journal_dir, segment_bytes=segment_bytes)
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._hurry = 0  # >0 while someone waits in flush()/stop(): write without batching delay
        #: The last database error, or None once writes succeed again (for status pages).
        self.last_error: str | None = None
        #: Rows written since start (duplicates ignored by the database included).
        self.written = 0
        #: Rows set aside because the database refused them.
        self.rejected = 0

    # Life cycle.

    def start(self) -> None:
        """Open the journal (counting what is left to replay) and start the writer thread."""
        if self._thread is not None:
            return
        self.journal.open()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)
        self._thread.start()

    def stop(self, *, flush: bool = True, timeout: float = 10.0) -> None:
        """Stop the thread, first writing what is pending when ``flush`` (up to ``timeout``).

        Whatever is not written stays in the journal for the next start.
        """
        if self._thread is None:
            return
        if flush:
            self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("record writer did not stop within %.1fs; its records stay journaled", timeout)
        self._thread = None
        self.journal.close()

    def flush(self, timeout: float = 10.0) -> bool:
        """Write everything journaled so far now; True when nothing is pending any more."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._hurry += 1
            self._cond.notify_all()
            try:
                while self.journal.pending() > 0:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._thread is None:
                        break
                    self._cond.wait(min(remaining, 0.05))
            finally:
                self._hurry -= 1
        return self.journal.pending() == 0

    def pending(self) -> int:
        """Records journaled and not yet in the database."""
        return self.journal.pending()

    # Producer side (the call path): never waits on the database.

    def queue_log(  # noqa: PLR0917 (Asterisk's queue_log field order, as agreed)
        self,
        time: datetime,
        callid: str,
        queuename: str,
        agent: str,
        event: str,
        data1: str = "",
        data2: str = "",
        data3: str = "",
        data4: str = "",
        data5: str = "",
        *,
        origid: int | None = None,
    ) -> str:
        """Record one queue_log event in Asterisk's form; returns its record_id."""
        row: dict[str, Any] = {
            "time": time,
            "callid": callid,
            "queuename": queuename,
            "agent": agent,
            "event": event,
            "data1": str(data1),
            "data2": str(data2),
            "data3": str(data3),
            "data4": str(data4),
            "data5": str(data5),
        }
        if origid is not None:
            row["origid"] = origid
        return self._append(QUEUE_LOG, row)

    def cdr(self, **cols: Any) -> str:
        """Record one CDR row (column names of the ``cdr`` table); returns its record_id.

        ``calldate`` defaults to ``start``, else to now.
        """
        if "calldate" not in cols:
            cols["calldate"] = cols.get("start") or datetime.now()
        return self._append(CDR, cols)

    def _append(self, kind: str, row: dict[str, Any]) -> str:
        encoded = _encode_row(_TABLES[kind], row)
        record_id = self.journal.append(kind, encoded)
        with self._cond:
            self._cond.notify_all()
        return record_id

    # The writer thread.

    def _run(self) -> None:
        backoff = self.min_backoff
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self.journal.pending() > 0)
                if self._stopping:
                    return
                if not self._hurry and self.journal.pending() < self.batch_size:
                    # Let a batch build up, unless it fills or someone flushes meanwhile.
                    self._cond.wait_for(
                        lambda: (
                            self._stopping or self._hurry > 0 or self.journal.pending() >= self.batch_size
                        ),
                        self.flush_interval,
                    )
                    if self._stopping:
                        return
            batch = self.journal.read(self.batch_size)
            if not batch.moves:
                self._pause(0.01)  # a line still being written; look again shortly
                continue
            try:
                self._write(batch.records)
            except SQLAlchemyError as exc:
                self._database_down(exc, backoff)
                if not self._pause(backoff):
                    return
                backoff = min(backoff * 2, self.max_backoff)
                continue
            self._written_ok(batch)
            backoff = self.min_backoff

    def _batch_full(self) -> bool:
        return self.journal.pending() >= self.batch_size

    def _pause(self, seconds: float) -> bool:
        """Sleep unless stopped meanwhile; False when stopping."""
        with self._cond:
            return not self._cond.wait_for(lambda: self._stopping, seconds)

    def _database_down(self, exc: SQLAlchemyError, backoff: float) -> None:
        if self.last_error is None:
            log.warning(
                "database unavailable (%s); %d records kept in the journal, retrying",
                _short(exc),
                self.journal.pending(),
            )
        else:
            log.debug("database still unavailable, next try in %.2fs: %s", backoff, _short(exc))
        self.last_error = _short(exc)

    def _written_ok(self, batch: Batch) -> None:
        self.journal.ack(batch)
        if self.last_error is not None:
            log.info("database reachable again; %d records still to write", self.journal.pending())
            self.last_error = None
        with self._cond:
            self._cond.notify_all()

    def _write(self, records: list[JournalRecord]) -> None:
        """Insert the batch; rows the database refuses are set aside one by one."""
        try:
            self._insert(records)
        except _ROW_ERRORS:
            for record in records:
                try:
                    self._insert([record])
                except _ROW_ERRORS as exc:
                    self._reject(record, exc)

    def _insert(self, records: list[JournalRecord]) -> None:
        groups: dict[tuple[str, frozenset[str]], list[dict[str, Any]]] = {}
        for record in records:
            table = _TABLES[record.kind]
            row = _decode_row(table, record.row)
            row["record_id"] = record.record_id
            groups.setdefault((record.kind, frozenset(row)), []).append(row)
        with self._session_factory() as session:
            dialect = session.get_bind().dialect.name
            for (kind, _), rows in groups.items():
                session.execute(_insert_ignoring_duplicates(dialect, _TABLES[kind]), rows)
            session.commit()
        self.written += len(records)

    def _reject(self, record: JournalRecord, exc: Exception) -> None:
        self.rejected += 1
        log.error(
            "the database refused %s record %s; set aside: %s", record.kind, record.record_id, _short(exc)
        )
        line = json.dumps(
            {"record_id": record.record_id, "kind": record.kind, "row": record.row, "error": _short(exc)}
        )
        with (self.journal.directory / _REJECTED_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _insert_ignoring_duplicates(dialect: str, table: Table) -> Insert:
    """An INSERT that skips rows whose unique record_id is already there, and nothing else."""
    if dialect in ("mysql", "mariadb"):
        statement = mysql.insert(table)
        # Unlike INSERT IGNORE, this does not turn data errors into silent truncation.
        return statement.on_duplicate_key_update(id=table.c.id)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["record_id"])
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["record_id"])
    return generic_insert(table)


def _encode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Check the columns and turn the values into JSON for the journal (caller errors fail here)."""
    unknown = set(row) - (set(table.columns.keys()) - _OWN_COLUMNS)
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")
    encoded: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, datetime):
            local = value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value
            encoded[name] = local.isoformat()
        elif isinstance(value, date):
            encoded[name] = value.isoformat()
        elif isinstance(value, Decimal):
            encoded[name] = str(value)
        elif value is None or isinstance(value, (str, int, float, bool)):
            encoded[name] = value
        else:
            raise ValueError(f"{table.name}.{name}: cannot store a {type(value).__name__}")
    return encoded


def _decode_row(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The journal's JSON values back in the column types."""
    decoded: dict[str, Any] = {}
    for name, value in row.items():
        column_type = table.columns[name].type
        if isinstance(value, str) and isinstance(column_type, DateTime):
            decoded[name] = datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(column_type, Date):
            decoded[name] = date.fromisoformat(value)
        elif (
            isinstance(value, str) and isinstance(column_type, Numeric) and not isinstance(column_type, Float)
        ):
            decoded[name] = Decimal(value)
        else:
            decoded[name] = value
    return decoded


def _is_decimal(column_type: object) -> bool:
    return isinstance(column_type, Numeric) and not isinstance(column_type, Float)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]

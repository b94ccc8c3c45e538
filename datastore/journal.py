"""An append-only journal on disk that keeps queue_log and CDR records until the database has them.

Design:
- Records are JSON lines ``{"record_id", "kind", "row"}`` appended to numbered segment files
  (``segment-<n>.jsonl``) with one ``write`` each, so the call path pays a system call and no more.
- A sync thread fsyncs the active segment shortly after each append (group commit): many appends
  share one fsync, and a crash of the process itself loses nothing the kernel already holds.
- The consumer reads from the acknowledged position and, once the database has a batch, records
  the new position in ``ack.json`` (written to a temporary file, fsynced, renamed), so a restart
  replays only what may be missing; a replay of already written rows is harmless because the
  writer inserts with the unique ``record_id`` and ignores duplicates.
- A reopened journal never appends to an old segment: it starts a new one, so a line without its
  newline at the end of an old segment is a write torn by a crash; it is skipped with a warning, as
  is any line that does not parse. Segments wholly behind the acknowledged position are deleted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^segment-(\d{12})\.jsonl$")
_ACK_FILE = "ack.json"


@dataclass(frozen=True, order=True)
class Position:
    """A place in the journal: segment number and byte offset inside it."""

    segment: int
    offset: int


@dataclass(frozen=True)
class JournalRecord:
    """One journaled record."""

    record_id: str
    kind: str
    row: dict[str, Any]


@dataclass(frozen=True)
class Batch:
    """Records read from the acknowledged position, and the position just after them."""

    start: Position
    end: Position
    records: list[JournalRecord] = field(default_factory=list)

    @property
    def moves(self) -> bool:
        """Whether acknowledging this batch changes anything (it may hold only skipped lines)."""
        return self.end != self.start


class Journal:
    """Durable FIFO of records for one consumer; ``append`` is safe from any thread."""

    def __init__(
        self, directory: str | os.PathLike[str], *, segment_bytes: int = 8 << 20, sync_interval: float = 0.005
    ) -> None:
        self.directory = Path(directory)
        self.segment_bytes = segment_bytes
        self.sync_interval = sync_interval
        self._lock = threading.Lock()
        self._sync_cond = threading.Condition(self._lock)
        self._fd: int | None = None
        self._active = 0
        self._active_size = 0
        self._retired: list[int] = []
        self._ack = Position(1, 0)
        self._pending = 0
        self._written = 0
        self._synced = 0
        self._closing = False
        self._sync_thread: threading.Thread | None = None

    # Opening and closing.

    def open(self) -> None:
        """Load the acknowledged position, count what is left to replay, start a new segment."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ack = self._load_ack()
        segments = self._segments()
        for number in segments:
            if number < self._ack.segment:
                self._segment_path(number).unlink(missing_ok=True)
        self._active = max([*segments, self._ack.segment - 1, 0]) + 1
        self._pending = self._count_from(self._ack)
        self._open_active()
        self._closing = False
        self._sync_thread = threading.Thread(target=self._sync_loop, name="journal-sync", daemon=True)
        self._sync_thread.start()
        if self._pending:
            log.info("journal %s: %d records to replay", self.directory, self._pending)

    def close(self) -> None:
        """Fsync and close; appends after this raise."""
        with self._lock:
            if self._fd is None:
                return
            self._closing = True
            self._sync_cond.notify_all()
        if self._sync_thread is not None:
            self._sync_thread.join()
            self._sync_thread = None
        with self._lock:
            for fd in [*self._retired, *([self._fd] if self._fd is not None else [])]:
                os.fsync(fd)
                os.close(fd)
            self._retired.clear()
            self._fd = None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    # Producer side.

    def append(self, kind: str, row: dict[str, Any]) -> str:
        """Journal one record and return its new unique ``record_id``."""
        record_id = uuid.uuid4().hex
        line = json.dumps({"record_id": record_id, "kind": kind, "row": row}, separators=(",", ":"))
        data = line.encode() + b"\n"
        with self._lock:
            if self._fd is None:
                raise RuntimeError("journal is not open")
            os.write(self._fd, data)
            self._active_size += len(data)
            self._pending += 1
            self._written += 1
            if self._active_size >= self.segment_bytes:
                self._retired.append(self._fd)
                self._active += 1
                self._open_active()
            self._sync_cond.notify_all()
        return record_id

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until everything appended so far is fsynced."""
        with self._lock:
            target = self._written
            self._sync_cond.notify_all()
            return self._sync_cond.wait_for(lambda: self._synced >= target or self._fd is None, timeout)

    def pending(self) -> int:
        """Records appended or replayed and not yet acknowledged."""
        return self._pending

    # Consumer side.

    def read(self, limit: int) -> Batch:
        """Up to ``limit`` records from the acknowledged position (nothing is consumed until ack)."""
        with self._lock:
            start, active = self._ack, self._active
        records: list[JournalRecord] = []
        segment, offset = start.segment, start.offset
        while len(records) < limit:
            path = self._segment_path(segment)
            if path.exists():
                offset, complete = self._read_segment(
                    path, offset, limit - len(records), records, segment < active
                )
                if not complete:
                    break  # stopped at the limit, or at a line still being written
            if segment >= active:
                break
            segment, offset = segment + 1, 0
        return Batch(start, Position(segment, offset), records)

    def ack(self, batch: Batch) -> None:
        """Record that ``batch`` is in the database, and drop segments wholly behind it."""
        with self._lock:
            if self._fd is None or batch.start != self._ack:
                return  # closed, or a stale batch: the next read starts from the real position
        self._store_ack(batch.end)
        with self._lock:
            self._ack = batch.end
            self._pending = max(0, self._pending - len(batch.records))
        for number in self._segments():
            if number < batch.end.segment:
                self._segment_path(number).unlink(missing_ok=True)

    # Internals.

    def _read_segment(
        self, path: Path, offset: int, limit: int, into: list[JournalRecord], sealed: bool
    ) -> tuple[int, bool]:
        """Read lines from ``offset``; returns the new offset and whether the segment's end was reached."""
        with path.open("rb") as handle:
            handle.seek(offset)
            while len(into) < limit:
                line = handle.readline()
                if not line:
                    return offset, True
                if not line.endswith(b"\n"):
                    if not sealed:
                        return offset, False  # the producer is writing this line right now
                    log.warning("journal %s: skipping a torn last line at byte %d", path.name, offset)
                    return offset + len(line), True
                record = _parse(line)
                if record is None:
                    log.warning("journal %s: skipping an unreadable line at byte %d", path.name, offset)
                else:
                    into.append(record)
                offset += len(line)
            return offset, handle.read(1) == b"" and sealed

    def _count_from(self, start: Position) -> int:
        count = 0
        for number in self._segments():
            if number < start.segment:
                continue
            with self._segment_path(number).open("rb") as handle:
                if number == start.segment:
                    handle.seek(start.offset)
                for line in handle:
                    if line.endswith(b"\n") and _parse(line) is not None:
                        count += 1
        return count

    def _open_active(self) -> None:
        path = self._segment_path(self._active)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self._active_size = os.fstat(self._fd).st_size
        self._fsync_directory()

    def _sync_loop(self) -> None:
        while True:
            with self._lock:
                self._sync_cond.wait_for(lambda: self._written > self._synced or self._closing)
                if self._written == self._synced and self._closing:
                    return
                fd, retired, target = self._fd, self._retired, self._written
                self._retired = []
            try:
                for old in retired:
                    os.fsync(old)
                    os.close(old)
                if fd is not None:
                    os.fsync(fd)
            except OSError:
                log.exception("journal fsync failed")
            with self._lock:
                self._synced = max(self._synced, target)
                self._sync_cond.notify_all()
            # Let a few more appends join the next fsync.
            threading.Event().wait(self.sync_interval)

    def _segments(self) -> list[int]:
        numbers = []
        for entry in self.directory.iterdir():
            match = _SEGMENT.match(entry.name)
            if match:
                numbers.append(int(match.group(1)))
        return sorted(numbers)

    def _segment_path(self, number: int) -> Path:
        return self.directory / f"segment-{number:012d}.jsonl"

    def _load_ack(self) -> Position:
        path = self.directory / _ACK_FILE
        try:
            data = json.loads(path.read_text())
            return Position(int(data["segment"]), int(data["offset"]))
        except FileNotFoundError:
            first = self._segments()
            return Position(first[0] if first else 1, 0)
        except (ValueError, KeyError, TypeError):
            # The rename makes a torn ack file unlikely; replaying everything is the safe answer.
            log.warning("journal %s: unreadable %s, replaying every segment", self.directory, _ACK_FILE)
            first = self._segments()
            return Position(first[0] if first else 1, 0)

    def _store_ack(self, position: Position) -> None:
        temporary = self.directory / (_ACK_FILE + ".tmp")
        with temporary.open("w") as handle:
            json.dump({"segment": position.segment, "offset": position.offset}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.directory / _ACK_FILE)
        self._fsync_directory()

    def _fsync_directory(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _parse(line: bytes) -> JournalRecord | None:
    try:
        data = json.loads(line)
        record_id, kind, row = data["record_id"], data["kind"], data["row"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if not (isinstance(record_id, str) and isinstance(kind, str) and isinstance(row, dict)):
        return None
    return JournalRecord(record_id, kind, row)

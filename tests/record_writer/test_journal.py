"""The journal on its own: rotation, acknowledgement, cleanup, replay and damaged lines."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from datastore.journal import Journal


def segments(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("segment-*.jsonl"))


def drain(journal: Journal, limit: int = 7) -> list[str]:
    ids: list[str] = []
    while True:
        batch = journal.read(limit)
        if not batch.moves:
            return ids
        ids += [r.record_id for r in batch.records]
        journal.ack(batch)


def test_rotation_ack_and_cleanup(tmp_path: Path) -> None:
    journal = Journal(tmp_path, segment_bytes=400)
    journal.open()
    ids = [journal.append("queue_log", {"n": n, "event": "ENTERQUEUE"}) for n in range(40)]
    assert journal.sync()
    assert len(segments(tmp_path)) > 5
    assert journal.pending() == 40
    assert drain(journal) == ids
    assert journal.pending() == 0
    # Only the segment still being appended to survives.
    assert len(segments(tmp_path)) == 1
    journal.close()

    reopened = Journal(tmp_path, segment_bytes=400)
    reopened.open()
    assert reopened.pending() == 0 and reopened.read(10).records == []
    reopened.close()


def test_unacknowledged_records_replay_after_reopen(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open()
    ids = [journal.append("cdr", {"n": n}) for n in range(10)]
    first = journal.read(4)
    journal.ack(first)
    journal.read(3)  # read but never acknowledged: a crash before the database commit
    journal.close()

    reopened = Journal(tmp_path)
    reopened.open()
    assert reopened.pending() == 6
    later = reopened.append("cdr", {"n": 10})
    assert drain(reopened) == [*ids[4:], later]
    reopened.close()


def test_torn_and_garbled_lines_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal(tmp_path)
    journal.open()
    first = [journal.append("queue_log", {"n": n}) for n in range(3)]
    journal.close()
    (segment,) = segments(tmp_path)
    with (tmp_path / segment).open("ab") as handle:
        handle.write(b'{"record_id": "broken", "kind": "queue_log", "row": {"n"')  # crash mid-write

    journal = Journal(tmp_path)
    journal.open()
    assert journal.pending() == 3
    second = [journal.append("queue_log", {"n": n}) for n in range(3, 5)]
    journal.close()
    last = segments(tmp_path)[-1]
    with (tmp_path / last).open("ab") as handle:
        handle.write(b"not json at all\n")

    journal = Journal(tmp_path)
    journal.open()
    third = journal.append("queue_log", {"n": 5})
    with caplog.at_level(logging.WARNING, logger="datastore.journal"):
        assert drain(journal, limit=100) == [*first, *second, third]
    assert "torn last line" in caplog.text and "unreadable line" in caplog.text
    assert journal.pending() == 0
    journal.close()


def test_stale_ack_is_ignored(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.open()
    journal.append("cdr", {"n": 1})
    journal.append("cdr", {"n": 2})
    batch = journal.read(1)
    journal.ack(batch)
    journal.ack(batch)  # the same batch twice must not move or count again
    assert journal.pending() == 1
    assert [r.row for r in journal.read(5).records] == [{"n": 2}]
    journal.close()

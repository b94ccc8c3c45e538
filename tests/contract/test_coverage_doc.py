"""docs/ari-sim-coverage.md must say what the handlers really serve."""

from __future__ import annotations

from pathlib import Path

from ari_sim.coverage import missing, render
from ari_sim.description import OPERATIONS
from ari_sim.handlers import HANDLERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "ari-sim-coverage.md"


def test_coverage_doc_is_up_to_date() -> None:
    assert DOC.read_text() == render(HANDLERS), (
        "docs/ari-sim-coverage.md is stale: run `python -m ari_sim.coverage > docs/ari-sim-coverage.md`"
    )


def test_every_operation_is_listed_once_with_its_state() -> None:
    text = render(HANDLERS)
    for op in OPERATIONS:
        assert text.count(f"| `{op.key}` |") == 1, op.key
    for op in missing(HANDLERS):
        assert f"| `{op.key}` | 501 |" in text

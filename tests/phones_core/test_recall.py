"""The recall state machine: which moves it allows and what it records."""

from __future__ import annotations

import pytest

from stasis_app.phones.recall import (
    FINAL,
    TRANSITIONS,
    Recall,
    RecallError,
    RecallSettings,
    RecallState,
    Transition,
)


def booked() -> Recall:
    return Recall("recall-1", "201", "4013864", "201")


def test_a_successful_recall_walks_the_expected_states() -> None:
    recall = booked()
    for state in (
        RecallState.CALLING_EXTERNAL,
        RecallState.BOOKED,
        RecallState.CALLING_EXTERNAL,
        RecallState.RINGING_EXTENSION,
        RecallState.CONNECTED,
        RecallState.COMPLETED,
    ):
        recall.advance(state, "step")
    assert recall.final
    assert recall.states()[0] is RecallState.BOOKED
    assert recall.transitions[-1] == Transition(RecallState.CONNECTED, RecallState.COMPLETED, "step")


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], RecallState.CONNECTED),
        ([RecallState.CALLING_EXTERNAL, RecallState.RINGING_EXTENSION], RecallState.CANCELLED),
        ([RecallState.CANCELLED], RecallState.CALLING_EXTERNAL),
        ([RecallState.EXHAUSTED], RecallState.BOOKED),
    ],
)
def test_moves_not_in_the_table_are_refused(path: list[RecallState], refused: RecallState) -> None:
    recall = booked()
    for state in path:
        recall.advance(state)
    with pytest.raises(RecallError):
        recall.advance(refused)
    assert recall.state is (path[-1] if path else RecallState.BOOKED)


def test_final_states_have_no_way_out_and_every_state_is_listed() -> None:
    assert set(TRANSITIONS) == set(RecallState)
    assert all(not TRANSITIONS[state] for state in FINAL)


def test_settings_need_a_positive_interval_and_attempts() -> None:
    with pytest.raises(ValueError, match="interval"):
        RecallSettings(interval=0)
    with pytest.raises(ValueError, match="attempt"):
        RecallSettings(attempts=0)

"""Pure parts of the in-call features: the digit buffer, the transfer machines, slots and rooms."""

from __future__ import annotations

import pytest

from stasis_app.phones.codes import FeatureCodes
from stasis_app.phones.conference import RoomRegistry
from stasis_app.phones.incall import DigitBuffer, FeatureCode, Party
from stasis_app.phones.parking import ParkingLot
from stasis_app.phones.transfers import TransferError, TransferMachine


def buffer(timeout: float = 2.0) -> DigitBuffer:
    return DigitBuffer.for_codes(FeatureCodes(interdigit_timeout=timeout))


def test_codes_fire_and_other_digits_are_released_at_once() -> None:
    digits = buffer()
    assert digits.feed("5", 0.0).released == "5"
    assert digits.feed("#", 0.1).released == ""
    assert digits.feed("#", 0.2).feature is FeatureCode.BLIND_TRANSFER
    assert digits.feed("#", 1.0).feature is None
    assert digits.feed("0", 1.1).feature is FeatureCode.ATTENDED_TRANSFER
    assert digits.feed("#", 2.0).feature is None
    assert digits.feed("3", 2.1).feature is FeatureCode.PARK


def test_a_held_digit_is_released_when_the_next_proves_it_no_code() -> None:
    digits = buffer()
    digits.feed("#", 0.0)
    result = digits.feed("7", 0.5)
    assert (result.feature, result.released) == (None, "#7")


def test_a_partial_code_is_given_up_after_the_interdigit_timeout() -> None:
    digits = buffer(timeout=1.0)
    digits.feed("#", 0.0)
    assert digits.deadline() == 1.0
    assert digits.expire(0.5) == ""
    assert digits.expire(1.0) == "#"
    digits.feed("#", 5.0)
    result = digits.feed("#", 6.5)
    assert (result.feature, result.released) == (None, "#")
    assert digits.pending == "#"


def test_machines_log_each_transition_with_the_injected_clock() -> None:
    now = [10.0]
    machine = TransferMachine.blind(lambda: now[0], "t1")
    machine.fire("code")
    now[0] = 12.5
    machine.fire("dialed")
    machine.fire("no-answer")
    machine.fire("answered")
    assert machine.path() == ["talking", "collecting", "ringing-target", "calling-back", "returned"]
    assert [step.at for step in machine.history] == [10.0, 12.5, 12.5, 12.5]
    assert machine.finished


def test_machines_refuse_events_their_state_does_not_accept() -> None:
    machine = TransferMachine.attended(lambda: 0.0)
    with pytest.raises(TransferError):
        machine.fire("answered")
    machine.fire("code")
    machine.fire("dialed")
    machine.fire("answered")
    assert machine.accepts("abort") and machine.accepts("transferrer-left")
    machine.fire("transferrer-left")
    assert machine.state.value == "completed"
    blind = TransferMachine.blind(lambda: 0.0)
    assert not blind.accepts("abort")


def test_parking_gives_the_lowest_free_slot_and_times_out() -> None:
    lot = ParkingLot(701, 702, timeout=30.0)
    party, parker = Party("c1", "phone"), Party("p1", "phone")
    first = lot.park(party, parker, 0.0)
    second = lot.park(Party("c2", "phone"), parker, 1.0)
    assert first is not None and second is not None
    assert (first.slot, second.slot) == (701, 702)
    assert lot.park(Party("c3", "phone"), parker, 2.0) is None
    assert lot.due(30.5) == [first]
    assert lot.take(701) is first
    assert lot.park(Party("c4", "phone"), parker, 3.0) is not None
    assert lot.slot_of("c4") == 701


def test_rooms_are_made_on_first_join_and_end_with_the_last_member() -> None:
    rooms = RoomRegistry()
    assert rooms.join("100", "a")[1] is True
    assert rooms.join("100", "b")[1] is False
    assert rooms.leave("a")[1] is False
    room, ended = rooms.leave("b")
    assert room is not None and ended
    assert rooms.rooms == {}
    assert rooms.leave("b") == (None, False)

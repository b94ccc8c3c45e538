"""The model validator itself: it must refuse what Asterisk's models do not allow."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from .ari_models import all_properties, lineage, validation_errors

CHANNEL: dict[str, Any] = {
    "id": "1764405069.12",
    "protocol_id": "",
    "name": "PJSIP/1001-00000001",
    "state": "Up",
    "caller": {"name": "", "number": "1001"},
    "connected": {"name": "", "number": ""},
    "accountcode": "",
    "dialplan": {"context": "default", "exten": "s", "priority": 1, "app_name": "", "app_data": ""},
    "creationtime": "2026-11-29T08:31:09.123+0000",
    "language": "en",
}
STASIS_START: dict[str, Any] = {
    "type": "StasisStart",
    "timestamp": "2026-11-29T08:31:09.200+0000",
    "args": [],
    "channel": CHANNEL,
    "asterisk_id": "02:42:ac:11:00:02",
    "application": "app",
}


def test_inheritance_follows_sub_types() -> None:
    assert lineage("StasisStart") == ["StasisStart", "Event", "Message"]
    assert {"type", "asterisk_id", "application", "timestamp", "args", "channel"} <= set(
        all_properties("StasisStart")
    )


def test_valid_objects_pass() -> None:
    assert validation_errors(CHANNEL, "Channel") == []
    assert validation_errors(STASIS_START, "Message") == []
    assert validation_errors(STASIS_START, "Event") == []


def _broken(change: str) -> dict[str, Any]:
    event = copy.deepcopy(STASIS_START)
    if change == "missing":
        del event["channel"]["caller"]
    elif change == "extra":
        event["channel"]["surprise"] = 1
    elif change == "date":
        event["timestamp"] = "2026-11-29 08:31:09"
    elif change == "enum":
        event["channel"]["state"] = "Talking"
    elif change == "int":
        event["channel"]["dialplan"]["priority"] = "1"
    elif change == "list":
        event["args"] = "a,b"
    elif change == "type":
        event["type"] = "NoSuchEvent"
    elif change == "inherited":
        del event["application"]
    return event


@pytest.mark.parametrize("change", ["missing", "extra", "date", "enum", "int", "list", "type", "inherited"])
def test_each_kind_of_difference_is_reported(change: str) -> None:
    assert validation_errors(_broken(change), "Message"), change

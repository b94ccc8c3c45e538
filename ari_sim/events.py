"""Event messages with Asterisk's envelope: `type`, `timestamp`, `application` and `asterisk_id`."""

from __future__ import annotations

import time
from typing import Any


def ari_timestamp(epoch: float | None = None) -> str:
    """Asterisk's ARI time format, milliseconds and a numeric UTC offset: 2026-11-29T08:31:09.123+0000."""
    when = time.time() if epoch is None else epoch
    millis = int((when - int(when)) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}+0000"


def build_event(
    event_type: str, application: str, asterisk_id: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """One event as one application receives it; `fields` are the model's own properties."""
    event: dict[str, Any] = {"type": event_type, "timestamp": ari_timestamp()}
    event.update(fields)
    event["asterisk_id"] = asterisk_id
    event["application"] = application
    return event


#: Text Asterisk gives each hangup cause (ast_cause2str); 0 and unknown codes read "Unknown".
CAUSE_TEXT: dict[int, str] = {
    1: "Unallocated (unassigned) number",
    3: "No route to destination",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    26: "Answered elsewhere",
    27: "Destination out of order",
    28: "Invalid number format",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    41: "Temporary failure",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}


def cause_text(cause: int) -> str:
    return CAUSE_TEXT.get(cause, "Unknown")


#: Names accepted by DELETE /channels/{id}?reason=..., and the cause each stands for.
HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 18,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


def dial_status_for_cause(cause: int) -> str:
    """The DIALSTATUS a callee's hangup cause reads as while it was still being dialled."""
    if cause == 17:
        return "BUSY"
    if cause == 34:
        return "CONGESTION"
    if cause in (3, 20):
        return "CHANUNAVAIL"
    return "NOANSWER"

"""Field rules shared by the seed's forms and the JSON API."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import ValidationError, fields, validate

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
    error="use 1-64 letters, digits or _ . @ - (starting with a letter or digit)",
)
# SIP extensions: also the ps_* row id, so keep it to characters safe in a dial string.
PHONE = validate.Regexp(r"^[A-Za-z0-9_+-]{1,40}$", error="use 1-40 digits, letters, _ + or -")
CAMPAIGN_NAME = validate.Length(min=1, max=128)
# Asterisk member interfaces such as PJSIP/1001 (the seed's SIP/1001 is accepted and mapped).
INTERFACE = validate.Regexp(r"^[A-Za-z]+/[A-Za-z0-9_.@+-]{1,80}$", error="use TECH/resource, e.g. PJSIP/1001")


def required_text(max_length: int = 255, **kwargs: Any) -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=max_length), **kwargs)


class FlexibleText(fields.Field[str]):
    """Text that clients may also send as a number or boolean (the seed mixes "0" and 0)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, int | float | str):
            return str(value)
        if value is None:
            return ""
        raise ValidationError("must be text or a number")


class FlexibleInt(fields.Field[int]):
    """An integer sent as a number, a numeric string or a boolean (0/1, "0"/"1", true/false)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value.strip())
        raise ValidationError("must be a whole number")


def parse_json_text(text: str, field_name: str) -> Any:
    """Decode a form field that carries JSON (addsip `phone`, addqueuemember `queuemember`)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError({field_name: [f"is not valid JSON: {exc.msg} at position {exc.pos}"]}) from exc

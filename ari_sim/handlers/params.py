"""Parameters several resources read alike (list values, variable names, recording options), read
one way for all of them."""

from __future__ import annotations

from typing import Any

from ari_sim.errors import AriError
from ari_sim.types import Params


def listed(params: Params, name: str) -> list[str]:
    """A list parameter as strings: a list as given, or comma-separated text without empty items."""
    value = params.get(name)
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item for item in str(value or "").split(",") if item]


def required_list(params: Params, name: str, missing: str) -> list[str]:
    """`listed`, answering 400 with `missing` when there is nothing in it."""
    items = listed(params, name)
    if not items:
        raise AriError(400, missing)
    return items


def media(params: Params) -> list[str]:
    """The media URIs of a play request."""
    return required_list(params, "media", "Media is required")


def variable_name(params: Params) -> str:
    """The `variable` parameter of the variable operations, which Asterisk refuses when empty."""
    name = str(params.get("variable") or "")
    if not name:
        raise AriError(400, "Variable name is required")
    return name


def recording_options(params: Params) -> dict[str, Any]:
    """The keyword arguments of `Engine.record` from a record request (channel or bridge)."""
    return {
        "name": str(params.get("name") or ""),
        "fmt": str(params.get("format") or ""),
        "max_duration": int(params.get("maxDurationSeconds") or 0),
        "if_exists": str(params.get("ifExists") or "fail"),
        "terminate_on": str(params.get("terminateOn") or "none"),
        "max_silence": int(params.get("maxSilenceSeconds") or 0),
    }

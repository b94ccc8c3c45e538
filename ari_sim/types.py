"""Shapes shared by the router and the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ari_sim.engine import Engine

#: Parameters after parsing and validation: path, query and JSON-body values by their ARI name,
#: already converted (int, bool, list for allowMultiple, dict for object bodies such as `variables`).
Params = dict[str, Any]

#: What a handler answers: the HTTP status and the JSON body (None for an empty 204 answer).
Reply = tuple[int, Any]

Handler = Callable[["Engine", Params], Awaitable[Reply]]

"""Every implemented ARI operation, keyed "<resource>.<nickname>" as the router looks them up."""

from __future__ import annotations

from ari_sim.handlers import (
    applications,
    asterisk,
    bridges,
    channels,
    endpoints,
    events,
    mailboxes,
    playbacks,
    recordings,
)
from ari_sim.types import Handler

HANDLERS: dict[str, Handler] = {}
for _module in (
    applications,
    asterisk,
    bridges,
    channels,
    endpoints,
    events,
    mailboxes,
    playbacks,
    recordings,
):
    HANDLERS.update(_module.HANDLERS)

"""What the inbound flow needs from the rest of the process, as small protocols.

The flow is wired to the project's ``RecordWriter`` and bus in ``stasis_app.service``; the
protocols keep the flow's imports to the domain core and the ARI layer, and say exactly which part of
those objects it relies on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

from stasis_app.acd.campaigns import CampaignConfig, MemberConfig


class RecordSink(Protocol):
    """Where queue_log and CDR rows go; both calls must return at once (no waiting on a database)."""

    def queue_log(
        self,
        *,
        time: datetime,
        callid: str,
        queuename: str,
        agent: str,
        event: str,
        data1: str = "",
        data2: str = "",
        data3: str = "",
        data4: str = "",
        data5: str = "",
    ) -> Any: ...

    def cdr(self, **columns: Any) -> Any: ...


#: ``load(names)`` -> campaigns and members (``names`` None: all campaigns). May block: run in a thread.
CampaignLoader = Callable[[list[str] | None], Awaitable[tuple[list[CampaignConfig], list[MemberConfig]]]]

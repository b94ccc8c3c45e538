"""The tests' own Stasis application on the system under test: its name, its events and ARI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.ari_client import AriClient, EventStream


@dataclass
class StasisSession:
    """An application registered through its open events socket, with shortcuts for new channels."""

    name: str
    events: EventStream
    ari: AriClient

    async def originate(self, endpoint: str, **params: Any) -> str:
        """POST /channels into this application; the new channel's id."""
        channel = await self.ari.post("/channels", {"endpoint": endpoint, "app": self.name, **params})
        return str(channel["id"])

    async def create(self, endpoint: str, **params: Any) -> str:
        """POST /channels/create in this application (it enters Stasis before being dialed)."""
        channel = await self.ari.post("/channels/create", {"endpoint": endpoint, "app": self.name, **params})
        return str(channel["id"])

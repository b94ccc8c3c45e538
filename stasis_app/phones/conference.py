"""Conference rooms 555XXX: a mixing bridge made on the first join, gone with the last member.

``RoomRegistry`` is the pure part (who is in which room). ``ConferenceService`` implements
``ConferenceRooms.join`` for phones dialing 555XXX directly, and ``join_party`` for the features
moving someone in (## + 555 + room, or the API). The seed's two ways to start a conference both
come down to these: without a call, everyone dials the room; with a call, ## 555XXX sends the other
party to the room and the transferrer dials 555XXX to join it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from stasis_app.phones.call_control import CallControl, Gone, Signal
from stasis_app.phones.incall import InCallService, Party
from stasis_app.phones.services import CallerInfo

log = logging.getLogger(__name__)


@dataclass
class Room:
    name: str
    bridge_id: str = ""
    members: list[str] = field(default_factory=list)


class RoomRegistry:
    """Rooms and members; ``join`` says whether the room is new, ``leave`` whether it is over."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self.room_of: dict[str, str] = {}

    def join(self, room: str, channel_id: str) -> tuple[Room, bool]:
        created = room not in self.rooms
        found = self.rooms.setdefault(room, Room(room))
        if channel_id not in found.members:
            found.members.append(channel_id)
        self.room_of[channel_id] = room
        return found, created

    def leave(self, channel_id: str) -> tuple[Room | None, bool]:
        name = self.room_of.pop(channel_id, None)
        room = self.rooms.get(name) if name is not None else None
        if room is None:
            return None, False
        if channel_id in room.members:
            room.members.remove(channel_id)
        if not room.members:
            del self.rooms[room.name]
            return room, True
        return room, False


class ConferenceService:
    """Implements ``ConferenceRooms``."""

    def __init__(self, incall: InCallService) -> None:
        self.incall = incall
        self.control: CallControl = incall.control
        self.registry = RoomRegistry()
        self.lock = asyncio.Lock()

    def rooms(self) -> dict[str, list[str]]:
        return {name: list(room.members) for name, room in sorted(self.registry.rooms.items())}

    async def join(self, channel_id: str, room: str, caller: CallerInfo) -> None:
        await self.control.answer(channel_id)
        await self._add(channel_id, room)

    async def join_party(self, party: Party, room: str) -> None:
        await self._add(party.channel_id, room)

    async def _add(self, channel_id: str, name: str) -> None:
        async with self.lock:
            room, created = self.registry.join(name, channel_id)
            if created:
                try:
                    room.bridge_id = await self.control.new_bridge(f"oc-conf-{name}")
                except Exception:
                    self.registry.leave(channel_id)
                    await self.control.hangup(channel_id)
                    raise
                log.info("conference room %s opened by %s", name, channel_id)
            self.control.own(channel_id, self._notify(), digits=False)
            if not await self.control.bridge_add(room.bridge_id, channel_id):
                await self._left(channel_id)
                return
            if len(room.members) == 1:
                # To the member, not the room: someone joining while it plays must not hear it.
                await self.control.request(
                    "channels", "play", channelId=channel_id, media=self.incall.settings.room_alone_prompt
                )

    def _notify(self) -> Callable[[Signal], None]:
        def notify(signal: Signal) -> None:
            if isinstance(signal, Gone):
                self.incall.spawn(self._on_gone(signal.channel_id), "conference member left")

        return notify

    async def _on_gone(self, channel_id: str) -> None:
        async with self.lock:
            await self._left(channel_id)

    async def _left(self, channel_id: str) -> None:
        self.control.release(channel_id)
        room, ended = self.registry.leave(channel_id)
        if room is not None and ended:
            log.info("conference room %s ended with its last member", room.name)
            await self.control.destroy_bridge(room.bridge_id)

    async def close(self) -> None:
        """The service stops: every room ends with its members (nothing would control them)."""
        async with self.lock:
            rooms = list(self.registry.rooms.values())
            self.registry = RoomRegistry()
            for room in rooms:
                for channel_id in room.members:
                    self.control.release(channel_id)
                    await self.control.hangup(channel_id)
                await self.control.destroy_bridge(room.bridge_id)

"""#3 call parking: slots 701 and up, music in a holding bridge, retrieval by dialing the slot.

``ParkingLot`` is pure bookkeeping (which slot holds whom, until when; clock passed in).
``ParkingService`` does the ARI side: the parked party waits in a holding bridge of its own with
music on hold; dialing the slot (the internal flow routes 701-720 to :meth:`retrieve`) bridges the
retriever with it; a call not retrieved within ``park_timeout`` rings the parker back; the parked
party hanging up frees the slot, stops any ring-back and removes its bridge.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stasis_app.phones.call_control import CallControl, Gone, LegDown, LegUp, Signal
from stasis_app.phones.incall import InCallService, Party
from stasis_app.phones.services import CallerInfo

log = logging.getLogger(__name__)


@dataclass
class ParkedEntry:
    slot: int
    party: Party
    parker: Party
    parked_at: float
    deadline: float
    bridge_id: str = ""
    ring_back_leg: str | None = None
    timer: asyncio.TimerHandle | None = None


@dataclass
class ParkingLot:
    """Slots ``first``..``last``; the lowest free slot is given out first."""

    first: int
    last: int
    timeout: float
    entries: dict[int, ParkedEntry] = field(default_factory=dict)

    def park(self, party: Party, parker: Party, now: float) -> ParkedEntry | None:
        for slot in range(self.first, self.last + 1):
            if slot not in self.entries:
                entry = ParkedEntry(slot, party, parker, now, now + self.timeout)
                self.entries[slot] = entry
                return entry
        return None

    def take(self, slot: int) -> ParkedEntry | None:
        return self.entries.pop(slot, None)

    def slot_of(self, channel_id: str) -> int | None:
        return next((s for s, e in self.entries.items() if e.party.channel_id == channel_id), None)

    def due(self, now: float) -> list[ParkedEntry]:
        """Entries whose time is over and that are not being rung back yet."""
        return [e for e in self.entries.values() if e.deadline <= now and e.ring_back_leg is None]


class ParkingService:
    """Implements ``Parking`` and the #3 side used by the transfers."""

    def __init__(self, incall: InCallService, clock: Callable[[], float] | None = None) -> None:
        self.incall = incall
        self.control: CallControl = incall.control
        self.clock = clock or incall.clock
        codes = incall.codes
        self.lot = ParkingLot(codes.park_first_slot, codes.park_last_slot, incall.settings.park_timeout)
        self.lock = asyncio.Lock()

    def slots(self) -> dict[int, str]:
        return {slot: entry.party.channel_id for slot, entry in sorted(self.lot.entries.items())}

    async def park(self, party: Party, parker: Party) -> int | None:
        async with self.lock:
            entry = self.lot.park(party, parker, self.clock())
            if entry is None:
                return None
            try:
                entry.bridge_id = await self.control.new_bridge(f"oc-park-{entry.slot}", "holding")
            except Exception:
                self.lot.take(entry.slot)
                raise
            self.control.own(party.channel_id, self._notify(entry.slot), digits=False)
            await self.control.bridge_add(entry.bridge_id, party.channel_id)
            await self.control.bridge_moh(entry.bridge_id, True, self.incall.settings.moh_class)
            entry.timer = asyncio.get_running_loop().call_later(
                self.lot.timeout, lambda: self.incall.spawn(self._time_out(entry.slot), "park timeout")
            )
            log.info("parked %s in slot %d (by %s)", party.label, entry.slot, parker.label)
            return entry.slot

    def _notify(self, slot: int) -> Callable[[Signal], None]:
        def notify(signal: Signal) -> None:
            self.incall.spawn(self._on_signal(slot, signal), f"parking slot {slot}")

        return notify

    async def _on_signal(self, slot: int, signal: Signal) -> None:
        async with self.lock:
            entry = self.lot.entries.get(slot)
            if entry is None:
                if isinstance(signal, LegUp):
                    await self.control.hangup(signal.channel_id)
                return
            if isinstance(signal, Gone) and signal.channel_id == entry.party.channel_id:
                log.info("parked party in slot %d hung up", slot)
                await self._free(entry)
                if entry.ring_back_leg is not None:
                    self.control.release(entry.ring_back_leg)
                    await self.control.hangup(entry.ring_back_leg)
            elif isinstance(signal, LegUp) and signal.channel_id == entry.ring_back_leg:
                parker = entry.parker
                back = Party(
                    signal.channel_id,
                    parker.kind,
                    parker.extension,
                    parker.number,
                    parker.features,
                    parker.dial,
                    parker.agent,
                )
                await self._connect(entry, back)
            elif isinstance(signal, LegDown) and signal.channel_id == entry.ring_back_leg:
                log.info("parker of slot %d did not answer; ending the parked call", slot)
                await self._free(entry)
                await self.control.hangup(entry.party.channel_id)

    async def _free(self, entry: ParkedEntry) -> None:
        self.lot.take(entry.slot)
        if entry.timer is not None:
            entry.timer.cancel()
        self.control.release(entry.party.channel_id)
        await self.control.destroy_bridge(entry.bridge_id)

    async def _time_out(self, slot: int) -> None:
        async with self.lock:
            entry = self.lot.entries.get(slot)
            if entry is None or entry.ring_back_leg is not None:
                return
            if not entry.parker.dial:
                log.info("slot %d timed out and its parker cannot be rung; ending it", slot)
                await self._free(entry)
                await self.control.hangup(entry.party.channel_id)
                return
            log.info("slot %d not retrieved: ringing %s back", slot, entry.parker.label)
            entry.ring_back_leg = await self.control.originate(
                entry.parker.dial, self._notify(slot), ring_seconds=self.incall.settings.ring_timeout
            )
            if entry.ring_back_leg is None:
                await self._free(entry)
                await self.control.hangup(entry.party.channel_id)

    async def _connect(self, entry: ParkedEntry, with_party: Party) -> None:
        """The slot's party and ``with_party`` become a conversation (features on as configured)."""
        await self._free(entry)
        bridge_id = await self.control.new_bridge("oc-feature-bridge")
        conv = self.incall.adopt([entry.party, with_party], bridge_id)
        if not await self.control.bridge_add(bridge_id, entry.party.channel_id, with_party.channel_id):
            await conv.finish(None)

    # Parking protocol ----------------------------------------------------------------------------

    async def retrieve(self, channel_id: str, slot: int, caller: CallerInfo) -> None:
        await self.control.answer(channel_id)
        async with self.lock:
            entry = self.lot.entries.get(slot)
            if entry is None:
                found: ParkedEntry | None = None
            else:
                found = entry
                if entry.ring_back_leg is not None:
                    self.control.release(entry.ring_back_leg)
                    await self.control.hangup(entry.ring_back_leg)
                kind = "phone" if caller.extension else "external"
                settings = self.incall.services.settings
                retriever = Party(
                    channel_id,
                    kind,
                    caller.extension,
                    caller.number,
                    self.incall.features_for(kind),
                    settings.dial_extension(caller.extension) if caller.extension else "",
                )
                log.info("slot %d retrieved by %s", slot, retriever.label)
                await self._connect(entry, retriever)
        if found is None:
            log.info("slot %d is empty (asked by %s)", slot, caller.number)
            await self._refuse(channel_id)

    async def _refuse(self, channel_id: str) -> None:
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def notify(signal: Signal) -> None:
            if not done.done():
                done.set_result(signal)

        self.control.own(channel_id, notify, digits=False)
        playback = await self.control.play(channel_id, self.incall.settings.invalid_prompt, notify)
        if playback is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done, self.incall.settings.prompt_limit)
        self.control.release(channel_id)
        await self.control.hangup(channel_id)

    async def close(self) -> None:
        """The service stops: parked calls end (nobody could retrieve them) and timers stop."""
        async with self.lock:
            for entry in list(self.lot.entries.values()):
                await self._free(entry)
                if entry.ring_back_leg is not None:
                    self.control.release(entry.ring_back_leg)
                    await self.control.hangup(entry.ring_back_leg)
                await self.control.hangup(entry.party.channel_id)

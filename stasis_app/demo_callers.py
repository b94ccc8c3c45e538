"""Simulated traffic for the embedded demo: customers calling a campaign, agents picking up.

Everything here acts only as the far ends do on a real system, through the ARI simulator's control
side: a customer's call arrives at a DID (``place_call``), agents' phones ring and answer after a
second or three (``PhoneBehaviour``), and a conversation ends when one of the two people hangs up
(``far_end_hangup``). Some customers lose patience and hang up while they wait. The Stasis app sees
nothing but ordinary ARI events, so the demo exercises the same code paths as production calls.

Waiting and talking times are simulated seconds (they follow the simulator's ``time_scale``); the
pause between new callers is in real seconds, so a test can run the same traffic much faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ari_sim.engine import Engine, PhoneBehaviour
from ari_sim.errors import AriError

log = logging.getLogger(__name__)

#: How often a waiting customer checks whether an agent came on the line (real seconds).
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class TrafficSettings:
    """The shape of the simulated traffic; the defaults keep three agents busy with a small queue."""

    #: Real seconds between two new callers (each pause is drawn between half and one and a half times it).
    call_interval: float = 3.0
    #: The numbers customers dial.
    dids: tuple[str, ...] = ("2000",)
    #: Share of customers who give up early, and how long they wait (simulated seconds).
    impatient_share: float = 0.2
    impatient_wait: tuple[float, float] = (4.0, 12.0)
    #: How long the other customers are willing to wait.
    patient_wait: tuple[float, float] = (40.0, 120.0)
    #: How long each side would talk before hanging up; the shorter of the two ends the call.
    caller_talk: tuple[float, float] = (5.0, 20.0)
    agent_talk: tuple[float, float] = (5.0, 20.0)
    #: Seconds an agent's phone rings before the agent picks up.
    answer_after: tuple[float, float] = (1.0, 3.0)


@dataclass
class TrafficCounters:
    """What the simulated people did so far (for the console and the tests)."""

    placed: int = 0
    gave_up: int = 0
    talked: int = 0
    ended_by_caller: int = 0
    ended_by_agent: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class DemoPhones:
    """The agents' phones: registered on the simulator, answering after a random short ring."""

    engine: Engine
    extensions: Sequence[str]
    answer_after: tuple[float, float] = (1.0, 3.0)
    rng: random.Random = field(default_factory=random.Random)

    async def register(self) -> None:
        for extension in self.extensions:
            await self.engine.register_phone(extension, self._behaviour())

    async def redraw(self) -> None:
        """New ring times for the next calls, so the agents do not all pick up in lockstep."""
        for extension in self.extensions:
            await self.engine.set_phone_behaviour(extension, self._behaviour())

    def _behaviour(self) -> PhoneBehaviour:
        return PhoneBehaviour(mode="answer", answer_after=round(self.rng.uniform(*self.answer_after), 2))


class DemoCallers:
    """A stream of customers calling the demo campaign until :meth:`stop`."""

    def __init__(
        self,
        engine: Engine,
        settings: TrafficSettings,
        *,
        phones: DemoPhones | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if not settings.dids:
            raise ValueError("simulated callers need at least one DID to call")
        self.engine = engine
        self.settings = settings
        self.phones = phones
        self.rng = rng or random.Random()
        self.counters = TrafficCounters()
        self._calls: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stream: asyncio.Task[None] | None = None

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    def start(self) -> None:
        self._stream = asyncio.create_task(self._run(), name="demo-callers")

    async def stop(self, settle: float = 3.0) -> None:
        """No new callers; everyone still on the line hangs up, and their calls get time to finish."""
        if self._stream is not None:
            self._stream.cancel()
            await asyncio.gather(self._stream, return_exceptions=True)
            self._stream = None
        on_the_line = list(self._calls)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for channel_id in on_the_line:
            await self._hang_up(channel_id)
        for _ in range(max(1, int(settle / POLL_SECONDS))):
            if not any(c in self.engine.channels for c in on_the_line):
                break
            await asyncio.sleep(POLL_SECONDS)
        self._calls.clear()

    async def _run(self) -> None:
        interval = self.settings.call_interval
        while True:
            task = asyncio.create_task(self._one_call(), name="demo-caller")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            await asyncio.sleep(interval * self.rng.uniform(0.5, 1.5))

    async def _one_call(self) -> None:
        rng = self.rng
        number = f"0155{rng.randrange(10**6):06d}"
        did = rng.choice(self.settings.dids)
        if self.phones is not None:
            await self.phones.redraw()
        try:
            channel_id = await self.engine.place_call(did, number, caller_name=f"Customer {number[-4:]}")
        except AriError as exc:
            self.counters.failed += 1
            log.warning("simulated caller %s could not call %s: %s", number, did, exc)
            return
        self._calls.add(channel_id)
        self.counters.placed += 1
        if self.counters.placed % 20 == 0:
            log.info("simulated callers so far: %s", self.counters.as_dict())
        try:
            await self._converse(channel_id, number)
        finally:
            self._calls.discard(channel_id)

    async def _converse(self, channel_id: str, number: str) -> None:
        settings, rng = self.settings, self.rng
        impatient = rng.random() < settings.impatient_share
        patience = rng.uniform(*(settings.impatient_wait if impatient else settings.patient_wait))
        agent_leg = await self._wait_for_agent(channel_id, patience)
        if agent_leg is None:
            if channel_id in self.engine.channels:
                self.counters.gave_up += 1
                log.debug("caller %s gave up after %.0f s", number, patience)
                await self._hang_up(channel_id)
            return
        self.counters.talked += 1
        caller_talk = rng.uniform(*settings.caller_talk)
        agent_talk = rng.uniform(*settings.agent_talk)
        await self.engine.sleep(min(caller_talk, agent_talk))
        if channel_id not in self.engine.channels:
            return
        if agent_talk < caller_talk and agent_leg in self.engine.channels:
            self.counters.ended_by_agent += 1
            await self._hang_up(agent_leg)
        else:
            self.counters.ended_by_caller += 1
            await self._hang_up(channel_id)

    async def _wait_for_agent(self, channel_id: str, patience: float) -> str | None:
        """The id of the channel the caller was bridged with, or None (gave up, or the call ended)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience * self.engine.time_scale
        while channel_id in self.engine.channels and loop.time() < deadline:
            peer = _bridged_with(self.engine.heard(channel_id), channel_id)
            if peer is not None:
                return peer
            await asyncio.sleep(POLL_SECONDS)
        return None

    async def _hang_up(self, channel_id: str) -> None:
        with contextlib.suppress(AriError):  # the other side hung up meanwhile
            await self.engine.far_end_hangup(channel_id)


def _bridged_with(heard: list[dict[str, Any]], channel_id: str) -> str | None:
    """The last party a far end heard itself bridged with (what a caller notices: someone answers)."""
    for entry in reversed(heard):
        if entry.get("kind") == "bridged":
            others = [str(c) for c in entry.get("with") or () if str(c) != channel_id]
            if others:
                return others[0]
    return None

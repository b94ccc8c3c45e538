"""The interface end-to-end tests are written against, whatever plays the far ends.

A test acts as the Stasis application of the system under test through `harness.ari` and uses the
rest of the interface to play the outside world: phones that ring, answer, are busy or unreachable,
callers dialing a number, people pressing keys and hanging up. Two backends implement it: the
simulator's control side, and a real Asterisk driven through ARI alone.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from harness.ari_client import AriClient

PhoneMode = Literal["answer", "ring", "busy", "reject", "unreachable"]
PHONE_MODES: tuple[PhoneMode, ...] = ("answer", "ring", "busy", "reject", "unreachable")

#: Hang-up causes (Q.850) the phone modes stand for.
CAUSE_NORMAL = 16
CAUSE_BUSY = 17
CAUSE_NO_ANSWER = 19
CAUSE_UNREACHABLE = 20
CAUSE_REJECTED = 21

Heard = dict[str, Any]
HeardPredicate = Callable[[list[Heard]], bool]


@dataclass(frozen=True)
class Behaviour:
    """How a phone treats a call that reaches it."""

    mode: PhoneMode = "answer"
    #: Seconds of ringing before a phone in "answer" mode picks up (on the server's clock, which a
    #: simulator runs faster than real time).
    answer_after: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "answer_after": self.answer_after}


@dataclass(frozen=True)
class FarEnd:
    """One call leg as the outside world holds it."""

    #: The channel as the system under test sees it (in its events and requests).
    channel_id: str
    #: The channel the backend acts on to play this far end (the same channel on the simulator; the
    #: harness-owned Local half on a real Asterisk).
    control_id: str
    #: The phone's endpoint ("PJSIP/1001"), empty for a caller.
    endpoint: str = ""


class CallHarness(abc.ABC):
    """Far ends for end-to-end tests, plus an ARI client to the system under test."""

    #: The backend's name, for test ids and messages.
    name: str = ""

    def __init__(self, ari: AriClient) -> None:
        self.ari = ari

    async def __aenter__(self) -> CallHarness:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect whatever the backend needs before the first call (nothing by default)."""
        await asyncio.sleep(0)

    async def close(self) -> None:
        await self.ari.close()

    # Phones -----------------------------------------------------------------------------------

    @abc.abstractmethod
    def phone_endpoint(self, ext: str) -> str:
        """What the system under test dials to reach phone `ext` (e.g. `PJSIP/1001`)."""

    @abc.abstractmethod
    async def register_phone(self, ext: str, behaviour: Behaviour | None = None) -> None:
        """Bring phone `ext` online with this behaviour for calls reaching it."""

    @abc.abstractmethod
    async def set_phone_behaviour(self, ext: str, behaviour: Behaviour) -> None:
        """Change how phone `ext` treats the next calls."""

    @abc.abstractmethod
    async def unregister_phone(self, ext: str) -> None:
        """Take phone `ext` offline."""

    @abc.abstractmethod
    async def wait_for_ringing(self, ext: str, within: float = 5.0) -> FarEnd:
        """The next call reaching phone `ext` (each call is given out once)."""

    # Callers ----------------------------------------------------------------------------------

    @abc.abstractmethod
    async def place_call(
        self,
        to: str,
        caller_number: str,
        *,
        caller_name: str = "",
        context: str = "from-trunk",
    ) -> FarEnd:
        """A call from `caller_number` arriving at the system under test for `to` in `context`."""

    # Acting as a far end ----------------------------------------------------------------------

    @abc.abstractmethod
    async def answer(self, far_end: FarEnd) -> None:
        """The person at the far end picks up."""

    @abc.abstractmethod
    async def hangup(self, far_end: FarEnd, cause: int = CAUSE_NORMAL) -> None:
        """The person at the far end hangs up."""

    @abc.abstractmethod
    async def press(self, far_end: FarEnd, digits: str, duration_ms: int = 100) -> None:
        """The person at the far end presses keys."""

    @abc.abstractmethod
    async def heard(self, far_end: FarEnd) -> list[Heard]:
        """What the far end heard and saw so far, in order (see the simulator's `heard`)."""

    async def wait_heard(
        self, far_end: FarEnd, predicate: HeardPredicate, within: float = 5.0
    ) -> list[Heard]:
        """Poll `heard` until the predicate holds; the last list is in the error otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            items = await self.heard(far_end)
            if predicate(items):
                return items
            if loop.time() >= deadline:
                raise TimeoutError(f"far end {far_end.channel_id} heard only {items!r} within {within}s")
            await asyncio.sleep(0.02)

    # What is left -----------------------------------------------------------------------------

    async def stray_state(self) -> dict[str, list[str]]:
        """Channels and bridges still alive on the system under test (names and ids)."""
        channels = await self.ari.get("/channels")
        bridges = await self.ari.get("/bridges")
        return {
            "channels": sorted(str(channel["name"]) for channel in channels),
            "bridges": sorted(str(bridge["id"]) for bridge in bridges),
        }

    async def wait_no_strays(self, within: float = 5.0) -> dict[str, list[str]]:
        """Wait for hang-ups in flight to finish; returns what is still left after the timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            state = await self.stray_state()
            if not any(state.values()) or loop.time() >= deadline:
                return state
            await asyncio.sleep(0.02)


def heard_kinds(items: list[Heard]) -> list[str]:
    """Just the kinds, for compact assertions."""
    return [str(item.get("kind")) for item in items]


def has_heard(kind: str, **fields: Any) -> HeardPredicate:
    """Predicate for `wait_heard`: an item of this kind with these field values."""

    def holds(items: list[Heard]) -> bool:
        return any(
            item.get("kind") == kind and all(item.get(key) == value for key, value in fields.items())
            for item in items
        )

    return holds

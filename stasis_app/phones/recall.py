"""*25: an external call with recall, as an operator of a switchboard expects it.

How the product manual's one line ("*25 or External call with recall possibility") is read here:

- The phone dials the recall code followed by an external number exactly as it would dial it
  otherwise (``*25`` + ``9`` + number). The same call-class checks as for a plain ``9`` + number
  apply, so a class the extension may not call is refused and nothing is booked.
- The call is placed at once. Answered, it is an ordinary external call and nothing else happens.
- Busy, not answered or unreachable: the phone hears that a recall was booked and is hung up. The
  system then calls the number again every ``interval`` seconds, at most ``attempts`` times.
- When the number answers, it hears a short "please hold" and music on hold while the extension that
  booked the recall rings (the extension sees the external number as caller). Answered, both are
  bridged and the call is an ordinary call from then on (in-call features, *88, pickup while ringing).
- If the extension does not answer (or is busy when rung), the external party hears that nobody is
  available and is hung up, and the recall ends: the person called back has been disturbed once
  already, so calling them a second time for an absent extension is not what an operator wants.
- An attempt falls due while the extension is in a call or in do-not-disturb: the number is not
  called (the extension could not take it) and the attempt counts, so a recall always ends within
  ``attempts`` x ``interval``.
- Dialing the recall code again for the same number replaces the pending recall. The cancel code
  (``*25`` alone by default, ``FeatureCodes.recall_cancel``) cancels every recall of the extension
  that is waiting or whose external call is still ringing; one whose external party already
  answered is not cancelled (a person is on the line).

Each recall is an explicit state machine (``RecallState``; every transition is checked against
``TRANSITIONS`` and logged). ``RecallBook`` keeps the recalls and runs one task per recall; the ARI
work of an attempt is done by a ``RecallDialer`` (the internal call flow).
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecallSettings:
    """How often and how long a booked recall tries, and what the parties hear."""

    #: Seconds from the failed call (or the previous attempt) to the next attempt.
    interval: float = 60.0
    #: Attempts after the failed call before the recall gives up.
    attempts: int = 5
    #: Seconds the external number rings on each attempt.
    external_ring_seconds: int = 30
    #: Seconds the extension rings once the external party answered.
    extension_ring_seconds: int = 20
    #: Music-on-hold class the external party hears while the extension rings.
    music_class: str = "default"
    #: What the phone hears when its call failed and a recall was booked.
    booked: tuple[str, ...] = ("sound:vm-isunavail", "sound:activated")
    #: What the phone hears when its pending recalls were cancelled.
    cancelled: tuple[str, ...] = ("sound:de-activated",)
    #: What the phone hears when it cancels and nothing was pending.
    nothing_pending: tuple[str, ...] = ("sound:pbx-invalid",)
    #: What the external party hears once it answered, before the extension rings.
    please_hold: tuple[str, ...] = ("sound:pls-hold-while-try",)
    #: What the external party hears when the extension did not answer.
    nobody_available: tuple[str, ...] = ("sound:vm-nobodyavail",)

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.attempts < 1:
            raise ValueError("a recall needs a positive interval and at least one attempt")


class RecallState(enum.Enum):
    #: Waiting for the next attempt.
    BOOKED = "booked"
    #: The external number rings.
    CALLING_EXTERNAL = "calling-external"
    #: The external party answered and waits; the extension rings.
    RINGING_EXTENSION = "ringing-extension"
    #: Both are bridged.
    CONNECTED = "connected"
    # Final states.
    COMPLETED = "completed"
    EXHAUSTED = "exhausted"
    CANCELLED = "cancelled"
    MISSED = "missed"
    ABANDONED = "abandoned"
    FAILED = "failed"


FINAL = frozenset(
    {
        RecallState.COMPLETED,
        RecallState.EXHAUSTED,
        RecallState.CANCELLED,
        RecallState.MISSED,
        RecallState.ABANDONED,
        RecallState.FAILED,
    }
)

#: Allowed moves. BOOKED -> BOOKED is an attempt skipped because the extension could not take it.
TRANSITIONS: dict[RecallState, frozenset[RecallState]] = {
    RecallState.BOOKED: frozenset(
        {
            RecallState.BOOKED,
            RecallState.CALLING_EXTERNAL,
            RecallState.EXHAUSTED,
            RecallState.CANCELLED,
            RecallState.FAILED,
        }
    ),
    RecallState.CALLING_EXTERNAL: frozenset(
        {
            RecallState.BOOKED,
            RecallState.RINGING_EXTENSION,
            RecallState.EXHAUSTED,
            RecallState.CANCELLED,
            RecallState.FAILED,
        }
    ),
    RecallState.RINGING_EXTENSION: frozenset(
        {RecallState.CONNECTED, RecallState.MISSED, RecallState.ABANDONED, RecallState.FAILED}
    ),
    RecallState.CONNECTED: frozenset({RecallState.COMPLETED, RecallState.FAILED}),
    **{state: frozenset() for state in FINAL},
}

CANCELLABLE = frozenset({RecallState.BOOKED, RecallState.CALLING_EXTERNAL})


class AttemptResult(enum.Enum):
    """How one attempt ended, as the dialer reports it."""

    BUSY = "busy"
    NO_ANSWER = "noanswer"
    UNREACHABLE = "unreachable"
    #: The external party answered, the extension answered, and the call is over.
    COMPLETED = "completed"
    #: The external party answered; the extension did not.
    MISSED = "missed"
    #: The external party answered and hung up before the extension answered.
    ABANDONED = "abandoned"


class RecallError(Exception):
    """A transition the state machine does not allow."""


@dataclass(frozen=True)
class Transition:
    source: RecallState
    target: RecallState
    reason: str


@dataclass
class Recall:
    """One booked recall of ``number`` (without the external prefix) for ``extension``."""

    recall_id: str
    extension: str
    number: str
    #: Caller id the external party is shown (the extension's, as on the call that failed).
    caller_id: str
    state: RecallState = RecallState.BOOKED
    attempts_made: int = 0
    transitions: list[Transition] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def advance(self, target: RecallState, reason: str = "") -> None:
        """Move to ``target``; anything ``TRANSITIONS`` does not list is a bug, not a no-op."""
        if target not in TRANSITIONS[self.state]:
            raise RecallError(f"recall {self.recall_id}: {self.state.value} -> {target.value} not allowed")
        self.transitions.append(Transition(self.state, target, reason))
        log.info(
            "recall %s (%s for %s): %s -> %s %s",
            self.recall_id,
            self.number,
            self.extension,
            self.state.value,
            target.value,
            reason,
        )
        self.state = target

    @property
    def final(self) -> bool:
        return self.state in FINAL

    def states(self) -> list[RecallState]:
        """Every state the recall went through, in order (for status output and tests)."""
        return [RecallState.BOOKED, *(step.target for step in self.transitions)]


class RecallDialer(Protocol):
    """The ARI side of an attempt (the internal call flow implements it)."""

    def extension_available(self, extension: str) -> bool:
        """Whether the extension could take a call now (not in a call, not in do-not-disturb)."""

    async def recall_attempt(self, recall: Recall, settings: RecallSettings) -> AttemptResult:
        """Call the number; once answered, ring the extension and bridge them. The dialer moves the
        recall to RINGING_EXTENSION when the number answers and to CONNECTED when bridged."""


class RecallBook:
    """The pending recalls and their tasks; finished ones are kept for a while for status."""

    def __init__(self, settings: RecallSettings, dialer: RecallDialer) -> None:
        self.settings = settings
        self.dialer = dialer
        self.pending: dict[str, Recall] = {}
        self.finished: deque[Recall] = deque(maxlen=200)
        self._ids = itertools.count(1)

    def book(self, extension: str, number: str, caller_id: str) -> Recall:
        """Book a recall; one already pending for the same extension and number is replaced."""
        for old in self.of(extension):
            if old.number == number and old.state in CANCELLABLE:
                self._cancel(old, "replaced")
        recall = Recall(f"recall-{next(self._ids)}", extension, number, caller_id)
        log.info("recall %s booked: %s for %s", recall.recall_id, number, extension)
        self.pending[recall.recall_id] = recall
        recall.task = asyncio.create_task(self._run(recall), name=f"recall {recall.recall_id}")
        return recall

    def of(self, extension: str) -> list[Recall]:
        return [recall for recall in self.pending.values() if recall.extension == extension]

    def cancel(self, extension: str) -> int:
        """Cancel the extension's recalls that may still be cancelled; how many were."""
        cancelled = 0
        for recall in self.of(extension):
            if recall.state in CANCELLABLE:
                self._cancel(recall, "cancelled by the extension")
                cancelled += 1
        return cancelled

    def _cancel(self, recall: Recall, reason: str) -> None:
        recall.advance(RecallState.CANCELLED, reason)
        if recall.task is not None:
            recall.task.cancel()

    async def stop(self) -> None:
        tasks = [recall.task for recall in self.pending.values() if recall.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, recall: Recall) -> None:
        try:
            await self._attempts(recall)
        except asyncio.CancelledError:
            # Cancelled by the extension (already CANCELLED) or by a stop of the service.
            if not recall.final and recall.state in CANCELLABLE:
                recall.advance(RecallState.CANCELLED, "service stopping")
        except Exception as exc:
            log.exception("recall %s failed", recall.recall_id)
            if not recall.final:
                recall.advance(RecallState.FAILED, repr(exc))
        finally:
            self.pending.pop(recall.recall_id, None)
            self.finished.append(recall)

    async def _attempts(self, recall: Recall) -> None:
        settings = self.settings
        while recall.attempts_made < settings.attempts:
            await asyncio.sleep(settings.interval)
            recall.attempts_made += 1
            attempt = f"attempt {recall.attempts_made}/{settings.attempts}"
            if not self.dialer.extension_available(recall.extension):
                recall.advance(RecallState.BOOKED, f"{attempt} skipped: extension unavailable")
                continue
            recall.advance(RecallState.CALLING_EXTERNAL, attempt)
            result = await self.dialer.recall_attempt(recall, settings)
            if result in (AttemptResult.BUSY, AttemptResult.NO_ANSWER, AttemptResult.UNREACHABLE):
                if recall.attempts_made < settings.attempts:
                    recall.advance(RecallState.BOOKED, f"{attempt}: {result.value}")
                    continue
                recall.advance(RecallState.EXHAUSTED, f"{attempt}: {result.value}")
                return
            final = {
                AttemptResult.COMPLETED: RecallState.COMPLETED,
                AttemptResult.MISSED: RecallState.MISSED,
                AttemptResult.ABANDONED: RecallState.ABANDONED,
            }[result]
            recall.advance(final, attempt)
            return
        recall.advance(RecallState.EXHAUSTED, "no attempt left")

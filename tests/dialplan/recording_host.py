"""A `DialplanHost` that records what the dialplan asked of it and answers from a script.

This is the protocol boundary between the dialplan runner and the engine: the runner's tests check what
it asks a host to do; the engine's own tests (and the simulator test here) cover the real host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ari_sim.dialplan import ChannelGone, DialplanTarget, Indication


@dataclass
class StepSeen:
    context: str
    exten: str
    priority: int
    app: str
    app_data: str


StasisScript = Callable[[str, Sequence[str]], DialplanTarget | None]


@dataclass
class RecordingHost:
    """Scripted answers; every call is appended to `calls` as a tuple naming the primitive."""

    variables: dict[str, str] = field(default_factory=dict)
    #: What Stasis does: returns where `continue` sends the channel, None when the app is missing,
    #: or raises ChannelGone when the application hangs the channel up.
    stasis: StasisScript = field(default=lambda app, args: DialplanTarget())
    registered_apps: frozenset[str] = frozenset({"opencontact"})
    dial_status: str = "ANSWER"
    amd: tuple[str, str] = ("HUMAN", "HUMAN-300-500")
    missing_sounds: frozenset[str] = frozenset()
    #: Simulated seconds after which the far end hangs up (waits/plays past it raise ChannelGone).
    far_end_hangs_up_after: float | None = None
    #: Raise this from `play`, to check the runner never strands a channel on an unexpected error.
    play_error: Exception | None = None
    clock: float = 0.0
    calls: list[tuple[object, ...]] = field(default_factory=list)
    steps: list[StepSeen] = field(default_factory=list)
    hangups: list[tuple[str, int]] = field(default_factory=list)
    gone: bool = False

    def _check(self) -> None:
        if self.gone:
            raise ChannelGone()

    def _advance(self, seconds: float | None) -> None:
        limit = self.far_end_hangs_up_after
        if seconds is None:
            if limit is None:
                raise AssertionError("waiting for a hangup that the script never makes")
            seconds = max(limit - self.clock, 0.0)
        if limit is not None and self.clock + seconds >= limit:
            self.clock = limit
            self.gone = True
            raise ChannelGone()
        self.clock += seconds

    async def on_dialplan_step(
        self, channel: str, *, context: str, exten: str, priority: int, app: str, app_data: str
    ) -> None:
        self._check()
        self.steps.append(StepSeen(context, exten, priority, app, app_data))

    async def answer(self, channel: str) -> None:
        self._check()
        self.calls.append(("answer",))

    async def indicate(self, channel: str, indication: Indication) -> None:
        self._check()
        self.calls.append(("indicate", indication))

    async def play(self, channel: str, media: str) -> bool:
        self._check()
        if self.play_error is not None:
            raise self.play_error
        self.calls.append(("play", media))
        if media.partition(":")[2] in self.missing_sounds:
            return False
        self._advance(1.0)
        return True

    async def wait(self, channel: str, seconds: float | None) -> None:
        self._check()
        self.calls.append(("wait", seconds))
        self._advance(seconds)

    async def get_variable(self, channel: str, name: str) -> str | None:
        self._check()
        return self.variables.get(name)

    async def set_variable(self, channel: str, name: str, value: str) -> None:
        self._check()
        self.calls.append(("set", name, value))
        self.variables[name] = value

    async def dial(
        self, channel: str, destinations: Sequence[str], ring_timeout: float | None, options: str
    ) -> str:
        self._check()
        self.calls.append(("dial", list(destinations), ring_timeout, options))
        return self.dial_status

    async def enter_stasis(self, channel: str, app: str, args: Sequence[str]) -> DialplanTarget | None:
        self._check()
        self.calls.append(("stasis", app, list(args)))
        if app not in self.registered_apps:
            return None
        try:
            return self.stasis(app, args)
        except ChannelGone:
            self.gone = True
            raise

    async def amd_result(self, channel: str) -> tuple[str, str]:
        self._check()
        self.calls.append(("amd",))
        return self.amd

    async def hangup(self, channel: str, cause: int) -> None:
        self.hangups.append((channel, cause))
        self.gone = True

    # -- helpers for assertions ------------------------------------------------------------------------

    def apps(self) -> list[str]:
        return [s.app for s in self.steps]

    def of_kind(self, kind: str) -> list[tuple[object, ...]]:
        return [c for c in self.calls if c[0] == kind]

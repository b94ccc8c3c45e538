"""The harness on the simulator: far ends are played by its control side (`/_sim/`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ari_sim.engine import Engine
from ari_sim.server import build
from ari_sim.settings import SimSettings
from harness.ari_client import AriClient, response_body
from harness.base import CAUSE_NORMAL, Behaviour, CallHarness, FarEnd, Heard

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIALPLAN = REPO_ROOT / "dialplan" / "extensions.conf"
HARNESS_DIALPLAN = REPO_ROOT / "tests" / "asterisk" / "extensions_harness.conf"

#: Simulated media runs this much faster than real time in tests.
FAST_TIME_SCALE = 0.02

#: Channel states in which a phone's channel has been called (it rings or has answered).
CALLED_STATES = {"Ringing", "Ring", "Up"}


class ControlError(Exception):
    """A `/_sim/` request answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} answered {status}: {body!r}")
        self.status = status
        self.body = body


def dialplan_paths() -> str:
    """The project's dialplan plus the harness phones' context, as the settings expect them."""
    files = [path for path in (PROJECT_DIALPLAN, HARNESS_DIALPLAN) if path.is_file()]
    return os.pathsep.join(str(path) for path in files)


class SimServer:
    """A simulator serving on an ephemeral loopback port inside the test's event loop."""

    def __init__(self, settings: SimSettings | None = None) -> None:
        self.settings = settings or SimSettings(
            port=0, time_scale=FAST_TIME_SCALE, dialplan_path=dialplan_paths() or None
        )
        self.engine: Engine | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self.engine, app = build(self.settings)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def client(self) -> AriClient:
        return AriClient(self.url, self.settings.username, self.settings.password)


class SimHarness(CallHarness):
    """Far ends played by the simulator itself; phones are PJSIP endpoints."""

    name = "sim"
    tech = "PJSIP"

    def __init__(self, ari: AriClient, server: SimServer | None = None, poll_interval: float = 0.01) -> None:
        super().__init__(ari)
        self.server = server
        self.poll_interval = poll_interval
        self._given: dict[str, set[str]] = {}

    @classmethod
    async def started(cls, settings: SimSettings | None = None) -> SimHarness:
        """A harness with its own simulator, stopped again by `close`."""
        server = SimServer(settings)
        await server.start()
        harness = cls(server.client(), server)
        await harness.start()
        return harness

    async def close(self) -> None:
        await super().close()
        if self.server is not None:
            await self.server.stop()

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        async with self.ari.session.request(method, f"{self.ari.root}/_sim{path}", json=body) as response:
            decoded = await response_body(response)
            if response.status >= 300:
                raise ControlError(method, path, response.status, decoded)
            return decoded

    def phone_path(self, ext: str) -> str:
        return f"/phones/{self.tech}/{quote(ext, safe='')}"

    def phone_endpoint(self, ext: str) -> str:
        return f"{self.tech}/{ext}"

    async def register_phone(self, ext: str, behaviour: Behaviour | None = None) -> None:
        await self.control("POST", self.phone_path(ext), (behaviour or Behaviour()).as_json())

    async def set_phone_behaviour(self, ext: str, behaviour: Behaviour) -> None:
        await self.control("PUT", self.phone_path(ext) + "/behaviour", behaviour.as_json())

    async def unregister_phone(self, ext: str) -> None:
        await self.control("DELETE", self.phone_path(ext))

    async def wait_for_ringing(self, ext: str, within: float = 5.0) -> FarEnd:
        given = self._given.setdefault(ext, set())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            listed = await self.control("GET", self.phone_path(ext) + "/channels")
            for channel_id in listed["channels"]:
                if channel_id in given:
                    continue
                status, channel = await self.ari.call("GET", f"/channels/{quote(channel_id, safe='')}")
                if status == 200 and channel["state"] in CALLED_STATES:
                    given.add(channel_id)
                    return FarEnd(channel_id, channel_id, self.phone_endpoint(ext))
            if loop.time() >= deadline:
                raise TimeoutError(f"no call reached phone {ext} within {within}s")
            await asyncio.sleep(self.poll_interval)

    async def place_call(
        self,
        to: str,
        caller_number: str,
        *,
        caller_name: str = "",
        context: str = "from-trunk",
    ) -> FarEnd:
        answer = await self.control(
            "POST",
            "/calls",
            {"to": to, "caller_number": caller_number, "caller_name": caller_name, "context": context},
        )
        channel_id = str(answer["channel_id"])
        return FarEnd(channel_id, channel_id)

    def channel_path(self, far_end: FarEnd) -> str:
        return f"/channels/{quote(far_end.control_id, safe='')}"

    async def answer(self, far_end: FarEnd) -> None:
        await self.control("POST", self.channel_path(far_end) + "/answer")

    async def hangup(self, far_end: FarEnd, cause: int = CAUSE_NORMAL) -> None:
        await self.control("POST", self.channel_path(far_end) + "/hangup", {"cause": cause})

    async def press(self, far_end: FarEnd, digits: str, duration_ms: int = 100) -> None:
        await self.control(
            "POST", self.channel_path(far_end) + "/dtmf", {"digits": digits, "duration_ms": duration_ms}
        )

    async def heard(self, far_end: FarEnd) -> list[Heard]:
        answer = await self.control("GET", self.channel_path(far_end) + "/heard")
        return list(answer["heard"])

    async def snapshot(self) -> dict[str, Any]:
        """The simulator's own counts of live objects (playbacks and recordings too)."""
        answer: dict[str, Any] = await self.control("GET", "/snapshot")
        return answer

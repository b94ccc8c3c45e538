"""The simulator as a separate process for the benchmarks, and the CPU figures read around it.

The benchmarks run the simulator in its own process so that the CPU of each side can be told
apart; starting it, waiting until it answers and stopping it is the same for every benchmark, so it
lives here. The scripts are run as ``python bench/<name>.py``, which puts this directory first on
``sys.path``: they import this module by its bare name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from stasis_app.ari.rest import basic_authorization

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The simulator's default ARI user (``ari_sim.settings.SimSettings``).
USERNAME = "asterisk"
PASSWORD = "asterisk"


def cpu_seconds_of(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux ``/proc``), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env() -> dict[str, str]:
    """This environment with the repository on ``PYTHONPATH``, so child processes find the packages."""
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )


@dataclass
class SimulatorProcess:
    url: str
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def simulator_process(
    time_scale: float, extra_args: Sequence[str] = (), profile: str | None = None
) -> AsyncIterator[SimulatorProcess]:
    """A simulator on a free loopback port, up and answering; stopped on the way out.

    ``profile``: run it under cProfile, writing the statistics to that file when it stops.
    """
    port = free_port()
    command = shutil.which("opencontact-ari-sim")
    base = [command] if command else [sys.executable, "-m", "ari_sim.cli"]
    if profile:
        base = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "ari_sim.cli"]
    args = [*base, "--port", str(port), "--time-scale", str(time_scale), *extra_args]
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=child_env()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_for_http(url, process)
        yield SimulatorProcess(url, process)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 5)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_for_http(url: str, process: asyncio.subprocess.Process, within: float = 20.0) -> None:
    """Poll the ARI description until the simulator answers, failing early if the process died."""
    deadline = time.monotonic() + within
    headers = {"Authorization": basic_authorization(USERNAME, PASSWORD)}
    async with aiohttp.ClientSession(headers=headers) as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"simulator exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/ari/api-docs/resources.json") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
    raise RuntimeError("simulator did not come up")

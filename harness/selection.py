"""Which backend the end-to-end tests run on, chosen from the environment.

With `OC_ASTERISK_ARI_URL` set the tests run against that Asterisk (credentials in
`OC_ASTERISK_ARI_USERNAME` / `OC_ASTERISK_ARI_PASSWORD`). Without it they run twice on a simulator
started in-process: once with the simulator playing the far ends, and once with the ARI-only backend
meant for Asterisk, so that backend is exercised in every CI run too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from harness.ari_client import AriClient
from harness.asterisk_backend import AsteriskHarness
from harness.base import CallHarness
from harness.sim_backend import SimHarness, SimServer

SIM = "sim"
ARI_ON_SIM = "ari-on-sim"
ASTERISK = "asterisk"


def backend_names(environ: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    if env.get("OC_ASTERISK_ARI_URL"):
        return [ASTERISK]
    return [SIM, ARI_ON_SIM]


async def open_harness(name: str, environ: Mapping[str, str] | None = None) -> CallHarness:
    """A started harness of that backend; `close()` also stops a simulator it started."""
    env = os.environ if environ is None else environ
    if name == SIM:
        return await SimHarness.started()
    if name == ARI_ON_SIM:
        server = SimServer()
        await server.start()
        harness = AsteriskHarness(
            server.client(), on_close=server.stop, time_scale=server.settings.time_scale
        )
        harness.name = ARI_ON_SIM
    elif name == ASTERISK:
        client = AriClient(
            env["OC_ASTERISK_ARI_URL"],
            env.get("OC_ASTERISK_ARI_USERNAME", "asterisk"),
            env.get("OC_ASTERISK_ARI_PASSWORD", "asterisk"),
        )
        harness = AsteriskHarness(client)
    else:
        raise ValueError(f"unknown harness backend {name!r}; known: {SIM}, {ARI_ON_SIM}, {ASTERISK}")
    try:
        await harness.start()
    except BaseException:
        await harness.close()
        raise
    return harness

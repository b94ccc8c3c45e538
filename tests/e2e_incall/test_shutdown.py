"""Stopping the service with calls in feature states ends them cleanly: no error logged, nothing left."""

from __future__ import annotations

import logging

import pytest

from harness.base import Behaviour, CallHarness

from .conftest import CLEAN, Starter
from .test_incall_features import bridged_with, played, start, talking


async def test_stop_with_calls_in_progress_logs_no_error(
    harness: CallHarness, start_system: Starter, caplog: pytest.LogCaptureFixture
) -> None:
    for ext in ("202", "203", "205", "206"):
        await harness.register_phone(ext, Behaviour("answer"))
    system = await start(harness, start_system)
    # A plain call, a consultation in progress, a room with one member and a parked call.
    await talking(system, to="205")
    _caller, phone = await talking(system)
    await harness.press(phone, "#0")
    await harness.press(phone, "203#")
    target = await harness.wait_for_ringing("203", within=10)
    await bridged_with(system, phone, target)
    member = await system.dial("204", "555700")
    await harness.wait_heard(member, lambda items: "sound:conf-onlyperson" in played(items))
    _parked, parker = await talking(system, to="206")
    await harness.press(parker, "#3")
    await harness.wait_heard(parker, lambda items: "digits:701" in played(items), within=10)

    caplog.clear()
    with caplog.at_level(logging.WARNING):
        await system.service.stop()
    problems = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]
    assert problems == []
    # Every call was released while ARI was still up.
    assert await harness.wait_no_strays(8.0) == CLEAN

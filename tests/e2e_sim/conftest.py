"""Fixtures for the end-to-end tests: a harness per backend and a Stasis app acting as the system."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from e2e_support import harness

from harness.base import CallHarness
from harness.stasis_session import StasisSession

#: The tests' Stasis application; `harness-inbound` in tests/asterisk/extensions_harness.conf sends
#: calls placed to that context into it, as the project's dialplan does for the product's app.
E2E_APP = "oc-e2e"

__all__ = ["harness"]


@pytest.fixture
async def app(harness: CallHarness) -> AsyncIterator[StasisSession]:
    events = await harness.ari.events(E2E_APP)
    try:
        yield StasisSession(E2E_APP, events, harness.ari)
    finally:
        await events.close()

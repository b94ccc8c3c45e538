"""What the in-call features rely on, checked on every backend: how DTMF moves through a bridge.

A mixing bridge passes a member's digits to the other members unless that member joined with
``absorbDTMF``; two quick send requests on one channel play one after the other, never interleaved.
The test itself is the Stasis application here (no product code runs).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from harness.ari_client import EventStream, of_type
from harness.base import CallHarness, FarEnd, Heard

from .conftest import CLEAN

APP = "opencontact"


@pytest.fixture
async def events(harness: CallHarness) -> AsyncIterator[EventStream]:
    stream = await harness.ari.events(APP)
    try:
        yield stream
    finally:
        await stream.close()


def digits(items: list[Heard]) -> str:
    return "".join(str(item.get("digit")) for item in items if item.get("kind") == "dtmf")


async def answered_caller(harness: CallHarness, events: EventStream, number: str) -> FarEnd:
    caller = await harness.place_call("299", number, context="from-internal")
    await events.wait_for(of_type("StasisStart", caller.channel_id), within=10)
    await harness.ari.post(f"/channels/{caller.channel_id}/answer")
    return caller


async def test_a_bridge_passes_digits_unless_absorbed(harness: CallHarness, events: EventStream) -> None:
    first = await answered_caller(harness, events, "201")
    second = await answered_caller(harness, events, "202")
    bridge = f"dtmf-test-{uuid.uuid4().hex}"
    await harness.ari.post(f"/bridges/{bridge}", {"type": "mixing"})
    await harness.ari.post(f"/bridges/{bridge}/addChannel", {"channel": first.channel_id})
    await harness.ari.post(
        f"/bridges/{bridge}/addChannel", {"channel": second.channel_id, "absorbDTMF": True}
    )

    # Two requests sent at once still arrive in order.
    await harness.press(first, "##")
    await harness.press(first, "203#")
    await harness.wait_heard(second, lambda items: digits(items) == "##203#", within=10)
    received = [
        e.get("digit") for e in events.of_channel(first.channel_id) if e["type"] == "ChannelDtmfReceived"
    ]
    assert "".join(str(d) for d in received) == "##203#"

    # The second member's digits are reported but absorbed: the first far end hears none.
    await harness.press(second, "5")
    await events.wait_for(
        lambda e: e["type"] == "ChannelDtmfReceived" and e["channel"]["id"] == second.channel_id, within=10
    )
    await harness.press(first, "7")
    await harness.wait_heard(second, lambda items: digits(items) == "##203#7", within=10)
    assert digits(await harness.heard(first)) == ""

    await harness.ari.delete(f"/bridges/{bridge}")
    await harness.hangup(first)
    await harness.hangup(second)
    assert await harness.wait_no_strays(8.0) == CLEAN

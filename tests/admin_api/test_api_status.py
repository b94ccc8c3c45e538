"""The live status board: built from the Stasis app's bus events, for supervisors only; and /health."""

from __future__ import annotations

import time

from admin_api_helpers import (
    AGENT,
    CAMPAIGN,
    OTHER_AGENT,
    SUPERVISOR,
    StasisStandIn,
    basic,
    seed_token,
)
from flask.testing import FlaskClient

from admin_api.status import LiveStatus
from bus import EVENTS, SyncBus, messages


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_board_counts_waiting_answered_abandoned_and_longest_wait() -> None:
    clock = FakeClock(1000.0)
    board = LiveStatus(clock)
    board.handle(messages.call_entered("c1", "Sales", "555-1"))
    clock.now = 1004.0
    board.handle(messages.call_entered("c2", "Sales", "555-2"))
    board.handle(messages.call_entered("c3", "Sales", "555-3"))
    clock.now = 1010.0
    board.handle(messages.agent_state("agent1", "ringing", ["Sales"], 1009.0))
    board.handle(messages.call_connected("c1", "Sales", "555-1", "agent1"))
    board.handle(messages.call_abandoned("c3", "Sales", "555-3"))
    board.handle({"type": "call.entered", "campaign": "Sales"})  # malformed: ignored, not raised
    snapshot = board.snapshot(["Sales", "Empty"], ["agent1", "agent9"])
    sales, empty = snapshot["campaigns"][1], snapshot["campaigns"][0]
    assert (sales["name"], sales["waiting"], sales["answered"], sales["abandoned"], sales["talking"]) == (
        "Sales", 1, 1, 1, 1,
    )  # fmt: skip
    assert sales["longest_wait_seconds"] == 6.0
    assert (empty["name"], empty["waiting"], empty["longest_wait_seconds"]) == ("Empty", 0, 0.0)
    agent1, agent9 = snapshot["agents"]
    assert agent1["state"] == "ringing" and agent1["since"] == 1009.0
    assert agent1["call"] == {"callid": "c1", "campaign": "Sales", "caller": "555-1"}
    assert (agent9["state"], agent9["call"]) == ("disconnected", None)
    board.handle(messages.call_ended("c1", "Sales", "555-1", "agent1"))
    after = board.snapshot()
    assert after["campaigns"][0]["talking"] == 0 and after["agents"][0]["call"] is None


def test_status_endpoint_follows_bus_events(
    client: FlaskClient, bus_pair: tuple[SyncBus, StasisStandIn]
) -> None:
    sync, _ = bus_pair
    token = basic(seed_token(client, *SUPERVISOR))
    sync.publish(EVENTS, messages.agent_state(AGENT[0], "free", [CAMPAIGN], time.time()))
    sync.publish(EVENTS, messages.call_entered("s1", CAMPAIGN, "600"))
    sync.publish(EVENTS, messages.call_entered("s2", CAMPAIGN, "601"))
    sync.publish(EVENTS, messages.call_connected("s1", CAMPAIGN, "600", AGENT[0]))
    sync.publish(EVENTS, messages.agent_state(AGENT[0], "busy", [CAMPAIGN], time.time()))

    deadline = time.monotonic() + 3.0
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        body = client.get("/api/v1/status", headers=token).get_json()
        if body["events"] == 5:
            break
        time.sleep(0.02)
    assert body["events"] == 5
    campaigns = {item["name"]: item for item in body["campaigns"]}  # type: ignore[attr-defined]
    assert campaigns[CAMPAIGN]["waiting"] == 1 and campaigns[CAMPAIGN]["answered"] == 1
    assert campaigns[CAMPAIGN]["longest_wait_seconds"] >= 0.0
    agents = {item["agent"]: item for item in body["agents"]}  # type: ignore[attr-defined]
    assert agents[AGENT[0]]["state"] == "busy" and agents[AGENT[0]]["call"]["callid"] == "s1"
    assert agents[OTHER_AGENT[0]]["state"] == "disconnected"
    agent_token = basic(seed_token(client, *AGENT))
    assert client.get("/api/v1/status", headers=agent_token).status_code == 403


def test_health_is_open_and_minimal(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}

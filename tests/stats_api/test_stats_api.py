"""/api/v1/stats: the Stasis side's live statistics over a real bus, through the Flask test client.

The statistics core is fed queue_log rows and agent states directly (the call flow's part is covered
end to end in tests/e2e_inbound); the API asks it over the in-process bus, as in the embedded mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from admin_api.app import create_app
from admin_api.config import ApiConfig
from bus import InProcessBus, SyncBus
from datastore.database import make_engine, session_factory
from datastore.models import Campaign, User
from datastore.passwords import hash_password
from stasis_app.acd import records
from stasis_app.acd.statistics import CallStatistics, StatisticsSettings
from stasis_app.live_statistics import LiveStatistics

SUPERVISOR = ("stats-sup", "sup-pass-123")
AGENT = ("stats-agent", "agent-pass-1")
T0 = datetime(2024, 5, 6, 12, 0, 0).timestamp()


class Clock:
    now = T0 + 100

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sessions(mariadb_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(mariadb_url)
    factory = session_factory(engine)
    with factory() as session:
        for (name, password), role in ((SUPERVISOR, "supervisor"), (AGENT, "agent")):
            session.add(User(username=name, password_hash=hash_password(password), fullname=name, role=role))
        session.add(Campaign(name="Sales", did="2000", servicelevel=20, thresholds="40-80-20"))
        session.add(Campaign(name="Quiet", did="2001", servicelevel=20))
        session.commit()
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def statistics() -> CallStatistics:
    """Sales: 3 callers; one answered in 10 s by agent1, one abandoned after 30 s, one waiting."""
    stats = CallStatistics(StatisticsSettings(), clock=Clock(), threshold_for=lambda _n: 20)
    at = datetime.fromtimestamp
    stats.agent_state("agent1", "free", ["Sales"], T0)
    for callid in ("c1", "c2", "c3"):
        stats.record(records.enter_queue(at(T0), callid, "Sales", caller_number="5", position=1))
    stats.agent_state("agent1", "busy", ["Sales"], T0 + 10)
    stats.record(
        records.connect(at(T0 + 10), "c1", "Sales", "agent1", holdtime=10, member_uniqueid="l", ringtime=1)
    )
    stats.record(records.abandon(at(T0 + 30), "c2", "Sales", position=1, original_position=2, waittime=30))
    return stats


@pytest.fixture(scope="module")
def app(mariadb_url: str, sessions: sessionmaker[Session], statistics: CallStatistics) -> Iterator[Flask]:
    core = InProcessBus()
    live = LiveStatistics(statistics, core, known_campaigns=lambda: ["Sales"], push_seconds=0)
    live.install()
    sync = SyncBus(core)
    sync.start()
    config = ApiConfig.from_mapping({"database_url": mariadb_url, "bus_timeout_seconds": 2.0})
    yield create_app(config, bus=sync, sessions=sessions)
    sync.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(client: FlaskClient, who: tuple[str, str]) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", json={"username": who[0], "password": who[1]})
    assert response.status_code in (200, 201), response.get_json()
    body: Any = response.get_json()
    return {"Authorization": f"Basic {body['token']}"}


def test_campaigns_for_supervisors_only(client: FlaskClient) -> None:
    assert client.get("/api/v1/stats/campaigns").status_code == 401
    assert client.get("/api/v1/stats/campaigns", headers=token(client, AGENT)).status_code == 403
    response = client.get("/api/v1/stats/campaigns", headers=token(client, SUPERVISOR))
    assert response.status_code == 200
    body: Any = response.get_json()
    assert (body["window"], body["formula"]) == ("today", "short-abandons-excluded")
    quiet, sales = body["campaigns"]
    assert (quiet["campaign"], quiet["offered"], quiet["service_level"], quiet["thresholds"]) == (
        "Quiet", 0, None, "",
    )  # fmt: skip
    assert (sales["offered"], sales["answered"], sales["abandoned"], sales["waiting"]) == (3, 1, 1, 1)
    assert (sales["longest_wait"], sales["asa"], sales["thresholds"]) == (100.0, 10.0, "40-80-20")
    assert sales["service_level"] == 0.5  # 1 in threshold / (1 answered + 1 abandoned late)
    assert "agents" not in body


def test_one_campaign_with_formula_window_and_its_agents(client: FlaskClient) -> None:
    headers = token(client, SUPERVISOR)
    response = client.get("/api/v1/stats/campaigns/Sales?formula=answered&window=start", headers=headers)
    body: Any = response.get_json()
    assert response.status_code == 200, body
    assert (body["campaign"], body["window"], body["formula"], body["service_level"]) == (
        "Sales", "start", "answered", 1.0,
    )  # fmt: skip
    [agent] = body["agents"]
    assert (agent["agent"], agent["state"], agent["calls"], agent["time_in_state"]) == (
        "agent1",
        "busy",
        1,
        90.0,
    )
    rolling = client.get("/api/v1/stats/campaigns/Sales?window=rolling&minutes=1", headers=headers)
    assert rolling.get_json()["offered"] == 0 and rolling.get_json()["minutes"] == 1
    assert client.get("/api/v1/stats/campaigns/Nope", headers=headers).status_code == 404


def test_agents(client: FlaskClient) -> None:
    body: Any = client.get("/api/v1/stats/agents", headers=token(client, SUPERVISOR)).get_json()
    assert [a["agent"] for a in body["agents"]] == ["agent1"]
    assert body["agents"][0]["talk_time"] == 90.0 and "campaigns" not in body


@pytest.mark.parametrize(
    "query", ["window=yesterday", "formula=best", "minutes=0", "minutes=abc", "colour=red"]
)
def test_bad_query_parameters_are_refused(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/stats/campaigns?{query}", headers=token(client, SUPERVISOR))
    assert response.status_code == 400
    assert response.get_json()["error"] == "validation_failed"


def test_without_a_call_server_the_answer_is_503(mariadb_url: str, sessions: sessionmaker[Session]) -> None:
    config = ApiConfig.from_mapping({"database_url": mariadb_url})
    alone = create_app(config, bus=None, sessions=sessions).test_client()
    response = alone.get("/api/v1/stats/agents", headers=token(alone, SUPERVISOR))
    assert response.status_code == 503 and response.get_json()["error"] == "unavailable"


async def test_snapshot_request_and_push_on_the_bus(statistics: CallStatistics) -> None:
    bus = InProcessBus()
    await bus.start()
    live = LiveStatistics(statistics, bus, known_campaigns=lambda: ["Sales", "Quiet"], push_seconds=0.05)
    live.install()
    pushed: list[dict[str, Any]] = []

    async def hear(message: dict[str, Any]) -> None:
        if message["type"] == "campaign.stats":
            pushed.append(message)

    bus.subscribe("oc.events", hear)
    live.start()
    try:
        reply = await bus.request("oc.commands", {"type": "stats.snapshot", "campaign": "Sales"}, 2.0)
        assert reply["ok"] and [c["campaign"] for c in reply["campaigns"]] == ["Sales"]
        refused = await bus.request("oc.commands", {"type": "stats.snapshot", "window": "week"}, 2.0)
        assert refused["ok"] is False and "week" in refused["error"]
        for _ in range(200):
            if len({m["campaign"] for m in pushed}) == 2:
                break
            await asyncio.sleep(0.01)
        sales = next(m for m in pushed if m["campaign"] == "Sales")
        assert (sales["offered"], sales["entered"], sales["waiting"]) == (3, 3, 1)
    finally:
        await live.stop()
        await bus.close()

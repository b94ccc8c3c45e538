"""Statistics end to end: calls through the harness, figures read from the admin API's /stats routes.

The Stasis service runs on this test's event loop; the Flask app runs in a worker thread and reaches
the service's bus through a small adapter that hands each request to that loop, as the embedded mode's
bus thread does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from admin_api.app import create_app
from admin_api.config import ApiConfig
from bus import InProcessBus, Message
from datastore.database import session_factory
from datastore.models import User
from datastore.passwords import hash_password
from harness.base import Behaviour, CallHarness

from .conftest import Starter, add_campaign

SUPERVISOR = ("stats-e2e-sup", "sup-pass-123")


class LoopBus:
    """The API's blocking bus calls, run on the loop that owns ``bus``."""

    def __init__(self, bus: InProcessBus, loop: asyncio.AbstractEventLoop) -> None:
        self.bus = bus
        self.loop = loop

    def publish(self, channel: str, message: Message) -> object:
        return asyncio.run_coroutine_threadsafe(self.bus.publish(channel, message), self.loop).result(5)

    def request(self, channel: str, message: Message, timeout: float) -> dict[str, Any]:
        future = asyncio.run_coroutine_threadsafe(self.bus.request(channel, message, timeout), self.loop)
        return future.result(timeout + 1)


def add_supervisor(engine: Engine) -> None:
    with Session(engine) as session:
        if session.scalar(select(User).where(User.username == SUPERVISOR[0])) is None:
            session.add(
                User(
                    username=SUPERVISOR[0],
                    password_hash=hash_password(SUPERVISOR[1]),
                    fullname="Stats Supervisor",
                    role="supervisor",
                )
            )
            session.commit()


async def get_json(client: FlaskClient, url: str, headers: dict[str, str]) -> Any:
    response = await asyncio.to_thread(client.get, url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


async def test_api_statistics_follow_real_calls(
    harness: CallHarness, db_engine: Engine, mariadb_url: str, start_system: Starter
) -> None:
    add_campaign(
        session_factory(db_engine),
        "Stats",
        "7700",
        [("agent1", harness.phone_endpoint("1071"))],
        servicelevel=20,
        thresholds="40-80-20",
    )
    add_supervisor(db_engine)
    await harness.register_phone("1071", Behaviour("answer"))
    system = await start_system()
    app = create_app(
        ApiConfig.from_mapping({"database_url": mariadb_url, "bus_timeout_seconds": 5.0}),
        bus=LoopBus(system.bus, asyncio.get_running_loop()),
        sessions=session_factory(db_engine),
    )
    client = app.test_client()
    login = await asyncio.to_thread(
        client.post, "/api/v1/auth/token", json={"username": SUPERVISOR[0], "password": SUPERVISOR[1]}
    )
    headers = {"Authorization": f"Basic {login.get_json()['token']}"}
    await system.login("agent1", "1071")

    # One call answered by the agent and ended by the caller.
    answered = await harness.place_call("7700", "5550001")
    await system.wait_event("call.connected", callid=answered.channel_id, agent="agent1")
    during = await get_json(client, "/api/v1/stats/campaigns/Stats", headers)
    assert (during["offered"], during["answered"], during["talking"], during["waiting"]) == (1, 1, 1, 0)
    await harness.hangup(answered)
    await system.wait_event("call.ended", callid=answered.channel_id)

    # With the agent logged off, a second caller waits and gives up.
    reply = await system.command({"type": "agent.logoff", "agent": "agent1", "interface": "", "message": ""})
    assert reply["ok"], reply
    gave_up = await harness.place_call("7700", "5550002")
    await system.wait_event("call.entered", callid=gave_up.channel_id)
    waiting = await get_json(client, "/api/v1/stats/campaigns/Stats", headers)
    assert (waiting["offered"], waiting["waiting"]) == (2, 1)
    await harness.hangup(gave_up)
    await system.wait_event("call.abandoned", callid=gave_up.channel_id)

    stats = await get_json(client, "/api/v1/stats/campaigns/Stats?window=start", headers)
    assert (stats["offered"], stats["answered"], stats["abandoned"], stats["waiting"]) == (2, 1, 1, 0)
    assert (stats["handled"], stats["talking"], stats["threshold"], stats["thresholds"]) == (
        1,
        0,
        20,
        "40-80-20",
    )
    assert (stats["answered_in_threshold"], stats["abandoned_in_threshold"]) == (1, 1)
    # Default formula: the short abandon is left out, so 1 / (1 + 1 - 1).
    assert stats["service_level"] == 1.0 and stats["service_levels"]["offered"] == 0.5
    assert stats["asa"] is not None and 0 <= stats["asa"] <= 20
    assert stats["aht"] is not None and stats["aht"] >= 0
    offered = await get_json(client, "/api/v1/stats/campaigns?formula=offered", headers)
    [listed] = [c for c in offered["campaigns"] if c["campaign"] == "Stats"]
    assert (listed["formula"], listed["service_level"]) == ("offered", 0.5)
    agents = await get_json(client, "/api/v1/stats/agents", headers)
    [agent] = [a for a in agents["agents"] if a["agent"] == "agent1"]
    assert (agent["state"], agent["calls"], agent["handled"]) == ("disconnected", 1, 1)
    assert agent["talk_time"] >= 0 and agent["logged_in_time"] > 0

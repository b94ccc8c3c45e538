"""More campaign parameters end to end (timeoutrestart, retry, weight, ringinuse, wrap-up at member
level and across campaigns, caller priority from the dialplan, holidays) and the queue_log rows of
the queueing system itself (QUEUESTART, CREATEDQUEUE, ADDMEMBER, REMOVEMEMBER), in MariaDB."""

from __future__ import annotations

import asyncio
import math
from datetime import date

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from bus import messages
from datastore.models import CampaignMember, Holiday
from harness.asterisk_backend import AsteriskHarness
from harness.base import CAUSE_BUSY, Behaviour, CallHarness, has_heard
from harness.sim_backend import SimHarness

from .conftest import Starter, System
from .test_campaign_parameters import events, wait_rows
from .test_inbound_calls import CLEAN, call_in, setup_campaign


def time_scale(harness: CallHarness) -> float:
    """Real seconds per second of the server's clock (a simulator rings faster than real time)."""
    if isinstance(harness, SimHarness) and harness.server is not None:
        return harness.server.settings.time_scale
    if isinstance(harness, AsteriskHarness):
        return harness.time_scale
    return 1.0


def ring_seconds(harness: CallHarness, real: float) -> int:
    """A campaign ring ``timeout`` that makes a phone ring about ``real`` seconds."""
    return max(1, math.ceil(real / time_scale(harness)))


def add_member(engine: Engine, campaign: str, agent: str, interface: str, **columns: object) -> None:
    with Session(engine) as session:
        session.add(CampaignMember(queue_name=campaign, membername=agent, interface=interface, **columns))
        session.commit()


def ringing_for(system: System, callid: str) -> list[str]:
    return [e["agent"] for e in system.events if e["type"] == "call.ringing" and e["callid"] == callid]


async def stays_unoffered(system: System, callid: str, seconds: float = 0.5) -> None:
    """The waiting caller is not offered to anyone for a while."""
    await asyncio.sleep(seconds)
    assert ringing_for(system, callid) == [], system.events


# timeoutrestart ------------------------------------------------------------------------------------


@pytest.mark.parametrize("restart", [True, False])
async def test_timeoutrestart_gives_the_next_member_a_full_ring(
    harness: CallHarness, db_engine: Engine, start_system: Starter, restart: bool
) -> None:
    """A member busy after 1.2 s of a 3 s attempt: the next member rings the whole 3 s again with
    ``timeoutrestart``, only what is left of the attempt without it."""
    timeout = ring_seconds(harness, 3.0)
    members = [("agent1", harness.phone_endpoint("1101")), ("agent2", harness.phone_endpoint("1102"))]
    setup_campaign(
        db_engine, "Restart", "7701", members, strategy="linear", timeout=timeout, timeoutrestart=restart
    )
    await harness.register_phone("1101", Behaviour("ring"))
    await harness.register_phone("1102", Behaviour("ring"))
    system = await start_system()
    await system.login("agent1", "1101")
    await system.login("agent2", "1102")

    caller = await call_in(system, "7701")
    first = await harness.wait_for_ringing("1101")
    await asyncio.sleep(1.2)
    await harness.hangup(first, cause=CAUSE_BUSY)
    await harness.wait_for_ringing("1102")
    rows = await wait_rows(system, caller.channel_id, "RINGNOANSWER", within=10)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while [r[2] for r in rows if r[0] == "RINGNOANSWER"] != ["agent1", "agent2"] and loop.time() < deadline:
        await asyncio.sleep(0.1)
        await system.flush()
        rows = system.queue_log(caller.channel_id)
    rings = [r for r in rows if r[0] == "RINGNOANSWER"]
    assert [r[2] for r in rings[:2]] == ["agent1", "agent2"], rows
    busy_ms, second_ms = int(rings[0][3]), int(rings[1][3])
    assert busy_ms < timeout * 1000
    if restart:
        assert second_ms == timeout * 1000, rows
    else:
        assert second_ms < timeout * 1000, rows
    await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN


# retry ---------------------------------------------------------------------------------------------


async def test_retry_pauses_between_attempts(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine,
        "Retry",
        "7702",
        [("agent1", harness.phone_endpoint("1103"))],
        timeout=ring_seconds(harness, 0.5),
        retry=2,
    )
    await harness.register_phone("1103", Behaviour("ring"))
    system = await start_system()
    await system.login("agent1", "1103")

    caller = await call_in(system, "7702")
    await harness.wait_for_ringing("1103")
    await wait_rows(system, caller.channel_id, "RINGNOANSWER")
    loop = asyncio.get_running_loop()
    ring_ended = loop.time()
    await harness.wait_for_ringing("1103", within=10)
    assert loop.time() - ring_ended >= 1.8  # retry=2: no new attempt before the pause is over
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "ABANDON")
    assert events(rows)[:2] == ["ENTERQUEUE", "RINGNOANSWER"] and events(rows)[-1] == "ABANDON", rows
    assert await harness.wait_no_strays() == CLEAN


# weight --------------------------------------------------------------------------------------------


async def test_weight_serves_the_heavier_campaign_first(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    phone = harness.phone_endpoint("1104")
    setup_campaign(db_engine, "Light", "7703", [("agent1", phone)], weight=0)
    setup_campaign(db_engine, "Heavy", "7704", [("agent1", phone)], weight=10)
    await harness.register_phone("1104", Behaviour("answer"))
    system = await start_system()

    light = await call_in(system, "7703")
    await system.wait_event("call.entered", callid=light.channel_id)
    heavy = await harness.place_call("7704", "5553333")
    await system.wait_event("call.entered", callid=heavy.channel_id)
    await system.login("agent1", "1104")  # free now: both campaigns want it
    await system.wait_event("call.connected", callid=heavy.channel_id, agent="agent1")
    assert ringing_for(system, light.channel_id) == []
    await harness.hangup(heavy)
    await system.wait_event("call.connected", callid=light.channel_id, agent="agent1", within=10)
    await harness.hangup(light)
    heavy_rows = await wait_rows(system, heavy.channel_id, "COMPLETECALLER")
    light_rows = await wait_rows(system, light.channel_id, "COMPLETECALLER")
    assert events(heavy_rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], heavy_rows
    assert events(light_rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], light_rows
    # The light caller waited through the heavy caller's whole call.
    assert int(light_rows[1][3]) >= int(heavy_rows[1][3])
    assert await harness.wait_no_strays() == CLEAN


# ringinuse -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("ringinuse", [False, True])
async def test_ringinuse_decides_whether_a_busy_agent_rings(
    harness: CallHarness, db_engine: Engine, start_system: Starter, ringinuse: bool
) -> None:
    setup_campaign(
        db_engine, "InUse", "7705", [("agent1", harness.phone_endpoint("1105"))], ringinuse=ringinuse
    )
    await harness.register_phone("1105", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1105")

    first = await call_in(system, "7705")
    await system.wait_event("call.connected", callid=first.channel_id, agent="agent1")
    await harness.set_phone_behaviour("1105", Behaviour("ring"))
    second = await harness.place_call("7705", "5554444")
    await system.wait_event("call.entered", callid=second.channel_id)
    if ringinuse:
        await harness.wait_for_ringing("1105")
        await system.wait_event("call.ringing", callid=second.channel_id, agent="agent1")
    else:
        await stays_unoffered(system, second.channel_id)
        await harness.hangup(first)  # the agent is free again: now it rings
        await system.wait_event("call.ringing", callid=second.channel_id, agent="agent1", within=10)
    await harness.hangup(second)
    if ringinuse:
        await harness.hangup(first)
    rows = await wait_rows(system, second.channel_id, "ABANDON")
    assert events(rows) == ["ENTERQUEUE", "RINGCANCELED", "ABANDON"], rows
    assert await harness.wait_no_strays() == CLEAN


# wrap-up -------------------------------------------------------------------------------------------


async def test_member_wrapuptime_overrides_the_campaign(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "MemWrap", "7706", [], wrapuptime=0)
    add_member(db_engine, "MemWrap", "agent1", harness.phone_endpoint("1106"), wrapuptime=30)
    await harness.register_phone("1106", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1106")

    first = await call_in(system, "7706")
    await system.wait_event("call.connected", callid=first.channel_id)
    await harness.hangup(first)
    await system.wait_event("agent.state", agent="agent1", state="wrap-up")
    second = await harness.place_call("7706", "5556666")
    await system.wait_event("call.entered", callid=second.channel_id)
    await stays_unoffered(system, second.channel_id)
    reply = await system.command({"type": "agent.finish_wrapup", "agent": "agent1"})
    assert reply["ok"] and 25 <= reply["timeleft"] <= 30, reply
    await system.wait_event("call.connected", callid=second.channel_id, agent="agent1")
    await harness.hangup(second)
    rows = await wait_rows(system, second.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert await harness.wait_no_strays() == CLEAN


async def test_wrapuptime_is_shared_across_campaigns(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    """The wrap-up of the campaign the last call came from holds the agent in every campaign."""
    phone = harness.phone_endpoint("1107")
    setup_campaign(db_engine, "WrapA", "7707", [("agent1", phone)], wrapuptime=30)
    setup_campaign(db_engine, "WrapB", "7708", [("agent1", phone)], wrapuptime=0)
    await harness.register_phone("1107", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1107")

    first = await call_in(system, "7707")
    await system.wait_event("call.connected", callid=first.channel_id)
    await harness.hangup(first)
    await system.wait_event("agent.state", agent="agent1", state="wrap-up")
    other = await harness.place_call("7708", "5557777")
    await system.wait_event("call.entered", callid=other.channel_id)
    await stays_unoffered(system, other.channel_id)
    reply = await system.command({"type": "agent.finish_wrapup", "agent": "agent1"})
    assert reply["ok"], reply
    await system.wait_event("call.connected", callid=other.channel_id, agent="agent1")
    await harness.hangup(other)
    rows = await wait_rows(system, other.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert rows[0][1] == "WrapB"
    assert await harness.wait_no_strays() == CLEAN


# caller priority through the shipped dialplan --------------------------------------------------------


async def test_queue_prio_from_the_dialplan_goes_ahead(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "PrioDp", "7709", [("agent1", harness.phone_endpoint("1108"))])
    await harness.register_phone("1108", Behaviour("answer"))
    system = await start_system()

    plain = await call_in(system, "7709")
    await system.wait_event("call.entered", callid=plain.channel_id)
    # [harness-priority] sets QUEUE_PRIO=9 and goes to the project's [from-trunk].
    urgent = await harness.place_call("7709", "5550009", context="harness-priority")
    entered = await system.wait_event("call.entered", callid=urgent.channel_id)
    assert entered["position"] == 1
    await system.login("agent1", "1108")
    await system.wait_event("call.connected", callid=urgent.channel_id, agent="agent1")
    assert ringing_for(system, plain.channel_id) == []
    await harness.hangup(urgent)
    await system.wait_event("call.connected", callid=plain.channel_id, agent="agent1", within=10)
    await harness.hangup(plain)
    rows = await wait_rows(system, urgent.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert rows[0][5] == "1"  # it entered ahead of the caller already waiting
    plain_rows = await wait_rows(system, plain.channel_id, "COMPLETECALLER")
    assert events(plain_rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], plain_rows
    assert await harness.wait_no_strays() == CLEAN


# holidays ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["campaign", "every campaign"])
async def test_a_holiday_gets_the_out_of_hours_treatment(
    harness: CallHarness, db_engine: Engine, start_system: Starter, scope: str
) -> None:
    setup_campaign(
        db_engine, "Feast", "7710", [("agent1", harness.phone_endpoint("1109"))], outofhours="vm-goodbye"
    )
    with Session(db_engine) as session:
        campaign = "Feast" if scope == "campaign" else ""
        session.add(Holiday(day=date.today(), campaign=campaign, description="closed today"))
        session.add(Holiday(day=date(2000, 1, 1), campaign="Feast", description="long ago"))
        session.commit()
    await harness.register_phone("1109", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1109")

    caller = await call_in(system, "7710")
    await harness.wait_heard(caller, has_heard("playback", media="sound:vm-goodbye"))
    assert await harness.wait_no_strays() == CLEAN  # no mailbox: hung up after the audio
    await asyncio.sleep(0.2)
    await system.flush()
    assert system.queue_log(caller.channel_id) == []
    assert ringing_for(system, caller.channel_id) == []

    # The holiday removed and the campaign reloaded: open again.
    with Session(db_engine) as session:
        session.execute(delete(Holiday))
        session.commit()
    reply = await system.command(messages.campaigns_reload(None))
    assert reply["ok"], reply
    again = await call_in(system, "7710")
    await system.wait_event("call.connected", callid=again.channel_id, agent="agent1")
    await harness.hangup(again)
    assert await harness.wait_no_strays() == CLEAN


# rows of the queueing system itself ------------------------------------------------------------------


async def test_queuestart_createdqueue_and_member_rows(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "First", "7711", [("agent1", harness.phone_endpoint("1110"))])
    system = await start_system()
    await system.flush()
    assert system.system_log() == [
        ("QUEUESTART", "NONE", "NONE", "NONE", ""),
        ("ADDMEMBER", "REALTIME", "First", "agent1", ""),
    ]

    setup_campaign(db_engine, "Second", "7712", [("agent2", harness.phone_endpoint("1111"))])
    with Session(db_engine) as session:
        session.execute(delete(CampaignMember).where(CampaignMember.membername == "agent1"))
        session.commit()
    reply = await system.command(messages.campaigns_reload(None))
    assert reply["ok"], reply
    await system.flush()
    assert system.system_log()[2:] == [
        ("CREATEDQUEUE", "REALTIME", "Second", "NONE", ""),
        ("ADDMEMBER", "REALTIME", "Second", "agent2", ""),
        ("REMOVEMEMBER", "REALTIME", "First", "agent1", ""),
    ]
    # Reloading again changes nothing, so it writes nothing.
    assert (await system.command(messages.campaigns_reload(None)))["ok"]
    await system.flush()
    assert len(system.system_log()) == 5

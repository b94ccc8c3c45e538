"""Calls agents place through an outbound campaign (``call.dial``) and parked calls they take back
(``call.retrieve``), end to end, with the OUTCALL queue_log row and the CDR row read back from MariaDB.

agent1 (phone 1001) and agent2 (phone 1002) are logged in to the inbound "Sales"; "Outbound" is an
outbound campaign whose dial string rings the harness's phones, so the customer is phone 5550123.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from datastore.models import Campaign, Cdr
from harness.base import Behaviour, CallHarness, FarEnd, has_heard

from .conftest import CLEAN, Starter, System

NUMBER = "5550123"
CALLER_ID = "29000"
OUTBOUND = "Outbound"


def add_outbound(engine: Engine, harness: CallHarness, *, wrapuptime: int = 0) -> None:
    with Session(engine) as session:
        session.add(
            Campaign(
                name=OUTBOUND,
                did="29000",
                direction="outbound",
                strategy="rrmemory",
                timeout=15,
                retry=0,
                wrapuptime=wrapuptime,
                schedule="sun-sat;00:00-23:59",
                musiconhold="default",
                dialstring=harness.phone_endpoint("{number}"),
                callerid=f"{CALLER_ID}\n55#5551-00-99",
                auto_answer=True,
            )
        )
        session.commit()


async def two_agents(
    harness: CallHarness,
    start_system: Starter,
    db_engine: Engine,
    customer: Behaviour,
    *,
    wrapuptime: int = 0,
) -> System:
    await harness.register_phone("1001", Behaviour("answer"))
    await harness.register_phone("1002", Behaviour("answer"))
    await harness.register_phone(NUMBER, customer)
    add_outbound(db_engine, harness, wrapuptime=wrapuptime)
    system = await start_system(
        campaigns={"Sales": ("7800", {"agent1": "1001"}), "Support": ("7801", {"agent2": "1002"})}
    )
    await system.login("agent1", "1001")
    await system.login("agent2", "1002")
    return system


def dial(agent: str = "agent1", campaign: str = OUTBOUND, **extra: Any) -> dict[str, Any]:
    return {"type": "call.dial", "agent": agent, "number": NUMBER, "campaign": campaign, **extra}


def cdr_of(engine: Engine, guid: str) -> list[Cdr]:
    with Session(engine) as session:
        return list(session.scalars(select(Cdr).where(Cdr.guid == guid)).all())


async def no_strays(system: System) -> None:
    assert await system.harness.wait_no_strays(8.0) == CLEAN
    outbound = system.service.outbound
    assert outbound is not None and not outbound.calls and not outbound.retrievals


async def test_dialed_call_is_answered_bridged_and_recorded(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("answer"), wrapuptime=30)
    reply = await system.command(dial())
    # The number starts with 55: the prefixed rule gives 5551 and a number of 00-99.
    assert reply["ok"] and re.fullmatch(r"5551\d\d", reply["callerid"]), reply
    assert reply["campaign"] == OUTBOUND, reply
    callid, guid = reply["callid"], reply["guid"]
    await system.wait_event(
        "call.dialing", callid=callid, agent="agent1", number=NUMBER, direction="outbound"
    )
    agent_leg = await harness.wait_for_ringing("1001")
    customer = await harness.wait_for_ringing(NUMBER)
    await system.wait_event("agent.state", agent="agent1", state="busy")
    await system.wait_event("call.connected", callid=callid, agent="agent1", caller=NUMBER)
    await harness.wait_heard(customer, has_heard("bridged"))
    # While the agent talks, a second dial is refused and inbound calls are not offered to him.
    refused = await system.command(dial())
    assert not refused["ok"] and "agent1" in refused["error"], refused
    desk = await system.command({"type": "agent.session", "agent": "agent1"})
    assert desk["session"]["call"]["direction"] == "outbound", desk
    assert desk["session"]["call"]["guid"] == guid, desk
    await harness.hangup(customer)
    ended = await system.wait_event("call.ended", callid=callid)
    assert ended["ended_by"] == "customer" and ended["dialstatus"] == "ANSWER", ended
    await system.wait_event("agent.state", agent="agent1", state="wrap-up")
    rows = await system.wait_rows(callid, "OUTCALL")
    assert len(rows) == 1, rows
    event, queue, agent, status, duration, total, number, row_guid = rows[0]
    assert (event, queue, agent, status, number, row_guid) == (
        "OUTCALL",
        OUTBOUND,
        "agent1",
        "ANSWER",
        NUMBER,
        guid,
    )
    assert duration.isdigit() and total.isdigit() and int(total) >= int(duration), rows
    cdrs = cdr_of(db_engine, guid)
    assert len(cdrs) == 1, cdrs
    cdr = cdrs[0]
    assert (cdr.campaign, cdr.src, cdr.dst, cdr.disposition, cdr.clid, cdr.uniqueid) == (
        OUTBOUND,
        "agent1",
        NUMBER,
        "ANSWERED",
        reply["callerid"],
        callid,
    )
    assert agent_leg.channel_id == callid
    await no_strays(system)


async def test_busy_customer_writes_outcall_busy(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("busy"))
    mark = len(system.events)
    reply = await system.command(dial(callerid=CALLER_ID))
    assert reply["ok"] and reply["callerid"] == CALLER_ID, reply
    ended = await system.wait_event("call.ended", callid=reply["callid"])
    assert ended["dialstatus"] == "BUSY" and ended["ended_by"] == "customer", ended
    rows = await system.wait_rows(reply["callid"], "OUTCALL")
    assert [r[:5] for r in rows] == [("OUTCALL", OUTBOUND, "agent1", "BUSY", "0")], rows
    assert rows[0][6:] == (NUMBER, reply["guid"]), rows
    cdrs = cdr_of(db_engine, reply["guid"])
    assert [(c.disposition, c.billsec, c.dst) for c in cdrs] == [("BUSY", 0, NUMBER)], cdrs
    await event_after(system, mark, "agent.state", agent="agent1", state="free")
    await no_strays(system)


async def test_dial_refusals_say_why(harness: CallHarness, start_system: Starter, db_engine: Engine) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("answer"))
    cases = [
        (dial(campaign="Nowhere"), "unknown campaign"),
        (dial(campaign="Sales"), "not an outbound campaign"),
        (dial(agent="ghost"), "not logged in"),
        (dial(callerid="12345"), "caller ID 12345"),
        ({**dial(), "number": "12ab"}, "not a number"),
    ]
    for message, reason in cases:
        reply = await system.command(message)
        assert not reply["ok"] and reason in reply["error"], (message, reply)
    paused = await system.command(
        {"type": "agent.pause", "agent": "agent1", "paused": True, "reason": "LUNCH"}
    )
    assert paused["ok"], paused
    reply = await system.command(dial())
    assert not reply["ok"] and reply["error"] == "agent agent1 is not free (paused)", reply
    assert await system.harness.wait_no_strays(5.0) == CLEAN
    outbound = system.service.outbound
    assert outbound is not None and not outbound.calls


async def test_agent_retrieves_a_parked_call(
    harness: CallHarness, start_system: Starter, db_engine: Engine
) -> None:
    system = await two_agents(harness, start_system, db_engine, Behaviour("answer"))
    empty = await system.command({"type": "call.retrieve", "agent": "agent2", "slot": 701})
    assert empty == {"ok": False, "error": "slot 701 is empty"}, empty
    customer = await system.call_in("7800")
    await harness.wait_for_ringing("1001")
    await system.wait_event("call.connected", callid=customer.channel_id, agent="agent1")
    await wait_conversation(system, "agent1")
    parked = await system.command({"type": "call.park", "agent": "agent1"})
    assert parked == {"ok": True, "slot": 701}, parked
    reply = await system.command({"type": "call.retrieve", "agent": "agent2", "slot": "701"})
    assert reply["ok"] and reply["slot"] == 701, reply
    retriever = await harness.wait_for_ringing("1002")
    await bridged_with(harness, customer, retriever)
    await system.wait_event("agent.state", agent="agent2", state="busy")
    parking = system.service.phones.parking
    assert parking is not None and parking.slots() == {}  # type: ignore[attr-defined]
    # agent2 may now use the features on the retrieved call, as on any other.
    await wait_conversation(system, "agent2")
    mark = len(system.events)
    await harness.hangup(customer)
    await event_after(system, mark, "agent.state", agent="agent2", state="free")
    await no_strays(system)


async def event_after(system: System, mark: int, kind: str, within: float = 10.0, **fields: Any) -> None:
    """Wait for an event published after the first ``mark`` events."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(
        e["type"] == kind and all(e.get(k) == v for k, v in fields.items()) for e in system.events[mark:]
    ):
        assert loop.time() < deadline, f"no {kind} {fields} after event {mark}: {system.events[mark:]}"
        await asyncio.sleep(0.02)


async def wait_conversation(system: System, agent: str, within: float = 10.0) -> None:
    incall = system.service.incall
    assert incall is not None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not any(
        not conv.over and any(p.agent == agent for p in conv.parties)
        for conv in incall.conversations.values()
    ):
        assert loop.time() < deadline, f"no conversation of {agent}"
        await asyncio.sleep(0.02)


async def bridged_with(harness: CallHarness, far_end: FarEnd, other: FarEnd, within: float = 10.0) -> None:
    def holds(items: list[dict[str, Any]]) -> bool:
        return any(
            item.get("kind") == "bridged" and other.channel_id in (item.get("with") or []) for item in items
        )

    await harness.wait_heard(far_end, holds, within)

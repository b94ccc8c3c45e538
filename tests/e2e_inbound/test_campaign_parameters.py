"""One scenario per campaign parameter, end to end: the product's service against the harness, with the
queue_log rows it leaves in MariaDB (Asterisk's event names and data fields)."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import Engine

from bus import messages
from harness.base import Behaviour, CallHarness, has_heard

from .conftest import Starter, System
from .test_inbound_calls import CALLER, CLEAN, call_in, is_int, setup_campaign


def events(rows: list[tuple[str, ...]]) -> list[str]:
    return [r[0] for r in rows]


async def wait_rows(system: System, callid: str, last: str, within: float = 10.0) -> list[tuple[str, ...]]:
    """The call's rows once ``last`` is among them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await system.flush()
        rows = system.queue_log(callid)
        if last in events(rows) or loop.time() >= deadline:
            return rows
        await asyncio.sleep(0.05)


async def wait_agent_rows(
    system: System, agent: str, last: str, within: float = 10.0
) -> list[tuple[str, ...]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await system.flush()
        rows = system.agent_log(agent)
        if last in events(rows) or loop.time() >= deadline:
            return rows
        await asyncio.sleep(0.05)


async def test_joinempty_refuses_and_logs_nothing(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Empty", "7500", [("agent1", harness.phone_endpoint("1051"))], joinempty="strict"
    )
    system = await start_system()  # nobody logged in: the campaign is empty under "strict"

    caller = await call_in(system, "7500")
    assert await harness.wait_no_strays() == CLEAN  # hung up (no mailbox: the fall-through is hang-up)
    await asyncio.sleep(0.2)
    await system.flush()
    assert system.queue_log(caller.channel_id) == []  # app_queue writes no row for JOINEMPTY
    [cdr] = system.cdrs(caller.channel_id)
    assert (cdr.campaign, cdr.lastapp, cdr.userfield) == ("Empty", "Queue", "JOINEMPTY")


async def test_maxlen_turns_the_next_caller_away(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Small", "7510", [("agent1", harness.phone_endpoint("1052"))], maxlen=1)
    system = await start_system()

    first = await call_in(system, "7510")
    await system.wait_event("call.entered", callid=first.channel_id)
    second = await harness.place_call("7510", "5559999")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while loop.time() < deadline and not system.cdrs(second.channel_id):
        await system.flush()
        await asyncio.sleep(0.05)
    [cdr] = system.cdrs(second.channel_id)
    assert cdr.userfield == "FULL"
    assert system.queue_log(second.channel_id) == []
    await harness.hangup(first)
    rows = await wait_rows(system, first.channel_id, "ABANDON")
    assert events(rows) == ["ENTERQUEUE", "ABANDON"], rows
    assert await harness.wait_no_strays() == CLEAN


async def test_leavewhenempty_exits_with_exitempty(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Leave", "7520", [("agent1", harness.phone_endpoint("1053"))], leavewhenempty="strict"
    )
    system = await start_system()

    caller = await call_in(system, "7520")
    rows = await wait_rows(system, caller.channel_id, "EXITEMPTY")
    assert events(rows) == ["ENTERQUEUE", "EXITEMPTY"], rows
    assert rows[1][:5] == ("EXITEMPTY", "Leave", "NONE", "1", "1") and is_int(rows[1][5])
    assert await harness.wait_no_strays() == CLEAN


async def test_queue_timeout_exits_with_exitwithtimeout(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Slow", "7530", [("agent1", harness.phone_endpoint("1054"))], queue_timeout=1)
    system = await start_system()

    caller = await call_in(system, "7530")
    rows = await wait_rows(system, caller.channel_id, "EXITWITHTIMEOUT")
    assert events(rows) == ["ENTERQUEUE", "EXITWITHTIMEOUT"], rows
    _event, queue, agent, position, origposition, waittime = rows[1]
    assert (queue, agent, position, origposition) == ("Slow", "NONE", "1", "1")
    assert int(waittime) >= 1
    assert await harness.wait_no_strays() == CLEAN
    [cdr] = system.cdrs(caller.channel_id)
    assert cdr.userfield == "TIMEOUT"


async def test_exit_key_leaves_with_exitwithkey(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Keys", "7540", [("agent1", harness.phone_endpoint("1055"))], context="stasis-return"
    )
    system = await start_system()

    caller = await call_in(system, "7540")
    await system.wait_event("call.entered", callid=caller.channel_id)
    await harness.press(caller, "5")
    rows = await wait_rows(system, caller.channel_id, "EXITWITHKEY")
    assert events(rows) == ["ENTERQUEUE", "EXITWITHKEY"], rows
    assert rows[1][:6] == ("EXITWITHKEY", "Keys", "NONE", "5", "1", "1")
    with contextlib.suppress(Exception):  # the dialplan may have ended the call already
        await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN


async def test_memberdelay_connects_after_the_delay(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Delay", "7550", [("agent1", harness.phone_endpoint("1056"))], memberdelay=1)
    await harness.register_phone("1056", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1056")

    caller = await call_in(system, "7550")
    phone = await harness.wait_for_ringing("1056")
    loop = asyncio.get_running_loop()
    answered = loop.time()
    await system.wait_event("call.connected", callid=caller.channel_id)
    assert loop.time() - answered >= 0.9
    await harness.wait_heard(phone, has_heard("bridged"))
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert await harness.wait_no_strays() == CLEAN


async def test_autopause_after_no_answer(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Auto", "7560", [("agent1", harness.phone_endpoint("1057"))], timeout=1, autopause="yes"
    )
    await harness.register_phone("1057", Behaviour("ring"))
    system = await start_system()
    await system.login("agent1", "1057")

    caller = await call_in(system, "7560")
    await harness.wait_for_ringing("1057")
    agent_rows = await wait_agent_rows(system, "agent1", "PAUSE")
    assert ("PAUSE", "NONE", "Auto", "Auto-Pause", "") in agent_rows, agent_rows
    await asyncio.sleep(0.5)  # retry=0: an agent not paused would ring again at once
    rows = await wait_rows(system, caller.channel_id, "RINGNOANSWER")
    assert events(rows) == ["ENTERQUEUE", "RINGNOANSWER"], rows
    reply = await system.command(messages.status_snapshot())
    [agent] = [a for a in reply["agents"] if a["agent"] == "agent1"]
    assert agent["call"] is None
    await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN


async def test_ringall_rings_every_agent_at_once(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    members = [("agent1", harness.phone_endpoint("1061")), ("agent2", harness.phone_endpoint("1062"))]
    setup_campaign(db_engine, "All", "7570", members, strategy="ringall", timeout=10)
    await harness.register_phone("1061", Behaviour("ring"))
    await harness.register_phone("1062", Behaviour("answer", answer_after=0.5))
    system = await start_system()
    await system.login("agent1", "1061")
    await system.login("agent2", "1062")

    caller = await call_in(system, "7570")
    await harness.wait_for_ringing("1061")
    await harness.wait_for_ringing("1062")
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent2")
    await system.wait_event("agent.state", agent="agent1", state="free")
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "COMPLETECALLER")
    # The phone that lost the race is just hung up: app_queue logs nothing for it.
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert rows[1][2] == "agent2"
    assert await harness.wait_no_strays() == CLEAN


async def test_breaks_with_motive(harness: CallHarness, db_engine: Engine, start_system: Starter) -> None:
    setup_campaign(db_engine, "Brk", "7580", [("agent1", harness.phone_endpoint("1063"))])
    system = await start_system()
    await system.login("agent1", "1063")

    reply = await system.command(
        {"type": "agent.pause", "agent": "agent1", "paused": True, "reason": "LUNCH"}
    )
    assert reply["ok"] and reply["status"] == "free on break", reply
    reply = await system.command({"type": "agent.pause", "agent": "agent1", "paused": False, "reason": ""})
    assert reply["ok"] and reply["status"] == "free", reply
    rows = await wait_agent_rows(system, "agent1", "UNBREAK")
    assert [r[0] for r in rows] == [
        "AGENTLOGIN",
        "PAUSEALL",
        "PAUSE",
        "REALPAUSE",
        "BREAK",
        "UNPAUSEALL",
        "UNPAUSE",
        "REALUNPAUSE",
        "UNBREAK",
    ], rows
    assert rows[4][3] == "LUNCH" and rows[8][3] == "LUNCH"


async def test_wrapup_and_finishwrapup(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Wrap", "7590", [("agent1", harness.phone_endpoint("1064"))], wrapuptime=30)
    await harness.register_phone("1064", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1064")

    caller = await call_in(system, "7590")
    await harness.wait_for_ringing("1064")
    await system.wait_event("call.connected", callid=caller.channel_id)
    await harness.hangup(caller)
    await system.wait_event("agent.state", agent="agent1", state="wrap-up")
    second = await harness.place_call("7590", "5558888")
    await system.wait_event("call.entered", callid=second.channel_id)
    await asyncio.sleep(0.3)
    assert not [e for e in system.events if e["type"] == "call.ringing" and e["callid"] == second.channel_id]
    reply = await system.command({"type": "agent.finish_wrapup", "agent": "agent1"})
    assert reply["ok"] and 25 <= reply["timeleft"] <= 30, reply
    await harness.wait_for_ringing("1064")  # free again: the waiting caller is offered at once
    await system.wait_event("call.connected", callid=second.channel_id)
    rows = await wait_agent_rows(system, "agent1", "FINISHWRAPUP")
    [finish] = [r for r in rows if r[0] == "FINISHWRAPUP"]
    assert finish[2] == "Wrap" and 25 <= int(finish[3]) <= 30
    await harness.hangup(second)
    assert await harness.wait_no_strays() == CLEAN


async def test_position_announcement_heard(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine,
        "Ann",
        "7600",
        [("agent1", harness.phone_endpoint("1065"))],
        announce_frequency=30,
        announce_position="yes",
        announce_holdtime="no",
    )
    system = await start_system()

    first = await call_in(system, "7600")
    await harness.wait_heard(first, has_heard("playback", media="sound:queue-youarenext"))
    second = await harness.place_call("7600", "5557777")
    heard = await harness.wait_heard(second, has_heard("playback", media="sound:queue-callswaiting"))
    media = [h.get("media") for h in heard if h.get("kind") == "playback"]
    start = media.index("sound:queue-thereare")
    assert media[start : start + 3] == ["sound:queue-thereare", "number:2", "sound:queue-callswaiting"], heard
    await harness.wait_heard(second, has_heard("playback", media="sound:queue-thankyou"))
    for far in (first, second):
        await harness.hangup(far)
    assert await harness.wait_no_strays() == CLEAN


async def test_periodic_announcement_heard(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine,
        "Per",
        "7610",
        [("agent1", harness.phone_endpoint("1066"))],
        periodic_announce="queue-periodic-announce",
        periodic_announce_frequency=1,
    )
    system = await start_system()

    caller = await call_in(system, "7610")
    loop = asyncio.get_running_loop()
    entered = loop.time()
    await harness.wait_heard(caller, has_heard("playback", media="sound:queue-periodic-announce"), within=6)
    assert loop.time() - entered >= 0.8  # one period after joining, not at once
    await harness.wait_heard(
        caller,
        lambda items: [i.get("media") for i in items].count("sound:queue-periodic-announce") >= 2,
        within=8,
    )
    await harness.hangup(caller)
    assert await harness.wait_no_strays() == CLEAN


async def test_virtual_hold_callback(harness: CallHarness, db_engine: Engine, start_system: Starter) -> None:
    setup_campaign(
        db_engine,
        "Vhold",
        "7620",
        [("agent1", harness.phone_endpoint("1067"))],
        virtual_hold=True,
        virtual_hold_key="*",
        dialstring=harness.phone_endpoint("{number}"),
    )
    await harness.register_phone("1067", Behaviour("answer"))
    await harness.register_phone(CALLER, Behaviour("answer"))
    system = await start_system()

    caller = await call_in(system, "7620")
    await system.wait_event("call.entered", callid=caller.channel_id)
    await harness.press(caller, "*")
    await system.wait_event("call.virtual_hold", callid=caller.channel_id)
    assert await harness.wait_no_strays() == CLEAN  # the line is released
    await system.login("agent1", "1067")
    callback = await harness.wait_for_ringing(CALLER, within=10)
    await harness.wait_for_ringing("1067", within=10)
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent1")
    await harness.hangup(callback)
    rows = await wait_rows(system, caller.channel_id, "COMPLETECALLER")
    assert events(rows) == [
        "ENTERQUEUE",
        "VIRTUALHOLD",
        "CALLBACK",
        "CALLBACKANSWER",
        "CONNECT",
        "COMPLETECALLER",
    ], rows
    assert rows[1][3:6] == ("*", "1", "1")
    assert await harness.wait_no_strays() == CLEAN
    assert len(system.cdrs(caller.channel_id)) == 1


async def test_caller_priority_goes_ahead(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Prio", "7630", [("agent1", harness.phone_endpoint("1068"))])
    await harness.register_phone("1068", Behaviour("answer"))
    await harness.register_phone("5550001", Behaviour("answer"))
    system = await start_system()

    plain = await call_in(system, "7630")
    await system.wait_event("call.entered", callid=plain.channel_id)
    # A carrier route that sets QUEUE_PRIO passes it as the Stasis argument after the DID.
    endpoint = harness.phone_endpoint("5550001")
    params = {"endpoint": endpoint, "app": "opencontact", "appArgs": "inbound,7630,5", "callerId": "5550001"}
    if endpoint.startswith("Local/"):
        params["formats"] = "ulaw"
    urgent = await harness.ari.post("/channels", params)
    urgent_id = str(urgent["id"])
    entered = await system.wait_event("call.entered", callid=urgent_id)
    assert entered["position"] == 1
    await system.login("agent1", "1068")
    await system.wait_event("call.connected", callid=urgent_id, agent="agent1")
    await harness.ari.delete(f"/channels/{urgent_id}")
    await system.wait_event("call.connected", callid=plain.channel_id, agent="agent1", within=10)
    await harness.hangup(plain)
    rows = await wait_rows(system, urgent_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert rows[0][5] == "1"
    plain_rows = await wait_rows(system, plain.channel_id, "COMPLETECALLER")
    assert plain_rows[0][5] == "1" and plain_rows[2][5] == "1"  # it joined first, at position 1
    assert await harness.wait_no_strays() == CLEAN

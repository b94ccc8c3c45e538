"""Inbound calls end to end: a caller dials a campaign's DID and the product puts it through.

Each test runs the product's Stasis service in-process against the harness (simulator, or a real
Asterisk with OC_ASTERISK_ARI_URL) and checks what the far ends heard, the queue_log rows and the one
CDR row per call in MariaDB, with Asterisk's event names and data fields.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime

from record_writer.tcp_proxy import TcpProxy
from sqlalchemy import Engine, make_url

from bus import messages
from datastore.database import session_factory
from datastore.models import Cdr
from harness.ari_client import AriRequestError
from harness.base import Behaviour, CallHarness, FarEnd, has_heard
from stasis_app.acd.schedule import DAY_NAMES

from .conftest import Starter, System, add_campaign

CLEAN: dict[str, list[str]] = {"channels": [], "bridges": []}
CALLER = "5551234"


def setup_campaign(
    engine: Engine, name: str, did: str, members: list[tuple[str, str]], **cols: object
) -> None:
    add_campaign(session_factory(engine), name, did, members, **cols)


def closed_schedule() -> str:
    """A schedule open only on the day after tomorrow: closed now."""
    return f"{DAY_NAMES[(datetime.now().weekday() + 2) % 7]};00:00-23:59"


async def call_in(system: System, did: str) -> FarEnd:
    return await system.harness.place_call(did, CALLER, caller_name="Customer")


def is_int(text: str) -> bool:
    return text.isdigit()


async def test_call_answered_by_an_agent(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Sales", "7000&7001", [("agent1", harness.phone_endpoint("1001"))], welcome="hello-world"
    )
    await harness.register_phone("1001", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1001")

    caller = await call_in(system, "7001")
    phone = await harness.wait_for_ringing("1001")
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent1")
    await harness.wait_heard(caller, has_heard("playback", media="sound:hello-world"))
    await harness.wait_heard(caller, has_heard("bridged"))
    await harness.hangup(caller)
    await system.wait_event("call.ended", callid=caller.channel_id)
    assert await harness.wait_no_strays() == CLEAN

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert rows[0] == ("ENTERQUEUE", "Sales", "NONE", "", CALLER, "1")
    _, queue, agent, holdtime, member_uniqueid, ringtime = rows[1]
    assert (queue, agent, member_uniqueid) == ("Sales", "agent1", phone.channel_id)
    assert is_int(holdtime) and is_int(ringtime)
    _event, queue, agent, holdtime2, calltime, origposition = rows[2]
    assert (queue, agent, holdtime2, origposition) == ("Sales", "agent1", holdtime, "1")
    assert is_int(calltime)
    [cdr] = system.cdrs(caller.channel_id)
    assert (cdr.src, cdr.dst, cdr.campaign, cdr.disposition, cdr.accountcode) == (
        CALLER,
        "7001",
        "Sales",
        "ANSWERED",
        "agent1",
    )
    assert cdr.dstchannel and cdr.guid and cdr.billsec <= cdr.duration
    assert system.agent_log("agent1")[0][:3] == ("AGENTLOGIN", "NONE", "NONE")


async def test_first_agent_does_not_answer_so_the_next_rings(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    members = [("agent1", harness.phone_endpoint("1011")), ("agent2", harness.phone_endpoint("1012"))]
    setup_campaign(db_engine, "Support", "7100", members, timeout=1, retry=0)
    await harness.register_phone("1011", Behaviour("ring"))
    await harness.register_phone("1012", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1011")
    await system.login("agent2", "1012")

    caller = await call_in(system, "7100")
    await harness.wait_for_ringing("1011")
    second = await harness.wait_for_ringing("1012", within=10)
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent2")
    await harness.hangup(caller)
    await system.wait_event("call.ended", callid=caller.channel_id)
    assert await harness.wait_no_strays() == CLEAN

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"], rows
    assert rows[1] == ("RINGNOANSWER", "Support", "agent1", "1000", "", "")
    assert rows[2][:3] == ("CONNECT", "Support", "agent2") and rows[2][4] == second.channel_id
    [cdr] = system.cdrs(caller.channel_id)
    assert (cdr.disposition, cdr.accountcode) == ("ANSWERED", "agent2")


async def test_caller_hangs_up_while_waiting(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Billing", "7200", [("agent1", harness.phone_endpoint("1021"))])
    system = await start_system()  # nobody logged in: the caller waits

    caller = await call_in(system, "7200")
    await system.wait_event("call.entered", callid=caller.channel_id)
    await harness.hangup(caller)
    await system.wait_event("call.abandoned", callid=caller.channel_id)
    assert await harness.wait_no_strays() == CLEAN

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "ABANDON"], rows
    _event, queue, agent, position, origposition, waittime = rows[1]
    assert (queue, agent, position, origposition) == ("Billing", "NONE", "1", "1")
    assert is_int(waittime)
    [cdr] = system.cdrs(caller.channel_id)
    assert (cdr.disposition, cdr.billsec, cdr.accountcode, cdr.campaign) == ("NO ANSWER", 0, "", "Billing")


async def test_caller_hangs_up_while_an_agent_rings(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Billing", "7210", [("agent1", harness.phone_endpoint("1022"))], timeout=30)
    await harness.register_phone("1022", Behaviour("ring"))
    system = await start_system()
    await system.login("agent1", "1022")

    caller = await call_in(system, "7210")
    await harness.wait_for_ringing("1022")
    await harness.hangup(caller)
    await system.wait_event("call.abandoned", callid=caller.channel_id)
    await system.wait_event("agent.state", agent="agent1", state="free")
    assert await harness.wait_no_strays() == CLEAN

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "RINGCANCELED", "ABANDON"], rows
    assert rows[1][:3] == ("RINGCANCELED", "Billing", "agent1") and is_int(rows[1][3])
    assert rows[2][3:5] == ("1", "1")
    assert len(system.cdrs(caller.channel_id)) == 1


async def test_agent_hangs_up(harness: CallHarness, db_engine: Engine, start_system: Starter) -> None:
    setup_campaign(db_engine, "Sales", "7300", [("agent1", harness.phone_endpoint("1031"))], wrapuptime=0)
    await harness.register_phone("1031", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1031")

    caller = await call_in(system, "7300")
    phone = await harness.wait_for_ringing("1031")
    await system.wait_event("call.connected", callid=caller.channel_id)
    await harness.hangup(phone)
    await system.wait_event("call.ended", callid=caller.channel_id, ended_by="agent")
    assert await harness.wait_no_strays() == CLEAN  # the caller was hung up too

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"], rows
    assert rows[2][1:3] == ("Sales", "agent1") and rows[2][5] == "1"
    [cdr] = system.cdrs(caller.channel_id)
    assert cdr.disposition == "ANSWERED"


async def test_out_of_hours_goes_to_voicemail(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Night", "7400", [], schedule=closed_schedule(), outofhours="vm-goodbye", voicemail="1234"
    )
    system = await start_system()

    caller = await call_in(system, "7400")
    await harness.wait_heard(caller, has_heard("playback", media="sound:vm-goodbye"))
    # The flow hands the caller to the dialplan's voicemail; the CDR is written when it leaves Stasis.
    cdr = await wait_cdr(system, caller.channel_id)
    assert (cdr.campaign, cdr.disposition, cdr.lastapp, cdr.lastdata) == (
        "Night",
        "NO ANSWER",
        "VoiceMail",
        "1234",
    )
    assert system.queue_log(caller.channel_id) == []
    await hang_up_if_alive(harness, caller)
    assert await harness.wait_no_strays() == CLEAN


async def test_out_of_hours_without_voicemail_hangs_up(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Night", "7410", [], schedule=closed_schedule(), outofhours="vm-goodbye")
    system = await start_system()

    caller = await call_in(system, "7410")
    await harness.wait_heard(caller, has_heard("playback", media="sound:vm-goodbye"))
    assert await harness.wait_no_strays() == CLEAN
    cdr = await wait_cdr(system, caller.channel_id)
    assert (cdr.campaign, cdr.disposition, cdr.billsec) == ("Night", "NO ANSWER", 0)
    assert system.queue_log(caller.channel_id) == []


async def test_unknown_did_hears_not_in_service_and_is_hung_up(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(db_engine, "Sales", "7000", [])
    system = await start_system()

    caller = await call_in(system, "7999")
    await harness.wait_heard(caller, has_heard("playback", media="sound:ss-noservice"))
    assert await harness.wait_no_strays() == CLEAN
    cdr = await wait_cdr(system, caller.channel_id)
    assert (cdr.dst, cdr.campaign, cdr.disposition) == ("7999", "", "FAILED")
    assert system.queue_log(caller.channel_id) == []


async def test_agent_logs_off_while_ringing(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    members = [("agent1", harness.phone_endpoint("1041")), ("agent2", harness.phone_endpoint("1042"))]
    setup_campaign(db_engine, "Sales", "7500", members, timeout=30, retry=30)
    await harness.register_phone("1041", Behaviour("ring"))
    await harness.register_phone("1042", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1041")
    await system.login("agent2", "1042")

    caller = await call_in(system, "7500")
    await harness.wait_for_ringing("1041")
    reply = await system.command(
        messages.agent_logoff("agent1", harness.phone_endpoint("1041"), "end of shift")
    )
    assert reply["ok"], reply
    await harness.wait_for_ringing("1042")  # offered again at once, despite retry=30
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent2")
    await harness.hangup(caller)
    await system.wait_event("call.ended", callid=caller.channel_id)
    assert await harness.wait_no_strays() == CLEAN

    await system.flush()
    rows = system.queue_log(caller.channel_id)
    assert [r[0] for r in rows] == ["ENTERQUEUE", "RINGNOANSWER", "CONNECT", "COMPLETECALLER"], rows
    assert rows[1][1:3] == ("Sales", "agent1") and is_int(rows[1][3])
    assert rows[2][2] == "agent2"
    log = system.agent_log("agent1")
    assert [r[0] for r in log] == ["AGENTLOGIN", "AGENTLOGOFF"], log
    assert log[1][3] == harness.phone_endpoint("1041") and is_int(log[1][4])
    await system.wait_event("agent.state", agent="agent1", state="disconnected")


async def test_phone_hangup_command(harness: CallHarness, db_engine: Engine, start_system: Starter) -> None:
    setup_campaign(db_engine, "Sales", "7600", [("agent1", harness.phone_endpoint("1051"))])
    await harness.register_phone("1051", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1051")
    assert await system.command(messages.phone_hangup("1051")) == {"ok": False, "result": 0}

    caller = await call_in(system, "7600")
    await system.wait_event("call.connected", callid=caller.channel_id)
    assert await system.command(messages.phone_hangup("1051")) == {"ok": True, "result": 1}
    await system.wait_event("call.ended", callid=caller.channel_id, ended_by="agent")
    assert await harness.wait_no_strays() == CLEAN
    await system.flush()
    assert [r[0] for r in system.queue_log(caller.channel_id)] == ["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]


async def wait_cdr(system: System, callid: str, within: float = 10.0) -> Cdr:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await system.flush()
        rows = system.cdrs(callid)
        if rows:
            assert len(rows) == 1, rows
            return rows[0]
        if loop.time() >= deadline:
            raise TimeoutError(f"no CDR for {callid}")
        await asyncio.sleep(0.05)


async def hang_up_if_alive(harness: CallHarness, far_end: FarEnd) -> None:
    state = await harness.stray_state()
    if state["channels"]:
        with contextlib.suppress(AriRequestError, Exception):
            await harness.hangup(far_end)


async def test_database_down_during_calls_and_back(
    harness: CallHarness, db_engine: Engine, mariadb_url: str, start_system: Starter
) -> None:
    """Records made while MariaDB is unreachable wait in the journal and land once, exactly once."""
    setup_campaign(db_engine, "Sales", "7700", [("agent1", harness.phone_endpoint("1061"))])
    await harness.register_phone("1061", Behaviour("answer"))
    url = make_url(mariadb_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    proxy.open()
    try:
        system = await start_system(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        await system.login("agent1", "1061")
        await system.flush()
        proxy.close()  # the database goes away

        callers: list[FarEnd] = []
        for _ in range(2):
            caller = await call_in(system, "7700")
            phone = await harness.wait_for_ringing("1061")
            await system.wait_event("call.connected", callid=caller.channel_id)
            await harness.hangup(phone if not callers else caller)
            await system.wait_event("call.ended", callid=caller.channel_id)
            callers.append(caller)
        assert await harness.wait_no_strays() == CLEAN
        await asyncio.sleep(0.3)
        assert system.service.writer.pending() >= 8  # 3 queue_log rows + 1 CDR per call
        assert all(system.queue_log(c.channel_id) == [] for c in callers)

        proxy.open()  # the database is back
        await system.flush()
    finally:
        proxy.close()
    expected = [["ENTERQUEUE", "CONNECT", "COMPLETEAGENT"], ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"]]
    for caller, events in zip(callers, expected, strict=True):
        assert [r[0] for r in system.queue_log(caller.channel_id)] == events
        assert len(system.cdrs(caller.channel_id)) == 1

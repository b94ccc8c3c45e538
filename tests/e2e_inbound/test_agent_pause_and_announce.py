"""The agent's own pause (REALPAUSE / REALUNPAUSE) and the campaign's ``announce`` to the agent who
answered (AGENTDUMP when they hang up during it), end to end with the queue_log rows in MariaDB."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine

from bus import messages
from harness.base import Behaviour, CallHarness, FarEnd, has_heard

from .conftest import Starter, System
from .test_campaign_parameters import events, wait_agent_rows, wait_rows
from .test_inbound_calls import CLEAN, call_in, setup_campaign

#: Played to agents in the announcement scenarios (a core sound of about two seconds).
ANNOUNCE = "tt-monkeys"


def long_announcement(harness: CallHarness) -> str:
    """An ``announce`` long enough to hang up during. A real Asterisk plays ANNOUNCE for two seconds;
    the simulator plays any sound for one scaled second, so a long digit string follows it there."""
    return ANNOUNCE if harness.name == "asterisk" else f"{ANNOUNCE}&digits:{'0' * 100}"


def media_heard(items: list[dict[str, object]]) -> list[object]:
    return [item.get("media") for item in items if item.get("kind") == "playback"]


async def wait_agent_free(system: System, agent: str, within: float = 5.0) -> None:
    """The agent is free with no call (the status snapshot, polled)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        reply = await system.command(messages.status_snapshot())
        [found] = [a for a in reply["agents"] if a["agent"] == agent]
        if (found["state"], found["call"]) == ("free", None):
            return
        assert loop.time() < deadline, reply
        await asyncio.sleep(0.05)


async def pause(system: System, agent: str, paused: bool, reason: str = "", **more: object) -> None:
    reply = await system.command(
        {"type": "agent.pause", "agent": agent, "paused": paused, "reason": reason, **more}
    )
    assert reply["ok"], reply


async def test_realpause_once_per_pause_and_realunpause_with_its_seconds(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    phone = harness.phone_endpoint("1081")
    setup_campaign(db_engine, "RpOne", "7800", [("agent1", phone)])
    setup_campaign(db_engine, "RpTwo", "7801", [("agent1", phone)])
    system = await start_system()
    await system.login("agent1", "1081")

    loop = asyncio.get_running_loop()
    await pause(system, "agent1", True, campaigns=["RpOne"])  # one campaign: already a pause
    paused_at = loop.time()
    await pause(system, "agent1", True, "LUNCH")  # every campaign, with a motive: the same pause
    await asyncio.sleep(1.1)
    await pause(system, "agent1", False)
    pause_seconds = loop.time() - paused_at
    rows = await wait_agent_rows(system, "agent1", "REALUNPAUSE")
    real = [r for r in rows if r[0].startswith("REAL")]
    assert [r[0] for r in real] == ["REALPAUSE", "REALUNPAUSE"], rows
    assert real[0] == ("REALPAUSE", "NONE", "NONE", "", "")
    assert real[1][:3] == ("REALUNPAUSE", "NONE", "NONE") and real[1][4] == ""
    assert 1 <= int(real[1][3]) <= pause_seconds + 1, (real, pause_seconds)
    # The telephony rows are still written around them.
    assert events(rows) == [
        "AGENTLOGIN",
        "PAUSE",
        "REALPAUSE",
        "PAUSEALL",
        "PAUSE",
        "PAUSE",
        "BREAK",
        "UNPAUSEALL",
        "UNPAUSE",
        "UNPAUSE",
        "REALUNPAUSE",
        "UNBREAK",
    ], rows

    # Logging off while on pause ends the pause first.
    await pause(system, "agent1", True)
    reply = await system.command(messages.agent_logoff("agent1", phone))
    assert reply["ok"], reply
    rows = await wait_agent_rows(system, "agent1", "AGENTLOGOFF")
    assert events(rows)[-3:] == ["REALPAUSE", "REALUNPAUSE", "AGENTLOGOFF"], rows
    assert rows[-2][3] == "0"


async def test_agent_hears_the_announcement_then_is_put_through(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine, "Hello", "7810", [("agent1", harness.phone_endpoint("1082"))], announce="hello-world"
    )
    await harness.register_phone("1082", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1082")

    caller = await call_in(system, "7810")
    phone = await harness.wait_for_ringing("1082")
    heard = await harness.wait_heard(phone, has_heard("bridged"))
    kinds = [(item.get("kind"), item.get("media")) for item in heard]
    assert ("playback", "sound:hello-world") in kinds, heard
    assert kinds.index(("playback", "sound:hello-world")) < [k for k, _ in kinds].index("bridged"), heard
    await system.wait_event("call.connected", callid=caller.channel_id, agent="agent1")
    caller_heard = await harness.wait_heard(caller, has_heard("bridged"))
    assert "sound:hello-world" not in media_heard(caller_heard), caller_heard  # for the agent only
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "CONNECT", "COMPLETECALLER"], rows
    assert await harness.wait_no_strays() == CLEAN


async def hang_up_during_announcement(harness: CallHarness, phone: FarEnd) -> None:
    await harness.wait_heard(phone, has_heard("playback", media=f"sound:{ANNOUNCE}"))
    await harness.hangup(phone)


async def test_agent_hanging_up_during_the_announcement_is_an_agentdump(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    exts = {"agent1": "1083", "agent2": "1084"}
    members = [(agent, harness.phone_endpoint(ext)) for agent, ext in exts.items()]
    setup_campaign(db_engine, "Dump", "7820", members, announce=long_announcement(harness))
    for ext in exts.values():
        await harness.register_phone(ext, Behaviour("answer"))
    system = await start_system()
    for agent, ext in exts.items():
        await system.login(agent, ext)

    caller = await call_in(system, "7820")
    first = (await system.wait_event("call.ringing", callid=caller.channel_id))["agent"]
    [second] = [agent for agent in exts if agent != first]
    await hang_up_during_announcement(harness, await harness.wait_for_ringing(exts[first]))
    # The caller waits on and is offered to the next agent, who hears the announcement and takes it.
    await system.wait_event("call.connected", callid=caller.channel_id, agent=second)
    heard = await harness.wait_heard(await harness.wait_for_ringing(exts[second]), has_heard("bridged"))
    assert f"sound:{ANNOUNCE}" in media_heard(heard), heard
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "COMPLETECALLER")
    assert events(rows) == ["ENTERQUEUE", "AGENTDUMP", "CONNECT", "COMPLETECALLER"], rows
    assert rows[1] == ("AGENTDUMP", "Dump", first, "", "", "")
    assert rows[2][2] == second
    await wait_agent_free(system, first)  # no wrap-up: the agent never talked to the caller
    assert await harness.wait_no_strays() == CLEAN


async def test_caller_hanging_up_during_the_announcement_abandons_naming_the_agent(
    harness: CallHarness, db_engine: Engine, start_system: Starter
) -> None:
    setup_campaign(
        db_engine,
        "Gone",
        "7830",
        [("agent1", harness.phone_endpoint("1085"))],
        announce=long_announcement(harness),
    )
    await harness.register_phone("1085", Behaviour("answer"))
    system = await start_system()
    await system.login("agent1", "1085")

    caller = await call_in(system, "7830")
    phone = await harness.wait_for_ringing("1085")
    await harness.wait_heard(phone, has_heard("playback", media=f"sound:{ANNOUNCE}"))
    await harness.hangup(caller)
    rows = await wait_rows(system, caller.channel_id, "ABANDON")
    # As app_queue: the ABANDON names the member who was about to talk; its phone was not ringing.
    assert events(rows) == ["ENTERQUEUE", "ABANDON"], rows
    assert rows[1][:5] == ("ABANDON", "Gone", "agent1", "1", "1"), rows
    await wait_agent_free(system, "agent1")
    assert await harness.wait_no_strays() == CLEAN

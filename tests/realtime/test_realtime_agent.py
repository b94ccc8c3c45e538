"""The agent portal with real Socket.IO clients against gunicorn, calls driven through the harness."""

from __future__ import annotations

import time

import pytest
import socketio
from realtime_system import SUPERVISOR, Portal, RealtimeSystem, http
from sqlalchemy import select

from datastore.models import CallDisposition


def refusal(url: str, namespace: str, auth: dict[str, str] | None) -> str:
    """Connect and return the reason the server gave in connect_error."""
    reasons: list[object] = []
    client = socketio.Client(reconnection=False)
    client.on("connect_error", reasons.append, namespace=namespace)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, namespaces=[namespace], auth=auth, transports=["websocket"], wait_timeout=5)
    assert reasons, "no connect_error event"
    return str(reasons[0])


def test_connections_need_a_valid_token_and_the_right_role(system: RealtimeSystem) -> None:
    desk = system.desk()
    assert "a token is required" in refusal(system.api.url, "/agent", None)
    assert "not valid" in refusal(system.api.url, "/agent", {"token": "bm90LWEtdG9rZW4="})
    agent_token = {"token": system.token(desk.agents[0])}
    assert "may not use /supervisor" in refusal(system.api.url, "/supervisor", agent_token)


def test_login_pause_unpause_logout_reach_only_the_agent(system: RealtimeSystem) -> None:
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    other = system.portal(desk.agents[1])
    agent.wait("session")
    assert agent.ok("login", {"campaigns": [desk.campaign]})["campaigns"] == [desk.campaign]
    agent.wait("agent.state", lambda d: d["state"] == "free")
    failed = agent.call("pause", {})
    assert not failed["ok"] and "break motive" in failed["error"]
    assert agent.wait("command.error")["command"] == "pause"
    agent.ok("pause", {"reason": "LUNCH"})
    paused = agent.wait("agent.state", lambda d: d["state"] == "paused")
    assert paused["pause_reason"] == "LUNCH"
    agent.ok("unpause")
    agent.wait("agent.state", lambda d: d["state"] == "free", after=agent.mark() - 1)
    agent.ok("logout")
    agent.wait("agent.state", lambda d: d["state"] == "disconnected")
    other.drain(0.3)
    assert not [e for e in other.seen if e.name == "agent.state" and e.data["agent"] == desk.agents[0]]


def test_a_call_from_ringing_to_disposition(system: RealtimeSystem) -> None:
    """Incoming (caller, name, campaign, form), answer, hold, mute, DTMF, hang-up, wrap-up, history."""
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    caller = system.place_call(desk, "5550001", "Ada Lovelace")
    incoming = agent.wait("call.incoming")
    assert incoming["caller"] == "5550001" and incoming["caller_name"] == "Ada Lovelace"
    assert incoming["campaign"] == desk.campaign and incoming["auto_answer"] is False
    assert incoming["form"] == {
        "kind": "iframe",
        "url": "https://www.example.com/crm",
        "name": "CRM",
        "closable": True,
        "raw": "https://www.example.com/crm|CRM|true",
    }
    ringing_leg = system.ringing(desk.phones[0])
    agent.ok("answer")
    leg = system.ringing(desk.phones[0])
    assert leg.channel_id != ringing_leg.channel_id
    system.answer(leg)
    connected = agent.wait("call.connected")
    assert connected["callid"] == incoming["callid"] and connected["connected_at"] <= time.time()
    agent.wait("agent.state", lambda d: d["state"] == "busy")

    assert agent.ok("hold")["held"] is True
    agent.wait("call.held")
    assert not agent.call("hold")["ok"]
    agent.ok("unhold")
    agent.wait("call.unheld")
    agent.ok("mute")
    agent.wait("call.muted")
    agent.ok("unmute")
    agent.wait("call.unmuted")
    bad = agent.call("dtmf", {"digits": "12x"})
    assert not bad["ok"] and "DTMF" in bad["error"]
    agent.ok("dtmf", {"digits": "42#"})

    def digits(items: list[dict[str, object]]) -> bool:
        return "".join(str(i["digit"]) for i in items if i.get("kind") == "dtmf") == "42#"

    heard = system.stasis.run(system.harness.wait_heard(caller, digits))
    assert [i["kind"] for i in heard].count("moh") >= 2  # on hold the caller heard music

    agent.ok("hangup")
    ended = agent.wait("call.ended")
    assert ended["ended_by"] == "agent"
    wrapup = agent.wait("agent.wrapup")
    assert 25 <= wrapup["seconds"] <= 30
    entry = agent.wait("history.entry")
    assert entry["number"] == "5550001" and entry["missed"] is False and entry["direction"] == "inbound"
    saved = agent.ok(
        "disposition",
        {
            "l1": "Sale",
            "l2": "Product A",
            "l3": "Annual",
            "comment": "call back",
            "schedule": "2031-01-02 10:00:00",
        },
    )["disposition"]
    assert saved["guid"] and saved["campaign"] == desk.campaign and saved["callerid"] == "5550001"
    agent.wait("disposition.saved")
    with system.sessions() as session:
        row = session.scalars(select(CallDisposition).where(CallDisposition.guid == saved["guid"])).one()
        assert (row.l1, row.l2, row.l3, row.agent) == ("Sale", "Product A", "Annual", desk.agents[0])
        assert row.schedule is not None and row.schedule.year == 2031
    agent.ok("wrapup.end")
    agent.wait("agent.state", lambda d: d["state"] == "free", after=agent.mark() - 1)
    assert not agent.call("wrapup.end")["ok"]
    session = agent.ok("session")["session"]
    assert session["history"][0]["callid"] == incoming["callid"]


def test_rejected_and_missed_calls_are_in_red(system: RealtimeSystem) -> None:
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    caller = system.place_call(desk, "5550002")
    agent.wait("call.incoming")
    system.ringing(desk.phones[0])
    agent.ok("reject")
    missed = agent.wait("call.missed")
    assert missed["reason"] == "rejected"
    entry = agent.wait("history.entry")
    assert entry["missed"] is True and entry["reason"] == "rejected"
    # Offered again (retry 0) and left ringing until the ring timeout (100 s of simulated time).
    agent.wait("call.incoming", after=agent.mark())
    again = agent.wait("call.missed", lambda d: d["reason"] == "no-answer", within=8)
    assert again["callid"] == missed["callid"]
    system.hangup(caller)
    session = agent.ok("session")["session"]
    assert [h["missed"] for h in session["history"][:2]] == [True, True]


def test_failed_commands_say_why(system: RealtimeSystem) -> None:
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    for command in ("hold", "mute", "answer", "reject"):
        answer = agent.call(command)
        assert not answer["ok"]
        assert "not in a call" in answer["error"] or "no ringing call" in answer["error"]
    error = agent.wait("command.error", lambda d: d["command"] == "reject")
    assert "no ringing call" in error["reason"]
    assert "not in a call" in agent.call("hangup")["error"]
    for command in ("transfer", "park", "conference"):
        # Routed to the call server's phone features: their reason, or "not available yet" when no
        # part of the call server handles that command; never a made-up success.
        answer = agent.call(command, {"to": "1234"})
        assert not answer["ok"], answer
        assert answer["error"].startswith("not available yet") or "not in a call" in answer["error"], answer
    assert agent.call("retrieve", {"to": "1234"})["error"] == "slot must be a parking slot number"
    assert agent.call("dial", {"number": "5550000", "campaign": "x"})["error"] == "unknown campaign 'x'"
    assert "not a member" in agent.call("login", {"campaigns": ["nope"]})["error"]


def test_reconnect_mid_call_gets_state_and_call_back(system: RealtimeSystem) -> None:
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    caller, _leg, callid = system.connected_call(desk, agent, "5550003")
    agent.ok("hold")
    agent.wait("call.held")
    agent.disconnect()
    back = system.portal(desk.agents[0])
    session = back.wait("session")
    assert session["state"] == "busy"
    assert session["call"]["callid"] == callid and session["call"]["held"] is True
    assert session["call"]["connected_at"] > 0 and session["call_seconds"] >= 0
    back.ok("unhold")
    back.wait("call.unheld")
    system.hangup(caller)
    ended = back.wait("call.ended")
    assert ended["callid"] == callid and ended["ended_by"] == "caller"


def test_events_of_one_agent_arrive_in_order(system: RealtimeSystem) -> None:
    desk = system.desk()
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    agent.wait("agent.state", lambda d: d["state"] == "free")
    start = agent.mark()
    for index in range(15):
        agent.ok("pause", {"reason": f"BREAK{index}"})
        agent.ok("unpause")
    agent.wait("agent.state", lambda d: d["state"] == "free", after=agent.mark() - 1)
    agent.drain(0.3)
    states = [e.data for e in agent.seen[start:] if e.name == "agent.state"]
    assert [s["state"] for s in states] == ["paused", "free"] * 15
    assert [s["pause_reason"] for s in states[::2]] == [f"BREAK{i}" for i in range(15)]
    assert [s["since"] for s in states] == sorted(s["since"] for s in states)


def test_disposition_call_route_of_the_seed(system: RealtimeSystem) -> None:
    desk = system.desk()
    token = system.token(desk.agents[0])
    form = {
        "campaign": desk.campaign,
        "agent": desk.agents[0],
        "callerid": "5551111",
        "guid": "f9b7ada3-a4e5-4795-834d-aa1c1a37ee57",
        "l1": "Tipificacion1",
        "l2": "",
        "l3": "",
        "d1": "",
        "d2": "",
        "comment": "",
        "schedule": "",
        "camptoreschedule": "",
        "tag": "",
    }
    url = f"{system.api.url}/Integra/resources/api/DispositionCall"
    assert http("POST", url, form, token) == (200, '"OK"')
    assert http("POST", url, {**form, "schedule": "tomorrow"}, token) == (200, "0")
    assert http("POST", url, {**form, "agent": desk.agents[1]}, token) == (200, "0")
    assert http("POST", url, form) == (401, "0")
    with system.sessions() as session:
        rows = session.scalars(select(CallDisposition).where(CallDisposition.guid == form["guid"])).all()
        assert [(r.l1, r.callerid, r.schedule) for r in rows] == [("Tipificacion1", "5551111", None)]


def test_supervisor_namespace_refuses_agents_but_not_supervisors(system: RealtimeSystem) -> None:
    boss = system.portal(SUPERVISOR, "/supervisor")
    grid = boss.wait("grid")
    assert {"agents", "campaigns"} <= set(grid)
    assert isinstance(boss, Portal)

"""Contacts, chat and the supervisor portal, with real Socket.IO clients against gunicorn."""

from __future__ import annotations

from realtime_system import SUPERVISOR, SUPERVISOR_PHONE, RealtimeSystem
from sqlalchemy import select

from datastore.models import ChatMessage


def test_contacts_online_offline_search_and_favourites(system: RealtimeSystem) -> None:
    desk = system.desk()
    me = system.portal(desk.agents[0])
    mate = system.portal(desk.agents[1], connect=False)
    contacts = me.ok("contacts", {"search": desk.campaign})
    assert desk.agents[1] in [c["agent"] for c in contacts["offline"]]
    assert f"campaign:{desk.campaign}" in contacts["groups"]
    mate.connect()
    presence = me.wait("contact.presence", lambda d: d["agent"] == desk.agents[1])
    assert presence["online"] is True
    contacts = me.ok("contacts", {"search": desk.agents[1].upper()})
    assert [c["agent"] for c in contacts["online"]] == [desk.agents[1]] and contacts["offline"] == []
    assert me.ok("favourite.add", {"contact": desk.agents[1]})["favourites"] == [desk.agents[1]]
    assert [c["agent"] for c in me.ok("contacts")["favourites"]] == [desk.agents[1]]
    assert me.ok("favourite.remove", {"contact": desk.agents[1]})["favourites"] == []
    assert "no user" in me.call("favourite.add", {"contact": "nobody-here"})["error"]
    mate.disconnect()
    gone = me.wait("contact.presence", lambda d: d["agent"] == desk.agents[1] and not d["online"])
    assert gone["online"] is False


def test_direct_chat_is_stored_delivered_read_and_counted(system: RealtimeSystem) -> None:
    desk = system.desk()
    alice, bob_name = system.portal(desk.agents[0]), desk.agents[1]
    sent = alice.ok("chat.send", {"to": bob_name, "text": "are you there?"})
    assert sent["status"]["pending"] == [bob_name]
    bob = system.portal(bob_name)
    session = bob.wait("session")
    assert session["unread"] == {desk.agents[0]: 1}
    delivered = alice.wait("chat.delivered")
    assert delivered["reader"] == bob_name and delivered["msgids"] == [sent["message"]["msgid"]]
    second = alice.ok("chat.send", {"to": bob_name, "text": "second"})
    assert second["status"]["delivered"] == [bob_name]
    message = bob.wait("chat.message", lambda d: d["text"] == "second")
    assert message["from"] == desk.agents[0] and message["conversation"] == desk.agents[0]
    assert bob.wait("chat.unread", lambda d: d["unread"] == {desk.agents[0]: 2})
    history = bob.ok("chat.history", {"conversation": desk.agents[0]})["messages"]
    assert [m["text"] for m in history] == ["are you there?", "second"]
    assert bob.ok("chat.read", {"conversation": desk.agents[0]})["unread"] == {}
    read = alice.wait("chat.read")
    assert read["reader"] == bob_name and len(read["msgids"]) == 2
    mine = alice.ok("chat.history", {"conversation": bob_name})["messages"]
    assert mine[-1]["status"]["read"] == [bob_name]
    with system.sessions() as db:
        rows = db.scalars(select(ChatMessage).where(ChatMessage.msgid == second["message"]["msgid"])).all()
        assert {(r.srcagent, r.dstagent, r.dest, r.status) for r in rows} == {
            (desk.agents[0], desk.agents[0], bob_name, "SUCCESS"),
            (desk.agents[0], bob_name, bob_name, "SUCCESS"),
        }
    assert "say who" in alice.call("chat.send", {"text": "lost"})["error"]


def test_broadcast_and_campaign_group_chat(system: RealtimeSystem) -> None:
    desk, other_desk = system.desk(), system.desk()
    first, second = system.portal(desk.agents[0]), system.portal(desk.agents[1])
    outsider = system.portal(other_desk.agents[0])
    group = first.ok("chat.send", {"campaign": desk.campaign, "text": "team meeting at 3"})
    assert group["message"]["conversation"] == f"campaign:{desk.campaign}"
    got = second.wait("chat.message", lambda d: d["text"] == "team meeting at 3")
    assert got["conversation"] == f"campaign:{desk.campaign}"
    assert "not a member" in outsider.call("chat.send", {"campaign": desk.campaign, "text": "hi"})["error"]
    outsider.ok("chat.send", {"broadcast": True, "text": "fire drill"})
    for portal in (first, second):
        assert portal.wait("chat.message", lambda d: d["text"] == "fire drill")["conversation"] == "*"
    outsider.drain(0.2)
    assert "team meeting at 3" not in [e.data.get("text") for e in outsider.seen if e.name == "chat.message"]
    history = second.ok("chat.history", {"conversation": f"campaign:{desk.campaign}"})["messages"]
    assert [m["text"] for m in history] == ["team meeting at 3"]


def test_supervisor_grid_stats_pause_logout_and_chat(system: RealtimeSystem) -> None:
    desk = system.desk()
    boss = system.portal(SUPERVISOR, "/supervisor")
    boss.wait("grid")
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    state = boss.wait("agent.state", lambda d: d["agent"] == desk.agents[0] and d["state"] == "free")
    assert state["campaigns"] == [desk.campaign]
    grid = boss.ok("grid")
    row = next(a for a in grid["agents"] if a["agent"] == desk.agents[0])
    assert row["state"] == "free" and row["campaigns"] == [desk.campaign]
    caller, _leg, callid = system.connected_call(desk, agent, "5550100")
    stats = boss.wait("campaign.stats", lambda d: d["campaign"] == desk.campaign and d["talking"] == 1)
    assert stats["answered"] == 1 and stats["entered"] == 1 and stats["agents_busy"] == 1
    row = next(a for a in boss.ok("grid")["agents"] if a["agent"] == desk.agents[0])
    assert row["call"]["callid"] == callid and row["call_seconds"] >= 0 and row["state"] == "busy"
    system.hangup(caller)
    boss.wait("call.ended", lambda d: d["callid"] == callid)
    agent.ok("wrapup.end")
    boss.ok("agent.pause", {"agent": desk.agents[0], "reason": "TRAINING"})
    paused = agent.wait("agent.state", lambda d: d["state"] == "paused")
    assert paused["pause_reason"] == "TRAINING"
    assert agent.wait("supervisor.action")["by"] == SUPERVISOR
    row = next(a for a in boss.ok("grid")["agents"] if a["agent"] == desk.agents[0])
    assert row["pause_reason"] == "TRAINING" and row["seconds_in_state"] >= 0
    boss.ok("chat.send", {"to": desk.agents[0], "text": "come to my desk"})
    assert agent.wait("chat.message")["from"] == SUPERVISOR
    agent.ok("chat.send", {"to": SUPERVISOR, "text": "on my way"})
    assert boss.wait("chat.message")["text"] == "on my way"
    boss.ok("agent.logout", {"agent": desk.agents[0]})
    agent.wait("agent.state", lambda d: d["state"] == "disconnected")
    assert "not logged in" in boss.call("agent.pause", {"agent": desk.agents[0], "reason": "X"})["error"]


def _bridge_members(system: RealtimeSystem) -> list[set[str]]:
    return [set(b["channels"]) for b in system.ari("/bridges")]


def test_spy_whisper_and_barge(system: RealtimeSystem) -> None:
    desk = system.desk()
    boss = system.portal(SUPERVISOR, "/supervisor")
    agent = system.portal(desk.agents[0])
    agent.ok("login")
    assert "not in a call" in boss.call("monitor", {"agent": desk.agents[0], "mode": "spy"})["error"]
    caller, leg, callid = system.connected_call(desk, agent, "5550200")
    for mode, whisper in (("spy", "none"), ("whisper", "out"), ("barge", None)):
        started = boss.ok("monitor", {"agent": desk.agents[0], "mode": mode})
        phone = system.ringing(SUPERVISOR_PHONE)
        system.answer(phone)
        event = boss.wait("monitor.started", lambda d, m=mode: d["mode"] == m)
        assert event["agent"] == desk.agents[0] and event["monitor"] == started["monitor"]
        members = _bridge_members(system)
        if whisper is None:
            assert {callid, leg.channel_id, phone.channel_id} in members
        else:
            snoop = next(m - {phone.channel_id} for m in members if phone.channel_id in m)
            (snoop_id,) = snoop
            channel = system.ari(f"/channels/{snoop_id}")
            assert channel["name"].startswith("Snoop/")
            assert system.ari(f"/channels/{snoop_id}/variable?variable=SNOOP_WHISPER")["value"] == whisper
        assert "already monitoring" in boss.call("monitor", {"agent": desk.agents[0], "mode": "spy"})["error"]
        boss.ok("monitor.stop")
        boss.wait("monitor.ended", lambda d, m=mode: d["mode"] == m and d["reason"] == "supervisor")
    assert "mode must be" in boss.call("monitor", {"agent": desk.agents[0], "mode": "sing"})["error"]
    agent.drain(0.2)
    assert not [e for e in agent.seen if e.name.startswith("monitor.")]
    system.hangup(caller)
    agent.wait("call.ended")

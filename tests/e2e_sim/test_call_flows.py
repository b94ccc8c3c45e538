"""Call flows as a Stasis application sees them, checked on every harness backend.

Expected orders and causes are Asterisk 22's: originate runs main/dial.c (a final Dial status derived
from the hang-up cause), channels/create enters Stasis at once and channels/{id}/dial reports only
what the far end signals (ringing, answer).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from harness.ari_client import Event, EventStream, of_type
from harness.base import (
    CAUSE_BUSY,
    CAUSE_NO_ANSWER,
    CAUSE_NORMAL,
    CAUSE_REJECTED,
    CAUSE_UNREACHABLE,
    Behaviour,
    CallHarness,
    FarEnd,
    has_heard,
)
from harness.stasis_session import StasisSession as StasisApp

CLEAN: dict[str, list[str]] = {"channels": [], "bridges": []}


def position(events: list[Event], kind: str, **fields: Any) -> int:
    """Index of the first event of that type with those top-level field values (-1 if none)."""
    for index, event in enumerate(events):
        if event["type"] == kind and all(event.get(key) == value for key, value in fields.items()):
            return index
    return -1


def steps(events: list[Event]) -> list[tuple[str, str]]:
    """Each event as (type, the detail that matters for order checks), for exact comparisons."""
    described = []
    for event in events:
        kind = str(event["type"])
        if kind == "Dial":
            detail = str(event["dialstatus"])
        elif kind == "ChannelStateChange":
            detail = str(event["channel"]["state"])
        elif kind == "ChannelVarset":
            detail = f"{event['variable']}={event['value']}"
        elif kind == "ChannelDialplan":
            detail = f"{event['dialplan_app']}({event['dialplan_app_data']})"
        elif kind == "StasisStart":
            detail = ",".join(event["args"])
        elif kind == "ChannelHangupRequest":
            detail = f"{event.get('cause')}{' soft' if event.get('soft') else ''}"
        elif kind == "ChannelDestroyed":
            detail = str(event["cause"])
        else:
            detail = ""
        described.append((kind, detail))
    return described


def dial_statuses(stream: EventStream, channel_id: str) -> list[str]:
    return [
        str(event["dialstatus"])
        for event in stream.events
        if event["type"] == "Dial" and event["peer"]["id"] == channel_id
    ]


async def gone_within(harness: CallHarness, path: str, within: float = 2.0) -> int:
    """GET `path` until it answers 404; the last status otherwise.

    Asterisk dissolves a deleted bridge on the bridge's own thread (main/bridge.c defers the
    unlink), so for a moment after DELETE answered 204 a GET may still find it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        status, _ = await harness.ari.call("GET", path)
        if status == 404 or loop.time() >= deadline:
            return status
        await asyncio.sleep(0.01)


async def inbound_call(harness: CallHarness, app: StasisApp, to: str = "7000") -> tuple[FarEnd, Event]:
    """A caller reaching the test's app through the dialplan, answered by the app."""
    caller = await harness.place_call(to, "5551234", caller_name="Test Caller", context="harness-inbound")
    start = await app.events.wait_for(of_type("StasisStart", caller.channel_id))
    await harness.ari.post(f"/channels/{caller.channel_id}/answer")
    return caller, start


async def caller_hangs_up(harness: CallHarness, app: StasisApp, caller: FarEnd) -> list[Event]:
    """The caller hangs up; the app sees the request (with the caller's cause), then StasisEnd.

    The caller entered Stasis from the dialplan, so unless the app subscribed to it, Asterisk stops
    telling the app about it at StasisEnd (res/res_stasis.c drops that interest before publishing
    StasisEnd): there is no ChannelDestroyed to wait for.
    """
    await harness.hangup(caller)
    await app.events.wait_for(of_type("StasisEnd", caller.channel_id))
    events = app.events.of_channel(caller.channel_id)
    request = events[position(events, "ChannelHangupRequest")]
    assert request["cause"] == CAUSE_NORMAL
    assert position(events, "ChannelHangupRequest") < position(events, "StasisEnd")
    return events


async def answered_phone(harness: CallHarness, app: StasisApp, ext: str) -> str:
    await harness.register_phone(ext, Behaviour("answer"))
    channel_id = await app.originate(harness.phone_endpoint(ext), appArgs="agent")
    await app.events.wait_for(of_type("StasisStart", channel_id))
    return channel_id


async def test_originate_to_answering_phone_runs_dial_then_enters_stasis(
    harness: CallHarness, app: StasisApp
) -> None:
    await harness.register_phone("1001", Behaviour("answer"))
    channel_id = await app.originate(harness.phone_endpoint("1001"), appArgs="outbound,1")

    start = await app.events.wait_for(of_type("StasisStart", channel_id))
    assert start["args"] == ["outbound", "1"]
    assert start["channel"]["state"] == "Up"
    # The app subscribes to an originated channel once it exists (no ChannelCreated), main/dial.c
    # runs the call (the phone rings, then answers), and only then the channel enters Stasis.
    assert steps(app.events.of_channel(channel_id)) == [
        ("Dial", ""),
        ("ChannelStateChange", "Ringing"),
        ("Dial", "RINGING"),
        ("ChannelStateChange", "Up"),
        ("Dial", "ANSWER"),
        ("ChannelVarset", "STASISSTATUS="),
        ("StasisStart", "outbound,1"),
    ], app.events.summary()

    await harness.ari.delete(f"/channels/{channel_id}")
    destroyed = await app.events.wait_for(of_type("ChannelDestroyed", channel_id))
    assert destroyed["cause"] == CAUSE_NORMAL
    assert steps(app.events.of_channel(channel_id))[7:] == [
        ("ChannelHangupRequest", "32 soft"),
        ("StasisEnd", ""),
        ("ChannelVarset", "STASISSTATUS=SUCCESS"),
        ("ChannelDestroyed", "16"),
    ], app.events.summary()
    assert await harness.wait_no_strays() == CLEAN


async def test_create_enters_stasis_before_dial_and_dial_reports_ringing_then_answer(
    harness: CallHarness, app: StasisApp
) -> None:
    await harness.register_phone("1002", Behaviour("answer", answer_after=0.3))
    channel_id = await app.create(harness.phone_endpoint("1002"), appArgs="created")
    start = await app.events.wait_for(of_type("StasisStart", channel_id))
    assert start["channel"]["state"] == "Down"
    assert dial_statuses(app.events, channel_id) == []

    await harness.ari.post(f"/channels/{channel_id}/dial", {"timeout": 30})
    phone = await harness.wait_for_ringing("1002")
    assert phone.channel_id == channel_id
    await app.events.wait_for(lambda e: e["type"] == "Dial" and e["dialstatus"] == "ANSWER")

    # The app subscribes once the channel exists (no ChannelCreated), then Asterisk runs Stasis() on
    # it: the dialplan step, STASISSTATUS cleared, StasisStart; only then is it dialed, and Dial
    # reports what the phone signals. The channel is Up before Dial says ANSWER.
    assert steps(app.events.of_channel(channel_id)) == [
        ("ChannelDialplan", f"Stasis({app.name},created)"),
        ("ChannelVarset", "STASISSTATUS="),
        ("StasisStart", "created"),
        ("Dial", ""),
        ("ChannelStateChange", "Ringing"),
        ("Dial", "RINGING"),
        ("ChannelStateChange", "Up"),
        ("Dial", "ANSWER"),
    ], app.events.summary()

    await harness.ari.delete(f"/channels/{channel_id}")
    assert await harness.wait_no_strays() == CLEAN


@pytest.mark.parametrize(
    ("mode", "status", "cause"),
    [
        ("busy", "BUSY", CAUSE_BUSY),
        ("reject", "NOANSWER", CAUSE_REJECTED),
        ("unreachable", "CHANUNAVAIL", CAUSE_UNREACHABLE),
    ],
)
async def test_refusing_phone_gives_dial_status_and_cause(
    harness: CallHarness, app: StasisApp, mode: str, status: str, cause: int
) -> None:
    ext = {"busy": "1011", "reject": "1012", "unreachable": "1013"}[mode]
    await harness.register_phone(ext, Behaviour(mode))  # type: ignore[arg-type]
    channel_id = await app.originate(harness.phone_endpoint(ext))

    destroyed = await app.events.wait_for(of_type("ChannelDestroyed", channel_id))
    assert destroyed["cause"] == cause
    statuses = dial_statuses(app.events, channel_id)
    assert statuses[0] == ""
    assert statuses[-1] == status
    assert "ANSWER" not in statuses
    assert position(app.events.of_channel(channel_id), "StasisStart") == -1
    assert await harness.wait_no_strays() == CLEAN


async def test_phone_that_only_rings_is_given_up_after_the_originate_timeout(
    harness: CallHarness, app: StasisApp
) -> None:
    await harness.register_phone("1021", Behaviour("ring"))
    channel_id = await app.originate(harness.phone_endpoint("1021"), timeout=1)
    phone = await harness.wait_for_ringing("1021")
    assert phone.channel_id == channel_id

    destroyed = await app.events.wait_for(of_type("ChannelDestroyed", channel_id), within=10)
    assert destroyed["cause"] == CAUSE_NO_ANSWER
    statuses = dial_statuses(app.events, channel_id)
    assert "RINGING" in statuses
    assert "ANSWER" not in statuses
    assert await harness.wait_no_strays() == CLEAN


async def test_dialed_phone_that_only_rings_is_hung_up_at_the_dial_timeout(
    harness: CallHarness, app: StasisApp
) -> None:
    await harness.register_phone("1022", Behaviour("ring"))
    channel_id = await app.create(harness.phone_endpoint("1022"))
    await app.events.wait_for(of_type("StasisStart", channel_id))
    await harness.ari.post(f"/channels/{channel_id}/dial", {"timeout": 1})

    destroyed = await app.events.wait_for(of_type("ChannelDestroyed", channel_id), within=10)
    assert destroyed["cause"] == CAUSE_NO_ANSWER
    assert "ANSWER" not in dial_statuses(app.events, channel_id)
    events = app.events.of_channel(channel_id)
    assert position(events, "StasisEnd") < position(events, "ChannelDestroyed")
    assert await harness.wait_no_strays() == CLEAN


async def test_ringing_phone_answered_by_hand(harness: CallHarness, app: StasisApp) -> None:
    await harness.register_phone("1023", Behaviour("ring"))
    channel_id = await app.create(harness.phone_endpoint("1023"))
    # create answers before Asterisk's Stasis thread has taken the channel: dial only after StasisStart.
    await app.events.wait_for(of_type("StasisStart", channel_id))
    await harness.ari.post(f"/channels/{channel_id}/dial", {"timeout": 30})
    phone = await harness.wait_for_ringing("1023")
    await app.events.wait_for(lambda e: e["type"] == "Dial" and e["dialstatus"] == "RINGING")
    assert "ANSWER" not in dial_statuses(app.events, channel_id)

    await harness.answer(phone)
    await app.events.wait_for(lambda e: e["type"] == "Dial" and e["dialstatus"] == "ANSWER")
    await harness.hangup(phone)
    destroyed = await app.events.wait_for(of_type("ChannelDestroyed", channel_id))
    assert destroyed["cause"] == CAUSE_NORMAL
    assert await harness.wait_no_strays() == CLEAN


async def test_inbound_call_reaches_the_app_with_caller_id(harness: CallHarness, app: StasisApp) -> None:
    caller, start = await inbound_call(harness, app, to="7001")
    assert start["args"] == ["inbound", "7001"]
    assert start["channel"]["caller"]["number"] == "5551234"
    assert start["channel"]["dialplan"]["context"] == "harness-inbound"
    assert start["channel"]["dialplan"]["exten"] == "7001"
    await app.events.wait_for(
        lambda e: (
            e["type"] == "ChannelStateChange"
            and e["channel"]["id"] == caller.channel_id
            and e["channel"]["state"] == "Up"
        )
    )
    await caller_hangs_up(harness, app, caller)
    assert await harness.wait_no_strays() == CLEAN
    # Gone, and the app (never subscribed to it) was told nothing after StasisEnd.
    events = app.events.of_channel(caller.channel_id)
    assert events[-1]["type"] == "StasisEnd", app.events.summary()
    assert position(events, "ChannelDestroyed") == -1


async def test_bridge_enter_and_leave_events_and_far_end_sees_the_bridge(
    harness: CallHarness, app: StasisApp
) -> None:
    caller, _ = await inbound_call(harness, app)
    agent_id = await answered_phone(harness, app, "1031")
    bridge = await harness.ari.post("/bridges", {"type": "mixing"})
    bridge_id = str(bridge["id"])

    await harness.ari.post(f"/bridges/{bridge_id}/addChannel", {"channel": caller.channel_id})
    await app.events.wait_for(of_type("ChannelEnteredBridge", caller.channel_id))
    await harness.ari.post(f"/bridges/{bridge_id}/addChannel", {"channel": agent_id})
    entered = await app.events.wait_for(of_type("ChannelEnteredBridge", agent_id))
    assert entered["bridge"]["id"] == bridge_id
    assert sorted(entered["bridge"]["channels"]) == sorted([caller.channel_id, agent_id])
    await harness.wait_heard(caller, has_heard("bridged", bridge_id=bridge_id))

    await harness.ari.post(f"/bridges/{bridge_id}/removeChannel", {"channel": agent_id})
    left = await app.events.wait_for(of_type("ChannelLeftBridge", agent_id))
    assert left["bridge"]["channels"] == [caller.channel_id]

    await harness.ari.delete(f"/channels/{agent_id}")
    await harness.hangup(caller)
    await app.events.wait_for(of_type("ChannelLeftBridge", caller.channel_id))
    await harness.ari.delete(f"/bridges/{bridge_id}")
    assert await gone_within(harness, f"/bridges/{bridge_id}") == 404
    assert await harness.wait_no_strays() == CLEAN


async def test_playback_starts_and_finishes_and_the_caller_heard_it(
    harness: CallHarness, app: StasisApp
) -> None:
    caller, _ = await inbound_call(harness, app)
    playback = await harness.ari.post(f"/channels/{caller.channel_id}/play", {"media": "sound:hello-world"})
    playback_id = str(playback["id"])

    def about_playback(kind: str) -> Any:
        return lambda e: e["type"] == kind and e["playback"]["id"] == playback_id

    started_at, started = await app.events.wait_for_index(about_playback("PlaybackStarted"))
    finished_at, finished = await app.events.wait_for_index(about_playback("PlaybackFinished"), within=10)
    assert started_at < finished_at
    assert started["playback"]["target_uri"] == f"channel:{caller.channel_id}"
    assert started["playback"]["media_uri"] == "sound:hello-world"
    assert finished["playback"]["state"] == "done"
    await harness.wait_heard(caller, has_heard("playback", media="sound:hello-world"))

    await caller_hangs_up(harness, app, caller)
    assert await harness.wait_no_strays() == CLEAN


async def test_far_end_hangup_cascades_when_the_app_hangs_up_the_other_party(
    harness: CallHarness, app: StasisApp
) -> None:
    caller, _ = await inbound_call(harness, app)
    agent_id = await answered_phone(harness, app, "1041")
    bridge_id = str((await harness.ari.post("/bridges", {"type": "mixing"}))["id"])
    await harness.ari.post(f"/bridges/{bridge_id}/addChannel", {"channel": [caller.channel_id, agent_id]})
    await app.events.wait_for(of_type("ChannelEnteredBridge", agent_id))
    await app.events.wait_for(of_type("ChannelEnteredBridge", caller.channel_id))
    # To learn how the caller's channel ended, the app follows it beyond Stasis.
    await harness.ari.post(
        f"/applications/{app.name}/subscription", {"eventSource": f"channel:{caller.channel_id}"}
    )

    await harness.hangup(caller)
    await app.events.wait_for(of_type("StasisEnd", caller.channel_id))
    # The application's part of the cascade: the other party and the bridge go too.
    await harness.ari.delete(f"/channels/{agent_id}")
    await harness.ari.delete(f"/bridges/{bridge_id}")

    caller_gone = await app.events.wait_for(of_type("ChannelDestroyed", caller.channel_id))
    assert caller_gone["cause"] == CAUSE_NORMAL
    agent_gone = await app.events.wait_for(of_type("ChannelDestroyed", agent_id))
    assert agent_gone["cause"] == CAUSE_NORMAL
    caller_events = app.events.of_channel(caller.channel_id)
    assert (
        position(caller_events, "ChannelHangupRequest")
        < position(caller_events, "ChannelLeftBridge")
        < position(caller_events, "StasisEnd")
        < position(caller_events, "ChannelDestroyed")
    ), app.events.summary()
    agent_events = app.events.of_channel(agent_id)
    assert (
        position(agent_events, "ChannelLeftBridge")
        < position(agent_events, "StasisEnd")
        < position(agent_events, "ChannelDestroyed")
    ), app.events.summary()
    assert await harness.wait_no_strays() == CLEAN


async def test_far_end_keys_arrive_as_dtmf_events_with_duration(harness: CallHarness, app: StasisApp) -> None:
    caller, _ = await inbound_call(harness, app)
    await harness.press(caller, "12#", duration_ms=120)

    digits: list[Event] = []
    start = 0
    for _ in range(3):
        start, event = await app.events.wait_for_index(
            of_type("ChannelDtmfReceived", caller.channel_id), start=start
        )
        digits.append(event)
        start += 1
    assert [event["digit"] for event in digits] == ["1", "2", "#"]
    for event in digits:
        assert isinstance(event["duration_ms"], int)
        assert 100 <= event["duration_ms"] <= 1000

    await harness.ari.post(f"/channels/{caller.channel_id}/dtmf", {"dtmf": "5"})
    await harness.wait_heard(caller, has_heard("dtmf", digit="5"))
    await caller_hangs_up(harness, app, caller)
    assert await harness.wait_no_strays() == CLEAN

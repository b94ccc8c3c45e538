"""Ownership tracking from events, the resync comparison, and the ordering keys of events."""

from __future__ import annotations

from typing import Any

from stasis_app.ari.events import GLOBAL_KEY, ordering_key
from stasis_app.ari.resync import OwnedState, reconcile, stasis_app_of

APP = "opencontact"


def channel(ident: str, app: str | None = APP, state: str = "Up") -> dict[str, Any]:
    dialplan: dict[str, Any] = {"context": "from-trunk", "exten": "5000", "priority": 1}
    if app is None:
        dialplan.update(app_name="Dial", app_data="PJSIP/1001")
    else:
        dialplan.update(app_name="Stasis", app_data=f"{app},inbound,5000")
    return {"id": ident, "name": f"PJSIP/trunk-{ident}", "state": state, "dialplan": dialplan}


def bridge(ident: str, members: list[str]) -> dict[str, Any]:
    return {"id": ident, "technology": "simple_bridge", "bridge_class": "stasis", "channels": members}


def test_stasis_app_is_read_from_the_dialplan_location() -> None:
    assert stasis_app_of(channel("1")) == APP
    assert stasis_app_of(channel("1", app="other")) == "other"
    assert stasis_app_of(channel("1", app=None)) == ""
    assert stasis_app_of({"id": "1"}) is None


def test_events_build_the_owned_view() -> None:
    owned = OwnedState()
    owned.observe({"type": "StasisStart", "channel": channel("c1"), "args": []})
    owned.observe({"type": "StasisStart", "channel": channel("c2"), "args": []})
    owned.observe({"type": "ChannelStateChange", "channel": channel("c2", state="Ringing")})
    owned.observe({"type": "ChannelStateChange", "channel": channel("foreign")})
    assert set(owned.channels) == {"c1", "c2"}
    assert owned.channels["c2"]["state"] == "Ringing"

    owned.observe({"type": "ChannelEnteredBridge", "channel": channel("c1"), "bridge": bridge("b1", ["c1"])})
    owned.observe({"type": "ChannelEnteredBridge", "channel": channel("x"), "bridge": bridge("bx", ["x"])})
    assert set(owned.bridges) == {"b1"}
    owned.observe({"type": "BridgeCreated", "bridge": bridge("b2", [])})
    owned.bridge_created(bridge("b3", []))
    assert set(owned.bridges) == {"b1", "b2", "b3"}
    owned.observe({"type": "BridgeMerged", "bridge": bridge("b2", ["c1"]), "bridge_from": bridge("b1", [])})
    assert set(owned.bridges) == {"b2", "b3"}
    owned.observe({"type": "BridgeDestroyed", "bridge": bridge("b2", [])})
    owned.bridge_destroyed("b3")
    assert owned.bridges == {}

    owned.observe({"type": "StasisEnd", "channel": channel("c1")})
    owned.observe({"type": "ChannelDestroyed", "channel": channel("c2"), "cause": 16})
    assert owned.channels == {}


def test_replacing_channel_is_dropped_on_stasis_start() -> None:
    owned = OwnedState()
    owned.observe({"type": "StasisStart", "channel": channel("old")})
    owned.observe({"type": "StasisStart", "channel": channel("new"), "replace_channel": channel("old")})
    assert set(owned.channels) == {"new"}


def test_reconcile_reports_gone_left_new_and_kept() -> None:
    owned = OwnedState()
    for ident in ("kept", "gone", "left"):
        owned.observe({"type": "StasisStart", "channel": channel(ident)})
    owned.bridge_created(bridge("b-kept", ["kept"]))
    owned.bridge_created(bridge("b-gone", ["gone"]))

    now_channels = [
        channel("kept", state="Up"),
        channel("left", app=None),
        channel("arrived"),
        channel("announced"),
        channel("other-app", app="someone-else"),
        channel("not-stasis", app=None),
    ]
    now_bridges = [
        bridge("b-kept", ["kept", "arrived"]),
        bridge("b-new", ["arrived"]),
        bridge("b-foreign", ["other-app"]),
    ]
    report, rebuilt = reconcile(
        APP, owned, now_channels, now_bridges, announced={"announced"}, disconnected_for=3.5
    )

    assert [c["id"] for c in report.channels_gone] == ["gone"]
    assert [c["id"] for c in report.channels_left] == ["left"]
    assert [c["id"] for c in report.channels_new] == ["arrived"]
    assert [c["id"] for c in report.channels_kept] == ["kept"]
    assert [b["id"] for b in report.bridges_gone] == ["b-gone"]
    assert [b["id"] for b in report.bridges_new] == ["b-new"]
    assert [b["id"] for b in report.bridges_kept] == ["b-kept"]
    assert report.changed
    assert not report.first
    assert report.disconnected_for == 3.5
    assert set(rebuilt.channels) == {"kept", "arrived", "announced"}
    assert set(rebuilt.bridges) == {"b-kept", "b-new"}
    assert rebuilt.bridges["b-kept"]["channels"] == ["kept", "arrived"]


def test_reconcile_without_changes_reports_nothing_changed() -> None:
    owned = OwnedState()
    owned.observe({"type": "StasisStart", "channel": channel("c1")})
    owned.bridge_created(bridge("b1", ["c1"]))
    report, rebuilt = reconcile(APP, owned, [channel("c1")], [bridge("b1", ["c1"])])
    assert not report.changed
    assert [c["id"] for c in report.channels_kept] == ["c1"]
    assert set(rebuilt.channels) == {"c1"} and set(rebuilt.bridges) == {"b1"}


def test_first_connection_adopts_channels_already_in_our_stasis() -> None:
    report, rebuilt = reconcile(APP, OwnedState(), [channel("c1"), channel("c2", app="x")], [], first=True)
    assert report.first
    assert [c["id"] for c in report.channels_new] == ["c1"]
    assert set(rebuilt.channels) == {"c1"}


def test_a_kept_channel_without_dialplan_information_is_kept() -> None:
    owned = OwnedState()
    owned.observe({"type": "StasisStart", "channel": channel("c1")})
    report, _ = reconcile(APP, owned, [{"id": "c1", "name": "Local/1@x-0001;1"}], [])
    assert [c["id"] for c in report.channels_kept] == ["c1"]
    assert report.channels_left == [] and report.channels_gone == []


def test_ordering_keys() -> None:
    assert ordering_key({"type": "StasisStart", "channel": {"id": "1.1"}}) == "channel:1.1"
    assert (
        ordering_key({"type": "ChannelEnteredBridge", "channel": {"id": "1.1"}, "bridge": {"id": "b"}})
        == "channel:1.1"
    )
    assert ordering_key({"type": "Dial", "caller": {"id": "1.1"}, "peer": {"id": "1.2"}}) == "channel:1.2"
    assert (
        ordering_key({"type": "PlaybackFinished", "playback": {"id": "p", "target_uri": "channel:1.3"}})
        == "channel:1.3"
    )
    assert (
        ordering_key({"type": "RecordingStarted", "recording": {"name": "r", "target_uri": "bridge:b9"}})
        == "bridge:b9"
    )
    assert ordering_key({"type": "BridgeDestroyed", "bridge": {"id": "b"}}) == "bridge:b"
    assert (
        ordering_key({"type": "EndpointStateChange", "endpoint": {"technology": "PJSIP", "resource": "1001"}})
        == "endpoint:PJSIP/1001"
    )
    assert ordering_key({"type": "ChannelVarset", "variable": "X", "value": "1"}) == GLOBAL_KEY
    assert ordering_key({"type": "ApplicationReplaced"}) == GLOBAL_KEY

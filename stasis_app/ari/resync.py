"""What the application owns in Asterisk, and what changed while the events WebSocket was down.

Asterisk does not replay events missed during a disconnection. After reconnecting, the only truth
is ``GET /channels`` and ``GET /bridges``; comparing them with what the application owned before
tells each call flow whether its channel or bridge survived. This module is plain data in, data out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stasis_app.ari.events import bridge_id_of, channel_id_of

#: A channel or bridge as ARI describes it (its JSON model).
Snapshot = dict[str, Any]


def stasis_app_of(channel: Mapping[str, Any]) -> str | None:
    """The Stasis application a channel is in, read from its dialplan location, if that says so.

    A channel inside Stasis runs the ``Stasis`` dialplan application with data ``<app>[,args...]``.
    Returns None when the snapshot carries no such information.
    """
    dialplan = channel.get("dialplan")
    if not isinstance(dialplan, Mapping):
        return None
    app_name = dialplan.get("app_name")
    if not isinstance(app_name, str) or not app_name:
        return None
    if app_name.lower() != "stasis":
        return ""
    app_data = dialplan.get("app_data")
    if not isinstance(app_data, str):
        return None
    return app_data.split(",", 1)[0].strip()


def _in_other_place(channel: Mapping[str, Any], app: str) -> bool:
    """True when the snapshot positively shows the channel is not in ``app``'s Stasis."""
    current = stasis_app_of(channel)
    return current is not None and current != app


def _in_our_stasis(channel: Mapping[str, Any], app: str) -> bool:
    return stasis_app_of(channel) == app


@dataclass
class OwnedState:
    """Channels in the application's Stasis and bridges it created or uses, with their last snapshot.

    Fed by every event (``observe``) and by the REST layer when it creates or destroys a bridge.
    """

    channels: dict[str, Snapshot] = field(default_factory=dict)
    bridges: dict[str, Snapshot] = field(default_factory=dict)

    def observe(self, event: Mapping[str, Any]) -> None:
        """Update ownership from one event, before it is dispatched."""
        kind = event.get("type")
        channel_id = channel_id_of(event)
        bridge_id = bridge_id_of(event)
        if kind == "StasisStart" and channel_id is not None:
            replaced = event.get("replace_channel")
            if isinstance(replaced, Mapping):
                self.channels.pop(str(replaced.get("id")), None)
            self.channels[channel_id] = dict(event["channel"])
        elif kind in ("StasisEnd", "ChannelDestroyed") and channel_id is not None:
            self.channels.pop(channel_id, None)
        elif channel_id is not None and channel_id in self.channels:
            self.channels[channel_id] = dict(event["channel"])

        if kind == "BridgeDestroyed" and bridge_id is not None:
            self.bridges.pop(bridge_id, None)
        elif kind == "BridgeMerged":
            source = event.get("bridge_from")
            if isinstance(source, Mapping):
                self.bridges.pop(str(source.get("id")), None)
            if bridge_id is not None:
                self.bridges[bridge_id] = dict(event["bridge"])
        elif bridge_id is not None and (
            kind == "BridgeCreated"
            or bridge_id in self.bridges
            or (channel_id is not None and channel_id in self.channels)
        ):
            self.bridges[bridge_id] = dict(event["bridge"])

    def bridge_created(self, bridge: Mapping[str, Any]) -> None:
        """The application created this bridge through REST (Asterisk sends it no event for that)."""
        ident = bridge.get("id")
        if isinstance(ident, str):
            self.bridges[ident] = dict(bridge)

    def bridge_destroyed(self, bridge_id: str) -> None:
        self.bridges.pop(bridge_id, None)


@dataclass(frozen=True)
class ResyncReport:
    """What changed while the application could not hear Asterisk.

    - ``channels_gone``: owned channels that no longer exist (last snapshot seen before the gap).
    - ``channels_left``: owned channels that still exist but are no longer in this app's Stasis.
    - ``channels_new``: channels in this app's Stasis that the application did not know about
      (arrived during the gap, or were already there when the process started).
    - ``channels_kept``: owned channels still there, with their current snapshot.
    - ``bridges_gone`` / ``bridges_new`` / ``bridges_kept``: the same for bridges; a bridge is new
      when it was unknown but holds one of the application's channels.
    - ``first``: True for the first connection of this process (nothing was owned before).
    """

    first: bool
    channels_gone: list[Snapshot]
    channels_left: list[Snapshot]
    channels_new: list[Snapshot]
    channels_kept: list[Snapshot]
    bridges_gone: list[Snapshot]
    bridges_new: list[Snapshot]
    bridges_kept: list[Snapshot]
    disconnected_for: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(
            self.channels_gone
            or self.channels_left
            or self.channels_new
            or self.bridges_gone
            or self.bridges_new
        )


def _ids(items: Iterable[Snapshot]) -> list[str]:
    return [str(item.get("id")) for item in items]


def reconcile(
    app: str,
    owned: OwnedState,
    channels_now: Iterable[Mapping[str, Any]],
    bridges_now: Iterable[Mapping[str, Any]],
    announced: Collection[str] = (),
    *,
    first: bool = False,
    disconnected_for: float = 0.0,
) -> tuple[ResyncReport, OwnedState]:
    """Compare what was owned with what Asterisk has now; return the report and the rebuilt state.

    ``announced`` are channel ids whose ``StasisStart`` already arrived on the new WebSocket and is
    about to be dispatched: they are owned in the new state but not reported as new, so the
    application hears of them once.
    """
    live_channels = {str(c.get("id")): dict(c) for c in channels_now}
    live_bridges = {str(b.get("id")): dict(b) for b in bridges_now}

    gone: list[Snapshot] = []
    left: list[Snapshot] = []
    kept: list[Snapshot] = []
    for channel_id, before in owned.channels.items():
        now = live_channels.get(channel_id)
        if now is None:
            gone.append(before)
        elif _in_other_place(now, app):
            left.append(now)
        else:
            kept.append(now)

    new = [
        snapshot
        for channel_id, snapshot in live_channels.items()
        if channel_id not in owned.channels and channel_id not in announced and _in_our_stasis(snapshot, app)
    ]
    rebuilt = OwnedState()
    for snapshot in kept + new:
        rebuilt.channels[str(snapshot["id"])] = snapshot
    for channel_id in announced:
        if channel_id in live_channels:
            rebuilt.channels[channel_id] = live_channels[channel_id]

    ours = set(rebuilt.channels)
    bridges_gone: list[Snapshot] = []
    bridges_kept: list[Snapshot] = []
    for bridge_id, before in owned.bridges.items():
        now = live_bridges.get(bridge_id)
        if now is None:
            bridges_gone.append(before)
        else:
            bridges_kept.append(now)
    bridges_new = [
        snapshot
        for bridge_id, snapshot in live_bridges.items()
        if bridge_id not in owned.bridges and ours.intersection(_ids_of_members(snapshot))
    ]
    for snapshot in bridges_kept + bridges_new:
        rebuilt.bridges[str(snapshot["id"])] = snapshot

    report = ResyncReport(
        first=first,
        channels_gone=gone,
        channels_left=left,
        channels_new=new,
        channels_kept=kept,
        bridges_gone=bridges_gone,
        bridges_new=bridges_new,
        bridges_kept=bridges_kept,
        disconnected_for=disconnected_for,
    )
    return report, rebuilt


def _ids_of_members(bridge: Mapping[str, Any]) -> set[str]:
    members = bridge.get("channels")
    if not isinstance(members, list):
        return set()
    return {str(member) for member in members}


def describe(report: ResyncReport) -> str:
    """One log line summarising a report."""
    return (
        f"channels gone={_ids(report.channels_gone)} left={_ids(report.channels_left)} "
        f"new={_ids(report.channels_new)} kept={len(report.channels_kept)}; "
        f"bridges gone={_ids(report.bridges_gone)} new={_ids(report.bridges_new)} "
        f"kept={len(report.bridges_kept)}"
    )

"""What an ARI event is about: the key that orders it, and the ids of the objects it names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: A decoded ARI event as it arrives on the WebSocket (``type``, ``application``, ``timestamp``, ...).
Event = dict[str, Any]

#: Events that name no channel, bridge or endpoint (``ApplicationReplaced``, ``DeviceStateChanged``
#: for custom devices, global ``ChannelVarset``...) share this key, so they stay in order among themselves.
GLOBAL_KEY = "global"


def _object_id(event: Mapping[str, Any], field: str) -> str | None:
    value = event.get(field)
    if isinstance(value, Mapping):
        ident = value.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return None


def _target_key(event: Mapping[str, Any], field: str) -> str | None:
    """Playbacks and recordings say what they play to: ``channel:<id>`` or ``bridge:<id>``."""
    value = event.get(field)
    if isinstance(value, Mapping):
        target = value.get("target_uri")
        if isinstance(target, str) and ":" in target:
            return target
    return None


def ordering_key(event: Mapping[str, Any]) -> str:
    """The queue an event joins so that everything about one channel is handled in order.

    - Events carrying a ``channel`` go to that channel's queue (including ``ChannelEnteredBridge``).
    - ``Dial`` names its outbound channel as ``peer``: it joins the peer's queue.
    - Playback and recording events join the queue of the channel or bridge they target, so a
      ``PlaybackFinished`` is handled after the events that came before it on that channel.
    - Otherwise the ``bridge``, then the ``endpoint``; anything else goes to ``GLOBAL_KEY``.
    """
    channel_id = _object_id(event, "channel") or _object_id(event, "peer")
    if channel_id is not None:
        return f"channel:{channel_id}"
    for field in ("playback", "recording"):
        target = _target_key(event, field)
        if target is not None:
            return target
    bridge_id = _object_id(event, "bridge")
    if bridge_id is not None:
        return f"bridge:{bridge_id}"
    endpoint = event.get("endpoint")
    if isinstance(endpoint, Mapping):
        return f"endpoint:{endpoint.get('technology', '')}/{endpoint.get('resource', '')}"
    return GLOBAL_KEY


def channel_id_of(event: Mapping[str, Any]) -> str | None:
    """The id of the event's ``channel``, if it has one."""
    return _object_id(event, "channel")


def bridge_id_of(event: Mapping[str, Any]) -> str | None:
    """The id of the event's ``bridge``, if it has one."""
    return _object_id(event, "bridge")

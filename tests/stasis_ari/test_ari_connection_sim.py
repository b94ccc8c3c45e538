"""The connection layer against the real simulator over real sockets.

Life cycle of a call through aioari, reconnect and resync after the link is cut mid-traffic, a
flood of 10,000 events handled in order, and failing handlers that do not stop the rest.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from stasis_app.ari import (
    AriConnection,
    AriRequestError,
    ConnectionState,
    Event,
    ResyncReport,
    ordering_key,
)
from stasis_app.ari.rest import basic_authorization

from .sim_link import APP, CuttableLink, Simulator, ari_settings

pytestmark = pytest.mark.timeout(60)


async def wait_until(condition: Callable[[], bool], within: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def originate_many(conn: AriConnection, count: int, endpoint: str = "PJSIP/1001") -> list[str]:
    """Originate ``count`` calls into our Stasis and wait until each has entered it."""
    ids = []
    for _ in range(count):
        channel = await conn.rest.channels.originate(endpoint=endpoint, app=APP, formats="ulaw")
        ids.append(channel["id"])
    await wait_until(lambda: all(cid in conn.owned_channels for cid in ids), what="StasisStart of all")
    return ids


async def direct(simulator: Simulator, method: str, path: str, **params: str) -> Any:
    """A request straight to the simulator, bypassing the link: another ARI client acting meanwhile."""
    auth = {"Authorization": basic_authorization(simulator.settings.username, simulator.settings.password)}
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.request(method, f"{simulator.url}/ari/{path}", params=params) as resp,
    ):
        assert resp.status < 300, await resp.text()
        return await resp.json() if resp.status != 204 else None


async def test_connects_registers_and_reports_a_first_empty_resync(simulator: Simulator) -> None:
    reports: list[ResyncReport] = []
    states: list[ConnectionState] = []
    conn = AriConnection(ari_settings(simulator.url))
    conn.on_resync(lambda report, _: reports.append(report))
    conn.on_state(states.append)
    async with conn:
        async with asyncio.timeout(5):
            await conn.wait_connected()
        assert simulator.engine.app_registered(APP)
        assert {"channels", "bridges", "events", "playbacks"} <= set(conn.rest.resources())
        assert conn.status().as_dict()["state"] == "connected"
    assert states[:3] == [ConnectionState.CONNECTING, ConnectionState.RESYNCING, ConnectionState.CONNECTED]
    assert states[-1] is ConnectionState.STOPPED
    assert len(reports) == 1 and reports[0].first and not reports[0].changed
    assert not simulator.engine.app_registered(APP)


async def test_call_life_cycle_answer_bridge_play_hangup(simulator: Simulator) -> None:
    await simulator.engine.register_phone("1001")
    by_key: dict[str, list[str]] = defaultdict(list)
    bridges: list[str] = []
    finished: list[str] = []
    conn = AriConnection(ari_settings(simulator.url))

    async def on_start(event: Event, ari: AriConnection) -> None:
        channel_id = event["channel"]["id"]
        # aioari's own object model, through the layer's session
        channel = await ari.rest.native.channels.get(channelId=channel_id)
        await channel.answer()
        bridge = await ari.rest.bridges.create(type="mixing", name="life-cycle")
        bridges.append(bridge["id"])
        await ari.rest.bridges.addChannel(bridgeId=bridge["id"], channel=channel_id)
        playback = await ari.rest.channels.play(channelId=channel_id, media="sound:hello-world")
        assert playback["target_uri"] == f"channel:{channel_id}"

    async def on_playback_finished(event: Event, ari: AriConnection) -> None:
        channel_id = event["playback"]["target_uri"].split(":", 1)[1]
        await ari.rest.channels.hangup(channelId=channel_id)

    def on_destroyed(event: Event, ari: AriConnection) -> None:
        finished.append(event["channel"]["id"])

    def record(event: Event, ari: AriConnection) -> None:
        by_key[ordering_key(event)].append(event["type"])

    conn.on("StasisStart", on_start)
    conn.on("PlaybackFinished", on_playback_finished)
    conn.on("ChannelDestroyed", on_destroyed)
    conn.on("*", record)
    async with conn:
        async with asyncio.timeout(5):
            await conn.wait_connected()
        ids = await originate_many(conn, 3)
        await wait_until(lambda: sorted(finished) == sorted(ids), what="all hung up")
        assert len(bridges) == 3
        assert set(bridges) <= set(conn.owned_bridges)
        for bridge_id in bridges:
            await conn.rest.bridges.destroy(bridgeId=bridge_id)
        assert not set(bridges) & set(conn.owned_bridges)
        assert conn.owned_channels == {}
        assert conn.status().handler_errors == 0

    for channel_id in ids:
        kinds = by_key[f"channel:{channel_id}"]
        wanted = [
            "StasisStart",
            "ChannelEnteredBridge",
            "PlaybackStarted",
            "PlaybackFinished",
            "ChannelHangupRequest",
            "ChannelLeftBridge",
            "StasisEnd",
            "ChannelDestroyed",
        ]
        positions = [kinds.index(kind) for kind in wanted]
        assert positions == sorted(positions), kinds
        heard = simulator.engine.heard(channel_id)
        assert {"kind": "playback", "media": "sound:hello-world"} in heard


async def test_errors_come_back_as_ari_request_errors_and_raw_requests_work(simulator: Simulator) -> None:
    await simulator.engine.register_phone("1001")
    async with AriConnection(ari_settings(simulator.url)) as conn:
        async with asyncio.timeout(5):
            await conn.wait_connected()
        with pytest.raises(AriRequestError) as missing:
            await conn.rest.channels.answer(channelId="no-such-channel")
        assert missing.value.status == 404
        assert missing.value.message == "Channel not found"
        with pytest.raises(TypeError):
            await conn.rest.channels.answer()
        [channel_id] = await originate_many(conn, 1)
        listed = await conn.request("GET", "/channels")
        assert channel_id in [c["id"] for c in listed]
        bridge = await conn.request("POST", "/bridges", params={"type": "holding"})
        assert bridge["id"] in conn.owned_bridges
        await conn.request("POST", f"/bridges/{bridge['id']}/addChannel", params={"channel": channel_id})
        await conn.request("DELETE", f"/bridges/{bridge['id']}")
        assert bridge["id"] not in conn.owned_bridges
        # booleans in the query string are spelled the way ARI expects
        await conn.rest.channels.mute(channelId=channel_id, direction="both")
        await conn.rest.channels.hangup(channelId=channel_id, reason="normal")


async def test_cut_mid_traffic_reconnects_resyncs_and_reports_changes(
    simulator: Simulator, link: CuttableLink
) -> None:
    engine = simulator.engine
    for resource in ("1001", "1002", "1003"):
        await engine.register_phone(resource)
    reports: list[ResyncReport] = []
    states: list[ConnectionState] = []
    varsets: dict[str, list[int]] = defaultdict(list)
    conn = AriConnection(ari_settings(link.url))
    conn.on_resync(lambda report, _: reports.append(report))
    conn.on_state(states.append)

    def on_varset(event: Event, ari: AriConnection) -> None:
        if event.get("variable") == "TICK":
            varsets[event["channel"]["id"]].append(int(event["value"]))

    conn.on("ChannelVarset", on_varset)
    async with conn:
        async with asyncio.timeout(5):
            await conn.wait_connected()
        [hung_up] = await originate_many(conn, 1, "PJSIP/1001")
        [kept] = await originate_many(conn, 1, "PJSIP/1002")
        [moved] = await originate_many(conn, 1, "PJSIP/1003")
        bridge_kept = (await conn.rest.bridges.create(type="mixing"))["id"]
        await conn.rest.bridges.addChannel(bridgeId=bridge_kept, channel=kept)
        bridge_gone = (await conn.rest.bridges.create(type="holding"))["id"]

        ticking = True

        async def tick() -> None:
            n = 0
            while ticking:
                if kept in engine.channels:
                    engine.set_variable(engine.channels[kept], "TICK", str(n))
                n += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(tick())
        await wait_until(lambda: len(varsets[kept]) > 20, what="traffic flowing")
        link.cut()
        await wait_until(lambda: conn.state is not ConnectionState.CONNECTED, what="disconnect noticed")
        await wait_until(lambda: not engine.app_registered(APP), what="simulator saw the socket close")

        # While the application is away: a far end hangs up, another client destroys one bridge
        # and puts one of our channels into a new bridge.
        await engine.far_end_hangup(hung_up)
        await direct(simulator, "DELETE", f"bridges/{bridge_gone}")
        bridge_new = (await direct(simulator, "POST", "bridges", type="mixing"))["id"]
        await direct(simulator, "POST", f"bridges/{bridge_new}/addChannel", channel=moved)
        await asyncio.sleep(0.1)  # a few backoff rounds against a refusing peer

        link.restore()
        async with asyncio.timeout(5):
            await conn.wait_connected()
        received_before = len(varsets[kept])
        await wait_until(lambda: len(varsets[kept]) > received_before + 20, what="traffic after reconnect")
        ticking = False
        await ticker

        assert len(reports) == 2
        report = reports[1]
        assert not report.first and report.changed
        assert [c["id"] for c in report.channels_gone] == [hung_up]
        assert sorted(c["id"] for c in report.channels_kept) == sorted([kept, moved])
        assert report.channels_new == [] and report.channels_left == []
        assert [b["id"] for b in report.bridges_gone] == [bridge_gone]
        assert [b["id"] for b in report.bridges_new] == [bridge_new]
        assert [b["id"] for b in report.bridges_kept] == [bridge_kept]
        assert report.disconnected_for > 0
        assert set(conn.owned_channels) == {kept, moved}
        assert set(conn.owned_bridges) == {bridge_kept, bridge_new}
        status = conn.status()
        assert status.connects == 2 and status.sessions >= 3

        # ticks are in order and never duplicated, with a hole where the link was down
        ticks = varsets[kept]
        assert ticks == sorted(set(ticks))
        assert any(b - a > 1 for a, b in itertools.pairwise(ticks))

        # and the application keeps working on the same objects
        await conn.rest.channels.hangup(channelId=kept)
        await wait_until(lambda: kept not in conn.owned_channels, what="hangup after reconnect")

    seen = [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]
    assert seen[:4] == [
        ConnectionState.CONNECTING,
        ConnectionState.RESYNCING,
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
    ]
    assert ConnectionState.RESYNCING in seen[4:] and seen[-1] is ConnectionState.STOPPED


async def test_first_connection_adopts_channels_left_in_stasis_by_a_previous_process(
    simulator: Simulator,
) -> None:
    await simulator.engine.register_phone("1001")
    async with AriConnection(ari_settings(simulator.url)) as earlier:
        async with asyncio.timeout(5):
            await earlier.wait_connected()
        left_behind = await originate_many(earlier, 2)

    reports: list[ResyncReport] = []
    later = AriConnection(ari_settings(simulator.url))
    later.on_resync(lambda report, _: reports.append(report))
    async with later:
        async with asyncio.timeout(5):
            await later.wait_connected()
        assert reports[0].first
        assert sorted(c["id"] for c in reports[0].channels_new) == sorted(left_behind)
        assert set(later.owned_channels) == set(left_behind)
        for channel_id in left_behind:
            await later.rest.channels.hangup(channelId=channel_id)
        await wait_until(lambda: not later.owned_channels, what="adopted channels hung up")


async def test_keeps_retrying_while_asterisk_is_away(simulator: Simulator, link: CuttableLink) -> None:
    link.cut()
    conn = AriConnection(ari_settings(link.url))
    async with conn:
        await wait_until(lambda: conn.status().sessions >= 4, what="several attempts")
        assert conn.state in (ConnectionState.CONNECTING, ConnectionState.DISCONNECTED)
        assert conn.status().last_error
        link.restore()
        async with asyncio.timeout(5):
            await conn.wait_connected()
        assert simulator.engine.app_registered(APP)


async def test_flood_of_10000_events_all_arrive_in_order_per_channel(simulator: Simulator) -> None:
    engine = simulator.engine
    await engine.register_phone("1001")
    seen: dict[str, list[int]] = defaultdict(list)
    rest_seen: dict[str, list[int]] = defaultdict(list)

    async def on_varset(event: Event, ari: AriConnection) -> None:
        value = int(event["value"])
        if value % 10 == 0:
            await asyncio.sleep(0)  # a handler that yields must still see its channel in order
        target = seen if event["variable"] == "SEQ" else rest_seen
        target[event["channel"]["id"]].append(value)

    conn = AriConnection(ari_settings(simulator.url), max_pending=2_000)
    conn.on("ChannelVarset", on_varset)
    async with conn:
        async with asyncio.timeout(5):
            await conn.wait_connected()
        ids = await originate_many(conn, 50)

        async def set_by_rest(channel_id: str) -> None:
            for n in range(40):
                await conn.rest.channels.setChannelVar(channelId=channel_id, variable="REST", value=str(n))

        rest_calls = asyncio.gather(*(set_by_rest(cid) for cid in ids[:5]))
        for n in range(200):
            for channel_id in ids:
                engine.set_variable(engine.channels[channel_id], "SEQ", str(n))
            if n % 20 == 0:
                await asyncio.sleep(0)
        await rest_calls
        await wait_until(
            lambda: sum(map(len, seen.values())) >= 10_000 and sum(map(len, rest_seen.values())) >= 200,
            within=30,
            what="the flood",
        )
        await conn.join()
        status = conn.status()
        assert status.active_queues == 0 and status.pending == 0

    assert sum(map(len, seen.values())) == 10_000
    for channel_id in ids:
        assert seen[channel_id] == list(range(200)), channel_id
    for channel_id in ids[:5]:
        assert rest_seen[channel_id] == list(range(40)), channel_id


async def test_a_raising_handler_is_logged_and_does_not_stop_others(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    engine = simulator.engine
    await engine.register_phone("1001")
    after_failure: dict[str, list[int]] = defaultdict(list)
    conn = AriConnection(ari_settings(simulator.url))
    doomed: list[str] = []

    # Asterisk also reports its own variables (STASISSTATUS, BRIDGEPEER ...): only N is this test's.
    async def fragile(event: Event, ari: AriConnection) -> None:
        if event["variable"] == "N" and event["channel"]["id"] in doomed:
            raise RuntimeError("call flow bug")

    def sturdy(event: Event, ari: AriConnection) -> None:
        if event["variable"] == "N":
            after_failure[event["channel"]["id"]].append(int(event["value"]))

    conn.on("ChannelVarset", fragile)
    conn.on("ChannelVarset", sturdy)
    with caplog.at_level(logging.ERROR, logger="stasis_app.ari.connection"):
        async with conn:
            async with asyncio.timeout(5):
                await conn.wait_connected()
            ids = await originate_many(conn, 4)
            doomed.append(ids[0])
            for n in range(25):
                for channel_id in ids:
                    engine.set_variable(engine.channels[channel_id], "N", str(n))
            await wait_until(lambda: sum(map(len, after_failure.values())) == 100, what="all handled")
            assert conn.status().handler_errors == 25
            assert conn.state is ConnectionState.CONNECTED
    for channel_id in ids:
        assert after_failure[channel_id] == list(range(25))
    failures = [r for r in caplog.records if "call flow bug" in str(r.exc_info and r.exc_info[1])]
    assert len(failures) == 25
    assert ids[0] in failures[0].getMessage() and "ChannelVarset" in failures[0].getMessage()


async def test_stop_is_bounded_even_with_a_stuck_handler(simulator: Simulator) -> None:
    await simulator.engine.register_phone("1001")
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(event: Event, ari: AriConnection) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    conn = AriConnection(ari_settings(simulator.url), drain_timeout=0.2)
    conn.on("StasisStart", stuck)
    await conn.start()
    async with asyncio.timeout(5):
        await conn.wait_connected()
    await conn.rest.channels.originate(endpoint="PJSIP/1001", app=APP)
    async with asyncio.timeout(5):
        await started.wait()
    began = time.monotonic()
    await conn.stop()
    assert time.monotonic() - began < 2.0
    assert cancelled.is_set()
    assert conn.state is ConnectionState.STOPPED
    assert not simulator.engine.app_registered(APP)

"""The project's own dialplan/extensions.conf: it parses cleanly and routes every kind of call into Stasis
with the arguments the application expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from ari_sim.dialplan import ChannelGone, Dialplan, DialplanRunner, DialplanTarget, project_dialplan_path

from .recording_host import RecordingHost

CONF = Path(__file__).resolve().parents[2] / "dialplan" / "extensions.conf"
CHANNEL = "1764405069.1"


@pytest.fixture(scope="module")
def plan() -> Dialplan:
    return Dialplan.load(CONF)


def test_project_path_points_at_the_repository_file() -> None:
    assert project_dialplan_path() == CONF
    assert CONF.is_file()


def test_every_context_parses_without_warnings(plan: Dialplan) -> None:
    assert plan.warnings == []
    assert {"from-trunk", "from-internal", "dialer", "dialer-amd", "stasis-return"} <= set(plan.contexts)
    for name, context in plan.contexts.items():
        for ext in context.extensions:
            assert 1 in ext.steps, f"{name},{ext.name} has no priority 1"
            # priorities are consecutive, as `n` builds them; a gap would strand a channel mid-way
            assert sorted(ext.steps) == list(range(1, len(ext.steps) + 1)), (name, ext.name)
    assert plan.globals["OC_APP"] == "opencontact"
    assert plan.general["autofallthrough"] == "yes"


def test_only_stock_applications_are_used(plan: Dialplan) -> None:
    stock = {"NoOp", "Stasis", "GotoIf", "Goto", "Hangup", "AMD", "Playback", "Progress", "Busy"}
    stock |= {"Congestion", "VoiceMail"}
    used = {
        step.app for ctx in plan.contexts.values() for ext in ctx.extensions for step in ext.steps.values()
    }
    assert used <= stock, used - stock


def test_every_goto_in_the_file_lands_on_an_existing_priority(plan: Dialplan) -> None:
    for ctx in plan.contexts.values():
        for ext in ctx.extensions:
            for step in ext.steps.values():
                if step.app not in ("Goto", "GotoIf"):
                    continue
                branches = step.data.partition("?")[2].split(":") if step.app == "GotoIf" else [step.data]
                for branch in filter(None, branches):
                    parts = branch.split(",")
                    context = parts[0] if len(parts) == 3 else ctx.name
                    exten = parts[-2] if len(parts) >= 2 else ext.name
                    target = parts[-1]
                    found = ext if len(parts) == 1 else plan.find_extension(context, exten)
                    assert found is not None, (step.source, branch)
                    assert (int(target) if target.isdigit() else found.labels.get(target)) in found.steps


@pytest.mark.parametrize(
    ("context", "exten", "expected"),
    [
        ("from-trunk", "+59899123456", "_+X."),
        ("from-trunk", "2000", "_X."),
        ("from-trunk", "7", "_X"),
        ("from-trunk", "s", "s"),
        ("from-internal", "*72205", "_[*#0-9]."),
        ("from-internal", "#", "_[*#0-9]"),
        ("from-internal", "+59899123456", "_+X."),
        ("dialer-amd", "099123456", "_X."),
        ("dialer", "s", "s"),
        ("stasis-return", "vm1234", "_vm."),
        ("stasis-return", "noservice", "noservice"),
    ],
)
def test_extension_chosen(plan: Dialplan, context: str, exten: str, expected: str) -> None:
    found = plan.find_extension(context, exten)
    assert found is not None
    assert found.name == expected


def test_unknown_inbound_text_is_not_an_extension(plan: Dialplan) -> None:
    # chan_pjsip answers 404 for these; the engine asks before creating the channel
    assert not plan.extension_exists("from-trunk", "abc")
    assert not plan.exists("no-such-context", "2000")
    assert plan.extension_exists("from-trunk", "2000")


async def run(plan: Dialplan, host: RecordingHost, context: str, exten: str) -> None:
    await DialplanRunner(plan, host).run(CHANNEL, context, exten)


@pytest.mark.parametrize("did", ["+59899123456", "2000", "7", "s"])
async def test_inbound_call_carries_the_queue_priority(plan: Dialplan, did: str) -> None:
    host = RecordingHost(variables={"CALLERID(num)": "099111222", "QUEUE_PRIO": "7"})
    await run(plan, host, "from-trunk", did)
    assert host.of_kind("stasis") == [("stasis", "opencontact", ["inbound", did, "7"])]


@pytest.mark.parametrize("did", ["+59899123456", "2000", "7"])
async def test_inbound_did_enters_stasis_with_the_did(plan: Dialplan, did: str) -> None:
    host = RecordingHost(variables={"CALLERID(num)": "099111222"})
    await run(plan, host, "from-trunk", did)
    # QUEUE_PRIO unset: Asterisk passes an empty trailing argument (the caller's priority, 0).
    assert host.of_kind("stasis") == [("stasis", "opencontact", ["inbound", did, ""])]
    assert host.steps[0].app == "NoOp"
    assert host.steps[0].app_data == f"Inbound call to DID {did} from 099111222"
    assert (host.steps[1].app, host.steps[1].app_data) == ("Stasis", f"opencontact,inbound,{did},")
    assert all(s.context == "from-trunk" and s.exten == did for s in host.steps)
    # `continue` without a target: next priority, the GotoIf does not jump, the call ends normally
    assert host.apps() == ["NoOp", "Stasis", "GotoIf", "Hangup"]
    assert host.hangups == [(CHANNEL, 16)]


@pytest.mark.parametrize("dialed", ["*72205", "##", "555123", "9099123456", "205", "701", "*8", "#"])
async def test_phone_dialing_enters_stasis_as_internal(plan: Dialplan, dialed: str) -> None:
    host = RecordingHost(variables={"CHANNEL(endpoint)": "1001"})
    await run(plan, host, "from-internal", dialed)
    assert host.of_kind("stasis") == [("stasis", "opencontact", ["internal", dialed, "1001"])]
    assert host.steps[0].context == "from-internal"  # found through an include, context stays the same


@pytest.mark.parametrize(
    ("amd", "exten"),
    [(("MACHINE", "INITIALSILENCE-2500-2500"), "099123456"), (("HUMAN", "HUMAN-300-500"), "s")],
)
async def test_dialer_leg_runs_amd_then_stasis(plan: Dialplan, amd: tuple[str, str], exten: str) -> None:
    host = RecordingHost(amd=amd)
    await run(plan, host, "dialer-amd", exten)
    assert host.variables["AMDSTATUS"] == amd[0]
    assert host.variables["AMDCAUSE"] == amd[1]
    assert host.of_kind("stasis") == [("stasis", "opencontact", ["dialer", amd[0], amd[1]])]
    assert host.apps()[:2] == ["NoOp", "AMD"]


async def test_dialer_leg_gone_during_amd_skips_stasis(plan: Dialplan) -> None:
    host = RecordingHost(amd=("HANGUP", "HANGUP"))
    await run(plan, host, "dialer-amd", "099123456")
    assert host.of_kind("stasis") == []
    assert host.apps() == ["NoOp", "AMD", "GotoIf", "Hangup"]
    assert host.steps[-1].priority == 5  # the `gone` label


async def test_plain_dialer_context(plan: Dialplan) -> None:
    host = RecordingHost()
    await run(plan, host, "dialer", "099123456")
    assert host.of_kind("stasis") == [("stasis", "opencontact", ["dialer"])]
    assert host.of_kind("amd") == []


async def test_application_not_running_gives_no_service_announcement(plan: Dialplan) -> None:
    host = RecordingHost(registered_apps=frozenset())
    await run(plan, host, "from-trunk", "2000")
    assert host.variables["STASISSTATUS"] == "FAILED"
    assert [(s.context, s.exten) for s in host.steps[-4:]] == [("stasis-return", "noservice")] * 4
    assert ("play", "sound:ss-noservice") in host.calls
    assert ("answer",) not in host.calls  # played as early media
    assert ("indicate", "progress") in host.calls
    assert host.hangups == [(CHANNEL, 41)]


async def test_continue_to_polite_hangup(plan: Dialplan) -> None:
    host = RecordingHost(stasis=lambda app, args: DialplanTarget("stasis-return", "hangup"))
    await run(plan, host, "from-trunk", "2000")
    assert host.of_kind("play") == [("play", "sound:vm-goodbye")]
    assert host.hangups == [(CHANNEL, 16)]


async def test_continue_to_an_unknown_return_extension_still_ends_politely(plan: Dialplan) -> None:
    host = RecordingHost(stasis=lambda app, args: DialplanTarget("stasis-return", "nowhere"))
    await run(plan, host, "from-internal", "205")
    assert host.variables["INVALID_EXTEN"] == "nowhere"
    assert host.of_kind("play") == [("play", "sound:vm-goodbye")]
    assert host.hangups == [(CHANNEL, 16)]


async def test_continue_to_busy_plays_busy_then_hangs_up_17(plan: Dialplan) -> None:
    host = RecordingHost(stasis=lambda app, args: DialplanTarget("stasis-return", "busy"))
    await run(plan, host, "from-trunk", "2000")
    assert ("indicate", "busy") in host.calls
    assert ("wait", 5.0) in host.calls
    assert host.hangups == [(CHANNEL, 17)]


async def test_hangup_inside_stasis_ends_the_dialplan(plan: Dialplan) -> None:
    def hang_up(app: str, args: object) -> DialplanTarget:
        raise ChannelGone()

    host = RecordingHost(stasis=hang_up)
    await run(plan, host, "from-trunk", "2000")
    assert host.apps() == ["NoOp", "Stasis"]
    assert len(host.hangups) == 1

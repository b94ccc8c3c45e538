"""Running channels through small dialplans: what the runner asks its host to do, step by step."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ari_sim.dialplan import ChannelGone, Dialplan, DialplanRunner, DialplanTarget, evaluate_expression

from .recording_host import RecordingHost

CHANNEL = "1764405069.7"


async def run(
    conf: str, host: RecordingHost, context: str = "ctx", exten: str = "100", priority: int = 1
) -> Dialplan:
    plan = Dialplan.parse(conf)
    assert plan.warnings == []
    await DialplanRunner(plan, host).run(CHANNEL, context, exten, priority)
    return plan


async def test_each_application_is_announced_with_substituted_data() -> None:
    host = RecordingHost(variables={"CALLERID(num)": "099555", "CHANNEL": "PJSIP/trunk-00000001"})
    await run(
        """
[globals]
GREETING=hello-world
[ctx]
exten => _1XX,1,Answer()
 same => n,Playback(${GREETING}&tt-monkeys)
 same => n,NoOp(${EXTEN} ${CONTEXT} ${PRIORITY} ${CALLERID(num)} ${CHANNEL})
 same => n,Hangup()
""",
        host,
    )
    assert [(s.priority, s.app, s.app_data) for s in host.steps] == [
        (1, "Answer", ""),
        (2, "Playback", "hello-world&tt-monkeys"),
        (3, "NoOp", "100 ctx 3 099555 PJSIP/trunk-00000001"),
        (4, "Hangup", ""),
    ]
    assert host.of_kind("play") == [("play", "sound:hello-world"), ("play", "sound:tt-monkeys")]
    assert host.variables["PLAYBACKSTATUS"] == "SUCCESS"
    assert host.hangups == [(CHANNEL, 16)]


async def test_substrings_functions_and_globals() -> None:
    host = RecordingHost(variables={"NUM": "909912345", "NAME_OF_NUM": "NUM"})
    plan = Dialplan.parse(
        """
[globals]
PREFIX=9
[ctx]
exten => 100,1,Set(A=${NUM:1})
 same => n,Set(B=${NUM:-4})
 same => n,Set(C=${NUM:1:3})
 same => n,Set(D=${NUM:0:-2})
 same => n,Set(E=${LEN(${NUM})})
 same => n,Set(F=${IF($[${LEN(${NUM})} > 5]?long:short)})
 same => n,Set(G=${PREFIX}${UNSET}x)
 same => n,Set(GLOBAL(PREFIX)=0)
 same => n,Set(H=${PREFIX}${GLOBAL(PREFIX)})
 same => n,Set(__INHERITED=yes)
 same => n,Set(I=${ISNULL(${UNSET})}${EXISTS(${NUM})})
 same => n,Set(J=${${NAME_OF_NUM}:2:2})
 same => n,MSet(K=1,L=2)
"""
    )
    await DialplanRunner(plan, host).run(CHANNEL, "ctx", "100")
    v = host.variables
    assert (v["A"], v["B"], v["C"], v["D"]) == ("09912345", "2345", "099", "9099123")
    assert (v["E"], v["F"], v["G"], v["H"]) == ("9", "long", "9x", "00")
    assert v["INHERITED"] == "yes"
    assert (v["I"], v["J"], v["K"], v["L"]) == ("11", "99", "1", "2")
    assert plan.globals["PREFIX"] == "0"


async def test_goto_forms_and_labels() -> None:
    host = RecordingHost()
    await run(
        """
[ctx]
exten => 100,1,Goto(jump)
 same => n,NoOp(skipped)
 same => n(jump),Goto(200,1)
exten => 200,1,Goto(other,s,here)
[other]
exten => s,1,NoOp(not here)
 same => n(here),Hangup(USER_BUSY)
""",
        host,
    )
    assert [(s.context, s.exten, s.priority) for s in host.steps] == [
        ("ctx", "100", 1),
        ("ctx", "100", 3),
        ("ctx", "200", 1),
        ("other", "s", 2),
    ]
    assert host.hangups == [(CHANNEL, 17)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2000", "match"), ("2001", "nomatch"), ("", "nomatch")],
)
async def test_gotoif_with_expressions(value: str, expected: str) -> None:
    host = RecordingHost(variables={"X": value})
    await run(
        """
[ctx]
exten => 100,1,GotoIf($["${X}" = "2000"]?match:nomatch)
 same => n(match),Set(R=match)
 same => n,Hangup()
 same => n(nomatch),Set(R=nomatch)
 same => n,GotoIf($[1 = 2]?match)
 same => n,Hangup(21)
""",
        host,
    )
    assert host.variables["R"] == expected
    assert host.hangups == [(CHANNEL, 16 if expected == "match" else 21)]


async def test_missing_extension_hangs_up_with_cause_0_and_no_steps() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,NoOp()\n", host, exten="999")
    assert host.steps == []
    assert host.hangups == [(CHANNEL, 0)]


async def test_missing_context_hangs_up_too() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,NoOp()\n", host, context="nowhere")
    assert host.hangups == [(CHANNEL, 0)]


async def test_invalid_extension_goes_to_i() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => i,1,Playback(invalid)\n same => n,Hangup()\n", host, exten="999")
    assert host.variables["INVALID_EXTEN"] == "999"
    assert [(s.exten, s.app) for s in host.steps] == [("i", "Playback"), ("i", "Hangup")]


async def test_running_past_the_last_priority_hangs_up() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,Answer()\n same => n,Wait(1.5)\n", host)
    assert host.apps() == ["Answer", "Wait"]
    assert ("wait", 1.5) in host.calls
    assert host.hangups == [(CHANNEL, 0)]


async def test_starting_at_a_later_priority_or_label() -> None:
    conf = "[ctx]\nexten => 100,1,NoOp(a)\n same => n(b),NoOp(b)\n same => n,NoOp(c)\n"
    host = RecordingHost()
    await run(conf, host, priority=2)
    assert [s.app_data for s in host.steps] == ["b", "c"]
    labelled = RecordingHost()
    await DialplanRunner(Dialplan.parse(conf), labelled).run(CHANNEL, "ctx", "100", label="b")
    assert [s.app_data for s in labelled.steps] == ["b", "c"]
    missing = RecordingHost()
    await DialplanRunner(Dialplan.parse(conf), missing).run(CHANNEL, "ctx", "100", label="nope")
    assert missing.steps == []
    assert missing.hangups == [(CHANNEL, 0)]


@pytest.mark.parametrize(
    ("status", "tone", "cause"),
    [("BUSY", "busy", 17), ("CONGESTION", "congestion", 34), ("CHANUNAVAIL", "congestion", 34)],
)
async def test_falling_off_the_end_after_a_failed_dial(status: str, tone: str, cause: int) -> None:
    host = RecordingHost(dial_status=status)
    await run("[ctx]\nexten => 100,1,Dial(PJSIP/1001&Local/200@ctx,20,tT)\n", host)
    assert host.of_kind("dial") == [("dial", ["PJSIP/1001", "Local/200@ctx"], 20.0, "tT")]
    assert host.variables["DIALSTATUS"] == status
    assert host.calls[-2:] == [("indicate", tone), ("wait", 10.0)]
    assert host.hangups == [(CHANNEL, cause)]


async def test_hangup_without_cause_after_no_answer_reports_19() -> None:
    host = RecordingHost(dial_status="NOANSWER")
    await run("[ctx]\nexten => 100,1,Dial(PJSIP/1001,5)\n same => n,Hangup()\n", host)
    assert host.hangups == [(CHANNEL, 19)]


async def test_answered_dial_ends_the_call_unless_g() -> None:
    ended = RecordingHost()
    await run("[ctx]\nexten => 100,1,Dial(PJSIP/1001)\n same => n,NoOp(after)\n", ended)
    assert ended.apps() == ["Dial"]
    assert ended.of_kind("dial") == [("dial", ["PJSIP/1001"], None, "")]
    assert ended.hangups == [(CHANNEL, 16)]
    goes_on = RecordingHost()
    await run("[ctx]\nexten => 100,1,Dial(PJSIP/1001,,g)\n same => n,NoOp(after)\n", goes_on)
    assert goes_on.apps() == ["Dial", "NoOp"]


async def test_dial_without_destination_is_invalidargs() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,Dial()\n same => n,Hangup()\n", host)
    assert host.variables["DIALSTATUS"] == "INVALIDARGS"
    assert host.of_kind("dial") == []


async def test_stasis_arguments_and_continue_targets() -> None:
    targets = iter([DialplanTarget(priority=4), DialplanTarget(extension="200"), DialplanTarget(label="end")])
    host = RecordingHost(stasis=lambda app, args: next(targets))
    await run(
        """
[ctx]
exten => 100,1,Stasis(opencontact,first,"with,comma",${EXTEN})
 same => n,NoOp(skipped by priority 4)
 same => n(end),Hangup(31)
 same => n,NoOp(landed at 4)
 same => n,Stasis(opencontact)
exten => 200,1,NoOp(extension given: priority 1)
 same => n,Stasis(opencontact,third)
 same => n,NoOp(skipped by label)
 same => n(end),Hangup(CALL_REJECTED)
""",
        host,
    )
    assert host.of_kind("stasis") == [
        ("stasis", "opencontact", ["first", "with,comma", "100"]),
        ("stasis", "opencontact", []),
        ("stasis", "opencontact", ["third"]),
    ]
    assert host.variables["STASISSTATUS"] == "SUCCESS"
    assert host.hangups == [(CHANNEL, 21)]
    assert [(s.exten, s.priority) for s in host.steps] == [
        ("100", 1),
        ("100", 4),
        ("100", 5),
        ("200", 1),
        ("200", 2),
        ("200", 4),
    ]


async def test_continue_to_another_context() -> None:
    host = RecordingHost(stasis=lambda app, args: DialplanTarget("other", "s", 2))
    await run(
        "[ctx]\nexten => 100,1,Stasis(opencontact)\n[other]\nexten => s,1,NoOp(a)\n same => n,NoOp(b)\n", host
    )
    assert [(s.context, s.exten, s.priority, s.app_data) for s in host.steps[1:]] == [("other", "s", 2, "b")]


async def test_amd_sets_status_and_cause() -> None:
    host = RecordingHost(amd=("NOTSURE", "TOOLONG-5000"))
    await run("[ctx]\nexten => 100,1,AMD(2500,1500)\n same => n,NoOp(${AMDSTATUS}/${AMDCAUSE})\n", host)
    assert host.steps[1].app_data == "NOTSURE/TOOLONG-5000"


async def test_far_end_hangup_during_wait_ends_the_run() -> None:
    # the engine destroys a channel the far end hung up, so not even an `h` extension can run on it
    host = RecordingHost(far_end_hangs_up_after=3.0)
    await run(
        """
[ctx]
exten => 100,1,Answer()
 same => n,Wait(10)
 same => n,NoOp(never)
exten => h,1,NoOp(cleanup ${EXTEN})
""",
        host,
    )
    assert [(s.exten, s.app, s.app_data) for s in host.steps] == [
        ("100", "Answer", ""),
        ("100", "Wait", "10"),
    ]
    assert host.clock == 3.0
    assert len(host.hangups) == 1


async def test_h_extension_runs_after_hangup_app() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,Hangup(17)\nexten => h,1,Set(DONE=${EXTEN})\n", host)
    assert host.variables["DONE"] == "h"
    assert host.hangups == [(CHANNEL, 17)]


async def test_busy_without_timeout_waits_for_the_caller_to_hang_up() -> None:
    host = RecordingHost(far_end_hangs_up_after=7.0)
    await run("[ctx]\nexten => 100,1,Ringing()\n same => n,Busy()\n", host)
    assert host.calls[:3] == [("indicate", "ringing"), ("indicate", "busy"), ("wait", None)]
    assert host.clock == 7.0
    assert host.hangups == [(CHANNEL, 17)]


async def test_congestion_and_progress() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,Progress\n same => n,Congestion(2)\n same => n,NoOp(never)\n", host)
    assert host.calls == [("indicate", "progress"), ("indicate", "congestion"), ("wait", 2.0)]
    assert host.hangups == [(CHANNEL, 34)]


async def test_playback_failure_and_noanswer() -> None:
    host = RecordingHost(missing_sounds=frozenset({"nope"}))
    await run("[ctx]\nexten => 100,1,Playback(nope&never-played,noanswer)\n same => n,Answer(500)\n", host)
    assert host.variables["PLAYBACKSTATUS"] == "FAILED"
    assert host.of_kind("play") == [("play", "sound:nope")]
    assert host.calls[-2:] == [("answer",), ("wait", 0.5)]


async def test_unknown_application_is_skipped() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,SayDigits(123)\n same => n,Set(AFTER=1)\n", host)
    assert host.apps() == ["SayDigits", "Set"]
    assert host.variables["AFTER"] == "1"


async def test_application_names_are_case_insensitive() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,set(A=1)\n same => n,HANGUP(20)\n", host)
    assert host.variables["A"] == "1"
    assert host.hangups == [(CHANNEL, 20)]


async def test_an_unexpected_error_still_hangs_the_channel_up() -> None:
    host = RecordingHost(play_error=RuntimeError("media server exploded"))
    await run("[ctx]\nexten => 100,1,Playback(x)\n same => n,NoOp(never)\n", host)
    assert host.apps() == ["Playback"]
    assert host.hangups == [(CHANNEL, 0)]


async def test_a_goto_to_a_missing_label_ends_the_call() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,Goto(nowhere)\n same => n,NoOp(never)\n", host)
    assert host.apps() == ["Goto"]
    assert host.hangups == [(CHANNEL, 0)]


async def test_an_endless_loop_is_cut() -> None:
    host = RecordingHost()
    await run("[ctx]\nexten => 100,1,NoOp(again)\n same => n,Goto(1)\n", host)
    assert 1000 < len(host.steps) <= 10_001
    assert host.hangups == [(CHANNEL, 0)]


async def test_channel_gone_before_the_first_step() -> None:
    host = RecordingHost(gone=True)
    await run("[ctx]\nexten => 100,1,NoOp()\n", host)
    assert host.steps == []
    assert host.hangups == [(CHANNEL, 0)]


async def test_hangup_is_called_once_even_if_it_reports_the_channel_gone() -> None:
    class GoneOnHangup(RecordingHost):
        async def hangup(self, channel: str, cause: int) -> None:
            await super().hangup(channel, cause)
            raise ChannelGone()

    host = GoneOnHangup()
    await run("[ctx]\nexten => 100,1,NoOp()\n", host)
    assert host.hangups == [(CHANNEL, 0)]


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        ("1 = 1", "1"),
        ('"abc" = "abc"', "1"),
        ('"abc" != "abd"', "1"),
        ("10 < 9", "0"),
        ('"10" < "9"', "1"),  # quoted values compare as text
        ("2 <= 2", "1"),
        ("3 >= 4", "0"),
        ("3 + 4 * 2", "11"),
        ("(3 + 4) * 2", "14"),
        ("7 / 2", "3"),
        ("7 % 4", "3"),
        ("-3 + 1", "-2"),
        ("1.5 + 1", "2.5"),
        ("1 | 0", "1"),
        ("0 | 5", "5"),
        ('"" | fallback', "fallback"),
        ("1 & 0", "0"),
        ("4 & 5", "4"),
        ("!0", "1"),
        ("!abc", "0"),
        ('1 ? "yes" :: "no"', "yes"),
        ('0 ? "yes" :: "no"', "no"),
        ('"2000" : "2(.*)"', "000"),
        ('"2000" : "20"', "2"),
        ('"a2000" =~ "0+"', "3"),
        ('"a" ~~ "b"', "ab"),
        ("", ""),
        (" = 2000", ""),  # a syntax error, as an unset variable without quotes gives
        ("1 / 0", ""),
        ("abc + 1", ""),
    ],
)
def test_expressions(expr: str, result: str) -> None:
    assert evaluate_expression(expr) == result


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_numeric_comparisons_match_python(a: int, b: int) -> None:
    assert evaluate_expression(f"{a} < {b}") == str(int(a < b))
    assert evaluate_expression(f"{a} = {b}") == str(int(a == b))
    assert evaluate_expression(f"{a} + {b}") == str(a + b)

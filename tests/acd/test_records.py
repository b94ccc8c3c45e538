"""queue_log and CDR rows with Asterisk's fields."""

from __future__ import annotations

from datetime import datetime

from stasis_app.acd import records
from stasis_app.acd.records import CallFacts, cdr_row

T = datetime(2026, 11, 30, 9, 0, 0)


def test_queue_log_rows() -> None:
    assert records.enter_queue(T, "c1", "Sales", caller_number="555", position=2).as_kwargs() == {
        "time": T,
        "callid": "c1",
        "queuename": "Sales",
        "agent": "NONE",
        "event": "ENTERQUEUE",
        "data1": "",
        "data2": "555",
        "data3": "2",
        "data4": "",
        "data5": "",
    }
    row = records.connect(T, "c1", "Sales", "ann", holdtime=12.7, member_uniqueid="leg1", ringtime=3.2)
    assert (row.event, row.agent, row.data1, row.data2, row.data3) == ("CONNECT", "ann", "12", "leg1", "3")
    row = records.complete(
        T, "c1", "Sales", "ann", by_caller=False, holdtime=12, calltime=60.5, original_position=1
    )
    assert (row.event, row.data1, row.data2, row.data3) == ("COMPLETEAGENT", "12", "60", "1")
    row = records.abandon(T, "c1", "Sales", position=1, original_position=3, waittime=7.9)
    assert (row.event, row.agent, row.data1, row.data2, row.data3) == ("ABANDON", "NONE", "1", "3", "7")
    assert records.ring_no_answer(T, "c1", "Sales", "ann", 15000).data1 == "15000"
    row = records.agent_logoff(T, "ann", "PJSIP/1001", 3600.4)
    assert (row.callid, row.queuename, row.event, row.data1, row.data2) == (
        "NONE",
        "NONE",
        "AGENTLOGOFF",
        "PJSIP/1001",
        "3600",
    )
    row = records.add_member(T, "Sales", "ann", paused=True)
    assert (row.callid, row.event, row.data1) == ("REALTIME", "ADDMEMBER", "PAUSED")


def test_real_pause_rows_carry_the_pause_time_on_unpause() -> None:
    row = records.real_pause(T, "ann")
    assert (row.callid, row.queuename, row.agent, row.event, row.data1) == (
        "NONE",
        "NONE",
        "ann",
        "REALPAUSE",
        "",
    )
    row = records.real_unpause(T, "ann", 95.8)
    assert (row.callid, row.queuename, row.agent, row.event, row.data1, row.data2) == (
        "NONE",
        "NONE",
        "ann",
        "REALUNPAUSE",
        "95",
        "",
    )
    assert records.real_unpause(T, "ann", -2).data1 == "0"  # a clock step back never gives a negative


def test_agent_dump_and_the_abandon_of_a_caller_about_to_be_put_through() -> None:
    row = records.agent_dump(T, "c1", "Sales", "ann")
    assert (row.callid, row.queuename, row.agent, row.event) == ("c1", "Sales", "ann", "AGENTDUMP")
    assert (row.data1, row.data2, row.data3, row.data4, row.data5) == ("", "", "", "", "")
    row = records.abandon(T, "c1", "Sales", position=1, original_position=2, waittime=30.2, agent="ann")
    assert (row.agent, row.event, row.data1, row.data2, row.data3) == ("ann", "ABANDON", "1", "2", "30")


def test_cdr_of_an_answered_and_an_abandoned_call() -> None:
    start = T.timestamp()
    facts = CallFacts(
        "g1", "c1", "PJSIP/trunk-1", start, src="555", caller_name="Ann", dst="2000", campaign="Sales"
    )
    facts.answered, facts.ended, facts.agent = start + 20, start + 80, "bob"
    row = cdr_row(facts)
    assert (row["duration"], row["billsec"], row["disposition"], row["accountcode"]) == (
        80,
        60,
        "ANSWERED",
        "bob",
    )
    assert row["clid"] == '"Ann" <555>' and row["calldate"] == T and row["uniqueid"] == "c1"
    abandoned = CallFacts("g2", "c2", "PJSIP/trunk-2", start, src="556", dst="2000")
    abandoned.ended = start + 9
    row = cdr_row(abandoned)
    assert (row["duration"], row["billsec"], row["disposition"], row["answer"]) == (9, 0, "NO ANSWER", None)

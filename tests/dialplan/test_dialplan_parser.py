"""Reading extensions.conf syntax and choosing extensions as Asterisk does."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ari_sim.dialplan import Dialplan, pattern_matches, pattern_sort_key, split_app_args


def test_priorities_labels_same_and_next() -> None:
    plan = Dialplan.parse(
        """
[ctx]
exten => 100,1(start),NoOp(one)
 same => n,Set(A=1)
 same => n(done),Hangup()
exten => 200,1,NoOp()
exten => 200,n+2,NoOp(skips two)
exten => 200,s,NoOp(same priority again is refused)
exten = 300,hint,PJSIP/300
exten => 300,1,Answer
"""
    )
    hundred = plan.find_extension("ctx", "100")
    assert hundred is not None
    assert sorted(hundred.steps) == [1, 2, 3]
    assert hundred.labels == {"start": 1, "done": 3}
    assert hundred.steps[2].app == "Set"
    assert hundred.steps[2].data == "A=1"
    two = plan.find_extension("ctx", "200")
    assert two is not None
    assert sorted(two.steps) == [1, 4]
    assert any("already exists" in w for w in plan.warnings)
    three = plan.find_extension("ctx", "300")
    assert three is not None
    assert three.hint == "PJSIP/300"
    assert (three.steps[1].app, three.steps[1].data) == ("Answer", "")


def test_comments_block_comments_and_escaped_semicolons() -> None:
    plan = Dialplan.parse(
        """
; a comment
[ctx] ; trailing comment
;-- a block
exten => 1,1,NoOp(hidden)
--;
exten => 2,1,NoOp(semi\\;colon) ; comment
"""
    )
    assert plan.find_extension("ctx", "1") is None
    two = plan.find_extension("ctx", "2")
    assert two is not None
    assert two.steps[1].data == "semi;colon"


def test_globals_general_and_data_with_commas_and_parentheses() -> None:
    plan = Dialplan.parse(
        """
[general]
static=yes
[globals]
TRUNK=PJSIP/carrier
[ctx]
exten => _X.,1,Dial(${TRUNK}/${EXTEN},30,tT)
 same => n,Set(X=${IF($[1 = 1]?a:b)})
"""
    )
    assert plan.general == {"static": "yes"}
    assert plan.globals == {"TRUNK": "PJSIP/carrier"}
    ext = plan.find_extension("ctx", "123")
    assert ext is not None
    assert ext.steps[1].data == "${TRUNK}/${EXTEN},30,tT"
    assert ext.steps[2].data == "X=${IF($[1 = 1]?a:b)}"
    assert "general" not in plan.contexts
    assert "globals" not in plan.contexts


def test_templates_and_appended_contexts() -> None:
    plan = Dialplan.parse(
        """
[base](!)
exten => 1,1,NoOp(from template)
[ctx](base)
exten => 2,1,NoOp(own)
[ctx](+)
exten => 3,1,NoOp(appended)
"""
    )
    assert "base" not in plan.contexts
    for exten in ("1", "2", "3"):
        assert plan.exists("ctx", exten)


def test_several_files_merge(tmp_path: Path) -> None:
    (tmp_path / "one.conf").write_text("[a]\nexten => 1,1,NoOp()\n", encoding="utf-8")
    (tmp_path / "two.conf").write_text(
        "[a]\nexten => 2,1,NoOp()\n[b]\nexten => 3,1,NoOp()\n", encoding="utf-8"
    )
    merged = Dialplan.load(tmp_path / "one.conf", tmp_path / "two.conf")
    assert merged.exists("a", "1")
    assert merged.exists("a", "2")
    assert merged.exists("b", "3")


def test_include_directives_splice_files_in(tmp_path: Path) -> None:
    (tmp_path / "extensions.conf").write_text(
        '[a]\n#include "more.conf"\nexten => 2,1,NoOp()\n#tryinclude absent.conf\n#include parts/*.conf\n',
        encoding="utf-8",
    )
    (tmp_path / "more.conf").write_text("exten => 1,1,NoOp(continues context a)\n[b]\nexten => 9,1,NoOp()\n")
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "x.conf").write_text("[c]\nexten => 3,1,NoOp()\n", encoding="utf-8")
    plan = Dialplan.load(tmp_path / "extensions.conf")
    assert plan.warnings == []
    assert plan.exists("a", "1")
    assert plan.exists("b", "9")
    assert plan.exists("a", "2")  # after the #include, lines are back in the includer's section
    assert not plan.exists("b", "2")
    assert plan.exists("c", "3")
    found = plan.find_extension("a", "1")
    assert found is not None
    assert found.steps[1].source == "more.conf:1"
    broken = Dialplan.parse('[a]\n#include "x.conf"\n')
    assert len(broken.warnings) == 1


def test_load_reads_several_files(tmp_path: Path) -> None:
    one, two = tmp_path / "one.conf", tmp_path / "two.conf"
    one.write_text("[a]\nexten => 1,1,NoOp()\n", encoding="utf-8")
    two.write_text("[harness]\nexten => _X.,1,Stasis(h,phone,${EXTEN})\n", encoding="utf-8")
    plan = Dialplan.load(one, two)
    assert plan.exists("a", "1")
    assert plan.exists("harness", "1001")


def test_bad_lines_are_reported_not_fatal() -> None:
    plan = Dialplan.parse(
        """
exten => 1,1,NoOp(outside)
[ctx]
same => n,NoOp(no exten yet)
exten => 5,n,NoOp(no priority before)
exten => 6,x,NoOp(bad priority)
just text
#include other.conf
switch => Realtime/ctx@
exten => 7,1,NoOp(ok)
"""
    )
    assert len(plan.warnings) == 7
    assert plan.exists("ctx", "7")


# -- patterns ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "dialed", "matches"),
    [
        ("_X.", "2000", True),
        ("_X.", "2", False),  # '.' needs at least one more character
        ("_X!", "2", True),  # '!' takes zero or more
        ("_NXX", "200", True),
        ("_NXX", "100", False),
        ("_ZXX", "100", True),
        ("_ZXX", "010", False),
        ("_[1-3]X", "35", True),
        ("_[1-3]X", "45", False),
        ("_[a-c]X", "b1", True),
        ("_[*#0-9].", "*72205", True),
        ("_[*#0-9].", "##", True),
        ("_+X.", "+59899", True),
        ("_555XXX", "555123", True),
        ("_555XXX", "5551234", False),
        ("_vm.", "vm1234", True),
        ("_NXX-XXXX", "2345678", True),  # dashes in a pattern are ignored
        ("2000", "2000", True),
        ("2000", "20001", False),
        ("_x.", "12", True),  # pattern letters are case-insensitive
    ],
)
def test_pattern_matching(pattern: str, dialed: str, matches: bool) -> None:
    assert pattern_matches(pattern, dialed) is matches


def test_sort_order_follows_asterisk() -> None:
    names = ["_.", "_X!", "_X.", "_NXX", "_[1-3]XX", "_2XX", "_20X", "200", "100"]
    ordered = sorted(names, key=pattern_sort_key)
    assert ordered == ["100", "200", "_20X", "_2XX", "_[1-3]XX", "_NXX", "_X.", "_X!", "_."]


@pytest.mark.parametrize(
    ("dialed", "chosen"),
    [("200", "200"), ("201", "_20X"), ("211", "_2XX"), ("311", "_NXX"), ("3111", "_X."), ("1", "_X!")],
)
def test_most_specific_extension_wins(dialed: str, chosen: str) -> None:
    plan = Dialplan.parse(
        """
[ctx]
exten => _X!,1,NoOp()
exten => _X.,1,NoOp()
exten => _NXX,1,NoOp()
exten => _2XX,1,NoOp()
exten => _20X,1,NoOp()
exten => 200,1,NoOp()
"""
    )
    found = plan.find_extension("ctx", dialed)
    assert found is not None
    assert found.name == chosen


def test_includes_are_searched_after_own_extensions_in_order() -> None:
    plan = Dialplan.parse(
        """
[top]
include => first
include => second
exten => _9X.,1,NoOp(own)
[first]
exten => _X.,1,NoOp(first)
include => top
[second]
exten => 911,1,NoOp(second, exact but later)
exten => 42,1,NoOp(only here)
"""
    )
    own = plan.find_extension("top", "911")
    assert own is not None
    assert own.name == "_9X."  # own patterns beat an exact match in an include
    assert plan.find_extension("top", "123") is plan.find_extension("first", "123")
    found = plan.find_extension("top", "42")
    assert found is not None
    assert found.steps[1].data == "first"  # the first include matching wins
    assert plan.find_extension("first", "abc") is None  # include loops end


def test_callerid_specific_extensions_come_first() -> None:
    plan = Dialplan.parse(
        """
[ctx]
exten => 100,1,NoOp(anyone)
exten => 100/_099X.,1,NoOp(mobile callers)
"""
    )
    mobile = plan.find_extension("ctx", "100", "0991234")
    anyone = plan.find_extension("ctx", "100", "2000")
    assert mobile is not None
    assert anyone is not None
    assert mobile.steps[1].data == "mobile callers"
    assert anyone.steps[1].data == "anyone"


@given(st.text(alphabet="0123456789*#+", min_size=1, max_size=12))
def test_literal_extension_matches_only_itself(dialed: str) -> None:
    assert pattern_matches(dialed, dialed)
    assert not pattern_matches(dialed, dialed + "1")
    assert pattern_matches("_" + dialed.replace("X", ""), dialed) == all(c not in "XZN" for c in dialed)


@pytest.mark.parametrize(
    ("data", "args"),
    [
        ("", []),
        ("a", ["a"]),
        ("a,b", ["a", "b"]),
        ("a,,b", ["a", "", "b"]),
        ("a,b,", ["a", "b", ""]),
        ("a,,", ["a", "", ""]),
        ('"x,y",z', ["x,y", "z"]),
        ("f(1,2),3", ["f(1,2)", "3"]),
        ("a\\,b,c", ["a,b", "c"]),
    ],
)
def test_application_argument_splitting(data: str, args: list[str]) -> None:
    assert split_app_args(data) == args

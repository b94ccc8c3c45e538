"""Call classes: Asterisk-style patterns, configurable rules, per-extension permissions."""

from __future__ import annotations

import pytest

from stasis_app.phones.classes import (
    CallClass,
    CallClassRules,
    format_classes,
    matches,
    may_call,
    parse_classes,
)


@pytest.mark.parametrize(
    ("pattern", "number", "expected"),
    [
        ("_NXXXXXX", "4013864", True),
        ("_NXXXXXX", "1013864", False),
        ("_NXXXXXX", "40138645", False),
        ("_3XXXXXXXXX", "3001234567", True),
        ("_00X.", "0044", True),
        ("_00X.", "004", False),
        ("_[13-5]X", "15", True),
        ("_[13-5]X", "25", False),
        ("_Z!", "1", True),
        ("16", "16", True),
        ("16", "161", False),
    ],
)
def test_patterns(pattern: str, number: str, expected: bool) -> None:
    assert matches(pattern, number) is expected


def test_rules_are_configurable_and_ordered() -> None:
    rules = CallClassRules({CallClass.CELLULAR: ("_3X.",), CallClass.LOCAL: ("_X.",)})
    assert rules.classify("3123") is CallClass.CELLULAR
    assert rules.classify("4123") is CallClass.LOCAL
    assert CallClassRules().classify("12345") is None
    with pytest.raises(ValueError, match="unclosed"):
        CallClassRules({CallClass.LOCAL: ("_[12",)})


def test_permissions() -> None:
    allowed = parse_classes("internal, local")
    assert allowed == frozenset({CallClass.INTERNAL, CallClass.LOCAL})
    assert may_call(allowed, CallClass.LOCAL)
    assert not may_call(allowed, CallClass.INTERNATIONAL)
    assert not may_call(allowed, None)
    assert format_classes([CallClass.INTERNATIONAL, CallClass.INTERNAL]) == "internal,international"
    with pytest.raises(ValueError, match="nationl"):
        parse_classes("local,nationl")

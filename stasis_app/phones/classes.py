"""Call classes: which numbers an extension may call.

Numbers dialed after the external prefix are classified by configurable patterns written the way
Asterisk's dialplan writes them (``_NXXXXXX``, ``_3XXXXXXXXX``, ``_00X.``), because that is the
notation PBX administrators already know. Each extension holds the set of classes it may use.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache


class CallClass(enum.Enum):
    INTERNAL = "internal"
    LOCAL = "local"
    CELLULAR = "cellular"
    INTERNATIONAL = "international"


#: Tried in this order: the most specific classes first.
DEFAULT_PATTERNS: Mapping[CallClass, tuple[str, ...]] = {
    CallClass.INTERNATIONAL: ("_00X.", "_+X."),
    CallClass.CELLULAR: ("_3XXXXXXXXX",),
    CallClass.LOCAL: ("_NXXXXXX", "_1X", "_1XX"),
}

DEFAULT_ALLOWED: frozenset[CallClass] = frozenset({CallClass.INTERNAL, CallClass.LOCAL})

_CLASS_CHARS = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]"}


@lru_cache(maxsize=256)
def pattern_regex(pattern: str) -> re.Pattern[str]:
    """Asterisk's extension pattern as a regular expression; text without '_' matches literally."""
    if not pattern.startswith("_"):
        return re.compile(re.escape(pattern))
    parts: list[str] = []
    body = pattern[1:]
    i = 0
    while i < len(body):
        char = body[i]
        upper = char.upper()
        if upper in _CLASS_CHARS:
            parts.append(_CLASS_CHARS[upper])
        elif char == "[":
            end = body.find("]", i)
            if end < 0:
                raise ValueError(f"unclosed '[' in pattern {pattern!r}")
            parts.append("[" + re.sub(r"[\\^\]]", lambda m: "\\" + m.group(0), body[i + 1 : end]) + "]")
            i = end
        elif char == ".":
            parts.append(".+")
        elif char == "!":
            parts.append(".*")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts))


def matches(pattern: str, number: str) -> bool:
    return pattern_regex(pattern).fullmatch(number) is not None


def parse_classes(text: str) -> frozenset[CallClass]:
    """'internal,local' -> the classes; unknown names are refused so a typo never grants access."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    known = {cls.value: cls for cls in CallClass}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown call classes: {', '.join(unknown)}")
    return frozenset(known[name] for name in names)


def format_classes(classes: Iterable[CallClass]) -> str:
    order = list(CallClass)
    return ",".join(cls.value for cls in sorted(set(classes), key=order.index))


@dataclass(frozen=True)
class CallClassRules:
    """Number patterns per class; the first class (in mapping order) whose pattern matches wins."""

    patterns: Mapping[CallClass, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_PATTERNS))

    def __post_init__(self) -> None:
        for listed in self.patterns.values():
            for pattern in listed:
                pattern_regex(pattern)

    def classify(self, number: str) -> CallClass | None:
        for call_class, listed in self.patterns.items():
            if any(matches(pattern, number) for pattern in listed):
                return call_class
        return None


def may_call(allowed: frozenset[CallClass], call_class: CallClass | None) -> bool:
    """Whether an extension with these classes may place a call of that class."""
    return call_class is not None and call_class in allowed

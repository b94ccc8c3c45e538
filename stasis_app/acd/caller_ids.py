"""Which caller ID an outbound campaign's call shows, from the campaign's caller-ID rules.

A campaign's ``callerid`` column holds one rule a line, ``PREFIX#CALLERID-RANDINI-RANDFIN`` with
only CALLERID required. Rules whose prefix starts the dialed number win (one of them at random);
without such a rule one of the generic rules (no prefix) is taken at random. ``RANDINI-RANDFIN``
(two numbers of the same length) add a random number from that range to the caller ID, so a block
of numbers can be shown from one rule. Pure: the random source is passed in.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class CallerIdRule:
    """One line of a campaign's caller-ID rules."""

    callerid: str
    prefix: str = ""
    range_from: str = ""
    range_to: str = ""

    @property
    def ranged(self) -> bool:
        return bool(self.range_from)

    def pick(self, rng: random.Random) -> str:
        """The caller ID with a random number of the range appended (same width as the bounds)."""
        if not self.ranged:
            return self.callerid
        low, high = sorted((int(self.range_from), int(self.range_to)))
        return f"{self.callerid}{rng.randint(low, high):0{len(self.range_from)}d}"

    def allows(self, shown: str) -> bool:
        """Whether ``shown`` is a caller ID this rule can produce."""
        if not self.ranged:
            return shown == self.callerid
        suffix = shown[len(self.callerid) :]
        if not shown.startswith(self.callerid) or len(suffix) != len(self.range_from) or not suffix.isdigit():
            return False
        low, high = sorted((int(self.range_from), int(self.range_to)))
        return low <= int(suffix) <= high


def parse_rule(line: str) -> CallerIdRule | None:
    """A rule from its text; None for a blank or unreadable line."""
    text = line.strip()
    if not text:
        return None
    prefix, sep, rest = text.partition("#")
    if not sep:
        prefix, rest = "", text
    parts = [part.strip() for part in rest.split("-")]
    callerid = parts[0]
    if not callerid:
        return None
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() and len(parts[1]) == len(parts[2]):
        return CallerIdRule(callerid, prefix.strip(), parts[1], parts[2])
    if len(parts) != 1:
        return None
    return CallerIdRule(callerid, prefix.strip())


def parse_rules(text: str) -> list[CallerIdRule]:
    """Every readable rule of a campaign's ``callerid`` column (lines; ``;`` also separates)."""
    lines = text.replace("\r", "\n").replace(";", "\n").split("\n")
    return [rule for rule in (parse_rule(line) for line in lines) if rule is not None]


def choose_caller_id(rules: Iterable[CallerIdRule], number: str, rng: random.Random) -> str:
    """The caller ID for a call to ``number`` ("" when no rule applies)."""
    candidates = list(rules)
    matching = [rule for rule in candidates if rule.prefix and number.startswith(rule.prefix)]
    pool = matching or [rule for rule in candidates if not rule.prefix]
    if not pool:
        return ""
    return rng.choice(pool).pick(rng)


def caller_id_allowed(rules: Iterable[CallerIdRule], dids: Iterable[str], shown: str) -> bool:
    """A caller ID an agent chose is one of the campaign's: a DID of it, or one a rule produces."""
    return shown in set(dids) or any(rule.allows(shown) for rule in rules)

"""Asterisk's dialplan, as far as the simulator needs it: parse `extensions.conf` and run channels through it.

Real Asterisk runs `dialplan/extensions.conf` for every call that is not created straight into a Stasis
application; the simulator reads the same file, so the arguments a call carries into Stasis are the ones the
project's own dialplan gives it, not a copy kept in Python.

Two parts:

* `Dialplan` — the parsed file: contexts, extensions (exact and `_` patterns) with numbered/labelled
  priorities, `include =>` chains and `[globals]`. `Dialplan.find_extension()` picks the extension
  Asterisk would pick (exact names first, then patterns in Asterisk's sort order, then included contexts).
* `DialplanRunner` — runs one channel from a context/extension/priority, executing the applications the
  project uses (Answer, Wait, Playback, Progress, Ringing, Goto, GotoIf, Set, MSet, NoOp, Verbose, Log,
  Hangup, Busy, Congestion, Dial, Stasis, AMD). Everything it does to a channel goes through a
  `DialplanHost`, which the engine implements; tests may implement it with a recording stand-in.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

__all__ = [
    "HANGUP_CAUSES",
    "ChannelGone",
    "Context",
    "Dialplan",
    "DialplanError",
    "DialplanHost",
    "DialplanRunner",
    "DialplanTarget",
    "Extension",
    "Indication",
    "Step",
    "evaluate_expression",
    "pattern_matches",
    "pattern_sort_key",
    "project_dialplan_path",
    "split_app_args",
]

log = logging.getLogger(__name__)

#: Hangup cause names `Hangup()` accepts, with their Q.850 numbers (the ones a dialplan is likely to use).
HANGUP_CAUSES: dict[str, int] = {
    "UNALLOCATED": 1,
    "NO_ROUTE_TRANSIT_NET": 2,
    "NO_ROUTE_DESTINATION": 3,
    "NORMAL_CLEARING": 16,
    "USER_BUSY": 17,
    "BUSY": 17,
    "NO_USER_RESPONSE": 18,
    "NO_ANSWER": 19,
    "SUBSCRIBER_ABSENT": 20,
    "CALL_REJECTED": 21,
    "NUMBER_CHANGED": 22,
    "DESTINATION_OUT_OF_ORDER": 27,
    "INVALID_NUMBER_FORMAT": 28,
    "FACILITY_REJECTED": 29,
    "NORMAL_UNSPECIFIED": 31,
    "NORMAL_CIRCUIT_CONGESTION": 34,
    "CONGESTION": 34,
    "NETWORK_OUT_OF_ORDER": 38,
    "NORMAL_TEMPORARY_FAILURE": 41,
    "SWITCH_CONGESTION": 42,
    "REQUESTED_CHAN_UNAVAIL": 44,
    "BEARERCAPABILITY_NOTAVAIL": 58,
    "INTERWORKING": 127,
}

#: Cause the calling channel keeps after a failed Dial (a later `Hangup()` without a cause reports it).
_DIAL_FAILURE_CAUSES: dict[str, int] = {
    "BUSY": 17,
    "NOANSWER": 19,
    "CHANUNAVAIL": 20,
    "CONGESTION": 34,
}

_CAUSE_NORMAL = 16
_CAUSE_BUSY = 17
_CAUSE_CONGESTION = 34
#: How long Asterisk lets busy/congestion tones play when a call falls off the end after a failed Dial.
_FALLTHROUGH_TONE_SECONDS = 10.0
#: Bound on steps per run, so a dialplan loop (Goto back and forth without waiting) cannot spin forever.
_MAX_STEPS = 10_000
#: Bound on nested variable substitution.
_MAX_SUBSTITUTION_DEPTH = 32

Indication = Literal["ringing", "progress", "busy", "congestion"]


def project_dialplan_path() -> Path:
    """The project's own `dialplan/extensions.conf`, next to the simulator package in a source checkout."""
    return Path(__file__).resolve().parents[1] / "dialplan" / "extensions.conf"


# ---------------------------------------------------------------------------------------------------------
# The host protocol
# ---------------------------------------------------------------------------------------------------------


class ChannelGone(Exception):
    """Raised by a host primitive when the channel was hung up (far end, ARI DELETE, ...) while it acted."""


class DialplanError(Exception):
    """An application could not run (bad arguments, unknown label); Asterisk would end the call."""


@dataclass(frozen=True)
class DialplanTarget:
    """A place in the dialplan, as ARI `continue` or a Goto names it; `None` fields keep the current value.

    When only `context`/`extension` are given the priority is 1; when nothing is given the channel goes on
    at the priority after the one it left from. `label` is looked up in the target extension.
    """

    context: str | None = None
    extension: str | None = None
    priority: int | None = None
    label: str | None = None


class DialplanHost(Protocol):
    """What the dialplan needs from the engine. Channels are channel ids (Asterisk's uniqueid).

    Any method acting on a channel raises `ChannelGone` if the channel no longer exists or was hung up
    while the method waited; the runner then ends the dialplan the way Asterisk does.
    """

    async def on_dialplan_step(
        self, channel: str, *, context: str, exten: str, priority: int, app: str, app_data: str
    ) -> None:
        """Called before each application runs (the engine emits ChannelDialplan, updates `dialplan`)."""

    async def answer(self, channel: str) -> None:
        """Answer the channel; a channel that is already up stays as it is."""

    async def indicate(self, channel: str, indication: Indication) -> None:
        """Send ringing / early media (progress) / busy / congestion toward the caller."""

    async def play(self, channel: str, media: str) -> bool:
        """Play `media` (e.g. `sound:ss-noservice`) to the channel, return when it has finished.

        Returns False when the sound does not exist (Playback then reports FAILED).
        """

    async def wait(self, channel: str, seconds: float | None) -> None:
        """Let `seconds` of simulated time pass on the channel (None: until the channel hangs up)."""

    async def get_variable(self, channel: str, name: str) -> str | None:
        """A channel variable or function value, e.g. `FOO`, `CALLERID(num)`, `CHANNEL(endpoint)`,
        `CHANNEL`, `UNIQUEID`; None when it is not set."""

    async def set_variable(self, channel: str, name: str, value: str) -> None:
        """Set a channel variable or writable function, e.g. `DIALSTATUS`, `CALLERID(name)`."""

    async def dial(
        self, channel: str, destinations: Sequence[str], ring_timeout: float | None, options: str
    ) -> str:
        """Ring `destinations` (`PJSIP/1001`, `Local/200@from-internal`) for `ring_timeout` seconds (None: no
        limit), bridge the first that answers with the channel and return when that call has ended.

        Returns Asterisk's DIALSTATUS: ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL.
        Raises `ChannelGone` if the calling channel hung up.
        """

    async def enter_stasis(self, channel: str, app: str, args: Sequence[str]) -> DialplanTarget | None:
        """Hand the channel to the Stasis application (StasisStart with `args`), return when it leaves.

        Returns where ARI `continue` sent it (a `DialplanTarget`, possibly empty: next priority).
        Returns None when `app` is not registered (Stasis then fails with STASISSTATUS=FAILED).
        Raises `ChannelGone` when the channel was hung up while in the application.
        """

    async def amd_result(self, channel: str) -> tuple[str, str]:
        """Answering-machine detection for the channel: (AMDSTATUS, AMDCAUSE), e.g.
        ("MACHINE", "INITIALSILENCE-2500-2500") or ("HUMAN", "HUMAN-300-500"); may let time pass."""

    async def hangup(self, channel: str, cause: int) -> None:
        """Hang the channel up with `cause` (ends every dialplan run); a channel already gone is fine."""


# ---------------------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------------------

_DIGIT_CLASSES = {"X": "0123456789", "Z": "123456789", "N": "23456789"}


def _strip_fluff(exten: str) -> str:
    """Asterisk ignores dashes in extension names (and spaces in patterns) outside `[...]` sets."""
    if not exten.startswith("_"):
        return exten.replace("-", "")
    out: list[str] = []
    depth = 0
    for ch in exten:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
        if depth == 0 and ch in "- ":
            continue
        out.append(ch)
    return "".join(out)


def _parse_set(body: str) -> frozenset[str]:
    """The characters of a `[...]` pattern set, with `a-z` style ranges."""
    chars: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            lo, hi = ord(body[i]), ord(body[i + 2])
            chars.update(chr(c) for c in range(min(lo, hi), max(lo, hi) + 1))
            i += 3
        else:
            chars.add(body[i])
            i += 1
    return frozenset(chars)


@dataclass(frozen=True)
class _PatternPart:
    """One position of a pattern: a set of characters, or a wildcard ('.' one or more, '!' zero or more)."""

    chars: frozenset[str] | None
    wildcard: Literal["", ".", "!"] = ""


def _pattern_parts(pattern: str) -> list[_PatternPart]:
    """Split a pattern (without its leading `_`) into positions."""
    parts: list[_PatternPart] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:  # an unclosed set is taken literally, as a single '['
                parts.append(_PatternPart(frozenset("[")))
                i += 1
                continue
            parts.append(_PatternPart(_parse_set(pattern[i + 1 : end])))
            i = end + 1
            continue
        if ch.upper() in _DIGIT_CLASSES:
            parts.append(_PatternPart(frozenset(_DIGIT_CLASSES[ch.upper()])))
        elif ch == ".":
            parts.append(_PatternPart(None, "."))
        elif ch == "!":
            parts.append(_PatternPart(None, "!"))
        else:
            parts.append(_PatternPart(frozenset(ch)))
        i += 1
    return parts


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    pieces: list[str] = []
    for part in _pattern_parts(pattern):
        if part.wildcard == ".":
            pieces.append(".+")
        elif part.wildcard == "!":
            pieces.append(".*")
        else:
            assert part.chars is not None
            pieces.append("[" + "".join(re.escape(c) for c in sorted(part.chars)) + "]")
    return re.compile("".join(pieces), re.DOTALL)


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def pattern_matches(name: str, dialed: str) -> bool:
    """Whether extension `name` (exact, or a `_` pattern) matches the dialed string."""
    name = _strip_fluff(name)
    dialed = dialed.replace("-", "")
    if not name.startswith("_"):
        return name == dialed
    regex = _REGEX_CACHE.get(name)
    if regex is None:
        regex = _REGEX_CACHE[name] = _pattern_regex(name[1:])
    return regex.fullmatch(dialed) is not None


def _position_weight(part: _PatternPart | None) -> tuple[int, int]:
    """Asterisk's weight of one pattern position: how many characters it admits, then which.

    Fewer admitted characters sort first; '.' sorts after every set, '!' after '.', and the end of a
    pattern after everything. The second number orders sets of the same size by their members.
    """
    if part is None:
        return (0x30000, 0)
    if part.wildcard == ".":
        return (0x18000, 0)
    if part.wildcard == "!":
        return (0x28000, 0)
    assert part.chars is not None
    codes = [ord(c) for c in part.chars if ord(c) < 256]
    if not codes:
        return (0, 0)
    bitmap = 0
    for code in codes:
        bitmap |= 1 << (255 - code)
    return ((len(codes) << 8) | min(codes), bitmap)


def pattern_sort_key(name: str) -> tuple[int, tuple[tuple[int, int], ...], str]:
    """Sort key putting extensions in the order Asterisk tries them: exact names first (alphabetically),
    then patterns from the most to the least specific, position by position."""
    name = _strip_fluff(name)
    if not name.startswith("_"):
        return (0, (), name)
    parts: list[_PatternPart | None] = list(_pattern_parts(name[1:]))
    parts.append(None)
    return (1, tuple(_position_weight(p) for p in parts), name)


# ---------------------------------------------------------------------------------------------------------
# Parsed dialplan
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One priority of an extension: the application and its (unsubstituted) data."""

    priority: int
    app: str
    data: str
    label: str | None
    source: str  # "file:line", for log messages


@dataclass
class Extension:
    """An extension (exact name or `_` pattern, optionally only for a caller id) and its priorities."""

    name: str
    callerid: str | None = None
    steps: dict[int, Step] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    hint: str | None = None

    @property
    def is_pattern(self) -> bool:
        return self.name.startswith("_")

    def matches(self, dialed: str, callerid: str | None) -> bool:
        if not pattern_matches(self.name, dialed):
            return False
        if self.callerid is None:
            return True
        return callerid is not None and pattern_matches(self.callerid, callerid)


@dataclass
class Context:
    """A `[context]`: its extensions and the contexts it includes, in file order."""

    name: str
    extensions: list[Extension] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    _ordered: list[Extension] | None = field(default=None, repr=False)

    def extension(self, name: str, callerid: str | None) -> Extension | None:
        for ext in self.extensions:
            if ext.name == name and ext.callerid == callerid:
                return ext
        return None

    def ordered(self) -> list[Extension]:
        """Extensions in the order Asterisk tries them (caller-id specific ones before the plain one)."""
        if self._ordered is None:
            self._ordered = sorted(
                self.extensions,
                key=lambda e: (pattern_sort_key(e.name), e.callerid is None, e.callerid or ""),
            )
        return self._ordered


_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]+)\]\s*(?:\((?P<opts>[^)]*)\))?\s*$")
_PRIORITY_RE = re.compile(r"^(?P<base>\d+|n|next|s|same|hint)(?:\+(?P<plus>\d+))?(?:\((?P<label>[^)]*)\))?$")
_NON_CONTEXT_SECTIONS = frozenset({"general", "globals"})
_INCLUDE_RE = re.compile(r"""^\s*#(?P<try>try)?include\s+["<]?(?P<name>[^">]+)[">]?\s*$""")
_MAX_INCLUDE_DEPTH = 8


def _strip_comment(line: str, in_block: bool) -> tuple[str, bool]:
    """Remove `;` comments (and `;-- ... --;` block comments); `\\;` is a literal semicolon."""
    out: list[str] = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("--;", i)
            if end < 0:
                return "".join(out), True
            i = end + 3
            in_block = False
            continue
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            if line.startswith(";--", i):
                in_block = True
                i += 3
                continue
            break
        out.append(ch)
        i += 1
    return "".join(out), in_block


def _split_top_level(text: str, sep: str, maxsplit: int = -1) -> list[str]:
    """Split on `sep` outside parentheses, brackets, braces and double quotes."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted:
            if ch in "([{":
                depth += 1
            elif ch in ")]}" and depth:
                depth -= 1
            elif ch == sep and depth == 0 and (maxsplit < 0 or len(parts) < maxsplit):
                parts.append(text[start:i])
                start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def split_app_args(data: str) -> list[str]:
    """Split application data into arguments as Asterisk's standard argument parser does.

    Commas inside parentheses, brackets or double quotes do not split; quotes are removed and a backslash
    keeps the next character as it is. A trailing empty argument is kept (`a,b,` is three arguments), as
    Stasis() on Asterisk shows when `${CHANNEL(endpoint)}` is empty.
    """
    args: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    i = 0
    if not data:
        return []
    while i < len(data):
        ch = data[i]
        if ch == "\\" and i + 1 < len(data):
            current.append(data[i + 1])
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "([{":
            depth += 1
            current.append(ch)
        elif not quoted and ch in ")]}" and depth:
            depth -= 1
            current.append(ch)
        elif not quoted and depth == 0 and ch == ",":
            args.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    args.append("".join(current))
    return args


class Dialplan:
    """A parsed `extensions.conf`."""

    def __init__(self) -> None:
        self.contexts: dict[str, Context] = {}
        self.globals: dict[str, str] = {}
        self.general: dict[str, str] = {}
        self.warnings: list[str] = []

    # -- loading ----------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *more: str | Path) -> Dialplan:
        """Parse one or more files (UTF-8); a context found in several files gets the lines of all.

        `#include` / `#tryinclude` lines are followed, relative to the including file's directory
        (Asterisk's configuration directory, where extensions.conf lives).
        """
        plan = cls()
        for file in map(Path, (path, *more)):
            plan._parse(plan._file_lines(file, depth=0))
        return plan

    @classmethod
    def parse(cls, text: str, source: str = "extensions.conf") -> Dialplan:
        """Parse extensions.conf text; what Asterisk would warn about is logged and kept in `warnings`."""
        plan = cls()
        plan._parse(plan._text_lines(text, source, None, depth=0))
        return plan

    def _file_lines(self, path: Path, depth: int, section: str | None = None) -> list[tuple[str, str]]:
        return self._text_lines(path.read_text(encoding="utf-8"), path.name, path.parent, depth, section)

    def _text_lines(
        self, text: str, source: str, base: Path | None, depth: int, section: str | None = None
    ) -> list[tuple[str, str]]:
        """(where, line) pairs with `#include`d files spliced in where they are named.

        An included file starts in the includer's section, and the includer's lines after the
        `#include` stay in the includer's section, as Asterisk's configuration reader does.
        """
        lines: list[tuple[str, str]] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            where = f"{source}:{number}"
            header = _SECTION_RE.match(raw.split(";", 1)[0].strip())
            if header:
                section = header.group("name").strip()
            directive = _INCLUDE_RE.match(raw)
            if directive is None:
                lines.append((where, raw))
                continue
            optional = directive.group("try") is not None
            name = directive.group("name").strip()
            if base is None or depth >= _MAX_INCLUDE_DEPTH:
                self._warn(f"{where}: cannot follow '#include {name}' here; ignored")
                continue
            found = sorted(base.glob(name)) if any(c in name for c in "*?[") else [base / name]
            found = [f for f in found if f.is_file()]
            if not found and not optional:
                self._warn(f"{where}: included file '{name}' not found")
            for file in found:
                lines.extend(self._file_lines(file, depth + 1, section))
            if found and section is not None:
                lines.append((where, f"[{section}](+)"))
        return lines

    async def run(
        self, host: DialplanHost, channel: str, context: str, exten: str, priority: int = 1
    ) -> None:
        """Run `channel` through this dialplan (see `DialplanRunner.run`)."""
        await DialplanRunner(self, host).run(channel, context, exten, priority)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("dialplan: %s", message)

    def _parse(self, numbered_lines: list[tuple[str, str]]) -> None:
        section: str | None = None
        context: Context | None = None
        templates: dict[str, list[tuple[str, str, str]]] = {}
        current_lines: list[tuple[str, str, str]] | None = None
        last_exten: tuple[str, str | None] | None = None
        last_priority: int | None = None
        in_block = False
        for where, raw in numbered_lines:
            line, in_block = _strip_comment(raw, in_block)
            line = line.strip()
            if not line:
                continue
            if line.startswith("#"):
                self._warn(f"{where}: directive '{line.split()[0]}' is not supported here; ignored")
                continue
            header = _SECTION_RE.match(line)
            if header:
                section = header.group("name").strip()
                options = [o.strip() for o in (header.group("opts") or "").split(",") if o.strip()]
                last_exten, last_priority = None, None
                current_lines = templates.setdefault(section, []) if "!" in options else None
                if section.lower() in _NON_CONTEXT_SECTIONS:
                    context = None
                    continue
                if section in self.contexts and "+" not in options and "!" not in options:
                    self._warn(f"{where}: context '{section}' defined twice; lines are added to it")
                # a template (`(!)`) only lends its lines to the contexts naming it; it is no context itself
                context = None if "!" in options else self.contexts.setdefault(section, Context(section))
                for template in (o for o in options if o not in ("!", "+")):
                    if template not in templates:
                        self._warn(f"{where}: unknown template '{template}'")
                        continue
                    for key, value, twhere in templates[template]:
                        if context is not None:
                            last_exten, last_priority = self._context_line(
                                context, key, value, where=twhere, last=(last_exten, last_priority)
                            )
                continue
            if "=" not in line:
                self._warn(f"{where}: cannot read '{line}'")
                continue
            key, value = line.split("=", 1)
            key = key.strip()
            value = value[1:] if value.startswith(">") else value
            value = value.strip()
            if section is None:
                self._warn(f"{where}: '{key}' outside any section")
                continue
            if section.lower() == "globals":
                self.globals[key] = value
                continue
            if section.lower() == "general":
                self.general[key] = value
                continue
            if current_lines is not None:
                current_lines.append((key, value, where))
            if context is not None:
                last_exten, last_priority = self._context_line(
                    context, key, value, where=where, last=(last_exten, last_priority)
                )

    def _context_line(
        self,
        context: Context,
        key: str,
        value: str,
        *,
        where: str,
        last: tuple[tuple[str, str | None] | None, int | None],
    ) -> tuple[tuple[str, str | None] | None, int | None]:
        """Add one `key => value` line of a context.

        `last` and the result are (last extension, last priority): what `same =>` and `n` refer to.
        """
        last_exten, last_priority = last
        kind = key.lower()
        if kind == "include":
            context.includes.append(value.split(",", 1)[0].strip())
            return last_exten, last_priority
        if kind in ("switch", "eswitch", "lswitch", "ignorepat"):
            self._warn(f"{where}: '{kind}' is not simulated; ignored")
            return last_exten, last_priority
        if kind not in ("exten", "same"):
            self._warn(f"{where}: unknown context line '{key}'")
            return last_exten, last_priority
        if kind == "same":
            if last_exten is None:
                self._warn(f"{where}: 'same' before any 'exten'")
                return last_exten, last_priority
            name, callerid = last_exten
            rest = value
        else:
            fields = _split_top_level(value, ",", maxsplit=1)
            if len(fields) < 2:
                self._warn(f"{where}: incomplete extension '{value}'")
                return last_exten, last_priority
            name_part, rest = fields[0].strip(), fields[1]
            name, _, cid = name_part.partition("/")
            name = _strip_fluff(name.strip())
            callerid = _strip_fluff(cid.strip()) if cid.strip() else None
        prio_text, _, app_part = rest.partition(",")
        prio_match = _PRIORITY_RE.match(prio_text.strip())
        if prio_match is None:
            self._warn(f"{where}: invalid priority '{prio_text.strip()}'")
            return (name, callerid), last_priority
        base, plus, label = prio_match.group("base"), prio_match.group("plus"), prio_match.group("label")
        ext = context.extension(name, callerid)
        if ext is None:
            ext = Extension(name, callerid)
            context.extensions.append(ext)
            context._ordered = None
        if base == "hint":
            ext.hint = app_part.strip()
            return (name, callerid), last_priority
        if base.isdigit():
            priority = int(base)
        else:
            if last_priority is None:
                self._warn(f"{where}: '{base}' priority with no priority before it")
                return (name, callerid), last_priority
            priority = last_priority + (1 if base in ("n", "next") else 0)
        priority += int(plus or 0)
        app, data = self._split_app(app_part.strip(), where)
        if priority in ext.steps:
            self._warn(
                f"{where}: priority {priority} of '{name}' in '{context.name}' already exists; ignored"
            )
            return (name, callerid), priority
        label = label.strip() if label else None
        if label:
            if label in ext.labels:
                self._warn(f"{where}: label '{label}' repeated in '{name}'")
            else:
                ext.labels[label] = priority
        ext.steps[priority] = Step(priority, app, data, label, where)
        return (name, callerid), priority

    def _split_app(self, text: str, where: str) -> tuple[str, str]:
        """`App(data)` -> ("App", "data"); a bare `App` has empty data."""
        paren = text.find("(")
        if paren < 0:
            return text.strip(), ""
        app = text[:paren].strip()
        data = text[paren + 1 :]
        close = data.rfind(")")
        if close < 0:
            self._warn(f"{where}: no closing parenthesis in '{text}'")
        else:
            data = data[:close]
        return app, data

    # -- lookup -----------------------------------------------------------------------------------------

    def has_callerid_extensions(self) -> bool:
        """Whether any extension is only for certain caller ids (`exten => 100/5551234,...`)."""
        return any(ext.callerid for ctx in self.contexts.values() for ext in ctx.extensions)

    def _search(self, context: str, seen: set[str]) -> Iterator[Context]:
        ctx = self.contexts.get(context)
        if ctx is None or context in seen:
            return
        seen.add(context)
        yield ctx
        for included in ctx.includes:
            yield from self._search(included, seen)

    def find_extension(self, context: str, exten: str, callerid: str | None = None) -> Extension | None:
        """The extension Asterisk runs for `exten` dialed in `context` (includes searched after it)."""
        for ctx in self._search(context, set()):
            for ext in ctx.ordered():
                if ext.matches(exten, callerid):
                    return ext
        return None

    def exists(self, context: str, exten: str, priority: int = 1, callerid: str | None = None) -> bool:
        """Whether `exten` has `priority` in `context` (what Asterisk checks before accepting a call)."""
        ext = self.find_extension(context, exten, callerid)
        return ext is not None and priority in ext.steps

    def extension_exists(self, context: str, exten: str, priority: int = 1) -> bool:
        """Same as `exists` (the name the engine asks by)."""
        return self.exists(context, exten, priority)

    def label_priority(self, context: str, exten: str, label: str, callerid: str | None = None) -> int | None:
        """The priority carrying `label` in the extension matching `exten`, if any."""
        ext = self.find_extension(context, exten, callerid)
        return None if ext is None else ext.labels.get(label)


# ---------------------------------------------------------------------------------------------------------
# Expressions ($[...])
# ---------------------------------------------------------------------------------------------------------


class _ExprError(Exception):
    pass


@dataclass(frozen=True)
class _Value:
    text: str
    quoted: bool = False

    def number(self) -> float | None:
        if self.quoted:
            return None
        try:
            value = float(self.text)
        except ValueError:
            return None
        return value if math.isfinite(value) else None

    def is_false(self) -> bool:
        """Empty or zero counts as false in Asterisk expressions."""
        if self.text == "":
            return True
        try:
            return float(self.text) == 0
        except ValueError:
            return False


def _format_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e18:
        return str(int(value))
    return f"{value:.10g}"


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>\|\||&&|==|!=|<=|>=|=~|~~|::|[|&=<>+\-*/%!:?()])
      | (?P<word>[^\s|&=<>+\-*/%!:?()"]+)
    )""",
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise _ExprError(f"cannot read expression at '{text[pos:]}'")
        pos = match.end()
        if match.group("string") is not None:
            tokens.append(("str", re.sub(r"\\(.)", r"\1", match.group("string")[1:-1])))
        elif match.group("op") is not None:
            tokens.append(("op", match.group("op")))
        elif match.group("word") is not None:
            tokens.append(("word", match.group("word")))
    return tokens


class _ExprParser:
    """Recursive descent over Asterisk's expression grammar, lowest precedence first:
    `a ? b :: c`, `|`, `&`, comparisons, `+ -`, `* / %`, unary `- !`, regex `: =~`, `~~`, parentheses."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "op":
            return self.tokens[self.pos][1]
        return None

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise _ExprError("unexpected end of expression")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> _Value:
        if not self.tokens:
            return _Value("")
        value = self.ternary()
        if self.pos != len(self.tokens):
            raise _ExprError(f"unexpected '{self.tokens[self.pos][1]}'")
        return value

    def ternary(self) -> _Value:
        cond = self.or_()
        if self.peek() == "?":
            self.take()
            yes = self.or_()
            if self.peek() != "::":
                raise _ExprError("'?' without '::'")
            self.take()
            no = self.ternary()
            return no if cond.is_false() else yes
        return cond

    def or_(self) -> _Value:
        left = self.and_()
        while self.peek() in ("|", "||"):
            self.take()
            right = self.and_()
            left = right if left.is_false() else left
        return left

    def and_(self) -> _Value:
        left = self.compare()
        while self.peek() in ("&", "&&"):
            self.take()
            right = self.compare()
            left = _Value("0") if left.is_false() or right.is_false() else left
        return left

    def compare(self) -> _Value:
        left = self.additive()
        while self.peek() in ("=", "==", "!=", "<", ">", "<=", ">="):
            op = self.take()[1]
            right = self.additive()
            a, b = left.number(), right.number()
            if a is not None and b is not None:
                result = _compare(a, b, op)
            else:
                result = _compare(left.text, right.text, op)
            left = _Value("1" if result else "0")
        return left

    def additive(self) -> _Value:
        left = self.multiplicative()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.multiplicative()
            a, b = _numbers(left, right, op)
            left = _Value(_format_number(a + b if op == "+" else a - b))
        return left

    def multiplicative(self) -> _Value:
        left = self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.take()[1]
            right = self.unary()
            a, b = _numbers(left, right, op)
            if op != "*" and b == 0:
                raise _ExprError("division by zero")
            if op == "*":
                left = _Value(_format_number(a * b))
            elif op == "/":
                quotient = a / b
                left = _Value(
                    _format_number(math.trunc(quotient) if a == int(a) and b == int(b) else quotient)
                )
            else:
                left = _Value(_format_number(math.fmod(a, b)))
        return left

    def unary(self) -> _Value:
        op = self.peek()
        if op == "-":
            self.take()
            value = self.unary()
            number = value.number()
            if number is None:
                raise _ExprError(f"non-numeric argument '{value.text}' to unary minus")
            return _Value(_format_number(-number))
        if op == "!":
            self.take()
            return _Value("1" if self.unary().is_false() else "0")
        return self.regex()

    def regex(self) -> _Value:
        left = self.concat()
        while self.peek() in (":", "=~"):
            op = self.take()[1]
            right = self.concat()
            try:
                compiled = re.compile(right.text)
            except re.error as exc:
                raise _ExprError(f"bad regular expression '{right.text}': {exc}") from exc
            found = compiled.match(left.text) if op == ":" else compiled.search(left.text)
            if compiled.groups:
                left = _Value((found.group(1) or "") if found else "")
            else:
                left = _Value(str(found.end() - found.start()) if found else "0")
        return left

    def concat(self) -> _Value:
        left = self.atom()
        while self.peek() == "~~":
            self.take()
            right = self.atom()
            left = _Value(left.text + right.text, quoted=True)
        return left

    def atom(self) -> _Value:
        kind, text = self.take()
        if kind == "op":
            if text == "(":
                value = self.ternary()
                if self.peek() != ")":
                    raise _ExprError("missing ')'")
                self.take()
                return value
            raise _ExprError(f"unexpected '{text}'")
        return _Value(text, quoted=kind == "str")


def _compare(a: float | str, b: float | str, op: str) -> bool:
    """Compare two numbers, or two strings (callers never mix them)."""
    if isinstance(a, str) or isinstance(b, str):
        order = (str(a) > str(b)) - (str(a) < str(b))
    else:
        order = (a > b) - (a < b)
    return {
        "=": order == 0,
        "==": order == 0,
        "!=": order != 0,
        "<": order < 0,
        ">": order > 0,
        "<=": order <= 0,
        ">=": order >= 0,
    }[op]


def _numbers(left: _Value, right: _Value, op: str) -> tuple[float, float]:
    a, b = left.number(), right.number()
    if a is None or b is None:
        raise _ExprError(f"non-numeric argument to '{op}': '{left.text}', '{right.text}'")
    return a, b


def evaluate_expression(text: str) -> str:
    """Evaluate the inside of `$[...]` (variables already substituted). Errors give "" and a warning."""
    try:
        return _ExprParser(_tokenize(text)).parse().text
    except _ExprError as exc:
        log.warning("dialplan expression '%s': %s", text, exc)
        return ""


# ---------------------------------------------------------------------------------------------------------
# Running a channel
# ---------------------------------------------------------------------------------------------------------


def _is_true(value: str) -> bool:
    """Asterisk's condition test: empty is false, a number is true unless 0, other text is true."""
    value = value.strip()
    if not value:
        return False
    try:
        return float(value) != 0
    except ValueError:
        return True


def _substring(value: str, spec: str) -> str:
    """`${VAR:offset:length}`: negative offset counts from the end, negative length drops from the end."""
    pieces = spec.split(":")
    try:
        offset = int(pieces[0]) if pieces[0].strip() else 0
        length = int(pieces[1]) if len(pieces) > 1 and pieces[1].strip() else None
    except ValueError:
        return value
    if offset < 0:
        offset = max(len(value) + offset, 0)
    value = value[offset:]
    if length is None:
        return value
    if length < 0:
        return value[: max(len(value) + length, 0)]
    return value[:length]


def _find_closing(text: str, start: int, opener: str, closer: str) -> int:
    """Index of the `closer` matching an opener just before `start`, or -1."""
    depth = 1
    i = start
    while i < len(text):
        ch = text[i]
        if ch == opener:
            depth += 1
        elif ch == closer:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _split_name_and_substring(inner: str) -> tuple[str, str | None]:
    """`NAME:1:3` -> ("NAME", "1:3"); colons inside a function's parentheses do not count."""
    depth = 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif ch == ":" and depth == 0:
            return inner[:i], inner[i + 1 :]
    return inner, None


@dataclass
class _Run:
    """Where one channel is in the dialplan."""

    channel: str
    context: str
    exten: str
    priority: int
    cause: int = 0  # what the channel's hangup cause would be if the dialplan ended now
    jumped: bool = False  # the current application moved the channel (Goto, Stasis continue)
    ended: bool = False  # the current application ended the dialplan (Hangup, Busy, ...)
    steps: int = 0


class DialplanRunner:
    """Runs channels through a `Dialplan`, acting on them through a `DialplanHost`."""

    def __init__(self, dialplan: Dialplan, host: DialplanHost) -> None:
        self.dialplan = dialplan
        self.host = host

    async def run(
        self, channel: str, context: str, exten: str, priority: int = 1, label: str | None = None
    ) -> None:
        """Run `channel` from context/exten/priority (or label) until the dialplan ends, then hang it up.

        Never raises (except cancellation): errors are logged and the channel is hung up.
        """
        state = _Run(channel, context, exten, priority)
        try:
            if label is not None:
                found = self.dialplan.label_priority(context, exten, label, await self._callerid(state))
                if found is None:
                    raise DialplanError(f"no label '{label}' in {context},{exten}")
                state.priority = found
            await self._loop(state)
        except ChannelGone:
            log.debug("channel %s hung up in %s,%s,%d", channel, state.context, state.exten, state.priority)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "dialplan failed for channel %s at %s,%s,%d; hanging it up",
                channel,
                state.context,
                state.exten,
                state.priority,
            )
        try:
            await self._run_h_extension(state)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("'h' extension failed for channel %s", channel)
        try:
            await self.host.hangup(channel, state.cause)
        except ChannelGone:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("hanging up channel %s failed", channel)

    async def _callerid(self, state: _Run) -> str | None:
        if not self.dialplan.has_callerid_extensions():
            return None  # only ask the host when some extension depends on the caller id
        return await self.host.get_variable(state.channel, "CALLERID(num)")

    async def _loop(self, state: _Run) -> None:
        while True:
            ext = self.dialplan.find_extension(state.context, state.exten, await self._callerid(state))
            step = None if ext is None else ext.steps.get(state.priority)
            if step is None:
                if ext is None or 1 not in ext.steps:
                    if await self._invalid_extension(state):
                        continue
                    return
                await self._fall_through(state)
                return
            state.steps += 1
            if state.steps > _MAX_STEPS:
                raise DialplanError(f"more than {_MAX_STEPS} steps without ending; dialplan loop?")
            data = await self._announce_step(state, step)
            state.jumped = False
            await self._execute(state, step, data)
            if state.ended:
                return
            if not state.jumped:
                state.priority += 1

    async def _announce_step(self, state: _Run, step: Step) -> str:
        """Tell the host the step runs; its data, with variables put in, is what the step gets."""
        data = await self.substitute(state, step.data)
        await self.host.on_dialplan_step(
            state.channel,
            context=state.context,
            exten=state.exten,
            priority=state.priority,
            app=step.app,
            app_data=data,
        )
        return data

    async def _invalid_extension(self, state: _Run) -> bool:
        """A channel sent to an extension that does not exist: go to `i` if the context has it."""
        if state.exten != "i" and self.dialplan.exists(state.context, "i"):
            log.info("channel %s sent to invalid extension %s,%s", state.channel, state.context, state.exten)
            await self.host.set_variable(state.channel, "INVALID_EXTEN", state.exten)
            state.exten, state.priority = "i", 1
            return True
        log.warning(
            "channel %s sent to invalid extension %s,%s,%d and no 'i' handler",
            state.channel,
            state.context,
            state.exten,
            state.priority,
        )
        return False

    async def _fall_through(self, state: _Run) -> None:
        """No more priorities: after a failed Dial Asterisk plays busy or congestion for a while first."""
        status = (await self.host.get_variable(state.channel, "DIALSTATUS")) or ""
        log.info("auto fallthrough, channel %s status is '%s'", state.channel, status or "UNKNOWN")
        if status.upper() == "BUSY":
            await self._tone_then_end(state, "busy", _CAUSE_BUSY, _FALLTHROUGH_TONE_SECONDS)
        elif status.upper() in ("CONGESTION", "CHANUNAVAIL"):
            await self._tone_then_end(state, "congestion", _CAUSE_CONGESTION, _FALLTHROUGH_TONE_SECONDS)

    async def _tone_then_end(self, state: _Run, tone: Indication, cause: int, seconds: float | None) -> None:
        await self.host.indicate(state.channel, tone)
        state.cause = cause
        state.ended = True
        await self.host.wait(state.channel, seconds)

    async def _run_h_extension(self, state: _Run) -> None:
        """Asterisk runs the context's `h` extension after the call ends, if there is one."""
        ext = self.dialplan.find_extension(state.context, "h")
        if ext is None or 1 not in ext.steps or state.exten == "h":
            return
        state.exten, state.priority, state.ended = "h", 1, False
        while not state.ended and state.priority in ext.steps and state.steps <= _MAX_STEPS:
            step = ext.steps[state.priority]
            state.steps += 1
            state.jumped = False
            try:
                data = await self._announce_step(state, step)
                await self._execute(state, step, data)
            except ChannelGone:
                return
            if state.jumped:
                return  # jumping out of 'h' is not followed
            state.priority += 1

    # -- substitution -----------------------------------------------------------------------------------

    async def substitute(self, state: _Run, text: str, depth: int = 0) -> str:
        """Replace `${...}` and `$[...]` in `text` the way Asterisk does before running an application."""
        if "$" not in text:
            return text
        if depth > _MAX_SUBSTITUTION_DEPTH:
            raise DialplanError("variable substitution nested too deeply")
        out: list[str] = []
        i = 0
        while i < len(text):
            if text.startswith("${", i):
                end = _find_closing(text, i + 2, "{", "}")
                if end < 0:
                    out.append(text[i:])
                    break
                inner = await self.substitute(state, text[i + 2 : end], depth + 1)
                out.append(await self._variable(state, inner, depth))
                i = end + 1
            elif text.startswith("$[", i):
                end = _find_closing(text, i + 2, "[", "]")
                if end < 0:
                    out.append(text[i:])
                    break
                inner = await self.substitute(state, text[i + 2 : end], depth + 1)
                out.append(evaluate_expression(inner))
                i = end + 1
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    async def _variable(self, state: _Run, inner: str, depth: int) -> str:
        name, substring = _split_name_and_substring(inner)
        value = await self._lookup(state, name, depth)
        return value if substring is None else _substring(value, substring)

    async def _lookup(self, state: _Run, name: str, depth: int) -> str:
        if name == "EXTEN":
            return state.exten
        if name == "CONTEXT":
            return state.context
        if name == "PRIORITY":
            return str(state.priority)
        if name.endswith(")") and "(" in name:
            func, _, arg = name[:-1].partition("(")
            func = func.strip().upper()
            if func == "LEN":
                return str(len(arg))
            if func == "ISNULL":
                return "1" if arg == "" else "0"
            if func == "EXISTS":
                return "1" if arg != "" else "0"
            if func == "IF":
                condition, _, branches = arg.partition("?")
                yes, _, no = branches.partition(":")
                return yes if _is_true(condition) else no
            if func == "GLOBAL":
                return self.dialplan.globals.get(arg, "")
            if func == "TOUPPER":
                return arg.upper()
            if func == "TOLOWER":
                return arg.lower()
        value = await self.host.get_variable(state.channel, name)
        if value is not None:
            return value
        return self.dialplan.globals.get(name, "")

    # -- applications ---------------------------------------------------------------------------------

    async def _execute(self, state: _Run, step: Step, data: str) -> None:
        app = step.app.lower()
        handler = _APPLICATIONS.get(app)
        if handler is None:
            log.warning(
                "%s: application '%s' is not simulated; going on with the next priority",
                step.source,
                step.app,
            )
            return
        await handler(self, state, data)

    async def _app_answer(self, state: _Run, data: str) -> None:
        await self.host.answer(state.channel)
        delay = split_app_args(data)[:1]
        if delay and delay[0].strip():
            await self.host.wait(state.channel, float(delay[0]) / 1000.0)

    async def _app_noop(self, state: _Run, data: str) -> None:
        log.debug("channel %s: %s", state.channel, data)

    async def _app_wait(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        seconds = float(args[0]) if args and args[0].strip() else 0.0
        if seconds > 0:
            await self.host.wait(state.channel, seconds)

    async def _app_playback(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        files = [f for f in (args[0] if args else "").split("&") if f.strip()]
        options = args[1] if len(args) > 1 else ""
        if "noanswer" not in options:
            await self.host.answer(state.channel)
        status = "SUCCESS"
        for name in files:
            media = name.strip() if ":" in name else f"sound:{name.strip()}"
            if not await self.host.play(state.channel, media):
                status = "FAILED"
                break
        await self.host.set_variable(state.channel, "PLAYBACKSTATUS", status)

    async def _app_progress(self, state: _Run, data: str) -> None:
        await self.host.indicate(state.channel, "progress")

    async def _app_ringing(self, state: _Run, data: str) -> None:
        await self.host.indicate(state.channel, "ringing")

    async def _app_busy(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        seconds = float(args[0]) if args and args[0].strip() else None
        await self._tone_then_end(state, "busy", _CAUSE_BUSY, seconds)

    async def _app_congestion(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        seconds = float(args[0]) if args and args[0].strip() else None
        await self._tone_then_end(state, "congestion", _CAUSE_CONGESTION, seconds)

    async def _app_hangup(self, state: _Run, data: str) -> None:
        text = data.strip()
        cause = 0
        if text:
            cause = HANGUP_CAUSES.get(text.upper(), 0) or (int(text) if text.isdigit() else 0)
            if cause <= 0:
                log.warning("invalid cause given to Hangup(): '%s'", text)
        state.cause = cause if cause > 0 else (state.cause or _CAUSE_NORMAL)
        state.ended = True

    async def _app_set(self, state: _Run, data: str) -> None:
        name, sep, value = data.partition("=")
        if not sep or not name.strip():
            log.warning("Set requires an argument (NAME=value), got '%s'", data)
            return
        await self._set(state, name.strip(), value)

    async def _app_mset(self, state: _Run, data: str) -> None:
        for pair in split_app_args(data):
            name, sep, value = pair.partition("=")
            if sep and name.strip():
                await self._set(state, name.strip(), value)

    async def _set(self, state: _Run, name: str, value: str) -> None:
        if name.upper().startswith("GLOBAL(") and name.endswith(")"):
            self.dialplan.globals[name[7:-1]] = value
            return
        await self.host.set_variable(state.channel, name.lstrip("_"), value)

    def _goto_target(self, state: _Run, spec: str) -> None:
        """Move to `[[context,]exten,]priority|label` (what Goto and GotoIf branches name)."""
        parts = [p.strip() for p in spec.split(",")]
        if len(parts) > 3 or not parts[-1]:
            raise DialplanError(f"Goto destination '{spec}' is not [[context,]exten,]priority")
        context = parts[0] if len(parts) == 3 else state.context
        exten = parts[-2] if len(parts) >= 2 else state.exten
        target = parts[-1]
        priority: int | None = int(target) if target.isdigit() else None
        if priority is None:
            ext = self.dialplan.find_extension(context, exten)
            priority = None if ext is None else ext.labels.get(target)
            if priority is None:
                raise DialplanError(
                    f"priority '{target}' must be a number > 0 or a label of {context},{exten}"
                )
        state.context, state.exten, state.priority = context, exten, priority
        state.jumped = True

    async def _app_goto(self, state: _Run, data: str) -> None:
        self._goto_target(state, data)

    async def _app_gotoif(self, state: _Run, data: str) -> None:
        condition, sep, branches = data.partition("?")
        if not sep:
            raise DialplanError(f"GotoIf needs 'condition?label1:label2', got '{data}'")
        yes, _, no = branches.partition(":")
        chosen = yes if _is_true(condition) else no
        if chosen.strip():
            self._goto_target(state, chosen)

    async def _app_dial(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        destinations = [d.strip() for d in (args[0] if args else "").split("&") if d.strip()]
        if not destinations:
            log.warning("Dial requires an argument (technology/resource)")
            await self.host.set_variable(state.channel, "DIALSTATUS", "INVALIDARGS")
            return
        ring_timeout = float(args[1]) if len(args) > 1 and args[1].strip() else None
        options = args[2] if len(args) > 2 else ""
        status = await self.host.dial(state.channel, destinations, ring_timeout, options)
        await self.host.set_variable(state.channel, "DIALSTATUS", status)
        if status == "ANSWER":
            if "g" not in options:
                state.cause = _CAUSE_NORMAL
                state.ended = True  # the bridged call is over; without 'g' the caller is hung up too
        elif status in _DIAL_FAILURE_CAUSES:
            state.cause = _DIAL_FAILURE_CAUSES[status]

    async def _app_stasis(self, state: _Run, data: str) -> None:
        args = split_app_args(data)
        if not args or not args[0].strip():
            raise DialplanError("Stasis requires an application name")
        target = await self.host.enter_stasis(state.channel, args[0].strip(), args[1:])
        if target is None:
            log.error("error running Stasis application '%s' (not registered)", args[0])
            await self.host.set_variable(state.channel, "STASISSTATUS", "FAILED")
            return
        await self.host.set_variable(state.channel, "STASISSTATUS", "SUCCESS")
        await self._continue_at(state, target)

    async def _continue_at(self, state: _Run, target: DialplanTarget) -> None:
        """Apply where ARI `continue` sent the channel."""
        if (
            target.context is None
            and target.extension is None
            and target.priority is None
            and not target.label
        ):
            return  # next priority
        context = target.context or state.context
        exten = target.extension or state.exten
        if target.label:
            priority = self.dialplan.label_priority(context, exten, target.label, await self._callerid(state))
            if priority is None:
                raise DialplanError(f"continue to unknown label '{target.label}' in {context},{exten}")
        elif target.priority is not None:
            priority = target.priority
        else:
            priority = 1
        state.context, state.exten, state.priority = context, exten, priority
        state.jumped = True

    async def _app_amd(self, state: _Run, data: str) -> None:
        status, cause = await self.host.amd_result(state.channel)
        await self.host.set_variable(state.channel, "AMDSTATUS", status)
        await self.host.set_variable(state.channel, "AMDCAUSE", cause)


#: The applications the simulator runs, by lower-case name (application names are case-insensitive).
_APPLICATIONS = {
    "answer": DialplanRunner._app_answer,
    "noop": DialplanRunner._app_noop,
    "verbose": DialplanRunner._app_noop,
    "log": DialplanRunner._app_noop,
    "wait": DialplanRunner._app_wait,
    "playback": DialplanRunner._app_playback,
    "progress": DialplanRunner._app_progress,
    "ringing": DialplanRunner._app_ringing,
    "busy": DialplanRunner._app_busy,
    "congestion": DialplanRunner._app_congestion,
    "hangup": DialplanRunner._app_hangup,
    "set": DialplanRunner._app_set,
    "mset": DialplanRunner._app_mset,
    "goto": DialplanRunner._app_goto,
    "gotoif": DialplanRunner._app_gotoif,
    "dial": DialplanRunner._app_dial,
    "stasis": DialplanRunner._app_stasis,
    "amd": DialplanRunner._app_amd,
}

"""A reader for Asterisk's `.conf` syntax, strict enough to catch what Asterisk would reject or misread.

Asterisk drops a line it cannot place (an option before any `[section]`) with only a warning and then
ignores the whole file for some modules (features.conf does), so the tests treat every such line as an
error instead of skipping it. Supported: `[name]`, `[name](!)`, `[name](template,...)`, `key = value`,
`key => value`, `;` comments (`\\;` is a literal semicolon), `;-- ... --;` block comments, `#include`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_HEADER = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<flags>[^)]*)\))?\s*$")
_OPTION = re.compile(r"^(?P<key>[^=]+?)\s*=>?\s*(?P<value>.*)$")


@dataclass(frozen=True)
class ConfOption:
    """One `key = value` line; `comment` keeps what followed `;` so placeholders can be checked."""

    key: str
    value: str
    comment: str
    line: int


@dataclass
class ConfSection:
    """A `[section]`; `templates` are the sections it inherits from, `is_template` marks `(!)`."""

    name: str
    line: int
    is_template: bool = False
    templates: tuple[str, ...] = ()
    own: list[ConfOption] = field(default_factory=list)


@dataclass
class ConfFile:
    """A parsed file. `errors` lists lines Asterisk would not understand (empty for a good file)."""

    path: Path
    sections: list[ConfSection] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def named(self, name: str) -> list[ConfSection]:
        """Every non-template section called `name` (pjsip.conf reuses a name for several types)."""
        return [s for s in self.sections if s.name == name and not s.is_template]

    def options(self, section: ConfSection) -> list[ConfOption]:
        """The section's options as Asterisk sees them: inherited template options first, then its own."""
        inherited: list[ConfOption] = []
        for template_name in section.templates:
            for template in (s for s in self.sections if s.name == template_name):
                inherited.extend(self.options(template))
        return inherited + section.own

    def values(self, section: ConfSection, key: str) -> list[str]:
        """All values of `key` in the section (options such as `require` or `match` may repeat)."""
        return [o.value for o in self.options(section) if o.key == key]

    def value(self, section: ConfSection, key: str) -> str | None:
        """The effective value of a single-valued option (the last one given), or None."""
        found = self.values(section, key)
        return found[-1] if found else None

    def only(self, name: str) -> ConfSection:
        """The one section called `name`; a missing or repeated section is a test failure."""
        found = self.named(name)
        assert len(found) == 1, f"{self.path.name}: expected one [{name}], found {len(found)}"
        return found[0]

    def of_type(self, type_name: str) -> list[ConfSection]:
        """Non-template sections whose effective `type` is `type_name` (pjsip.conf objects)."""
        return [s for s in self.sections if not s.is_template and self.value(s, "type") == type_name]


def _split_comment(text: str) -> tuple[str, str]:
    """Code and comment of one line; an escaped `\\;` stays in the code as `;`."""
    code: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and text[index + 1 : index + 2] == ";":
            code.append(";")
            index += 2
            continue
        if char == ";":
            return "".join(code), text[index + 1 :].strip()
        code.append(char)
        index += 1
    return "".join(code), ""


def parse_conf(path: Path) -> ConfFile:
    """Parse one file (its `#include`s are recorded, not followed: the shipped files use none)."""
    result = ConfFile(path=path)
    current: ConfSection | None = None
    in_block_comment = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw
        if in_block_comment:
            end = text.find("--;")
            if end < 0:
                continue
            text = text[end + 3 :]
            in_block_comment = False
        start = text.find(";--")
        if start >= 0:
            end = text.find("--;", start + 3)
            if end < 0:
                in_block_comment = True
                text = text[:start]
            else:
                text = text[:start] + text[end + 3 :]
        code, comment = _split_comment(text)
        code = code.strip()
        if not code:
            continue
        if code.startswith("#include") or code.startswith("#tryinclude"):
            result.includes.append(code.split(None, 1)[1].strip().strip('"') if " " in code else "")
            continue
        if code.startswith("#"):
            result.errors.append(f"{path.name}:{number}: unsupported directive {code!r}")
            continue
        header = _HEADER.match(code)
        if header:
            flags = [f.strip() for f in (header.group("flags") or "").split(",") if f.strip()]
            current = ConfSection(
                name=header.group("name").strip(),
                line=number,
                is_template="!" in flags,
                templates=tuple(f for f in flags if f not in ("!", "+")),
            )
            result.sections.append(current)
            continue
        option = _OPTION.match(code)
        if option is None:
            result.errors.append(f"{path.name}:{number}: not an option or section: {code!r}")
            continue
        if current is None:
            result.errors.append(f"{path.name}:{number}: option before any [section]: {code!r}")
            continue
        current.own.append(
            ConfOption(
                key=option.group("key").strip(),
                value=option.group("value").strip(),
                comment=comment,
                line=number,
            )
        )
    if in_block_comment:
        result.errors.append(f"{path.name}: block comment ;-- is never closed")
    for section in result.sections:
        for template in section.templates:
            if not any(s.name == template for s in result.sections):
                result.errors.append(
                    f"{path.name}:{section.line}: [{section.name}] uses unknown template {template!r}"
                )
    return result

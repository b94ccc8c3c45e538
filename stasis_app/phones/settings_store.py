"""Per-extension phone settings (``phone_features``), cached in memory, written through.

Call flows read settings on every call, so they come from a cache loaded at start (and reloaded on
demand); a feature code updates the cache and the row together. Writes run in a worker thread so
the event loop never waits on the database. Without a session factory the store is memory-only
(the demo and unit tests of decisions).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import PhoneFeatures, PsEndpoint, User
from stasis_app.phones.classes import DEFAULT_ALLOWED, CallClass, format_classes, parse_classes

log = logging.getLogger(__name__)

EDITABLE = frozenset(
    {
        "dnd",
        "voicemail_enabled",
        "forward_all",
        "forward_busy",
        "forward_noanswer",
        "noanswer_seconds",
        "pickup_group",
        "call_classes",
        "record_on_demand",
    }
)


@dataclass(frozen=True)
class ExtensionSettings:
    """One extension's settings; an extension without a row has these defaults."""

    extension: str
    dnd: bool = False
    voicemail_enabled: bool = False
    forward_all: str = ""
    forward_busy: str = ""
    forward_noanswer: str = ""
    noanswer_seconds: int = 20
    pickup_group: str = ""
    call_classes: frozenset[CallClass] = DEFAULT_ALLOWED
    record_on_demand: bool = True

    @classmethod
    def from_row(cls, row: PhoneFeatures) -> ExtensionSettings:
        try:
            classes = parse_classes(row.call_classes)
        except ValueError as exc:
            log.error("extension %s: %s; allowing internal calls only", row.extension, exc)
            classes = frozenset({CallClass.INTERNAL})
        return cls(
            extension=row.extension,
            dnd=row.dnd,
            voicemail_enabled=row.voicemail_enabled,
            forward_all=row.forward_all,
            forward_busy=row.forward_busy,
            forward_noanswer=row.forward_noanswer,
            noanswer_seconds=row.noanswer_seconds,
            pickup_group=row.pickup_group,
            call_classes=classes,
            record_on_demand=row.record_on_demand,
        )

    def column_values(self) -> dict[str, Any]:
        return {
            "dnd": self.dnd,
            "voicemail_enabled": self.voicemail_enabled,
            "forward_all": self.forward_all,
            "forward_busy": self.forward_busy,
            "forward_noanswer": self.forward_noanswer,
            "noanswer_seconds": self.noanswer_seconds,
            "pickup_group": self.pickup_group,
            "call_classes": format_classes(self.call_classes),
            "record_on_demand": self.record_on_demand,
        }


class PhoneSettingsStore:
    """Settings by extension plus the directory of known extensions."""

    def __init__(self, session_factory: sessionmaker[Session] | None = None) -> None:
        self.session_factory = session_factory
        self._settings: dict[str, ExtensionSettings] = {}
        self._extensions: set[str] = set()
        self._write_lock = asyncio.Lock()

    async def load(self) -> None:
        """Read every row, and the extensions known from phones (ps_endpoints) and users."""
        if self.session_factory is None:
            return
        settings, extensions = await asyncio.to_thread(self._read_all)
        self._settings = settings
        self._extensions = extensions | set(settings)
        log.info("phone settings loaded: %d rows, %d extensions", len(settings), len(self._extensions))

    def _read_all(self) -> tuple[dict[str, ExtensionSettings], set[str]]:
        assert self.session_factory is not None
        with self.session_factory() as session:
            rows = session.scalars(select(PhoneFeatures)).all()
            endpoints = session.scalars(select(PsEndpoint.id)).all()
            phones = session.scalars(select(User.phone).where(User.phone.is_not(None))).all()
        settings = {row.extension: ExtensionSettings.from_row(row) for row in rows}
        # Trunks are endpoints too; extensions are the all-digit ones.
        extensions = {str(ep) for ep in endpoints if str(ep).isdigit()}
        extensions |= {str(phone) for phone in phones if phone and str(phone).isdigit()}
        return settings, extensions

    def directory(self) -> frozenset[str]:
        return frozenset(self._extensions)

    def known(self, extension: str) -> bool:
        return extension in self._extensions

    def get(self, extension: str) -> ExtensionSettings:
        return self._settings.get(extension) or ExtensionSettings(extension)

    def add_extension(self, extension: str) -> None:
        """Make an extension dialable without a database row (embedded demo, tests of the flow)."""
        self._extensions.add(extension)

    async def update(self, extension: str, **changes: Any) -> ExtensionSettings:
        """Change some settings of one extension (creating its row) and return the new settings."""
        unknown = set(changes) - EDITABLE
        if unknown:
            raise ValueError(f"not phone settings: {', '.join(sorted(unknown))}")
        if "call_classes" in changes and isinstance(changes["call_classes"], str):
            changes["call_classes"] = parse_classes(changes["call_classes"])
        async with self._write_lock:
            updated = replace(self.get(extension), **changes)
            if self.session_factory is not None:
                await asyncio.to_thread(self._write, updated)
            self._settings[extension] = updated
            self._extensions.add(extension)
        return updated

    def _write(self, settings: ExtensionSettings) -> None:
        assert self.session_factory is not None
        with self.session_factory() as session:
            row = session.get(PhoneFeatures, settings.extension)
            if row is None:
                row = PhoneFeatures(extension=settings.extension)
                session.add(row)
            for name, value in settings.column_values().items():
                setattr(row, name, value)
            session.commit()

    def in_group(self, group: str) -> list[str]:
        """Extensions of a pickup group (an empty group name is no group)."""
        if not group:
            return []
        return sorted(ext for ext, s in self._settings.items() if s.pickup_group == group)

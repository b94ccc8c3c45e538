"""What the request handlers share: settings, database sessions, the bus and the live status view."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from admin_api.bus_link import CommandBus
from admin_api.config import ApiConfig
from admin_api.login_guard import LoginGuard
from admin_api.status import LiveStatus

EXTENSION_KEY = "opencontact"


@dataclass
class ApiServices:
    config: ApiConfig
    sessions: sessionmaker[Session]
    bus: CommandBus | None
    status: LiveStatus
    guard: LoginGuard


def services() -> ApiServices:
    """The services of the app handling the current request."""
    found = current_app.extensions[EXTENSION_KEY]
    assert isinstance(found, ApiServices)
    return found

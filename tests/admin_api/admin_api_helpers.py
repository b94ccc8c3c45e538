"""Helpers shared by the admin API tests: test people, the Stasis stand-in, token helpers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bus import InProcessBus, Message
from datastore.models import User, sip_phone_rows
from datastore.passwords import hash_password

ADMIN = ("boss-admin", "admin-pass-1")
SUPERVISOR = ("sup", "sup-pass-12")
AGENT = ("alice", "alice-pass-1")
AGENT_PHONE = "1101"
OTHER_AGENT = ("bob", "bob-pass-12")
OTHER_PHONE = "1102"
CAMPAIGN = "Sales"
MAX_FAILED = 3


@dataclass
class StasisStandIn:
    """Plays the Stasis app's side of the bus: records commands and answers requests."""

    bus: InProcessBus
    commands: list[Message] = field(default_factory=list)
    phones_in_call: set[str] = field(default_factory=set)
    refused_agents: set[str] = field(default_factory=set)

    async def handle(self, message: Message) -> None:
        self.commands.append(message)
        if "request_id" not in message:
            return
        kind = message["type"]
        if kind == "phone.hangup":
            ok = message["phone"] in self.phones_in_call
        elif kind in {"agent.login", "agent.logoff"}:
            ok = message["agent"] not in self.refused_agents
        elif kind == "call.dial":
            # As the Stasis app answers a dial it placed: the call's GUID.
            ok = message["agent"] not in self.refused_agents
            await self.bus.reply(
                message, {"ok": ok, "guid": f"guid-{len(self.commands)}"} if ok else {"ok": False}
            )
            return
        else:
            ok = True
        await self.bus.reply(message, {"ok": ok})

    def wait_for(self, kind: str, timeout: float = 3.0) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.commands:
                if message["type"] == kind:
                    return message
            time.sleep(0.01)
        raise AssertionError(f"no {kind} command reached the Stasis side; got {self.commands}")


def add_person(session: Session, username: str, password: str, role: str, phone: str | None = None) -> User:
    user = User(
        username=username, password_hash=hash_password(password), fullname=username.title(), role=role
    )
    if phone:
        user.phone = phone
        session.add_all(sip_phone_rows(phone, password, context="from-internal", realm="asterisk"))
    session.add(user)
    return user


def seed_token(client: FlaskClient, username: str, password: str) -> str:
    """A token through the seed's getUserToken (its body is the token in JSON quotes)."""
    response = client.post(
        "/Integra/resources/auth/getUserToken", data={"user": username, "password": password}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith('"') and body != '"0"', body
    token: Any = response.get_json()
    assert isinstance(token, str)
    return token


def basic(token: str) -> dict[str, str]:
    return {"Authorization": f"Basic {token}"}

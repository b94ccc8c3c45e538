"""Voicemail end to end: the product's service against the harness, phones 201-206 in MariaDB, and a
local SMTP server (aiosmtpd, in the test's own event loop) receiving the notifications.

The harness is the shared e2e fixture, the phone rows the phone tests' fixture. Far ends are silent,
so messages are recorded with silence detection off: a message ends with ``#`` or the caller hanging
up.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from e2e_phones.conftest import db_engine
from e2e_support import CLEAN, ProductServices, harness, harness_phone_settings, played
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from datastore.models import VoicemailBox, VoicemailMessage
from harness.base import CallHarness, FarEnd
from stasis_app.phones.mail import MailSettings
from stasis_app.phones.voicemail import RECORDING_PREFIX, Voicemail, VoicemailRecord, VoicemailSettings
from stasis_app.service import StasisService

__all__ = ["CLEAN", "db_engine", "harness", "played"]


@dataclass
class MailCatcher:
    """What the local SMTP server received."""

    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), [str(rcpt) for rcpt in envelope.rcpt_tos]))
        self.arrived.set()
        return "250 OK"

    async def wait_for(self, count: int, within: float = 10.0) -> list[EmailMessage]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self.messages) < count:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"only {len(self.messages)} of {count} e-mails arrived")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                continue
        return self.messages


@pytest.fixture
async def mail_server() -> AsyncIterator[MailCatcher]:
    catcher = MailCatcher()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(catcher, hostname="mail.test"), "127.0.0.1", 0)
    catcher.port = int(server.sockets[0].getsockname()[1])
    try:
        yield catcher
    finally:
        server.close()
        await server.wait_closed()


@dataclass
class System:
    harness: CallHarness
    service: StasisService
    engine: Engine
    mail: MailCatcher

    @property
    def voicemail(self) -> Voicemail:
        assert self.service.voicemail is not None
        return self.service.voicemail

    async def dial(self, from_ext: str, digits: str) -> FarEnd:
        return await self.harness.place_call(digits, from_ext, context="from-internal")

    async def voicemail_outcome(self, caller: FarEnd, within: float = 20.0) -> VoicemailRecord:
        """How the voicemail ended the call this far end made."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            for record in self.voicemail.history:
                if record.channel_id == caller.channel_id:
                    return record
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"voicemail of {caller.channel_id} not over; {list(self.voicemail.history)}"
                )
            await asyncio.sleep(0.01)

    async def wait_recording(self, caller: FarEnd, within: float = 20.0) -> str:
        """The name of the message being recorded on the caller, once Asterisk is recording it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            call = self.voicemail.calls.get(caller.channel_id)
            if call is not None and call.recording:
                status, live = await self.harness.ari.call("GET", f"/recordings/live/{call.recording}")
                if status == 200 and live.get("state") == "recording":
                    return call.recording
            await asyncio.sleep(0.01)
        raise TimeoutError(f"no recording started on {caller.channel_id}")

    def messages(self, box: str) -> list[VoicemailMessage]:
        with Session(self.engine) as session:
            rows = list(
                session.scalars(
                    select(VoicemailMessage)
                    .where(VoicemailMessage.box == box)
                    .order_by(VoicemailMessage.received_at, VoicemailMessage.id)
                ).all()
            )
            for row in rows:
                session.expunge(row)
            return rows

    def box_row(self, box: str) -> VoicemailBox | None:
        with Session(self.engine) as session:
            row = session.get(VoicemailBox, box)
            if row is not None:
                session.expunge(row)
            return row

    async def stored(self) -> set[str]:
        return {str(item["name"]) for item in await self.harness.ari.get("/recordings/stored")}


Starter = Callable[..., Awaitable[System]]


@pytest.fixture
def voicemail_db(db_engine: Engine) -> Engine:
    """The phones' database without boxes or messages from earlier tests."""
    with Session(db_engine) as session:
        session.execute(delete(VoicemailMessage))
        session.execute(delete(VoicemailBox))
        session.commit()
    return db_engine


@pytest.fixture
async def start_system(
    harness: CallHarness, voicemail_db: Engine, mariadb_url: str, tmp_path: Path, mail_server: MailCatcher
) -> AsyncIterator[Starter]:
    services = ProductServices(harness, mariadb_url, tmp_path / "journal")

    async def start(**voicemail_options: Any) -> System:
        options: dict[str, Any] = {
            "mail": MailSettings(host="127.0.0.1", port=mail_server.port, sender="pbx@example.test"),
            "max_silence_seconds": 0,
            "max_message_seconds": 60,
            "key_timeout": 3.0,
            "first_digit_timeout": 5.0,
            "inter_digit_timeout": 3.0,
            **voicemail_options,
        }
        settings = VoicemailSettings(**options)
        contexts.add(settings.mwi_context)
        service, _ = await services.start(harness_phone_settings(harness), settings)
        return System(harness, service, voicemail_db, mail_server)

    contexts: set[str] = set()

    try:
        yield start
    finally:
        await services.stop_all()
        # Stored messages outlive the test on a real Asterisk: remove the ones voicemail made.
        for item in await harness.ari.get("/recordings/stored"):
            name = str(item["name"])
            if name.startswith(RECORDING_PREFIX):
                await harness.ari.call("DELETE", f"/recordings/stored/{name}")
        # So are the message-waiting mailboxes the voicemail set.
        status, boxes = await harness.ari.call("GET", "/mailboxes")
        for item in boxes if status == 200 else []:
            name = str(item["name"])
            if name.rpartition("@")[2] in contexts - {""}:
                await harness.ari.call("DELETE", f"/mailboxes/{name}")

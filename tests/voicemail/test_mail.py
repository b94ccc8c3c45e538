"""Voicemail e-mail: settings from the environment, the message built, and delivery over SMTP to a
local aiosmtpd server (plain and with a login)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SmtpSession

from stasis_app.phones.mail import (
    DEFAULT_SENDER,
    MailSettings,
    VoicemailMailer,
    VoicemailNotice,
    build_message,
)

NOTICE = VoicemailNotice(
    to="owner@example.test",
    box="202",
    caller='"Front desk" <201>',
    received_at=datetime(2026, 3, 4, 5, 6, 7),
    duration=12,
    audio=b"RIFF-not-really-audio",
    filename="oc-vm-202-abc.wav",
)


@dataclass
class Inbox:
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"secret")


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    found = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(found, hostname="mail.test", authenticator=found.authenticate, auth_require_tls=False),
        "127.0.0.1",
        0,
    )
    found.port = int(server.sockets[0].getsockname()[1])
    try:
        yield found
    finally:
        server.close()
        await server.wait_closed()


def test_settings_from_the_environment() -> None:
    settings = MailSettings.from_env(
        {
            "OC_SMTP_HOST": "mail.example.test",
            "OC_SMTP_PORT": "587",
            "OC_SMTP_USER": "pbx",
            "OC_SMTP_PASSWORD": "pw",
            "OC_SMTP_FROM": "pbx@example.test",
            "OC_SMTP_STARTTLS": "yes",
        }
    )
    assert settings == MailSettings("mail.example.test", 587, "pbx", "pw", "pbx@example.test", True)
    assert settings.enabled


def test_settings_default_to_disabled() -> None:
    settings = MailSettings.from_env({})
    assert not settings.enabled
    assert (settings.port, settings.sender, settings.starttls) == (25, DEFAULT_SENDER, False)


def test_a_bad_port_is_refused() -> None:
    with pytest.raises(ValueError, match="OC_SMTP_PORT"):
        MailSettings.from_env({"OC_SMTP_HOST": "h", "OC_SMTP_PORT": "smtp"})


def test_message_with_the_recording_attached() -> None:
    message = build_message(MailSettings(host="h", sender="pbx@example.test"), NOTICE)
    assert (message["From"], message["To"]) == ("pbx@example.test", "owner@example.test")
    assert message["Subject"] == 'New voicemail in mailbox 202 from "Front desk" <201>'
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "2026-03-04 05:06:07" in text and "12 s" in text
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_filename() == "oc-vm-202-abc.wav"
    assert attachment.get_payload(decode=True) == b"RIFF-not-really-audio"


def test_message_without_audio_has_no_attachment() -> None:
    message = build_message(MailSettings(host="h"), _without_audio())
    assert list(message.iter_attachments()) == []
    assert "*66" in message.get_content()


def _without_audio() -> VoicemailNotice:
    return VoicemailNotice(NOTICE.to, NOTICE.box, "", NOTICE.received_at, 3)


async def test_mailer_delivers_with_the_attachment(inbox: Inbox) -> None:
    mailer = VoicemailMailer(MailSettings(host="127.0.0.1", port=inbox.port))
    assert await mailer.send(NOTICE)
    [received] = inbox.messages
    assert received["To"] == "owner@example.test"
    [attachment] = list(received.iter_attachments())
    assert attachment.get_payload(decode=True) == b"RIFF-not-really-audio"
    assert (mailer.sent, mailer.failed, inbox.logins) == (1, 0, [])


async def test_mailer_logs_in_when_a_user_is_set(inbox: Inbox) -> None:
    settings = MailSettings(host="127.0.0.1", port=inbox.port, user="pbx", password="secret")
    assert await VoicemailMailer(settings).send(NOTICE)
    assert inbox.logins == [(b"pbx", b"secret")]
    assert len(inbox.messages) == 1


async def test_a_refused_recipient_is_a_logged_failure(inbox: Inbox) -> None:
    mailer = VoicemailMailer(MailSettings(host="127.0.0.1", port=inbox.port))
    refused = VoicemailNotice("nobody@example.test", "202", "", NOTICE.received_at, 1)
    assert not await mailer.send(refused)
    assert (mailer.sent, mailer.failed, inbox.messages) == (0, 1, [])


async def test_unreachable_server_is_a_logged_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailer = VoicemailMailer(MailSettings(host="127.0.0.1", port=port, timeout=2.0))
    assert not await mailer.send(NOTICE)
    assert mailer.failed == 1


async def test_disabled_mailer_sends_nothing(inbox: Inbox) -> None:
    mailer = VoicemailMailer(MailSettings())
    assert not await mailer.send(NOTICE)
    assert not await VoicemailMailer(MailSettings(host="127.0.0.1", port=inbox.port)).send(
        VoicemailNotice("", "202", "", NOTICE.received_at, 1)
    )
    assert inbox.messages == []

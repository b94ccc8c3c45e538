"""E-mail notification of new voicemail, with the message attached when the box asks for it.

Sending talks SMTP with ``smtplib``, which blocks, so :class:`VoicemailMailer` runs it in a worker
thread: a slow or unreachable mail server never holds up a call or the event loop. Notification is
off unless a server is configured (``OC_SMTP_HOST``); a failed send is logged and not retried (the
message itself is safe in the mailbox either way).
"""

from __future__ import annotations

import asyncio
import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

log = logging.getLogger(__name__)

DEFAULT_SENDER = "voicemail@localhost"


def _flag(raw: str | None) -> bool:
    return (raw or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class MailSettings:
    """Where notifications are sent from; an empty ``host`` turns them off."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = DEFAULT_SENDER
    #: Upgrade the connection with STARTTLS before logging in (port 587 servers want it).
    starttls: bool = False
    timeout: float = 30.0

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MailSettings:
        """``OC_SMTP_HOST``, ``OC_SMTP_PORT``, ``OC_SMTP_USER``, ``OC_SMTP_PASSWORD``, ``OC_SMTP_FROM``,
        ``OC_SMTP_STARTTLS``."""
        env = os.environ if environ is None else environ
        port_text = env.get("OC_SMTP_PORT", "").strip()
        try:
            port = int(port_text) if port_text else cls.port
        except ValueError as exc:
            raise ValueError(f"OC_SMTP_PORT must be a number, got {port_text!r}") from exc
        return cls(
            host=env.get("OC_SMTP_HOST", "").strip(),
            port=port,
            user=env.get("OC_SMTP_USER", "").strip(),
            password=env.get("OC_SMTP_PASSWORD", ""),
            sender=env.get("OC_SMTP_FROM", "").strip() or DEFAULT_SENDER,
            starttls=_flag(env.get("OC_SMTP_STARTTLS")),
        )


@dataclass(frozen=True)
class VoicemailNotice:
    """What the owner of a box is told about one new message."""

    to: str
    box: str
    caller: str
    received_at: datetime
    duration: int
    #: The recording's audio file (a WAV), or None to send the notice without it.
    audio: bytes | None = None
    filename: str = "message.wav"


def build_message(settings: MailSettings, notice: VoicemailNotice) -> EmailMessage:
    """The e-mail for one notice: a short text and, when there is audio, the file as an attachment."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = notice.to
    message["Subject"] = f"New voicemail in mailbox {notice.box} from {notice.caller or 'unknown caller'}"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    lines = [
        f"Mailbox {notice.box} has a new message.",
        "",
        f"From: {notice.caller or 'unknown caller'}",
        f"Received: {notice.received_at:%Y-%m-%d %H:%M:%S}",
        f"Length: {notice.duration} s",
        "",
        "Dial *66 from your phone to listen to it."
        if notice.audio is None
        else "The message is attached; dial *66 from your phone to manage your mailbox.",
    ]
    message.set_content("\n".join(lines))
    if notice.audio is not None:
        message.add_attachment(notice.audio, maintype="audio", subtype="wav", filename=notice.filename)
    return message


def send_message(settings: MailSettings, message: EmailMessage) -> None:
    """Deliver one message (blocking): connect, STARTTLS and log in when configured, send."""
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.user:
            client.login(settings.user, settings.password)
        client.send_message(message)


class VoicemailMailer:
    """Sends notices in a worker thread; ``send`` answers whether the server accepted the mail."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.sent = 0
        self.failed = 0

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    async def send(self, notice: VoicemailNotice) -> bool:
        if not self.enabled or not notice.to:
            return False
        message = build_message(self.settings, notice)
        try:
            await asyncio.to_thread(send_message, self.settings, message)
        except (OSError, smtplib.SMTPException) as exc:
            self.failed += 1
            log.warning("voicemail notice for box %s to %s not sent: %r", notice.box, notice.to, exc)
            return False
        self.sent += 1
        log.info("voicemail notice for box %s sent to %s", notice.box, notice.to)
        return True

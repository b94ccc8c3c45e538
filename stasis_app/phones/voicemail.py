"""Voicemail done by the Stasis application: ARI recordings and playbacks, boxes in the database.

Asterisk's app_voicemail is not used. A message is an ARI stored recording (``oc-vm-<box>-<hex>``)
plus a ``voicemail_messages`` row; the box (``voicemail_boxes``) holds the argon2 hash of its
password, the owner's e-mail address and whether the audio is attached to the notification.

Leaving a message (no answer, busy with voicemail on, ``SendToVoicemail``): the caller hears the
greeting ("the person at extension <box> is unavailable", then the recording instructions) and a
beep, then the channel is recorded until ``#``, the longest message, the longest silence, or the
caller hanging up -- Asterisk finishes the recording on hang-up, so the message is kept then too.
The row is stored, and the owner is e-mailed in the background.

Message waiting: after a message is stored, heard or deleted, the box's counts of new (unheard) and
old (heard) messages are set on the Asterisk mailbox ``<box>@<mwi_context>`` (ARI ``PUT
/mailboxes``, served by res_mwi_external). Phones whose endpoint lists that mailbox get a SIP
NOTIFY and show the lamp or the stuttered dial tone. This runs in the background, after the
database write: a slow or failing Asterisk never holds up the caller, it is only logged.

The mailbox menu (``*66`` own box, ``*66`` + extension another box from any phone):

1. The password, ended with ``#`` (or the inter-digit timeout). Three wrong tries: "goodbye", hang up.
2. "You have <n> new and <m> old messages".
3. Each message, new ones first, oldest first: "message <i>", the recording, then the options.
   A message counts as heard once it has been played. Keys (also while the message plays):
   ``7`` delete it, ``9`` keep it and go to the next, ``#`` leave the mailbox. Without a key the
   options are repeated a few times, then the mailbox says goodbye.
4. After the last message: "no more messages", "goodbye", hang up.

Delete all (``*67``): the password as above, "you have <n> messages, press 7 to delete", then ``7``
deletes every message (rows and stored recordings); any other key, or none, aborts.

Boxes are made on demand for extensions: the first message to an extension, or its owner's first
``*66``, creates the box. Its password is ``default_password`` (``OC_VOICEMAIL_DEFAULT_PASSWORD``)
when one is configured -- users should change it -- and otherwise the box is locked: messages are
still kept, but nobody can log in until an administrator sets a password.

Prompts are ARI media URIs, configurable in :class:`VoicemailSounds`; a prompt that does not exist
on the Asterisk only fails its own playback and the menu goes on.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import uuid
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import MAILBOX_CONTEXT, VoicemailBox, VoicemailMessage, mailbox_context
from datastore.passwords import hash_password, verify_password
from stasis_app.ari import AriConnection, AriError, AriRequestError
from stasis_app.ari.rest import ari_url, basic_authorization
from stasis_app.phones.mail import MailSettings, VoicemailMailer, VoicemailNotice
from stasis_app.phones.services import CallerInfo

log = logging.getLogger(__name__)

#: ARI answers these when the channel has hung up or left the application.
GONE_STATUSES = frozenset({404, 409})
#: Longest wait for one prompt or message to finish playing.
PLAYBACK_LIMIT = 600.0
#: After the caller hung up mid-recording, how long Asterisk may take to report the recording.
RECORDING_GRACE = 5.0
RECORDING_PREFIX = "oc-vm-"
#: First Stasis argument of the calls the dialplan sends to a mailbox (``[stasis-return] vm<box>``).
VOICEMAIL_KIND = "voicemail"


@dataclass(frozen=True)
class VoicemailSounds:
    """Prompts as ARI media URIs; ``{box}``, ``{count}``, ``{new}``, ``{old}``, ``{index}`` are filled in."""

    greeting: tuple[str, ...] = (
        "sound:vm-theperson",
        "digits:{box}",
        "sound:vm-isunavail",
        "sound:vm-intro",
    )
    beep: str = "sound:beep"
    saved_and_goodbye: tuple[str, ...] = ("sound:vm-msgsaved", "sound:vm-goodbye")
    password: str = "sound:vm-password"
    incorrect: str = "sound:vm-incorrect"
    goodbye: str = "sound:vm-goodbye"
    counts: tuple[str, ...] = (
        "sound:vm-youhave",
        "digits:{new}",
        "sound:vm-INBOX",
        "sound:vm-and",
        "digits:{old}",
        "sound:vm-Old",
        "sound:vm-messages",
    )
    message_number: tuple[str, ...] = ("sound:vm-message", "digits:{index}")
    options: tuple[str, ...] = ("sound:vm-delete", "sound:vm-savemessage")
    deleted: str = "sound:vm-deleted"
    no_more: str = "sound:vm-nomore"
    confirm_delete_all: tuple[str, ...] = (
        "sound:vm-youhave",
        "digits:{count}",
        "sound:vm-messages",
        "sound:vm-delete",
    )
    all_deleted: str = "sound:vm-deleted"


@dataclass(frozen=True)
class VoicemailSettings:
    """How messages are recorded and how long the menus wait for keys."""

    sounds: VoicemailSounds = field(default_factory=VoicemailSounds)
    mail: MailSettings = field(default_factory=MailSettings)
    #: Password given to boxes made on demand; empty makes them locked until one is set.
    default_password: str = ""
    max_message_seconds: int = 180
    #: Silence that ends a message (0: only ``#``, hang-up or the length limit end it).
    max_silence_seconds: int = 10
    recording_format: str = "wav"
    #: Seconds for the first digit of the password, then between digits.
    first_digit_timeout: float = 10.0
    inter_digit_timeout: float = 5.0
    password_tries: int = 3
    #: Seconds the menu waits for a key after the options prompt, and how often it asks.
    key_timeout: float = 5.0
    option_repeats: int = 3
    #: Context of the Asterisk mailboxes (``<box>@<context>``) that phones subscribe to; the same
    #: as the ``mailboxes`` option of their endpoints. Empty turns message-waiting updates off.
    mwi_context: str = MAILBOX_CONTEXT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VoicemailSettings:
        """``OC_VOICEMAIL_DEFAULT_PASSWORD``, ``OC_VOICEMAIL_MAX_SECONDS``, ``OC_VOICEMAIL_MAX_SILENCE``,
        ``OC_VOICEMAIL_FORMAT``, ``OC_VOICEMAIL_MWI_CONTEXT`` (``off`` turns message waiting off)
        and the ``OC_SMTP_*`` mail settings."""
        env = os.environ if environ is None else environ
        defaults = cls()

        def number(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            try:
                return int(raw) if raw else default
            except ValueError as exc:
                raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc

        return cls(
            mail=MailSettings.from_env(env),
            default_password=env.get("OC_VOICEMAIL_DEFAULT_PASSWORD", "").strip(),
            max_message_seconds=number("OC_VOICEMAIL_MAX_SECONDS", defaults.max_message_seconds),
            max_silence_seconds=number("OC_VOICEMAIL_MAX_SILENCE", defaults.max_silence_seconds),
            recording_format=env.get("OC_VOICEMAIL_FORMAT", "").strip() or defaults.recording_format,
            mwi_context=mailbox_context(env),
        )


# Boxes and messages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    extension: str
    password_hash: str
    email: str
    attach: bool


@dataclass(frozen=True)
class Message:
    id: int
    box: str
    recording: str
    caller: str
    received_at: datetime
    duration: int
    heard: bool


def _box(row: VoicemailBox) -> Box:
    return Box(row.extension, row.password_hash, row.email, row.attach)


def _message(row: VoicemailMessage) -> Message:
    return Message(row.id, row.box, row.recording, row.caller, row.received_at, row.duration, row.heard)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class MailboxStore:
    """``voicemail_boxes`` and ``voicemail_messages``; every query runs in a worker thread."""

    def __init__(self, session_factory: sessionmaker[Session], default_password: str = "") -> None:
        self.session_factory = session_factory
        self.default_password = default_password

    async def box(self, extension: str, *, create: bool) -> Box | None:
        """The box, made on demand when ``create`` (see the module docstring for its password)."""
        found = await asyncio.to_thread(self._read_box, extension)
        if found is not None or not create:
            return found
        password_hash = (
            await asyncio.to_thread(hash_password, self.default_password) if self.default_password else ""
        )
        return await asyncio.to_thread(self._create_box, extension, password_hash)

    def _read_box(self, extension: str) -> Box | None:
        with self.session_factory() as session:
            row = session.get(VoicemailBox, extension)
            return _box(row) if row is not None else None

    def _create_box(self, extension: str, password_hash: str) -> Box:
        with self.session_factory() as session:
            session.add(VoicemailBox(extension=extension, password_hash=password_hash, email="", attach=True))
            try:
                session.commit()
            except IntegrityError:
                # Made meanwhile by another call to the same box.
                session.rollback()
            row = session.get(VoicemailBox, extension)
            assert row is not None
            log.info("voicemail box %s created (%s)", extension, "locked" if not password_hash else "default")
            return _box(row)

    async def set_box(
        self,
        extension: str,
        *,
        password: str | None = None,
        email: str | None = None,
        attach: bool | None = None,
    ) -> Box:
        """Create or change a box (administration and tests)."""
        password_hash = await asyncio.to_thread(hash_password, password) if password is not None else None
        return await asyncio.to_thread(self._write_box, extension, password_hash, email, attach)

    def _write_box(
        self, extension: str, password_hash: str | None, email: str | None, attach: bool | None
    ) -> Box:
        with self.session_factory() as session:
            row = session.get(VoicemailBox, extension)
            if row is None:
                row = VoicemailBox(extension=extension, password_hash="", email="", attach=True)
                session.add(row)
            if password_hash is not None:
                row.password_hash = password_hash
            if email is not None:
                row.email = email
            if attach is not None:
                row.attach = attach
            session.commit()
            return _box(row)

    async def add_message(self, box: str, recording: str, caller: str, duration: int) -> Message:
        return await asyncio.to_thread(self._add_message, box, recording, caller, duration)

    def _add_message(self, box: str, recording: str, caller: str, duration: int) -> Message:
        with self.session_factory() as session:
            row = VoicemailMessage(
                box=box,
                recording=recording,
                caller=caller[:80],
                received_at=_now(),
                duration=max(0, duration),
                heard=False,
            )
            session.add(row)
            session.commit()
            return _message(row)

    async def messages(self, box: str) -> list[Message]:
        """New messages first, then heard ones; oldest first in each."""
        return await asyncio.to_thread(self._messages, box)

    def _messages(self, box: str) -> list[Message]:
        with self.session_factory() as session:
            rows = session.scalars(
                select(VoicemailMessage)
                .where(VoicemailMessage.box == box)
                .order_by(VoicemailMessage.heard, VoicemailMessage.received_at, VoicemailMessage.id)
            ).all()
            return [_message(row) for row in rows]

    async def mark_heard(self, message_id: int) -> bool:
        """Mark the message heard; True when it was new until now."""
        return await asyncio.to_thread(self._mark_heard, message_id)

    def _mark_heard(self, message_id: int) -> bool:
        with self.session_factory() as session:
            row = session.get(VoicemailMessage, message_id)
            if row is not None and not row.heard:
                row.heard = True
                session.commit()
                return True
            return False

    async def counts(self, box: str) -> tuple[int, int]:
        """``(new, old)``: how many messages of the box are unheard and heard."""
        return await asyncio.to_thread(self._counts, box)

    def _counts(self, box: str) -> tuple[int, int]:
        with self.session_factory() as session:
            rows = session.execute(
                select(VoicemailMessage.heard, func.count())
                .where(VoicemailMessage.box == box)
                .group_by(VoicemailMessage.heard)
            ).all()
        by_heard = {bool(heard): int(count) for heard, count in rows}
        return by_heard.get(False, 0), by_heard.get(True, 0)

    async def delete_messages(self, message_ids: Sequence[int]) -> None:
        if message_ids:
            await asyncio.to_thread(self._delete_messages, list(message_ids))

    def _delete_messages(self, message_ids: list[int]) -> None:
        with self.session_factory() as session:
            session.execute(delete(VoicemailMessage).where(VoicemailMessage.id.in_(message_ids)))
            session.commit()


# The calls -------------------------------------------------------------------------------------------


class CallerGone(Exception):
    """The channel hung up or left the application while the voicemail was using it."""


class Wake(enum.Enum):
    DONE = "done"
    DIGIT = "digit"
    GONE = "gone"
    TIMEOUT = "timeout"


@dataclass
class VoicemailCall:
    """One channel the voicemail owns, and what it has received."""

    channel_id: str
    action: str
    box: str
    digits: deque[str] = field(default_factory=deque)
    digit_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    #: The recording being made of a message, while it is made.
    recording: str = ""
    outcome: str = ""
    detail: str = ""


@dataclass(frozen=True)
class VoicemailRecord:
    """How one voicemail call ended, kept for status output and tests."""

    channel_id: str
    action: str
    box: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True)
class RecordingResult:
    finished: bool
    duration: int


class Voicemail:
    """The ``VoicemailService`` of the phone features (see the module docstring for the menus)."""

    def __init__(
        self,
        connection: AriConnection,
        session_factory: sessionmaker[Session],
        settings: VoicemailSettings | None = None,
        *,
        known_extension: Callable[[str], bool] | None = None,
        mailer: VoicemailMailer | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings or VoicemailSettings()
        self.boxes = MailboxStore(session_factory, self.settings.default_password)
        self.known_extension = known_extension
        self.mailer = mailer or VoicemailMailer(self.settings.mail)
        self.calls: dict[str, VoicemailCall] = {}
        self.history: deque[VoicemailRecord] = deque(maxlen=1000)
        self._playbacks: dict[str, asyncio.Future[str]] = {}
        self._recordings: dict[str, asyncio.Future[RecordingResult]] = {}
        self._notifications: set[asyncio.Task[None]] = set()
        #: Message-waiting updates under way, by box, and the boxes that changed again meanwhile.
        self._mwi_tasks: dict[str, asyncio.Task[None]] = {}
        self._mwi_stale: set[str] = set()
        #: Messages being left by calls the dialplan sent here.
        self._dialplan_calls: set[asyncio.Task[None]] = set()
        self._removers: list[Callable[[], None]] = []

    # Wiring ---------------------------------------------------------------------------------------

    def install(self) -> None:
        conn = self.connection
        self._removers += [
            conn.on("ChannelDtmfReceived", self._on_dtmf),
            conn.on("PlaybackFinished", self._on_playback_finished),
            conn.on("RecordingFinished", self._on_recording_finished),
            conn.on("RecordingFailed", self._on_recording_finished),
            conn.on("StasisEnd", self._on_channel_left),
            conn.on("ChannelDestroyed", self._on_channel_left),
        ]

    async def drain(self, within: float = 30.0) -> None:
        """Wait for the e-mail notifications and mailbox updates under way (tests, shutdown)."""
        pending = set(self._notifications)
        if pending:
            await asyncio.wait(pending, timeout=within)

    async def close(self) -> None:
        for remove in self._removers:
            remove()
        self._removers.clear()
        for task in list(self._dialplan_calls):
            task.cancel()
        await asyncio.gather(*self._dialplan_calls, return_exceptions=True)
        await self.drain(10.0)
        for task in list(self._notifications):
            task.cancel()
        await asyncio.gather(*self._notifications, return_exceptions=True)

    # Events ---------------------------------------------------------------------------------------

    async def _on_dtmf(self, event: dict[str, Any], _conn: AriConnection) -> None:
        call = self.calls.get(str((event.get("channel") or {}).get("id")))
        digit = str(event.get("digit", ""))
        if call is not None and digit:
            call.digits.append(digit)
            call.digit_arrived.set()

    async def _on_playback_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        playback = event.get("playback") or {}
        waiter = self._playbacks.get(str(playback.get("id")))
        if waiter is not None and not waiter.done():
            waiter.set_result(str(playback.get("state", "")))

    async def _on_recording_finished(self, event: dict[str, Any], _conn: AriConnection) -> None:
        recording = event.get("recording") or {}
        waiter = self._recordings.get(str(recording.get("name")))
        if waiter is None or waiter.done():
            return
        duration = recording.get("duration")
        waiter.set_result(
            RecordingResult(
                event.get("type") == "RecordingFinished",
                duration if isinstance(duration, int) else 0,
            )
        )

    async def _on_channel_left(self, event: dict[str, Any], _conn: AriConnection) -> None:
        call = self.calls.get(str((event.get("channel") or {}).get("id")))
        if call is not None:
            call.gone.set()

    # The service --------------------------------------------------------------------------------

    async def on_dialplan_call(self, channel: dict[str, Any], args: list[str], _application: object) -> None:
        """A call the dialplan sends with ``Stasis(<app>,voicemail,<box>)``: leave a message.

        Runs in its own task so the application's event handling goes on meanwhile.
        """
        channel_id = str(channel["id"])
        box = args[0] if args else ""
        if not box:
            log.warning("voicemail call %s without a box", channel_id)
            await self._hangup(channel_id)
            return
        caller = channel.get("caller") or {}
        info = CallerInfo(str(caller.get("number", "")), str(caller.get("name", "")))
        leaving = self.leave_message(channel_id, box, info)
        task = asyncio.create_task(leaving, name=f"voicemail of {channel_id}")
        self._dialplan_calls.add(task)
        task.add_done_callback(self._dialplan_calls.discard)

    async def leave_message(self, channel_id: str, box: str, caller: CallerInfo) -> None:
        await self._run(VoicemailCall(channel_id, "leave", box), lambda call: self._leave(call, caller))

    async def check_mailbox(self, channel_id: str, box: str, ask_password: bool) -> None:
        await self._run(VoicemailCall(channel_id, "check", box), lambda call: self._check(call, ask_password))

    async def delete_all(self, channel_id: str, box: str) -> None:
        await self._run(VoicemailCall(channel_id, "delete-all", box), self._delete_all)

    async def _run(
        self, call: VoicemailCall, script: Callable[[VoicemailCall], Coroutine[Any, Any, None]]
    ) -> None:
        """Own the channel for the script; hang it up afterwards unless it is gone already."""
        self.calls[call.channel_id] = call
        try:
            await script(call)
        except CallerGone:
            call.outcome = call.outcome or "hangup"
        except asyncio.CancelledError:
            call.outcome = call.outcome or "cancelled"
            raise
        except Exception as exc:
            log.exception("voicemail %s for box %s on %s failed", call.action, call.box, call.channel_id)
            call.outcome = "failed"
            call.detail = repr(exc)
        finally:
            if not call.gone.is_set():
                await self._hangup(call.channel_id)
            self.calls.pop(call.channel_id, None)
            self.history.append(
                VoicemailRecord(call.channel_id, call.action, call.box, call.outcome or "ended", call.detail)
            )
            log.info(
                "voicemail %s box %s on %s: %s %s",
                call.action,
                call.box,
                call.channel_id,
                call.outcome,
                call.detail,
            )

    async def _leave(self, call: VoicemailCall, caller: CallerInfo) -> None:
        sounds = self.settings.sounds
        box = await self.boxes.box(call.box, create=True)
        assert box is not None
        await self._answer(call)
        await self._play(call, self._fill(sounds.greeting, box=call.box), interruptible=True)
        call.digits.clear()
        await self._play(call, [sounds.beep])
        name = f"{RECORDING_PREFIX}{call.box}-{uuid.uuid4().hex[:16]}"
        result = await self._record(call, name)
        call.digits.clear()
        if result is None or not result.finished:
            call.outcome = "no-message"
            call.detail = "recording failed" if result is not None else "hung up before the recording"
            return
        message = await self.boxes.add_message(call.box, name, caller.caller_id, result.duration)
        call.outcome = "message-left"
        call.detail = name
        self.refresh_waiting(call.box)
        self._spawn_notification(box, message)
        if not call.gone.is_set():
            await self._play(call, list(sounds.saved_and_goodbye))

    async def _record(self, call: VoicemailCall, name: str) -> RecordingResult | None:
        """Record the channel until it ends; None when the recording never started."""
        settings = self.settings
        waiter: asyncio.Future[RecordingResult] = asyncio.get_running_loop().create_future()
        self._recordings[name] = waiter
        call.recording = name
        try:
            try:
                await self.connection.rest.channels.record(
                    channelId=call.channel_id,
                    name=name,
                    format=settings.recording_format,
                    maxDurationSeconds=settings.max_message_seconds,
                    maxSilenceSeconds=settings.max_silence_seconds,
                    ifExists="fail",
                    beep=False,
                    terminateOn="#",
                )
            except AriRequestError as exc:
                if exc.status in GONE_STATUSES:
                    call.gone.set()
                    return None
                raise
            wake = await self._wait(call, waiter, settings.max_message_seconds + 30.0)
            if wake is Wake.DONE:
                return waiter.result()
            if wake is Wake.GONE:
                # Asterisk finishes the recording when the channel hangs up, and says so at once.
                try:
                    return await asyncio.wait_for(asyncio.shield(waiter), RECORDING_GRACE)
                except TimeoutError:
                    pass
            if wake is Wake.TIMEOUT:
                try:
                    await self.connection.rest.recordings.stop(recordingName=name)
                except AriRequestError as exc:
                    log.info("recording %s could not be stopped: %s", name, exc)
            # No word: keep what Asterisk stored, if anything.
            return RecordingResult(await self._stored(name), 0)
        finally:
            call.recording = ""
            self._recordings.pop(name, None)

    async def _check(self, call: VoicemailCall, ask_password: bool) -> None:
        sounds = self.settings.sounds
        box = await self._open_box(call)
        await self._answer(call)
        if ask_password and not await self._login(call, box):
            return
        messages = await self.boxes.messages(call.box)
        new = sum(1 for message in messages if not message.heard)
        await self._play(
            call, self._fill(sounds.counts, new=new, old=len(messages) - new), interruptible=True
        )
        call.outcome = "listened"
        played = deleted = 0
        for index, message in enumerate(messages, start=1):
            key = await self._present(call, message, index)
            played += 1
            if key == "7":
                await self._delete_recordings([message])
                await self.boxes.delete_messages([message.id])
                self.refresh_waiting(call.box)
                deleted += 1
                await self._play(call, [sounds.deleted], interruptible=True)
            elif key == "#":
                call.detail = f"played {played} deleted {deleted}, left"
                await self._play(call, [sounds.goodbye])
                return
            elif key is None:
                call.detail = f"played {played} deleted {deleted}, no key"
                await self._play(call, [sounds.goodbye])
                return
        call.detail = f"played {played} deleted {deleted}"
        await self._play(call, [sounds.no_more, sounds.goodbye])

    async def _present(self, call: VoicemailCall, message: Message, index: int) -> str | None:
        """Play one message and its options; the menu key (7, 9, #) or None when none came."""
        sounds = self.settings.sounds
        call.digits.clear()
        media = [*self._fill(sounds.message_number, index=index), f"recording:{message.recording}"]
        interrupted = await self._play(call, media, interruptible=True)
        if await self.boxes.mark_heard(message.id):
            self.refresh_waiting(call.box)
        if interrupted:
            pressed = call.digits.popleft()
            if pressed in ("7", "9", "#"):
                return pressed
        for _round in range(max(1, self.settings.option_repeats)):
            await self._play(call, list(sounds.options), interruptible=True)
            while True:
                key = await self._key(call, self.settings.key_timeout)
                if key is None:
                    break
                if key in ("7", "9", "#"):
                    return key
        return None

    async def _delete_all(self, call: VoicemailCall) -> None:
        sounds = self.settings.sounds
        box = await self._open_box(call)
        await self._answer(call)
        if not await self._login(call, box):
            return
        messages = await self.boxes.messages(call.box)
        call.digits.clear()
        await self._play(call, self._fill(sounds.confirm_delete_all, count=len(messages)), interruptible=True)
        key = await self._key(call, self.settings.key_timeout)
        if key != "7":
            call.outcome = "aborted"
            call.detail = f"key {key!r}"
            await self._play(call, [sounds.goodbye])
            return
        await self._delete_recordings(messages)
        await self.boxes.delete_messages([message.id for message in messages])
        self.refresh_waiting(call.box)
        call.outcome = "deleted-all"
        call.detail = f"{len(messages)} messages"
        await self._play(call, [sounds.all_deleted, sounds.goodbye])

    async def _open_box(self, call: VoicemailCall) -> Box:
        known = self.known_extension is None or self.known_extension(call.box)
        box = await self.boxes.box(call.box, create=known)
        if box is None:
            # A box that is neither stored nor an extension: answer like a wrong password would.
            return Box(call.box, "", "", False)
        return box

    async def _login(self, call: VoicemailCall, box: Box) -> bool:
        """Ask the password up to ``password_tries`` times; after the last wrong one say goodbye."""
        sounds = self.settings.sounds
        for attempt in range(1, self.settings.password_tries + 1):
            await self._play(call, [sounds.password], interruptible=True)
            entered = await self._collect(call)
            if entered:
                matches: bool = await asyncio.to_thread(verify_password, box.password_hash, entered)
                if matches:
                    return True
            log.info("voicemail box %s: wrong password (try %d) on %s", call.box, attempt, call.channel_id)
            if attempt < self.settings.password_tries:
                await self._play(call, [sounds.incorrect], interruptible=True)
        call.outcome = "wrong-password"
        call.detail = f"{self.settings.password_tries} tries"
        await self._play(call, [sounds.incorrect, sounds.goodbye])
        return False

    # Media and keys -----------------------------------------------------------------------------

    @staticmethod
    def _fill(templates: Sequence[str], **values: object) -> list[str]:
        return [template.format(**values) for template in templates]

    async def _wait(
        self, call: VoicemailCall, waiter: asyncio.Future[Any] | None, within: float, *, digits: bool = False
    ) -> Wake:
        """Until ``waiter`` resolves, the caller leaves, a digit arrives (``digits``), or time is up."""
        if call.gone.is_set():
            return Wake.GONE
        if digits and call.digits:
            return Wake.DIGIT
        if waiter is not None and waiter.done():
            return Wake.DONE
        call.digit_arrived.clear()
        watchers: dict[asyncio.Future[Any], Wake] = {asyncio.ensure_future(call.gone.wait()): Wake.GONE}
        if digits:
            watchers[asyncio.ensure_future(call.digit_arrived.wait())] = Wake.DIGIT
        pending: set[asyncio.Future[Any]] = set(watchers)
        if waiter is not None:
            pending.add(waiter)
        try:
            done, _ = await asyncio.wait(pending, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watcher in watchers:
                watcher.cancel()
        if waiter is not None and waiter in done:
            return Wake.DONE
        for watcher, wake in watchers.items():
            if watcher in done:
                return wake
        return Wake.TIMEOUT

    async def _play(self, call: VoicemailCall, media: Sequence[str], *, interruptible: bool = False) -> bool:
        """Play each item in turn; True when a key stopped it (the key stays in ``call.digits``)."""
        loop = asyncio.get_running_loop()
        for item in media:
            if interruptible and call.digits:
                return True
            playback_id = f"oc-vm-pb-{uuid.uuid4().hex}"
            waiter: asyncio.Future[str] = loop.create_future()
            self._playbacks[playback_id] = waiter
            try:
                try:
                    await self.connection.rest.channels.playWithId(
                        channelId=call.channel_id, playbackId=playback_id, media=item
                    )
                except AriRequestError as exc:
                    if exc.status in GONE_STATUSES:
                        raise CallerGone(call.channel_id) from exc
                    log.warning("voicemail on %s cannot play %s: %s", call.channel_id, item, exc)
                    continue
                wake = await self._wait(call, waiter, PLAYBACK_LIMIT, digits=interruptible)
                if wake is Wake.GONE:
                    raise CallerGone(call.channel_id)
                if wake is Wake.DIGIT:
                    await self._stop_playback(playback_id)
                    return True
                if wake is Wake.DONE and waiter.result() == "failed":
                    log.info("voicemail on %s: %s could not be played", call.channel_id, item)
            finally:
                self._playbacks.pop(playback_id, None)
        return False

    async def _collect(self, call: VoicemailCall, limit: int = 20) -> str:
        """Digits up to ``#``, ``limit`` digits, or the first-digit / inter-digit timeout."""
        entered = ""
        timeout = self.settings.first_digit_timeout
        while True:
            while call.digits:
                digit = call.digits.popleft()
                if digit == "#":
                    return entered
                entered += digit
                timeout = self.settings.inter_digit_timeout
                if len(entered) >= limit:
                    return entered
            wake = await self._wait(call, None, timeout, digits=True)
            if wake is Wake.GONE:
                raise CallerGone(call.channel_id)
            if wake is Wake.TIMEOUT:
                return entered

    async def _key(self, call: VoicemailCall, within: float) -> str | None:
        wake = await self._wait(call, None, within, digits=True)
        if wake is Wake.GONE:
            raise CallerGone(call.channel_id)
        return call.digits.popleft() if call.digits else None

    # ARI requests -------------------------------------------------------------------------------

    async def _answer(self, call: VoicemailCall) -> None:
        try:
            await self.connection.rest.channels.answer(channelId=call.channel_id)
        except AriRequestError as exc:
            if exc.status in GONE_STATUSES:
                call.gone.set()
                raise CallerGone(call.channel_id) from exc
            raise

    async def _stop_playback(self, playback_id: str) -> None:
        try:
            await self.connection.rest.playbacks.stop(playbackId=playback_id)
        except AriRequestError as exc:
            if exc.status != 404:
                log.warning("stopping playback %s failed: %s", playback_id, exc)

    async def _hangup(self, channel_id: str) -> None:
        try:
            await self.connection.rest.channels.hangup(channelId=channel_id, reason="normal")
        except AriError as exc:
            if not (isinstance(exc, AriRequestError) and exc.status == 404):
                log.warning("hanging up %s failed: %s", channel_id, exc)

    async def _stored(self, name: str) -> bool:
        try:
            await self.connection.rest.recordings.getStored(recordingName=name)
        except AriRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def _delete_recordings(self, messages: Sequence[Message]) -> None:
        for message in messages:
            try:
                await self.connection.rest.recordings.deleteStored(recordingName=message.recording)
            except AriRequestError as exc:
                if exc.status != 404:
                    log.warning("deleting recording %s failed: %s", message.recording, exc)

    async def recording_file(self, name: str) -> bytes:
        """The stored recording's audio file (GET /recordings/stored/{name}/file).

        Fetched with a plain HTTP request: the REST client decodes answers as text, which would
        mangle audio.
        """
        ari = self.connection.settings
        url = ari_url(ari.url, f"recordings/stored/{quote(name, safe='')}/file")
        headers = {"Authorization": basic_authorization(ari.username, ari.password)}
        timeout = aiohttp.ClientTimeout(total=ari.request_timeout)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, headers=headers) as reply,
        ):
            body = await reply.read()
            if reply.status != 200:
                raise AriRequestError(reply.status, body.decode(errors="replace"), "GET", url)
            return body

    # Message waiting ----------------------------------------------------------------------------

    def mailbox_name(self, box: str) -> str:
        """The Asterisk mailbox of a box, as the phones' endpoints name it."""
        return f"{box}@{self.settings.mwi_context}"

    def refresh_waiting(self, box: str) -> None:
        """Have the box's counts sent to Asterisk soon, without waiting for it.

        One update per box runs at a time and reads the counts just before sending, so when the
        box changes again meanwhile one more update follows and the last one sent is never stale.
        """
        if not self.settings.mwi_context:
            return
        if box in self._mwi_tasks:
            self._mwi_stale.add(box)
            return
        task = asyncio.create_task(self._send_waiting(box), name=f"voicemail waiting {box}")
        self._mwi_tasks[box] = task
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    async def _send_waiting(self, box: str) -> None:
        try:
            while True:
                self._mwi_stale.discard(box)
                try:
                    new, old = await self.boxes.counts(box)
                    await self.connection.rest.mailboxes.update(
                        mailboxName=self.mailbox_name(box), oldMessages=old, newMessages=new
                    )
                    log.debug("mailbox %s: %d new, %d old", self.mailbox_name(box), new, old)
                except Exception as exc:
                    # Phones keep their last indication; the next change of the box sends it again.
                    log.warning("message waiting for %s not updated: %r", self.mailbox_name(box), exc)
                if box not in self._mwi_stale:
                    return
        finally:
            self._mwi_tasks.pop(box, None)

    # Notification -------------------------------------------------------------------------------

    def _spawn_notification(self, box: Box, message: Message) -> None:
        if not self.mailer.enabled or not box.email:
            return
        task = asyncio.create_task(self._notify(box, message), name=f"voicemail notice {message.id}")
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    async def _notify(self, box: Box, message: Message) -> None:
        audio: bytes | None = None
        if box.attach:
            try:
                audio = await self.recording_file(message.recording)
            except (AriError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("voicemail %s: no audio for the notice: %r", message.recording, exc)
        notice = VoicemailNotice(
            to=box.email,
            box=box.extension,
            caller=message.caller,
            received_at=message.received_at,
            duration=message.duration,
            audio=audio,
            filename=f"{message.recording}.{self.settings.recording_format}",
        )
        try:
            await self.mailer.send(notice)
        except Exception:
            log.exception("voicemail notice for message %s failed", message.id)

"""Boxes and messages in MariaDB: boxes made on demand (locked, or with the default password),
message order, heard flags and deletion, and the settings read from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from datastore.database import make_engine, session_factory
from datastore.models import VoicemailBox, VoicemailMessage
from datastore.passwords import verify_password
from stasis_app.phones.mail import MailSettings
from stasis_app.phones.voicemail import MailboxStore, VoicemailSettings


@pytest.fixture
def sessions(mariadb_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(mariadb_url)
    factory = session_factory(engine)
    with factory() as session:
        session.execute(delete(VoicemailMessage))
        session.execute(delete(VoicemailBox))
        session.commit()
    yield factory
    engine.dispose()


async def test_box_is_not_made_unless_asked(sessions: sessionmaker[Session]) -> None:
    store = MailboxStore(sessions, default_password="0000")
    assert await store.box("201", create=False) is None
    with sessions() as session:
        assert session.get(VoicemailBox, "201") is None


async def test_box_made_on_demand_with_the_default_password(sessions: sessionmaker[Session]) -> None:
    store = MailboxStore(sessions, default_password="0000")
    box = await store.box("201", create=True)
    assert box is not None
    assert verify_password(box.password_hash, "0000")
    assert not verify_password(box.password_hash, "1234")
    assert (box.email, box.attach) == ("", True)
    again = await store.box("201", create=True)
    assert again == box


async def test_box_made_on_demand_without_a_default_is_locked(sessions: sessionmaker[Session]) -> None:
    box = await MailboxStore(sessions).box("202", create=True)
    assert box is not None and box.password_hash == ""
    assert not verify_password(box.password_hash, "")


async def test_set_box_changes_only_what_is_given(sessions: sessionmaker[Session]) -> None:
    store = MailboxStore(sessions)
    await store.set_box("203", password="9876", email="a@example.test")
    box = await store.set_box("203", attach=False)
    assert (box.email, box.attach) == ("a@example.test", False)
    assert verify_password(box.password_hash, "9876")


async def test_messages_new_first_then_heard_and_deletion(sessions: sessionmaker[Session]) -> None:
    store = MailboxStore(sessions)
    await store.set_box("204", password="1")
    first = await store.add_message("204", "oc-vm-204-a", "201", 4)
    second = await store.add_message("204", "oc-vm-204-b", "x" * 200, -1)
    third = await store.add_message("204", "oc-vm-204-c", "203", 2)
    assert [m.recording for m in await store.messages("204")] == ["oc-vm-204-a", "oc-vm-204-b", "oc-vm-204-c"]
    assert (len(second.caller), second.duration) == (80, 0)
    await store.mark_heard(first.id)
    listed = await store.messages("204")
    assert [(m.recording, m.heard) for m in listed] == [
        ("oc-vm-204-b", False),
        ("oc-vm-204-c", False),
        ("oc-vm-204-a", True),
    ]
    await store.delete_messages([second.id, third.id])
    assert [m.id for m in await store.messages("204")] == [first.id]
    assert await store.messages("205") == []


def test_settings_from_the_environment() -> None:
    settings = VoicemailSettings.from_env(
        {
            "OC_VOICEMAIL_DEFAULT_PASSWORD": "0000",
            "OC_VOICEMAIL_MAX_SECONDS": "60",
            "OC_VOICEMAIL_MAX_SILENCE": "0",
            "OC_VOICEMAIL_FORMAT": "gsm",
            "OC_SMTP_HOST": "mail.example.test",
        }
    )
    assert (settings.default_password, settings.max_message_seconds) == ("0000", 60)
    assert (settings.max_silence_seconds, settings.recording_format) == (0, "gsm")
    assert settings.mail == MailSettings(host="mail.example.test")
    defaults = VoicemailSettings.from_env({})
    assert (defaults.default_password, defaults.max_silence_seconds, defaults.mail.enabled) == ("", 10, False)
    with pytest.raises(ValueError, match="OC_VOICEMAIL_MAX_SECONDS"):
        VoicemailSettings.from_env({"OC_VOICEMAIL_MAX_SECONDS": "long"})

"""Voicemail end to end: leaving messages on no answer, the e-mail with the message, *66, *66 +
extension, wrong passwords, *67 with and without the confirming 7, and a caller hanging up while
being recorded. Each scenario ends by checking no channel or bridge is left behind.
"""

from __future__ import annotations

import io
import wave

from harness.base import Behaviour, FarEnd, has_heard

from .conftest import CLEAN, Starter, System, played

PASSWORD = "4321"


async def prepare_box(system: System, box: str, *, email: str = "", attach: bool = True) -> None:
    """Voicemail on for the extension, a known password, and (optionally) an e-mail address."""
    await system.service.phones.store.update(box, voicemail_enabled=True)
    await system.voicemail.boxes.set_box(box, password=PASSWORD, email=email, attach=attach)
    await system.harness.register_phone(box, Behaviour("ring"))


async def leave_message(system: System, from_ext: str, box: str, *, skip_greeting: bool = True) -> str:
    """``from_ext`` calls ``box``, nobody answers, and the caller leaves a message ended with #."""
    caller = await system.dial(from_ext, box)
    if skip_greeting:
        await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-theperson"), within=15)
        await system.harness.press(caller, "*")
    name = await system.wait_recording(caller)
    await system.harness.press(caller, "#")
    record = await system.voicemail_outcome(caller)
    assert (record.action, record.box, record.outcome, record.detail) == ("leave", box, "message-left", name)
    assert await system.harness.wait_no_strays() == CLEAN
    return name


async def login(system: System, caller: FarEnd, password: str = PASSWORD) -> None:
    await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-password"), within=10)
    await system.harness.press(caller, password + "#")


async def test_no_answer_leaves_a_message_and_mails_it(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202", email="owner202@example.test")
    caller = await system.dial("201", "202")
    await system.harness.wait_for_ringing("202")
    name = await system.wait_recording(caller)
    await system.harness.press(caller, "#")
    record = await system.voicemail_outcome(caller)
    assert (record.outcome, record.detail) == ("message-left", name)
    assert await system.harness.wait_no_strays() == CLEAN
    heard = played(await system.harness.heard(caller))
    assert heard[:5] == [
        "sound:vm-theperson",
        "digits:202",
        "sound:vm-isunavail",
        "sound:vm-intro",
        "sound:beep",
    ]
    assert heard[-2:] == ["sound:vm-msgsaved", "sound:vm-goodbye"]

    [row] = system.messages("202")
    assert (row.recording, row.heard) == (name, False)
    assert "201" in row.caller
    assert name.startswith("oc-vm-202-")
    assert name in await system.stored()

    [mail] = await system.mail.wait_for(1)
    assert mail["To"] == "owner202@example.test"
    assert mail["From"] == "pbx@example.test"
    assert "202" in str(mail["Subject"]) and "201" in str(mail["Subject"])
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{name}.wav"
    assert attachment.get_content_type() == "audio/wav"
    audio = attachment.get_payload(decode=True)
    assert isinstance(audio, bytes)
    assert audio == await system.voicemail.recording_file(name)
    with wave.open(io.BytesIO(audio)) as parsed:
        assert (parsed.getnchannels(), parsed.getsampwidth()) == (1, 2)
    assert system.voicemail.mailer.sent == 1


async def test_notice_without_attachment_when_the_box_says_so(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "203", email="owner203@example.test", attach=False)
    await leave_message(system, "204", "203")
    [mail] = await system.mail.wait_for(1)
    assert mail["To"] == "owner203@example.test"
    assert list(mail.iter_attachments()) == []


async def test_caller_hanging_up_while_recorded_keeps_the_message(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202")
    caller = await system.dial("201", "202")
    name = await system.wait_recording(caller)
    await system.harness.hangup(caller)
    record = await system.voicemail_outcome(caller)
    assert (record.outcome, record.detail) == ("message-left", name)
    assert [row.recording for row in system.messages("202")] == [name]
    assert name in await system.stored()
    assert await system.harness.wait_no_strays() == CLEAN
    assert system.mail.messages == []  # the box has no e-mail address


async def test_caller_hanging_up_during_the_greeting_leaves_nothing(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202")
    caller = await system.dial("201", "202")
    await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-theperson"), within=15)
    await system.harness.hangup(caller)
    record = await system.voicemail_outcome(caller)
    assert record.outcome == "hangup"
    assert system.messages("202") == []
    assert await system.harness.wait_no_strays() == CLEAN


async def test_own_mailbox_plays_saves_and_deletes(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202")
    first = await leave_message(system, "201", "202")
    second = await leave_message(system, "203", "202")
    owner = await system.dial("202", "*66")
    await login(system, owner)
    await system.harness.wait_heard(owner, has_heard("playback", media=f"recording:{first}"), within=10)
    await system.harness.press(owner, "9")
    await system.harness.wait_heard(owner, has_heard("playback", media=f"recording:{second}"), within=10)
    await system.harness.press(owner, "7")
    record = await system.voicemail_outcome(owner)
    assert (record.action, record.box, record.outcome) == ("check", "202", "listened")
    assert record.detail == "played 2 deleted 1"
    heard = played(await system.harness.heard(owner))
    counts = heard.index("sound:vm-youhave")
    assert heard[counts : counts + 7] == [
        "sound:vm-youhave",
        "digits:2",
        "sound:vm-INBOX",
        "sound:vm-and",
        "digits:0",
        "sound:vm-Old",
        "sound:vm-messages",
    ]
    assert heard.index(f"recording:{first}") < heard.index(f"recording:{second}")
    assert heard[-3:] == ["sound:vm-deleted", "sound:vm-nomore", "sound:vm-goodbye"]
    assert [(row.recording, row.heard) for row in system.messages("202")] == [(first, True)]
    stored = await system.stored()
    assert first in stored and second not in stored
    assert await system.harness.wait_no_strays() == CLEAN

    # Heard messages count as old the next time.
    again = await system.dial("202", "*66")
    await login(system, again)
    await system.harness.wait_heard(again, has_heard("playback", media=f"recording:{first}"), within=10)
    await system.harness.press(again, "#")
    record = await system.voicemail_outcome(again)
    assert (record.outcome, record.detail) == ("listened", "played 1 deleted 0, left")
    heard = played(await system.harness.heard(again))
    counts = heard.index("sound:vm-youhave")
    assert heard[counts + 1] == "digits:0" and heard[counts + 4] == "digits:1"
    assert await system.harness.wait_no_strays() == CLEAN


async def test_mailbox_of_another_extension_from_another_phone(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202")
    name = await leave_message(system, "201", "202")
    visitor = await system.dial("205", "*66202")
    await login(system, visitor)
    await system.harness.wait_heard(visitor, has_heard("playback", media=f"recording:{name}"), within=10)
    await system.harness.press(visitor, "#")
    record = await system.voicemail_outcome(visitor)
    assert (record.action, record.box, record.outcome) == ("check", "202", "listened")
    assert [row.heard for row in system.messages("202")] == [True]
    assert await system.harness.wait_no_strays() == CLEAN


async def test_three_wrong_passwords_hang_up(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "202")
    name = await leave_message(system, "201", "202")
    caller = await system.dial("202", "*66")
    await login(system, caller, "1111")
    await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-incorrect"), within=10)
    await system.harness.press(caller, "2222#")
    await system.harness.press(caller, "3333#")
    record = await system.voicemail_outcome(caller)
    assert (record.outcome, record.detail) == ("wrong-password", "3 tries")
    heard = played(await system.harness.heard(caller))
    assert heard[-2:] == ["sound:vm-incorrect", "sound:vm-goodbye"]
    assert f"recording:{name}" not in heard
    assert [row.heard for row in system.messages("202")] == [False]
    assert await system.harness.wait_no_strays() == CLEAN


async def test_delete_all_confirmed_with_7(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "203")
    names = [await leave_message(system, ext, "203") for ext in ("201", "204")]
    caller = await system.dial("203", "*67")
    await login(system, caller)
    await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-delete"), within=10)
    await system.harness.press(caller, "7")
    record = await system.voicemail_outcome(caller)
    assert (record.action, record.outcome, record.detail) == ("delete-all", "deleted-all", "2 messages")
    heard = played(await system.harness.heard(caller))
    confirm = heard.index("sound:vm-youhave")
    assert heard[confirm : confirm + 4] == [
        "sound:vm-youhave",
        "digits:2",
        "sound:vm-messages",
        "sound:vm-delete",
    ]
    assert system.messages("203") == []
    assert not set(names) & await system.stored()
    assert await system.harness.wait_no_strays() == CLEAN


async def test_delete_all_aborts_on_any_other_key(start_system: Starter) -> None:
    system: System = await start_system()
    await prepare_box(system, "203")
    name = await leave_message(system, "201", "203")
    caller = await system.dial("203", "*67")
    await login(system, caller)
    await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-delete"), within=10)
    await system.harness.press(caller, "1")
    record = await system.voicemail_outcome(caller)
    assert (record.outcome, record.detail) == ("aborted", "key '1'")
    assert [row.recording for row in system.messages("203")] == [name]
    assert name in await system.stored()
    assert await system.harness.wait_no_strays() == CLEAN


async def test_box_made_on_demand_opens_with_the_default_password(start_system: Starter) -> None:
    system: System = await start_system(default_password="0000")
    assert system.box_row("204") is None
    caller = await system.dial("204", "*66")
    await login(system, caller, "0000")
    record = await system.voicemail_outcome(caller)
    assert (record.outcome, record.detail) == ("listened", "played 0 deleted 0")
    box = system.box_row("204")
    assert box is not None and box.password_hash.startswith("$argon2id$")
    assert played(await system.harness.heard(caller))[-2:] == ["sound:vm-nomore", "sound:vm-goodbye"]
    assert await system.harness.wait_no_strays() == CLEAN


async def test_box_made_on_demand_without_a_default_password_is_locked(start_system: Starter) -> None:
    system: System = await start_system()
    caller = await system.dial("205", "*66")
    await login(system, caller, "")
    await system.harness.press(caller, "#")
    await system.harness.press(caller, "0000#")
    record = await system.voicemail_outcome(caller)
    assert record.outcome == "wrong-password"
    box = system.box_row("205")
    assert box is not None and box.password_hash == ""
    assert await system.harness.wait_no_strays() == CLEAN

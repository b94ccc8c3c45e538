"""Message waiting: the voicemail keeps the Asterisk mailbox ``<box>@<context>`` at the box's counts
of new and old messages, read back with ARI ``GET /mailboxes/{name}`` (the simulator, or a real
Asterisk with res_mwi_external). Each test uses its own mailbox context so a shared Asterisk keeps
no state between runs.
"""

from __future__ import annotations

import asyncio
import uuid

from harness.base import has_heard

from .conftest import CLEAN, Starter, System
from .test_voicemail import leave_message, login, prepare_box


async def mailbox(system: System, name: str) -> tuple[int, object]:
    return await system.harness.ari.call("GET", f"/mailboxes/{name}")


async def wait_counts(system: System, name: str, new: int, old: int, within: float = 10.0) -> None:
    """Until the mailbox shows these counts (updates are sent in the background)."""
    await system.voicemail.drain(within)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    status, body = await mailbox(system, name)
    while (status, body) != (200, {"name": name, "old_messages": old, "new_messages": new}):
        if loop.time() >= deadline:
            raise AssertionError(f"{name}: {status} {body}, wanted {new} new and {old} old")
        await asyncio.sleep(0.02)
        status, body = await mailbox(system, name)


async def forget(system: System, name: str) -> None:
    await system.harness.ari.call("DELETE", f"/mailboxes/{name}")


async def test_leaving_listening_and_deleting_move_the_counts(start_system: Starter) -> None:
    context = f"octest{uuid.uuid4().hex[:10]}"
    system: System = await start_system(mwi_context=context)
    name = f"202@{context}"
    assert system.voicemail.mailbox_name("202") == name
    try:
        await prepare_box(system, "202")
        assert (await mailbox(system, name))[0] == 404  # nothing said before the first message

        first = await leave_message(system, "201", "202")
        await wait_counts(system, name, new=1, old=0)
        second = await leave_message(system, "203", "202")
        await wait_counts(system, name, new=2, old=0)

        # Listening: the first is kept (9), so it is old; the caller leaves (#) after hearing the second.
        owner = await system.dial("202", "*66")
        await login(system, owner)
        await system.harness.wait_heard(owner, has_heard("playback", media=f"recording:{first}"), within=10)
        await system.harness.press(owner, "9")
        await system.harness.wait_heard(owner, has_heard("playback", media=f"recording:{second}"), within=10)
        await wait_counts(system, name, new=0, old=2)
        await system.harness.press(owner, "#")
        record = await system.voicemail_outcome(owner)
        assert (record.outcome, record.detail) == ("listened", "played 2 deleted 0, left")
        assert await system.harness.wait_no_strays() == CLEAN

        # Deleting both (7, 7) leaves nothing waiting.
        again = await system.dial("202", "*66")
        await login(system, again)
        await system.harness.wait_heard(again, has_heard("playback", media=f"recording:{first}"), within=10)
        await system.harness.press(again, "7")
        await wait_counts(system, name, new=0, old=1)
        await system.harness.wait_heard(again, has_heard("playback", media=f"recording:{second}"), within=10)
        await system.harness.press(again, "7")
        record = await system.voicemail_outcome(again)
        assert (record.outcome, record.detail) == ("listened", "played 2 deleted 2")
        await wait_counts(system, name, new=0, old=0)
        assert system.messages("202") == []
        assert await system.harness.wait_no_strays() == CLEAN
    finally:
        await forget(system, name)


async def test_delete_all_clears_the_waiting_messages(start_system: Starter) -> None:
    context = f"octest{uuid.uuid4().hex[:10]}"
    system: System = await start_system(mwi_context=context)
    name = f"203@{context}"
    try:
        await prepare_box(system, "203")
        for ext in ("201", "204"):
            await leave_message(system, ext, "203")
        await wait_counts(system, name, new=2, old=0)
        caller = await system.dial("203", "*67")
        await login(system, caller)
        await system.harness.wait_heard(caller, has_heard("playback", media="sound:vm-delete"), within=10)
        await system.harness.press(caller, "7")
        record = await system.voicemail_outcome(caller)
        assert record.outcome == "deleted-all"
        await wait_counts(system, name, new=0, old=0)
        assert await system.harness.wait_no_strays() == CLEAN
    finally:
        await forget(system, name)


async def test_without_a_context_no_mailbox_is_set(start_system: Starter) -> None:
    system: System = await start_system(mwi_context="")
    await prepare_box(system, "204")
    status, before = await system.harness.ari.call("GET", "/mailboxes")
    assert status == 200
    await leave_message(system, "201", "204")
    await system.voicemail.drain()
    assert await system.harness.ari.call("GET", "/mailboxes") == (200, before)
    assert [row.heard for row in system.messages("204")] == [False]


async def test_dialplan_mailbox_extension_leaves_a_message_through_the_app(start_system: Starter) -> None:
    """``[stasis-return] vm<box>`` (a campaign's mailbox) hands the caller to this voicemail, which
    records the message and updates the box's waiting count like any other."""
    context = f"octest{uuid.uuid4().hex[:10]}"
    system: System = await start_system(mwi_context=context)
    name = f"7301@{context}"
    try:
        caller = await system.harness.place_call("vm7301", "0991234567", context="stasis-return")
        recording = await system.wait_recording(caller)
        await system.harness.press(caller, "#")
        record = await system.voicemail_outcome(caller)
        assert (record.action, record.box, record.outcome, record.detail) == (
            "leave",
            "7301",
            "message-left",
            recording,
        )
        assert [(row.recording, row.caller, row.heard) for row in system.messages("7301")] == [
            (recording, "0991234567", False)
        ]
        await wait_counts(system, name, new=1, old=0)
        assert await system.harness.wait_no_strays() == CLEAN
    finally:
        await forget(system, name)

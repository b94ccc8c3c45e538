"""Phones' realtime endpoints name the message-waiting mailbox the voicemail keeps counts in."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import MAILBOX_CONTEXT, mailbox_context, sip_phone_rows


def test_mailbox_context_default_setting_off_and_refused_values() -> None:
    assert mailbox_context({}) == MAILBOX_CONTEXT == "opencontact"
    assert mailbox_context({"OC_VOICEMAIL_MWI_CONTEXT": "  "}) == "opencontact"
    assert mailbox_context({"OC_VOICEMAIL_MWI_CONTEXT": "site2"}) == "site2"
    assert mailbox_context({"OC_VOICEMAIL_MWI_CONTEXT": "off"}) == ""
    for bad in ("a@b", "two words", "x,y", "a/b"):
        with pytest.raises(ValueError, match="OC_VOICEMAIL_MWI_CONTEXT"):
            mailbox_context({"OC_VOICEMAIL_MWI_CONTEXT": bad})


def test_phone_rows_name_their_mailbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OC_VOICEMAIL_MWI_CONTEXT", raising=False)
    assert sip_phone_rows("1001", "pw")[0].mailboxes == "1001@opencontact"
    assert sip_phone_rows("1001", "pw", mailbox="9000@other")[0].mailboxes == "9000@other"
    assert sip_phone_rows("1001", "pw", mailbox="")[0].mailboxes is None
    monkeypatch.setenv("OC_VOICEMAIL_MWI_CONTEXT", "off")
    assert sip_phone_rows("1001", "pw")[0].mailboxes is None


def test_the_stored_endpoint_row_carries_the_mailbox(
    engine: Engine, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OC_VOICEMAIL_MWI_CONTEXT", raising=False)
    with sessions() as session:
        session.add_all(sip_phone_rows("1002", "pw", webrtc=False))
        session.commit()
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT mailboxes FROM ps_endpoints WHERE id = '1002'")).scalar_one()
    assert stored == "1002@opencontact"

"""Passwords are stored only as argon2id hashes; SIP secrets only as Asterisk's md5 credential."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import sip_phone_rows
from datastore.passwords import hash_password, needs_rehash, sip_md5_cred, sip_realm, verify_password


def test_hash_is_argon2id_and_salted() -> None:
    first, second = hash_password("s3cret!"), hash_password("s3cret!")
    assert first.startswith("$argon2id$")
    assert first != second
    assert "s3cret!" not in first


def test_verify_accepts_only_the_right_password() -> None:
    stored = hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horse ")
    assert not verify_password(stored, "")


@pytest.mark.parametrize("broken", ["", "plain-text", "$argon2id$v=19$garbage"])
def test_verify_never_accepts_a_malformed_hash(broken: str) -> None:
    assert not verify_password(broken, "plain-text")


def test_fresh_hashes_need_no_rehash_but_foreign_ones_do() -> None:
    assert not needs_rehash(hash_password("x"))
    assert needs_rehash("not-a-hash")


def test_md5_cred_is_the_rfc2617_ha1() -> None:
    # RFC 2617's worked example: HA1 of "Mufasa:testrealm@host.com:Circle Of Life".
    assert (
        sip_md5_cred("Mufasa", "testrealm@host.com", "Circle Of Life") == "939e7578ed9e3c518a452acee763bce9"
    )


def test_realm_defaults_to_asterisk_and_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OC_SIP_REALM", raising=False)
    assert sip_realm() == "asterisk"
    assert sip_md5_cred("1001", None, "pw") == sip_md5_cred("1001", "asterisk", "pw")
    monkeypatch.setenv("OC_SIP_REALM", "pbx.example")
    assert sip_md5_cred("1001", None, "pw") == sip_md5_cred("1001", "pbx.example", "pw")
    assert sip_md5_cred("1001", None, "pw") != sip_md5_cred("1001", "asterisk", "pw")


def test_phone_rows_hold_no_clear_password(engine: Engine, sessions: sessionmaker[Session]) -> None:
    endpoint, auth, aor = sip_phone_rows(
        "1001", "Phone-Secret-42", realm="asterisk", transport="transport-wss"
    )
    with sessions() as session:
        session.add_all([endpoint, auth, aor])
        session.commit()
    with engine.connect() as connection:
        rows = [
            dict(connection.execute(text(f"SELECT * FROM {table} WHERE id = '1001'")).mappings().one())
            for table in ("ps_endpoints", "ps_auths", "ps_aors")
        ]
    assert all("Phone-Secret-42" not in str(value) for row in rows for value in row.values())
    endpoint_row, auth_row, aor_row = rows
    assert auth_row["auth_type"] == "md5"
    assert auth_row["password"] is None
    assert auth_row["username"] == "1001"
    assert auth_row["md5_cred"] == sip_md5_cred("1001", "asterisk", "Phone-Secret-42")
    assert (endpoint_row["aors"], endpoint_row["auth"], endpoint_row["transport"]) == (
        "1001",
        "1001",
        "transport-wss",
    )
    assert (endpoint_row["webrtc"], endpoint_row["dtmf_mode"], endpoint_row["disallow"]) == (
        "yes",
        "rfc4733",
        "all",
    )
    assert (aor_row["max_contacts"], aor_row["remove_existing"]) == (1, "yes")
    assert endpoint_row["context"] == "from-internal"  # the dialplan's phone context by default


def test_plain_sip_phone_is_not_webrtc() -> None:
    endpoint, auth, _aor = sip_phone_rows(
        "2001", "pw", webrtc=False, context="from-agents", callerid="Desk <2001>"
    )
    assert endpoint.webrtc is False
    assert endpoint.context == "from-agents"
    assert endpoint.callerid == "Desk <2001>"
    assert endpoint.allow is not None and "opus" not in endpoint.allow
    assert auth.realm == sip_realm()

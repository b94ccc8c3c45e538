"""Password hashing for people and SIP credentials for phones.

People's passwords are stored only as argon2id hashes. SIP phones cannot use argon2: Asterisk must be
able to check a digest challenge, so a phone's secret is stored as the RFC 2617 HA1 value
(md5 of "username:realm:password"), which Asterisk reads from ``ps_auths.md5_cred``.
"""

from __future__ import annotations

import hashlib
import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_SIP_REALM = "asterisk"
"""Asterisk's own default realm (pjsip.conf ``default_realm``)."""

_HASHER = PasswordHasher()


def hash_password(plain: str) -> str:
    """An argon2id hash of ``plain`` (salted, self-describing: parameters travel with the hash)."""
    return _HASHER.hash(plain)


def verify_password(password_hash: str, plain: str) -> bool:
    """Whether ``plain`` matches ``password_hash``; a malformed or empty hash never matches."""
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, plain)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with weaker parameters than today's (re-hash on next login)."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def sip_realm() -> str:
    """The digest realm phones are challenged with: ``OC_SIP_REALM`` or Asterisk's default."""
    return os.environ.get("OC_SIP_REALM") or DEFAULT_SIP_REALM


def sip_md5_cred(username: str, realm: str | None, password: str) -> str:
    """The HA1 digest Asterisk checks a phone's answer against, without knowing the clear password."""
    chosen_realm = realm if realm else sip_realm()
    return hashlib.md5(f"{username}:{chosen_realm}:{password}".encode(), usedforsecurity=False).hexdigest()

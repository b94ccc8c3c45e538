"""Tokens and roles.

A token is the seed's format: base64 of "username:uuid4" (so clients that put it after "Basic " send a
well-formed Basic credential). Only its SHA-256 is stored (api_tokens.token_hash), with an expiry, so a
copy of the database does not hand out sessions. Passwords are checked with the datastore's argon2
hashes; repeated failures lock the account (LoginGuard).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, ParamSpec, TypeVar

from flask import Response, g, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.audit import Actor, record_audit
from admin_api.errors import ApiError
from admin_api.login_guard import utcnow
from admin_api.services import services
from datastore.models import ApiToken, User
from datastore.passwords import hash_password, verify_password

AGENT = "agent"
SUPERVISOR = "supervisor"
ADMINISTRATIVE = "administrative"
ROLES = (AGENT, SUPERVISOR, ADMINISTRATIVE)
# Roles that may manage configuration and act on other agents.
STAFF = (SUPERVISOR, ADMINISTRATIVE)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Caller:
    """Who sent the current request (from the token)."""

    user_id: int
    username: str
    role: str
    fullname: str
    phone: str | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


class LoginRefused(Exception):
    """Wrong user name or password, an inactive account, or a locked one (callers get no detail)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def make_token(username: str) -> str:
    raw = f"{username}:{uuid.uuid4()}".encode()
    return base64.b64encode(raw).decode("ascii")


def username_in_token(token: str) -> str | None:
    """The user name a token carries, or None if the text is not a token of ours."""
    try:
        decoded = base64.b64decode(token.encode("ascii"), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    name, sep, rest = decoded.rpartition(":")
    if not sep or not name:
        return None
    try:
        uuid.UUID(rest)
    except ValueError:
        return None
    return name


_dummy_hash: str | None = None


def _burn_password_check(password: str) -> None:
    """Spend the same time on unknown users as on known ones, so timing does not reveal user names."""
    global _dummy_hash  # noqa: PLW0603 - computed once, lazily (argon2 hashing is slow)
    if _dummy_hash is None:
        _dummy_hash = hash_password("not a real password")
    verify_password(_dummy_hash, password)


def authenticate(session: Session, username: str, password: str, ip: str | None) -> User:
    """Check a user name and password with lockout and audit; raises LoginRefused."""
    guard = services().guard
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    now = utcnow()
    if guard.is_locked(username, user, now):
        record_audit(
            session, Actor(username, ip), "auth.login_refused", f"user:{username}", {"reason": "locked"}
        )
        session.commit()
        raise LoginRefused("locked")
    if user is None:
        _burn_password_check(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if ok and user is not None and user.active:
        guard.succeeded(username, user)
        if hasattr(user, "last_login"):
            user.last_login = now
        record_audit(session, Actor(username, ip), "auth.login", f"user:{username}", {"role": user.role})
        session.commit()
        return user
    locked = guard.failed(username, user, now)
    reason = "inactive" if ok else "bad_credentials"
    detail: dict[str, Any] = {"reason": reason}
    if locked:
        detail["locked_for_seconds"] = int(guard.lockout.total_seconds())
    record_audit(session, Actor(username, ip), "auth.login_failed", f"user:{username}", detail)
    session.commit()
    raise LoginRefused(reason)


def issue_token(session: Session, user: User) -> str:
    """Create and store (hashed) a new token for the user."""
    ttl = timedelta(seconds=services().config.token_ttl_seconds)
    token = make_token(user.username)
    now = utcnow()
    session.add(
        ApiToken(
            token_hash=hash_token(token), user_id=user.id, created_at=now, expires_at=now + ttl, revoked=False
        )
    )
    session.commit()
    return token


def token_from_header(header: str | None) -> str | None:
    """`Basic <token>` (the seed's style) or `Bearer <token>`."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in {"basic", "bearer"}:
        return None
    value = value.strip()
    return value or None


def caller_for_token(session: Session, token: str) -> Caller | None:
    if username_in_token(token) is None:
        return None
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_token(token))).one_or_none()
    if row is None or row.revoked or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if services().guard.is_locked(user.username, user):
        return None
    return Caller(user.id, user.username, user.role, user.fullname or "", user.phone or None)


def current_caller() -> Caller:
    found = g.get("caller")
    assert isinstance(found, Caller), "route is missing an auth decorator"
    return found


def client_ip() -> str:
    return request.remote_addr or ""


def caller_actor() -> Actor:
    """The authenticated caller of this request as the audit trail names them."""
    return Actor(current_caller().username, client_ip())


Style = Literal["integra", "json"]


def _refusal(style: Style, status: int, reason: str) -> Response:
    if style == "integra":
        # The seed's routes answer "0" to everything that goes wrong.
        return Response("0", status=status, mimetype="text/plain")
    raise ApiError(status, "unauthorized" if status == 401 else "forbidden", reason)


def require_roles(
    *roles: str, style: Style = "json"
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Only callers with a valid token and one of `roles` get through.

    Integra routes answer "0" (401 without a valid token, 200 for a wrong role: the seed's body for any
    refusal); /api/v1 routes answer JSON 401/403.
    """
    allowed = frozenset(roles or ROLES)

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            token = token_from_header(request.headers.get("Authorization"))
            caller = None
            if token is not None:
                with services().sessions() as session:
                    caller = caller_for_token(session, token)
            if caller is None:
                return _refusal(style, 401, "a valid token is required (Authorization: Basic <token>)")
            if caller.role not in allowed:
                return _refusal(style, 200 if style == "integra" else 403, "your role may not do this")
            g.caller = caller
            return view(*args, **kwargs)

        return guarded

    return decorate

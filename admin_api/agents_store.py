"""Agents and their phones in the database: the one place that creates, changes and removes them.

Both the seed's addsip and the JSON API go through here, so an agent made either way looks the same:
a `users` row (argon2 password hash) and, when the agent has a phone, the three realtime rows Asterisk
reads for it (`ps_endpoints`, `ps_auths` with only the md5 credential, `ps_aors`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from admin_api.login_guard import utcnow
from datastore.models import ApiToken, CampaignMember, PsAor, PsAuth, PsEndpoint, User, sip_phone_rows
from datastore.passwords import hash_password


class ProvisioningError(Exception):
    """A request that would break a rule of the data (taken extension, missing user...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PhoneSettings:
    """What the seed's SIP object (or the JSON API) says about a phone beyond its extension."""

    context: str
    webrtc: bool = True
    callerid: str | None = None
    language: str | None = None
    realm: str | None = None
    allow: str | None = None


def find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def extension_taken(session: Session, extension: str) -> bool:
    if session.get(PsEndpoint, extension) is not None:
        return True
    owner = session.scalars(select(User).where(User.phone == extension)).first()
    return owner is not None


def add_phone(session: Session, extension: str, secret: str, settings: PhoneSettings) -> PsEndpoint:
    """Create the realtime rows of one phone; the secret survives only as md5_cred."""
    if session.get(PsEndpoint, extension) is not None or session.get(PsAuth, extension) is not None:
        raise ProvisioningError("phone", f"extension {extension} is already in use")
    endpoint, auth, aor = sip_phone_rows(
        extension,
        secret,
        context=settings.context,
        webrtc=settings.webrtc,
        callerid=settings.callerid,
        realm=settings.realm,
    )
    if settings.language:
        endpoint.language = settings.language
    if settings.allow:
        endpoint.allow = settings.allow
    session.add_all([endpoint, auth, aor])
    return endpoint


def remove_phone(session: Session, extension: str) -> None:
    for model in (PsEndpoint, PsAuth, PsAor):
        row = session.get(model, extension)
        if row is not None:
            session.delete(row)


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    fullname: str,
    role: str = "agent",
    phone: str | None = None,
    email: str = "",
    active: bool = True,
    extra: dict[str, Any] | None = None,
) -> User:
    if find_user(session, username) is not None:
        raise ProvisioningError("username", f"user {username} already exists")
    if phone and extension_taken(session, phone):
        raise ProvisioningError("phone", f"extension {phone} is already in use")
    user = User(
        username=username,
        password_hash=hash_password(password),
        fullname=fullname,
        role=role,
        phone=phone or None,
        email=email,
        active=active,
        created_at=utcnow(),
        **(extra or {}),
    )
    session.add(user)
    return user


def memberships(session: Session, user: User) -> list[CampaignMember]:
    """Campaign memberships of a user: by member name, or by the interface of the user's phone."""
    clauses = [CampaignMember.membername == user.username]
    if user.phone:
        clauses.append(CampaignMember.interface == f"PJSIP/{user.phone}")

    return list(session.scalars(select(CampaignMember).where(or_(*clauses))))


def delete_user(session: Session, user: User) -> list[str]:
    """Remove a user with phone rows, memberships and tokens; returns the campaigns it was in."""
    campaigns = sorted({member.queue_name for member in memberships(session, user)})
    for member in memberships(session, user):
        session.delete(member)
    if user.phone:
        remove_phone(session, user.phone)
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.delete(user)
    return campaigns


def user_summary(session: Session, user: User) -> dict[str, Any]:
    """An agent as the JSON API shows it (never the password hash or SIP credential)."""
    endpoint = session.get(PsEndpoint, user.phone) if user.phone else None
    return {
        "id": user.id,
        "username": user.username,
        "fullname": user.fullname,
        "role": user.role,
        "phone": user.phone,
        "email": user.email,
        "active": user.active,
        "locked": bool(user.locked_until and user.locked_until > utcnow()),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "created_at": user.created_at.isoformat() if user.created_at else None,
        "sip": (
            {
                "extension": endpoint.id,
                "context": endpoint.context,
                "webrtc": bool(endpoint.webrtc),
                "allow": endpoint.allow,
                "language": endpoint.language,
            }
            if endpoint is not None
            else None
        ),
    }

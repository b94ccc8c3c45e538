"""Audit trail ("auditory" table): who changed what, when, from where, with a before/after summary.

Secrets never reach the trail: any key that looks like a password or secret is dropped from the
summaries before they are written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from admin_api.login_guard import utcnow
from datastore.models import AuditEntry

_SECRET_WORDS = ("password", "secret", "md5", "token", "cred")


def redact(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy without secret-looking keys (recursively)."""
    if summary is None:
        return None
    clean: dict[str, Any] = {}
    for key, value in summary.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            continue
        clean[key] = redact(value) if isinstance(value, Mapping) else value
    return clean


class Actor(NamedTuple):
    """Who made a change and from which address."""

    username: str
    ip: str | None


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Add one audit row to the session (the caller commits it with the change it describes)."""
    body: dict[str, Any] = dict(redact(detail) or {})
    if before is not None:
        body["before"] = redact(before)
    if after is not None:
        body["after"] = redact(after)
    session.add(
        AuditEntry(
            time=utcnow(),
            user=actor.username[:80],
            ip=(actor.ip or "")[:45],
            action=action,
            target=target[:255],
            detail=json.dumps(body, sort_keys=True, default=str),
        )
    )

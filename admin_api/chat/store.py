"""Storing and reading chat messages.

Each message is written once per reader, the sender included (see ``datastore.models.ChatMessage``),
so "what does this user see in this conversation" and "how many unread" are single indexed queries
whatever the kind of conversation. A conversation is named from the reader's side: the other
user's name for a direct chat, ``*`` for the broadcast, ``campaign:<name>`` for a campaign's group.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import ChatMessage

BROADCAST = "*"
GROUP_PREFIX = "campaign:"
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
MAX_TEXT = 4000
HISTORY_LIMIT = 200


def group_name(campaign: str) -> str:
    return f"{GROUP_PREFIX}{campaign}"


def conversation_of(row: ChatMessage, reader: str) -> str:
    """The conversation a stored copy belongs to, as ``reader`` names it."""
    if row.dest == BROADCAST or row.dest.startswith(GROUP_PREFIX):
        return row.dest
    return row.dest if row.srcagent == reader else row.srcagent


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class SentMessage:
    """A stored message: its id, and per reader whether it was delivered at once."""

    msgid: str
    sender: str
    dest: str
    text: str
    created: datetime
    delivered: dict[str, bool] = field(default_factory=dict)

    def as_json(self, reader: str) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "from": self.sender,
            "conversation": self.dest
            if self.dest == BROADCAST or self.dest.startswith(GROUP_PREFIX)
            else (self.dest if reader == self.sender else self.sender),
            "text": self.text,
            "time": self.created.replace(tzinfo=UTC).timestamp(),
        }


class ChatStore:
    """Chat rows in the database behind the API's session factory."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def send(
        self,
        sender: str,
        sender_phone: str,
        dest: str,
        text: str,
        *,
        readers: Iterable[str],
        online: set[str],
    ) -> SentMessage:
        """Store ``text`` from ``sender`` to ``dest`` for each reader (the sender is added)."""
        body = text.strip()
        if not body:
            raise ValueError("an empty message is not sent")
        if len(body) > MAX_TEXT:
            raise ValueError(f"a message holds at most {MAX_TEXT} characters")
        sent = SentMessage(uuid.uuid4().hex, sender, dest, body, _now())
        everyone = dict.fromkeys([sender, *readers])
        with self.sessions() as session:
            for reader in everyone:
                delivered = reader == sender or reader in online
                sent.delivered[reader] = delivered
                session.add(
                    ChatMessage(
                        datecreated=sent.created,
                        src=sender_phone or sender,
                        dest=dest,
                        message=body,
                        srcagent=sender,
                        dstagent=reader,
                        status=SUCCESS if delivered else FAILURE,
                        msgid=sent.msgid,
                        readdate=sent.created if reader == sender else None,
                    )
                )
            session.commit()
        return sent

    def _conversation_filter(self, reader: str, conversation: str) -> Any:
        if conversation == BROADCAST or conversation.startswith(GROUP_PREFIX):
            return and_(ChatMessage.dstagent == reader, ChatMessage.dest == conversation)
        return and_(
            ChatMessage.dstagent == reader,
            or_(
                and_(ChatMessage.srcagent == reader, ChatMessage.dest == conversation),
                and_(ChatMessage.srcagent == conversation, ChatMessage.dest == reader),
            ),
        )

    def history(self, reader: str, conversation: str, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
        """The conversation's last ``limit`` messages, oldest first, with their delivery status."""
        with self.sessions() as session:
            rows = session.scalars(
                select(ChatMessage)
                .where(self._conversation_filter(reader, conversation))
                .order_by(ChatMessage.id.desc())
                .limit(max(1, min(limit, HISTORY_LIMIT)))
            ).all()
            mine = [r.msgid for r in rows if r.srcagent == reader]
            statuses = self._statuses(session, reader, mine)
            return [
                {
                    "msgid": row.msgid,
                    "from": row.srcagent,
                    "conversation": conversation,
                    "text": row.message,
                    "time": row.datecreated.replace(tzinfo=UTC).timestamp(),
                    "read": row.readdate is not None,
                    **({"status": statuses.get(row.msgid, {})} if row.srcagent == reader else {}),
                }
                for row in reversed(rows)
            ]

    def _statuses(self, session: Session, sender: str, msgids: list[str]) -> dict[str, dict[str, Any]]:
        """Per message sent by ``sender``: readers delivered at once, and readers who read it."""
        if not msgids:
            return {}
        found: dict[str, dict[str, Any]] = {}
        rows = session.execute(
            select(ChatMessage.msgid, ChatMessage.dstagent, ChatMessage.status, ChatMessage.readdate).where(
                ChatMessage.msgid.in_(msgids), ChatMessage.dstagent != sender
            )
        ).all()
        for msgid, reader, status, readdate in rows:
            entry = found.setdefault(msgid, {"delivered": [], "read": [], "pending": []})
            if readdate is not None:
                entry["read"].append(reader)
            elif status == SUCCESS:
                entry["delivered"].append(reader)
            else:
                entry["pending"].append(reader)
        return found

    def unread(self, reader: str) -> dict[str, int]:
        """Unread messages per conversation."""
        with self.sessions() as session:
            rows = session.scalars(
                select(ChatMessage).where(ChatMessage.dstagent == reader, ChatMessage.readdate.is_(None))
            ).all()
            counts: dict[str, int] = {}
            for row in rows:
                key = conversation_of(row, reader)
                counts[key] = counts.get(key, 0) + 1
            return counts

    def mark_read(self, reader: str, conversation: str) -> dict[str, list[str]]:
        """Mark the conversation read; answers sender -> the message ids they may now see as read."""
        with self.sessions() as session:
            where = and_(self._conversation_filter(reader, conversation), ChatMessage.readdate.is_(None))
            rows = session.execute(select(ChatMessage.msgid, ChatMessage.srcagent).where(where)).all()
            session.execute(update(ChatMessage).where(where).values(readdate=_now()))
            session.commit()
        by_sender: dict[str, list[str]] = {}
        for msgid, sender in rows:
            by_sender.setdefault(sender, []).append(msgid)
        return by_sender

    def mark_delivered(self, reader: str) -> dict[str, list[str]]:
        """``reader`` came online: pending copies count as delivered; answers sender -> message ids."""
        with self.sessions() as session:
            where = and_(ChatMessage.dstagent == reader, ChatMessage.status == FAILURE)
            rows = session.execute(select(ChatMessage.msgid, ChatMessage.srcagent).where(where)).all()
            if rows:
                session.execute(update(ChatMessage).where(where).values(status=SUCCESS))
                session.commit()
        by_sender: dict[str, list[str]] = {}
        for msgid, sender in rows:
            by_sender.setdefault(sender, []).append(msgid)
        return by_sender

    def count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(ChatMessage)) or 0)

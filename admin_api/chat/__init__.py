"""Chat between agents and supervisors, stored in the seed's SIPCHAT table."""

from admin_api.chat.store import BROADCAST, ChatStore, SentMessage, conversation_of, group_name

__all__ = ["BROADCAST", "ChatStore", "SentMessage", "conversation_of", "group_name"]

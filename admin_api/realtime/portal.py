"""The agent and supervisor portals over Socket.IO: who may connect, what they hear, what they may do.

Namespaces:

- ``/agent``: an agent (or a supervisor with a phone) acting as itself. The client joins its own
  room (``user:<name>``) and hears only its own desk's events: state, incoming call, connected, hold,
  mute, ended, wrap-up, missed, history entries; and its chat and contacts.
- ``/supervisor``: supervisors and administrative users. They hear every agent's state and call events
  and the campaigns' figures, and act on agents (pause, log out, spy, whisper, barge, chat).

A client authenticates with the REST API's token (``auth={"token": ...}``, or ``Authorization:
Basic|Bearer <token>``); a refused connection gets ``connect_error`` with the reason. Each command
is one event whose acknowledgement is ``{"ok": true, ...}`` or ``{"ok": false, "error": reason}``;
a failure is also pushed as a ``command.error`` event, so a client that does not wait for
acknowledgements still learns why.

Bus events reach clients through the process that holds their connection: every process subscribes to
the bus and emits only to its own clients, in the order the bus delivered them (one subscriber
thread), which keeps each agent's events in order. Emissions that start in a request (chat,
presence) go through the Socket.IO message queue, so they reach clients held by other processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from admin_api.auth import AGENT, STAFF, SUPERVISOR, Caller, caller_for_token, token_from_header
from admin_api.bus_link import COMMANDS, EVENTS, CommandBus, EventSource, Message
from admin_api.chat.store import BROADCAST, ChatStore, group_name
from admin_api.realtime.dispositions import Disposition, DispositionRefused, save_disposition
from admin_api.realtime.forms import describe_form
from admin_api.realtime.hub import Hub, current_sid, refuse
from admin_api.realtime.presence import Presence
from bus import BusError, NoResponder, RequestTimeout, messages
from datastore.models import Campaign, CampaignMember, ContactFavourite, User

log = logging.getLogger(__name__)

AGENT_NS = "/agent"
SUPERVISOR_NS = "/supervisor"
AGENTS_ROOM = "agents"
SUPERVISORS_ROOM = "supervisors"
AGENT_ROLES = (AGENT, SUPERVISOR)
SUPERVISOR_ROLES = STAFF
#: Phone features other parts of the call server provide; until one answers, they fail clearly.
PHONE_FEATURES = {
    "dial": "call.dial",
    "transfer": "call.transfer",
    "park": "call.park",
    "retrieve": "call.retrieve",
    "conference": "call.conference",
}
FORM_CACHE_SECONDS = 30.0
MAX_REASON = 64

# Events forwarded to the agent they name, under the same name.
_AGENT_EVENTS = frozenset(
    {
        messages.AGENT_STATE,
        messages.CALL_CONNECTED,
        messages.CALL_ENDED,
        "call.held",
        "call.unheld",
        "call.muted",
        "call.unmuted",
        "call.missed",
        "agent.wrapup",
        "call.dialing",
    }
)
# Events forwarded to every supervisor.
_SUPERVISOR_EVENTS = frozenset(
    {
        *_AGENT_EVENTS,
        messages.CALL_ENTERED,
        messages.CALL_RINGING,
        messages.CALL_ABANDONED,
        "campaign.stats",
    }
)
_MONITOR_EVENTS = frozenset({"monitor.started", "monitor.ended"})


def user_room(name: str) -> str:
    return f"user:{name}"


class CommandFailed(Exception):
    """A portal command that did not take effect; the text is shown to the user."""


@dataclass(frozen=True)
class Client:
    sid: str
    namespace: str
    caller: Caller

    @property
    def name(self) -> str:
        return self.caller.username

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.caller.phone}" if self.caller.phone else ""


Command = Callable[[Client, dict[str, Any]], dict[str, Any]]


class Portal:
    """Handlers of both namespaces, and the bus-to-clients fan-out of one process."""

    def __init__(
        self,
        hub: Hub,
        *,
        sessions: sessionmaker[Session],
        bus: CommandBus | None,
        presence: Presence,
        bus_timeout: float = 5.0,
        feature_timeout: float = 2.0,
    ) -> None:
        self.hub = hub
        self.sessions = sessions
        self.bus = bus
        self.presence = presence
        self.chat = ChatStore(sessions)
        self.bus_timeout = bus_timeout
        self.feature_timeout = feature_timeout
        self._clients: dict[str, Client] = {}
        self._lock = threading.Lock()
        self._forms: dict[str, tuple[float, dict[str, Any]]] = {}
        self.events_forwarded = 0

    # Wiring -----------------------------------------------------------------------------------

    def install(self, events: EventSource | None) -> None:
        hub = self.hub
        hub.on_connect(AGENT_NS, self._agent_connect)
        hub.on_connect(SUPERVISOR_NS, self._supervisor_connect)
        hub.on_disconnect(AGENT_NS, self._disconnect)
        hub.on_disconnect(SUPERVISOR_NS, self._disconnect)
        agent_commands: dict[str, Command] = {
            "session": self._session,
            "login": self._login,
            "logout": self._logout,
            "pause": self._pause,
            "unpause": self._unpause,
            "answer": self._simple("call.answer"),
            "reject": self._simple("call.reject"),
            "hangup": self._hangup,
            "hold": self._simple("call.hold", on=True),
            "unhold": self._simple("call.hold", on=False),
            "mute": self._simple("call.mute", on=True),
            "unmute": self._simple("call.mute", on=False),
            "dtmf": self._dtmf,
            "wrapup.end": self._simple("agent.wrapup.end"),
            "disposition": self._disposition,
        }
        for name, bus_type in PHONE_FEATURES.items():
            agent_commands[name] = self._feature(bus_type)
        shared: dict[str, Command] = {
            "contacts": self._contacts,
            "favourite.add": self._favourite(True),
            "favourite.remove": self._favourite(False),
            "chat.send": self._chat_send,
            "chat.history": self._chat_history,
            "chat.read": self._chat_read,
            "chat.unread": self._chat_unread,
        }
        supervisor_commands: dict[str, Command] = {
            "grid": self._grid,
            "agent.pause": self._supervise_pause(True),
            "agent.unpause": self._supervise_pause(False),
            "agent.logout": self._supervise_logout,
            "monitor": self._monitor,
            "monitor.stop": self._monitor_stop,
        }
        for name, command in {**agent_commands, **shared}.items():
            hub.on(AGENT_NS, name, self._handler(name, command))
        for name, command in {**supervisor_commands, **shared}.items():
            hub.on(SUPERVISOR_NS, name, self._handler(name, command))
        if events is not None:
            events.subscribe(EVENTS, self.forward)

    def _handler(self, name: str, command: Command) -> Callable[..., dict[str, Any]]:
        def handle(data: Any = None, *_more: Any) -> dict[str, Any]:
            sid = current_sid()
            client = self._clients.get(sid)
            if client is None:
                return {"ok": False, "error": "not connected"}
            try:
                result = command(client, data if isinstance(data, dict) else {})
            except CommandFailed as exc:
                reason = str(exc)
                self.hub.emit_local(
                    "command.error", {"command": name, "reason": reason}, to=sid, namespace=client.namespace
                )
                return {"ok": False, "error": reason}
            except Exception as exc:
                log.exception("portal command %s of %s failed", name, client.name)
                reason = f"internal error: {type(exc).__name__}"
                self.hub.emit_local(
                    "command.error", {"command": name, "reason": reason}, to=sid, namespace=client.namespace
                )
                return {"ok": False, "error": reason}
            return {"ok": True, **result}

        return handle

    # Connections ------------------------------------------------------------------------------

    def _authenticate(self, auth: Any, roles: tuple[str, ...], namespace: str) -> Caller:
        token = ""
        if isinstance(auth, dict):
            token = str(auth.get("token") or "")
        elif isinstance(auth, str):
            token = auth
        if not token:
            token = token_from_header(request.headers.get("Authorization")) or ""
        if not token:
            refuse("a token is required (auth={'token': ...} or Authorization: Basic <token>)")
        with self.sessions() as session:
            caller = caller_for_token(session, token)
        if caller is None:
            refuse("the token is not valid (unknown, expired or revoked) or the account is locked")
        if caller.role not in roles:
            refuse(f"role {caller.role!r} may not use {namespace} (allowed: {', '.join(roles)})")
        return caller

    def _register(self, caller: Caller, namespace: str) -> Client:
        client = Client(current_sid(), namespace, caller)
        with self._lock:
            self._clients[client.sid] = client
        self.hub.enter_room(client.sid, user_room(caller.username), namespace)
        return client

    def _agent_connect(self, auth: Any = None) -> bool:
        caller = self._authenticate(auth, AGENT_ROLES, AGENT_NS)
        client = self._register(caller, AGENT_NS)
        self.hub.enter_room(client.sid, AGENTS_ROOM, AGENT_NS)
        if self.presence.connected(caller.username):
            self._announce_presence(caller.username, True)
            for sender, msgids in self.chat.mark_delivered(caller.username).items():
                self._to_user(sender, "chat.delivered", {"reader": caller.username, "msgids": msgids})
        self.hub.after_connect(client.sid, AGENT_NS, lambda: self._welcome_agent(client))
        return True

    def _supervisor_connect(self, auth: Any = None) -> bool:
        caller = self._authenticate(auth, SUPERVISOR_ROLES, SUPERVISOR_NS)
        client = self._register(caller, SUPERVISOR_NS)
        self.hub.enter_room(client.sid, SUPERVISORS_ROOM, SUPERVISOR_NS)
        self.hub.after_connect(client.sid, SUPERVISOR_NS, lambda: self._welcome_supervisor(client))
        return True

    def _disconnect(self, *_reason: Any) -> None:
        with self._lock:
            client = self._clients.pop(current_sid(), None)
        if client is not None and client.namespace == AGENT_NS and self.presence.disconnected(client.name):
            self._announce_presence(client.name, False)

    def _announce_presence(self, name: str, online: bool) -> None:
        event = {"agent": name, "online": online, "time": time.time()}
        self.hub.emit("contact.presence", event, to=AGENTS_ROOM, namespace=AGENT_NS)
        self.hub.emit("contact.presence", event, to=SUPERVISORS_ROOM, namespace=SUPERVISOR_NS)

    def _welcome_agent(self, client: Client) -> None:
        """What a (re)connecting agent needs to redraw its desk: state, current call, history, unread."""
        self.hub.emit_local("session", self._session_data(client), to=client.sid, namespace=AGENT_NS)

    def _welcome_supervisor(self, client: Client) -> None:
        try:
            grid = self._ask({"type": "agents.grid"})
        except CommandFailed as exc:
            grid = {"agents": [], "campaigns": [], "error": str(exc)}
        grid.pop("ok", None)
        self.hub.emit_local("grid", grid, to=client.sid, namespace=SUPERVISOR_NS)

    def _session_data(self, client: Client) -> dict[str, Any]:
        data: dict[str, Any] = {"agent": client.name, "phone": client.caller.phone}
        try:
            reply = self._ask({"type": "agent.session", "agent": client.name})
            data.update(reply.get("session") or {})
            data["available"] = True
        except CommandFailed as exc:
            data.update({"available": False, "error": str(exc)})
        data["unread"] = self.chat.unread(client.name)
        return data

    # Bus requests -------------------------------------------------------------------------------

    def _ask(self, message: Message, timeout: float | None = None) -> dict[str, Any]:
        if self.bus is None:
            raise CommandFailed("the call server is not connected to this portal")
        kind = message.get("type")
        try:
            reply = self.bus.request(COMMANDS, message, timeout or self.bus_timeout)
        except NoResponder as exc:
            raise CommandFailed("the call server is not running") from exc
        except (RequestTimeout, TimeoutError) as exc:
            raise CommandFailed(f"the call server did not answer {kind}") from exc
        except BusError as exc:
            raise CommandFailed(f"the call server cannot be reached: {exc}") from exc
        if not reply.get("ok"):
            raise CommandFailed(str(reply.get("error") or f"{kind} was refused"))
        return reply

    # Agent commands -------------------------------------------------------------------------------

    def _session(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        return {"session": self._session_data(client)}

    def _login(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        campaigns = data.get("campaigns")
        if campaigns is not None and (
            not isinstance(campaigns, list) or not all(isinstance(c, str) for c in campaigns)
        ):
            raise CommandFailed("campaigns must be a list of campaign names")
        reply = self._ask(messages.agent_login(client.name, client.interface, campaigns))
        return {"state": reply.get("state"), "campaigns": reply.get("campaigns", [])}

    def _logout(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        self._ask(messages.agent_logoff(client.name, client.interface, "logged out from the portal"))
        return {}

    def _pause(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        reason = _reason(data)
        reply = self._ask(messages.agent_pause(client.name, True, reason))
        return {"state": reply.get("state"), "reason": reason}

    def _unpause(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        reply = self._ask(messages.agent_pause(client.name, False, ""))
        return {"state": reply.get("state")}

    def _simple(self, kind: str, **fields: Any) -> Command:
        def run(client: Client, _data: dict[str, Any]) -> dict[str, Any]:
            reply = self._ask({"type": kind, "agent": client.name, **fields})
            reply.pop("ok", None)
            return reply

        return run

    def _dtmf(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        digits = data.get("digits")
        if not isinstance(digits, str) or not digits:
            raise CommandFailed("digits are required")
        reply = self._ask({"type": "call.dtmf", "agent": client.name, "digits": digits})
        reply.pop("ok", None)
        return reply

    def _hangup(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        if not client.caller.phone:
            raise CommandFailed("you have no phone")
        try:
            self._ask(messages.phone_hangup(client.caller.phone))
        except CommandFailed as exc:
            if "refused" in str(exc):
                raise CommandFailed("you are not in a call") from exc
            raise
        return {}

    def _feature(self, kind: str) -> Command:
        def run(client: Client, data: dict[str, Any]) -> dict[str, Any]:
            message = {**data, "type": kind, "agent": client.name, "interface": client.interface}
            try:
                reply = self._ask(message, self.feature_timeout)
            except CommandFailed as exc:
                text = str(exc)
                if text.startswith("unknown command") or "did not answer" in text:
                    raise CommandFailed(f"not available yet: the call server does not handle {kind}") from exc
                raise
            reply.pop("ok", None)
            return reply

        return run

    def _disposition(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        """Same fields as the seed's DispositionCall; the call defaults to the current or last one."""
        fields = {key: data.get(key, "") for key in ("l1", "l2", "l3", "d1", "d2", "comment", "tag")}
        fields["schedule"] = data.get("schedule", "")
        fields["camptoreschedule"] = data.get("camptoreschedule", "")
        call = self._call_for_disposition(client, str(data.get("callid") or ""))
        fields.update(
            {
                "agent": client.name,
                "campaign": call.get("campaign", ""),
                "callerid": call.get("caller") or call.get("number", ""),
                "guid": call.get("guid", ""),
            }
        )
        try:
            disposition = Disposition.from_fields(fields)
        except DispositionRefused as exc:
            raise CommandFailed(str(exc)) from exc
        row_id = save_disposition(self.sessions, disposition)
        saved = {"id": row_id, "callid": call.get("callid"), **disposition.as_json()}
        self.hub.emit("disposition.saved", saved, to=user_room(client.name), namespace=AGENT_NS)
        return {"disposition": saved}

    def _call_for_disposition(self, client: Client, callid: str) -> dict[str, Any]:
        session = self._ask({"type": "agent.session", "agent": client.name}).get("session") or {}
        candidates = [c for c in [session.get("call"), *session.get("history", [])] if c]
        for call in candidates:
            if not callid or call.get("callid") == callid:
                return dict(call)
        raise CommandFailed(
            "no call to set a disposition for" if not callid else f"no call {callid} in your session"
        )

    # Contacts ------------------------------------------------------------------------------------

    def _contacts(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        search = str(data.get("search") or "").strip()
        online = self.presence.online()
        with self.sessions() as session:
            query = select(User).where(User.active.is_(True), User.role.in_((AGENT, SUPERVISOR)))
            if search:
                pattern = f"%{search}%"
                query = query.where(or_(User.username.ilike(pattern), User.fullname.ilike(pattern)))
            users = session.scalars(query.order_by(User.username)).all()
            favourites = set(
                session.scalars(select(ContactFavourite.contact).where(ContactFavourite.owner == client.name))
            )
            campaigns = sorted(
                set(
                    session.scalars(
                        select(CampaignMember.queue_name).where(CampaignMember.membername == client.name)
                    )
                )
            )
            contacts = [
                {
                    "agent": user.username,
                    "name": user.fullname,
                    "phone": user.phone,
                    "role": user.role,
                    "online": user.username in online,
                    "favourite": user.username in favourites,
                }
                for user in users
                if user.username != client.name
            ]
        return {
            "online": [c for c in contacts if c["online"]],
            "offline": [c for c in contacts if not c["online"]],
            "favourites": [c for c in contacts if c["favourite"]],
            "groups": [group_name(c) for c in campaigns],
        }

    def _favourite(self, add: bool) -> Command:
        def run(client: Client, data: dict[str, Any]) -> dict[str, Any]:
            contact = str(data.get("contact") or "").strip()
            with self.sessions() as session:
                if session.scalar(select(User.id).where(User.username == contact)) is None:
                    raise CommandFailed(f"no user {contact!r}")
                row = session.get(ContactFavourite, (client.name, contact))
                if add and row is None:
                    session.add(ContactFavourite(owner=client.name, contact=contact))
                elif not add and row is not None:
                    session.delete(row)
                session.commit()
                names = sorted(
                    session.scalars(
                        select(ContactFavourite.contact).where(ContactFavourite.owner == client.name)
                    )
                )
            return {"favourites": names}

        return run

    # Chat ----------------------------------------------------------------------------------------

    def _chat_send(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise CommandFailed("text is required")
        dest, readers = self._chat_readers(client, data)
        try:
            sent = self.chat.send(
                client.name,
                client.caller.phone or "",
                dest,
                text,
                readers=readers,
                online=self.presence.online(),
            )
        except ValueError as exc:
            raise CommandFailed(str(exc)) from exc
        for reader in sent.delivered:
            if reader != client.name:
                self._to_user(reader, "chat.message", sent.as_json(reader))
        if dest != BROADCAST:
            for reader in sent.delivered:
                if reader != client.name:
                    self._to_user(reader, "chat.unread", {"unread": self.chat.unread(reader)})
        others = {r: ok for r, ok in sent.delivered.items() if r != client.name}
        status = {
            "msgid": sent.msgid,
            "delivered": sorted(r for r, ok in others.items() if ok),
            "pending": sorted(r for r, ok in others.items() if not ok),
        }
        self._to_user(client.name, "chat.status", status)
        return {"message": sent.as_json(client.name), "status": status}

    def _chat_readers(self, client: Client, data: dict[str, Any]) -> tuple[str, list[str]]:
        if data.get("broadcast"):
            return BROADCAST, sorted(self.presence.online())
        campaign = data.get("campaign")
        with self.sessions() as session:
            if isinstance(campaign, str) and campaign:
                if session.get(Campaign, campaign) is None:
                    raise CommandFailed(f"no campaign {campaign!r}")
                members = sorted(
                    set(
                        session.scalars(
                            select(CampaignMember.membername).where(CampaignMember.queue_name == campaign)
                        )
                    )
                )
                if client.name not in members and client.caller.role not in STAFF:
                    raise CommandFailed(f"you are not a member of {campaign}")
                return group_name(campaign), members
            to = data.get("to")
            if not isinstance(to, str) or not to:
                raise CommandFailed("say who the message is for: to, campaign or broadcast")
            if session.scalar(select(User.id).where(User.username == to)) is None:
                raise CommandFailed(f"no user {to!r}")
            return to, [to]

    def _conversation(self, client: Client, data: dict[str, Any]) -> str:
        conversation = data.get("conversation")
        if not isinstance(conversation, str) or not conversation:
            raise CommandFailed("conversation is required (a user name, '*' or 'campaign:<name>')")
        if conversation == client.name:
            raise CommandFailed("that is you")
        return conversation

    def _chat_history(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(client, data)
        limit = data.get("limit", 50)
        return {
            "messages": self.chat.history(
                client.name, conversation, int(limit) if isinstance(limit, int) else 50
            )
        }

    def _chat_read(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(client, data)
        for sender, msgids in self.chat.mark_read(client.name, conversation).items():
            if sender != client.name:
                self._to_user(sender, "chat.read", {"reader": client.name, "msgids": msgids})
        return {"unread": self.chat.unread(client.name)}

    def _chat_unread(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        return {"unread": self.chat.unread(client.name)}

    def _to_user(self, name: str, event: str, data: dict[str, Any]) -> None:
        """To every connection of a user, agent or supervisor portal, in any process."""
        self.hub.emit(event, data, to=user_room(name), namespace=AGENT_NS)
        self.hub.emit(event, data, to=user_room(name), namespace=SUPERVISOR_NS)

    # Supervisor commands --------------------------------------------------------------------------

    def _grid(self, _client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        reply = self._ask({"type": "agents.grid"})
        reply.pop("ok", None)
        return reply

    def _target(self, data: dict[str, Any]) -> str:
        agent = data.get("agent")
        if not isinstance(agent, str) or not agent:
            raise CommandFailed("agent is required")
        return agent

    def _supervise_pause(self, paused: bool) -> Command:
        def run(client: Client, data: dict[str, Any]) -> dict[str, Any]:
            agent = self._target(data)
            reason = _reason(data) if paused else ""
            reply = self._ask(messages.agent_pause(agent, paused, reason))
            self._to_user(
                agent,
                "supervisor.action",
                {"action": "pause" if paused else "unpause", "by": client.name, "reason": reason},
            )
            return {"agent": agent, "state": reply.get("state")}

        return run

    def _supervise_logout(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        agent = self._target(data)
        self._ask(messages.agent_logoff(agent, "", f"logged out by {client.name}"))
        self._to_user(agent, "supervisor.action", {"action": "logout", "by": client.name})
        return {"agent": agent}

    def _monitor(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        agent = self._target(data)
        mode = str(data.get("mode") or "")
        if not client.interface:
            raise CommandFailed("you need a phone to listen to calls")
        reply = self._ask(
            {
                "type": "supervisor.monitor",
                "supervisor": client.name,
                "interface": client.interface,
                "agent": agent,
                "mode": mode,
            }
        )
        reply.pop("ok", None)
        return reply

    def _monitor_stop(self, client: Client, _data: dict[str, Any]) -> dict[str, Any]:
        reply = self._ask({"type": "supervisor.monitor.stop", "supervisor": client.name})
        reply.pop("ok", None)
        return reply

    # Bus events to clients ------------------------------------------------------------------------

    def forward(self, message: Message) -> None:
        """One bus event to this process's clients (runs on the bus thread, in bus order)."""
        try:
            self._forward(message)
        except Exception:
            log.exception("forwarding a %s event failed", message.get("type"))

    def _forward(self, message: Message) -> None:
        kind = str(message.get("type", ""))
        agent = message.get("agent")
        if kind in _MONITOR_EVENTS:
            self.hub.emit_local(
                kind, message, to=user_room(str(message.get("supervisor"))), namespace=SUPERVISOR_NS
            )
            self.hub.emit_local(kind, message, to=SUPERVISORS_ROOM, namespace=SUPERVISOR_NS)
            return
        if isinstance(agent, str) and agent:
            room = user_room(agent)
            if kind == messages.CALL_RINGING:
                self.hub.emit_local("call.incoming", self._incoming(message), to=room, namespace=AGENT_NS)
            elif kind == "agent.history":
                self.hub.emit_local("history.entry", message.get("entry"), to=room, namespace=AGENT_NS)
            elif kind in _AGENT_EVENTS:
                self.hub.emit_local(kind, message, to=room, namespace=AGENT_NS)
        if kind in _SUPERVISOR_EVENTS:
            self.hub.emit_local(kind, message, to=SUPERVISORS_ROOM, namespace=SUPERVISOR_NS)
        self.events_forwarded += 1

    def _incoming(self, message: Message) -> dict[str, Any]:
        campaign = str(message.get("campaign", ""))
        info = self._campaign_info(campaign)
        return {
            "callid": message.get("callid"),
            "campaign": campaign,
            "caller": message.get("caller", ""),
            "caller_name": message.get("caller_name", ""),
            "form": info.get("form"),
            "auto_answer": info.get("auto_answer", False),
            "dialer": message.get("dialer"),
            "time": message.get("time") or time.time(),
        }

    def _campaign_info(self, name: str) -> dict[str, Any]:
        now = time.monotonic()
        cached = self._forms.get(name)
        if cached is not None and now - cached[0] < FORM_CACHE_SECONDS:
            return cached[1]
        info: dict[str, Any] = {}
        try:
            with self.sessions() as session:
                row = session.get(Campaign, name)
                if row is not None:
                    info = {"form": describe_form(row.form), "auto_answer": bool(row.auto_answer)}
        except Exception:
            log.exception("campaign %s could not be read for the incoming-call event", name)
            return info
        self._forms[name] = (now, info)
        return info


def _reason(data: dict[str, Any]) -> str:
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise CommandFailed("a break motive (reason) is required")
    if len(reason) > MAX_REASON:
        raise CommandFailed(f"a break motive holds at most {MAX_REASON} characters")
    return reason.strip()

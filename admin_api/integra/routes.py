"""The seed's routes, answering exactly as its documentation shows.

Every refusal or failure answers the seed's "0" body (quoted `"0"` for getUserToken, bare `0`
elsewhere) with HTTP 200, except a missing or invalid token, which is 401 with the same body. The
reason is never in the body (existing clients compare it with "0"); it is logged, and sent in the
`X-OpenContact-Error` header for whoever debugs an integration.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, request
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from admin_api.agents_store import (
    PhoneSettings,
    ProvisioningError,
    add_phone,
    create_user,
    extension_taken,
    find_user,
)
from admin_api.audit import Actor, record_audit
from admin_api.auth import (
    ADMINISTRATIVE,
    AGENT,
    ROLES,
    STAFF,
    LoginRefused,
    authenticate,
    caller_actor,
    client_ip,
    current_caller,
    issue_token,
    require_roles,
)
from admin_api.commands import ask_stasis, member_interface, request_stasis, tell_stasis
from admin_api.schemas.common import parse_json_text
from admin_api.schemas.integra import (
    AddQueueMemberForm,
    AddSipForm,
    AgentCallForm,
    AgentLoginForm,
    AgentLogoffForm,
    GetQueuesForm,
    GetUserTokenForm,
    HangupPhoneForm,
    QueueMemberEntry,
    SipPhone,
)
from admin_api.services import services
from bus import messages
from datastore.models import Campaign, CampaignMember, PsAuth, PsEndpoint, User

log = logging.getLogger(__name__)

blueprint = Blueprint("integra", __name__, url_prefix="/Integra/resources")

ERROR_HEADER = "X-OpenContact-Error"
# The seed's agent contexts mean "an agent phone" here; such phones get the configured context.
SEED_AGENT_CONTEXTS = frozenset({"", "agentes", "agents"})


class SeedRefusal(Exception):
    """Ends a seed route with its "0" body; `reason` goes to the log and the debug header."""

    def __init__(self, reason: str, *, quoted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.quoted = quoted


def text(body: str) -> Response:
    return Response(body, status=200, mimetype="text/plain")


def json_text(value: Any) -> Response:
    return Response(json.dumps(value, ensure_ascii=False), status=200, mimetype="application/json")


def zero(reason: str, *, quoted: bool = False) -> Response:
    log.info("%s %s answered 0: %s", request.method, request.path, reason)
    response = json_text("0") if quoted else text("0")
    response.headers[ERROR_HEADER] = reason[:300].replace("\n", " ")
    return response


@blueprint.errorhandler(SeedRefusal)
def _refused(exc: SeedRefusal) -> Response:
    return zero(exc.reason, quoted=exc.quoted)


def load_form(schema: Schema, *, quoted: bool = False) -> dict[str, Any]:
    """Validate the form with its schema; any error ends the request with the seed's "0"."""
    try:
        loaded = schema.load(request.form.to_dict())
    except ValidationError as exc:
        raise SeedRefusal(f"invalid form: {json.dumps(exc.messages, sort_keys=True)}", quoted=quoted) from exc
    assert isinstance(loaded, dict)
    return loaded


def load_json_field(text_value: str, field_name: str, schema: Schema, *, many: bool) -> Any:
    """Decode a form field that holds JSON and validate it (addsip's `phone`, addqueuemember's list)."""
    try:
        raw = parse_json_text(text_value, field_name)
        if many and (not isinstance(raw, list) or not raw):
            raise ValidationError({field_name: ["must be a non-empty JSON array"]})
        if not many and not isinstance(raw, dict):
            raise ValidationError({field_name: ["must be a JSON object"]})
        return schema.load(raw, many=many)
    except ValidationError as exc:
        raise SeedRefusal(f"invalid {field_name}: {json.dumps(exc.messages, sort_keys=True)}") from exc


# --- authentication -----------------------------------------------------------------------------


@blueprint.post("/auth/getUserToken")
def get_user_token() -> Response:
    form = load_form(GetUserTokenForm(), quoted=True)
    with services().sessions() as session:
        try:
            user = authenticate(session, form["user"], form["password"], client_ip())
        except LoginRefused as exc:
            raise SeedRefusal(f"login refused ({exc})", quoted=True) from exc
        token = issue_token(session, user)
    return json_text(token)


def _seed_sip_object(user: User, endpoint: PsEndpoint, auth: PsAuth, token: str) -> dict[str, Any]:
    """The SIP peer object of the seed's AgentLogin answer, in its key order."""
    api = services()
    webrtc = bool(endpoint.webrtc)
    dtmf = endpoint.dtmf_mode or "rfc4733"
    return {
        "id": user.id,
        "name": endpoint.id,
        "host": api.config.public_host or request.host,
        "nat": "yes" if endpoint.rewrite_contact or endpoint.force_rport else "no",
        "type": "friend",
        "accountcode": user.username,
        "callgroup": endpoint.call_group or "",
        "callerid": endpoint.id,
        "canreinvite": "",
        "context": endpoint.context or "",
        "dtmfmode": "rfc2833" if dtmf == "rfc4733" else dtmf,
        "insecure": "",
        "language": endpoint.language or "",
        "mailbox": endpoint.mailboxes or "",
        "md5secret": auth.md5_cred or "",
        "pickupgroup": endpoint.pickup_group or "",
        "qualify": "yes",
        "secret": "",
        "disallow": endpoint.disallow or "",
        "allow": (endpoint.allow or "").replace(",", ";"),
        "port": "",
        "defaultuser": auth.username or endpoint.id,
        "subscribecontext": endpoint.subscribe_context or "default",
        "record": user.record,
        "email": user.email,
        "phonetype": user.phonetype,
        "LogLevel": user.log_level,
        "limite": user.limite,
        "transport": "wss" if webrtc else "udp",
        "encryption": "yes" if webrtc or endpoint.media_encryption not in (None, "no") else "no",
        "did": user.did,
        "outboundproxy": endpoint.outbound_proxy or "",
        "fullname": user.fullname,
        "token": token,
    }


@blueprint.post("/auth/AgentLogin")
def agent_login() -> Response:
    form = load_form(AgentLoginForm())
    ip = client_ip()
    with services().sessions() as session:
        try:
            user = authenticate(session, form["agent"], form["password"], ip)
        except LoginRefused as exc:
            raise SeedRefusal(f"login refused ({exc})") from exc
        if user.role == ADMINISTRATIVE or not user.phone:
            raise SeedRefusal(f"user {user.username} has no phone to log in with")
        endpoint = session.get(PsEndpoint, user.phone)
        auth = session.get(PsAuth, endpoint.auth or endpoint.id) if endpoint is not None else None
        if endpoint is None or auth is None:
            raise SeedRefusal(f"phone {user.phone} of {user.username} has no SIP rows")
        interface = f"PJSIP/{user.phone}"
        accepted = ask_stasis(messages.agent_login(user.username, interface, None))
        record_audit(
            session,
            Actor(user.username, ip),
            "agent.login",
            f"agent:{user.username}",
            {"interface": interface, "accepted": accepted},
        )
        session.commit()
        if not accepted:
            raise SeedRefusal("the call server did not accept the login")
        token = issue_token(session, user)
        return json_text(_seed_sip_object(user, endpoint, auth, token))


# --- agent actions ------------------------------------------------------------------------------


def _may_act_for(username: str) -> bool:
    caller = current_caller()
    return caller.is_staff or caller.username == username


@blueprint.post("/api/AgentLogoff")
@require_roles(*ROLES, style="integra")
def agent_logoff() -> Response:
    form = load_form(AgentLogoffForm())
    agent = form["agent"]
    if not _may_act_for(agent):
        raise SeedRefusal(f"{current_caller().username} may not log off {agent}")
    with services().sessions() as session:
        user = find_user(session, agent)
        if user is None:
            raise SeedRefusal(f"no user {agent}")
        interface = member_interface(form["interface"]) if form["interface"] else ""
        if not interface and user.phone:
            interface = f"PJSIP/{user.phone}"
        accepted = ask_stasis(messages.agent_logoff(agent, interface, form["message"]))
        record_audit(
            session,
            caller_actor(),
            "agent.logoff",
            f"agent:{agent}",
            {"interface": interface, "message": form["message"], "accepted": accepted},
        )
        session.commit()
    if not accepted:
        raise SeedRefusal("the call server did not log the agent off")
    return text("Success")


@blueprint.post("/Agents/HangupPhone")
@require_roles(*ROLES, style="integra")
def hangup_phone() -> Response:
    form = load_form(HangupPhoneForm())
    phone = form["phone"]
    caller = current_caller()
    if caller.role == AGENT and caller.phone != phone:
        raise SeedRefusal(f"{caller.username} may only hang up his own phone")
    with services().sessions() as session:
        if session.get(PsEndpoint, phone) is None:
            raise SeedRefusal(f"no phone {phone}")
        done = ask_stasis(messages.phone_hangup(phone))
        record_audit(session, caller_actor(), "phone.hangup", f"phone:{phone}", {"done": done})
        session.commit()
    return text("1" if done else "0")


@blueprint.post("/Agents/AgentCall")
@require_roles(*ROLES, style="integra")
def agent_call() -> Response:
    """Place a call for an agent through an outbound campaign; the body is the call's GUID.

    The agent's phone rings first, then the customer (``destination``) is dialed with ``callerid``
    (which must be the campaign's: a DID of it or one its caller-ID rules give). Agents may only place
    their own calls.
    """
    form = load_form(AgentCallForm())
    agent = form["agent"]
    if not _may_act_for(agent):
        raise SeedRefusal(f"{current_caller().username} may not place calls for {agent}")
    with services().sessions() as session:
        user = find_user(session, agent)
        if user is None or user.role == ADMINISTRATIVE or not user.phone:
            raise SeedRefusal(f"no agent {agent} with a phone")
        if form["phone"] and form["phone"] != user.phone:
            raise SeedRefusal(f"phone {form['phone']} is not {agent}'s")
        reply = request_stasis(
            {
                "type": "call.dial",
                "agent": agent,
                "number": form["destination"],
                "campaign": form["outqueue"],
                "callerid": form["callerid"],
                "interface": f"PJSIP/{user.phone}",
            }
        )
        guid = str(reply.get("guid") or "") if reply is not None else ""
        record_audit(
            session,
            caller_actor(),
            "agent.call",
            f"agent:{agent}",
            {"campaign": form["outqueue"], "number": form["destination"], "guid": guid},
        )
        session.commit()
    if not guid:
        raise SeedRefusal("the call server did not place the call")
    return text(guid)


# --- configuration ------------------------------------------------------------------------------


def _seed_flag(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "1", "on"}


@blueprint.post("/sip/addsip")
@require_roles(ADMINISTRATIVE, style="integra")
def add_sip() -> Response:
    form = load_form(AddSipForm())
    peer: Mapping[str, Any] = load_json_field(form["phone"], "phone", SipPhone(), many=False)
    api = services()
    extension = peer["name"]
    username = peer["accountcode"]
    context = peer["context"]
    settings = PhoneSettings(
        context=api.config.phone_context if context in SEED_AGENT_CONTEXTS else context,
        webrtc=peer["transport"] in {"ws", "wss"},
        callerid=peer["callerid"] or None,
        language=peer["language"] or None,
        realm=api.config.sip_realm,
        allow=peer["allow"].replace(";", ",") if peer["allow"] else None,
    )
    with api.sessions() as session:
        if extension_taken(session, extension):
            raise SeedRefusal(f"extension {extension} is already in use")
        user = find_user(session, username)
        created = user is None
        try:
            if user is None:
                user = create_user(
                    session,
                    username=username,
                    password=peer["secret"],
                    fullname=peer["fullname"],
                    role=AGENT,
                    phone=extension,
                    email=peer["email"],
                    extra={
                        "phonetype": peer["phonetype"][:32],
                        "record": peer["record"][:16],
                        "limite": peer["limite"],
                        "did": peer["did"][:40],
                    },
                )
            elif user.phone:
                raise SeedRefusal(f"user {username} already has phone {user.phone}")
            elif user.role == ADMINISTRATIVE:
                raise SeedRefusal(f"user {username} is administrative and takes no phone")
            else:
                user.phone = extension
            add_phone(session, extension, peer["secret"], settings)
        except ProvisioningError as exc:
            raise SeedRefusal(exc.message) from exc
        record_audit(
            session,
            caller_actor(),
            "sip.add",
            f"phone:{extension}",
            {"agent": username, "agent_created": created},
            after={"extension": extension, "context": settings.context, "webrtc": settings.webrtc},
        )
        session.commit()
    return text("1")


@blueprint.post("/queues/addqueuemember")
@require_roles(ADMINISTRATIVE, style="integra")
def add_queue_member() -> Response:
    form = load_form(AddQueueMemberForm())
    entries: list[dict[str, Any]] = load_json_field(
        form["queuemember"], "queuemember", QueueMemberEntry(), many=True
    )
    changed: list[str] = []
    with services().sessions() as session:
        for entry in entries:
            campaign = session.get(Campaign, entry["queue_name"])
            if campaign is None:
                raise SeedRefusal(f"no campaign {entry['queue_name']}")
            user = find_user(session, entry["membername"])
            if user is None or user.role == ADMINISTRATIVE:
                raise SeedRefusal(f"no agent {entry['membername']}")
            interface = member_interface(entry["interface"])
            member = session.scalars(
                select(CampaignMember).where(
                    CampaignMember.queue_name == campaign.name, CampaignMember.interface == interface
                )
            ).one_or_none()
            before = None
            if member is None:
                member = CampaignMember(queue_name=campaign.name, interface=interface)
                session.add(member)
            else:
                before = {"membername": member.membername, "penalty": member.penalty, "paused": member.paused}
            member.membername = user.username
            member.penalty = entry["penalty"]
            member.paused = entry["paused"]
            record_audit(
                session,
                caller_actor(),
                "member.add",
                f"campaign:{campaign.name}",
                {"interface": interface},
                before=before,
                after={"membername": user.username, "penalty": entry["penalty"], "paused": entry["paused"]},
            )
            if campaign.name not in changed:
                changed.append(campaign.name)
        session.commit()
    tell_stasis(messages.campaigns_reload(changed))
    return text("1")


@blueprint.post("/queues/getqueues")
@require_roles(*STAFF, style="integra")
def get_queues() -> Response:
    form = load_form(GetQueuesForm())
    query = select(Campaign).order_by(Campaign.name)
    if form["lastrow"]:
        # Continue after the named campaign (the seed leaves it empty: everything).
        query = query.where(Campaign.name > form["lastrow"])
    with services().sessions() as session:
        campaigns = [campaign.to_getqueues() for campaign in session.scalars(query)]
    return json_text(campaigns)

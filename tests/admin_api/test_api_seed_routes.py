"""The seed's /Integra/resources routes against a real MariaDB: exact bodies, bus commands, roles."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

from admin_api_helpers import (
    ADMIN,
    AGENT,
    AGENT_PHONE,
    CAMPAIGN,
    OTHER_AGENT,
    OTHER_PHONE,
    SUPERVISOR,
    StasisStandIn,
    basic,
    seed_token,
)
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import ApiToken, AuditEntry, Campaign, CampaignMember, PsAor, PsAuth, PsEndpoint, User
from datastore.passwords import sip_md5_cred, verify_password

SEED = "/Integra/resources"
# The keys of the seed's AgentLogin answer, in the seed's order.
AGENT_LOGIN_KEYS = [
    "id",
    "name",
    "host",
    "nat",
    "type",
    "accountcode",
    "callgroup",
    "callerid",
    "canreinvite",
    "context",
    "dtmfmode",
    "insecure",
    "language",
    "mailbox",
    "md5secret",
    "pickupgroup",
    "qualify",
    "secret",
    "disallow",
    "allow",
    "port",
    "defaultuser",
    "subscribecontext",
    "record",
    "email",
    "phonetype",
    "LogLevel",
    "limite",
    "transport",
    "encryption",
    "did",
    "outboundproxy",
    "fullname",
    "token",
]
GETQUEUES_KEYS = [
    "name",
    "musiconhold",
    "announce",
    "context",
    "timeout",
    "monitorType",
    "monitorFormat",
    "announceFrequency",
    "announceRoundSeconds",
    "announceHoldtime",
    "announcePosition",
    "retry",
    "wrapuptime",
    "maxlen",
    "servicelevel",
    "strategy",
    "joinempty",
    "leavewhenempty",
    "eventmemberstatus",
    "eventwhencalled",
    "reportholdtime",
    "memberdelay",
    "weight",
    "timeoutrestart",
    "ringinuse",
    "setinterfacevar",
    "periodicAnnounce",
    "periodicAnnounceFrequency",
    "did",
    "direction",
    "interactions",
    "email",
    "thresholds",
    "welcome",
    "schedule",
    "form",
    "quality",
    "dialstring",
    "voicemail",
    "queue_survey",
    "queue_timeout",
    "auto_answer",
    "show_dispositions",
    "queue_breaks",
    "screen_recording",
    "language",
    "transferCampaigns",
]


def sip_object(username: str, phone: str, password: str, fullname: str = "New Agent") -> str:
    """The seed's addsip `phone` JSON with its fixed values and the given ones."""
    return json.dumps(
        {
            "LogLevel": "SEVERE", "fullname": fullname, "accountcode": username, "allow": "alaw;ulaw",
            "callerid": phone, "id": 407, "context": "agentes", "defaultuser": phone, "did": "",
            "disallow": "all", "dtmfmode": "rfc2833", "email": "", "encryption": "yes", "canreinvite": "",
            "insecure": "", "host": "dynamic", "language": "es", "mailbox": "", "name": phone, "nat": "yes",
            "phonetype": "SoftPhone", "pickupgroup": "", "callgroup": "", "qualify": "yes", "record": "agent",
            "secret": password, "subscribecontext": "default", "transport": "wss", "port": "",
            "outboundproxy": "", "type": "friend", "limite": "0",
        }
    )  # fmt: skip


def test_get_user_token_answers_the_quoted_seed_token(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    response = client.post(f"{SEED}/auth/getUserToken", data={"user": ADMIN[0], "password": ADMIN[1]})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith('"') and body.endswith('"')
    token = json.loads(body)
    name, _, rest = base64.b64decode(token).decode().rpartition(":")
    assert name == ADMIN[0]
    uuid.UUID(rest)
    with sessions() as session:
        stored = session.get(ApiToken, hashlib.sha256(token.encode()).hexdigest())
        assert stored is not None and not stored.revoked and stored.expires_at > stored.created_at
        # Only the hash is stored: no row holds the token text itself.
        assert session.get(ApiToken, token) is None


def test_get_user_token_failure_is_quoted_zero(client: FlaskClient) -> None:
    wrong = client.post(f"{SEED}/auth/getUserToken", data={"user": SUPERVISOR[0], "password": "nope"})
    assert (wrong.status_code, wrong.get_data(as_text=True)) == (200, '"0"')
    missing = client.post(f"{SEED}/auth/getUserToken", data={"user": SUPERVISOR[0]})
    assert missing.get_data(as_text=True) == '"0"'
    assert "password" in missing.headers["X-OpenContact-Error"]


def test_agent_login_answers_the_seed_sip_object(
    client: FlaskClient, sessions: sessionmaker[Session], stasis: StasisStandIn
) -> None:
    response = client.post(f"{SEED}/auth/AgentLogin", data={"agent": AGENT[0], "password": AGENT[1]})
    assert response.status_code == 200
    answer = json.loads(response.get_data(as_text=True))
    assert list(answer) == AGENT_LOGIN_KEYS
    assert answer["name"] == AGENT_PHONE and answer["accountcode"] == AGENT[0]
    assert answer["host"] == "contact.example.org"
    assert answer["md5secret"] == sip_md5_cred(AGENT_PHONE, "asterisk", AGENT[1])
    with sessions() as session:
        auth = session.get(PsAuth, AGENT_PHONE)
        assert auth is not None and answer["md5secret"] == auth.md5_cred
    assert answer["secret"] == "" and answer["transport"] == "wss" and answer["allow"] == "opus;ulaw;alaw"
    assert answer["dtmfmode"] == "rfc2833" and answer["limite"] == 0
    login = stasis.wait_for("agent.login")
    assert (login["agent"], login["interface"], login["campaigns"]) == (
        AGENT[0],
        f"PJSIP/{AGENT_PHONE}",
        None,
    )
    # The token in the answer works on the other routes.
    hangup = client.post(
        f"{SEED}/Agents/HangupPhone", data={"phone": AGENT_PHONE}, headers=basic(answer["token"])
    )
    # The phone is in no call, so the Stasis side answers "not done": "0", but not 401.
    assert (hangup.status_code, hangup.get_data(as_text=True)) == (200, "0")


def test_agent_login_failures_answer_bare_zero(client: FlaskClient, stasis: StasisStandIn) -> None:
    wrong = client.post(f"{SEED}/auth/AgentLogin", data={"agent": OTHER_AGENT[0], "password": "bad"})
    assert (wrong.status_code, wrong.get_data(as_text=True)) == (200, "0")
    # Administrative users have no phone to log in with.
    admin = client.post(f"{SEED}/auth/AgentLogin", data={"agent": ADMIN[0], "password": ADMIN[1]})
    assert admin.get_data(as_text=True) == "0"
    # The Stasis app refusing the login (e.g. unknown phone there) is a failure too.
    stasis.refused_agents.add(OTHER_AGENT[0])
    refused = client.post(
        f"{SEED}/auth/AgentLogin", data={"agent": OTHER_AGENT[0], "password": OTHER_AGENT[1]}
    )
    assert refused.get_data(as_text=True) == "0"
    assert stasis.wait_for("agent.login")["agent"] == OTHER_AGENT[0]


def test_agent_logoff_success_and_bus_command(client: FlaskClient, stasis: StasisStandIn) -> None:
    token = seed_token(client, *AGENT)
    response = client.post(
        f"{SEED}/api/AgentLogoff",
        data={"agent": AGENT[0], "interface": f"SIP/{AGENT_PHONE}", "message": "Desloguear"},
        headers=basic(token),
    )
    assert (response.status_code, response.get_data(as_text=True)) == (200, "Success")
    logoff = stasis.wait_for("agent.logoff")
    assert logoff["agent"] == AGENT[0]
    assert logoff["interface"] == f"PJSIP/{AGENT_PHONE}"
    assert logoff["message"] == "Desloguear"


def test_agent_logoff_refusals(client: FlaskClient, stasis: StasisStandIn) -> None:
    token = seed_token(client, *AGENT)
    other = client.post(f"{SEED}/api/AgentLogoff", data={"agent": OTHER_AGENT[0]}, headers=basic(token))
    assert (other.status_code, other.get_data(as_text=True)) == (200, "0")
    no_token = client.post(f"{SEED}/api/AgentLogoff", data={"agent": AGENT[0]})
    assert (no_token.status_code, no_token.get_data(as_text=True)) == (401, "0")
    # A supervisor may log any agent off.
    supervisor = seed_token(client, *SUPERVISOR)
    ok = client.post(f"{SEED}/api/AgentLogoff", data={"agent": OTHER_AGENT[0]}, headers=basic(supervisor))
    assert ok.get_data(as_text=True) == "Success"
    assert stasis.wait_for("agent.logoff")["interface"] == f"PJSIP/{OTHER_PHONE}"


def test_hangup_phone_follows_the_stasis_reply(client: FlaskClient, stasis: StasisStandIn) -> None:
    token = seed_token(client, *AGENT)
    idle = client.post(f"{SEED}/Agents/HangupPhone", data={"phone": AGENT_PHONE}, headers=basic(token))
    assert idle.get_data(as_text=True) == "0"
    stasis.phones_in_call.add(AGENT_PHONE)
    busy = client.post(f"{SEED}/Agents/HangupPhone", data={"phone": AGENT_PHONE}, headers=basic(token))
    assert (busy.status_code, busy.get_data(as_text=True)) == (200, "1")
    assert stasis.wait_for("phone.hangup")["phone"] == AGENT_PHONE
    # An agent may not hang up someone else's phone, even one in a call.
    stasis.phones_in_call.add(OTHER_PHONE)
    other = client.post(f"{SEED}/Agents/HangupPhone", data={"phone": OTHER_PHONE}, headers=basic(token))
    assert other.get_data(as_text=True) == "0"
    assert all(command.get("phone") != OTHER_PHONE for command in stasis.commands)


def test_addsip_creates_the_agent_and_realtime_rows(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    token = seed_token(client, *ADMIN)
    response = client.post(
        f"{SEED}/sip/addsip",
        data={"phone": sip_object("carol", "1201", "carol-pass-1", "Carol C")},
        headers=basic(token),
    )
    assert (response.status_code, response.get_data(as_text=True)) == (200, "1")
    with sessions() as session:
        user = session.scalars(select(User).where(User.username == "carol")).one()
        assert (user.role, user.phone, user.fullname) == ("agent", "1201", "Carol C")
        assert verify_password(user.password_hash, "carol-pass-1")
        endpoint, auth, aor = (
            session.get(PsEndpoint, "1201"),
            session.get(PsAuth, "1201"),
            session.get(PsAor, "1201"),
        )
        assert endpoint is not None and auth is not None and aor is not None
        assert (auth.auth_type, auth.password) == ("md5", None)
        assert auth.md5_cred == sip_md5_cred("1201", "asterisk", "carol-pass-1")
        assert endpoint.webrtc is True and endpoint.context == "from-internal" and endpoint.language == "es"
        assert endpoint.allow == "alaw,ulaw"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "sip.add")).all()
        assert any(row.target == "phone:1201" and row.user == ADMIN[0] for row in audit)
        assert all("carol-pass-1" not in (row.detail or "") for row in audit)
    # The new agent can log in with the seed's AgentLogin at once.
    login = client.post(f"{SEED}/auth/AgentLogin", data={"agent": "carol", "password": "carol-pass-1"})
    assert json.loads(login.get_data(as_text=True))["name"] == "1201"


def test_addsip_refusals(client: FlaskClient, sessions: sessionmaker[Session]) -> None:
    admin = seed_token(client, *ADMIN)
    taken = client.post(
        f"{SEED}/sip/addsip",
        data={"phone": sip_object("dave", AGENT_PHONE, "dave-pass-1")},
        headers=basic(admin),
    )
    assert taken.get_data(as_text=True) == "0"
    broken = client.post(f"{SEED}/sip/addsip", data={"phone": "{not json"}, headers=basic(admin))
    assert broken.get_data(as_text=True) == "0"
    assert "not valid JSON" in broken.headers["X-OpenContact-Error"]
    missing = client.post(
        f"{SEED}/sip/addsip",
        data={"phone": json.dumps({"name": "1299", "secret": "x"})},
        headers=basic(admin),
    )
    assert missing.get_data(as_text=True) == "0"
    assert "accountcode" in missing.headers["X-OpenContact-Error"]
    # Configuration routes are for administrative users only.
    supervisor = seed_token(client, *SUPERVISOR)
    refused = client.post(
        f"{SEED}/sip/addsip",
        data={"phone": sip_object("erin", "1202", "erin-pass-1")},
        headers=basic(supervisor),
    )
    assert (refused.status_code, refused.get_data(as_text=True)) == (200, "0")
    with sessions() as session:
        assert session.get(PsEndpoint, "1202") is None
        assert session.scalars(select(User).where(User.username.in_(["dave", "erin"]))).all() == []


def test_addqueuemember_adds_members_and_asks_for_reload(
    client: FlaskClient, sessions: sessionmaker[Session], stasis: StasisStandIn
) -> None:
    admin = seed_token(client, *ADMIN)
    members = [
        {
            "membername": AGENT[0],
            "queueName": CAMPAIGN,
            "interface1": f"SIP/{AGENT_PHONE}",
            "penalty": 0,
            "paused": 0,
        },
        {
            "membername": OTHER_AGENT[0],
            "queueName": CAMPAIGN,
            "interface1": f"SIP/{OTHER_PHONE}",
            "penalty": 2,
            "paused": 1,
        },
    ]
    response = client.post(
        f"{SEED}/queues/addqueuemember", data={"queuemember": json.dumps(members)}, headers=basic(admin)
    )
    assert (response.status_code, response.get_data(as_text=True)) == (200, "1")
    with sessions() as session:
        rows = session.scalars(select(CampaignMember).where(CampaignMember.queue_name == CAMPAIGN)).all()
        found = {(row.membername, row.interface, row.penalty, row.paused) for row in rows}
    assert (AGENT[0], f"PJSIP/{AGENT_PHONE}", 0, 0) in found
    assert (OTHER_AGENT[0], f"PJSIP/{OTHER_PHONE}", 2, 1) in found
    assert stasis.wait_for("campaigns.reload")["names"] == [CAMPAIGN]


def test_addqueuemember_refusals(client: FlaskClient, stasis: StasisStandIn) -> None:
    admin = seed_token(client, *ADMIN)
    unknown = [
        {"membername": AGENT[0], "queueName": "Nope", "interface1": "SIP/1101", "penalty": 0, "paused": 0}
    ]
    answer = client.post(
        f"{SEED}/queues/addqueuemember", data={"queuemember": json.dumps(unknown)}, headers=basic(admin)
    )
    assert answer.get_data(as_text=True) == "0"
    not_list = client.post(f"{SEED}/queues/addqueuemember", data={"queuemember": "{}"}, headers=basic(admin))
    assert not_list.get_data(as_text=True) == "0"
    agent = seed_token(client, *AGENT)
    good = [
        {"membername": AGENT[0], "queueName": CAMPAIGN, "interface1": "SIP/1101", "penalty": 0, "paused": 0}
    ]
    forbidden = client.post(
        f"{SEED}/queues/addqueuemember", data={"queuemember": json.dumps(good)}, headers=basic(agent)
    )
    assert forbidden.get_data(as_text=True) == "0"
    assert [c for c in stasis.commands if c["type"] == "campaigns.reload"] == []


def test_getqueues_lists_campaigns_in_the_seed_shape(
    client: FlaskClient, sessions: sessionmaker[Session]
) -> None:
    token = seed_token(client, *SUPERVISOR)
    response = client.post(f"{SEED}/queues/getqueues", data={"lastrow": ""}, headers=basic(token))
    assert response.status_code == 200
    answer = json.loads(response.get_data(as_text=True))
    with sessions() as session:
        expected = [c.to_getqueues() for c in session.scalars(select(Campaign).order_by(Campaign.name))]
    assert answer == expected
    sales = next(item for item in answer if item["name"] == CAMPAIGN)
    assert list(sales) == GETQUEUES_KEYS
    assert (sales["did"], sales["strategy"], sales["timeout"]) == ("2000&2001", "linear", 15)
    agent = seed_token(client, *AGENT)
    assert client.post(f"{SEED}/queues/getqueues", headers=basic(agent)).get_data(as_text=True) == "0"
    no_token = client.post(f"{SEED}/queues/getqueues", data={"lastrow": ""})
    assert (no_token.status_code, no_token.get_data(as_text=True)) == (401, "0")

"""The seed's AgentCall route: form fields, token and role checks, the GUID or "0" body.

The Stasis side here is the module's stand-in on the bus (it answers a dial with a GUID); the real
dial is exercised end to end in tests/e2e_incall and tests/realtime.
"""

from __future__ import annotations

from admin_api_helpers import (
    ADMIN,
    AGENT,
    AGENT_PHONE,
    OTHER_AGENT,
    SUPERVISOR,
    StasisStandIn,
    basic,
    seed_token,
)
from flask.testing import FlaskClient

SEED = "/Integra/resources"
ROUTE = f"{SEED}/Agents/AgentCall"


def form(agent: str = AGENT[0], **changes: str) -> dict[str, str]:
    fields = {
        "callerid": "2000",
        "agent": agent,
        "phone": AGENT_PHONE,
        "tech": "SIP",
        "context": "agents",
        "outqueue": "Outbound",
        "destination": "099123456",
    }
    return {**fields, **changes}


def test_agent_places_his_own_call_and_gets_the_guid(client: FlaskClient, stasis: StasisStandIn) -> None:
    token = seed_token(client, *AGENT)
    response = client.post(ROUTE, data=form(), headers=basic(token))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.startswith("guid-"), body
    sent = stasis.wait_for("call.dial")
    assert (sent["agent"], sent["number"], sent["campaign"], sent["callerid"], sent["interface"]) == (
        AGENT[0],
        "099123456",
        "Outbound",
        "2000",
        f"PJSIP/{AGENT_PHONE}",
    )


def test_staff_may_place_calls_for_an_agent(client: FlaskClient, stasis: StasisStandIn) -> None:
    for person in (SUPERVISOR, ADMIN):
        token = seed_token(client, *person)
        response = client.post(ROUTE, data=form(), headers=basic(token))
        assert response.get_data(as_text=True).startswith("guid-"), person


def test_refusals_answer_zero(client: FlaskClient, stasis: StasisStandIn) -> None:
    token = seed_token(client, *AGENT)
    no_token = client.post(ROUTE, data=form())
    assert (no_token.status_code, no_token.get_data(as_text=True)) == (401, "0")
    # An agent may not place calls for another agent, nor with a phone that is not his.
    other = client.post(ROUTE, data=form(agent=OTHER_AGENT[0]), headers=basic(token))
    wrong_phone = client.post(ROUTE, data=form(phone="9999"), headers=basic(token))
    bad_number = client.post(ROUTE, data=form(destination="call-me"), headers=basic(token))
    missing = client.post(ROUTE, data={"agent": AGENT[0]}, headers=basic(token))
    for response in (other, wrong_phone, bad_number, missing):
        assert (response.status_code, response.get_data(as_text=True)) == (200, "0")
        assert response.headers.get("X-OpenContact-Error"), response.headers
    assert not [c for c in stasis.commands if c["type"] == "call.dial"]
    # The call server refusing (agent busy, unknown campaign...) is a "0" too.
    stasis.refused_agents.add(AGENT[0])
    refused = client.post(ROUTE, data=form(), headers=basic(token))
    assert refused.get_data(as_text=True) == "0"
    assert stasis.wait_for("call.dial")["agent"] == AGENT[0]

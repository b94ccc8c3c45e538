"""The seed's curl examples, run literally against a real server: they must work as written.

The examples are read from the seed's API document at run time (only the host and the {{...}} values are
replaced), handed to the real `curl`, and sent to the API served by waitress on a loopback port.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_api_helpers import ADMIN, CAMPAIGN, StasisStandIn
from flask import Flask

from admin_api.server import ApiServer

SEED_DOC = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "12-apis.md"
HOST_PATTERN = re.compile(r"https://\{\{[^}]+\}\}\.ucontactcloud\.com")
PLACEHOLDER = re.compile(r"\{\{([^}]+)\}\}")


def curl_example(resource: str) -> str:
    """The seed's curl example for one resource path, as one command line."""
    text = SEED_DOC.read_text(encoding="utf-8")
    for block in re.findall(r"##### cURL\s+```bash\n(.*?)```", text, flags=re.DOTALL):
        if f"/Integra/resources/{resource}'" in block:
            return str(block.replace("\\\n", " ").strip())
    raise AssertionError(f"the seed has no curl example for {resource}")


def run_example(resource: str, base_url: str, values: dict[str, str]) -> str:
    """Fill in the example's host and values, run it with curl and return the response body."""
    command = HOST_PATTERN.sub(base_url, curl_example(resource))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no value for {{{{{name}}}}} in the {resource} example"
        return values[name]

    command = PLACEHOLDER.sub(fill, command)
    argv = shlex.split(command)
    assert argv[0] == "curl"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(app: Flask) -> Iterator[ApiServer]:
    running = ApiServer(app, "127.0.0.1", 0)
    running.start()
    yield running
    running.stop()


def test_seed_curl_examples_work_as_written(server: ApiServer, stasis: StasisStandIn) -> None:
    assert shutil.which("curl"), "curl is needed to run the seed's examples"
    base = server.url

    token_body = run_example("auth/getUserToken", base, {"UserName": ADMIN[0], "PasswordUser": ADMIN[1]})
    assert token_body.startswith('"') and token_body != '"0"'
    token = json.loads(token_body)

    agent = {
        "fullname": "Victor Cisneros",
        "userName": "Vcisneros",
        "phoneNumber": "1997",
        "password": "Vc-2024-pass",
    }
    assert run_example("sip/addsip", base, {"Token": token, **agent}) == "1"

    member_values = {
        "Token": token,
        "UserName": "Vcisneros",
        "CampaignName": CAMPAIGN,
        "AgentPhoneNumber": "1997",
    }
    assert run_example("queues/addqueuemember", base, member_values) == "1"
    assert stasis.wait_for("campaigns.reload")["names"] == [CAMPAIGN]

    campaigns = json.loads(run_example("queues/getqueues", base, {"Token": token}))
    assert [item["name"] for item in campaigns] == [CAMPAIGN]

    login = json.loads(
        run_example("auth/AgentLogin", base, {"Usuario": "Vcisneros", "AgentPassword": "Vc-2024-pass"})
    )
    assert (login["name"], login["accountcode"], login["fullname"]) == (
        "1997",
        "Vcisneros",
        "Victor Cisneros",
    )
    assert len(login["md5secret"]) == 32
    assert stasis.wait_for("agent.login")["interface"] == "PJSIP/1997"

    agent_token = login["token"]
    logoff_values = {"Token": agent_token, "User": "Vcisneros", "Extension": "1997", "Mensaje": "Desloguear"}
    assert run_example("api/AgentLogoff", base, logoff_values) == "Success"
    assert stasis.wait_for("agent.logoff")["message"] == "Desloguear"

    stasis.phones_in_call.add("1997")
    assert run_example("Agents/HangupPhone", base, {"Token": agent_token, "AgentPhone": "1997"}) == "1"
    assert stasis.wait_for("phone.hangup")["phone"] == "1997"

    # And the examples' error answers: a wrong password gives the seed's quoted "0".
    assert run_example("auth/getUserToken", base, {"UserName": ADMIN[0], "PasswordUser": "wrong"}) == '"0"'

"""`opencontact run` as a user starts it: simulated callers reach the demo agents, the live status shows it.

The command runs as its own process in an empty working directory (so the default SQLite database
and journal under ./var are used, with no MariaDB or Redis involved), on free ports, with simulated
time sped up. The test talks to it only over real HTTP with a token from the seed's getUserToken, stops
it with Ctrl-C (SIGINT) and then reads the records it left in SQLite.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from bus.messages import AGENT_DISCONNECTED, AGENT_STATES
from datastore.demo import DEMO_AGENTS, DEMO_CAMPAIGN

START_WITHIN = 20.0
ANSWERED_WITHIN = 15.0
STOP_WITHIN = 15.0
#: Variables that would point the demo away from its embedded defaults.
FOREIGN_SETTINGS = ("OC_DATABASE_URL", "OC_REDIS_URL", "OC_JOURNAL_DIR")


class RunningDemo:
    """The `opencontact run` process and the lines it printed."""

    def __init__(self, process: subprocess.Popen[str], stderr_path: Path) -> None:
        self.process = process
        self.stderr_path = stderr_path
        self.lines: queue.Queue[str] = queue.Queue()
        self.printed: list[str] = []
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def url_labelled(self, label: str, within: float) -> str:
        """The URL on the banner line that starts with ``label``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for line in self.printed:
                if line.strip().startswith(label):
                    return line.split(label, 1)[1].split()[0]
            if self.process.poll() is not None:
                break
            try:
                self.printed.append(self.lines.get(timeout=0.1))
            except queue.Empty:
                continue
        raise AssertionError(f"no {label!r} line; printed {self.printed}; log:\n{self.log_tail()}")

    def log_tail(self) -> str:
        text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-40:])


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningDemo]:
    command = Path(sys.executable).parent / "opencontact"
    assert command.is_file(), f"console script missing: {command} (pip install -e .)"
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_SETTINGS}
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [
                str(command),
                "run",
                "--api-port",
                "0",
                "--ari-port",
                "0",
                "--call-interval",
                "0.15",
                "--time-scale",
                "0.05",
                "--seed",
                "3",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    running = RunningDemo(process, stderr_path)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def http(method: str, url: str, *, form: dict[str, str] | None = None, token: str = "") -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for_answered_calls(status_url: str, token: str) -> dict[str, Any]:
    """The status once the demo campaign has answered calls and every agent has been busy once."""
    deadline = time.monotonic() + ANSWERED_WITHIN
    seen_states: set[str] = set()
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        code, text = http("GET", status_url, token=token)
        assert code == 200, text
        body = json.loads(text)
        seen_states |= {agent["state"] for agent in body["agents"]}
        campaign = next((c for c in body["campaigns"] if c["name"] == DEMO_CAMPAIGN), None)
        if campaign is not None and campaign["answered"] >= 3 and "busy" in seen_states:
            return body
        time.sleep(0.2)
    raise AssertionError(f"no answered calls on the status board: {body}")


def test_opencontact_run_answers_simulated_callers(demo: RunningDemo, tmp_path: Path) -> None:
    status_url = demo.url_labelled("Live status:", START_WITHIN)
    api = status_url.rsplit("/api/v1/status", 1)[0]
    assert demo.url_labelled("ARI simulator:", 1.0).endswith("/ari")

    code, body = http(
        "POST", f"{api}/Integra/resources/auth/getUserToken", form={"user": "admin", "password": "admin"}
    )
    token = json.loads(body)
    assert code == 200 and isinstance(token, str) and token != "0", body
    assert http("GET", status_url)[0] == 401

    status = wait_for_answered_calls(status_url, token)
    sales = next(c for c in status["campaigns"] if c["name"] == DEMO_CAMPAIGN)
    assert sales["entered"] >= sales["answered"] >= 3
    assert sales["waiting"] >= 0 and sales["talking"] >= 0
    agents = {agent["agent"]: agent for agent in status["agents"]}
    assert set(agents) == {agent.username for agent in DEMO_AGENTS}
    for agent in agents.values():
        assert agent["state"] in AGENT_STATES and agent["state"] != AGENT_DISCONNECTED, agent
        assert agent["campaigns"] == [DEMO_CAMPAIGN]
    answered_seen = sales["answered"]

    demo.process.send_signal(signal.SIGINT)
    try:
        assert demo.process.wait(STOP_WITHIN) == 0, demo.log_tail()
    except subprocess.TimeoutExpired:
        pytest.fail(f"opencontact run did not stop on Ctrl-C; log:\n{demo.log_tail()}")
    assert "Traceback" not in demo.log_tail()

    database = tmp_path / "var" / "opencontact.db"
    assert database.is_file() and (tmp_path / "var" / "journal").is_dir()
    with sqlite3.connect(database) as connection:
        events = connection.execute("SELECT callid, event, agent FROM queue_log ORDER BY id").fetchall()
        cdrs = dict(connection.execute("SELECT uniqueid, disposition FROM cdr").fetchall())
    entered = {callid for callid, event, _ in events if event == "ENTERQUEUE"}
    connected = {callid for callid, event, _ in events if event == "CONNECT"}
    completed = {callid for callid, event, _ in events if event in ("COMPLETECALLER", "COMPLETEAGENT")}
    abandoned = {callid for callid, event, _ in events if event == "ABANDON"}
    assert len(connected) >= answered_seen and connected <= entered
    # Stopping let every call finish, and the writer flushed all of them: each call is accounted for.
    assert entered == connected | abandoned and connected == completed
    assert entered <= set(cdrs) and {cdrs[c] for c in connected} == {"ANSWERED"}
    logins = [(event, agent) for _, event, agent in events if event in ("AGENTLOGIN", "AGENTLOGOFF")]
    assert sorted(logins) == sorted(
        [("AGENTLOGIN", a.username) for a in DEMO_AGENTS] + [("AGENTLOGOFF", a.username) for a in DEMO_AGENTS]
    )

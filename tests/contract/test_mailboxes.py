"""ARI /mailboxes as Asterisk (res_mwi_external) answers it, on the simulator and, when
``OC_ASTERISK_ARI_URL`` is set, on that Asterisk too, so both are held to the same answers.

Bodies are checked against Asterisk's own Mailbox model.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ari_sim.engine import Engine
from ari_sim.server import create_app
from ari_sim.settings import SimSettings

from .ari_models import assert_valid_response
from .conftest import PASSWORD, USER, basic, serving

TARGETS = ["simulator", *(["asterisk"] if os.environ.get("OC_ASTERISK_ARI_URL") else [])]


class Ari:
    """Plain HTTP to one ARI; names are made unique so a shared Asterisk is not disturbed."""

    def __init__(self, base: str, session: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self.base = base
        self.session = session
        self.headers = headers
        self.prefix = f"oc-mwi-{uuid.uuid4().hex[:8]}-"
        self.made: set[str] = set()

    def name(self, short: str) -> str:
        return self.prefix + short

    async def call(self, method: str, path: str, **params: str) -> tuple[int, Any]:
        if method == "PUT" and path.startswith("/mailboxes/"):
            self.made.add(path.removeprefix("/mailboxes/"))
        async with self.session.request(
            method, f"{self.base}/ari{path}", params=params, headers=self.headers
        ) as response:
            text = await response.text()
            body = await response.json(content_type=None) if text else None
            return response.status, body

    async def ours(self) -> list[dict[str, Any]]:
        status, body = await self.call("GET", "/mailboxes")
        assert status == 200
        assert_valid_response(body, "List[Mailbox]")
        return [box for box in body if str(box["name"]).startswith(self.prefix)]


@pytest.fixture(params=TARGETS)
async def ari(request: pytest.FixtureRequest) -> AsyncIterator[Ari]:
    async with aiohttp.ClientSession() as session:
        if request.param == "simulator":
            settings = SimSettings(port=0, username=USER, password=PASSWORD, time_scale=0.01)
            async with serving(create_app(Engine(settings), settings)) as base:
                yield Ari(base, session, basic(USER, PASSWORD))
            return
        base = os.environ["OC_ASTERISK_ARI_URL"].rstrip("/")
        headers = basic(
            os.environ.get("OC_ASTERISK_ARI_USERNAME", "asterisk"),
            os.environ.get("OC_ASTERISK_ARI_PASSWORD", "asterisk"),
        )
        target = Ari(base, session, headers)
        try:
            yield target
        finally:
            for name in target.made:
                await target.call("DELETE", f"/mailboxes/{name}")


async def test_unknown_mailbox_is_404_on_get_and_delete(ari: Ari) -> None:
    name = ari.name("none@ctx")
    assert await ari.call("GET", f"/mailboxes/{name}") == (404, {"message": "Mailbox is does not exist"})
    assert await ari.call("DELETE", f"/mailboxes/{name}") == (404, {"message": "Mailbox does not exist"})


async def test_put_creates_then_updates_and_delete_removes(ari: Ari) -> None:
    name = ari.name("201@opencontact")
    assert await ari.call("PUT", f"/mailboxes/{name}", oldMessages="2", newMessages="1") == (204, None)
    status, box = await ari.call("GET", f"/mailboxes/{name}")
    assert status == 200
    assert_valid_response(box, "Mailbox")
    assert box == {"name": name, "old_messages": 2, "new_messages": 1}

    assert await ari.call("PUT", f"/mailboxes/{name}", oldMessages="3", newMessages="0") == (204, None)
    assert (await ari.call("GET", f"/mailboxes/{name}"))[1] == {
        "name": name,
        "old_messages": 3,
        "new_messages": 0,
    }
    assert await ari.ours() == [{"name": name, "old_messages": 3, "new_messages": 0}]

    assert await ari.call("DELETE", f"/mailboxes/{name}") == (204, None)
    assert (await ari.call("GET", f"/mailboxes/{name}"))[0] == 404
    assert await ari.ours() == []


async def test_list_is_in_name_order(ari: Ari) -> None:
    for short in ("zz", "aa", "mm"):
        await ari.call("PUT", f"/mailboxes/{ari.name(short)}", oldMessages="0", newMessages="1")
    assert [box["name"] for box in await ari.ours()] == [ari.name(s) for s in ("aa", "mm", "zz")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"oldMessages": "7"}, (7, 0)),  # a missing count is 0, not a 400
        ({}, (0, 0)),
        ({"oldMessages": "x", "newMessages": "3y"}, (0, 3)),  # read as C's atoi reads text
        ({"oldMessages": "-1", "newMessages": "1"}, (-1, 1)),  # negative counts are kept
        ({"oldMessages": "99999999999", "newMessages": "1"}, (1215752191, 1)),  # a C int wraps
    ],
)
async def test_counts_are_taken_as_given_without_checks(
    ari: Ari, query: dict[str, str], expected: tuple[int, int]
) -> None:
    name = ari.name("loose")
    assert await ari.call("PUT", f"/mailboxes/{name}", **query) == (204, None)
    _status, box = await ari.call("GET", f"/mailboxes/{name}")
    assert (box["old_messages"], box["new_messages"]) == expected

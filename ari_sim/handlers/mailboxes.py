"""Handlers for /mailboxes: message counts that an application sets and phones are told about.

Asterisk serves these through res_mwi_external. It checks none of the counts: a missing one is 0,
text is read as C's atoi reads it, negative numbers are kept, and the result is a C int, so a
number past its range wraps around.
"""

from __future__ import annotations

from ari_sim.engine import Engine
from ari_sim.types import Params, Reply

_INT_SPAN = 1 << 32
_LONG_MAX = (1 << 63) - 1


def c_int(value: object) -> int:
    """What Asterisk stores for a count: the parsed number as a 32-bit C int."""
    number = int(value) if isinstance(value, int) and not isinstance(value, bool) else 0
    # strtol saturates at the range of a long before the narrowing to int wraps.
    number = max(-_LONG_MAX - 1, min(_LONG_MAX, number))
    return (number + _INT_SPAN // 2) % _INT_SPAN - _INT_SPAN // 2


async def list_mailboxes(engine: Engine, params: Params) -> Reply:
    return 200, [box.to_json() for box in engine.list_mailboxes()]


async def get(engine: Engine, params: Params) -> Reply:
    return 200, engine.get_mailbox(str(params["mailboxName"])).to_json()


async def update(engine: Engine, params: Params) -> Reply:
    engine.update_mailbox(
        str(params["mailboxName"]),
        old_messages=c_int(params.get("oldMessages")),
        new_messages=c_int(params.get("newMessages")),
    )
    return 204, None


async def delete(engine: Engine, params: Params) -> Reply:
    engine.delete_mailbox(str(params["mailboxName"]))
    return 204, None


HANDLERS = {
    "mailboxes.list": list_mailboxes,
    "mailboxes.get": get,
    "mailboxes.update": update,
    "mailboxes.delete": delete,
}

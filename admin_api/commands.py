"""Commands from the API to the Stasis app over the bus.

Some HTTP answers depend on what the Stasis app did (HangupPhone's "1"/"0", AgentLogin), so those wait
for its reply; configuration changes are only announced (`campaigns.reload`). Without a bus (an API run
on its own, with no Stasis app behind it) waiting commands fail and announcements are dropped.
"""

from __future__ import annotations

import logging

from admin_api.bus_link import COMMANDS, Message, reply_ok
from admin_api.services import services
from bus import BusError

log = logging.getLogger(__name__)


def ask_stasis(message: Message) -> bool:
    """Send a command and wait for the Stasis app's answer; False on refusal, timeout or no bus."""
    api = services()
    kind = message["type"]
    if api.bus is None:
        log.warning("no bus: command %s not delivered", kind)
        return False
    try:
        reply = api.bus.request(COMMANDS, message, api.config.bus_timeout_seconds)
    except (BusError, TimeoutError) as exc:
        log.warning("no answer from the Stasis app to %s: %s", kind, exc or type(exc).__name__)
        return False
    ok = reply_ok(reply)
    if not ok:
        log.info("Stasis app refused %s: %s", kind, reply.get("error", "no reason given"))
    return ok


def request_stasis(message: Message) -> Message | None:
    """Send a command and answer the Stasis app's reply when it took effect (None otherwise), for
    routes whose answer carries what the Stasis app made (AgentCall's GUID)."""
    api = services()
    kind = message["type"]
    if api.bus is None:
        log.warning("no bus: command %s not delivered", kind)
        return None
    try:
        reply = api.bus.request(COMMANDS, message, api.config.bus_timeout_seconds)
    except (BusError, TimeoutError) as exc:
        log.warning("no answer from the Stasis app to %s: %s", kind, exc or type(exc).__name__)
        return None
    if not reply_ok(reply):
        log.info("Stasis app refused %s: %s", kind, reply.get("error", "no reason given"))
        return None
    return reply


def tell_stasis(message: Message) -> None:
    """Announce a change; nobody waits for it."""
    api = services()
    if api.bus is None:
        log.warning("no bus: announcement %s dropped", message["type"])
        return
    try:
        api.bus.publish(COMMANDS, message)
    except (BusError, TimeoutError) as exc:
        # The change is in the database; the Stasis app also reloads on its own start.
        log.warning("could not announce %s: %s", message["type"], exc or type(exc).__name__)


def member_interface(raw: str) -> str:
    """Members ring through PJSIP: the seed's `SIP/1997` and a bare `1997` become `PJSIP/1997`.

    chan_sip is gone from Asterisk, and the Stasis app originates to the interface as stored, so every
    phone member is kept as `PJSIP/<extension>`; other technologies (`Local/...`) stay as given.
    """
    text = raw.strip()
    tech, sep, resource = text.partition("/")
    if not sep:
        return f"PJSIP/{text}" if text else text
    if tech.upper() in {"SIP", "PJSIP"}:
        return f"PJSIP/{resource}"
    return text

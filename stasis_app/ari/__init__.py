"""OpenContact's link to Asterisk's ARI: reconnecting, resynchronising, per-channel ordered events.

Typical use::

    conn = AriConnection(AriSettings.from_env())
    conn.on("StasisStart", on_stasis_start)        # async def on_stasis_start(event, conn): ...
    conn.on_resync(on_resync)                       # what changed while disconnected
    await conn.start()
    await conn.rest.channels.answer(channelId=channel_id)
    await conn.stop()
"""

from stasis_app.ari.backoff import Backoff, BackoffPolicy
from stasis_app.ari.connection import (
    ANY_EVENT,
    AriConnection,
    ConnectionState,
    ConnectionStatus,
    EventHandler,
    ResyncHandler,
)
from stasis_app.ari.dispatcher import KeyedDispatcher
from stasis_app.ari.events import GLOBAL_KEY, Event, ordering_key
from stasis_app.ari.rest import AriError, AriRequestError, AriUnavailable, RestApi
from stasis_app.ari.resync import OwnedState, ResyncReport, reconcile

__all__ = [
    "ANY_EVENT",
    "GLOBAL_KEY",
    "AriConnection",
    "AriError",
    "AriRequestError",
    "AriUnavailable",
    "Backoff",
    "BackoffPolicy",
    "ConnectionState",
    "ConnectionStatus",
    "Event",
    "EventHandler",
    "KeyedDispatcher",
    "OwnedState",
    "RestApi",
    "ResyncHandler",
    "ResyncReport",
    "ordering_key",
    "reconcile",
]

"""The statistics core (``stasis_app.acd.statistics``) wired into the running Stasis app.

- :class:`StatisticsTee` stands where the call flows write records: each queue_log row goes to the
  record writer, then to the statistics; CDR rows only to the writer.
- :class:`LiveStatistics` hears the ``agent.state`` events, answers ``stats.snapshot`` requests on
  the command channel (``{campaign?, window?, minutes?, formula?}`` -> ``{ok, time, window,
  formula, campaigns, agents}``) and publishes ``campaign.stats`` for every campaign every few
  seconds, so supervisors' boards move even when no call event does (waits grow, agents' times run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from bus import messages
from bus.base import Bus, Subscription
from stasis_app.acd.records import QueueLogRow
from stasis_app.acd.statistics import CallStatistics, ServiceLevelFormula, Window
from stasis_app.inbound.ports import RecordSink

log = logging.getLogger(__name__)

STATS_SNAPSHOT = "stats.snapshot"
CAMPAIGN_STATS = "campaign.stats"
DEFAULT_PUSH_SECONDS = 5.0


class StatisticsTee:
    """A :class:`RecordSink` that also shows every queue_log row to the statistics."""

    def __init__(self, sink: RecordSink, statistics: CallStatistics) -> None:
        self.sink = sink
        self.statistics = statistics

    def queue_log(
        self,
        *,
        time: datetime,
        callid: str,
        queuename: str,
        agent: str,
        event: str,
        data1: str = "",
        data2: str = "",
        data3: str = "",
        data4: str = "",
        data5: str = "",
    ) -> Any:
        result = self.sink.queue_log(
            time=time,
            callid=callid,
            queuename=queuename,
            agent=agent,
            event=event,
            data1=data1,
            data2=data2,
            data3=data3,
            data4=data4,
            data5=data5,
        )
        try:
            self.statistics.record(
                QueueLogRow(time, callid, queuename, agent, event, data1, data2, data3, data4, data5)
            )
        except Exception:
            # Figures must never cost a record or a call.
            log.exception("statistics could not take %s of %s", event, callid)
        return result

    def cdr(self, **columns: Any) -> Any:
        return self.sink.cdr(**columns)

    def __getattr__(self, name: str) -> Any:
        # Other users of the writer (flush, pending...) reach it unchanged.
        return getattr(self.sink, name)


class StatsRequestError(ValueError):
    """A ``stats.snapshot`` request with a field that cannot be read."""


def read_request(message: messages.Message) -> dict[str, Any]:
    """The optional fields of a ``stats.snapshot`` request as the core's types."""
    out: dict[str, Any] = {}
    campaign = message.get("campaign")
    if campaign is not None:
        if not isinstance(campaign, str) or not campaign:
            raise StatsRequestError("campaign must be a non-empty string")
        out["campaign"] = campaign
    try:
        if message.get("window") is not None:
            out["window"] = Window(message["window"])
        if message.get("formula") is not None:
            out["formula"] = ServiceLevelFormula(message["formula"])
    except ValueError as exc:
        raise StatsRequestError(str(exc)) from exc
    names = message.get("campaigns")
    if names is not None:
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise StatsRequestError("campaigns must list campaign names")
        out["campaigns"] = names
    minutes = message.get("minutes")
    if minutes is not None:
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
            raise StatsRequestError("minutes must be a positive whole number")
        out["minutes"] = minutes
    return out


class LiveStatistics:
    """Agent states in, snapshots and periodic ``campaign.stats`` out, over the bus."""

    def __init__(
        self,
        statistics: CallStatistics,
        bus: Bus,
        *,
        known_campaigns: Callable[[], Iterable[str]] = tuple,
        push_seconds: float = DEFAULT_PUSH_SECONDS,
    ) -> None:
        self.statistics = statistics
        self.bus = bus
        self.known_campaigns = known_campaigns
        self.push_seconds = push_seconds
        self._subscriptions: list[Subscription] = []
        self._pusher: asyncio.Task[None] | None = None

    def install(self) -> None:
        self._subscriptions.append(self.bus.subscribe(messages.COMMANDS, self.on_command))
        self._subscriptions.append(self.bus.subscribe(messages.EVENTS, self.on_event))

    def start(self) -> None:
        if self.push_seconds > 0 and self._pusher is None:
            self._pusher = asyncio.create_task(self._push_loop(), name="campaign-stats")

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.cancel()
        self._subscriptions.clear()
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
            self._pusher = None

    async def on_event(self, message: messages.Message) -> None:
        if message.get("type") != messages.AGENT_STATE:
            return
        since = message.get("since")
        at = float(since) if isinstance(since, int | float) else self.statistics.clock()
        self.statistics.agent_state(
            str(message["agent"]),
            str(message["state"]),
            [str(c) for c in message.get("campaigns") or []],
            at,
            str(message.get("pause_reason") or ""),
        )

    def snapshot(self, request: messages.Message) -> dict[str, Any]:
        fields = read_request(request)
        names = [*self.known_campaigns(), *fields.pop("campaigns", [])]
        return self.statistics.snapshot(campaigns=names, **fields)

    async def on_command(self, message: messages.Message) -> None:
        if message.get("type") != STATS_SNAPSHOT or not message.get("request_id"):
            return
        try:
            payload = {"ok": True, **self.snapshot(message)}
        except StatsRequestError as exc:
            payload = {"ok": False, "error": str(exc)}
        except Exception as exc:
            log.exception("stats.snapshot failed")
            payload = {"ok": False, "error": repr(exc)}
        await self.bus.reply(message, payload)

    async def publish_all(self) -> int:
        """One ``campaign.stats`` per campaign; returns how many were sent."""
        snapshot = self.statistics.snapshot(campaigns=self.known_campaigns())
        for figures in snapshot["campaigns"]:
            await self.bus.publish(
                messages.EVENTS,
                {
                    "type": CAMPAIGN_STATS,
                    "time": snapshot["time"],
                    # The names the per-event ``campaign.stats`` of agent_commands uses, too.
                    "entered": figures["offered"],
                    "longest_wait_seconds": figures["longest_wait"],
                    **figures,
                },
            )
        return len(snapshot["campaigns"])

    async def _push_loop(self) -> None:
        while True:
            await asyncio.sleep(self.push_seconds)
            try:
                await self.publish_all()
            except Exception:
                log.exception("publishing campaign statistics failed")

"""Reading campaigns and members (at start and on ``campaigns.reload``), with their queue_log rows."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from stasis_app.acd import records
from stasis_app.acd.campaigns import DidDirectory, MemberConfig
from stasis_app.acd.records import local_time
from stasis_app.inbound import live_status, offering

if TYPE_CHECKING:
    from stasis_app.inbound.flow import InboundFlow

log = logging.getLogger(__name__)


async def load_until_done(flow: InboundFlow, pause: float = 2.0) -> None:
    while not flow.loaded:
        await asyncio.sleep(pause)
        try:
            await reload(flow, None, initial=True)
        except Exception as exc:
            log.warning("campaigns still cannot be loaded: %s", exc)


async def reload(flow: InboundFlow, names: list[str] | None, *, initial: bool = False) -> dict[str, Any]:
    """Read campaigns and members again; campaigns new since the first load get CREATEDQUEUE, new
    members ADDMEMBER (at the first load too, as app_queue logs its realtime members when it
    first reads them), removed ones REMOVEMEMBER."""
    campaigns, members = await flow.load_campaigns(names)
    now = flow.clock()
    created = [c.name for c in campaigns if c.name not in flow.campaigns] if flow.loaded else []
    if names is None:
        flow.campaigns = {c.name: c for c in campaigns}
    else:
        for name in names:
            flow.campaigns.pop(name, None)
        flow.campaigns.update({c.name: c for c in campaigns})
    flow.directory = DidDirectory.build(flow.campaigns.values())
    for conflict in flow.directory.conflicts:
        log.error("campaign configuration: %s", conflict)
    changes = flow.agents.set_members(members, names)
    for name in sorted(created):
        flow._log_row(records.created_queue(local_time(now), name))
    for member in changes.added:
        flow._log_row(records.add_member(local_time(now), member.campaign, member.agent, member.paused))
    for member in changes.removed:
        flow._log_row(records.remove_member(local_time(now), member.campaign, member.agent))
    flow.loaded = True
    log.info(
        "loaded %d campaigns (%d DIDs) and %d members",
        len(campaigns),
        len(flow.directory.by_did),
        len(members),
    )
    live_status.publish_agent_changes(flow)
    offering.dispatch(flow)
    return {
        "campaigns": sorted(c.name for c in campaigns),
        "added": [_member_text(m) for m in changes.added],
        "removed": [_member_text(m) for m in changes.removed],
    }


def _member_text(member: MemberConfig) -> str:
    return f"{member.campaign}/{member.agent}"

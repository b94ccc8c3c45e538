"""Reading campaigns, their members and their holidays from the database into the domain's configs."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import Campaign, CampaignMember, Holiday
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.acd.schedule import FixedHolidays
from stasis_app.inbound.ports import CampaignLoader

#: ``holidays.campaign`` of a date that closes every campaign.
EVERY_CAMPAIGN = ""


def holidays_by_campaign(
    rows: Iterable[tuple[date, str]], campaigns: Iterable[str]
) -> dict[str, FixedHolidays]:
    """Each campaign's closed dates: its own rows plus the rows for every campaign."""
    shared: set[date] = set()
    own: dict[str, set[date]] = {}
    for day, campaign in rows:
        if campaign == EVERY_CAMPAIGN:
            shared.add(day)
        else:
            own.setdefault(campaign, set()).add(day)
    return {name: FixedHolidays(frozenset(shared | own.get(name, set()))) for name in campaigns}


def read_campaigns(
    session_factory: sessionmaker[Session], names: list[str] | None = None
) -> tuple[list[CampaignConfig], list[MemberConfig]]:
    """Campaign and member rows (all, or those of ``names``) as configs, with their holidays; blocking."""
    with session_factory() as session:
        campaigns_query = select(Campaign).order_by(Campaign.name)
        members_query = select(CampaignMember).order_by(CampaignMember.uniqueid)
        holidays_query = select(Holiday.day, Holiday.campaign)
        if names is not None:
            campaigns_query = campaigns_query.where(Campaign.name.in_(names))
            members_query = members_query.where(CampaignMember.queue_name.in_(names))
            holidays_query = holidays_query.where(Holiday.campaign.in_([*names, EVERY_CAMPAIGN]))
        campaigns = [CampaignConfig.from_row(row) for row in session.scalars(campaigns_query)]
        members = [MemberConfig.from_row(row) for row in session.scalars(members_query)]
        closed = holidays_by_campaign(
            ((row.day, row.campaign) for row in session.execute(holidays_query)),
            (c.name for c in campaigns),
        )
    campaigns = [
        dataclasses.replace(c, holidays=closed[c.name]) if closed[c.name].dates else c for c in campaigns
    ]
    return campaigns, members


def database_loader(session_factory: sessionmaker[Session]) -> CampaignLoader:
    """A loader that reads the database in a worker thread, off the event loop."""

    async def load(names: list[str] | None) -> tuple[list[CampaignConfig], list[MemberConfig]]:
        return await asyncio.to_thread(read_campaigns, session_factory, names)

    return load

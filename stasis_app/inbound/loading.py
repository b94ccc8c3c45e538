"""Reading campaigns and their members from the database into the domain's plain configs."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from datastore.models import Campaign, CampaignMember
from stasis_app.acd.campaigns import CampaignConfig, MemberConfig
from stasis_app.inbound.ports import CampaignLoader


def read_campaigns(
    session_factory: sessionmaker[Session], names: list[str] | None = None
) -> tuple[list[CampaignConfig], list[MemberConfig]]:
    """Campaign and member rows (all, or those of ``names``) as configs; blocking."""
    with session_factory() as session:
        campaigns_query = select(Campaign).order_by(Campaign.name)
        members_query = select(CampaignMember).order_by(CampaignMember.uniqueid)
        if names is not None:
            campaigns_query = campaigns_query.where(Campaign.name.in_(names))
            members_query = members_query.where(CampaignMember.queue_name.in_(names))
        campaigns = [CampaignConfig.from_row(row) for row in session.scalars(campaigns_query)]
        members = [MemberConfig.from_row(row) for row in session.scalars(members_query)]
    return campaigns, members


def database_loader(session_factory: sessionmaker[Session]) -> CampaignLoader:
    """A loader that reads the database in a worker thread, off the event loop."""

    async def load(names: list[str] | None) -> tuple[list[CampaignConfig], list[MemberConfig]]:
        return await asyncio.to_thread(read_campaigns, session_factory, names)

    return load

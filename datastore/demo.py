"""Demo data for the one-command embedded start: one inbound campaign, three agents, an admin.

Loading is idempotent: rows that already exist (matched by their natural keys) are left as they
are, so a restart neither duplicates them nor undoes changes made through the admin API.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from datastore.models import (
    PHONE_CONTEXT,
    Campaign,
    CampaignMember,
    PsAor,
    PsAuth,
    PsEndpoint,
    User,
    sip_phone_rows,
)
from datastore.passwords import hash_password

DEMO_CAMPAIGN = "Sales"
DEMO_DIDS = ("2000", "2001")
DEMO_AGENT_PASSWORD = "demo"
DEMO_ADMIN = ("admin", "admin")


@dataclass(frozen=True)
class DemoAgent:
    """One demo agent: username, full name and phone extension."""

    username: str
    fullname: str
    phone: str

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.phone}"


DEMO_AGENTS: tuple[DemoAgent, ...] = (
    DemoAgent("agent1", "Agent One", "1001"),
    DemoAgent("agent2", "Agent Two", "1002"),
    DemoAgent("agent3", "Agent Three", "1003"),
)


def load_demo_data(session: Session) -> None:
    """Add the demo rows that are missing and flush; the caller commits."""
    campaign = session.get(Campaign, DEMO_CAMPAIGN)
    if campaign is None:
        campaign = Campaign(
            name=DEMO_CAMPAIGN,
            did="&".join(DEMO_DIDS),
            direction="inbound",
            strategy="rrmemory",
            timeout=15,
            retry=1,
            schedule="sun-sat;00:00-23:59",
            welcome="hello-world",
            outofhours="vm-goodbye",
            musiconhold="default",
            servicelevel=20,
            language="en",
        )
        session.add(campaign)

    for agent in DEMO_AGENTS:
        _ensure_user(
            session, agent.username, agent.fullname, DEMO_AGENT_PASSWORD, role="agent", phone=agent.phone
        )
        _ensure_phone(session, agent.phone, DEMO_AGENT_PASSWORD)
        _ensure_member(session, DEMO_CAMPAIGN, agent)

    admin_name, admin_password = DEMO_ADMIN
    _ensure_user(session, admin_name, "Administrator", admin_password, role="administrative", phone=None)
    session.flush()


def _ensure_user(
    session: Session, username: str, fullname: str, password: str, *, role: str, phone: str | None
) -> None:
    if session.scalars(select(User).where(User.username == username)).one_or_none() is not None:
        return
    session.add(
        User(
            username=username,
            fullname=fullname,
            password_hash=hash_password(password),
            role=role,
            phone=phone,
            email="",
            active=True,
        )
    )


def _ensure_phone(session: Session, extension: str, password: str) -> None:
    endpoint, auth, aor = sip_phone_rows(
        extension, password, context=PHONE_CONTEXT, callerid=f'"{extension}" <{extension}>'
    )
    for row, model in ((endpoint, PsEndpoint), (auth, PsAuth), (aor, PsAor)):
        if session.get(model, extension) is None:
            session.add(row)


def _ensure_member(session: Session, campaign: str, agent: DemoAgent) -> None:
    existing = session.scalars(
        select(CampaignMember).where(
            CampaignMember.queue_name == campaign, CampaignMember.interface == agent.interface
        )
    ).one_or_none()
    if existing is None:
        session.add(
            CampaignMember(
                queue_name=campaign,
                interface=agent.interface,
                membername=agent.username,
                penalty=0,
                paused=0,
            )
        )

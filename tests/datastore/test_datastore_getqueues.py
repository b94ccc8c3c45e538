"""Campaign.to_getqueues() answers with the seed's getqueues object: same keys, order and types."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from datastore.models import Campaign

# The seed's example campaign (12-apis.md, "Get Campaigns"), key by key in the seed's order.
SEED_EXAMPLE: dict[str, Any] = {
    "name": "DEMO007->",
    "musiconhold": "default",
    "announce": "",
    "context": "",
    "timeout": 15,
    "monitorType": "MixMonitor",
    "monitorFormat": "gsm",
    "announceFrequency": 0,
    "announceRoundSeconds": 0,
    "announceHoldtime": "no",
    "announcePosition": "no",
    "retry": 3,
    "wrapuptime": 0,
    "maxlen": 100,
    "servicelevel": 15,
    "strategy": "linear",
    "joinempty": "yes",
    "leavewhenempty": "no",
    "eventmemberstatus": False,
    "eventwhencalled": True,
    "reportholdtime": False,
    "memberdelay": 0,
    "weight": 0,
    "timeoutrestart": True,
    "ringinuse": False,
    "setinterfacevar": True,
    "periodicAnnounce": "",
    "periodicAnnounceFrequency": "0",
    "did": "18885751288",
    "direction": "outbound",
    "interactions": "",
    "email": "",
    "thresholds": "40-80-20-50-60-180-300-6-3-",
    "welcome": "& & & &;& & & &",
    "schedule": "sun-sat;00:00-23:59",
    "form": "Totality|true",
    "quality": "",
    "dialstring": "SIP/CLEVERSIP/9898",
    "voicemail": "",
    "queue_survey": 1,
    "queue_timeout": 600,
    "auto_answer": "FALSE",
    "show_dispositions": 1,
    "queue_breaks": "",
    "screen_recording": 0,
    "language": "en",
    "transferCampaigns": "",
}


def _seed_campaign() -> Campaign:
    return Campaign(
        name="DEMO007->",
        musiconhold="default",
        timeout=15,
        monitor_type="MixMonitor",
        monitor_format="gsm",
        retry=3,
        maxlen=100,
        servicelevel=15,
        strategy="linear",
        joinempty="yes",
        leavewhenempty="no",
        eventmemberstatus=False,
        eventwhencalled=True,
        reportholdtime=False,
        timeoutrestart=True,
        ringinuse=False,
        setinterfacevar=True,
        did="18885751288",
        direction="outbound",
        thresholds="40-80-20-50-60-180-300-6-3-",
        welcome="& & & &;& & & &",
        schedule="sun-sat;00:00-23:59",
        form="Totality|true",
        dialstring="SIP/CLEVERSIP/9898",
        queue_survey=1,
        queue_timeout=600,
        auto_answer=False,
        show_dispositions=1,
        screen_recording=0,
        language="en",
    )


def _shape(document: dict[str, Any]) -> list[tuple[str, type]]:
    return [(key, type(value)) for key, value in document.items()]


def test_seed_campaign_reads_back_as_the_seed_example(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(_seed_campaign())
        session.commit()
    with sessions() as session:
        loaded = session.get(Campaign, "DEMO007->")
        assert loaded is not None
        document = loaded.to_getqueues()
    assert document == SEED_EXAMPLE
    assert _shape(document) == _shape(SEED_EXAMPLE)


def test_defaults_already_have_the_seed_shape(sessions: sessionmaker[Session]) -> None:
    """A campaign created with a name only still answers with every key and the seed's types."""
    with sessions() as session:
        session.add(Campaign(name="Bare"))
        session.commit()
    with sessions() as session:
        loaded = session.get(Campaign, "Bare")
        assert loaded is not None
        assert _shape(loaded.to_getqueues()) == _shape(SEED_EXAMPLE)


def test_auto_answer_and_frequencies_use_the_seed_spelling() -> None:
    campaign = _seed_campaign()
    campaign.auto_answer = True
    campaign.periodic_announce_frequency = 45
    campaign.transfer_campaigns = "Support&Billing"
    document = campaign.to_getqueues()
    assert document["auto_answer"] == "TRUE"
    assert document["periodicAnnounceFrequency"] == "45"
    assert document["transferCampaigns"] == "Support&Billing"


def test_dids_are_split_on_ampersands() -> None:
    assert Campaign(name="x", did="2000&2001& 2002 &").dids() == ["2000", "2001", "2002"]
    assert Campaign(name="y", did="").dids() == []

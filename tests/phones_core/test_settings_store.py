"""The settings store on MariaDB: write-through updates, the directory, pickup groups, dial strings."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import Session

from datastore.database import make_engine, session_factory
from datastore.models import PhoneFeatures, PsEndpoint
from stasis_app.phones.classes import CallClass
from stasis_app.phones.services import PhoneServices, PhoneSettings
from stasis_app.phones.settings_store import PhoneSettingsStore


async def test_updates_are_written_and_reloaded(mariadb_url: str) -> None:
    engine = make_engine(mariadb_url)
    factory = session_factory(engine)
    with Session(engine) as session:
        session.execute(delete(PhoneFeatures))
        session.add(
            PhoneFeatures(extension="301", pickup_group="ops", call_classes="internal,local,cellular")
        )
        session.add(PhoneFeatures(extension="302", pickup_group="ops"))
        session.add(PsEndpoint(id="303"))
        session.add(PsEndpoint(id="carrier1"))
        session.commit()
    store = PhoneSettingsStore(factory)
    await store.load()
    assert {"301", "302", "303"} <= store.directory() and "carrier1" not in store.directory()
    assert store.get("301").call_classes == frozenset(
        {CallClass.INTERNAL, CallClass.LOCAL, CallClass.CELLULAR}
    )
    assert store.in_group("ops") == ["301", "302"] and store.in_group("") == []

    await store.update("303", dnd=True, forward_busy="301", call_classes="internal")
    again = PhoneSettingsStore(factory)
    await again.load()
    assert again.get("303").dnd is True
    assert again.get("303").forward_busy == "301"
    assert again.get("303").call_classes == frozenset({CallClass.INTERNAL})
    with pytest.raises(ValueError, match="not phone settings"):
        await store.update("303", password="x")

    services = PhoneServices(PhoneSettings(trunk_dial="PJSIP/{number}@carrier1"), again)
    assert services.dial_string("302") == "PJSIP/302"
    assert services.dial_string("93001234567", on_behalf_of="301") == "PJSIP/3001234567@carrier1"
    assert services.dial_string("93001234567", on_behalf_of="302") is None
    assert services.dial_string("999") is None
    await again.update("302", forward_all="94013864")
    assert services.campaign_forward("302", campaign_allows=True) == "PJSIP/4013864@carrier1"
    assert services.campaign_forward("302", campaign_allows=False) is None
    with Session(engine) as session:
        session.execute(delete(PsEndpoint))
        session.commit()
    engine.dispose()

"""Settings read from the environment."""

from __future__ import annotations

import pytest

from stasis_app.settings import AriSettings, Settings


def test_defaults_match_a_stock_local_asterisk() -> None:
    ari = AriSettings.from_env({})
    assert (ari.url, ari.username, ari.password, ari.app) == (
        "http://127.0.0.1:8088",
        "asterisk",
        "asterisk",
        "opencontact",
    )
    assert ari.backoff.initial > 0 and ari.backoff.maximum >= ari.backoff.initial


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "OC_ARI_URL": "http://pbx.example:8089",
            "OC_ARI_USERNAME": "oc",
            "OC_ARI_PASSWORD": "s3cret&x",
            "OC_ARI_APP": "oc-test",
            "OC_ARI_RECONNECT_INITIAL": "0.1",
            "OC_ARI_RECONNECT_MAX": "4",
            "OC_ARI_SUBSCRIBE_ALL": "yes",
        }
    )
    ari = settings.ari
    assert ari.url == "http://pbx.example:8089"
    assert (ari.username, ari.password, ari.app) == ("oc", "s3cret&x", "oc-test")
    assert ari.backoff.initial == 0.1 and ari.backoff.maximum == 4.0
    assert ari.subscribe_all is True


def test_bad_numbers_are_refused_with_the_variable_name() -> None:
    with pytest.raises(ValueError, match="OC_ARI_RECONNECT_MAX"):
        AriSettings.from_env({"OC_ARI_RECONNECT_MAX": "soon"})

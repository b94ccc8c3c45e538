"""Campaign rows read into configs, and DIDs matched to campaigns."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stasis_app.acd.campaigns import (
    CampaignConfig,
    DidDirectory,
    MemberConfig,
    media_list,
    split_dids,
    welcome_and_out_of_hours,
)


def test_dids_joined_by_ampersand() -> None:
    assert split_dids("2000&2001") == ("2000", "2001")
    assert split_dids(" 2000 & & 2001&2000 ") == ("2000", "2001")
    assert split_dids("") == ()


def test_directory_matches_every_did_of_a_campaign_and_plus_forms() -> None:
    sales = CampaignConfig.from_row({"name": "Sales", "did": "2000&2001&+5982000"})
    support = CampaignConfig.from_row({"name": "Support", "did": "3000"})
    directory = DidDirectory.build([sales, support])
    assert directory.match("2001") is sales
    assert directory.match("2000") is sales
    assert directory.match("5982000") is sales
    assert directory.match("+3000") is support
    assert directory.match("4000") is None
    assert directory.match("") is None


def test_outbound_campaigns_and_duplicates() -> None:
    outbound = CampaignConfig.from_row({"name": "Out", "did": "2000", "direction": "outbound"})
    first = CampaignConfig.from_row({"name": "A", "did": "2000"})
    second = CampaignConfig.from_row({"name": "B", "did": "2000&2002"})
    directory = DidDirectory.build([outbound, second, first])
    assert directory.match("2000") is first
    assert directory.match("2002") is second
    assert directory.conflicts == ("DID 2000 is claimed by 'A' and 'B'",)


def test_row_fields_and_defaults() -> None:
    config = CampaignConfig.from_row(
        {
            "name": "Sales",
            "timeout": "20",
            "retry": None,
            "wrapuptime": 5,
            "musiconhold": "",
            "welcome": "hello-world&beep;vm-goodbye",
            "voicemail": "1234",
            "schedule": "not a schedule",
        }
    )
    assert (config.ring_timeout, config.retry, config.wrapuptime, config.musiconhold) == (20, 5, 5, "default")
    assert config.welcome == ("sound:hello-world", "sound:beep")
    assert config.out_of_hours == ("sound:vm-goodbye",)
    assert config.voicemail == "1234"
    assert config.schedule.always_open  # unreadable: open, and logged
    own = CampaignConfig.from_row({"name": "x", "welcome": "a", "outofhours": "closed-msg"})
    assert own.out_of_hours == ("sound:closed-msg",)


def test_seed_welcome_placeholder_means_no_audio() -> None:
    assert welcome_and_out_of_hours("& & & &;& & & &") == ((), ())
    assert media_list("recording:greeting&tone:ring") == ("recording:greeting", "tone:ring")


def test_member_row() -> None:
    member = MemberConfig.from_row(
        {"queue_name": "Sales", "interface": "PJSIP/1001", "membername": "agent1", "paused": 1}
    )
    assert member == MemberConfig("Sales", "agent1", "PJSIP/1001", 0, True)


@given(st.lists(st.from_regex(r"\+?[0-9]{3,12}", fullmatch=True), min_size=1, max_size=6, unique=True))
def test_any_did_of_the_list_finds_the_campaign(dids: list[str]) -> None:
    campaign = CampaignConfig.from_row({"name": "C", "did": "&".join(dids)})
    directory = DidDirectory.build([campaign])
    assert all(directory.match(did) is campaign for did in dids)

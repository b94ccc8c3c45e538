"""parse_dialed: every code of the product manual, configurable codes, and ambiguous prefixes."""

from __future__ import annotations

import pytest

from stasis_app.phones.classes import CallClass
from stasis_app.phones.codes import (
    CallExtension,
    CallExternal,
    CancelRecall,
    ConferenceRoom,
    ExternalWithRecall,
    Feature,
    FeatureCodes,
    FeatureToggle,
    Intent,
    Invalid,
    ParkedCall,
    Pickup,
    SayExtension,
    SayStatus,
    ToggleRecording,
    VoicemailCheck,
    VoicemailDeleteAll,
    parse_dialed,
)

CODES = FeatureCodes()
DIRECTORY = frozenset({"100", "201", "205", "214", "800", "901"})


@pytest.mark.parametrize(
    ("dialed", "intent"),
    [
        ("205", CallExtension("205")),
        ("205#", CallExtension("205")),
        ("901", CallExtension("901")),
        ("94013864", CallExternal("4013864", CallClass.LOCAL)),
        ("916", CallExternal("16", CallClass.LOCAL)),
        ("93001234567", CallExternal("3001234567", CallClass.CELLULAR)),
        ("90014155550100", CallExternal("0014155550100", CallClass.INTERNATIONAL)),
        ("9+14155550100", CallExternal("+14155550100", CallClass.INTERNATIONAL)),
        ("955", CallExternal("55", None)),
        ("*8", Pickup()),
        ("*100", Pickup("100")),
        ("*800", Pickup("800")),
        ("*72214", FeatureToggle(Feature.FORWARD_ALL, True, "214")),
        ("*7294013864", FeatureToggle(Feature.FORWARD_ALL, True, "94013864")),
        ("*73", FeatureToggle(Feature.FORWARD_ALL, False)),
        ("*62214", FeatureToggle(Feature.FORWARD_BUSY, True, "214")),
        ("*63", FeatureToggle(Feature.FORWARD_BUSY, False)),
        ("*64214#", FeatureToggle(Feature.FORWARD_NOANSWER, True, "214")),
        ("*65", FeatureToggle(Feature.FORWARD_NOANSWER, False)),
        ("*78", FeatureToggle(Feature.DND, True)),
        ("*79", FeatureToggle(Feature.DND, False)),
        ("*91", FeatureToggle(Feature.VOICEMAIL, True)),
        ("*92", FeatureToggle(Feature.VOICEMAIL, False)),
        ("*66", VoicemailCheck()),
        ("*66205", VoicemailCheck("205")),
        ("*67", VoicemailDeleteAll()),
        ("*50", SayStatus()),
        ("*75", SayExtension()),
        ("*88", ToggleRecording()),
        ("*2594013864", ExternalWithRecall("4013864", CallClass.LOCAL)),
        ("*2594013864#", ExternalWithRecall("4013864", CallClass.LOCAL)),
        ("*2593001234567", ExternalWithRecall("3001234567", CallClass.CELLULAR)),
        ("*25955", ExternalWithRecall("55", None)),
        ("*25", CancelRecall()),
        ("*25205", Invalid("recall-needs-external-number", "*25205")),
        ("555100", ConferenceRoom("100")),
        ("701", ParkedCall(701)),
        ("720", ParkedCall(720)),
        ("721", Invalid("unknown-extension", "721")),
        ("299", Invalid("unknown-extension", "299")),
        ("*72", Invalid("missing-forward-target", "*72")),
        ("*72299", Invalid("unknown-forward-target", "*72299")),
        ("*7255", Invalid("unknown-forward-target", "*7255")),
        ("*66299", Invalid("unknown-extension", "*66299")),
        ("#", Invalid("unknown-extension", "#")),
        ("", Invalid("empty", "")),
    ],
)
def test_default_codes(dialed: str, intent: Intent) -> None:
    assert parse_dialed(dialed, CODES, DIRECTORY) == intent


def test_codes_are_configurable() -> None:
    codes = FeatureCodes(dnd_on="*55", pickup_group="**", external_prefix="0", conference_prefix="77")
    assert parse_dialed("*55", codes, DIRECTORY) == FeatureToggle(Feature.DND, True)
    assert parse_dialed("**", codes, DIRECTORY) == Pickup()
    assert parse_dialed("04013864", codes, DIRECTORY) == CallExternal("4013864", CallClass.LOCAL)
    assert parse_dialed("77123", codes, DIRECTORY) == ConferenceRoom("123")
    assert parse_dialed("*78", codes, DIRECTORY) == Invalid("unknown-extension", "*78")


def test_recall_codes_are_configurable_and_may_differ() -> None:
    codes = FeatureCodes(external_recall="*41", recall_cancel="*42")
    assert parse_dialed("*4194013864", codes, DIRECTORY) == ExternalWithRecall("4013864", CallClass.LOCAL)
    assert parse_dialed("*42", codes, DIRECTORY) == CancelRecall()
    assert parse_dialed("*41", codes, DIRECTORY) == Invalid("unknown-extension", "*41")
    assert parse_dialed("*25", codes, DIRECTORY) == Invalid("unknown-extension", "*25")


def test_an_extension_equal_to_a_code_prefix_still_works() -> None:
    assert parse_dialed("*8", CODES, frozenset({"8"})) == Pickup()
    assert parse_dialed("*88", CODES, frozenset({"88"})) == ToggleRecording()


def test_empty_codes_are_refused() -> None:
    with pytest.raises(ValueError, match="dnd_on"):
        FeatureCodes(dnd_on="")
    with pytest.raises(ValueError, match="park"):
        FeatureCodes(park_first_slot=710, park_last_slot=700)

"""Protocol track → safety rules (dose rule and pre-dose requirements)."""

from __future__ import annotations

import pytest

from trellis.core.protocols import list_protocols, load_protocol
from trellis.core.safety import (
    ESKETAMINE_MDD_SI,
    ESKETAMINE_TRD,
    compute_dose,
    dose_rule_from_protocol,
    track_requirements_from_protocol,
)


def test_esketamine_trd_track_matches_label_rule() -> None:
    assert dose_rule_from_protocol(load_protocol("esketamine-trd")) == ESKETAMINE_TRD


def test_esketamine_suicidal_track_matches_label_rule() -> None:
    assert dose_rule_from_protocol(load_protocol("esketamine-suicidal")) == ESKETAMINE_MDD_SI


def test_iv_trd_track() -> None:
    rule = dose_rule_from_protocol(load_protocol("iv-trd"))
    assert (rule.drug, rule.route, rule.mg_per_kg, rule.infusion_minutes) == (
        "ketamine",
        "iv",
        0.5,
        40,
    )
    assert compute_dose(rule, weight_kg=80).mg == 40.0


@pytest.mark.parametrize("protocol", list_protocols(), ids=lambda p: p.id)
def test_every_packaged_track_converts_and_doses(protocol: object) -> None:
    rule = dose_rule_from_protocol(protocol)  # type: ignore[arg-type]
    track = track_requirements_from_protocol(protocol)  # type: ignore[arg-type]
    assert (track.drug, track.route) == (rule.drug, rule.route)
    if rule.drug == "ketamine":
        assert track.needs_weight
        assert not track.needs_fasting
        assert compute_dose(rule, weight_kg=70, age=40).mg > 0
    else:
        assert track.needs_fasting
        assert compute_dose(rule, age=40, dose_number=1).devices in (2, 3)


def test_pregnancy_asked_where_track_screens_for_it() -> None:
    iv = track_requirements_from_protocol(load_protocol("iv-trd"))
    assert (iv.asks_pregnancy, iv.pregnancy_excludes) == (True, True)  # hard item
    esk = track_requirements_from_protocol(load_protocol("esketamine-trd"))
    assert (esk.asks_pregnancy, esk.pregnancy_excludes) == (True, False)  # review item

"""Discharge readiness (CLINICAL.md §5; REMS minimum observation §4)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.safety import (
    DISCHARGE_CRITERIA,
    DischargeInputs,
    SafetyThresholds,
    discharge_readiness,
)

T0 = datetime(2026, 3, 2, 9, 0)


def ready_esketamine(**changes: Any) -> DischargeInputs:
    base = DischargeInputs(
        drug="esketamine",
        first_administration=T0,
        now=T0 + timedelta(minutes=125),
        moaas=5,
        predose_bp=(130, 80),
        last_bp=(134, 84),
        spo2=97,
        sedation_resolved=True,
        dissociation_resolved=True,
        respiratory_depression_resolved=True,
        open_adverse_events=0,
        ride_confirmed=True,
        bp_at_40_min=(142, 88),
    )
    return replace(base, **changes)


def ready_ketamine(**changes: Any) -> DischargeInputs:
    return replace(
        ready_esketamine(drug="ketamine", infusion_end=T0 + timedelta(minutes=40)), **changes
    )


def unmet(inputs: DischargeInputs, thresholds: SafetyThresholds | None = None) -> list[str]:
    result = (
        discharge_readiness(inputs)
        if thresholds is None
        else discharge_readiness(inputs, thresholds)
    )
    assert result.ready == (not result.unmet)
    return list(result.unmet)


def test_all_met_is_ready() -> None:
    assert discharge_readiness(ready_esketamine()).ready
    assert discharge_readiness(ready_ketamine()).ready


@pytest.mark.parametrize(
    ("change", "criterion"),
    [
        ({"now": T0 + timedelta(minutes=119)}, "minimum_observation"),
        ({"moaas": 4}, "moaas"),
        ({"last_bp": (180, 90)}, "bp_below_alert"),
        ({"spo2": 93}, "spo2"),
        ({"sedation_resolved": False}, "sedation_resolved"),
        ({"dissociation_resolved": False}, "dissociation_resolved"),
        ({"respiratory_depression_resolved": False}, "respiratory_depression_resolved"),
        ({"open_adverse_events": 1}, "open_adverse_events"),
        ({"ride_confirmed": False}, "ride_confirmed"),
        ({"last_bp": (157, 80)}, "bp_within_20_percent"),
    ],
)
def test_each_criterion_alone_unmet(change: dict[str, Any], criterion: str) -> None:
    inputs = ready_esketamine(**change)
    if criterion == "bp_below_alert":
        # 180/90 vs pre-dose 180/90: within 20 %, only the alert threshold fails
        inputs = replace(inputs, predose_bp=(175, 90))
    assert unmet(inputs) == [criterion]


def test_bp_below_alert_diastolic_alone() -> None:
    assert unmet(ready_esketamine(predose_bp=(150, 100), last_bp=(150, 110))) == ["bp_below_alert"]
    assert unmet(ready_esketamine(predose_bp=(150, 100), last_bp=(150, 109))) == []


def test_all_unmet_listed_in_stable_order() -> None:
    worst = ready_esketamine(
        now=T0,
        moaas=2,
        last_bp=(200, 120),
        spo2=90,
        sedation_resolved=False,
        dissociation_resolved=False,
        respiratory_depression_resolved=False,
        open_adverse_events=3,
        ride_confirmed=False,
        bp_at_40_min=None,
    )
    assert unmet(worst) == list(DISCHARGE_CRITERIA)


@pytest.mark.parametrize(
    ("minutes", "ready"), [(119, False), (119.99, False), (120, True), (121, True)]
)
def test_esketamine_minimum_observation_from_first_device(minutes: float, ready: bool) -> None:
    inputs = ready_esketamine(now=T0 + timedelta(minutes=minutes))
    assert ("minimum_observation" not in unmet(inputs)) is ready


@pytest.mark.parametrize(("minutes", "ready"), [(99, False), (100, True)])
def test_ketamine_minimum_observation_after_infusion_end(minutes: int, ready: bool) -> None:
    # infusion 0–40 min; ready 60 min after its end (100 min after start)
    inputs = ready_ketamine(now=T0 + timedelta(minutes=minutes))
    assert ("minimum_observation" not in unmet(inputs)) is ready


@pytest.mark.parametrize(
    ("predose", "last", "within"),
    [
        ((130, 80), (156, 80), True),  # +26 = exactly 20 % of 130
        ((130, 80), (157, 80), False),
        ((130, 80), (104, 80), True),  # −26: a fall counts too
        ((130, 80), (103, 80), False),
        ((130, 80), (130, 96), True),  # +16 = 20 % of 80
        ((130, 80), (130, 97), False),
        ((130, 80), (130, 63), False),
        ((125, 75), (150, 90), True),  # 25 and 15 exactly 20 %
    ],
)
def test_within_20_percent_boundaries(
    predose: tuple[int, int], last: tuple[int, int], within: bool
) -> None:
    result = unmet(ready_esketamine(predose_bp=predose, last_bp=last))
    assert ("bp_within_20_percent" not in result) is within


@settings(max_examples=200)
@given(
    pre_sys=st.integers(100, 170),
    pre_dia=st.integers(60, 95),
    d_sys=st.integers(-60, 60),
    d_dia=st.integers(-40, 40),
)
def test_within_20_percent_property(pre_sys: int, pre_dia: int, d_sys: int, d_dia: int) -> None:
    last = (pre_sys + d_sys, pre_dia + d_dia)
    assume(last[1] < last[0])
    result = unmet(ready_esketamine(predose_bp=(pre_sys, pre_dia), last_bp=last))
    expected = 5 * abs(d_sys) <= pre_sys and 5 * abs(d_dia) <= pre_dia
    assert ("bp_within_20_percent" not in result) is expected


def test_configured_thresholds() -> None:
    t = SafetyThresholds.from_mapping(
        {"discharge_spo2_min": 95, "esketamine_min_observation_min": 150}
    )
    assert unmet(ready_esketamine(spo2=94), t) == ["minimum_observation", "spo2"]


def test_details_explain_each_unmet() -> None:
    result = discharge_readiness(ready_esketamine(spo2=93, now=T0 + timedelta(minutes=90)))
    data = result.to_dict()
    assert data["ready"] is False
    assert data["unmet"] == ["minimum_observation", "spo2"]
    assert data["details"]["minimum_observation"] == "90 min since first device; needs ≥ 120 min"
    assert data["details"]["spo2"] == "SpO2 93; needs ≥ 94"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: ready_esketamine(drug="ketamine"), "infusion_end"),
        (lambda: ready_esketamine(now=T0 - timedelta(minutes=1)), "now"),
        (lambda: ready_ketamine(infusion_end=T0 - timedelta(minutes=1)), "infusion_end"),
        (lambda: ready_ketamine(now=T0 + timedelta(minutes=30)), "now"),
        (lambda: ready_esketamine(now=T0.replace(tzinfo=UTC) + timedelta(hours=3)), "now"),
        (lambda: ready_esketamine(moaas=6), "moaas"),
        (lambda: ready_esketamine(spo2=101), "spo2"),
        (lambda: ready_esketamine(last_bp=(80, 90)), "last_bp"),
        (lambda: ready_esketamine(ride_confirmed=None), "ride_confirmed"),
        (lambda: ready_esketamine(open_adverse_events=-1), "open_adverse_events"),
        (lambda: ready_esketamine(drug="psilocybin"), "drug"),
    ],
)
def test_inputs_refuse_bad_values(make: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        make()
    assert info.value.field == field


# --- from JSON --------------------------------------------------------------------------------


def payload(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "drug": "esketamine",
        "first_administration": "2026-03-02T09:00:00",
        "now": "2026-03-02T11:05:00",
        "moaas": 5,
        "predose_bp": [130, 80],
        "last_bp": [134, 84],
        "spo2": 97,
        "sedation_resolved": True,
        "dissociation_resolved": True,
        "respiratory_depression_resolved": True,
        "open_adverse_events": 0,
        "ride_confirmed": True,
        "bp_at_40_min": [140, 88],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def test_from_mapping_ready() -> None:
    assert discharge_readiness(DischargeInputs.from_mapping(payload())).ready


def test_from_mapping_aware_times_compare_across_offsets() -> None:
    data = payload(first_administration="2026-03-02T09:00:00Z", now="2026-03-02T06:05:00-05:00")
    # 06:05 at −05:00 is 11:05 UTC: 125 min after 09:00 UTC
    assert discharge_readiness(DischargeInputs.from_mapping(data)).ready


@pytest.mark.parametrize(("value", "open_"), [(0, False), (2, True), (False, False), (True, True)])
def test_open_adverse_events_count_or_boolean(value: object, open_: bool) -> None:
    result = discharge_readiness(DischargeInputs.from_mapping(payload(open_adverse_events=value)))
    assert ("open_adverse_events" in result.unmet) is open_


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"moaas": ...}, "moaas", "is required"),
        ({"drug": ..., "spo2": ...}, "drug", "missing: drug, spo2"),
        ({"drug": "ketamine"}, "infusion_end", "required for ketamine"),
        ({"predose_bp": 130}, "predose_bp", "must be [systolic, diastolic]"),
        ({"predose_bp": [130]}, "predose_bp", "must be [systolic, diastolic]"),
        ({"last_bp": ["130", 80]}, "last_bp[0] (systolic)", "whole number"),
        ({"now": "11:05"}, "now", "ISO 8601"),
        ({"now": "2026-03-02T11:05:00Z"}, "now", "offset"),
        ({"open_adverse_events": 1.5}, "open_adverse_events", "count"),
        ({"open_adverse_events": "none"}, "open_adverse_events", "count"),
        ({"sedation_resolved": "yes"}, "sedation_resolved", "true or false"),
        ({"extra": 1}, "input.extra", "unknown setting"),
        ({"moaas": None}, "moaas", "null"),
    ],
)
def test_from_mapping_refuses(changes: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        DischargeInputs.from_mapping(payload(**changes))
    assert info.value.field == field
    assert fragment in info.value.detail


def test_from_mapping_refuses_non_object() -> None:
    with pytest.raises(InvalidInput) as info:
        DischargeInputs.from_mapping([1, 2])  # type: ignore[arg-type]
    assert info.value.field == "input"


def test_respiratory_depression_is_required_like_sedation_and_dissociation() -> None:
    """Issue 18 contract: the discharge input takes ``respiratory_depression_resolved``
    (required, true/false), as the REMS form asks whether it resolved (CLINICAL.md §4-5)."""
    with pytest.raises(InvalidInput) as info:
        DischargeInputs.from_mapping(payload(respiratory_depression_resolved=...))
    assert info.value.field == "respiratory_depression_resolved"
    with pytest.raises(InvalidInput) as info:
        DischargeInputs.from_mapping(payload(respiratory_depression_resolved="yes"))
    assert info.value.field == "respiratory_depression_resolved"
    result = discharge_readiness(
        DischargeInputs.from_mapping(payload(respiratory_depression_resolved=False))
    )
    assert result.unmet == ("respiratory_depression_resolved",)


def test_esketamine_without_bp_at_40_min_is_not_ready() -> None:
    """Spravato label (CLINICAL.md §4): BP before, ~40 min after and before discharge."""
    result = discharge_readiness(ready_esketamine(bp_at_40_min=None))
    assert not result.ready
    assert list(result.unmet) == ["bp_at_40_min"]
    assert "40 min" in result.details[0]
    # IV ketamine has no such label requirement.
    assert discharge_readiness(ready_ketamine(bp_at_40_min=None)).ready


def test_from_mapping_bp_at_40_min() -> None:
    data = payload()
    data.pop("bp_at_40_min", None)
    assert discharge_readiness(DischargeInputs.from_mapping(data)).unmet == ("bp_at_40_min",)
    assert discharge_readiness(
        DischargeInputs.from_mapping({**data, "bp_at_40_min": [150, 90]})
    ).ready
    with pytest.raises(InvalidInput) as err:
        DischargeInputs.from_mapping({**data, "bp_at_40_min": [90, 150]})
    assert err.value.field == "bp_at_40_min"

"""SafetyThresholds: CLINICAL.md §5 defaults and validated program overrides."""

from __future__ import annotations

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.safety import DEFAULT_THRESHOLDS, SafetyThresholds


def test_defaults_are_clinical_section_5() -> None:
    t = DEFAULT_THRESHOLDS
    assert (t.predose_systolic_hold, t.predose_diastolic_hold) == (140, 90)
    assert (t.alert_systolic, t.alert_diastolic) == (180, 110)
    assert (t.alert_heart_rate_high, t.alert_heart_rate_low) == (110, 50)
    assert (t.alert_spo2_low, t.alert_moaas_at_or_below) == (92, 3)
    assert (t.discharge_spo2_min, t.discharge_moaas) == (94, 5)
    assert t.discharge_bp_change_fraction == 0.2
    assert (t.esketamine_min_observation_min, t.ketamine_min_observation_min) == (120, 60)


def test_from_mapping_overrides_only_given_keys() -> None:
    t = SafetyThresholds.from_mapping({"predose_systolic_hold": 150, "discharge_spo2_min": 95})
    assert t.predose_systolic_hold == 150
    assert t.discharge_spo2_min == 95
    assert t.predose_diastolic_hold == 90


def test_from_mapping_empty_gives_defaults() -> None:
    assert SafetyThresholds.from_mapping({}) == DEFAULT_THRESHOLDS


@pytest.mark.parametrize(
    ("mapping", "field", "fragment"),
    [
        ({"predose_systolic_hol": 150}, "program.yaml.predose_systolic_hol", "unknown threshold"),
        ({"alert_systolic": "180"}, "program.yaml.alert_systolic", "whole number"),
        ({"alert_systolic": True}, "program.yaml.alert_systolic", "whole number"),
        ({"alert_spo2_low": 101}, "program.yaml.alert_spo2_low", "from 50 to 100"),
        ({"alert_moaas_at_or_below": 5.5}, "program.yaml.alert_moaas_at_or_below", "whole"),
        (
            {"predose_hold_on_pulse_and_spo2": 1},
            "program.yaml.predose_hold_on_pulse_and_spo2",
            "true or false",
        ),
        (
            {"discharge_bp_change_fraction": 0},
            "program.yaml.discharge_bp_change_fraction",
            "number",
        ),
        (
            {"predose_systolic_hold": 190},
            "program.yaml.predose_systolic_hold",
            "below alert_systolic",
        ),
        ({"alert_spo2_low": 95}, "program.yaml.alert_spo2_low", "below discharge_spo2_min"),
        ({"alert_heart_rate_low": 120}, "program.yaml.alert_heart_rate_low", "below"),
    ],
)
def test_from_mapping_refuses_bad_values(
    mapping: dict[str, object], field: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        SafetyThresholds.from_mapping(mapping, where="program.yaml")
    assert info.value.field == field
    assert fragment in info.value.detail


def test_from_mapping_refuses_non_mapping() -> None:
    with pytest.raises(InvalidInput) as info:
        SafetyThresholds.from_mapping([("alert_systolic", 170)])  # type: ignore[arg-type]
    assert info.value.field == "safety_thresholds"


def test_thresholds_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_THRESHOLDS.alert_systolic = 200  # type: ignore[misc]


def test_to_dict_round_trips() -> None:
    t = SafetyThresholds.from_mapping({"alert_systolic": 170})
    assert SafetyThresholds.from_mapping(t.to_dict()) == t


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        # Issue 18: the REMS 120 minutes could be lowered to anything above the 40-minute BP.
        ("esketamine_min_observation_min", 119, "legal floor of 120 (Spravato REMS"),
        ("esketamine_min_observation_min", 60, "legal floor of 120 (Spravato REMS"),
        ("esketamine_bp_check_min", 30, "Spravato label: blood pressure about 40 minutes"),
        ("esketamine_bp_check_min", 60, "Spravato label: blood pressure about 40 minutes"),
        ("vitals_early_window_min", 11, "legal limit of 10"),
    ],
)
def test_law_is_a_floor_not_a_setting(key: str, value: int, fragment: str) -> None:
    """CLINICAL.md §5: label/REMS rules may be raised, never lowered; the refusal names the
    rule and the setting."""
    with pytest.raises(InvalidInput) as info:
        SafetyThresholds.from_mapping({key: value}, where="thresholds.json")
    assert info.value.field == f"thresholds.json.{key}"
    assert fragment in info.value.detail


def test_law_floors_may_be_raised() -> None:
    t = SafetyThresholds.from_mapping(
        {"esketamine_min_observation_min": 150, "esketamine_bp_check_min": 40}
    )
    assert t.esketamine_min_observation_min == 150
    assert (
        SafetyThresholds.from_mapping({"vitals_early_window_min": 0}).vitals_early_window_min == 0
    )
    # ★ settings without a legal floor stay the medical director's choice (CLINICAL.md §5).
    assert SafetyThresholds.from_mapping({"ketamine_min_observation_min": 30})
    assert SafetyThresholds.from_mapping({"discharge_spo2_min": 93})

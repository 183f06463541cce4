"""Dose calculation and limits (CLINICAL.md §4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.safety import (
    ESKETAMINE_MDD_SI,
    ESKETAMINE_TRD,
    KETAMINE_IV_STANDARD,
    DoseRule,
    check_dose_limits,
    compute_dose,
)

CAPPED_IV = DoseRule(
    drug="ketamine", route="iv", mg_per_kg=0.5, max_mg_per_kg=0.5, max_mg=50, infusion_minutes=40
)


# --- ketamine ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "mg", "capped"),
    [
        (70, 35.0, False),
        (72.5, 36.3, False),  # 36.25 rounds half-up to 36.3
        (72.3, 36.2, False),  # 36.15 → 36.2 (half-up, not banker's rounding)
        (100, 50.0, False),  # exactly the cap: not capped
        (100.2, 50.0, True),  # 50.1 → capped at 50
        (150, 50.0, True),
        (30, 15.0, False),
        (300, 50.0, True),
    ],
)
def test_iv_dose_is_half_mg_per_kg_rounded_and_capped(
    weight: float, mg: float, capped: bool
) -> None:
    plan = compute_dose(CAPPED_IV, weight_kg=weight)
    assert plan.mg == mg
    assert plan.capped is capped
    assert plan.infusion_minutes == 40
    assert plan.devices is None


def test_standard_iv_rule_has_no_absolute_cap() -> None:
    assert compute_dose(KETAMINE_IV_STANDARD, weight_kg=150).mg == 75.0


def test_iv_infusion_end_from_start() -> None:
    start = datetime(2026, 3, 2, 9, 0)
    plan = compute_dose(CAPPED_IV, weight_kg=80, start=start)
    assert plan.infusion_end == start + timedelta(minutes=40)


@pytest.mark.parametrize("weight", [29.9, 300.1, 0, -70])
def test_weight_out_of_plausible_range_is_refused(weight: float) -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(CAPPED_IV, weight_kg=weight)
    assert info.value.field == "weight_kg"
    assert "30 to 300" in info.value.detail


def test_weight_required_for_ketamine() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(CAPPED_IV)
    assert info.value.field == "weight_kg"


@pytest.mark.parametrize(
    ("mg", "weight", "reasons"),
    [
        (40, 80, []),
        (40.1, 80, ["40.1 mg is above 0.5 mg/kg × 80 kg = 40 mg"]),
        (50, 100, []),
        (50.5, 120, ["50.5 mg is above the track cap 50 mg"]),
        (
            60,
            100,
            ["60 mg is above the track cap 50 mg", "60 mg is above 0.5 mg/kg × 100 kg = 50 mg"],
        ),
        (0, 80, ["0 mg: a dose must be above 0 mg"]),
    ],
)
def test_ketamine_limits(mg: float, weight: float, reasons: list[str]) -> None:
    assert check_dose_limits(CAPPED_IV, mg, weight_kg=weight) == reasons


def test_requested_ketamine_dose_outside_limits_is_refused_with_reason() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(CAPPED_IV, weight_kg=80, requested_mg=45)
    assert info.value.field == "requested_mg"
    assert "above 0.5 mg/kg × 80 kg = 40 mg" in info.value.detail
    assert compute_dose(CAPPED_IV, weight_kg=80, requested_mg=35).mg == 35.0


@settings(max_examples=200)
@given(weight=st.floats(30, 300, allow_nan=False))
def test_computed_iv_dose_always_within_limits(weight: float) -> None:
    plan = compute_dose(CAPPED_IV, weight_kg=weight)
    assert 0 < plan.mg <= 50
    assert abs(plan.mg - min(50, 0.5 * weight)) <= 0.05 + 1e-9
    assert check_dose_limits(CAPPED_IV, plan.mg, weight_kg=weight) == []


# --- esketamine -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "mg", "devices"),
    [(18, 56, 2), (64, 56, 2), (65, 28, 1), (80, 28, 1)],
)
def test_esketamine_first_dose_by_age(age: int, mg: int, devices: int) -> None:
    plan = compute_dose(ESKETAMINE_TRD, age=age, dose_number=1)
    assert plan.mg == mg
    assert plan.devices == devices
    assert plan.device_offsets_min == tuple(5 * i for i in range(devices))


def test_esketamine_si_track_starts_at_84() -> None:
    plan = compute_dose(ESKETAMINE_MDD_SI, age=40, dose_number=1)
    assert (plan.mg, plan.devices, plan.device_offsets_min) == (84, 3, (0, 5, 10))


def test_device_times_5_minutes_apart() -> None:
    start = datetime(2026, 3, 2, 9, 0)
    plan = compute_dose(ESKETAMINE_TRD, age=40, dose_number=4, requested_mg=84, start=start)
    assert plan.device_times == (start, start + timedelta(minutes=5), start + timedelta(minutes=10))


def test_first_esketamine_dose_needs_age() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(ESKETAMINE_TRD, dose_number=1)
    assert info.value.field == "age"


def test_later_esketamine_dose_needs_requested_mg() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(ESKETAMINE_TRD, age=40, dose_number=2)
    assert info.value.field == "requested_mg"
    assert "56, 84" in info.value.detail


@pytest.mark.parametrize(
    ("mg", "age", "dose_number", "reason"),
    [
        (70, 40, 3, "70 mg is not a multiple of the 28 mg device"),
        (112, 40, 3, "112 mg is above the track maximum 84 mg"),
        (28, 40, 3, "28 mg is not an allowed dose on this track (56, 84 mg)"),
        (84, 40, 1, "the first dose on this track is 56 mg, not 84 mg"),
        (56, 70, 1, "the first dose on this track is 28 mg, not 56 mg"),
        (56, 17, 3, "esketamine is not approved under 18 (age 17)"),
        (28, None, 3, "28 mg is allowed only at 65+; age not given"),
    ],
)
def test_esketamine_limits_refuse_with_reason(
    mg: float, age: int | None, dose_number: int, reason: str
) -> None:
    assert reason in check_dose_limits(ESKETAMINE_TRD, mg, age=age, dose_number=dose_number)


@pytest.mark.parametrize(
    ("mg", "age", "dose_number"),
    [(56, 40, 2), (84, 40, 2), (28, 65, 2), (56, 40, 1), (28, 65, 1), (84, 70, 5)],
)
def test_esketamine_allowed_doses(mg: int, age: int, dose_number: int) -> None:
    assert check_dose_limits(ESKETAMINE_TRD, mg, age=age, dose_number=dose_number) == []
    plan = compute_dose(ESKETAMINE_TRD, age=age, dose_number=dose_number, requested_mg=mg)
    assert plan.mg == mg
    assert plan.devices == mg // 28


def test_requested_esketamine_outside_limits_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(ESKETAMINE_TRD, age=40, dose_number=2, requested_mg=70)
    assert info.value.field == "requested_mg"
    assert info.value.detail == "70 mg is not a multiple of the 28 mg device"


def test_esketamine_under_18_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        compute_dose(ESKETAMINE_TRD, age=17, dose_number=1)
    assert info.value.field == "age"


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"route": "iv"}, "dose_rule.drug"),
        ({"drug": "ketamine", "route": "iv", "infusion_minutes": 40}, "dose_rule.mg_per_kg"),
        ({"drug": "ketamine", "route": "iv", "mg_per_kg": 0.5}, "dose_rule.infusion_minutes"),
        (
            {
                "drug": "ketamine",
                "route": "iv",
                "mg_per_kg": 0.5,
                "max_mg_per_kg": 0.4,
                "infusion_minutes": 40,
            },
            "dose_rule.max_mg_per_kg",
        ),
        ({"drug": "esketamine", "route": "intranasal"}, "dose_rule.allowed_mg"),
        (
            {"drug": "esketamine", "route": "intranasal", "allowed_mg": [56, 70]},
            "dose_rule.allowed_mg",
        ),
        ({"drug": "esketamine", "route": "intranasal", "allowed_mg": 56}, "dose_rule.allowed_mg"),
        (
            {"drug": "esketamine", "route": "intranasal", "allowed_mg": [56], "first_dose_mg": 84},
            "dose_rule.first_dose_mg",
        ),
        ({"drug": "esketamine", "route": "iv", "allowed_mg": [56]}, "dose_rule.route"),
        ({"drug": "ketamine", "route": "iv", "mg_per_kg": 0.5, "dose": 1}, "dose_rule.dose"),
    ],
)
def test_dose_rule_from_mapping_refuses(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        DoseRule.from_mapping(mapping)
    assert info.value.field == field


def test_dose_rule_from_mapping_builds_track_rule() -> None:
    rule = DoseRule.from_mapping(
        {"drug": "ketamine", "route": "iv", "mg_per_kg": 0.8, "max_mg": 80, "infusion_minutes": 40}
    )
    # Grabski 2022 AUD track (CLINICAL.md §6): 0.8 mg/kg
    assert compute_dose(rule, weight_kg=90).mg == 72.0
    assert compute_dose(rule, weight_kg=110).mg == 80.0


@pytest.mark.parametrize("mg", [float("nan"), float("inf"), "40", True])
def test_dose_limits_refuse_non_numbers(mg: object) -> None:
    with pytest.raises(InvalidInput) as info:
        check_dose_limits(CAPPED_IV, mg, weight_kg=80)  # type: ignore[arg-type]
    assert info.value.field == "requested_mg"


def test_ketamine_dose_finer_than_0_1_mg_refused() -> None:
    assert check_dose_limits(CAPPED_IV, 35.25, weight_kg=80) == [
        "35.25 mg: give the dose to 0.1 mg"
    ]
    assert check_dose_limits(CAPPED_IV, 35.2, weight_kg=80) == []

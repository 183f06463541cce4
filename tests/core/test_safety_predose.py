"""Pre-dose decision and checklist (CLINICAL.md §2, §4, §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.safety import (
    CHECKLIST_ITEMS,
    PredoseRecord,
    PrescriberOverride,
    SafetyThresholds,
    TrackRequirements,
    can_start_dose,
    predose_checklist,
    predose_decision,
)

# --- predose_decision -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "decision", "reasons"),
    [
        (140, 90, "proceed", []),  # exactly at the threshold proceeds
        (141, 90, "hold", ["systolic 141 > 140"]),
        (140, 91, "hold", ["diastolic 91 > 90"]),
        (139, 89, "proceed", []),
        (160, 100, "hold", ["systolic 160 > 140", "diastolic 100 > 90"]),
    ],
)
def test_bp_hold_boundaries(
    systolic: int, diastolic: int, decision: str, reasons: list[str]
) -> None:
    result = predose_decision(systolic, diastolic)
    assert result.decision == decision
    assert list(result.reasons) == reasons


@pytest.mark.parametrize(
    ("heart_rate", "spo2", "decision", "reasons"),
    [
        (110, 92, "proceed", []),
        (111, 92, "hold", ["heart rate 111 > 110"]),
        (50, 92, "proceed", []),
        (49, 92, "hold", ["heart rate 49 < 50"]),
        (80, 91, "hold", ["SpO2 91 < 92"]),
        (None, None, "proceed", []),
    ],
)
def test_pulse_and_spo2_hold_boundaries(
    heart_rate: int | None, spo2: int | None, decision: str, reasons: list[str]
) -> None:
    result = predose_decision(120, 80, heart_rate, spo2)
    assert result.decision == decision
    assert list(result.reasons) == reasons


def test_pulse_and_spo2_hold_can_be_switched_off() -> None:
    t = SafetyThresholds.from_mapping({"predose_hold_on_pulse_and_spo2": False})
    assert predose_decision(120, 80, 130, 85, t).decision == "proceed"
    assert predose_decision(150, 80, 130, 85, t).reasons == ("systolic 150 > 140",)


def test_configured_hold_threshold() -> None:
    t = SafetyThresholds.from_mapping({"predose_systolic_hold": 150})
    assert predose_decision(150, 80, thresholds=t).decision == "proceed"
    assert predose_decision(151, 80, thresholds=t).reasons == ("systolic 151 > 150",)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((39, 30), "systolic"),
        ((301, 80), "systolic"),
        ((120, 19), "diastolic"),
        ((120, 120), "diastolic"),
        ((120.5, 80), "systolic"),
        (("120", 80), "systolic"),
        ((True, 80), "systolic"),
        ((120, 80, 300), "heart_rate"),
        ((120, 80, 70, 101), "spo2"),
    ],
)
def test_predose_decision_refuses_bad_values(args: tuple[object, ...], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        predose_decision(*args)  # type: ignore[arg-type]
    assert info.value.field == field


@settings(max_examples=200)
@given(
    systolic=st.integers(130, 280),
    diastolic=st.integers(40, 105),
    raise_sys=st.integers(0, 20),
    raise_dia=st.integers(0, 20),
)
def test_raising_bp_never_turns_hold_into_proceed(
    systolic: int, diastolic: int, raise_sys: int, raise_dia: int
) -> None:
    before = predose_decision(systolic, diastolic)
    after = predose_decision(systolic + raise_sys, diastolic + raise_dia)
    if before.hold:
        assert after.hold
    if not after.hold:
        assert not before.hold


@settings(max_examples=200)
@given(systolic=st.integers(100, 300), diastolic=st.integers(20, 99))
def test_hold_iff_a_reason(systolic: int, diastolic: int) -> None:
    result = predose_decision(systolic, diastolic)
    assert result.hold == bool(result.reasons)
    assert result.hold == (systolic > 140 or diastolic > 90)


# --- checklist --------------------------------------------------------------------------------

START = datetime(2026, 3, 2, 10, 0)
ESKETAMINE = TrackRequirements(drug="esketamine", route="intranasal")
IV = TrackRequirements(drug="ketamine", route="iv", asks_pregnancy=True)


def complete_record(**changes: object) -> PredoseRecord:
    record = PredoseRecord(
        identity_confirmed=True,
        screening_changes_reviewed=True,
        pregnancy_status="not_pregnant",
        planned_start=START,
        last_food=START - timedelta(hours=3),
        last_liquids=START - timedelta(minutes=45),
        concomitant_medicines_reviewed=True,
        concomitant_medicines=frozenset({"stimulants"}),
        phq9_item9=0,
        systolic=128,
        diastolic=82,
        heart_rate=72,
        spo2=98,
        weight_kg=72.5,
        ride_home_confirmed=True,
        no_driving_advice_given=True,
        prescriber_sign_off="Dr. Synthetic Prescriber",
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def items(track: TrackRequirements, record: PredoseRecord) -> list[str]:
    return [m.item for m in predose_checklist(track, record)]


@pytest.mark.parametrize("track", [ESKETAMINE, IV])
def test_complete_record_may_start(track: TrackRequirements) -> None:
    assert items(track, complete_record()) == []
    assert can_start_dose(track, complete_record()).may_start


def test_empty_record_lists_everything_in_order() -> None:
    esk = items(ESKETAMINE, PredoseRecord())
    assert esk == [
        "identity",
        "screening_changes",
        "planned_start",
        "food_timing",
        "liquids_timing",
        "concomitant_medicines",
        "phq9_item9",
        "blood_pressure",
        "heart_rate",
        "spo2",
        "ride_home",
        "no_driving_advice",
        "prescriber_sign_off",
    ]
    iv = items(IV, PredoseRecord())
    assert "pregnancy_status" in iv
    assert "weight" in iv
    assert "food_timing" not in iv
    assert [i for i in CHECKLIST_ITEMS if i in iv] == iv  # stable order


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"identity_confirmed": None}, "identity"),
        ({"identity_confirmed": False}, "identity"),
        ({"screening_changes_reviewed": None}, "screening_changes"),
        ({"concomitant_medicines_reviewed": False}, "concomitant_medicines"),
        ({"phq9_item9": None}, "phq9_item9"),
        ({"systolic": None}, "blood_pressure"),
        ({"diastolic": None}, "blood_pressure"),
        ({"heart_rate": None}, "heart_rate"),
        ({"spo2": None}, "spo2"),
        ({"ride_home_confirmed": None}, "ride_home"),
        ({"no_driving_advice_given": False}, "no_driving_advice"),
        ({"prescriber_sign_off": "  "}, "prescriber_sign_off"),
    ],
)
@pytest.mark.parametrize("track", [ESKETAMINE, IV])
def test_each_item_alone_blocks(
    track: TrackRequirements, change: dict[str, object], item: str
) -> None:
    assert items(track, complete_record(**change)) == [item]
    assert not can_start_dose(track, complete_record(**change)).may_start


def test_pregnancy_only_where_track_asks() -> None:
    assert items(ESKETAMINE, complete_record(pregnancy_status=None)) == []
    assert items(IV, complete_record(pregnancy_status=None)) == ["pregnancy_status"]
    blocked = predose_checklist(IV, complete_record(pregnancy_status="pregnant"))
    assert [m.item for m in blocked] == ["pregnancy_status"]
    assert "exclusion" in blocked[0].detail


def test_weight_only_for_iv_and_im() -> None:
    assert items(ESKETAMINE, complete_record(weight_kg=None)) == []
    assert items(IV, complete_record(weight_kg=None)) == ["weight"]
    im = TrackRequirements(drug="ketamine", route="im")
    assert items(im, complete_record(weight_kg=None)) == ["weight"]


@pytest.mark.parametrize(
    ("food_minutes", "liquid_minutes", "expected"),
    [
        (120, 30, []),  # exactly 2 h and 30 min is enough
        (119, 30, ["food_timing"]),
        (120, 29, ["liquids_timing"]),
        (60, 10, ["food_timing", "liquids_timing"]),
        (-5, 30, ["food_timing"]),  # ate after the planned start time
    ],
)
def test_esketamine_fasting_boundaries(
    food_minutes: int, liquid_minutes: int, expected: list[str]
) -> None:
    record = complete_record(
        last_food=START - timedelta(minutes=food_minutes),
        last_liquids=START - timedelta(minutes=liquid_minutes),
    )
    assert items(ESKETAMINE, record) == expected
    # the IV track has no fasting rule in CLINICAL.md §4
    assert items(IV, record) == []


def test_fasting_detail_is_specific() -> None:
    record = complete_record(last_food=START - timedelta(minutes=100))
    (item,) = predose_checklist(ESKETAMINE, record)
    assert item.detail == "last food 100 min before the planned start; needs ≥ 120 min"


def test_fasting_needs_times() -> None:
    assert items(ESKETAMINE, complete_record(last_food=None)) == ["food_timing"]
    assert items(ESKETAMINE, complete_record(last_liquids=None)) == ["liquids_timing"]
    assert items(ESKETAMINE, complete_record(planned_start=None)) == ["planned_start"]


def test_track_fasting_minutes_are_configurable() -> None:
    strict = TrackRequirements(drug="esketamine", route="intranasal", no_food_minutes=240)
    assert items(strict, complete_record()) == ["food_timing"]


def test_item9_positive_needs_same_day_cssrs_and_clinician_contact() -> None:
    assert items(ESKETAMINE, complete_record(phq9_item9=1)) == ["cssrs", "clinician_contact"]
    assert items(ESKETAMINE, complete_record(phq9_item9=2, cssrs_risk="low")) == [
        "clinician_contact"
    ]
    assert items(
        ESKETAMINE, complete_record(phq9_item9=3, clinician_contact_by="  ", cssrs_risk="high")
    ) == ["clinician_contact"]
    done = complete_record(phq9_item9=1, cssrs_risk="low", clinician_contact_by="Dr. Synthetic")
    assert items(ESKETAMINE, done) == []
    assert items(ESKETAMINE, complete_record(phq9_item9=0, cssrs_risk=None)) == []


REVIEW_TRACK = TrackRequirements(
    drug="esketamine", route="intranasal", asks_pregnancy=True, pregnancy_excludes=False
)


def test_pregnancy_on_a_review_track_needs_prescriber_review() -> None:
    pregnant = complete_record(pregnancy_status="pregnant")
    blocked = predose_checklist(REVIEW_TRACK, pregnant)
    assert [m.item for m in blocked] == ["pregnancy_status"]
    assert "prescriber review" in blocked[0].detail
    blank = PrescriberOverride("Dr. Synthetic", " ")
    assert items(REVIEW_TRACK, replace(pregnant, pregnancy_review=blank)) == ["pregnancy_status"]
    reviewed = PrescriberOverride("Dr. Synthetic", "risks discussed; benefit outweighs")
    assert items(REVIEW_TRACK, replace(pregnant, pregnancy_review=reviewed)) == []
    # on an excluding track a review does not unblock
    assert items(IV, replace(pregnant, pregnancy_review=reviewed)) == ["pregnancy_status"]


def test_bp_hold_blocks_until_prescriber_override_with_reason() -> None:
    held = complete_record(systolic=141)
    blocking = can_start_dose(ESKETAMINE, held).blocking
    assert [m.item for m in blocking] == ["predose_hold"]
    assert "systolic 141 > 140" in blocking[0].detail
    blank = PrescriberOverride(prescriber="Dr. Synthetic", reason="   ")
    assert items(ESKETAMINE, replace(held, override=blank)) == ["predose_hold"]
    nobody = PrescriberOverride(prescriber="", reason="chronic, stable")
    assert items(ESKETAMINE, replace(held, override=nobody)) == ["predose_hold"]
    good = PrescriberOverride(prescriber="Dr. Synthetic", reason="baseline 145 for years; repeat")
    assert can_start_dose(ESKETAMINE, replace(held, override=good)).may_start


def test_exactly_140_90_needs_no_override() -> None:
    assert items(ESKETAMINE, complete_record(systolic=140, diastolic=90)) == []


def test_thresholds_reach_the_checklist() -> None:
    t = SafetyThresholds.from_mapping({"predose_systolic_hold": 125})
    assert [m.item for m in predose_checklist(ESKETAMINE, complete_record(), t)] == ["predose_hold"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pregnancy_status": "maybe"}, "pregnancy_status"),
        ({"phq9_item9": 4}, "phq9_item9"),
        ({"cssrs_risk": "severe"}, "cssrs_risk"),
        ({"weight_kg": 29.9}, "weight_kg"),
        ({"weight_kg": 301}, "weight_kg"),
        ({"concomitant_medicines": frozenset({"caffeine"})}, "concomitant_medicines"),
        ({"identity_confirmed": "yes"}, "identity_confirmed"),
        ({"last_food": START.replace(tzinfo=UTC)}, "last_food"),
        ({"spo2": 40}, "spo2"),
    ],
)
def test_record_refuses_bad_values(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        complete_record(**change)
    assert info.value.field == field


def test_record_from_mapping() -> None:
    record = PredoseRecord.from_mapping(
        {
            "identity_confirmed": True,
            "planned_start": "2026-03-02T10:00:00Z",
            "last_food": "2026-03-02T07:00:00+00:00",
            "concomitant_medicines": ["opioids"],
            "override": {"prescriber": "Dr. Synthetic", "reason": "stable"},
        }
    )
    assert record.planned_start == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert record.concomitant_medicines == frozenset({"opioids"})
    assert record.override == PrescriberOverride("Dr. Synthetic", "stable")


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"identity": True}, "predose.identity"),
        ({"planned_start": "tomorrow"}, "planned_start"),
        ({"planned_start": "2026-03-02T10:00Z", "last_food": "2026-03-02T07:00"}, "last_food"),
        ({"override": {"reason": "x"}}, "override"),
        ({"override": {"prescriber": 1, "reason": "x"}}, "override.prescriber"),
        ({"pregnancy_review": "ok"}, "pregnancy_review"),
        ({"clinician_contact_by": 5}, "clinician_contact_by"),
        ({"concomitant_medicines": "opioids"}, "concomitant_medicines"),
    ],
)
def test_record_from_mapping_refuses(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        PredoseRecord.from_mapping(mapping)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"route": "iv"}, "track.drug"),
        ({"drug": "esketamine", "route": "iv"}, "track.route"),
        ({"drug": "ketamine", "route": "intranasal"}, "track.route"),
        ({"drug": "psilocybin", "route": "oral"}, "track.drug"),
        ({"drug": "ketamine", "route": "iv", "weight": True}, "track.weight"),
        ({"drug": "ketamine", "route": "iv", "asks_pregnancy": "yes"}, "track.asks_pregnancy"),
    ],
)
def test_track_from_mapping_refuses(mapping: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        TrackRequirements.from_mapping(mapping)
    assert info.value.field == field


def test_unhashable_medicine_entries_are_refused_not_crashing() -> None:
    with pytest.raises(InvalidInput) as info:
        PredoseRecord.from_mapping({"concomitant_medicines": [{"class": "opioids"}]})
    assert info.value.field == "concomitant_medicines"


def test_override_needs_text() -> None:
    with pytest.raises(InvalidInput) as info:
        PrescriberOverride(prescriber=None, reason="x")  # type: ignore[arg-type]
    assert info.value.field == "override.prescriber"


@pytest.mark.parametrize(("key", "value"), [("no_food_minutes", 60), ("no_liquids_minutes", 10)])
def test_esketamine_fasting_times_are_legal_floors(key: str, value: int) -> None:
    """Spravato label (CLINICAL.md §4): no food 2 h, no liquids 30 min: raised, never lowered."""
    with pytest.raises(InvalidInput) as info:
        TrackRequirements.from_mapping({"drug": "esketamine", "route": "intranasal", key: value})
    assert info.value.field == f"track.{key}"
    assert "legal floor" in info.value.detail
    # IV ketamine has no label fasting rule: a program sets its own.
    assert TrackRequirements(drug="ketamine", route="iv", **{key: value})

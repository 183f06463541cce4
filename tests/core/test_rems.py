"""REMS Patient Monitoring Form (CLINICAL.md §4)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.rems import (
    CSV_COLUMNS,
    FORM_FIELDS,
    BpReading,
    PatientMonitoringForm,
    SessionRecord,
    assemble_form,
    form_due_date,
    form_problems,
    form_to_csv_row,
    forms_due,
    mark_submitted,
    missing_fields,
)

T0 = datetime(2026, 3, 2, 9, 0)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def recorded_session(**changes: Any) -> SessionRecord:
    session = SessionRecord(
        session_id="S-0002",
        patient="SYN-0001",
        setting="Synthetic Clinic (REMS HCS-000)",
        monitoring_hcp="RN Synthetic",
        dose_mg=56,
        lot_number="LOT-TEST-1",
        first_device_at=T0,
        monitoring_end_at=at(125),
        ready_to_leave_at=at(95),
        concomitant_medicines=frozenset({"benzodiazepines", "opioids"}),
        bp_readings=(
            BpReading(at(-10), 128, 82),
            BpReading(at(15), 136, 86),
            BpReading(at(38), 148, 92),
            BpReading(at(45), 144, 90),
            BpReading(at(100), 132, 84),
            BpReading(at(120), 130, 82),
        ),
        vitals_acceptable_before=True,
        vitals_acceptable_at_end=True,
        sedation=True,
        sedation_resolved=True,
        dissociation=True,
        dissociation_resolved=True,
        respiratory_depression=False,
        adverse_events=(),
    )
    return replace(session, **changes)


def test_assembled_form_has_every_field() -> None:
    form = assemble_form(recorded_session())
    assert missing_fields(form) == []
    assert form.patient == "SYN-0001"
    assert form.session_date == date(2026, 3, 2)  # from the first device
    assert form.dose_mg == 56
    assert form.dose_category == "56"
    assert form.total_monitoring_minutes == 125
    assert form.minutes_until_ready_to_leave == 95
    assert form.bp_before == (128, 82)
    assert form.bp_at_40_min == (148, 92)  # 38 min is closer to 40 than 45
    assert form.bp_at_end == (130, 82)
    assert form.concomitant_benzodiazepines is True
    assert form.concomitant_opioids is True
    assert form.concomitant_stimulants is False
    assert form.concomitant_maois is False
    assert form.concomitant_other_sedatives is False
    assert form.respiratory_depression is False
    assert form.adverse_events == ()
    assert form.prefilled == ()
    assert form_problems(form) == []


def test_form_fields_cover_the_rems_list() -> None:
    # CLINICAL.md §4 REMS bullet, field by field
    expected = {
        "patient",
        "concomitant_other_sedatives",
        "concomitant_benzodiazepines",
        "concomitant_stimulants",
        "concomitant_maois",
        "concomitant_opioids",
        "monitoring_hcp",
        "setting",
        "session_date",
        "dose_mg",
        "lot_number",
        "total_monitoring_minutes",
        "minutes_until_ready_to_leave",
        "vitals_acceptable_before",
        "vitals_acceptable_at_end",
        "bp_before",
        "bp_at_40_min",
        "bp_at_end",
        "sedation",
        "sedation_resolved",
        "dissociation",
        "dissociation_resolved",
        "respiratory_depression",
        "respiratory_depression_resolved",
        "adverse_events",
    }
    assert set(FORM_FIELDS) == expected


def test_empty_session_lists_every_required_field() -> None:
    missing = missing_fields(assemble_form(SessionRecord()))
    resolved = {"sedation_resolved", "dissociation_resolved", "respiratory_depression_resolved"}
    assert missing == [f for f in FORM_FIELDS if f not in resolved]


@pytest.mark.parametrize(
    ("change", "missing"),
    [
        ({"patient": None}, ["patient"]),
        ({"monitoring_hcp": "  "}, ["monitoring_hcp"]),
        ({"lot_number": None}, ["lot_number"]),
        ({"dose_mg": None}, ["dose_mg"]),
        (
            {"concomitant_medicines": None},
            [
                f"concomitant_{c}"
                for c in ("benzodiazepines", "other_sedatives", "stimulants", "maois", "opioids")
            ],
        ),
        ({"monitoring_end_at": None}, ["total_monitoring_minutes", "bp_at_end"]),
        ({"ready_to_leave_at": None}, ["minutes_until_ready_to_leave"]),
        (
            {"first_device_at": None, "session_date": date(2026, 3, 2)},
            [
                "total_monitoring_minutes",
                "minutes_until_ready_to_leave",
                "bp_before",
                "bp_at_40_min",
            ],
        ),
        ({"vitals_acceptable_at_end": None}, ["vitals_acceptable_at_end"]),
        ({"sedation_resolved": None}, ["sedation_resolved"]),
        ({"respiratory_depression": True}, ["respiratory_depression_resolved"]),
        ({"adverse_events": None}, ["adverse_events"]),
        (
            {"bp_readings": (BpReading(at(-10), 128, 82), BpReading(at(120), 130, 82))},
            ["bp_at_40_min"],
        ),
    ],
)
def test_missing_fields_listed(change: dict[str, Any], missing: list[str]) -> None:
    assert missing_fields(assemble_form(recorded_session(**change))) == missing


def test_bp_at_40_window_edges() -> None:
    only_50 = (BpReading(at(-5), 120, 80), BpReading(at(50), 140, 90), BpReading(at(120), 125, 80))
    assert assemble_form(recorded_session(bp_readings=only_50)).bp_at_40_min == (140, 90)
    only_51 = (BpReading(at(-5), 120, 80), BpReading(at(51), 140, 90), BpReading(at(120), 125, 80))
    assert assemble_form(recorded_session(bp_readings=only_51)).bp_at_40_min is None


def test_bp_readings_may_be_unsorted() -> None:
    readings = tuple(reversed(recorded_session().bp_readings))
    assert assemble_form(recorded_session(bp_readings=readings)) == assemble_form(
        recorded_session()
    )


def test_dose_categories() -> None:
    assert assemble_form(recorded_session(dose_mg=84)).dose_category == "84"
    assert assemble_form(recorded_session(dose_mg=28)).dose_category == "other"


# --- carry-over -------------------------------------------------------------------------------


def test_carry_over_from_previous_form() -> None:
    previous = assemble_form(recorded_session())
    session = recorded_session(
        session_id="S-0003",
        patient=None,
        setting=None,
        monitoring_hcp=None,
        concomitant_medicines=None,
        lot_number=None,
    )
    form = assemble_form(session, previous)
    assert form.patient == "SYN-0001"
    assert form.setting == previous.setting
    assert form.concomitant_benzodiazepines is True
    assert form.concomitant_stimulants is False
    # monitoring HCP and lot number are per session: never carried over
    assert form.monitoring_hcp is None
    assert form.lot_number is None
    assert missing_fields(form) == ["monitoring_hcp", "lot_number"]
    assert set(form.prefilled) == {
        "patient",
        "setting",
        "concomitant_benzodiazepines",
        "concomitant_other_sedatives",
        "concomitant_stimulants",
        "concomitant_maois",
        "concomitant_opioids",
    }


def test_changed_medicines_are_not_overwritten_by_previous() -> None:
    previous = assemble_form(recorded_session())
    form = assemble_form(recorded_session(concomitant_medicines=frozenset()), previous)
    assert form.concomitant_benzodiazepines is False
    assert form.prefilled == ()


def test_previous_form_of_another_patient_refused() -> None:
    previous = assemble_form(recorded_session(patient="SYN-0099"))
    with pytest.raises(InvalidInput) as info:
        assemble_form(recorded_session(), previous)
    assert info.value.field == "previous_form"


# --- problems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"monitoring_end_at": at(119)}, "monitoring 119 min < 120 min (REMS minimum)"),
        ({"sedation_resolved": False}, "sedation not resolved at end of monitoring"),
        (
            {"respiratory_depression": True, "respiratory_depression_resolved": False},
            "respiratory depression not resolved at end of monitoring",
        ),
        (
            {"ready_to_leave_at": at(130)},
            "ready to leave at 130 min, after monitoring ended at 125 min",
        ),
        ({"vitals_acceptable_at_end": False}, "vitals not acceptable at end of monitoring"),
    ],
)
def test_problems_flagged(change: dict[str, Any], problem: str) -> None:
    assert form_problems(assemble_form(recorded_session(**change))) == [problem]


def test_exactly_120_minutes_is_no_problem() -> None:
    assert form_problems(assemble_form(recorded_session(monitoring_end_at=at(120)))) == []


# --- due dates --------------------------------------------------------------------------------


def test_form_due_seven_days_after_session() -> None:
    assert form_due_date(date(2026, 3, 2)) == date(2026, 3, 9)
    assert form_due_date(date(2026, 12, 28)) == date(2027, 1, 4)


def test_forms_due_days_left_and_overdue() -> None:
    forms = [
        PatientMonitoringForm(session_id="A", patient="SYN-1", session_date=date(2026, 3, 2)),
        PatientMonitoringForm(session_id="B", patient="SYN-2", session_date=date(2026, 2, 20)),
        PatientMonitoringForm(session_id="C", patient="SYN-3", session_date=date(2026, 3, 3)),
        mark_submitted(
            PatientMonitoringForm(session_id="D", session_date=date(2026, 2, 1)), date(2026, 2, 3)
        ),
    ]
    due = forms_due(forms, today=date(2026, 3, 9))
    assert [(d.session_id, d.due_date, d.days_left, d.overdue) for d in due] == [
        ("B", date(2026, 2, 27), -10, True),
        ("A", date(2026, 3, 9), 0, False),  # due today: not yet overdue
        ("C", date(2026, 3, 10), 1, False),
    ]
    assert forms_due(forms, today=date(2026, 3, 10))[1].overdue is True


def test_forms_due_refuses_form_without_date() -> None:
    with pytest.raises(InvalidInput) as info:
        forms_due([PatientMonitoringForm()], today=date(2026, 3, 9))
    assert info.value.field == "forms[0].session_date"


def test_due_date_refuses_datetime() -> None:
    with pytest.raises(InvalidInput):
        form_due_date(T0)


# --- CSV row ----------------------------------------------------------------------------------


def test_csv_row() -> None:
    row = form_to_csv_row(assemble_form(recorded_session(adverse_events=("nausea", "headache"))))
    assert tuple(row) == CSV_COLUMNS
    assert row["patient"] == "SYN-0001"
    assert row["session_date"] == "2026-03-02"
    assert row["dose_category"] == "56"
    assert row["concomitant_benzodiazepines"] == "Y"
    assert row["concomitant_stimulants"] == "N"
    assert row["bp_at_40_min"] == "148/92"
    assert row["total_monitoring_minutes"] == "125"
    assert row["respiratory_depression_resolved"] == ""
    assert row["adverse_events"] == "nausea; headache"
    assert form_to_csv_row(assemble_form(recorded_session()))["adverse_events"] == "none"


def test_csv_covers_every_form_field() -> None:
    assert set(FORM_FIELDS) <= set(CSV_COLUMNS)
    assert {f.name for f in fields(PatientMonitoringForm)} - set(CSV_COLUMNS) == {
        "session_id",
        "prefilled",
        "submitted_on",
    }


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"monitoring_end_at": at(-1)}, "monitoring_end_at"),
        ({"ready_to_leave_at": at(-1)}, "ready_to_leave_at"),
        ({"concomitant_medicines": frozenset({"caffeine"})}, "concomitant_medicines"),
        ({"monitoring_end_at": at(125).replace(tzinfo=UTC)}, "monitoring_end_at"),
        ({"dose_mg": 0}, "dose_mg"),
    ],
)
def test_assemble_refuses_bad_session(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        assemble_form(recorded_session(**change))
    assert info.value.field == field


def session_json(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "patient": "SYN-0001",
        "setting": "Synthetic Clinic",
        "monitoring_hcp": "RN Synthetic",
        "session_date": "2026-03-02",
        "dose_mg": 84,
        "lot_number": "LOT-1",
        "first_device_at": "2026-03-02T09:00:00",
        "monitoring_end_at": "2026-03-02T11:00:00",
        "ready_to_leave_at": "2026-03-02T10:30:00",
        "concomitant_medicines": [],
        "bp_readings": [
            {"at": "2026-03-02T08:55:00", "bp": [126, 80]},
            {"at": "2026-03-02T09:40:00", "bp": [140, 88]},
            {"at": "2026-03-02T10:55:00", "bp": [128, 80]},
        ],
        "vitals_acceptable_before": True,
        "vitals_acceptable_at_end": True,
        "sedation": False,
        "dissociation": True,
        "dissociation_resolved": True,
        "respiratory_depression": False,
        "adverse_events": [],
    }
    data.update(changes)
    return data


def test_session_from_mapping_assembles_complete_form() -> None:
    form = assemble_form(SessionRecord.from_mapping(session_json()))
    assert missing_fields(form) == []
    assert form.bp_at_40_min == (140, 88)
    assert form.total_monitoring_minutes == 120


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"session_date": "March 2"}, "session_date"),
        ({"session_date": 20260302}, "session_date"),
        ({"first_device_at": "9am"}, "first_device_at"),
        ({"bp_readings": [{"at": "2026-03-02T09:40:00"}]}, "bp_readings[0]"),
        ({"bp_readings": [{"at": "2026-03-02T09:40:00", "bp": [80, 90]}]}, "bp_readings[0].bp"),
        ({"bp_readings": {}}, "bp_readings"),
        ({"adverse_events": "none"}, "adverse_events"),
        ({"sedation": "no"}, "sedation"),
        ({"patient": 7}, "patient"),
        ({"dose_mg": "84"}, "dose_mg"),
        ({"concomitant_medicines": "opioids"}, "concomitant_medicines"),
        ({"colour": "blue"}, "session.colour"),
    ],
)
def test_session_from_mapping_refuses(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        SessionRecord.from_mapping(session_json(**changes))
    assert info.value.field == field


def test_bp_reading_validated() -> None:
    with pytest.raises(InvalidInput) as info:
        BpReading(at(0), 80, 120)
    assert info.value.field == "bp_readings.bp"
    with pytest.raises(InvalidInput):
        BpReading("09:00", 120, 80)  # type: ignore[arg-type]


def test_unhashable_medicines_in_session_json_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        SessionRecord.from_mapping(session_json(concomitant_medicines=[["opioids"]]))
    assert info.value.field == "concomitant_medicines"


def test_certification_lifecycle_states() -> None:
    """Issue 19: a certification can be renewed, suspended, expired or revoked; only a
    current one lets a setting book or give esketamine (CLINICAL.md §4)."""
    from trellis.core.rems import certification_status

    d = date(2026, 1, 10)
    assert certification_status(d, d) == "current"
    assert certification_status(d, d - timedelta(days=1)) == "not_yet"
    exp = date(2027, 1, 10)
    assert certification_status(d, exp - timedelta(days=1), expires_on=exp) == "current"
    assert certification_status(d, exp, expires_on=exp) == "expired"
    assert certification_status(d, d + timedelta(days=5), suspended_on=d + timedelta(days=5)) == (
        "suspended"
    )
    assert certification_status(d, d + timedelta(days=4), suspended_on=d + timedelta(days=5)) == (
        "current"
    )
    assert certification_status(d, exp, expires_on=exp, suspended_on=d, revoked_on=d) == "revoked"
    with pytest.raises(InvalidInput) as err:
        certification_status(d, d, expires_on=d)
    assert err.value.field == "expires_on"

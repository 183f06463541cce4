"""Dosing sessions: the pre-dose gate, the dose, monitoring, discharge, signing and REMS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.dosing.conftest import open_course, predose_values
from tests.dosing.rems_oracle import assert_form_matches_record
from tests.support import Cast

from trellis.care import services as care
from trellis.core import rems
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.dosing import services
from trellis.dosing.models import DosingSession, Observation, SignedRecordError, Status

M = timedelta(minutes=1)


def dose_events(episode: Any) -> int:
    return care.events_of(episode).filter(kind="dose_given").count()


def checked_session(
    cast: Cast, episode: Any, prescriber: Any, chair: Any, start: Any, **changes: Any
) -> Any:
    session = services.start_session(cast.nurse_a, episode, chair=chair)
    services.record_predose(
        cast.nurse_a, session, predose_values(start, **changes), now=start - 10 * M
    )
    return session


def run_to_discharge(cast: Cast, session: Any, start: Any, *, spike: bool = False) -> Any:
    nurse = cast.nurse_a
    services.start_dose(nurse, session, lot_number="EK24A117", started_at=start)
    services.record_device(nurse, session, at=start + 5 * M)
    for minute, sys_, moaas in (
        (15, 134, 4),
        (40, 186 if spike else 140, 4),
        (60, 132, 5),
        (120, 126, 5),
    ):
        services.record_observation(
            nurse,
            session,
            at=start + minute * M,
            values={
                "systolic": sys_,
                "diastolic": 82,
                "heart_rate": 76,
                "spo2": 97,
                "moaas": moaas,
                "dissociation": "mild" if minute < 60 else "none",
            },
        )
    services.record_adverse_event(
        nurse,
        session,
        at=start + 20 * M,
        description="Nausea",
        severity="mild",
        action_taken="Ondansetron 4 mg",
        outcome="Resolved",
        resolved=True,
    )
    services.record_checks(
        nurse,
        session,
        {
            "sedation": True,
            "sedation_resolved": True,
            "dissociation": True,
            "dissociation_resolved": True,
            "respiratory_depression": False,
        },
        at=start + 121 * M,
    )
    services.discharge(
        nurse,
        session,
        released_to="Partner (synthetic)",
        instructions_given=True,
        language="en",
        at=start + 125 * M,
    )
    return session


@pytest.mark.django_db
def test_a_blocked_dose_cannot_be_recorded_without_an_override(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now() - 10 * M
    session = checked_session(
        cast, ready_course, prescriber, chair, start, systolic=152, diastolic=94
    )
    items = [m.item for m in services.predose_missing(session)]
    assert "predose_hold" in items
    hold = next(m for m in services.predose_missing(session) if m.item == "predose_hold")
    assert "systolic 152 > 140" in hold.detail
    assert "diastolic 94 > 90" in hold.detail

    with pytest.raises(Conflict, match="pre-dose"):
        services.sign_off_predose(prescriber, session)
    with pytest.raises(Conflict, match="pre-dose list is empty"):
        services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    assert dose_events(ready_course) == 0
    assert DosingSession.objects.get(pk=session.pk).status == Status.CHECKING

    with pytest.raises(NotAllowed):  # a nurse cannot override a hold
        services.record_override(cast.nurse_a, session, "looks fine")
    with pytest.raises(InvalidInput, match="reason"):
        services.record_override(prescriber, session, "   ")

    services.record_override(
        prescriber, session, "Anxious on arrival; repeat BP 138/88 (synthetic)"
    )
    services.sign_off_predose(prescriber, session)
    assert services.predose_missing(session) == []
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    assert dose_events(ready_course) == 1
    assert session.status == Status.MONITORING
    assert float(session.dose_mg) == 56.0  # the track's first dose
    assert session.devices == 2
    # Only the first device is recorded at the start: the second when it is actually given.
    assert len(session.device_times) == 1


@pytest.mark.django_db
def test_device_times_are_recorded_as_given_and_spaced_5_min(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """Spravato label (CLINICAL.md §4): 56 mg = 2 devices 5 min apart; each device's actual
    time is recorded, the REMS total minutes count from the first device recorded."""
    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    assert services.devices_pending(session) == 1
    with pytest.raises(InvalidInput, match="5 min apart") as err:
        services.record_device(cast.nurse_a, session, at=start + 3 * M)
    assert err.value.field == "at"
    with pytest.raises(InvalidInput, match="future"):
        services.record_device(cast.nurse_a, session, at=timezone.now() + 10 * M)
    assert "devices" in services.readiness(session, start + 125 * M).unmet
    services.record_device(cast.nurse_a, session, at=start + 7 * M)
    assert services.device_times_of(session) == [start, start + 7 * M]
    assert session.stopped_at == start + 7 * M
    with pytest.raises(InvalidInput, match="already recorded"):
        services.record_device(cast.nurse_a, session, at=start + 14 * M)
    assert services.devices_pending(session) == 0


@pytest.mark.django_db
def test_new_vitals_clear_an_earlier_override(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now()
    session = checked_session(cast, ready_course, prescriber, chair, start, systolic=152)
    services.record_override(prescriber, session, "Reason")
    services.record_predose(cast.nurse_a, session, predose_values(start, systolic=160))
    assert session.override_by is None
    assert "predose_hold" in [m.item for m in services.predose_missing(session)]


@pytest.mark.django_db
def test_a_dose_outside_the_track_limits_is_refused_with_the_reason(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now()
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    with pytest.raises(InvalidInput, match="first dose on this track is 56 mg") as exc:
        services.start_dose(
            cast.nurse_a, session, lot_number="EK1", started_at=start, requested_mg=84
        )
    assert exc.value.field == "requested_mg"
    with pytest.raises(InvalidInput, match="multiple of the 28 mg device"):
        services.start_dose(
            cast.nurse_a, session, lot_number="EK1", started_at=start, requested_mg=60
        )
    assert dose_events(ready_course) == 0
    assert DosingSession.objects.get(pk=session.pk).dose_mg is None


@pytest.mark.django_db
def test_an_uncertified_setting_cannot_open_an_esketamine_session(
    cast: Cast, safety_plan_on_file: None, prescriber: Any, chair: Any
) -> None:
    from tests.dosing.conftest import enrol

    enrol(cast)
    episode = open_course(cast)
    assert not services.setting_certified(cast.program_a)
    with pytest.raises(Conflict, match="not certified"):
        services.start_session(cast.nurse_a, episode, chair=chair)


@pytest.mark.django_db
def test_a_first_dose_without_rems_enrolment_is_refused(
    cast: Cast, safety_plan_on_file: None, prescriber: Any, chair: Any
) -> None:
    from tests.dosing.conftest import certify

    certify(cast)
    episode = open_course(cast)
    blockers = care.first_dose_blockers(episode)
    assert any(b.startswith("rems_patient_enrolment") for b in blockers)
    with pytest.raises(Conflict, match="not enrolled"):
        services.start_session(cast.nurse_a, episode, chair=chair)
    # The care gate refuses the first dose too, whoever records it.
    with pytest.raises(Conflict, match="not yet enrolled in the Spravato REMS") as err:
        care.record_event(cast.nurse_a, episode, "dose_given", at=timezone.now(), index=1)
    assert "rems_patient_enrolment" not in err.value.message  # plain words, no internal key


@pytest.mark.django_db
def test_out_of_range_values_raise_alerts_naming_the_threshold(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now() - 45 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    obs = services.record_observation(
        cast.nurse_a,
        session,
        at=start + 40 * M,
        values={"systolic": 185, "diastolic": 100, "spo2": 90, "moaas": 4},
    )
    params = {(a["parameter"], a["threshold"]) for a in obs.alerts}
    assert params == {("systolic", 180), ("spo2", 92)}
    row = services.board(cast.nurse_a, cast.program_a)[0]
    assert {a["message"] for a in row.alerts} == {"systolic 185 ≥ 180", "SpO2 90 < 92"}
    assert row.minutes == 45
    assert row.due is not None
    # A later normal reading clears the board's alert (the reading history keeps it).
    services.record_observation(
        cast.nurse_a,
        session,
        at=start + 44 * M,
        values={"systolic": 150, "diastolic": 88, "spo2": 96},
    )
    assert services.board(cast.nurse_a, cast.program_a)[0].alerts == []


@pytest.mark.django_db
def test_program_thresholds_override_the_defaults(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    with pytest.raises(InvalidInput, match="alert_systolic"):
        services.save_thresholds(cast.admin_a, cast.program_a, {"alert_systolic": "high"})
    with pytest.raises(NotAllowed):
        services.save_thresholds(cast.nurse_a, cast.program_a, {"alert_systolic": 170})
    services.save_thresholds(cast.admin_a, cast.program_a, {"alert_systolic": 170})
    start = timezone.now() - 20 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    obs = services.record_observation(
        cast.nurse_a, session, at=start + 15 * M, values={"systolic": 172, "diastolic": 90}
    )
    assert [a["threshold"] for a in obs.alerts] == [170]


@pytest.mark.django_db
def test_discharge_waits_for_the_readiness_rule(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now() - 30 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    services.record_observation(
        cast.nurse_a,
        session,
        at=start + 15 * M,
        values={"systolic": 130, "diastolic": 80, "spo2": 97, "moaas": 5},
    )
    result = services.readiness(session)
    assert not result.ready
    assert "minimum_observation" in result.unmet
    assert "sedation_resolved" in result.unmet
    with pytest.raises(Conflict, match="Not ready for discharge"):
        services.discharge(
            cast.nurse_a, session, released_to="Partner", instructions_given=True, language="en"
        )
    assert services.discharge_of(session) is None


@pytest.mark.django_db
def test_a_rems_form_assembled_from_a_recorded_session_has_every_field(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    run_to_discharge(cast, session, start, spike=True)
    row = services.rems_form_of(session)
    assert row is not None
    assert row.missing == []
    form = services.form_from_json(row.data)
    for name in rems.FORM_FIELDS:
        if name == "respiratory_depression_resolved":
            continue  # asked only when respiratory depression occurred
        assert getattr(form, name) is not None, name
    assert form.patient == "SYN00042"
    assert form.setting == "Clinic A (synthetic)"
    assert form.dose_mg == 56
    assert form.dose_category == "56"
    assert form.lot_number == "EK24A117"
    assert form.concomitant_benzodiazepines is True
    assert form.concomitant_opioids is False
    assert form.bp_before == (128, 80)
    assert form.bp_at_40_min == (186, 82)
    assert form.bp_at_end == (126, 82)
    assert form.total_monitoring_minutes == 125
    assert form.minutes_until_ready_to_leave == 121
    assert form.adverse_events == ("Nausea (mild; Resolved)",)
    assert row.due_on == row.session_date + timedelta(days=7)

    due = services.rems_forms_due(cast.nurse_a, cast.program_a)
    assert [d["form"].pk for d in due] == [row.pk]
    services.sign_session(cast.nurse_a, session)
    services.mark_rems_submitted(cast.nurse_a, session)
    row.refresh_from_db()
    assert row.submitted_by == cast.nurse_a
    assert row.submitted_at is not None
    assert services.rems_forms_due(cast.nurse_a, cast.program_a) == []
    with pytest.raises(Conflict, match="already"):
        services.mark_rems_submitted(cast.nurse_a, session)


@pytest.mark.django_db
def test_every_rems_field_comes_from_its_one_source(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """Issue 19: "BP before" is the pre-dose check's value even when a monitoring reading is
    charted at the moment of the first device; total minutes count from the first device
    recorded; every other field equals its source row."""
    start = timezone.now() - 140 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK9", started_at=start)
    services.record_observation(
        cast.nurse_a, session, at=start, values={"systolic": 150, "diastolic": 95, "spo2": 97}
    )
    services.record_device(cast.nurse_a, session, at=start + 6 * M)
    for minute, sys_ in ((38, 152), (44, 149), (118, 131)):
        services.record_observation(
            cast.nurse_a,
            session,
            at=start + minute * M,
            values={"systolic": sys_, "diastolic": 84, "spo2": 97, "moaas": 5},
        )
    services.record_checks(
        cast.nurse_a,
        session,
        {
            "sedation": False,
            "dissociation": True,
            "dissociation_resolved": True,
            "respiratory_depression": False,
        },
        at=start + 122 * M,
    )
    services.discharge(
        cast.nurse_a,
        session,
        released_to="Friend",
        instructions_given=True,
        language="en",
        at=start + 131 * M,
    )
    form = services.form_from_json(services.rems_form_of(session).data)
    assert form.bp_before == (128, 80)  # the pre-dose check, not the 150/95 at the first device
    assert form.total_monitoring_minutes == 131
    assert form.bp_at_40_min == (152, 84)
    assert_form_matches_record(form, session)


@pytest.mark.django_db
def test_esketamine_discharge_needs_the_40_minute_blood_pressure(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """Spravato label (CLINICAL.md §4): BP ~40 min after dosing is a discharge criterion,
    not only a REMS field: without it the patient is not ready and nothing is signed."""
    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    services.record_device(cast.nurse_a, session, at=start + 5 * M)
    # No reading near 40 min (30–50 min after the first device).
    for minute in (10, 100, 120):
        services.record_observation(
            cast.nurse_a,
            session,
            at=start + minute * M,
            values={"systolic": 128, "diastolic": 80, "spo2": 97, "moaas": 5},
        )
    services.record_checks(
        cast.nurse_a,
        session,
        {"sedation": False, "dissociation": False, "respiratory_depression": False},
    )
    assert services.readiness(session).unmet == ("bp_at_40_min",)
    with pytest.raises(Conflict, match="40 min"):
        services.discharge(
            cast.nurse_a, session, released_to="Friend", instructions_given=True, language="en"
        )
    assert services.discharge_of(session) is None
    with pytest.raises(Conflict, match="not been discharged"):
        services.sign_session(cast.nurse_a, session)
    services.record_observation(
        cast.nurse_a,
        session,
        at=start + 42 * M,
        values={"systolic": 146, "diastolic": 88},
    )
    services.discharge(
        cast.nurse_a, session, released_to="Friend", instructions_given=True, language="en"
    )
    form = services.form_from_json(services.rems_form_of(session).data)
    assert form.bp_at_40_min == (146, 88)


@pytest.mark.django_db
def test_a_signed_record_refuses_edits_and_amendments_keep_history(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    run_to_discharge(cast, session, start)
    with pytest.raises(Conflict, match="amendments are for signed"):
        services.amend(cast.nurse_a, session, field="lot_number", new_value="X", reason="typo")
    services.sign_session(cast.nurse_a, session)

    with pytest.raises(Conflict, match="signed"):
        services.record_observation(cast.nurse_a, session, values={"spo2": 97})
    fresh = DosingSession.objects.get(pk=session.pk)
    fresh.lot_number = "CHANGED"
    with pytest.raises(SignedRecordError):
        fresh.save()
    with pytest.raises(SignedRecordError):
        DosingSession.objects.filter(pk=session.pk).update(lot_number="CHANGED")
    obs = Observation.objects.filter(session=session).first()
    obs.spo2 = 80
    with pytest.raises(SignedRecordError):
        obs.save()
    with pytest.raises(SignedRecordError):
        Observation.objects.filter(session=session).update(spo2=80)

    with pytest.raises(InvalidInput, match="reason"):
        services.amend(cast.nurse_a, session, field="lot_number", new_value="EK24A171", reason="")
    first = services.amend(
        cast.nurse_a, session, field="lot_number", new_value="EK24A171", reason="Digits transposed"
    )
    second = services.amend(
        prescriber,
        session,
        field="lot_number",
        new_value="EK24A177",
        reason="Checked against the pharmacy log",
    )
    history = list(services.amendments_of(session))
    assert [(a.old_value, a.new_value, a.author) for a in history] == [
        ("EK24A117", "EK24A171", cast.nurse_a),
        ("EK24A171", "EK24A177", prescriber),
    ]
    assert first.at <= second.at
    assert DosingSession.objects.get(pk=session.pk).lot_number == "EK24A117"  # original kept
    with pytest.raises(SignedRecordError):
        first.save()


@pytest.mark.django_db
def test_iv_session_computes_mg_per_kg_and_ends_the_infusion(
    cast: Cast, safety_plan_on_file: None, prescriber: Any, chair: Any
) -> None:
    episode = open_course(cast, "iv-trd")
    start = timezone.now() - 50 * M
    session = services.start_session(cast.nurse_a, episode, chair=chair)
    values = {**predose_values(start), "weight_kg": 72.5}
    for key in ("planned_start", "last_food", "last_liquids", "pregnancy_status"):
        values.pop(key)
    values["pregnancy_status"] = "not_pregnant"
    services.record_predose(cast.nurse_a, session, values)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="KT1", started_at=start)
    assert float(session.dose_mg) == 36.3  # 0.5 mg/kg × 72.5 kg, rounded half-up
    assert session.status == Status.DOSING
    row = services.board(cast.nurse_a, cast.program_a)[0]
    assert row.due is not None
    assert "during infusion" in row.due.label
    services.end_administration(cast.nurse_a, session, at=start + 40 * M)
    assert session.status == Status.MONITORING


@pytest.mark.django_db
def test_rems_exports_csv_and_a_pdf_that_parses(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    from tests.dosing.test_pdf import pdf_text

    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    run_to_discharge(cast, session, start)
    row = services.get_rems_form(cast.nurse_a, session, export="csv")
    text = services.rems_csv(row, synthetic=True)
    header, values = text.strip().splitlines()
    assert header.split(",") == [*rems.CSV_COLUMNS, "synthetic"]
    assert values.endswith(",Y")
    from trellis.dosing.pdf import text_pdf

    prescriber_name = services.form_prescriber(session)
    assert prescriber_name == "Pia Prescriber"
    body = pdf_text(text_pdf(services.rems_lines(row, synthetic=True, prescriber=prescriber_name)))
    # Laid out like the Patient Monitoring Form: sections and labels, never field keys.
    assert "Lot number: EK24A117" in body
    assert "Patient and healthcare setting" in body
    assert "Benzodiazepines: [X] Yes   [ ] No" in body
    assert "Opioids: [ ] Yes   [X] No" in body
    assert "Before treatment: 128/80" in body
    assert "SYNTHETIC DEMO DATA" in body
    for key in rems.CSV_COLUMNS:
        if "_" in key:
            assert key not in body, key
    # The prescriber's signature block and the submission status.
    assert "Prescriber name: Pia Prescriber" in body
    assert "Signature: ____" in body
    assert f"Not yet submitted; due {row.due_on.isoformat()}" in body
    late = pdf_text(text_pdf(services.rems_lines(row, True, today=row.due_on + timedelta(days=2))))
    assert f"OVERDUE: due {row.due_on.isoformat()} (2 day(s) late)" in late
    assert "NOT SUBMITTED - OVERDUE" in late


@pytest.mark.django_db
def test_the_board_prompts_for_the_40_minute_blood_pressure(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """Spravato label (CLINICAL.md §4): the board says when the 40-min BP is due (30–50 min
    after the first device), when it was missed, and what it was once taken."""
    start = timezone.now() - 35 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)

    def prompt(now: Any) -> Any:
        (row,) = services.board(cast.nurse_a, cast.program_a, now)
        return row.bp40

    assert prompt(start + 20 * M).state == "upcoming"
    assert prompt(start + 35 * M).state == "due"
    assert prompt(start + 55 * M).state == "missed"
    (row,) = services.board(cast.nurse_a, cast.program_a, start + 35 * M)
    assert row.devices_pending == 1
    services.record_observation(
        cast.nurse_a, session, at=start + 34 * M, values={"systolic": 150, "diastolic": 90}
    )
    taken = prompt(start + 35 * M)
    assert taken.state == "taken"
    assert taken.reading == (150, 90)


@pytest.mark.django_db
def test_a_certification_not_current_blocks_esketamine_dosing(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """Issue 19 (CLINICAL.md §4): a suspended, expired or revoked setting certification
    blocks opening a session and giving the dose; reinstating or renewing lifts the block."""
    today = timezone.localdate()
    start = timezone.now() - 10 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    with pytest.raises(InvalidInput, match="reason"):
        services.change_certification(cast.admin_a, cast.program_a, "suspend")
    with pytest.raises(NotAllowed):
        services.change_certification(cast.nurse_a, cast.program_a, "suspend", reason="x")
    services.change_certification(
        cast.admin_a, cast.program_a, "suspend", reason="Pulse oximeter failed audit"
    )
    assert not services.setting_certified(cast.program_a)
    with pytest.raises(Conflict, match="suspended"):
        services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    assert dose_events(ready_course) == 0
    services.change_certification(cast.admin_a, cast.program_a, "reinstate")
    assert services.setting_certified(cast.program_a)

    services.change_certification(cast.admin_a, cast.program_a, "expire", on=today)
    assert services.certification_state(services.latest_certification(cast.program_a)) == (
        "expired"
    )
    with pytest.raises(Conflict, match="expired"):
        services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    services.renew_certification(
        cast.admin_a, cast.program_a, certified_on=today, expires_on=today + 365 * 24 * 60 * M
    )
    assert services.setting_certified(cast.program_a)
    services.change_certification(
        cast.admin_a, cast.program_a, "revoke", reason="Setting closed (synthetic)"
    )
    with pytest.raises(Conflict, match="revoked"):
        services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    with pytest.raises(Conflict, match="revoked"):
        services.change_certification(cast.admin_a, cast.program_a, "reinstate")
    DosingSession.objects.filter(pk=session.pk).delete()
    with pytest.raises(Conflict, match="revoked"):
        services.start_session(cast.nurse_a, ready_course, chair=chair)


@pytest.mark.django_db
def test_possible_mania_holds_the_next_dose_until_a_prescriber_reviews_it(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """CLINICAL.md §1, §6: ASRM total >= 6 -> a prescriber review before the next dose."""
    from trellis.alerts import services as alerts
    from trellis.alerts.models import Alert
    from trellis.measures import services as measures

    measures.record_clinician_total(cast.nurse_a, cast.patient_a, "asrm", 5)
    assert not Alert.objects.filter(kind="possible_mania").exists()
    assessment = measures.record_clinician_total(cast.nurse_a, cast.patient_a, "asrm", 6)
    assert assessment.flags == ["possible_mania"]
    alert = Alert.objects.get(kind="possible_mania", patient=cast.patient_a)
    assert alert.severity == "urgent"
    assert alert.title == "Possible mania: ASRM total 6"

    start = timezone.now() - 10 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    review = [m for m in services.predose_missing(session) if m.item == "prescriber_review"]
    assert len(review) == 1
    with pytest.raises(Conflict, match="pre-dose"):
        services.sign_off_predose(prescriber, session)
    with pytest.raises(NotAllowed):  # a nurse cannot close a prescriber review
        alerts.acknowledge(cast.nurse_a, alert.pk, action_taken="Seen, looks fine")
    alerts.acknowledge(prescriber, alert.pk, action_taken="Reviewed: euthymic, proceed (synthetic)")
    assert not [m for m in services.predose_missing(session) if m.item == "prescriber_review"]
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    assert dose_events(ready_course) == 1


@pytest.mark.django_db
def test_unresolved_respiratory_depression_blocks_discharge(
    cast: Cast, ready_course: Any, prescriber: Any, chair: Any
) -> None:
    """CLINICAL.md §4-5 (REMS): monitoring continues until respiratory depression resolves; it
    is its own discharge criterion (it was folded into dissociation before)."""
    start = timezone.now() - 130 * M
    session = checked_session(cast, ready_course, prescriber, chair, start)
    services.sign_off_predose(prescriber, session)
    services.start_dose(cast.nurse_a, session, lot_number="EK1", started_at=start)
    services.record_device(cast.nurse_a, session, at=start + 5 * M)
    for minute in (40, 121):
        services.record_observation(
            cast.nurse_a,
            session,
            at=start + minute * M,
            values={"systolic": 130, "diastolic": 80, "heart_rate": 72, "spo2": 97, "moaas": 5},
        )
    checks: dict[str, bool | None] = {
        "sedation": False,
        "dissociation": False,
        "respiratory_depression": True,
        "respiratory_depression_resolved": False,
    }
    services.record_checks(cast.nurse_a, session, checks, at=start + 122 * M)
    result = services.readiness(session, start + 125 * M)
    assert result.unmet == ("respiratory_depression_resolved",)
    with pytest.raises(Conflict, match="respiratory depression not resolved"):
        services.discharge(
            cast.nurse_a, session, released_to="Partner", instructions_given=True, language="en"
        )
    services.record_checks(
        cast.nurse_a,
        session,
        checks | {"respiratory_depression_resolved": True},
        at=start + 124 * M,
    )
    assert services.readiness(session, start + 125 * M).ready


@pytest.mark.django_db
def test_settings_cannot_lower_the_rems_observation_and_serve_refuses_stored_ones(
    cast: Cast, cli: Any
) -> None:
    """CLINICAL.md §5: what is law is not a setting. Saving is refused naming the rule; a value
    stored before the rule existed stops ``trellis serve`` instead of reporting ready early."""
    from trellis.dosing.models import DosingSettings

    with pytest.raises(InvalidInput, match="legal floor of 120") as info:
        services.save_thresholds(
            cast.admin_a, cast.program_a, {"esketamine_min_observation_min": 60}
        )
    assert info.value.field == "thresholds.esketamine_min_observation_min"
    assert not DosingSettings.objects.exists()
    assert services.check_all_thresholds() == 0
    DosingSettings.objects.create(
        program=cast.program_a, thresholds={"esketamine_min_observation_min": 60}
    )
    result = cli("serve", "--port", "8798")
    assert result.code == 2
    assert result.out == ""
    assert "prog-a: thresholds.esketamine_min_observation_min" in result.err
    assert "Spravato REMS" in result.err

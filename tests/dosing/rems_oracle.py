"""An independent reading of a session's record: what each REMS form field must say, read
straight from the rows that are its one source (issue 19). Tests compare the assembled form
with it field by field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from trellis.core import rems
from trellis.dosing.models import (
    AdverseEvent,
    Discharge,
    DosingSession,
    Observation,
    RemsCertification,
    RemsEnrolment,
)


def _minutes(start: datetime, end: datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds() // 60)


def expected_rems_fields(session: DosingSession) -> dict[str, Any]:
    """Every REMS form field (``rems.FORM_FIELDS``) from its source row."""
    session = DosingSession.objects.get(pk=session.pk)
    first = datetime.fromisoformat(session.device_times[0])  # first device recorded
    released = Discharge.objects.get(session=session)
    predose = session.predose
    bps = [o for o in Observation.objects.filter(session=session).order_by("at") if o.systolic]
    near_40 = [o for o in bps if abs((o.at - first).total_seconds() / 60 - 40) <= 10]
    at_40 = min(near_40, key=lambda o: (abs((o.at - first).total_seconds() / 60 - 40), o.at))
    at_end = [o for o in bps if -30 <= (o.at - released.released_at).total_seconds() / 60 <= 5][-1]
    meds = set(predose["concomitant_medicines"])
    monitor = session.monitoring_by
    expected: dict[str, Any] = {
        "patient": RemsEnrolment.objects.get(patient=session.patient).rems_patient_id,
        "setting": RemsCertification.objects.filter(program=session.program).first().setting_name,  # type: ignore[union-attr]
        "monitoring_hcp": monitor.get_full_name() or monitor.get_username(),
        "session_date": timezone.localtime(first).date(),
        "dose_mg": int(session.dose_mg),
        "lot_number": session.lot_number,
        "total_monitoring_minutes": _minutes(first, released.released_at),
        "minutes_until_ready_to_leave": _minutes(first, session.ready_at),
        "bp_before": (predose["systolic"], predose["diastolic"]),
        "bp_at_40_min": (at_40.systolic, at_40.diastolic),
        "bp_at_end": (at_end.systolic, at_end.diastolic),
        "sedation": session.sedation,
        "sedation_resolved": session.sedation_resolved,
        "dissociation": session.dissociation,
        "dissociation_resolved": session.dissociation_resolved,
        "respiratory_depression": session.respiratory_depression,
        "respiratory_depression_resolved": session.respiratory_depression_resolved,
        "adverse_events": tuple(
            f"{e.description} ({e.get_severity_display()}; {e.outcome or 'ongoing'})"
            for e in AdverseEvent.objects.filter(session=session).order_by("at")
        ),
    }
    for cls, name in rems.MEDICINE_FIELDS.items():
        expected[name] = cls in meds
    return expected


def assert_form_matches_record(form: rems.PatientMonitoringForm, session: DosingSession) -> None:
    expected = expected_rems_fields(session)
    checked = set()
    for name, value in expected.items():
        assert getattr(form, name) == value, (name, getattr(form, name), value)
        checked.add(name)
    # The two judgements the form records (vitals acceptable) are not a copy of one row;
    # every other field is checked above.
    assert set(rems.FORM_FIELDS) - checked == {
        "vitals_acceptable_before",
        "vitals_acceptable_at_end",
    }

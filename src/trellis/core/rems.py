"""Spravato REMS Patient Monitoring Form (CLINICAL.md §4, "REMS").

FDA Spravato REMS (updated 12/31/2024): after **every** esketamine session a Patient Monitoring
Form is submitted **within 7 days**; monitoring lasts **≥ 120 min** and until sedation,
dissociation and respiratory depression resolve. This module assembles the form's data from
what the session recorded (pre-filling what carries over from the patient's previous form),
lists the fields still empty (the session cannot be signed while any is), flags problems, and
tracks due dates. Rendering to PDF/CSV files is the Django side's job; :func:`form_to_csv_row`
gives it the columns.

Carry-over rule (Trellis decision): from the previous form of the **same patient** only
``patient``, ``setting`` and the concomitant-medicine answers carry over — the medicines only
when this session's record does not give them (``concomitant_medicines`` is ``None``, i.e.
"reviewed, unchanged"). ``monitoring_hcp`` does **not** carry over: it attests who watched this
session, so it must be entered each time. Everything else is measured per session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.safety._common import (
    blood_pressure,
    boolean,
    describe,
    parse_datetime,
    reject_unknown_keys,
    same_awareness,
    whole_number,
)
from trellis.core.safety.predose import MEDICINE_CLASSES, medicines_from

#: REMS: the form is due within 7 days of the session (CLINICAL.md §4).
FORM_DUE_DAYS = 7
#: REMS: monitoring for at least 120 minutes (CLINICAL.md §4).
REMS_MIN_MONITORING_MIN = 120
#: The "BP at 40 min" is the reading closest to 40 min after the first device, within ±10 min.
BP_40_MIN = 40
BP_40_WINDOW_MIN = 10
#: The "BP at end" is the last reading in the 30 min before the end of monitoring (or up to 5
#: min after it).
BP_END_WINDOW_BEFORE_MIN = 30
BP_END_WINDOW_AFTER_MIN = 5

#: Form field for each concomitant-medicine class (REMS: sedatives, benzodiazepines,
#: stimulants, MAOIs, and opioids).
MEDICINE_FIELDS = {cls: f"concomitant_{cls}" for cls in MEDICINE_CLASSES}

_EFFECTS = ("sedation", "dissociation", "respiratory_depression")


@dataclass(frozen=True)
class BpReading:
    """One blood pressure reading during the session."""

    at: datetime
    systolic: int
    diastolic: int

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime):
            raise InvalidInput("bp_readings.at", f"must be a date-time, got {describe(self.at)}")
        blood_pressure((self.systolic, self.diastolic), "bp_readings.bp")


@dataclass(frozen=True)
class SessionRecord:
    """What was recorded during one esketamine session (``None`` = not recorded).

    ``predose_bp`` is the blood pressure of the pre-dose check: when given it is the form's
    "BP before", whatever monitoring readings say (its one source; a reading taken at the
    moment of the first device is monitoring, not the pre-dose check). Without it "BP before"
    is the last of ``bp_readings`` at or before the first device.
    ``concomitant_medicines`` is the set of classes taken (see
    :data:`~trellis.core.safety.predose.MEDICINE_CLASSES`); ``None`` means "not re-entered
    this session" and lets the previous form's answers carry over. ``adverse_events`` is a
    tuple of short descriptions; an empty tuple means "none", ``None`` "not recorded".
    """

    patient: str | None = None
    setting: str | None = None
    monitoring_hcp: str | None = None
    session_date: date | None = None
    dose_mg: int | None = None
    lot_number: str | None = None
    first_device_at: datetime | None = None
    monitoring_end_at: datetime | None = None
    ready_to_leave_at: datetime | None = None
    concomitant_medicines: frozenset[str] | None = None
    bp_readings: tuple[BpReading, ...] = ()
    predose_bp: tuple[int, int] | None = None
    vitals_acceptable_before: bool | None = None
    vitals_acceptable_at_end: bool | None = None
    sedation: bool | None = None
    sedation_resolved: bool | None = None
    dissociation: bool | None = None
    dissociation_resolved: bool | None = None
    respiratory_depression: bool | None = None
    respiratory_depression_resolved: bool | None = None
    adverse_events: tuple[str, ...] | None = None
    session_id: str | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], where: str = "session") -> SessionRecord:
        """Build from JSON data: ISO dates/date-times, ``bp_readings`` as
        ``[{"at": ..., "bp": [sys, dia]}]``, lists for medicines and adverse events."""
        if not isinstance(mapping, Mapping):
            raise InvalidInput(where, f"must be a JSON object, got {describe(mapping)}")
        known = tuple(f.name for f in fields(cls))
        reject_unknown_keys(mapping, known, where)
        data: dict[str, Any] = dict(mapping)
        for name in ("patient", "setting", "monitoring_hcp", "lot_number", "session_id"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise InvalidInput(name, f"must be text, got {describe(data[name])}")
        if data.get("session_date") is not None:
            raw = data["session_date"]
            try:
                data["session_date"] = date.fromisoformat(raw) if isinstance(raw, str) else None
            except ValueError:
                data["session_date"] = None
            if data["session_date"] is None:
                raise InvalidInput(
                    "session_date", f"must be an ISO date like 2026-01-15, got {describe(raw)}"
                )
        for name in ("first_device_at", "monitoring_end_at", "ready_to_leave_at"):
            if data.get(name) is not None:
                data[name] = parse_datetime(data[name], name)
        if data.get("dose_mg") is not None:
            data["dose_mg"] = whole_number(data["dose_mg"], "dose_mg", 1, 1000)
        if data.get("concomitant_medicines") is not None:
            meds = data["concomitant_medicines"]
            if not isinstance(meds, list):
                raise InvalidInput(
                    "concomitant_medicines", f"must be a list of classes, got {describe(meds)}"
                )
            data["concomitant_medicines"] = medicines_from(meds)
        readings = data.get("bp_readings", [])
        if not isinstance(readings, list):
            raise InvalidInput("bp_readings", f"must be a list, got {describe(readings)}")
        parsed: list[BpReading] = []
        for n, item in enumerate(readings):
            where_n = f"bp_readings[{n}]"
            if not isinstance(item, Mapping) or set(item) != {"at", "bp"}:
                raise InvalidInput(where_n, 'must be {"at": date-time, "bp": [sys, dia]}')
            sys_, dia = blood_pressure(item["bp"], f"{where_n}.bp")
            parsed.append(BpReading(parse_datetime(item["at"], f"{where_n}.at"), sys_, dia))
        data["bp_readings"] = tuple(parsed)
        if data.get("predose_bp") is not None:
            data["predose_bp"] = blood_pressure(data["predose_bp"], "predose_bp")
        events = data.get("adverse_events")
        if events is not None:
            if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
                raise InvalidInput(
                    "adverse_events", f"must be a list of descriptions, got {describe(events)}"
                )
            data["adverse_events"] = tuple(events)
        for name in (
            "vitals_acceptable_before",
            "vitals_acceptable_at_end",
            *_EFFECTS,
            *(f"{e}_resolved" for e in _EFFECTS),
        ):
            if data.get(name) is not None:
                boolean(data[name], name)
        return cls(**data)


@dataclass(frozen=True)
class PatientMonitoringForm:
    """The REMS Patient Monitoring Form data for one session (``None`` = empty field).

    Every field of the REMS form in CLINICAL.md §4: patient; concomitant sedatives (other than
    benzodiazepines), benzodiazepines, stimulants, MAOIs and opioids (Y/N each); monitoring HCP;
    setting; date; dose (56/84/other, from ``dose_mg``); lot number; total minutes from first
    device to end of monitoring; minutes until the patient would have been ready to leave;
    vitals acceptable before and at end (Y/N); BP before, at 40 min and at end; sedation,
    dissociation and respiratory depression, each with whether it resolved; adverse events.

    ``session_id``, ``prefilled`` (fields carried over from the previous form) and
    ``submitted_on`` are bookkeeping, not form fields.
    """

    patient: str | None = None
    setting: str | None = None
    monitoring_hcp: str | None = None
    session_date: date | None = None
    concomitant_benzodiazepines: bool | None = None
    concomitant_other_sedatives: bool | None = None
    concomitant_stimulants: bool | None = None
    concomitant_maois: bool | None = None
    concomitant_opioids: bool | None = None
    dose_mg: int | None = None
    lot_number: str | None = None
    total_monitoring_minutes: int | None = None
    minutes_until_ready_to_leave: int | None = None
    vitals_acceptable_before: bool | None = None
    vitals_acceptable_at_end: bool | None = None
    bp_before: tuple[int, int] | None = None
    bp_at_40_min: tuple[int, int] | None = None
    bp_at_end: tuple[int, int] | None = None
    sedation: bool | None = None
    sedation_resolved: bool | None = None
    dissociation: bool | None = None
    dissociation_resolved: bool | None = None
    respiratory_depression: bool | None = None
    respiratory_depression_resolved: bool | None = None
    adverse_events: tuple[str, ...] | None = None
    session_id: str | None = None
    prefilled: tuple[str, ...] = field(default=())
    submitted_on: date | None = None

    @property
    def dose_category(self) -> str | None:
        """The form's dose box: ``"56"``, ``"84"`` or ``"other"`` (``None`` if no dose)."""
        if self.dose_mg is None:
            return None
        return str(self.dose_mg) if self.dose_mg in (56, 84) else "other"


#: Form fields in form order (bookkeeping fields excluded).
FORM_FIELDS = tuple(
    f.name
    for f in fields(PatientMonitoringForm)
    if f.name not in ("session_id", "prefilled", "submitted_on")
)


def _minutes(start: datetime | None, end: datetime | None, field_name: str) -> int | None:
    if start is None or end is None:
        return None
    seconds = (end - start).total_seconds()
    if seconds < 0:
        raise InvalidInput(field_name, "is before first_device_at")
    return int(seconds // 60)


def _bp_before(readings: list[BpReading], first: datetime | None) -> tuple[int, int] | None:
    if first is None:
        return None
    before = [r for r in readings if r.at <= first]
    return (before[-1].systolic, before[-1].diastolic) if before else None


def bp_at_40_min(readings: Iterable[BpReading], first: datetime | None) -> tuple[int, int] | None:
    """The "BP at 40 min" (Spravato label, CLINICAL.md §4: BP ~40 min after dosing): the
    reading closest to 40 min after the first device within ±10 min (a tie takes the earlier);
    ``None`` when there is none. The REMS form and the discharge rule both read this."""
    return _bp_at_40(sorted(readings, key=lambda r: r.at), first)


def bp_40_window(first: datetime) -> tuple[datetime, datetime]:
    """When the 40-minute blood pressure may be taken: 30 to 50 min after the first device."""
    return (
        first + timedelta(minutes=BP_40_MIN - BP_40_WINDOW_MIN),
        first + timedelta(minutes=BP_40_MIN + BP_40_WINDOW_MIN),
    )


def _bp_at_40(readings: list[BpReading], first: datetime | None) -> tuple[int, int] | None:
    if first is None:
        return None
    target = first + timedelta(minutes=BP_40_MIN)
    window = timedelta(minutes=BP_40_WINDOW_MIN)
    near = [r for r in readings if abs(r.at - target) <= window]
    if not near:
        return None
    best = min(near, key=lambda r: (abs(r.at - target), r.at))
    return best.systolic, best.diastolic


def _bp_at_end(readings: list[BpReading], end: datetime | None) -> tuple[int, int] | None:
    if end is None:
        return None
    low = end - timedelta(minutes=BP_END_WINDOW_BEFORE_MIN)
    high = end + timedelta(minutes=BP_END_WINDOW_AFTER_MIN)
    near = [r for r in readings if low <= r.at <= high]
    return (near[-1].systolic, near[-1].diastolic) if near else None


def assemble_form(
    session: SessionRecord, previous_form: PatientMonitoringForm | None = None
) -> PatientMonitoringForm:
    """Assemble the REMS Patient Monitoring Form data from a recorded session.

    Source: CLINICAL.md §4 (Spravato REMS, FDA, updated 12/31/2024: form after every session).
    Computed: ``session_date`` (from the first device if not given); total minutes and minutes
    until ready to leave, counted in whole minutes (rounded down) from ``first_device_at``;
    BP before (the pre-dose check's ``predose_bp``; without it the last reading at or before
    the first device), at 40 min (closest reading within
    ±10 min of 40 min) and at end (last reading from 30 min before to 5 min after the end of
    monitoring). Carry-over from ``previous_form`` is described in the module docstring;
    ``prefilled`` names what was carried over. A previous form of another patient is refused.
    """
    s = session
    same_awareness(
        {
            "first_device_at": s.first_device_at,
            "monitoring_end_at": s.monitoring_end_at,
            "ready_to_leave_at": s.ready_to_leave_at,
            **{f"bp_readings[{i}].at": r.at for i, r in enumerate(s.bp_readings)},
        }
    )
    if s.concomitant_medicines is not None:
        for med in s.concomitant_medicines:
            if med not in MEDICINE_CLASSES:
                raise InvalidInput(
                    "concomitant_medicines",
                    f"unknown class {describe(med)} (known: {', '.join(MEDICINE_CLASSES)})",
                )
    if s.dose_mg is not None:
        whole_number(s.dose_mg, "dose_mg", 1, 1000)
    readings = sorted(s.bp_readings, key=lambda r: r.at)
    session_date = s.session_date
    if session_date is None and s.first_device_at is not None:
        session_date = s.first_device_at.date()
    values: dict[str, Any] = {
        "patient": s.patient,
        "setting": s.setting,
        "monitoring_hcp": s.monitoring_hcp,
        "session_date": session_date,
        "dose_mg": s.dose_mg,
        "lot_number": s.lot_number,
        "total_monitoring_minutes": _minutes(
            s.first_device_at, s.monitoring_end_at, "monitoring_end_at"
        ),
        "minutes_until_ready_to_leave": _minutes(
            s.first_device_at, s.ready_to_leave_at, "ready_to_leave_at"
        ),
        "vitals_acceptable_before": s.vitals_acceptable_before,
        "vitals_acceptable_at_end": s.vitals_acceptable_at_end,
        "bp_before": (
            s.predose_bp if s.predose_bp is not None else _bp_before(readings, s.first_device_at)
        ),
        "bp_at_40_min": _bp_at_40(readings, s.first_device_at),
        "bp_at_end": _bp_at_end(readings, s.monitoring_end_at),
        "adverse_events": s.adverse_events,
        "session_id": s.session_id,
    }
    for effect in _EFFECTS:
        values[effect] = getattr(s, effect)
        values[f"{effect}_resolved"] = getattr(s, f"{effect}_resolved")
    if s.concomitant_medicines is not None:
        for cls, name in MEDICINE_FIELDS.items():
            values[name] = cls in s.concomitant_medicines
    prefilled: list[str] = []
    if previous_form is not None:
        if (
            s.patient is not None
            and previous_form.patient is not None
            and s.patient != previous_form.patient
        ):
            raise InvalidInput("previous_form", "is for a different patient")
        carry = ["patient", "setting"]
        if s.concomitant_medicines is None:
            carry += list(MEDICINE_FIELDS.values())
        for name in carry:
            if values.get(name) is None and getattr(previous_form, name) is not None:
                values[name] = getattr(previous_form, name)
                prefilled.append(name)
    return PatientMonitoringForm(**values, prefilled=tuple(prefilled))


def missing_fields(form: PatientMonitoringForm) -> list[str]:
    """Required form fields that are still empty, in form order; the session cannot be signed
    while this list is not empty (dosing issue; REMS form, CLINICAL.md §4).

    ``<effect>_resolved`` is required only when the effect occurred (``sedation`` etc. true).
    Text fields that are blank count as empty. ``adverse_events`` must be recorded (an empty
    list means "none").
    """
    missing: list[str] = []
    for name in FORM_FIELDS:
        value = getattr(form, name)
        if name.endswith("_resolved"):
            effect = name.removesuffix("_resolved")
            if getattr(form, effect) is not True:
                continue
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


def form_problems(
    form: PatientMonitoringForm, min_monitoring_minutes: int = REMS_MIN_MONITORING_MIN
) -> list[str]:
    """Problems to flag on a (possibly complete) form; they do not block signing, because the
    form must report what happened truthfully.

    Source: CLINICAL.md §4 (REMS: monitoring ≥ 120 min and until sedation, dissociation and
    respiratory depression resolve). Flags: total monitoring below the minimum; an effect that
    did not resolve; ready to leave later than monitoring ended; vitals not acceptable at end.
    """
    problems: list[str] = []
    total = form.total_monitoring_minutes
    if total is not None and total < min_monitoring_minutes:
        problems.append(f"monitoring {total} min < {min_monitoring_minutes} min (REMS minimum)")
    for effect in _EFFECTS:
        if getattr(form, effect) is True and getattr(form, f"{effect}_resolved") is False:
            problems.append(f"{effect.replace('_', ' ')} not resolved at end of monitoring")
    ready = form.minutes_until_ready_to_leave
    if total is not None and ready is not None and ready > total:
        problems.append(f"ready to leave at {ready} min, after monitoring ended at {total} min")
    if form.vitals_acceptable_at_end is False:
        problems.append("vitals not acceptable at end of monitoring")
    return problems


def form_due_date(session_date: date) -> date:
    """The REMS form is due within 7 days of the session (CLINICAL.md §4): session + 7 days."""
    if not isinstance(session_date, date) or isinstance(session_date, datetime):
        raise InvalidInput("session_date", f"must be a date, got {describe(session_date)}")
    return session_date + timedelta(days=FORM_DUE_DAYS)


@dataclass(frozen=True)
class FormDue:
    """One form not yet submitted: when it is due and how many days are left."""

    session_id: str | None
    patient: str | None
    session_date: date
    due_date: date
    days_left: int
    overdue: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "patient": self.patient,
            "session_date": self.session_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "days_left": self.days_left,
            "overdue": self.overdue,
        }


def forms_due(forms: Iterable[PatientMonitoringForm], today: date) -> list[FormDue]:
    """The "REMS forms due" list: every form not yet submitted, soonest due first.

    Source: CLINICAL.md §4 (form within 7 days). ``days_left`` = due date − today (0 on the
    due day, negative once late); ``overdue`` when today is after the due date.
    """
    if not isinstance(today, date) or isinstance(today, datetime):
        raise InvalidInput("today", f"must be a date, got {describe(today)}")
    due: list[FormDue] = []
    for n, form in enumerate(forms):
        if form.submitted_on is not None:
            continue
        if form.session_date is None:
            raise InvalidInput(f"forms[{n}].session_date", "is empty: cannot compute a due date")
        due_date = form_due_date(form.session_date)
        days_left = (due_date - today).days
        due.append(
            FormDue(
                form.session_id, form.patient, form.session_date, due_date, days_left, days_left < 0
            )
        )
    return sorted(due, key=lambda d: (d.due_date, d.session_id or ""))


def _yn(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def _bp(value: tuple[int, int] | None) -> str:
    return "" if value is None else f"{value[0]}/{value[1]}"


#: CSV columns in order (form fields plus the dose category box).
CSV_COLUMNS = (
    "patient",
    "setting",
    "monitoring_hcp",
    "session_date",
    *MEDICINE_FIELDS.values(),
    "dose_category",
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
)


def form_to_csv_row(form: PatientMonitoringForm) -> dict[str, str]:
    """The form as one CSV row (ordered dict of :data:`CSV_COLUMNS` → text).

    Y/N for yes/no fields, ``120/80`` for BPs, ISO dates, adverse events joined by ``"; "``
    (``none`` when recorded as none); empty fields are empty strings.
    """
    row: dict[str, str] = {}
    for column in CSV_COLUMNS:
        if column == "dose_category":
            row[column] = form.dose_category or ""
            continue
        value = getattr(form, column)
        if column.startswith("bp_"):
            row[column] = _bp(value)
        elif isinstance(value, bool):
            row[column] = _yn(value)
        elif column == "adverse_events":
            row[column] = "" if value is None else ("; ".join(value) if value else "none")
        elif isinstance(value, date):
            row[column] = value.isoformat()
        else:
            row[column] = "" if value is None else str(value)
    return row


def mark_submitted(form: PatientMonitoringForm, submitted_on: date) -> PatientMonitoringForm:
    """A copy of ``form`` recorded as submitted on ``submitted_on`` (drops it from forms_due)."""
    if not isinstance(submitted_on, date) or isinstance(submitted_on, datetime):
        raise InvalidInput("submitted_on", f"must be a date, got {describe(submitted_on)}")
    return replace(form, submitted_on=submitted_on)


#: The states of a setting's REMS certification (issue 19: renew, suspend, expire, revoke).
CERTIFICATION_STATES = ("current", "not_yet", "expired", "suspended", "revoked")


def certification_status(
    certified_on: date,
    today: date,
    *,
    expires_on: date | None = None,
    suspended_on: date | None = None,
    revoked_on: date | None = None,
) -> str:
    """The state of a setting's Spravato REMS certification on ``today``.

    Source: CLINICAL.md §4 (REMS: esketamine only in a certified outpatient setting). Only
    ``current`` allows booking or dosing esketamine. Order of precedence: ``revoked`` (from
    ``revoked_on``), ``suspended`` (from ``suspended_on`` until reinstated, i.e. the date is
    cleared), ``expired`` (from ``expires_on``, the first day it is no longer valid),
    ``not_yet`` (before ``certified_on``), else ``current``. A renewal is a new certification.
    """
    for name, value in (
        ("certified_on", certified_on),
        ("today", today),
        ("expires_on", expires_on),
        ("suspended_on", suspended_on),
        ("revoked_on", revoked_on),
    ):
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise InvalidInput(name, f"must be a date, got {describe(value)}")
    if expires_on is not None and expires_on <= certified_on:
        raise InvalidInput("expires_on", "must be after the certification date")
    if revoked_on is not None and revoked_on <= today:
        return "revoked"
    if suspended_on is not None and suspended_on <= today:
        return "suspended"
    if expires_on is not None and expires_on <= today:
        return "expired"
    if today < certified_on:
        return "not_yet"
    return "current"


#: The Patient Monitoring Form's layout: its sections and, in each, the fields with their
#: labels as the form prints them (CLINICAL.md §4 lists the fields; the REMS form groups them
#: into patient/setting, medicines, treatment, monitoring, vital signs and effects). Every
#: column of :data:`CSV_COLUMNS` appears exactly once (checked below).
FORM_LAYOUT: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Patient and healthcare setting",
        (
            ("patient", "REMS patient ID"),
            ("setting", "Healthcare setting"),
            ("monitoring_hcp", "Healthcare provider who monitored the patient"),
            ("session_date", "Date of treatment session"),
        ),
    ),
    (
        "Concomitant medicines taken by the patient",
        (
            ("concomitant_benzodiazepines", "Benzodiazepines"),
            ("concomitant_other_sedatives", "Other sedatives (non-benzodiazepine)"),
            ("concomitant_stimulants", "Psychostimulants"),
            ("concomitant_maois", "Monoamine oxidase inhibitors (MAOIs)"),
            ("concomitant_opioids", "Opioids"),
        ),
    ),
    (
        "Treatment",
        (
            ("dose_category", "Dose administered (56 mg / 84 mg / other)"),
            ("dose_mg", "Dose in mg"),
            ("lot_number", "Lot number"),
        ),
    ),
    (
        "Monitoring",
        (
            ("total_monitoring_minutes", "Total minutes from first device to end of monitoring"),
            ("minutes_until_ready_to_leave", "Minutes until the patient was ready to leave"),
            ("vitals_acceptable_before", "Vital signs acceptable before treatment"),
            ("vitals_acceptable_at_end", "Vital signs acceptable at end of monitoring"),
        ),
    ),
    (
        "Blood pressure (mmHg)",
        (
            ("bp_before", "Before treatment"),
            ("bp_at_40_min", "About 40 minutes after treatment"),
            ("bp_at_end", "At end of monitoring"),
        ),
    ),
    (
        "Adverse effects during monitoring",
        (
            ("sedation", "Sedation"),
            ("sedation_resolved", "Sedation resolved"),
            ("dissociation", "Dissociation"),
            ("dissociation_resolved", "Dissociation resolved"),
            ("respiratory_depression", "Respiratory depression"),
            ("respiratory_depression_resolved", "Respiratory depression resolved"),
            ("adverse_events", "Other adverse events"),
        ),
    ),
)
FIELD_LABELS = {name: label for _title, items in FORM_LAYOUT for name, label in items}
assert sorted(FIELD_LABELS) == sorted(CSV_COLUMNS), "FORM_LAYOUT must list every form column"

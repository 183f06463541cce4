"""Health-centre reporting (issue 16): the problem list and status events, and CMS159.

The measure is pure (:mod:`trellis.core.cms159`); this module reads the program's records into
:class:`~trellis.core.cms159.PatientRecord` (diagnoses and status events here, PHQ-9 totals
through :func:`trellis.measures.services.totals_by_patient`), checks roles and audits.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.access.services import poverty_percent_by_patient
from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import has_any_role, require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.core import cms159 as core
from trellis.core import uds
from trellis.core.errors import InvalidInput
from trellis.measures.services import patients_assessed_in, totals_by_patient
from trellis.patients.models import Patient
from trellis.patients.services import patients_by_id
from trellis.reporting.models import Diagnosis, StatusEvent

#: Who opens the quality reports (aggregates); the patient list behind them is for clinical
#: roles only (analysts see de-identified aggregates only).
REPORT_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.PRESCRIBER, Role.ANALYST})
DRILL_DOWN_ROLES = CLINICAL_ROLES
EDIT_ROLES = frozenset({Role.ADMIN, Role.PRESCRIBER, Role.COORDINATOR, Role.THERAPIST})

assert set(StatusEvent.Kind.values) == set(core.STATUS_KINDS)  # one list: the measure's


# --- the problem list ---------------------------------------------------------------------------


def has_diagnoses(patient: Patient) -> bool:
    return Diagnosis.objects.filter(patient=patient).exists()


def diagnoses_of(user: Any, patient: Patient) -> list[Diagnosis]:
    return list(Diagnosis.objects.visible_to(user).filter(patient=patient))


def status_events_of(user: Any, patient: Patient) -> list[StatusEvent]:
    return list(StatusEvent.objects.visible_to(user).filter(patient=patient))


def _check_date(field: str, day: dt.date, today: dt.date) -> None:
    if day > today:
        raise InvalidInput(field, "cannot be in the future")
    if day.year < 1900:
        raise InvalidInput(field, "is before 1900")


@transaction.atomic
def add_diagnosis(
    user: Any,
    patient: Patient,
    *,
    code: str,
    onset: dt.date,
    description: str = "",
    resolved: dt.date | None = None,
    request: HttpRequest | None = None,
) -> Diagnosis:
    """Add an ICD-10-CM diagnosis to the patient's problem list (validated whole; audited)."""
    require_roles(user, patient.program, EDIT_ROLES)
    core.classify_icd10(code)  # raises InvalidInput("code", …) for what is not a code
    today = timezone.localdate()
    _check_date("onset", onset, today)
    if onset < patient.date_of_birth:
        raise InvalidInput("onset", "is before the patient's date of birth")
    if resolved is not None:
        _check_date("resolved", resolved, today)
        if resolved < onset:
            raise InvalidInput("resolved", "is before the onset")
    if len(description) > 200:
        raise InvalidInput("description", "at most 200 characters")
    row = Diagnosis.objects.create(
        program=patient.program,
        patient=patient,
        code=code.strip().upper(),
        description=description.strip(),
        onset=onset,
        resolved=resolved,
        recorded_by=user,
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=row,
        detail={"code": row.code},
    )
    return row


@transaction.atomic
def add_status_event(
    user: Any,
    patient: Patient,
    *,
    kind: str,
    date: dt.date,
    request: HttpRequest | None = None,
) -> StatusEvent:
    require_roles(user, patient.program, EDIT_ROLES)
    if kind not in core.STATUS_KINDS:
        raise InvalidInput("kind", f"must be one of: {', '.join(core.STATUS_KINDS)}")
    _check_date("date", date, timezone.localdate())
    row = StatusEvent.objects.create(
        program=patient.program, patient=patient, kind=kind, date=date, recorded_by=user
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=row,
        detail={"kind": kind},
    )
    return row


# --- CMS159 -------------------------------------------------------------------------------------


def patient_records(program: Program) -> dict[str, core.PatientRecord]:
    """Every patient of ``program`` with a PHQ-9 on record, as the measure reads them (a fixed
    number of queries whatever the number of patients)."""
    phq9 = totals_by_patient(program, "phq9")
    diagnoses: dict[Any, list[core.Diagnosis]] = {}
    for row in Diagnosis.objects.filter(program=program, patient_id__in=list(phq9)):
        category = core.classify_icd10(row.code)
        if category is not None:
            diagnoses.setdefault(row.patient_id, []).append(
                core.Diagnosis(category, row.onset, row.resolved)
            )
    status: dict[Any, list[tuple[Any, dt.date]]] = {}
    for ev in StatusEvent.objects.filter(program=program, patient_id__in=list(phq9)):
        status.setdefault(ev.patient_id, []).append((ev.kind, ev.date))
    births = {pk: p.date_of_birth for pk, p in patients_by_id(program, phq9).items()}
    return {
        str(pid): core.PatientRecord(
            key=str(pid),
            birth_date=births[pid],
            diagnoses=tuple(diagnoses.get(pid, ())),
            status=tuple(status.get(pid, ())),
            phq9=tuple(scores),
        )
        for pid, scores in phq9.items()
        if pid in births
    }


@dataclass(frozen=True)
class Cms159Report:
    result: core.Cms159Result
    rows: list[tuple[Patient, core.PatientResult]]  # empty unless the user may drill down


def cms159_report(
    user: Any,
    program: Program,
    year: int,
    *,
    drill_down: bool = False,
    request: HttpRequest | None = None,
) -> Cms159Report:
    """CMS159 for ``program`` and ``year``; with ``drill_down`` (clinical roles only) the
    patients behind it, audited as an export of patient data."""
    require_roles(user, program, REPORT_ROLES)
    if drill_down and not has_any_role(user, program, DRILL_DOWN_ROLES):
        raise Http404("No such list")
    result = core.cms159(patient_records(program).values(), year)
    rows: list[tuple[Patient, core.PatientResult]] = []
    if drill_down:
        found = patients_by_id(program, (uuid.UUID(r.key) for r in result.patients))
        by_pk = {str(pk): p for pk, p in found.items()}
        rows = [(by_pk[r.key], r) for r in result.patients if r.key in by_pk]
    record(
        action=Action.EXPORT if drill_down else Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="reporting.cms159",
        object_id=str(year),
        detail={"denominator": result.denominator, "patients_listed": len(rows)},
    )
    return Cms159Report(result, rows)


def cms159_for_cli(program: Program, year: int) -> core.Cms159Result:
    """The CLI's aggregate (an operator's command on the server; audited with no actor)."""
    result = core.cms159(patient_records(program).values(), year)
    record(
        action=Action.VIEW,
        program=program,
        actor_username="cli",
        object_type="reporting.cms159",
        object_id=str(year),
        detail={"denominator": result.denominator, "via": "trellis report cms159"},
    )
    return result


def cms159_csv(report: Cms159Report) -> str:
    """The patient list behind CMS159 as CSV (staff only; audited by :func:`cms159_report`)."""
    import io

    from trellis.exports import SafeWriter

    buf = io.StringIO()
    writer = SafeWriter(buf)
    writer.writerow(
        ["patient", "date_of_birth", "index_date", "excluded", "last_phq9_date", "last_phq9",
         "remission"]
    )  # fmt: skip
    for patient, r in report.rows:
        last = r.last_in_window
        writer.writerow(
            [
                patient.full_name,
                patient.date_of_birth.isoformat(),
                r.index_date.isoformat(),
                r.excluded or "",
                last[0].isoformat() if last else "",
                last[1] if last else "",
                "yes" if r.in_numerator else "no",
            ]
        )
    return buf.getvalue()


# --- UDS-style tables ---------------------------------------------------------------------------


def patients_seen_in(program: Program, year: int) -> set[Any]:
    """Patients seen in ``year``: a course of care started in the year, or any questionnaire
    recorded in it."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    tz = timezone.get_current_timezone()
    start = dt.datetime(year, 1, 1, tzinfo=tz)
    end = dt.datetime(year + 1, 1, 1, tzinfo=tz)
    return care.patients_starting_care_in(program, first, last) | patients_assessed_in(
        program, start, end
    )


@dataclass(frozen=True)
class UdsReport:
    year: int
    patients: int
    tables: list[uds.Table]
    cms159: core.Cms159Result


def uds_report(
    user: Any, program: Program, year: int, *, request: HttpRequest | None = None
) -> UdsReport:
    """The UDS-style tables of the program's patients seen in ``year`` (aggregates with small
    cells suppressed; audited as a view of aggregate data)."""
    require_roles(user, program, REPORT_ROLES)
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", f"{year} is not a reporting year (2000-2100)")
    seen = patients_seen_in(program, year)
    poverty = poverty_percent_by_patient(program)
    rows = [
        uds.UdsPatient(
            birth_date=p.date_of_birth,
            sex=p.sex,
            race_ethnicity=tuple(p.race_ethnicity or ()),
            language=p.preferred_language,
            percent_of_poverty=poverty.get(p.pk),
            payer=p.payer,
        )
        for p in patients_by_id(program, seen).values()
        if p.date_of_birth <= dt.date(year, 6, 30)
    ]
    report = UdsReport(
        year=year,
        patients=len(rows),
        tables=uds.tables(rows, year),
        cms159=core.cms159(patient_records(program).values(), year),
    )
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="reporting.uds",
        object_id=str(year),
        detail={"patients": len(rows)},
    )
    return report


def uds_csv(report: UdsReport) -> str:
    """The tables as CSV (one row per cell; small cells suppressed as on the page)."""
    import io

    from trellis.exports import SafeWriter

    buf = io.StringIO()
    writer = SafeWriter(buf)
    writer.writerow(["year", "table", "group", "patients"])
    for table in report.tables:
        for row in table.as_rows():
            writer.writerow([report.year, row["table"], row["group"], row["patients"]])
    for key, value in cms159_shown(report.cms159).items():
        writer.writerow([report.year, "cms159", key, value])
    return buf.getvalue()


def cms159_shown(result: core.Cms159Result) -> dict[str, str]:
    """CMS159 as the shared tables show it: a numerator or denominator from 1 to 10 is shown as
    "<11" and then the rate is not shown either (it would give the small count away)."""
    from trellis.core.equity import SMALL_CELL_MAX, SUPPRESSED_COUNT, SUPPRESSED_VALUE

    def small(n: int) -> bool:
        return 1 <= n <= SMALL_CELL_MAX

    hide = small(result.numerator) or small(result.denominator)
    return {
        "denominator": SUPPRESSED_COUNT if small(result.denominator) else str(result.denominator),
        "numerator": SUPPRESSED_COUNT if small(result.numerator) else str(result.numerator),
        "rate": (SUPPRESSED_VALUE if hide else "" if result.rate is None else f"{result.rate:.4f}"),
    }

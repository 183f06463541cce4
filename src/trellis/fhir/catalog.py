"""What the API serves: per resource type, how rows are found for a program (through each app's
services), built into FHIR resources and searched. The CapabilityStatement is generated from
this table, so it lists exactly what is served.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from trellis.core.errors import InvalidInput
from trellis.fhir import resources as R

Row = Any
Resource = dict[str, Any]


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # token | string | date | reference
    doc: str


@dataclass(frozen=True)
class TypeSpec:
    name: str
    rows: Callable[[Any, uuid.UUID | None], Iterable[Row]]
    build: Callable[[Row, R.Ctx], list[Resource]]
    patient_of: Callable[[Row], Any]
    find: Callable[[Any, str], Row | None]
    params: tuple[Param, ...] = ()
    patient_compartment: bool = True


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


# --- row sources (each app's system accessor) ------------------------------------------------


def _patients(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    from trellis.patients.services import system_patients

    qs = (
        system_patients(program)
        .select_related("program")
        .order_by("family_name", "given_name", "id")
    )
    return qs.filter(pk=pid) if pid else qs


def find_patient(program: Any, rid: str) -> Row | None:
    pid = _uuid(rid)
    return _patients(program, pid).first() if pid else None  # type: ignore[attr-defined]


def _practitioners(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    from trellis.accounts.models import CLINICAL_ROLES, User

    return (
        User.objects.filter(memberships__program=program, memberships__role__in=CLINICAL_ROLES)
        .distinct()
        .order_by("pk")
    )


def _find_practitioner(program: Any, rid: str) -> Row | None:
    n = _int(rid)
    return _practitioners(program, None).filter(pk=n).first() if n else None  # type: ignore[attr-defined]


def _organization(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    return [program]


def _find_organization(program: Any, rid: str) -> Row | None:
    return program if rid == R.program_id(program) else None


def _assessments(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.measures.services import system_assessments

    qs = system_assessments(program).order_by("taken_at", "pk")
    return qs.filter(patient_id=pid) if pid else qs


def _vitals(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.dosing.services import system_vitals

    qs = system_vitals(program).order_by("at", "pk")
    return qs.filter(session__patient_id=pid) if pid else qs


VITAL_CODES = {"85354-9", "8480-6", "8462-4", "8867-4", "59408-5", "2708-6"}


def observation_sources(params: dict[str, list[str]]) -> set[str]:
    """Which sources can match: a category or code search skips the other source's rows
    (scores are category survey, dosing vitals vital-signs) instead of building them."""
    sources = {"score", "vitals"}
    for value in params.get("category", []):
        codes = {alt.rpartition("|")[2] for alt in value.split(",")}
        allowed = set()
        if "survey" in codes:
            allowed.add("score")
        if "vital-signs" in codes:
            allowed.add("vitals")
        sources &= allowed
    for value in params.get("code", []):
        codes = {alt.rpartition("|")[2] for alt in value.split(",")}
        if codes <= VITAL_CODES:
            sources &= {"vitals"}
        elif not codes & VITAL_CODES:
            sources &= {"score"}
    return sources


def observation_rows(
    program: Any, pid: uuid.UUID | None, sources: set[str] | None = None
) -> Iterable[Row]:
    sources = {"score", "vitals"} if sources is None else sources
    if "score" in sources:
        yield from (("score", a) for a in _assessments(program, pid).exclude(instrument="cssrs"))
    if "vitals" in sources:
        yield from (("vitals", o) for o in _vitals(program, pid))


def _observation_build(row: Row, ctx: R.Ctx) -> list[Resource]:
    kind, obj = row
    if kind == "score":
        return [R.score_observation(obj, ctx)]
    return R.vital_observations(obj, ctx)


def _observation_patient(row: Row) -> Any:
    kind, obj = row
    return obj.patient_id if kind == "score" else obj.session.patient_id


def _find_observation(program: Any, rid: str) -> Row | None:
    prefix, _, rest = rid.partition("-")
    if prefix == "score" and (n := _int(rest)):
        a = _assessments(program, None).filter(pk=n).exclude(instrument="cssrs").first()
        return ("score", a) if a else None
    if prefix in ("bp", "hr", "spo2") and (u := _uuid(rest)):
        o = _vitals(program, None).filter(pk=u).first()
        return ("vitals", o) if o else None
    return None


def _qr_rows(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    for a in _assessments(program, pid).filter(instrument__in=R.QUESTIONNAIRES):
        if a.answers:
            yield a


def _find_qr(program: Any, rid: str) -> Row | None:
    n = _int(rid)
    if not n:
        return None
    a = _assessments(program, None).filter(pk=n, instrument__in=R.QUESTIONNAIRES).first()
    return a if a is not None and a.answers else None


def _questionnaires(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    from trellis.core.instruments import get_instrument

    return [get_instrument(i) for i in R.QUESTIONNAIRES]


def _find_questionnaire(program: Any, rid: str) -> Row | None:
    from trellis.core.instruments import get_instrument

    return get_instrument(rid) if rid in R.QUESTIONNAIRES else None


def _episodes(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.care.services import system_episodes

    qs = system_episodes(program).order_by("created_at", "pk")
    return qs.filter(patient_id=pid) if pid else qs


def _find_episode(program: Any, rid: str) -> Row | None:
    u = _uuid(rid)
    return _episodes(program, None).filter(pk=u).first() if u else None


def _condition(e: Row, ctx: R.Ctx) -> list[Resource]:
    from trellis.care.services import protocol_of

    return [R.condition(e, protocol_of(e), ctx)]


def _care_plan(e: Row, ctx: R.Ctx) -> list[Resource]:
    from trellis.care.services import protocol_of, system_activities

    acts = list(system_activities(e.program).filter(episode=e))
    return [R.care_plan(e, protocol_of(e), acts, ctx)]


def _sessions(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.dosing.services import system_sessions

    qs = system_sessions(program).order_by("created_at", "pk")
    return qs.filter(patient_id=pid) if pid else qs


def _integration_notes(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.integration.services import system_integration_notes

    qs = system_integration_notes(program).order_by("at", "pk")
    return qs.filter(episode__patient_id=pid) if pid else qs


def _encounter_rows(program: Any, pid: uuid.UUID | None) -> Iterable[Row]:
    yield from (("dose", s) for s in _sessions(program, pid))
    yield from (("integration", n) for n in _integration_notes(program, pid))


def _encounter_build(row: Row, ctx: R.Ctx) -> list[Resource]:
    kind, obj = row
    return [R.dosing_encounter(obj, ctx) if kind == "dose" else R.integration_encounter(obj, ctx)]


def _encounter_patient(row: Row) -> Any:
    kind, obj = row
    return obj.patient_id if kind == "dose" else obj.episode.patient_id


def _find_encounter(program: Any, rid: str) -> Row | None:
    prefix, _, rest = rid.partition("-")
    if prefix == "dose" and (u := _uuid(rest)):
        s = _sessions(program, None).filter(pk=u).first()
        return ("dose", s) if s else None
    if prefix == "integration" and (n := _int(rest)):
        note = _integration_notes(program, None).filter(pk=n).first()
        return ("integration", note) if note else None
    return None


def _find_medadmin(program: Any, rid: str) -> Row | None:
    prefix, _, rest = rid.partition("-")
    if prefix == "dose" and (u := _uuid(rest)):
        return _sessions(program, None).filter(pk=u, dose_mg__isnull=False).first()
    return None


def _medadmins(program: Any, pid: uuid.UUID | None) -> Any:
    return _sessions(program, pid).filter(dose_mg__isnull=False)


def _appointments(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.booking.services import system_appointments

    qs = system_appointments(program).order_by("start", "pk")
    return qs.filter(patient_id=pid) if pid else qs


def _find_appointment(program: Any, rid: str) -> Row | None:
    u = _uuid(rid)
    return _appointments(program, None).filter(pk=u).first() if u else None


def _consents(program: Any, pid: uuid.UUID | None) -> Any:
    from trellis.patients.services import system_consents

    qs = system_consents(program).order_by("given_on", "pk")
    return qs.filter(patient_id=pid) if pid else qs


def _find_consent(program: Any, rid: str) -> Row | None:
    n = _int(rid)
    return _consents(program, None).filter(pk=n).first() if n else None


PATIENT_PARAM = Param("patient", "reference", "the patient (Patient/id)")
SUBJECT_PARAM = Param("subject", "reference", "the patient (Patient/id)")

TYPES: dict[str, TypeSpec] = {
    spec.name: spec
    for spec in (
        TypeSpec(
            "Patient",
            _patients,
            lambda p, ctx: [R.patient(p, ctx)],
            lambda p: p.pk,
            find_patient,
            (
                Param("identifier", "token", "system|value or value"),
                Param("name", "string", "starts any given or family name"),
                Param("birthdate", "date", "date of birth"),
                Param("gender", "token", "administrative gender"),
            ),
        ),
        TypeSpec(
            "Practitioner",
            _practitioners,
            lambda u, ctx: [R.practitioner(u, ctx)],
            lambda u: None,
            _find_practitioner,
            (Param("name", "string", "starts the name"),),
            patient_compartment=False,
        ),
        TypeSpec(
            "Organization",
            _organization,
            lambda p, ctx: [R.organization(p, ctx)],
            lambda p: None,
            _find_organization,
            patient_compartment=False,
        ),
        TypeSpec(
            "Condition",
            _episodes,
            _condition,
            lambda e: e.patient_id,
            _find_episode,
            (PATIENT_PARAM, SUBJECT_PARAM),
        ),
        TypeSpec(
            "CarePlan",
            _episodes,
            _care_plan,
            lambda e: e.patient_id,
            _find_episode,
            (PATIENT_PARAM, SUBJECT_PARAM, Param("status", "token", "active, completed, revoked")),
        ),
        TypeSpec(
            "Appointment",
            _appointments,
            lambda a, ctx: [R.appointment(a, ctx)],
            lambda a: a.patient_id,
            _find_appointment,
            (PATIENT_PARAM, Param("date", "date", "start"), Param("status", "token", "status")),
        ),
        TypeSpec(
            "Encounter",
            _encounter_rows,
            _encounter_build,
            _encounter_patient,
            _find_encounter,
            (PATIENT_PARAM, SUBJECT_PARAM, Param("date", "date", "period start")),
        ),
        TypeSpec(
            "Observation",
            observation_rows,
            _observation_build,
            _observation_patient,
            _find_observation,
            (
                PATIENT_PARAM,
                SUBJECT_PARAM,
                Param("code", "token", "LOINC code (system|code or code)"),
                Param("category", "token", "survey or vital-signs"),
                Param("date", "date", "effective time (ge, le, gt, lt, eq prefixes)"),
            ),
        ),
        TypeSpec(
            "Questionnaire",
            _questionnaires,
            lambda q, ctx: [R.questionnaire(q, ctx)],
            lambda q: None,
            _find_questionnaire,
            (Param("url", "uri", "canonical URL"), Param("code", "token", "LOINC panel code")),
            patient_compartment=False,
        ),
        TypeSpec(
            "QuestionnaireResponse",
            _qr_rows,
            lambda a, ctx: [R.questionnaire_response(a, ctx)],
            lambda a: a.patient_id,
            _find_qr,
            (
                PATIENT_PARAM,
                SUBJECT_PARAM,
                Param("questionnaire", "reference", "canonical of the questionnaire"),
                Param("authored", "date", "when answered"),
            ),
        ),
        TypeSpec(
            "MedicationAdministration",
            _medadmins,
            lambda s, ctx: [R.medication_administration(s, ctx)],
            lambda s: s.patient_id,
            _find_medadmin,
            (PATIENT_PARAM, SUBJECT_PARAM),
        ),
        TypeSpec(
            "Consent",
            _consents,
            lambda c, ctx: [R.consent(c, ctx)],
            lambda c: c.patient_id,
            _find_consent,
            (PATIENT_PARAM, Param("status", "token", "active or inactive")),
        ),
    )
}

COMMON_PARAMS = (
    Param("_id", "token", "logical id"),
    Param("_lastUpdated", "date", "meta.lastUpdated (ge, le, gt, lt prefixes)"),
    Param("_count", "number", "page size (default 50, at most 200)"),
)
PAGING = ("_count", "_offset", "_format")
DEFAULT_COUNT = 50
MAX_COUNT = 200


# --- search filters on built resources -------------------------------------------------------

PREFIXES = ("eq", "ne", "ge", "le", "gt", "lt")


def parse_date_range(value: str, field: str) -> tuple[str, dt.datetime, dt.datetime]:
    """``[prefix]YYYY[-MM[-DD[Thh:mm[:ss][tz]]]]`` → (prefix, start, end) of the period meant."""
    prefix = value[:2] if value[:2] in PREFIXES else "eq"
    raw = value[2:] if value[:2] in PREFIXES else value
    tz = timezone.get_current_timezone()
    try:
        if len(raw) == 4:
            start = dt.datetime(int(raw), 1, 1, tzinfo=tz)
            end = dt.datetime(int(raw) + 1, 1, 1, tzinfo=tz)
        elif len(raw) == 7:
            y, m = int(raw[:4]), int(raw[5:7])
            start = dt.datetime(y, m, 1, tzinfo=tz)
            end = dt.datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)
        elif len(raw) == 10:
            d = dt.date.fromisoformat(raw)
            start = dt.datetime.combine(d, dt.time.min, tzinfo=tz)
            end = start + dt.timedelta(days=1)
        else:
            start = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if start.tzinfo is None:
                start = start.replace(tzinfo=tz)
            end = start + dt.timedelta(seconds=1)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a FHIR date (e.g. ge2026-01-31)") from None
    return prefix, start, end


def _as_range(value: str) -> tuple[dt.datetime, dt.datetime] | None:
    if not value:
        return None
    _, start, end = parse_date_range(value, "date")
    return start, end


def date_matches(value: str | None, query: str, field: str) -> bool:
    prefix, start, end = parse_date_range(query, field)
    got = _as_range(value or "")
    if got is None:
        return False
    lo, hi = got
    if prefix == "eq":
        return lo >= start and hi <= end
    if prefix == "ne":
        return not (lo >= start and hi <= end)
    if prefix == "ge":
        return hi > start
    if prefix == "gt":
        return hi > end
    if prefix == "le":
        return lo < end
    return lo < start  # lt


def token_matches(codings: list[dict[str, Any]], query: str) -> bool:
    for alt in query.split(","):
        system, bar, code = alt.rpartition("|")
        for c in codings:
            if c.get("code") == code and (not bar or not system or c.get("system") == system):
                return True
    return False


def _codings(concepts: Any) -> list[dict[str, Any]]:
    if isinstance(concepts, dict):
        concepts = [concepts]
    out: list[dict[str, Any]] = []
    for c in concepts or []:
        out.extend(c.get("coding", []))
    return out


def _date_of(res: Resource, param: str) -> Any:
    if param == "birthdate":
        return res.get("birthDate")
    if param == "authored":
        return res.get("authored")
    if res.get("resourceType") == "Appointment":
        return res.get("start")
    if "effectiveDateTime" in res:
        return res["effectiveDateTime"]
    if "period" in res:
        return res["period"].get("start")
    return None


def matches(res: Resource, name: str, value: str) -> bool:
    """True when resource ``res`` satisfies search parameter ``name=value``."""
    rtype = res["resourceType"]
    if name == "_id":
        return res["id"] in value.split(",")
    if name == "_lastUpdated":
        return date_matches(res.get("meta", {}).get("lastUpdated"), value, name)
    if name in ("patient", "subject"):
        return True  # applied in the query
    if name in ("date", "birthdate", "authored"):
        return date_matches(_date_of(res, name), value, name)
    if name == "identifier":
        return token_matches(
            [
                {"system": i.get("system"), "code": i.get("value")}
                for i in res.get("identifier", [])
            ],
            value,
        )
    if name == "name":
        wanted = [v.lower() for v in value.split(",")]
        names = []
        for n in res.get("name", []):
            names += [*n.get("given", []), n.get("family", ""), n.get("text", "")]
        return any(x.lower().startswith(w) for x in names if x for w in wanted)
    if name == "gender":
        return res.get("gender") in value.split(",")
    if name == "status":
        return res.get("status") in value.split(",")
    if name == "code":
        return token_matches(_codings(res.get("code")), value)
    if name == "category":
        return token_matches(_codings(res.get("category")), value)
    if name == "url":
        return res.get("url") == value
    if name == "questionnaire":
        return res.get("questionnaire") == value or res.get("questionnaire", "").endswith(
            "/" + value.rpartition("/")[2]
        )
    raise InvalidInput(name, f"unsupported search parameter for {rtype}")


def supported_params(spec: TypeSpec) -> set[str]:
    return {p.name for p in spec.params} | {p.name for p in COMMON_PARAMS} | set(PAGING)


def patient_filter(spec: TypeSpec, params: dict[str, list[str]]) -> tuple[bool, uuid.UUID | None]:
    """(a patient was asked for, its id or None when the reference names no valid id)."""
    for key in ("patient", "subject"):
        if key in params:
            raw = params[key][-1]
            rid = raw.rpartition("Patient/")[2] if "Patient/" in raw else raw
            return True, _uuid(rid)
    return False, None

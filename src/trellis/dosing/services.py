"""Dosing services: the only place that queries the dosing tables, checks roles and audits.

The clinical rules are pure (``trellis.core.safety`` for the pre-dose check, dose, monitoring
alerts, vitals schedule and discharge readiness; ``trellis.core.rems`` for the Patient
Monitoring Form); these functions feed them what was recorded and store what they decide.
A dose is recorded on the episode through ``care.services.record_event(…, "dose_given")``,
which enforces the first-dose gate; this app contributes the REMS enrolment fact to it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from trellis.accounts.models import CLINICAL_ROLES, Program, Role, Room
from trellis.accounts.services import has_any_role, require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.care.models import Episode
from trellis.core import rems
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.safety import (
    DEFAULT_THRESHOLDS,
    DischargeInputs,
    MissingItem,
    PredoseRecord,
    Readiness,
    SafetyThresholds,
    VitalsDue,
    check_device_time,
    compute_dose,
    discharge_readiness,
    dose_rule_from_protocol,
    monitoring_alerts,
    predose_checklist,
    predose_decision,
    track_requirements_from_protocol,
    vitals_due,
)
from trellis.core.safety import (
    Observation as CoreObservation,
)
from trellis.dosing.models import (
    IN_CHAIR,
    AdverseEvent,
    Amendment,
    Discharge,
    DosingSession,
    DosingSettings,
    Observation,
    RemsCertification,
    RemsEnrolment,
    RemsForm,
    Status,
)
from trellis.exports import SafeDictWriter
from trellis.patients.models import Patient

# Who runs a session (pre-dose check, dose, vitals, discharge, signing).
DOSING_ROLES = frozenset({Role.NURSE, Role.PRESCRIBER})
# Who sees the live board.
BOARD_ROLES = DOSING_ROLES | {Role.ADMIN}
# Who keeps the REMS paperwork (enrolment, forms due, submission).
REMS_ROLES = frozenset({Role.NURSE, Role.PRESCRIBER, Role.ADMIN, Role.COORDINATOR})

#: Fields a signed record can be corrected in, by amendment (value shown beside the original).
AMENDABLE_FIELDS = {
    "lot_number": gettext_lazy("Lot number"),
    "released_to": gettext_lazy("Released to"),
    "notes": gettext_lazy("Session notes"),
    "adverse_events": gettext_lazy("Adverse events"),
    "observations": gettext_lazy("Monitoring observations"),
}


def _audit(
    user: Any,
    action: str,
    session: DosingSession | None,
    obj: Any,
    request: HttpRequest | None,
    detail: dict[str, Any] | None = None,
    *,
    program: Program | None = None,
    patient_id: Any = None,
) -> None:
    record(
        action=action,
        request=request,
        actor=user,
        program=program or (session.program if session else None),
        patient_id=patient_id or (session.patient_id if session else None),
        obj=obj,
        detail=detail or {},
    )


# --- program settings and REMS certification ----------------------------------------------------


def thresholds_for(program: Program) -> SafetyThresholds:
    """The program's safety thresholds: CLINICAL.md §5 ★ defaults with its validated overrides.

    Kept on the program instance (one request, or one seeding run), so a board of many chairs
    reads the settings once.
    """
    cached = program.__dict__.get("_dosing_thresholds")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    row = DosingSettings.objects.filter(program=program).first()
    result = (
        SafetyThresholds.from_mapping(row.thresholds, where="thresholds")
        if row is not None and row.thresholds
        else DEFAULT_THRESHOLDS
    )
    program.__dict__["_dosing_thresholds"] = result
    return result


def check_all_thresholds() -> int:
    """Validate every program's stored threshold overrides (``trellis serve`` runs this before
    it starts): a stored value that breaks a rule, e.g. one that lowers a legal floor of the
    label or REMS (CLINICAL.md §5), stops the start-up naming the program, the setting and the
    rule. Returns how many programs have overrides."""
    rows = DosingSettings.objects.exclude(thresholds={}).select_related("program")
    checked = 0
    for row in rows.order_by("program__slug"):
        SafetyThresholds.from_mapping(row.thresholds, where=f"{row.program.slug}: thresholds")
        checked += 1
    return checked


def threshold_overrides(program: Program) -> dict[str, Any]:
    row = DosingSettings.objects.filter(program=program).first()
    return dict(row.thresholds) if row else {}


@transaction.atomic
def save_thresholds(
    user: Any, program: Program, overrides: dict[str, Any], *, request: HttpRequest | None = None
) -> SafetyThresholds:
    """Store a program's threshold overrides (admin only); refused whole if any value is bad."""
    require_roles(user, program, [Role.ADMIN])
    result = SafetyThresholds.from_mapping(overrides, where="thresholds")
    row, _ = DosingSettings.objects.get_or_create(program=program)
    row.thresholds = dict(overrides)
    row.updated_by = user
    row.save()
    program.__dict__.pop("_dosing_thresholds", None)
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"keys": sorted(overrides)},
    )
    return result


def _latest_certification(program: Program, day: date) -> RemsCertification | None:
    row: RemsCertification | None = RemsCertification.objects.filter(
        program=program, certified_on__lte=day
    ).first()
    return row


def certification_state(cert: RemsCertification | None, on: date | None = None) -> str:
    """The certification's state on ``on`` (CLINICAL.md §4; see
    ``trellis.core.rems.certification_status``); ``"none"`` when nothing is recorded."""
    if cert is None:
        return "none"
    return rems.certification_status(
        cert.certified_on,
        on or timezone.localdate(),
        expires_on=cert.expires_on,
        suspended_on=cert.suspended_on,
        revoked_on=cert.revoked_on,
    )


def certification_in_force(program: Program, on: date | None = None) -> RemsCertification | None:
    """The program's REMS setting certification in force on ``on`` (today by default): the
    latest one certified by then, if it is current (not expired, suspended or revoked)."""
    day = on or timezone.localdate()
    cert = _latest_certification(program, day)
    return cert if certification_state(cert, day) == "current" else None


def latest_certification(program: Program) -> RemsCertification | None:
    """The certification that governs today, whatever its state (the settings page)."""
    return _latest_certification(program, timezone.localdate())


def setting_certified(program: Program, on: date | None = None) -> bool:
    """Whether the program is a certified REMS outpatient setting (booking calls this too)."""
    return certification_in_force(program, on) is not None


_NOT_CURRENT = {
    "none": "is not certified in the Spravato REMS",
    "not_yet": "is not yet certified in the Spravato REMS",
    "expired": "has an expired Spravato REMS certification",
    "suspended": "has its Spravato REMS certification suspended",
    "revoked": "has had its Spravato REMS certification revoked",
}


def require_certified_setting(program: Program, on: date | None = None) -> RemsCertification:
    """Raise :class:`Conflict` unless the setting's certification is current: a setting that is
    not certified (or expired, suspended, revoked) cannot book or record an esketamine dose
    (Spravato REMS, CLINICAL.md §4)."""
    day = on or timezone.localdate()
    latest = _latest_certification(program, day)
    state = certification_state(latest, day)
    if state != "current" or latest is None:
        raise Conflict(
            f"This setting {_NOT_CURRENT[state]}: esketamine cannot be booked or given here. "
            "An admin records the certification on the dosing settings page."
        )
    return latest


def certifications(program: Program) -> QuerySet[RemsCertification]:
    return RemsCertification.objects.filter(program=program)


@transaction.atomic
def record_certification(
    user: Any,
    program: Program,
    *,
    setting_name: str,
    authorised_representative: str,
    certified_on: date,
    certification_id: str = "",
    expires_on: date | None = None,
    request: HttpRequest | None = None,
) -> RemsCertification:
    """Record a certification, or its renewal (a new row that governs from ``certified_on``)."""
    require_roles(user, program, [Role.ADMIN])
    if not setting_name.strip():
        raise InvalidInput("setting_name", "give the setting's name as certified")
    if not authorised_representative.strip():
        raise InvalidInput("authorised_representative", "give the authorised representative")
    if certified_on > timezone.localdate():
        raise InvalidInput("certified_on", "cannot be in the future")
    if expires_on is not None and expires_on <= certified_on:
        raise InvalidInput("expires_on", "must be after the certification date")
    cert = RemsCertification.objects.create(
        program=program,
        setting_name=setting_name.strip(),
        authorised_representative=authorised_representative.strip(),
        certified_on=certified_on,
        certification_id=certification_id.strip(),
        expires_on=expires_on,
        recorded_by=user,
    )
    record(action=Action.CREATE, request=request, actor=user, program=program, obj=cert)
    return cert


@transaction.atomic
def renew_certification(
    user: Any,
    program: Program,
    *,
    certified_on: date,
    expires_on: date | None = None,
    certification_id: str = "",
    request: HttpRequest | None = None,
) -> RemsCertification:
    """Renew the setting's certification: a new row with the same setting and representative
    (an expired or suspended setting becomes current again; a revoked one too, by a new
    certification)."""
    latest = RemsCertification.objects.filter(program=program).first()
    if latest is None:
        raise Conflict("There is no certification to renew: record one first.")
    return record_certification(
        user,
        program,
        setting_name=latest.setting_name,
        authorised_representative=latest.authorised_representative,
        certified_on=certified_on,
        certification_id=certification_id or latest.certification_id,
        expires_on=expires_on,
        request=request,
    )


_CHANGES = ("suspend", "reinstate", "expire", "revoke")


@transaction.atomic
def change_certification(
    user: Any,
    program: Program,
    change: str,
    *,
    on: date | None = None,
    reason: str = "",
    request: HttpRequest | None = None,
) -> RemsCertification:
    """Suspend, reinstate, expire or revoke the certification that governs today (admin only,
    audited). From ``on`` (today by default) esketamine can no longer be booked or given,
    except after ``reinstate``."""
    require_roles(user, program, [Role.ADMIN])
    if change not in _CHANGES:
        raise InvalidInput("change", f"choose one of {', '.join(_CHANGES)}")
    today = timezone.localdate()
    day = on or today
    if day > today + timedelta(days=366):
        raise InvalidInput("on", "is more than a year ahead")
    cert = latest_certification(program)
    if cert is None:
        raise Conflict("This setting has no certification to change.")
    if cert.revoked_on is not None:
        raise Conflict("This certification is revoked: record a new certification instead.")
    if change in ("suspend", "revoke") and not reason.strip():
        raise InvalidInput("reason", f"say why the certification is {change}d")
    if day < cert.certified_on and change != "reinstate":
        raise InvalidInput("on", "is before the certification date")
    if change == "suspend":
        cert.suspended_on, cert.suspension_reason = day, reason.strip()[:300]
    elif change == "reinstate":
        if cert.suspended_on is None:
            raise Conflict("This certification is not suspended.")
        cert.suspended_on, cert.suspension_reason = None, ""
    elif change == "expire":
        if day <= cert.certified_on:
            raise InvalidInput("on", "must be after the certification date")
        cert.expires_on = day
    else:
        cert.revoked_on, cert.revocation_reason = day, reason.strip()[:300]
    cert.save()
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=cert,
        detail={"change": change, "on": day.isoformat()},
    )
    return cert


# --- REMS patient enrolment -----------------------------------------------------------------------


def enrolment_of(user: Any, patient: Patient) -> RemsEnrolment | None:
    row: RemsEnrolment | None = (
        RemsEnrolment.objects.visible_to(user).filter(patient=patient).first()
    )
    return row


def _enrolled(patient_id: Any) -> RemsEnrolment | None:
    return RemsEnrolment.objects.filter(patient_id=patient_id).first()


def rems_fact(episode: Episode) -> dict[str, Any]:
    """First-dose fact for ``care``: the patient's REMS enrolment is on file."""
    return rems_facts_of_many([episode])[episode.pk]


def rems_facts_of_many(episodes: Sequence[Episode]) -> dict[Any, dict[str, Any]]:
    """:func:`rems_fact` of every episode, by episode pk, in one query (its batch twin,
    ``care.services.FIRST_DOSE_FACT_BATCH_PROVIDERS``: the pathway board calls it)."""
    enrolled = set(
        RemsEnrolment.objects.filter(patient_id__in={e.patient_id for e in episodes}).values_list(
            "patient_id", flat=True
        )
    )
    return {e.pk: {"rems_enrolled": e.patient_id in enrolled} for e in episodes}


@transaction.atomic
def enrol_patient(
    user: Any,
    patient: Patient,
    *,
    rems_patient_id: str,
    enrolled_on: date,
    request: HttpRequest | None = None,
) -> RemsEnrolment:
    """Record the patient's REMS enrolment (REMS patient id and date)."""
    require_roles(user, patient.program, REMS_ROLES)
    rems_id = rems_patient_id.strip()
    if not rems_id:
        raise InvalidInput("rems_patient_id", "give the REMS patient id from the enrolment form")
    if enrolled_on > timezone.localdate():
        raise InvalidInput("enrolled_on", "cannot be in the future")
    if RemsEnrolment.objects.filter(patient=patient).exists():
        raise Conflict("This patient is already enrolled in the REMS.")
    row = RemsEnrolment.objects.create(
        program=patient.program,
        patient=patient,
        rems_patient_id=rems_id,
        enrolled_on=enrolled_on,
        recorded_by=user,
    )
    _audit(user, Action.CREATE, None, row, request, program=patient.program, patient_id=patient.pk)
    return row


# --- sessions -------------------------------------------------------------------------------------


def dosing_chairs(program: Program) -> QuerySet[Room]:
    return Room.objects.filter(
        site__program=program, kind=Room.Kind.DOSING_CHAIR, active=True
    ).select_related("site")


def free_dosing_chairs(program: Program) -> QuerySet[Room]:
    """The program's dosing chairs nobody is sitting in (no session in a chair state), the only
    ones a nurse is offered when starting a session; ``start_session`` still refuses a taken one
    (two nurses may start at once)."""
    taken = DosingSession.objects.filter(chair__isnull=False, status__in=IN_CHAIR).values("chair")
    return dosing_chairs(program).exclude(pk__in=taken)


def session_exists(episode: Episode, dose_index: int) -> bool:
    return DosingSession.objects.filter(episode=episode, dose_index=dose_index).exists()


def next_dose_index(episode: Episode) -> int:
    given = care.events_of(episode).filter(kind="dose_given").values_list("index", flat=True)
    return max((i or 0 for i in given), default=0) + 1


def _protocol(session_or_episode: DosingSession | Episode) -> Any:
    episode = (
        session_or_episode.episode
        if isinstance(session_or_episode, DosingSession)
        else session_or_episode
    )
    return care.protocol_of(episode)


#: Where each first-dose prerequisite is put right (URL name, fragment); see
#: ``care.services.plain_prerequisites`` for the words.
_PREREQUISITE_LINKS = {
    "screening": ("care:episode", "episode", ""),
    "rems_patient_enrolment": ("patients:chart", "patient", "#rems-enrolment"),
    "safety_plan": ("integration:safety_plan", "patient", ""),
    "part2_consent": ("patients:chart", "patient", ""),
    "mood_stabiliser_documented": ("care:episode", "episode", ""),
    "consent_to_touch_documented": ("care:episode", "episode", ""),
    "preparation": ("integration:preparation", "patient", ""),
}


def dose_prerequisites(episode: Episode, dose_index: int | None = None) -> list[dict[str, str]]:
    """What must be done before this course's first dose, in plain words, each with a link to
    the page where it is done (issue 19: said when the session is opened, not at the dose).
    Empty after dose 1 or once the gate is open."""
    from django.urls import reverse

    index = dose_index if dose_index is not None else next_dose_index(episode)
    if index != 1:
        return []
    out = []
    for item in care.first_dose_prerequisites(episode):
        name, arg, fragment = _PREREQUISITE_LINKS.get(item.key, ("care:episode", "episode", ""))
        target = episode.pk if arg == "episode" else episode.patient_id
        out.append({"text": item.text, "url": reverse(name, args=[target]) + fragment})
    return out


@transaction.atomic
def start_session(
    user: Any,
    episode: Episode,
    *,
    chair: Room | None = None,
    dose_event: Any = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """Open today's session for the episode's next dose: the pre-dose check starts.

    Esketamine (Spravato REMS, CLINICAL.md §4): the setting must be certified and the patient
    enrolled before any session opens. ``dose_event`` (a ``dose_given`` event already on the
    episode) documents a dose recorded before this record existed (demo, import): the session
    takes its index and :func:`start_dose` links it instead of recording it again.
    """
    require_roles(user, episode.program, DOSING_ROLES)
    protocol = _protocol(episode)
    if not episode.is_active and dose_event is None:
        raise Conflict("This course is no longer active.")
    if protocol.drug == "esketamine":
        require_certified_setting(episode.program)
        if _enrolled(episode.patient_id) is None:
            raise Conflict(
                "The patient is not enrolled in the Spravato REMS: record the enrolment first."
            )
    if DosingSession.objects.filter(episode=episode, status__in=IN_CHAIR).exists():
        raise Conflict("This course already has a session in progress.")
    if dose_event is None:
        # Prerequisites at the door: a first-dose session does not open while the gate is shut.
        open_items = dose_prerequisites(episode)
        if open_items:
            raise Conflict(
                "The first dose cannot be given yet, so no session is opened. "
                + " ".join(i["text"] for i in open_items)
            )
    if chair is not None:
        if chair.site.program_id != episode.program_id or chair.kind != Room.Kind.DOSING_CHAIR:
            raise InvalidInput("chair", "choose one of this program's dosing chairs")
        if DosingSession.objects.filter(chair=chair, status__in=IN_CHAIR).exists():
            raise InvalidInput("chair", f"{chair.name} is taken by another patient")
    index = next_dose_index(episode)
    if dose_event is not None:
        if dose_event.episode_id != episode.pk or dose_event.kind != "dose_given":
            raise InvalidInput("dose_event", "must be a dose_given event of this episode")
        if DosingSession.objects.filter(episode=episode, dose_index=dose_event.index).exists():
            raise Conflict("This dose already has a session record.")
        index = dose_event.index
    session = DosingSession.objects.create(
        program=episode.program,
        patient=episode.patient,
        episode=episode,
        dose_index=index,
        dose_event_id=dose_event.pk if dose_event is not None else None,
        chair=chair,
        drug=protocol.drug,
        route=protocol.route,
        created_by=user,
    )
    _audit(user, Action.CREATE, session, session, request, {"dose_index": session.dose_index})
    return session


def _sessions(user: Any) -> QuerySet[DosingSession]:
    qs: QuerySet[DosingSession] = DosingSession.objects.visible_to(user)
    return qs.select_related("patient", "episode", "chair", "program")


def get_session(
    user: Any, session_id: Any, *, request: HttpRequest | None = None, audit: bool = True
) -> DosingSession:
    """One session, 404 unless visible to ``user``; audited as a view."""
    try:
        session = _sessions(user).get(pk=session_id)
    except (DosingSession.DoesNotExist, ValueError, ValidationError) as exc:
        record(
            action=Action.DENIED,
            request=request,
            actor=user,
            object_type="dosing.dosingsession",
            object_id=str(session_id)[:100],
        )
        raise Http404("No such session") from exc
    if audit:
        _audit(user, Action.VIEW, session, session, request)
    return session


def sessions_of(user: Any, patient: Patient) -> QuerySet[DosingSession]:
    return _sessions(user).filter(patient=patient).order_by("-dose_index")


def episode_for_new_session(user: Any, patient: Patient) -> Episode | None:
    """The patient's active episode (a new session is opened on it)."""
    return care.episodes_of(user, patient).exclude(phase__in=["completed", "withdrawn"]).first()


def _require_open(session: DosingSession) -> None:
    if session.is_signed:
        raise Conflict("This session record is signed: it cannot be edited. Add an amendment.")


def _require_status(session: DosingSession, *allowed: str, doing: str) -> None:
    _require_open(session)
    if session.status not in allowed:
        raise Conflict(f"Cannot {doing} while the session is {session.get_status_display()}.")


# --- pre-dose check -------------------------------------------------------------------------------

PREDOSE_FIELDS = tuple(
    f.name
    for f in fields(PredoseRecord)
    if f.name not in ("override", "pregnancy_review", "clinician_contact_by", "prescriber_sign_off")
)


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def predose_record(session: DosingSession) -> PredoseRecord:
    """The recorded pre-dose check as the pure rule's :class:`PredoseRecord`."""
    data = {k: v for k, v in session.predose.items() if k in PREDOSE_FIELDS}
    contact = session.predose.get("clinician_contact_by")
    if contact:
        data["clinician_contact_by"] = contact
    review = session.predose.get("pregnancy_review")
    if review:
        data["pregnancy_review"] = review
    if session.override_by_id and session.override_reason:
        data["override"] = {
            "prescriber": _name(session.override_by),
            "reason": session.override_reason,
        }
    if session.signoff_by_id:
        data["prescriber_sign_off"] = _name(session.signoff_by)
    return PredoseRecord.from_mapping(data)


def track_requirements(session: DosingSession) -> Any:
    return track_requirements_from_protocol(_protocol(session))


def predose_missing(session: DosingSession) -> list[MissingItem]:
    """Every pre-dose item still missing; the dose cannot start until this is empty.

    Besides the pure checklist: an open possible-mania alert (ASRM total >= 6, CLINICAL.md §1,
    §6) holds the dose until a prescriber has reviewed it (acknowledged the alert).
    """
    missing = predose_checklist(
        track_requirements(session), predose_record(session), thresholds_for(session.program)
    )
    from trellis.alerts.services import open_review_alerts

    for alert in open_review_alerts(session.patient):
        missing.append(
            MissingItem(
                "prescriber_review",
                f"{alert.title}: a prescriber reviews it (acknowledges the alert) before dosing",
            )
        )
    return missing


def predose_hold_reasons(session: DosingSession) -> list[str]:
    p = session.predose
    if p.get("systolic") is None or p.get("diastolic") is None:
        return []
    decision = predose_decision(
        p["systolic"],
        p["diastolic"],
        p.get("heart_rate"),
        p.get("spo2"),
        thresholds_for(session.program),
    )
    return list(decision.reasons)


@transaction.atomic
def record_predose(
    user: Any,
    session: DosingSession,
    values: dict[str, Any],
    *,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """Record (or update) the nurse's pre-dose check; validated whole by the pure rule.

    Changing the vitals after a prescriber's override or sign-off clears them: the prescriber
    must look at the new values.
    """
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.CHECKING, doing="change the pre-dose check")
    data: dict[str, Any] = {}
    for key, value in values.items():
        if key not in (*PREDOSE_FIELDS, "clinician_contact_by"):
            raise InvalidInput(key, "is not part of the pre-dose check")
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, (set, frozenset, tuple)):
            value = sorted(value)
        elif isinstance(value, Decimal):
            value = float(value)
        data[key] = value
    data.setdefault("concomitant_medicines", [])
    PredoseRecord.from_mapping(data)  # validates every value (raises InvalidInput)
    old = session.predose
    vitals = ("systolic", "diastolic", "heart_rate", "spo2")
    if any(old.get(k) != data.get(k) for k in vitals):
        data["vitals_at"] = (now or timezone.now()).isoformat()
        session.override_by = None
        session.override_reason = ""
        session.override_at = None
        session.signoff_by = None
        session.signoff_at = None
    else:
        if old.get("vitals_at"):
            data["vitals_at"] = old["vitals_at"]
    if old.get("pregnancy_review"):
        data["pregnancy_review"] = old["pregnancy_review"]
    session.predose = data
    session.predose_by = user
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"predose": sorted(values)})
    return session


@transaction.atomic
def record_override(
    user: Any, session: DosingSession, reason: str, *, request: HttpRequest | None = None
) -> DosingSession:
    """A prescriber's recorded override of a pre-dose hold, with a reason (CLINICAL.md §5)."""
    require_roles(user, session.program, [Role.PRESCRIBER])
    _require_status(session, Status.CHECKING, doing="override the hold")
    if not predose_hold_reasons(session):
        raise Conflict("There is no pre-dose hold to override.")
    if not reason.strip():
        raise InvalidInput("reason", "say why dosing is safe despite the hold")
    session.override_by = user
    session.override_reason = reason.strip()[:500]
    session.override_at = timezone.now()
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"override": True})
    return session


@transaction.atomic
def record_pregnancy_review(
    user: Any, session: DosingSession, reason: str, *, request: HttpRequest | None = None
) -> DosingSession:
    require_roles(user, session.program, [Role.PRESCRIBER])
    _require_status(session, Status.CHECKING, doing="record a pregnancy review")
    if not reason.strip():
        raise InvalidInput("reason", "say why dosing is appropriate")
    session.predose = {
        **session.predose,
        "pregnancy_review": {"prescriber": _name(user), "reason": reason.strip()[:500]},
    }
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"pregnancy_review": True})
    return session


@transaction.atomic
def sign_off_predose(
    user: Any, session: DosingSession, *, request: HttpRequest | None = None
) -> DosingSession:
    """The prescriber signs off the pre-dose check; refused while any other item is missing."""
    require_roles(user, session.program, [Role.PRESCRIBER])
    _require_status(session, Status.CHECKING, doing="sign off the pre-dose check")
    others = [m for m in predose_missing(session) if m.item != "prescriber_sign_off"]
    if others:
        raise Conflict("The pre-dose check is not complete: " + "; ".join(m.detail for m in others))
    session.signoff_by = user
    session.signoff_at = timezone.now()
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"prescriber_sign_off": True})
    return session


# --- the dose -------------------------------------------------------------------------------------


def dose_rule(session: DosingSession) -> Any:
    return dose_rule_from_protocol(_protocol(session))


@transaction.atomic
def start_dose(
    user: Any,
    session: DosingSession,
    *,
    lot_number: str,
    started_at: datetime | None = None,
    requested_mg: float | None = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """Give the dose: refused while the pre-dose list is not empty, outside the track's limits
    (with the reason), for esketamine in an uncertified setting, or at dose 1 while the
    first-dose gate (REMS enrolment, screening, …) blocks. Records ``dose_given`` on the episode.
    """
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.CHECKING, doing="start the dose")
    missing = predose_missing(session)
    if missing:
        raise Conflict(
            "The dose cannot start until the pre-dose list is empty: "
            + "; ".join(m.detail for m in missing)
        )
    if not lot_number.strip():
        raise InvalidInput("lot_number", "give the lot number on the vial or device pack")
    start = started_at or timezone.now()
    if start > timezone.now() + timedelta(minutes=5):
        raise InvalidInput("started_at", "cannot be in the future")
    if session.drug == "esketamine":
        require_certified_setting(session.program, timezone.localtime(start).date())
    rule = dose_rule(session)
    weight = session.predose.get("weight_kg")
    age = session.patient.age_on(timezone.localtime(start).date())
    plan = compute_dose(
        rule,
        weight_kg=weight,
        age=age,
        dose_number=session.dose_index,
        requested_mg=requested_mg,
        start=start,
    )
    if session.dose_event_id is not None:
        event_id = session.dose_event_id  # recorded before this session record existed
    else:
        event_id = care.record_event(
            user, session.episode, "dose_given", at=start, index=session.dose_index, request=request
        ).pk
    session.lot_number = lot_number.strip()
    session.dose_mg = Decimal(str(plan.mg))
    session.dose_basis = plan.basis[:300]
    session.devices = plan.devices
    # Only the first device is recorded now, at its actual time; the others are recorded as
    # they are given (record_device), never computed ahead (issue 19).
    session.device_times = [start.isoformat()] if session.drug == "esketamine" else []
    session.started_at = start
    session.dose_event_id = event_id
    session.monitoring_by = user
    if session.drug == "esketamine":
        # Administration ends with the last device recorded.
        session.stopped_at = start
        session.status = Status.MONITORING
    else:
        session.status = Status.DOSING
    session.save()
    _audit(
        user,
        Action.UPDATE,
        session,
        session,
        request,
        {"dose_mg": plan.mg, "lot": session.lot_number},
    )
    return session


def device_times_of(session: DosingSession) -> list[datetime]:
    """The recorded times of the esketamine devices given so far, in order."""
    return [datetime.fromisoformat(t) for t in session.device_times]


def devices_pending(session: DosingSession) -> int:
    """How many of the planned esketamine devices are not yet recorded as given."""
    if session.drug != "esketamine" or not session.devices:
        return 0
    return max(0, session.devices - len(session.device_times))


@transaction.atomic
def record_device(
    user: Any,
    session: DosingSession,
    *,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """Record the actual time the next esketamine device was given (CLINICAL.md §4: devices
    5 min apart); refused sooner than 5 min after the previous one, in the future, or beyond
    the planned number of devices."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.MONITORING, Status.READY, doing="record a device")
    when = at or timezone.now()
    if when > timezone.now() + timedelta(minutes=1):
        raise InvalidInput("at", "cannot be in the future")
    number = check_device_time(
        dose_rule(session),
        [timezone.localtime(t) for t in device_times_of(session)],
        timezone.localtime(when),
        session.devices or 0,
    )
    session.device_times = [*session.device_times, when.isoformat()]
    session.stopped_at = when
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"device": number})
    return session


@transaction.atomic
def end_administration(
    user: Any,
    session: DosingSession,
    *,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """The infusion (or injection) ended: monitoring after administration starts."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.DOSING, doing="end the infusion")
    end = at or timezone.now()
    assert session.started_at is not None
    if end < session.started_at:
        raise InvalidInput("at", "the infusion cannot end before it started")
    if end > timezone.now() + timedelta(minutes=5):
        raise InvalidInput("at", "cannot be in the future")
    session.stopped_at = end
    session.status = Status.MONITORING
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"stopped": end.isoformat()})
    return session


# --- monitoring -----------------------------------------------------------------------------------


def observations_of(session: DosingSession) -> QuerySet[Observation]:
    return Observation.objects.filter(session=session).select_related("recorded_by")


def adverse_events_of(session: DosingSession) -> QuerySet[AdverseEvent]:
    return AdverseEvent.objects.filter(session=session)


def _raise_shared_alert(
    session: DosingSession, obs: Observation, alerts: list[dict[str, Any]]
) -> None:
    """Out-of-range values also go to the shared alerts (if ``trellis.alerts`` provides them)."""
    try:
        from trellis.alerts import services as shared
    except ImportError:  # pragma: no cover - the alerts app is optional for this one
        return
    raise_alert = getattr(shared, "raise_alert", None)
    if raise_alert is None:  # pragma: no cover
        return
    chair = session.chair.name if session.chair else "no chair"
    for alert in alerts:
        raise_alert(
            program=session.program,
            kind="vital_sign",
            severity="urgent",
            title=f"{alert['message']} ({chair})",
            detail=f"Dosing session, dose {session.dose_index}: threshold {alert['threshold']}",
            dedupe_key=f"dosing:{obs.pk}:{alert['parameter']}",
            patient=session.patient,
            source=obs,
            at=obs.at,
        )


@transaction.atomic
def record_observation(
    user: Any,
    session: DosingSession,
    *,
    at: datetime | None = None,
    values: dict[str, Any],
    shared_alert: bool = True,
    request: HttpRequest | None = None,
) -> Observation:
    """Record one set of vitals/observations; out-of-range values raise alerts (CLINICAL.md §5)
    naming the threshold that fired, on the board and (``shared_alert``) in the shared alerts.
    Back-charting a past session (demo, import) passes ``shared_alert=False``: nobody is to
    act on an alert about a patient who went home days ago."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(
        session, Status.DOSING, Status.MONITORING, Status.READY, doing="record observations"
    )
    when = at or timezone.now()
    if when > timezone.now() + timedelta(minutes=1):
        raise InvalidInput("at", "cannot be in the future")
    if session.started_at and when < session.started_at - timedelta(hours=1):
        raise InvalidInput("at", "is long before the dose started")
    clean = {k: v for k, v in values.items() if v not in (None, "")}
    if not clean:
        raise InvalidInput("systolic", "record at least one value")
    if ("systolic" in clean) != ("diastolic" in clean):
        raise InvalidInput("diastolic", "give both systolic and diastolic, or neither")
    core_obs = CoreObservation.from_mapping(clean)
    alerts = [a.to_dict() for a in monitoring_alerts(core_obs, thresholds_for(session.program))]
    obs = Observation.objects.create(
        session=session,
        program=session.program,
        at=when,
        recorded_by=user,
        alerts=alerts,
        **{
            k: clean.get(k)
            for k in ("systolic", "diastolic", "heart_rate", "spo2", "moaas", "cadss_total")
        },
        dissociation=clean.get("dissociation", ""),
    )
    if alerts and shared_alert:
        _raise_shared_alert(session, obs, alerts)
    _audit(user, Action.CREATE, session, obs, request, {"alerts": [a["parameter"] for a in alerts]})
    _refresh_ready(session, when)
    return obs


@transaction.atomic
def record_adverse_event(
    user: Any,
    session: DosingSession,
    *,
    at: datetime | None = None,
    description: str,
    severity: str,
    action_taken: str = "",
    outcome: str = "",
    resolved: bool = False,
    request: HttpRequest | None = None,
) -> AdverseEvent:
    """Record an adverse event with severity and outcome; open until closed with an outcome."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(
        session, Status.DOSING, Status.MONITORING, Status.READY, doing="record an adverse event"
    )
    if not description.strip():
        raise InvalidInput("description", "say what happened")
    if severity not in AdverseEvent.Severity.values:
        raise InvalidInput("severity", f"choose one of {', '.join(AdverseEvent.Severity.values)}")
    if resolved and not outcome.strip():
        raise InvalidInput("outcome", "give the outcome of a resolved event")
    when = at or timezone.now()
    event = AdverseEvent.objects.create(
        session=session,
        program=session.program,
        at=when,
        description=description.strip()[:300],
        severity=severity,
        action_taken=action_taken.strip()[:300],
        outcome=outcome.strip()[:300],
        closed_at=timezone.now() if resolved else None,
        closed_by=user if resolved else None,
        recorded_by=user,
    )
    if session.status == Status.READY:
        session.status = Status.MONITORING
        session.save()
    _audit(user, Action.CREATE, session, event, request, {"severity": severity})
    return event


@transaction.atomic
def close_adverse_event(
    user: Any,
    session: DosingSession,
    event_id: Any,
    *,
    outcome: str,
    request: HttpRequest | None = None,
) -> AdverseEvent:
    require_roles(user, session.program, DOSING_ROLES)
    _require_open(session)
    try:
        event = AdverseEvent.objects.get(pk=event_id, session=session)
    except (AdverseEvent.DoesNotExist, ValueError) as exc:
        raise Http404("No such adverse event") from exc
    if not event.is_open:
        raise Conflict("This adverse event is already closed.")
    if not outcome.strip():
        raise InvalidInput("outcome", "give the outcome")
    event.outcome = outcome.strip()[:300]
    event.closed_at = timezone.now()
    event.closed_by = user
    event.save()
    _audit(user, Action.UPDATE, session, event, request, {"closed": True})
    return event


@transaction.atomic
def record_checks(
    user: Any,
    session: DosingSession,
    checks: dict[str, bool | None],
    *,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> DosingSession:
    """The clinician's end-of-monitoring checks: sedation, dissociation and respiratory
    depression, each whether it occurred and whether it resolved (REMS form; discharge)."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.MONITORING, Status.READY, doing="record the checks")
    for effect in ("sedation", "dissociation", "respiratory_depression"):
        occurred = checks.get(effect)
        resolved = checks.get(f"{effect}_resolved")
        if occurred is None:
            raise InvalidInput(effect, "say whether it occurred")
        if occurred and resolved is None:
            raise InvalidInput(f"{effect}_resolved", "say whether it resolved")
        setattr(session, effect, occurred)
        setattr(session, f"{effect}_resolved", resolved if occurred else None)
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"checks": True})
    _refresh_ready(session, at or timezone.now())
    return session


# --- discharge ------------------------------------------------------------------------------------


def readiness(session: DosingSession, now: datetime | None = None) -> Readiness:
    """Ready / not ready for discharge with the unmet criteria (CLINICAL.md §5); values not yet
    recorded count as unmet with their own reason."""
    now = now or timezone.now()
    if session.started_at is None:
        return Readiness(("minimum_observation",), ("the dose has not started",))
    obs = list(observations_of(session))
    unmet: list[tuple[str, str]] = []
    last_moaas = next((o.moaas for o in reversed(obs) if o.moaas is not None), None)
    last_bp = next(((o.systolic, o.diastolic) for o in reversed(obs) if o.systolic), None)
    last_spo2 = next((o.spo2 for o in reversed(obs) if o.spo2 is not None), None)
    p = session.predose
    if last_moaas is None:
        unmet.append(("moaas", "no MOAA/S recorded"))
    if last_bp is None:
        unmet.append(("bp_below_alert", "no blood pressure recorded during monitoring"))
    if last_spo2 is None:
        unmet.append(("spo2", "no SpO2 recorded during monitoring"))
    if session.drug != "esketamine" and session.stopped_at is None:
        unmet.append(("minimum_observation", "the infusion has not ended"))
    pending = devices_pending(session)
    if pending:
        # Not a rule of the core: the record is incomplete until every device is charted.
        unmet.insert(0, ("devices", f"{pending} esketamine device(s) not recorded as given"))
    if len(unmet) > (1 if pending else 0):
        return Readiness(tuple(u[0] for u in unmet), tuple(u[1] for u in unmet))
    assert last_bp is not None
    assert last_moaas is not None
    assert last_spo2 is not None

    def resolved(effect: str) -> bool:
        occurred = getattr(session, effect)
        return occurred is False or getattr(session, f"{effect}_resolved") is True

    bp40 = None
    if session.drug == "esketamine":
        bp40 = rems.bp_at_40_min(
            [
                rems.BpReading(o.at, o.systolic, o.diastolic)
                for o in obs
                if o.systolic and o.diastolic
            ],
            session.started_at,
        )
    inputs = DischargeInputs(
        bp_at_40_min=bp40,
        drug=session.drug,
        first_administration=session.started_at,
        infusion_end=session.stopped_at if session.drug != "esketamine" else None,
        now=max(now, session.stopped_at or session.started_at),
        moaas=last_moaas,
        predose_bp=(int(p["systolic"]), int(p["diastolic"])),
        last_bp=(int(last_bp[0]), int(last_bp[1] or 0)),
        spo2=last_spo2,
        sedation_resolved=resolved("sedation"),
        dissociation_resolved=resolved("dissociation"),
        respiratory_depression_resolved=resolved("respiratory_depression"),
        open_adverse_events=adverse_events_of(session).filter(closed_at__isnull=True).count(),
        ride_confirmed=bool(p.get("ride_home_confirmed")),
    )
    result = discharge_readiness(inputs, thresholds_for(session.program))
    if pending:
        return Readiness(("devices", *result.unmet), (unmet[0][1], *result.details))
    return result


def _refresh_ready(session: DosingSession, now: datetime) -> None:
    if session.status not in (Status.MONITORING, Status.READY):
        return
    th = thresholds_for(session.program)
    if session.drug == "esketamine":
        since, needed = session.started_at, th.esketamine_min_observation_min
    else:
        since, needed = session.stopped_at, th.ketamine_min_observation_min
    # Before the minimum observation time nobody is ready: skip the full rule (and its queries).
    early = since is None or (now - since) < timedelta(minutes=needed)
    ready = False if early else readiness(session, now).ready
    status = Status.READY if ready else Status.MONITORING
    # ``ready_at`` is when the patient last became ready (REMS: minutes until the patient
    # would have been ready to leave); a later unmet criterion clears it.
    ready_at = (session.ready_at or now) if ready else None
    if status != session.status or ready_at != session.ready_at:
        session.status = status
        session.ready_at = ready_at
        session.save()


@transaction.atomic
def discharge(
    user: Any,
    session: DosingSession,
    *,
    released_to: str,
    instructions_given: bool,
    language: str,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> Discharge:
    """Release the patient: refused unless the readiness rule says ready (listing what is
    unmet), the after-care instructions were given and someone to release to is named."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_status(session, Status.MONITORING, Status.READY, doing="discharge")
    when = at or timezone.now()
    result = readiness(session, when)
    if not result.ready:
        raise Conflict("Not ready for discharge: " + "; ".join(result.details))
    if not released_to.strip():
        raise InvalidInput("released_to", "name the person the patient leaves with")
    if not instructions_given:
        raise InvalidInput("instructions_given", "give the after-care instructions first")
    row = Discharge.objects.create(
        session=session,
        program=session.program,
        released_at=when,
        released_by=user,
        released_to=released_to.strip()[:200],
        instructions_given=True,
        language=language,
        readiness=result.to_dict(),
    )
    if session.ready_at is None:
        session.ready_at = when
    session.status = Status.DISCHARGED
    session.save()
    _audit(user, Action.CREATE, session, row, request)
    if session.drug == "esketamine":
        assemble_rems_form(session)
    return row


def discharge_of(session: DosingSession) -> Discharge | None:
    return Discharge.objects.filter(session=session).select_related("released_by").first()


# --- REMS Patient Monitoring Form -----------------------------------------------------------------


def form_to_json(form: rems.PatientMonitoringForm) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(form):
        value = getattr(form, f.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def form_from_json(data: dict[str, Any]) -> rems.PatientMonitoringForm:
    values: dict[str, Any] = {}
    for f in fields(rems.PatientMonitoringForm):
        value = data.get(f.name)
        if value is not None and f.name in ("session_date", "submitted_on"):
            value = date.fromisoformat(value)
        elif isinstance(value, list):
            value = tuple(value)
        if f.name == "prefilled" and value is None:
            value = ()
        values[f.name] = value
    return rems.PatientMonitoringForm(**values)


def session_record(session: DosingSession) -> rems.SessionRecord:
    """What the session recorded, as the REMS module's :class:`SessionRecord`."""
    p = session.predose
    enrolment = _enrolled(session.patient_id)
    cert = certification_in_force(
        session.program,
        timezone.localtime(session.started_at).date() if session.started_at else None,
    )
    # Each field from its one source (issue 19): "BP before" is the pre-dose check's blood
    # pressure, never a monitoring reading; the 40-min and end BPs are monitoring readings.
    predose_bp = (
        (int(p["systolic"]), int(p["diastolic"]))
        if p.get("systolic") and p.get("diastolic")
        else None
    )
    devices = device_times_of(session)
    readings: list[rems.BpReading] = []
    last_obs = None
    for o in observations_of(session):
        if o.systolic and o.diastolic:
            readings.append(rems.BpReading(o.at, o.systolic, o.diastolic))
        last_obs = o
    released = discharge_of(session)
    meds = None
    if p.get("concomitant_medicines_reviewed"):
        meds = frozenset(p.get("concomitant_medicines") or [])
    decision = predose_hold_reasons(session)
    at_end = None
    if released is not None:
        unmet = set(released.readiness.get("unmet", []))
        at_end = not (unmet & {"bp_below_alert", "bp_within_20_percent", "spo2"})
        if last_obs is not None and last_obs.alerts:
            at_end = False
    events = tuple(
        f"{e.description} ({e.get_severity_display()}; {e.outcome or 'ongoing'})"
        for e in adverse_events_of(session)
    )
    return rems.SessionRecord(
        patient=enrolment.rems_patient_id if enrolment else None,
        setting=cert.setting_name if cert else None,
        monitoring_hcp=_name(session.monitoring_by) if session.monitoring_by_id else None,
        session_date=timezone.localtime(session.started_at).date() if session.started_at else None,
        dose_mg=int(session.dose_mg) if session.dose_mg is not None else None,
        lot_number=session.lot_number or None,
        first_device_at=devices[0] if devices else session.started_at,
        monitoring_end_at=released.released_at if released else None,
        ready_to_leave_at=session.ready_at,
        concomitant_medicines=meds,
        bp_readings=tuple(readings),
        predose_bp=predose_bp,
        vitals_acceptable_before=(not decision) if p.get("systolic") else None,
        vitals_acceptable_at_end=at_end,
        sedation=session.sedation,
        sedation_resolved=session.sedation_resolved,
        dissociation=session.dissociation,
        dissociation_resolved=session.dissociation_resolved,
        respiratory_depression=session.respiratory_depression,
        respiratory_depression_resolved=session.respiratory_depression_resolved,
        adverse_events=events,
        session_id=str(session.pk),
    )


def _previous_form(session: DosingSession) -> rems.PatientMonitoringForm | None:
    prev = (
        RemsForm.objects.filter(patient_id=session.patient_id)
        .exclude(session=session)
        .filter(session_date__lte=timezone.localtime(session.started_at).date())
        .order_by("-session_date", "-assembled_at")
        .first()
        if session.started_at
        else None
    )
    return form_from_json(prev.data) if prev else None


def assemble_rems_form(session: DosingSession) -> RemsForm:
    """Assemble (or re-assemble, until signed) the session's REMS Patient Monitoring Form from
    what was recorded, pre-filling what carries over from the patient's previous form."""
    if session.drug != "esketamine":
        raise Conflict("Only esketamine sessions have a REMS Patient Monitoring Form.")
    form = rems.assemble_form(session_record(session), _previous_form(session))
    missing = rems.missing_fields(form)
    day = form.session_date or timezone.localdate()
    row: RemsForm | None = RemsForm.objects.filter(session=session).first()
    if row is not None and row.submitted_at is not None:
        return row
    if row is None:
        row = RemsForm(session=session, program=session.program, patient=session.patient)
    row.data = form_to_json(form)
    row.missing = missing
    row.session_date = day
    row.due_on = rems.form_due_date(day)
    row.assembled_at = timezone.now()
    row.save()
    return row


def rems_form_of(session: DosingSession) -> RemsForm | None:
    return RemsForm.objects.filter(session=session).first()


def get_rems_form(
    user: Any, session: DosingSession, *, request: HttpRequest | None = None, export: str = ""
) -> RemsForm:
    """The session's REMS form (assembled now if needed); an export is audited as such."""
    require_roles(user, session.program, REMS_ROLES | CLINICAL_ROLES)
    row = rems_form_of(session)
    if row is None:
        if session.started_at is None:
            raise Conflict("The dose has not been given yet: there is no REMS form.")
        if session.is_signed:
            raise Conflict("This signed session has no REMS form.")
        row = assemble_rems_form(session)
    if export:
        _audit(user, Action.EXPORT, session, row, request, {"format": export})
    return row


def rems_forms_due(
    user: Any, program: Program | None, today: date | None = None
) -> list[dict[str, Any]]:
    """The "REMS forms due" list: unsubmitted forms, soonest due first (7-day deadline)."""
    if program is None or not has_any_role(user, program, REMS_ROLES):
        return []
    today = today or timezone.localdate()
    rows = list(
        RemsForm.objects.visible_to(user)
        .filter(program=program, submitted_at__isnull=True)
        .select_related("patient", "session")
    )
    by_id = {str(r.session_id): r for r in rows}
    forms = [form_from_json(r.data) for r in rows]
    for f, r in zip(forms, rows, strict=True):
        if f.session_date is None:
            object.__setattr__(f, "session_date", r.session_date)
    due = rems.forms_due(forms, today)
    return [
        {"due": d, "form": by_id[d.session_id or ""], "days_late": max(0, -d.days_left)}
        for d in due
        if d.session_id in by_id
    ]


def overdue_rems_forms(
    user: Any, program: Program | None, today: date | None = None
) -> list[RemsForm]:
    """REMS forms past their 7-day deadline (CLINICAL.md §4) that ``user`` must submit: for a
    nurse or prescriber those of the sessions they monitored, signed or signed off; for an
    admin or coordinator (who keep the program's REMS paperwork) every one of the program."""
    if program is None or not has_any_role(user, program, REMS_ROLES):
        return []
    today = today or timezone.localdate()
    rows = RemsForm.objects.visible_to(user).filter(
        program=program, submitted_at__isnull=True, due_on__lt=today
    )
    if not has_any_role(user, program, [Role.ADMIN, Role.COORDINATOR]):
        rows = rows.filter(
            Q(session__monitoring_by=user)
            | Q(session__signed_by=user)
            | Q(session__signoff_by=user)
        )
    return list(rows.select_related("patient", "session").order_by("due_on"))


@transaction.atomic
def mark_rems_submitted(
    user: Any, session: DosingSession, *, request: HttpRequest | None = None
) -> RemsForm:
    """Mark the form submitted to the REMS: records who and when; refused while incomplete."""
    require_roles(user, session.program, REMS_ROLES)
    row = rems_form_of(session)
    if row is None:
        raise Conflict("There is no REMS form for this session yet.")
    if row.submitted_at is not None:
        raise Conflict("This REMS form was already marked submitted.")
    if row.missing:
        raise Conflict("The REMS form is incomplete: " + ", ".join(row.missing))
    row.submitted_by = user
    row.submitted_at = timezone.now()
    row.save()
    _audit(user, Action.UPDATE, session, row, request, {"submitted": True})
    return row


def rems_csv(row: RemsForm, synthetic: bool) -> str:
    form = form_from_json(row.data)
    data = rems.form_to_csv_row(form)
    out = io.StringIO()
    columns = [*rems.CSV_COLUMNS, "synthetic"]
    writer = SafeDictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerow({**data, "synthetic": "Y" if synthetic else "N"})
    return out.getvalue()


def rems_status(row: RemsForm, today: date | None = None) -> dict[str, Any]:
    """The form's submission status: submitted (when, by whom), due, or overdue (days late);
    the 7-day deadline is REMS law (CLINICAL.md §4)."""
    today = today or timezone.localdate()
    if row.submitted_at is not None:
        return {
            "state": "submitted",
            "when": timezone.localtime(row.submitted_at),
            "by": _name(row.submitted_by),
        }
    late = (today - row.due_on).days
    return {
        "state": "overdue" if late > 0 else "due",
        "due_on": row.due_on,
        "days_late": max(0, late),
        "days_left": max(0, -late),
    }


#: The form's yes/no boxes (annotated ``bool | None`` on the form dataclass).
_YES_NO_FIELDS = frozenset(
    f.name for f in fields(rems.PatientMonitoringForm) if str(f.type) == "bool | None"
)


def _yes_no(value: str) -> str:
    if value == "Y":
        return "[X] Yes   [ ] No"
    if value == "N":
        return "[ ] Yes   [X] No"
    return "[ ] Yes   [ ] No   (not recorded)"


def rems_lines(
    row: RemsForm, synthetic: bool, *, prescriber: str = "", today: date | None = None
) -> list[str]:
    """The form laid out like the REMS Patient Monitoring Form (sections and labels of
    ``rems.FORM_LAYOUT``), with the prescriber's signature block and the submission status
    (overdue shown on the form itself)."""
    from trellis.dosing.pdf import BOLD, RULE

    form = form_from_json(row.data)
    data = rems.form_to_csv_row(form)
    lines = [f"{BOLD}SPRAVATO (esketamine) REMS - Patient Monitoring Form"]
    lines.append("Completed from the session record by the healthcare setting (Trellis).")
    if synthetic:
        lines.append(f"{BOLD}SYNTHETIC DEMO DATA - not a real patient")
    status = rems_status(row, today)
    if status["state"] == "overdue":
        lines.append(
            f"{BOLD}OVERDUE: due {row.due_on.isoformat()} "
            f"({status['days_late']} day(s) late) - submit now"
        )
    for title, items in rems.FORM_LAYOUT:
        lines += ["", f"{BOLD}{title}", RULE]
        for name, label in items:
            value = data[name]
            if name in _YES_NO_FIELDS:
                shown = _yes_no(value)
            else:
                shown = value or "(not recorded)"
            lines.append(f"{label}: {shown}")
    lines += ["", f"{BOLD}Prescriber attestation", RULE]
    lines.append("I attest that this patient was monitored as the Spravato REMS requires.")
    lines.append(f"Prescriber name: {prescriber or '______________________________'}")
    lines.append("")
    lines.append("Signature: ________________________________    Date: ______________")
    lines += ["", f"{BOLD}Submission status", RULE]
    if status["state"] == "submitted":
        lines.append(f"Submitted {status['when']:%Y-%m-%d %H:%M} by {status['by']}")
    elif status["state"] == "overdue":
        lines.append(
            f"NOT SUBMITTED - OVERDUE since {row.due_on.isoformat()} "
            f"({status['days_late']} day(s) late)"
        )
    else:
        lines.append(
            f"Not yet submitted; due {row.due_on.isoformat()} (within 7 days of the session)"
        )
    return lines


def form_prescriber(session: DosingSession) -> str:
    """The prescriber whose block the form carries: the one who signed off the pre-dose check
    (or overrode a hold) for this session."""
    who = session.signoff_by if session.signoff_by_id else session.override_by
    return _name(who) if who is not None else ""


# --- signing and amendments -----------------------------------------------------------------------


def sign_blockers(session: DosingSession) -> list[str]:
    """What stops signing: not discharged, or (esketamine) an empty REMS form field."""
    if session.status != Status.DISCHARGED:
        return ["the patient has not been discharged"]
    if session.drug == "esketamine":
        row = rems_form_of(session)
        missing = row.missing if row else ["(form not assembled)"]
        if missing:
            return [f"REMS form field empty: {name}" for name in missing]
    return []


@transaction.atomic
def sign_session(
    user: Any, session: DosingSession, *, request: HttpRequest | None = None
) -> DosingSession:
    """Sign the session record; from then on it cannot be edited (amendments only)."""
    require_roles(user, session.program, DOSING_ROLES)
    _require_open(session)
    if session.drug == "esketamine" and session.status == Status.DISCHARGED:
        assemble_rems_form(session)
    blockers = sign_blockers(session)
    if blockers:
        raise Conflict("The record cannot be signed yet: " + "; ".join(blockers))
    session.signed_by = user
    session.signed_at = timezone.now()
    session.status = Status.SIGNED
    session.save()
    _audit(user, Action.UPDATE, session, session, request, {"signed": True})
    return session


def current_value(session: DosingSession, field: str) -> str:
    if field == "released_to":
        released = discharge_of(session)
        return released.released_to if released else ""
    if field in ("adverse_events", "observations"):
        return ""
    return str(getattr(session, field) or "")


@transaction.atomic
def amend(
    user: Any,
    session: DosingSession,
    *,
    field: str,
    new_value: str,
    reason: str,
    request: HttpRequest | None = None,
) -> Amendment:
    """Append a correction to a signed record: author, time, reason, old and new value."""
    require_roles(user, session.program, DOSING_ROLES)
    if not session.is_signed:
        raise Conflict(
            "Edit the record directly until it is signed; amendments are for signed records."
        )
    if field not in AMENDABLE_FIELDS:
        raise InvalidInput("field", f"choose one of {', '.join(AMENDABLE_FIELDS)}")
    if not new_value.strip():
        raise InvalidInput("new_value", "give the corrected value")
    if not reason.strip():
        raise InvalidInput("reason", "say why the record is corrected")
    previous = Amendment.objects.filter(session=session, field=field).last()
    old = previous.new_value if previous else current_value(session, field)
    row = Amendment.objects.create(
        session=session,
        program=session.program,
        field=field,
        old_value=old,
        new_value=new_value.strip(),
        reason=reason.strip()[:500],
        author=user,
    )
    _audit(user, Action.CREATE, session, row, request, {"field": field})
    return row


def amendments_of(session: DosingSession) -> QuerySet[Amendment]:
    return Amendment.objects.filter(session=session).select_related("author")


# --- the live board -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bp40Prompt:
    """The board's prompt for the esketamine 40-minute blood pressure (Spravato label,
    CLINICAL.md §4; a discharge criterion): ``upcoming`` before its window, ``due`` inside it
    (30–50 min after the first device), ``missed`` after it with no reading, ``taken``."""

    state: str
    opens_at: datetime
    closes_at: datetime
    reading: tuple[int, int] | None


def bp40_prompt(
    session: DosingSession, observations: Sequence[Observation], now: datetime
) -> Bp40Prompt | None:
    """The 40-minute BP prompt of an esketamine session in the chair (``None`` otherwise)."""
    if session.drug != "esketamine" or session.started_at is None:
        return None
    opens, closes = rems.bp_40_window(session.started_at)
    reading = rems.bp_at_40_min(
        [
            rems.BpReading(o.at, o.systolic, o.diastolic)
            for o in observations
            if o.systolic and o.diastolic
        ],
        session.started_at,
    )
    if reading is not None:
        state = "taken"
    elif now < opens:
        state = "upcoming"
    elif now <= closes:
        state = "due"
    else:
        state = "missed"
    return Bp40Prompt(state, opens, closes, reading)


@dataclass
class BoardRow:
    session: DosingSession
    minutes: int | None
    due: VitalsDue | None
    last: Observation | None
    alerts: list[dict[str, Any]]
    readiness: Readiness | None
    missing: list[MissingItem]
    open_events: int
    bp40: Bp40Prompt | None = None
    devices_pending: int = 0


def board(
    user: Any,
    program: Program | None,
    now: datetime | None = None,
    *,
    request: HttpRequest | None = None,
) -> list[BoardRow]:
    """Every patient in a chair: timer, vitals due next, last values, alerts, readiness."""
    if program is None:
        return []
    require_roles(user, program, BOARD_ROLES)
    now = now or timezone.now()
    th = thresholds_for(program)
    rows = []
    sessions = (
        _sessions(user)
        .filter(program=program, status__in=IN_CHAIR)
        .order_by("chair__name", "created_at")
    )
    for s in sessions:
        obs = list(observations_of(s))
        minutes = int((now - s.started_at).total_seconds() // 60) if s.started_at else None
        due = None
        if s.started_at is not None:
            times = [o.at for o in obs if o.systolic is not None and o.at <= now]
            if s.predose.get("vitals_at"):
                times.append(min(datetime.fromisoformat(s.predose["vitals_at"]), s.started_at))
            due = vitals_due(
                s.drug,
                s.started_at,
                s.stopped_at if s.drug != "esketamine" else None,
                max(now, s.started_at),
                [t for t in times if t <= max(now, s.started_at)],
                th,
            )
        # Alerts shown: those of the latest reading of each parameter (older ones resolved).
        latest: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        for o in reversed(obs):
            for param in ("systolic", "diastolic", "heart_rate", "spo2", "moaas"):
                if getattr(o, param) is None or param in seen:
                    continue
                seen.add(param)
                for a in o.alerts:
                    if a["parameter"] == param:
                        latest[param] = {**a, "at": o.at}
        rows.append(
            BoardRow(
                session=s,
                minutes=minutes,
                due=due,
                last=obs[-1] if obs else None,
                alerts=list(latest.values()),
                readiness=readiness(s, now) if s.started_at else None,
                missing=predose_missing(s) if s.status == Status.CHECKING else [],
                open_events=sum(1 for e in adverse_events_of(s) if e.is_open),
                bp40=bp40_prompt(s, obs, now),
                devices_pending=devices_pending(s),
            )
        )
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="dosing.board",
        detail={"sessions": len(rows)},
    )
    return rows


def sessions_of_day(user: Any, program: Program, now: datetime) -> list[DosingSession]:
    """Sessions for the day's work queues: opened today (the program's day), still in a chair,
    or discharged and not yet signed (any day); in the order opened, one query."""
    day0 = datetime.combine(
        timezone.localtime(now, ZoneInfo(program.time_zone)).date(),
        time.min,
        tzinfo=ZoneInfo(program.time_zone),
    )
    sessions = list(
        DosingSession.objects.visible_to(user)
        .filter(program=program)
        .filter(Q(status__in=IN_CHAIR) | Q(created_at__gte=day0) | Q(status=Status.DISCHARGED))
        .select_related("patient", "episode", "chair", "override_by", "signoff_by")
        .order_by("created_at")
    )
    for s in sessions:
        s.program = program  # one Program instance: its thresholds are read once
        s.episode.program = program
    return sessions


def in_chair_count(user: Any, program: Program | None) -> int:
    if program is None:
        return 0
    return _sessions(user).filter(program=program, status__in=IN_CHAIR).count()


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_sessions(program: Program) -> QuerySet[DosingSession]:
    """The program's dosing sessions.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return DosingSession.objects.filter(program=program).select_related("patient")


def system_vitals(program: Program) -> QuerySet[Observation]:
    """The program's vital-sign observations during dosing.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Observation.objects.filter(program=program).select_related("session")

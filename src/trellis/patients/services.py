"""Patient services: the only place that queries patient tables, checks access and audits.

Views call these; each write is one transaction together with its audit event, so a change and
its audit row are stored together or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.patients.models import Consent, ConsentKind, Patient

# Who may register patients and edit their details and consents.
REGISTRAR_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.PRESCRIBER, Role.NURSE})


def visible_patients(user: Any) -> QuerySet[Patient]:
    return Patient.objects.visible_to(user)


def patients_in_program(user: Any, program: Program | None) -> QuerySet[Patient]:
    """The program's patients, for a user with a clinical role there; else none."""
    if program is None:
        return Patient.objects.none()
    return Patient.objects.visible_to(user).in_program(program)


def patients_by_id(program: Program, ids: Iterable[Any]) -> dict[Any, Patient]:
    """The program's patients with these ids, keyed by id (one query), for reports that count
    patients found through other apps' records; callers check roles and audit."""
    return {p.pk: p for p in Patient.objects.filter(program=program, pk__in=list(ids))}


def search_patients(
    user: Any, program: Program | None, query: str, *, request: HttpRequest | None = None
) -> QuerySet[Patient]:
    """Search the current program's patients by name, date of birth or phone; audited."""
    qs = patients_in_program(user, program)
    query = " ".join(query.split())
    if query:
        terms = Q()
        for word in query.split(" "):
            word_q = (
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(preferred_name__icontains=word)
            )
            digits = "".join(ch for ch in word if ch.isdigit())
            if len(digits) >= 4:
                word_q |= Q(phone__contains=digits)
            try:
                word_q |= Q(date_of_birth=date.fromisoformat(word))
            except ValueError:
                pass
            terms &= word_q
        qs = qs.filter(terms)
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="patients.patient_list",
        detail={"query": query[:100]},
    )
    return qs


def get_patient(
    user: Any,
    patient_id: uuid.UUID | str,
    *,
    request: HttpRequest | None = None,
    audit: bool = True,
) -> Patient:
    """Open one patient's chart: 404 unless visible to ``user``; one audit event per view.

    ``audit=False`` is for a re-read inside the same request that was already audited.
    """
    try:
        patient = Patient.objects.visible_to(user).select_related("program").get(pk=patient_id)
    except (Patient.DoesNotExist, ValueError) as exc:
        record(
            action=Action.DENIED,
            request=request,
            actor=user,
            object_type="patients.patient",
            object_id=str(patient_id)[:100],
        )
        raise Http404("No such patient") from exc
    if not audit:
        return patient
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=patient,
    )
    return patient


@transaction.atomic
def register_patient(
    user: Any,
    program: Program,
    data: dict[str, Any],
    *,
    request: HttpRequest | None = None,
    is_synthetic: bool = False,
) -> Patient:
    """Create a patient in ``program`` from validated form data."""
    require_roles(user, program, REGISTRAR_ROLES)
    patient = Patient(program=program, created_by=user if user.is_authenticated else None, **data)
    patient.is_synthetic = is_synthetic or program.is_synthetic
    patient.full_clean()
    patient.save()
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=program,
        patient_id=patient.pk,
        obj=patient,
    )
    return patient


@transaction.atomic
def update_patient(
    user: Any, patient: Patient, data: dict[str, Any], *, request: HttpRequest | None = None
) -> Patient:
    """Change a patient's details; the audit event lists the fields that changed (not values)."""
    require_roles(user, patient.program, REGISTRAR_ROLES)
    changed = [name for name, value in data.items() if getattr(patient, name) != value]
    for name, value in data.items():
        setattr(patient, name, value)
    patient.full_clean()
    patient.save()
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=patient,
        detail={"fields": sorted(changed)},
    )
    return patient


def consents_of(user: Any, patient: Patient) -> QuerySet[Consent]:
    return Consent.objects.visible_to(user).filter(patient=patient)


def has_active_consent(patient: Patient, kind: str) -> bool:
    """Whether ``patient`` has an active (not withdrawn) consent of ``kind``."""
    return Consent.objects.filter(patient=patient, kind=kind).active().exists()


def reminder_contacts(patient: Patient) -> list[tuple[str, str]]:
    """(channel, address) pairs for reminders: the channels the patient consented to
    (REMINDERS_SMS, REMINDERS_EMAIL) and has an address for."""
    out = []
    if patient.phone and has_active_consent(patient, ConsentKind.REMINDERS_SMS):
        out.append(("sms", patient.phone))
    if patient.email and has_active_consent(patient, ConsentKind.REMINDERS_EMAIL):
        out.append(("email", patient.email))
    return out


def reminder_gaps(patient: Patient) -> list[str]:
    """Why a reminder channel cannot be used, one plain sentence per channel (issue 19: "Send a
    check-in link now" must say why it cannot send): no consent, or no address on file."""
    from django.utils.translation import gettext as _

    out = []
    sms = has_active_consent(patient, ConsentKind.REMINDERS_SMS)
    if not sms and not patient.phone:
        out.append(_("Text message: no consent to reminders by text and no mobile phone on file."))
    elif not sms:
        out.append(_("Text message: the patient has not consented to reminders by text."))
    elif not patient.phone:
        out.append(_("Text message: no mobile phone number on file."))
    email = has_active_consent(patient, ConsentKind.REMINDERS_EMAIL)
    if not email and not patient.email:
        out.append(_("E-mail: no consent to reminders by e-mail and no e-mail address on file."))
    elif not email:
        out.append(_("E-mail: the patient has not consented to reminders by e-mail."))
    elif not patient.email:
        out.append(_("E-mail: no e-mail address on file."))
    return out


@transaction.atomic
def add_consent(
    user: Any,
    patient: Patient,
    *,
    kind: str,
    given_on: date,
    scope: str = "",
    request: HttpRequest | None = None,
) -> Consent:
    require_roles(user, patient.program, CLINICAL_ROLES)
    consent = Consent(
        patient=patient,
        program=patient.program,
        kind=kind,
        scope=scope,
        given_on=given_on,
        recorded_by=user,
    )
    consent.full_clean()
    consent.save()
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=consent,
        detail={"kind": kind},
    )
    return consent


def get_consent(user: Any, patient: Patient, consent_id: int) -> Consent:
    """One consent of ``patient`` the user may see (404 otherwise, also for another patient's)."""
    try:
        return Consent.objects.visible_to(user).get(pk=consent_id, patient=patient)
    except Consent.DoesNotExist as exc:
        raise Http404("No such consent") from exc


WITHDRAWAL_REASON_MIN = 3


@transaction.atomic
def withdraw_consent(
    user: Any,
    patient: Patient,
    consent_id: int,
    *,
    on: date,
    reason: str,
    today: date | None = None,
    request: HttpRequest | None = None,
) -> Consent:
    """Record that the patient withdrew a consent, when and why (the reason is required)."""
    consent = get_consent(user, patient, consent_id)
    require_roles(user, consent.program, CLINICAL_ROLES)
    if not consent.active:
        raise Conflict(_("This consent was already withdrawn."))
    reason = (reason or "").strip()
    if len(reason) < WITHDRAWAL_REASON_MIN:
        raise InvalidInput("reason", _("Say why the consent is withdrawn (a few words)."))
    if len(reason) > 500:
        raise InvalidInput("reason", _("Keep the reason under 500 characters."))
    if on < consent.given_on:
        raise InvalidInput("withdrawn_on", _("A consent cannot be withdrawn before it was given."))
    if on > (today or timezone.localdate()):
        raise InvalidInput("withdrawn_on", _("A withdrawal cannot be dated in the future."))
    consent.withdrawn_on = on
    consent.withdrawn_by = user
    consent.withdrawal_reason = reason
    consent.save(update_fields=["withdrawn_on", "withdrawn_by", "withdrawal_reason"])
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=consent.program,
        patient_id=consent.patient_id,
        obj=consent,
        detail={"withdrawn_on": on.isoformat(), "kind": consent.kind, "reason": reason},
    )
    return consent


@transaction.atomic
def ensure_synthetic_patient(
    actor: Any,
    program: Program,
    data: dict[str, Any],
    consents: Sequence[tuple[str, date, str]],
) -> tuple[Patient, bool]:
    """Create a synthetic demo patient unless it exists (same program, name and birth date).

    Only for synthetic programs: real patient data never comes through here.
    """
    if not program.is_synthetic:
        raise NotAllowed("Synthetic patients belong only in a synthetic (demo) program.")
    existing = Patient.objects.filter(
        program=program,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data["date_of_birth"],
    ).first()
    if existing is not None:
        return existing, False
    patient = register_patient(actor, program, data, is_synthetic=True)
    for kind, given_on, scope in consents:
        add_consent(actor, patient, kind=kind, given_on=given_on, scope=scope)
    return patient, True


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_patients(program: Program) -> QuerySet[Patient]:
    """The program's patients.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Patient.objects.filter(program=program)


def system_consents(program: Program) -> QuerySet[Consent]:
    """The program's consent records.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Consent.objects.filter(program=program).select_related("patient")


def find_same_patient(program: Program, data: dict[str, Any]) -> Patient | None:
    """A patient of ``program`` with the same name and date of birth (an import's duplicate)."""
    return Patient.objects.filter(
        program=program,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data["date_of_birth"],
    ).first()


def import_patient(program: Program, data: dict[str, Any], *, audit_actor: str) -> Patient:
    """Register a patient read from an imported record (``trellis fhir import``).

    Run by the server's operator on the command line (no staff user); validated like a
    registration (InvalidInput naming the field) and audited naming ``audit_actor``.
    """
    patient = Patient(program=program, **data)
    patient.is_synthetic = patient.is_synthetic or program.is_synthetic
    try:
        patient.full_clean()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(field, " ".join(messages)) from None
    patient.save()
    record(
        action=Action.CREATE,
        actor_username=audit_actor,
        program=program,
        patient_id=patient.pk,
        obj=patient,
        detail={"source": "fhir import"},
    )
    return patient

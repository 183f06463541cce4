"""Care services: start an episode on a track, record what happens, keep the plan honest.

Other apps use these functions (never the care tables directly): dosing records ``dose_given``
through :func:`record_event`, integration records ``integration_done``, and so on. Apps that
hold facts needed before the first dose (a safety plan, REMS enrolment) contribute them through
``FIRST_DOSE_FACT_PROVIDERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care.models import (
    CareActivity,
    Episode,
    EpisodeEvent,
    RequirementRecord,
    ScreeningRecord,
)
from trellis.core import pathway, screening
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.protocols import Protocol, load_protocol
from trellis.patients.models import ConsentKind, Patient
from trellis.patients.services import has_active_consent

# Who may start episodes, record screening and change the plan.
PLANNER_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.PRESCRIBER})
# Event kinds and the plan activity each one completes (by name and index).
EVENT_COMPLETES = {
    "preparation_done": "preparation",
    "dose_given": "dose",
    "integration_done": "integration",
    "check_in_done": "check_in",
}

# Apps add facts for the first-dose check: callable(episode) -> dict of FirstDoseFacts fields.
FIRST_DOSE_FACT_PROVIDERS: list[Callable[[Episode], dict[str, Any]]] = []


def protocol_of(episode: Episode) -> Protocol:
    return load_protocol(episode.protocol_id)


# --- reading ------------------------------------------------------------------------------------


def episodes_of(user: Any, patient: Patient) -> QuerySet[Episode]:
    return Episode.objects.visible_to(user).filter(patient=patient)


def get_episode(
    user: Any, episode_id: Any, *, request: HttpRequest | None = None, audit: bool = True
) -> Episode:
    """One episode, 404 unless visible to ``user``; audited as a view of the patient's data."""
    try:
        episode = (
            Episode.objects.visible_to(user).select_related("patient", "program").get(pk=episode_id)
        )
    except (Episode.DoesNotExist, ValueError) as exc:
        raise Http404("No such episode") from exc
    if audit:
        record(
            action=Action.VIEW,
            request=request,
            actor=user,
            program=episode.program,
            patient_id=episode.patient_id,
            obj=episode,
        )
    return episode


def activities_of(episode: Episode) -> QuerySet[CareActivity]:
    """The episode's activities (the caller already holds an access-checked episode)."""
    return CareActivity.objects.filter(episode=episode)


def events_of(episode: Episode) -> QuerySet[EpisodeEvent]:
    return EpisodeEvent.objects.filter(episode=episode)


def active_episodes(user: Any, program: Program | None) -> QuerySet[Episode]:
    """The program's episodes that are neither completed nor withdrawn."""
    if program is None:
        return Episode.objects.none()
    return (
        Episode.objects.visible_to(user)
        .filter(program=program)
        .exclude(phase__in=["completed", "withdrawn"])
        .select_related("patient", "primary_therapist")
    )


def latest_screening(episode: Episode) -> ScreeningRecord | None:
    return ScreeningRecord.objects.filter(episode=episode).first()


# --- starting and planning ----------------------------------------------------------------------


def _save_plan(episode: Episode, plan: pathway.Plan, source: str) -> list[CareActivity]:
    rows = [
        CareActivity(
            episode=episode,
            program=episode.program,
            kind=a.kind,
            name=a.name,
            index=a.index,
            earliest=a.earliest,
            target=a.target,
            latest=a.latest,
            after=a.after or "",
            minutes=a.minutes,
            instrument=a.instrument or "",
            needs=list(a.needs),
            note=a.note or "",
            source=source,
        )
        for a in plan.activities
    ]
    return CareActivity.objects.bulk_create(rows)


@transaction.atomic
def start_episode(
    user: Any,
    patient: Patient,
    *,
    protocol_id: str,
    referred_on: date,
    start_date: date | None = None,
    adaptations: Iterable[str] = (),
    primary_therapist: Any = None,
    request: HttpRequest | None = None,
    referred_at: datetime | None = None,
) -> Episode:
    """Open a course on ``protocol_id`` for ``patient`` and lay out its whole pathway."""
    require_roles(user, patient.program, PLANNER_ROLES)
    protocol = load_protocol(protocol_id, field="protocol")
    adapt = pathway.validate_adaptations(adaptations)
    start = start_date or referred_on
    if start < referred_on:
        raise InvalidInput("start_date", "the pathway cannot start before the referral")
    if (
        Episode.objects.filter(patient=patient)
        .exclude(phase__in=["completed", "withdrawn"])
        .exists()
    ):
        raise Conflict("This patient already has an active course; complete or withdraw it first.")
    # Requirements before dose 1 (Part 2 consent, safety plan, REMS enrolment…) are gathered
    # during preparation; opening the episode does not need them, the first dose does.
    episode = Episode.objects.create(
        program=patient.program,
        patient=patient,
        protocol_id=protocol.id,
        protocol_version=str(protocol.version),
        adaptations=list(adapt),
        referred_on=referred_on,
        start_date=start,
        primary_therapist=primary_therapist,
        created_by=user,
    )
    _save_plan(episode, pathway.plan(protocol, start, adapt), CareActivity.Source.PLAN)
    when = referred_at or timezone.make_aware(datetime.combine(referred_on, datetime.min.time()))
    _append_event(user, episode, "referred", when)
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=patient.pk,
        obj=episode,
        detail={"protocol": protocol.id, "adaptations": list(adapt)},
    )
    return episode


def _core_events(episode: Episode, extra: EpisodeEvent | None = None) -> list[pathway.Event]:
    rows = list(EpisodeEvent.objects.filter(episode=episode))
    if extra is not None:
        rows.append(extra)
    return [pathway.Event(e.kind, e.at, e.index, e.outcome or None) for e in rows]


def _append_event(
    user: Any,
    episode: Episode,
    kind: str,
    at: datetime,
    *,
    index: int | None = None,
    outcome: str = "",
    note: str = "",
) -> EpisodeEvent:
    event = EpisodeEvent(
        episode=episode,
        program=episode.program,
        kind=kind,
        at=at,
        index=index,
        outcome=outcome,
        note=note,
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
    )
    # The pure rule decides whether this event fits the course so far (raises InvalidInput).
    phase = pathway.phase_from_events(_core_events(episode, event), protocol_of(episode))
    event.save()
    if phase != episode.phase:
        episode.phase = phase
        episode.save(update_fields=["phase"])
    return event


@transaction.atomic
def record_event(
    user: Any,
    episode: Episode,
    kind: str,
    *,
    at: datetime | None = None,
    index: int | None = None,
    outcome: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> EpisodeEvent:
    """Record what happened (a dose, an integration session, …), mark the planned activity done
    and advance the phase. Events that contradict the course raise InvalidInput."""
    require_roles(user, episode.program, CLINICAL_ROLES)
    if kind not in pathway.EVENT_KINDS:
        raise InvalidInput("kind", f"unknown event {kind!r}")
    at = at or timezone.now()
    if kind == "dose_given" and index == 1:
        blockers = first_dose_blockers(episode)
        if blockers:
            raise Conflict("The first dose cannot be given yet: " + "; ".join(blockers))
    event = _append_event(user, episode, kind, at, index=index, outcome=outcome, note=note)
    name = EVENT_COMPLETES.get(kind)
    if name and index is not None:
        CareActivity.objects.filter(
            episode=episode, name=name, index=index, status__in=["planned", "scheduled"]
        ).update(status=CareActivity.Status.DONE, done_at=at, done_by=user)
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        obj=event,
        detail={"kind": kind, "index": index},
    )
    return event


# --- screening and the first-dose gate ----------------------------------------------------------


@transaction.atomic
def record_screening(
    user: Any,
    episode: Episode,
    answers: dict[str, bool],
    *,
    today: date | None = None,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> ScreeningRecord:
    """Evaluate the track's screening rules for the patient and record the outcome."""
    require_roles(user, episode.program, PLANNER_ROLES | {Role.NURSE})
    protocol = protocol_of(episode)
    age = episode.patient.age_on(today or timezone.localdate())
    result = screening.screen(protocol, answers, age)
    screening_record = ScreeningRecord.objects.create(
        episode=episode,
        program=episode.program,
        answers=answers,
        age=age,
        outcome=result.outcome,
        reasons=[str(r) for r in result.reasons],
        recorded_by=user,
    )
    now = at or timezone.now()
    if episode.phase == "referred":
        _append_event(user, episode, "screening_started", now)
    _append_event(user, episode, "screened", now, outcome=result.outcome)
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        obj=screening_record,
        detail={"outcome": result.outcome},
    )
    return screening_record


@transaction.atomic
def approve_review(
    user: Any, episode: Episode, *, note: str, request: HttpRequest | None = None
) -> ScreeningRecord:
    """A prescriber approves a ``needs_review`` screening, with a note of the reasoning."""
    require_roles(user, episode.program, [Role.PRESCRIBER])
    latest = latest_screening(episode)
    if latest is None or latest.outcome != "needs_review":
        raise Conflict("Only a screening that needs prescriber review can be approved.")
    if not note.strip():
        raise InvalidInput("note", "say why the track is appropriate despite the review reasons")
    latest.review_approved_by = user
    latest.review_note = note.strip()
    latest.save(update_fields=["review_approved_by", "review_note"])
    _append_event(user, episode, "review_approved", timezone.now(), note=note.strip()[:500])
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        obj=latest,
        detail={"review_approved": True},
    )
    return latest


def first_dose_facts(episode: Episode) -> screening.FirstDoseFacts:
    latest = latest_screening(episode)
    facts: dict[str, Any] = {
        "screening_outcome": latest.outcome if latest else "needs_review",
        "review_approved": bool(latest and latest.review_approved_by_id),
        "part2_consent": has_active_consent(episode.patient, ConsentKind.PART2),
        "preparation_sessions_done": EpisodeEvent.objects.filter(
            episode=episode, kind="preparation_done"
        ).count(),
        "hours_since_referral": (
            timezone.now()
            - timezone.make_aware(datetime.combine(episode.referred_on, datetime.min.time()))
        ).total_seconds()
        / 3600,
    }
    for provider in FIRST_DOSE_FACT_PROVIDERS:
        facts.update(provider(episode))
    return screening.FirstDoseFacts(**facts)


def first_dose_blockers(episode: Episode) -> list[str]:
    """What still blocks dose 1 (empty: none). No screening on file counts as not screened."""
    if latest_screening(episode) is None:
        return ["screening: not yet recorded"]
    extra = 1 if "medical-distrust" in episode.adaptations else 0
    return screening.first_dose_blockers(protocol_of(episode), first_dose_facts(episode), extra)


@transaction.atomic
def document_requirement(
    user: Any,
    episode: Episode,
    kind: str,
    detail: str,
    *,
    request: HttpRequest | None = None,
) -> RequirementRecord:
    """Document a pre-dose requirement kept in the care record (mood stabiliser, consent to
    touch), with what was seen, e.g. "lithium 900 mg nightly, level 0.7 on 2026-01-10"."""
    require_roles(user, episode.program, [Role.PRESCRIBER, Role.NURSE, Role.THERAPIST])
    if kind not in RequirementRecord.Kind.values:
        raise InvalidInput("kind", f"unknown requirement {kind!r}")
    if not detail.strip():
        raise InvalidInput("detail", "say what was documented (e.g. the medicine and dose)")
    row = RequirementRecord.objects.create(
        episode=episode,
        program=episode.program,
        kind=kind,
        detail=detail.strip(),
        documented_by=user,
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        obj=row,
        detail={"kind": kind},
    )
    return row


def _care_record_facts(episode: Episode) -> dict[str, Any]:
    kinds = set(RequirementRecord.objects.filter(episode=episode).values_list("kind", flat=True))
    return dict.fromkeys(kinds, True)


FIRST_DOSE_FACT_PROVIDERS.append(_care_record_facts)


# --- adherence, gaps, relapse boosters ----------------------------------------------------------


@dataclass(frozen=True)
class EpisodeAdherence:
    episode: Episode
    report: pathway.AdherenceReport


def adherence(episode: Episode, now: datetime | None = None) -> pathway.AdherenceReport:
    """Integration adherence of the episode: per dose, inside its window or not (pure rule)."""
    protocol = protocol_of(episode)
    events = list(EpisodeEvent.objects.filter(episode=episode))
    doses = [(e.index or 0, e.at) for e in events if e.kind == "dose_given"]
    needing = set(pathway.doses_needing_integration(protocol, [i for i, _ in doses]))
    # Integrations after doses that need none (tracks with ``every`` > 1) are not counted.
    integrations = [
        (e.index, e.at)
        for e in events
        if e.kind == "integration_done" and (e.index is None or e.index in needing)
    ]
    return pathway.integration_adherence(
        [d for d in doses if d[0] in needing],
        integrations,
        protocol.integration.within_hours,
        now or timezone.now(),
    )


def integration_gaps(
    user: Any, program: Program | None, now: datetime | None = None
) -> list[tuple[Episode, pathway.IntegrationGap]]:
    """Every integration window of the program's active episodes that closed with none."""
    gaps = []
    for episode in active_episodes(user, program):
        for gap in adherence(episode, now).gaps:
            gaps.append((episode, gap))
    return gaps


@transaction.atomic
def add_relapse_booster(
    user: Any, episode: Episode, warning_date: date, *, request: HttpRequest | None = None
) -> list[CareActivity]:
    """A relapse warning: an integration booster within 72 h and a prescriber review before any
    re-dose (CLINICAL.md §3). Idempotent for the same warning date."""
    require_roles(user, episode.program, CLINICAL_ROLES)
    protocol = protocol_of(episode)
    acts = pathway.relapse_response(warning_date, protocol)
    existing = CareActivity.objects.filter(
        episode=episode, source=CareActivity.Source.BOOSTER, earliest=warning_date
    )
    if existing.exists():
        return list(existing)
    taken = CareActivity.objects.filter(episode=episode, source=CareActivity.Source.BOOSTER)
    offset = taken.count() // max(len(acts), 1)
    shifted = [pathway.Activity(**{**a.__dict__, "index": a.index + offset}) for a in acts]
    plan = pathway.Plan(protocol.id, str(protocol.version), warning_date, (), tuple(shifted))
    rows = _save_plan(episode, plan, CareActivity.Source.BOOSTER)
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        object_type="care.careactivity",
        detail={"booster_for_warning": warning_date.isoformat()},
    )
    return rows


def overdue_activities(episode: Episode, today: date) -> QuerySet[CareActivity]:
    return CareActivity.objects.filter(
        episode=episode, status__in=["planned", "scheduled"], latest__lt=today
    )


def next_activity(episode: Episode, today: date) -> CareActivity | None:
    return (
        CareActivity.objects.filter(
            episode=episode, status__in=["planned", "scheduled"], latest__gte=today
        )
        .order_by("target", "id")
        .first()
    )


def days_since(moment: datetime, now: datetime) -> float:
    return (now - moment) / timedelta(days=1)

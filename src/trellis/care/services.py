"""Care services: start an episode on a track, record what happens, keep the plan honest.

Other apps use these functions (never the care tables directly): dosing records ``dose_given``
through :func:`record_event`, integration records ``integration_done``, and so on. Apps that
hold facts needed before the first dose (a safety plan, REMS enrolment) contribute them through
``FIRST_DOSE_FACT_PROVIDERS``; a provider may register a batch twin (``*_BATCH_PROVIDERS``) that
the pathway board calls once for all its rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES, Membership, Program, Role
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care.models import (
    CareActivity,
    Episode,
    EpisodeEvent,
    ProgramProtocol,
    ProtocolRevision,
    RequirementRecord,
    ScreeningRecord,
)
from trellis.core import pathway, screening, sequence
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.protocol_check import check_track
from trellis.core.protocols import (
    DATA_DIR,
    DATA_PACKAGE,
    Protocol,
    list_protocols,
    load_protocol,
    parse_protocol_text,
    protocol_ids,
)
from trellis.patients.models import ConsentKind, Patient
from trellis.patients.services import has_active_consent

# Plan activities with no event kind, marked done directly (complete_activity).
MANUAL_ACTIVITY_NAMES = frozenset({"chw-navigator-contact"})
# Who may start episodes, record screening and change the plan.
PLANNER_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR, Role.PRESCRIBER})
# Event kinds and the plan activity each one completes (by name and index).
EVENT_COMPLETES = {
    "preparation_done": "preparation",
    "dose_given": "dose",
    "integration_done": "integration",
    "check_in_done": "check-in",
}

# Clocks of two machines differ a little; an event a few minutes "ahead" is not a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Apps add a short note to a course's row on the pathway board (e.g. an unmet transport need
# next to the next dose): callable(episode) -> str or None.
BoardNoteProvider = Callable[[Episode], str | None]
BOARD_NOTE_PROVIDERS: list[BoardNoteProvider] = []

# Apps add facts for the first-dose check: callable(episode) -> dict of FirstDoseFacts fields.
FirstDoseFactProvider = Callable[[Episode], dict[str, Any]]
FIRST_DOSE_FACT_PROVIDERS: list[FirstDoseFactProvider] = []

# A provider above may have a batch twin, registered here under the provider itself:
# callable(episodes) -> {episode pk: what the provider returns for that episode}, for every
# episode given, with a constant number of queries. The pathway board calls the twin once for
# all its rows instead of the provider once per row (a provider without a twin is still called
# per row); every other caller keeps calling the provider.
BOARD_NOTE_BATCH_PROVIDERS: dict[
    BoardNoteProvider, Callable[[list[Episode]], dict[Any, str | None]]
] = {}
FIRST_DOSE_FACT_BATCH_PROVIDERS: dict[
    FirstDoseFactProvider, Callable[[list[Episode]], dict[Any, dict[str, Any]]]
] = {}


def protocol_of(episode: Episode) -> Protocol:
    """The track an episode runs on: a packaged track, or its program's adapted copy at the
    version the episode started on (a later edit of the copy never changes a running course)."""
    return resolve_protocol(episode.program, episode.protocol_id, episode.protocol_version)


# --- reading ------------------------------------------------------------------------------------


def episodes_of(user: Any, patient: Patient) -> QuerySet[Episode]:
    qs: QuerySet[Episode] = Episode.objects.visible_to(user).filter(patient=patient)
    return qs


def current_episode(patient: Patient) -> Episode | None:
    """The patient's current course: the latest active one, else the latest (for the patient's
    own pages, which have no staff user to scope by: the patient's own courses only)."""
    owner: Any = patient
    episodes: QuerySet[Episode] = owner.episodes.order_by("-start_date", "-created_at")
    active: Episode | None = episodes.exclude(phase__in=["completed", "withdrawn"]).first()
    return active or episodes.first()


def packaged_track_of(episode: Episode) -> str:
    """The packaged track an episode's track is (or was copied from): ``iv-trd`` for a
    program's adapted ``riverbend-iv-trd``, so that per-track content applies to copies too."""
    if episode.protocol_id in {p.id for p in list_protocols()}:
        return episode.protocol_id
    row = ProgramProtocol.objects.filter(
        program=episode.program, protocol_id=episode.protocol_id
    ).first()
    return (row.based_on or episode.protocol_id) if row is not None else episode.protocol_id


def patients_starting_care_in(program: Program, first: date, last: date) -> set[Any]:
    """Ids of the program's patients whose course of care started in [first, last]."""
    qs = Episode.objects.filter(program=program, start_date__gte=first, start_date__lte=last)
    return set(qs.values_list("patient_id", flat=True))


def get_episode(
    user: Any, episode_id: Any, *, request: HttpRequest | None = None, audit: bool = True
) -> Episode:
    """One episode, 404 unless visible to ``user``; audited as a view of the patient's data."""
    try:
        episode: Episode = (
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


def patient_labels_of(program: Program, episode_ids: Iterable[str]) -> dict[str, str]:
    """Episode id -> how the patient is named to staff (name and date of birth, so patients who
    share a name can be told apart; issue 13), read from the patients (so showing them is
    audited like any page that shows a patient; issue 14), for a program's planning views."""
    return {
        str(e.pk): e.patient.staff_label
        for e in Episode.objects.filter(program=program, pk__in=list(episode_ids)).select_related(
            "patient"
        )
    }


def active_episodes(user: Any, program: Program | None) -> QuerySet[Episode]:
    """The program's episodes that are neither completed nor withdrawn."""
    if program is None:
        return Episode.objects.none()
    qs: QuerySet[Episode] = (
        Episode.objects.visible_to(user)
        .filter(program=program)
        .exclude(phase__in=["completed", "withdrawn"])
        .select_related("patient", "primary_therapist")
    )
    return qs


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
    protocol = startable_protocol(patient.program, protocol_id)
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
    if at > timezone.now() + FUTURE_TOLERANCE:
        raise InvalidInput("at", "cannot be in the future: record what has happened")
    if kind == "dose_given" and index == 1:
        prerequisites = first_dose_prerequisites(episode)
        if prerequisites:
            raise Conflict(
                "The first dose cannot be given yet. " + " ".join(b.text for b in prerequisites)
            )
    if (
        kind == "maintenance_dose"
        and CareActivity.objects.filter(
            episode=episode, source=CareActivity.Source.BOOSTER
        ).exists()
    ):
        # After a relapse warning: prescriber review first, and the re-dose records its reason.
        blockers = redose_blockers(episode, note)
        if blockers:
            raise Conflict("A re-dose cannot be given yet: " + "; ".join(blockers))
    name = EVENT_COMPLETES.get(kind)
    if name and index is not None:
        done = dict(
            CareActivity.objects.filter(
                episode=episode, name=name, status=CareActivity.Status.DONE
            ).values_list("index", "done_at")
        )
        problem = sequence.out_of_order(name, index, at, done)
        if problem:
            raise InvalidInput("activity", problem)
    try:
        event = _append_event(user, episode, kind, at, index=index, outcome=outcome, note=note)
    except InvalidInput as exc:
        if kind in ("dose_given", "maintenance_dose") and exc.field.startswith("events["):
            # The course's order refuses a dose now: say so in words, not as an event path.
            raise Conflict(
                "This dose does not fit the course's order (screening, then preparation, then "
                f"doses; the course is now in its {episode.get_phase_display()} phase): finish "
                "screening and preparation first, and check the time of the dose."
            ) from exc
        raise
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
    return _first_dose_facts(
        episode,
        latest_screening(episode),
        part2_consent=has_active_consent(episode.patient, ConsentKind.PART2),
        preparations_done=EpisodeEvent.objects.filter(
            episode=episode, kind="preparation_done"
        ).count(),
    )


def _first_dose_facts(
    episode: Episode,
    latest: ScreeningRecord | None,
    *,
    part2_consent: bool,
    preparations_done: int,
    provided: dict[FirstDoseFactProvider, dict[str, Any]] | None = None,
) -> screening.FirstDoseFacts:
    """The first-dose facts from what the caller loaded; ``provided`` (what some providers
    return for this episode, when the caller loaded it for many episodes at once through their
    batch twins) stands in for calling those providers."""
    facts: dict[str, Any] = {
        "screening_outcome": latest.outcome if latest else "needs_review",
        "review_approved": bool(latest and latest.review_approved_by_id),
        "part2_consent": part2_consent,
        "preparation_sessions_done": preparations_done,
        "hours_since_referral": (
            timezone.now()
            - timezone.make_aware(datetime.combine(episode.referred_on, datetime.min.time()))
        ).total_seconds()
        / 3600,
    }
    provided = provided or {}
    for provider in FIRST_DOSE_FACT_PROVIDERS:
        facts.update(provided[provider] if provider in provided else provider(episode))
    return screening.FirstDoseFacts(**facts)


NOT_SCREENED = "screening: not yet recorded"


def first_dose_blockers(episode: Episode) -> list[str]:
    """What still blocks dose 1 (empty: none). No screening on file counts as not screened."""
    if latest_screening(episode) is None:
        return [NOT_SCREENED]
    return _first_dose_blockers(episode, protocol_of(episode), first_dose_facts(episode))


#: What each first-dose blocker means, in plain words for the people who must fix it (issue 19:
#: never an internal key or field path). Keys are those of ``screening.first_dose_blockers``.
_PLAIN_REQUIREMENT = {
    "rems_patient_enrolment": "The patient is not yet enrolled in the Spravato REMS.",
    "safety_plan": "There is no written safety plan on file.",
    "part2_consent": "The patient has not given consent for substance-use records (Part 2).",
    "mood_stabiliser_documented": "No mood stabiliser is documented.",
    "consent_to_touch_documented": "Consent to touch has not been discussed and documented.",
}


@dataclass(frozen=True)
class Prerequisite:
    """One open first-dose prerequisite: its key (for links) and what is missing, in words."""

    key: str
    text: str


def plain_prerequisites(blockers: list[str]) -> list[Prerequisite]:
    """``first_dose_blockers`` in plain words (issue 19: what is missing, no internal keys)."""
    out: list[Prerequisite] = []
    for blocker in blockers:
        key, _sep, rest = blocker.partition(": ")
        if key == "screening":
            text = (
                "Screening has not been recorded."
                if "not yet recorded" in rest
                else "The screening needs a prescriber's review."
                if "review" in rest
                else "The screening excluded this track."
            )
        elif key == "preparation":
            done, _of, needed = rest.partition(" of ")
            text = f"Preparation sessions: {done} of {needed.split(' ')[0]} done."
        else:
            text = _PLAIN_REQUIREMENT.get(key, rest)
        out.append(Prerequisite(key, text))
    return out


def first_dose_prerequisites(episode: Episode) -> list[Prerequisite]:
    """What still blocks dose 1, in plain words (empty once the gate is open)."""
    return plain_prerequisites(first_dose_blockers(episode))


def _first_dose_blockers(
    episode: Episode, protocol: Protocol, facts: screening.FirstDoseFacts
) -> list[str]:
    extra = 1 if "medical-distrust" in episode.adaptations else 0
    return screening.first_dose_blockers(protocol, facts, extra)


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
    return _care_record_facts_of_many([episode])[episode.pk]


def _care_record_facts_of_many(episodes: list[Episode]) -> dict[Any, dict[str, Any]]:
    kinds: dict[Any, set[str]] = {e.pk: set() for e in episodes}
    for episode_id, kind in RequirementRecord.objects.filter(episode__in=list(kinds)).values_list(
        "episode_id", "kind"
    ):
        kinds[episode_id].add(kind)
    return {pk: dict.fromkeys(found, True) for pk, found in kinds.items()}


FIRST_DOSE_FACT_PROVIDERS.append(_care_record_facts)
FIRST_DOSE_FACT_BATCH_PROVIDERS[_care_record_facts] = _care_record_facts_of_many


# --- adherence, gaps, relapse boosters ----------------------------------------------------------


@dataclass(frozen=True)
class EpisodeAdherence:
    episode: Episode
    report: pathway.AdherenceReport


def adherence(episode: Episode, now: datetime | None = None) -> pathway.AdherenceReport:
    """Integration adherence of the episode: per dose, inside its window or not (pure rule)."""
    protocol = protocol_of(episode)
    events = list(EpisodeEvent.objects.filter(episode=episode))
    return _adherence(protocol, events, now or timezone.now())


def _adherence(
    protocol: Protocol, events: list[EpisodeEvent], now: datetime
) -> pathway.AdherenceReport:
    """:func:`adherence` from the episode's events (in their ``at``, ``id`` order)."""
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
        now,
    )


def _events_by_episode(episodes: list[Episode]) -> dict[Any, list[EpisodeEvent]]:
    """Every event of ``episodes`` in one query, per episode in ``at``, ``id`` order."""
    by_episode: dict[Any, list[EpisodeEvent]] = {e.pk: [] for e in episodes}
    if episodes:
        for event in EpisodeEvent.objects.filter(episode__in=[e.pk for e in episodes]):
            by_episode[event.episode_id].append(event)
    return by_episode


def _adherence_of_many(
    episodes: list[Episode], protocols: dict[Any, Protocol], now: datetime
) -> dict[Any, pathway.AdherenceReport]:
    """:func:`adherence` of many episodes with one query for all their events."""
    events = _events_by_episode(episodes)
    return {e.pk: _adherence(protocols[e.pk], events[e.pk], now) for e in episodes}


def integration_gaps(
    user: Any, program: Program | None, now: datetime | None = None
) -> list[tuple[Episode, pathway.IntegrationGap]]:
    """Every integration window of the program's active episodes that closed with none."""
    gaps = []
    for episode in active_episodes(user, program):
        for gap in adherence(episode, now).gaps:
            gaps.append((episode, gap))
    return gaps


def _add_booster(
    actor: Any, episode: Episode, warning_date: date, request: HttpRequest | None
) -> list[CareActivity]:
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
        actor=actor,
        program=episode.program,
        patient_id=episode.patient_id,
        object_type="care.careactivity",
        detail={"booster_for_warning": warning_date.isoformat()},
    )
    return rows


@transaction.atomic
def add_relapse_booster(
    user: Any, episode: Episode, warning_date: date, *, request: HttpRequest | None = None
) -> list[CareActivity]:
    """A relapse warning: an integration booster within 72 h and a prescriber review before any
    re-dose (CLINICAL.md §3). Idempotent for the same warning date."""
    require_roles(user, episode.program, CLINICAL_ROLES)
    return _add_booster(user, episode, warning_date, request)


@transaction.atomic
def on_relapse_warning(
    user: Any, episode: Episode, warning_date: date, *, request: HttpRequest | None = None
) -> list[CareActivity]:
    """The measures app calls this when the outcomes rules raise a relapse warning
    (CLINICAL.md §3): the episode gets its integration booster within 72 h and a prescriber
    review, which must be done before any re-dose (:func:`redose_blockers`). ``user`` is the
    clinician who entered the assessment, or ``None`` when the system computed the warning
    (e.g. from a patient's check-in); then no role check applies and the audit names no actor.
    Idempotent for the same warning date; a warning on a closed course adds nothing."""
    if user is not None:
        require_roles(user, episode.program, CLINICAL_ROLES)
    if not episode.is_active:
        return []
    if isinstance(warning_date, datetime):
        warning_date = timezone.localtime(warning_date).date()
    return _add_booster(user, episode, warning_date, request)


def open_prescriber_reviews(episode: Episode) -> QuerySet[CareActivity]:
    """Prescriber reviews created by relapse warnings and not yet done."""
    return CareActivity.objects.filter(
        episode=episode,
        source=CareActivity.Source.BOOSTER,
        name="prescriber-review",
        status__in=["planned", "scheduled"],
    )


def redose_blockers(episode: Episode, reason: str | None = None) -> list[str]:
    """What blocks a re-dose (a dose after the induction series following a relapse warning):
    the prescriber review must be done first and the re-dose must record its reason
    (CLINICAL.md §3; the track's ``relapse_policy``, :func:`trellis.core.pathway.redose_blockers`).
    """
    return pathway.redose_blockers(
        protocol_of(episode), not open_prescriber_reviews(episode).exists(), reason
    )


@transaction.atomic
def complete_activity(
    user: Any,
    episode: Episode,
    activity_id: int,
    *,
    at: datetime | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> CareActivity:
    """Mark a relapse booster, a prescriber review or a navigator contact done (the other plan
    activities are completed by recording their event, or by their own app: doses, measures).
    The prescriber review needs a prescriber and a note of the decision.
    """
    require_roles(user, episode.program, CLINICAL_ROLES)
    try:
        act: CareActivity = (
            CareActivity.objects.select_for_update()
            .filter(Q(source=CareActivity.Source.BOOSTER) | Q(name__in=MANUAL_ACTIVITY_NAMES))
            .get(pk=activity_id, episode=episode)
        )
    except (CareActivity.DoesNotExist, ValueError) as exc:
        raise InvalidInput("activity", "choose an open activity of this course") from exc
    if act.status not in ("planned", "scheduled"):
        raise Conflict("This activity is already recorded.")
    at = at or timezone.now()
    if at > timezone.now():
        raise InvalidInput("at", "cannot be in the future")
    if act.name == "prescriber-review":
        require_roles(user, episode.program, [Role.PRESCRIBER])
        if not note.strip():
            raise InvalidInput("note", "say what the review decided (e.g. re-dose or not, why)")
    act.status = CareActivity.Status.DONE
    act.done_at = at
    act.done_by = user
    act.note = (note.strip() or act.note)[:300]
    act.save(update_fields=["status", "done_at", "done_by", "note"])
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=episode.program,
        patient_id=episode.patient_id,
        obj=act,
        detail={"done": act.key},
    )
    return act


@transaction.atomic
def withdraw_episode(
    user: Any,
    episode: Episode,
    reason: str,
    *,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> EpisodeEvent:
    """Close a course early (the patient stops, moves, is excluded at screening…); the reason
    is required and kept on the event. Open planned activities are cancelled."""
    require_roles(user, episode.program, PLANNER_ROLES)
    reason = " ".join(reason.split())
    if len(reason) < 3:
        raise InvalidInput("reason", "say why the course stops (e.g. moved away, excluded)")
    event = record_event(user, episode, "withdrawn", at=at, note=reason[:500], request=request)
    CareActivity.objects.filter(episode=episode, status__in=["planned", "scheduled"]).update(
        status=CareActivity.Status.CANCELLED
    )
    return event


def activities_by_pk(ids: Iterable[Any]) -> dict[Any, CareActivity]:
    """Care activities by primary key (one query), for apps that hold their ids (booking's
    appointments); callers hold the access-checked episode."""
    return {a.pk: a for a in CareActivity.objects.filter(pk__in=list(ids))}


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


# --- the program's protocol library -------------------------------------------------------------
# Tracks are data (ARCHITECTURE.md rule 2). A program keeps the packaged tracks it uses switched
# on, and may copy a track and adapt it; the copy is validated by the same pure parser as the
# packaged files (trellis.core.protocols.parse_protocol_text), so an error names file and field.

# Who may enable tracks and adapt copies: the program's admins and prescribers (clinical content).
PROTOCOL_EDITOR_ROLES = frozenset({Role.ADMIN, Role.PRESCRIBER})


@dataclass(frozen=True)
class LibraryEntry:
    """One track as a program sees it."""

    protocol: Protocol
    packaged: bool
    enabled: bool
    based_on: str = ""
    revision: int = 0
    updated_by: Any = None
    updated_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.protocol.id


@lru_cache(maxsize=256)
def _parse_copy(text: str, filename: str) -> Protocol:
    # Protocols are frozen dataclasses: one parse per distinct text is safe to share.
    return parse_protocol_text(text, filename)


def _copy_filename(protocol_id: str) -> str:
    return f"{protocol_id}.yaml"


def check_all_protocols() -> int:
    """Validate every packaged track and every program's adapted copy (its current text)
    against the schema and every registry (:func:`trellis.core.protocol_check.check_track`).

    Run by ``trellis serve`` before it starts (issue 18): a track that names an unknown
    instrument, requirement or adaptation stops the start-up with a
    :class:`~trellis.core.protocols.ProtocolInvalid` naming the file, the field and the value,
    instead of failing later in every reminder run. The file of a copy is named
    ``<program slug>/<track id>.yaml``. Returns how many tracks were checked.
    """
    checked = 0
    for protocol in list_protocols():
        check_track(protocol, _copy_filename(protocol.id))
        checked += 1
    for row in (
        ProgramProtocol.objects.exclude(yaml_text="")
        .select_related("program")
        .order_by("program__slug", "protocol_id")
    ):
        filename = f"{row.program.slug}/{_copy_filename(row.protocol_id)}"
        check_track(parse_protocol_text(row.yaml_text, filename), filename)
        checked += 1
    return checked


def packaged_protocol_text(protocol_id: str) -> str:
    """The YAML text of a packaged track (the starting point of a copy)."""
    load_protocol(protocol_id, field="source")  # InvalidInput for unknown ids
    path = resources.files(DATA_PACKAGE).joinpath(*DATA_DIR, _copy_filename(protocol_id))
    return path.read_text("utf-8")


def _rows(program: Program) -> dict[str, ProgramProtocol]:
    return {
        r.protocol_id: r
        for r in ProgramProtocol.objects.filter(program=program).select_related("updated_by")
    }


def resolve_protocol(program: Program, protocol_id: str, version: str | None = None) -> Protocol:
    """A packaged track by id, or the program's adapted copy (at ``version`` when given: the
    revision a course started on). InvalidInput naming ``protocol`` when there is none."""
    if protocol_id in protocol_ids():
        return load_protocol(protocol_id)
    row = (
        ProgramProtocol.objects.filter(program=program, protocol_id=protocol_id)
        .exclude(yaml_text="")
        .first()
    )
    if row is None:
        raise _unknown_protocol(protocol_id)
    text = row.yaml_text
    if version and version != row.version:
        old = row.revisions.filter(version=version).first()
        if old is not None:
            text = old.yaml_text
    return _parse_copy(text, _copy_filename(protocol_id))


def _unknown_protocol(protocol_id: str) -> InvalidInput:
    return InvalidInput(
        "protocol",
        f"unknown protocol {protocol_id!r} (neither a packaged track nor a copy of this program)",
    )


def _protocols_of(episodes: list[Episode]) -> dict[Any, Protocol]:
    """:func:`protocol_of` for many episodes: packaged tracks from the package, adapted copies
    (and the revisions courses started on) in at most two queries, whatever the number."""
    packaged = set(protocol_ids())
    copied = [e for e in episodes if e.protocol_id not in packaged]
    rows: dict[tuple[Any, str], ProgramProtocol] = {}
    old_texts: dict[tuple[Any, str], str] = {}
    if copied:
        rows = {
            (r.program_id, r.protocol_id): r
            for r in ProgramProtocol.objects.filter(
                program_id__in={e.program_id for e in copied},
                protocol_id__in={e.protocol_id for e in copied},
            ).exclude(yaml_text="")
        }
        older = {
            (row.pk, e.protocol_version)
            for e in copied
            if (row := rows.get((e.program_id, e.protocol_id))) is not None
            and e.protocol_version
            and e.protocol_version != row.version
        }
        if older:
            old_texts = {
                (r.program_protocol_id, r.version): r.yaml_text
                for r in ProtocolRevision.objects.filter(
                    program_protocol_id__in={pk for pk, _ in older},
                    version__in={version for _, version in older},
                )
            }
    out: dict[Any, Protocol] = {}
    for episode in episodes:
        if episode.protocol_id in packaged:
            out[episode.pk] = load_protocol(episode.protocol_id)
            continue
        found = rows.get((episode.program_id, episode.protocol_id))
        if found is None:
            raise _unknown_protocol(episode.protocol_id)
        text = found.yaml_text
        if episode.protocol_version and episode.protocol_version != found.version:
            text = old_texts.get((found.pk, episode.protocol_version), text)
        out[episode.pk] = _parse_copy(text, _copy_filename(episode.protocol_id))
    return out


def protocol_library(program: Program) -> list[LibraryEntry]:
    """Every packaged track (enabled unless switched off) and every copy of the program."""
    rows = _rows(program)
    out = []
    for protocol in list_protocols():
        row = rows.get(protocol.id)
        out.append(
            LibraryEntry(
                protocol,
                packaged=True,
                enabled=row.enabled if row else True,
                updated_by=row.updated_by if row else None,
                updated_at=row.updated_at if row else None,
            )
        )
    for row in rows.values():
        if not row.yaml_text:
            continue
        out.append(
            LibraryEntry(
                _parse_copy(row.yaml_text, _copy_filename(row.protocol_id)),
                packaged=False,
                enabled=row.enabled,
                based_on=row.based_on,
                revision=row.revision,
                updated_by=row.updated_by,
                updated_at=row.updated_at,
            )
        )
    return out


def enabled_protocols(program: Program) -> list[Protocol]:
    """The tracks a course may start on in ``program``."""
    return [e.protocol for e in protocol_library(program) if e.enabled]


def startable_protocol(program: Program, protocol_id: str) -> Protocol:
    """The enabled track ``protocol_id`` of ``program``; InvalidInput naming ``protocol``."""
    protocol = resolve_protocol(program, protocol_id)
    row = ProgramProtocol.objects.filter(program=program, protocol_id=protocol_id).first()
    if row is not None and not row.enabled:
        raise InvalidInput(
            "protocol",
            f"the track {protocol_id!r} is switched off in this program; an admin or prescriber "
            "can enable it in the protocol library",
        )
    return protocol


def get_copy(user: Any, program: Program | None, protocol_id: str) -> ProgramProtocol:
    """The program's adapted copy ``protocol_id`` (404 when there is none)."""
    require_roles(user, program, PROTOCOL_EDITOR_ROLES)
    row = (
        ProgramProtocol.objects.filter(program=program, protocol_id=protocol_id)
        .exclude(yaml_text="")
        .first()
    )
    if row is None:
        raise Http404("No such protocol copy")
    return row


@transaction.atomic
def set_protocol_enabled(
    user: Any,
    program: Program,
    protocol_id: str,
    enabled: bool,
    *,
    request: HttpRequest | None = None,
) -> ProgramProtocol:
    """Switch a packaged track or a copy on or off for new courses (running ones continue)."""
    require_roles(user, program, PROTOCOL_EDITOR_ROLES)
    resolve_protocol(program, protocol_id)  # InvalidInput for unknown ids
    row, _created = ProgramProtocol.objects.select_for_update().get_or_create(
        program=program, protocol_id=protocol_id
    )
    row.enabled = enabled
    row.updated_by = user
    row.save(update_fields=["enabled", "updated_by", "updated_at"])
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"protocol": protocol_id, "enabled": enabled},
    )
    return row


def default_copy_id(program: Program, source_id: str) -> str:
    return f"{program.slug}-{source_id}"


_ID_LINE = re.compile(r"^id:.*$", re.MULTILINE)


def _check_copy_id(program: Program, new_id: str) -> None:
    prefix = f"{program.slug}-"
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", new_id):
        raise InvalidInput(
            "new_id", "use lower-case letters, digits and single hyphens (e.g. riverbend-iv-trd)"
        )
    if not new_id.startswith(prefix) or new_id == prefix.rstrip("-"):
        raise InvalidInput("new_id", f"a program's copy starts with the program's name: {prefix}…")
    if len(new_id) > 64:
        raise InvalidInput("new_id", "at most 64 characters")
    if ProgramProtocol.objects.filter(program=program, protocol_id=new_id).exists():
        raise InvalidInput("new_id", f"this program already has a track {new_id!r}")


@transaction.atomic
def copy_protocol(
    user: Any,
    program: Program,
    source_id: str,
    new_id: str = "",
    *,
    request: HttpRequest | None = None,
) -> ProgramProtocol:
    """Copy a packaged track (or one of the program's copies) under ``new_id`` (default
    ``<program-slug>-<source>``). The copy starts switched off: adapt it, then enable it."""
    require_roles(user, program, PROTOCOL_EDITOR_ROLES)
    new_id = (new_id or default_copy_id(program, source_id)).strip()
    if source_id in protocol_ids():
        text = packaged_protocol_text(source_id)
    else:
        text = get_copy(user, program, source_id).yaml_text
    _check_copy_id(program, new_id)
    text = _ID_LINE.sub(f"id: {new_id}", text, count=1)
    protocol = check_track(
        parse_protocol_text(text, _copy_filename(new_id)), _copy_filename(new_id)
    )
    row = ProgramProtocol.objects.create(
        program=program,
        protocol_id=new_id,
        based_on=source_id,
        enabled=False,
        yaml_text=text,
        version=str(protocol.version),
        revision=1,
        updated_by=user,
    )
    ProtocolRevision.objects.create(
        program_protocol=row, revision=1, version=row.version, yaml_text=text, saved_by=user
    )
    record(
        action=Action.CREATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"protocol": new_id, "based_on": source_id},
    )
    return row


@transaction.atomic
def save_protocol_copy(
    user: Any,
    program: Program,
    protocol_id: str,
    yaml_text: str,
    *,
    request: HttpRequest | None = None,
) -> ProgramProtocol:
    """Save an edited copy: validated whole (ProtocolInvalid lists every problem with file and
    field), and a changed text must carry a new ``version`` so that courses already running on
    the old one keep their plan. Each save is a new revision recording who and when."""
    row = get_copy(user, program, protocol_id)
    row = ProgramProtocol.objects.select_for_update().get(pk=row.pk)
    text = yaml_text.replace("\r\n", "\n")
    # Every registry the track feeds (instruments, requirements, activity kinds, adaptations).
    protocol = check_track(
        parse_protocol_text(text, _copy_filename(protocol_id)), _copy_filename(protocol_id)
    )
    if text == row.yaml_text:
        return row
    version = str(protocol.version)
    if row.revisions.filter(version=version).exists():
        raise InvalidInput(
            "yaml_text",
            f"{_copy_filename(protocol_id)}: version: {version!r} was already saved; give the "
            "changed track a new version (e.g. 1.0.1) so courses on the old one keep their plan",
        )
    row.yaml_text = text
    row.version = version
    row.revision += 1
    row.updated_by = user
    row.save()
    ProtocolRevision.objects.create(
        program_protocol=row, revision=row.revision, version=version, yaml_text=text, saved_by=user
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"protocol": protocol_id, "version": version, "revision": row.revision},
    )
    return row


def revisions_of(row: ProgramProtocol) -> QuerySet[ProtocolRevision]:
    return row.revisions.select_related("saved_by")


# --- the pathway board --------------------------------------------------------------------------

OPEN_STATUSES = ("planned", "scheduled")
# Phases before dose 1: the board lists what still blocks the first dose.
BEFORE_FIRST_DOSE = ("referred", "screening", "preparing")


@dataclass
class BoardRow:
    """One active course on the coordinator's board."""

    episode: Episode
    protocol: Protocol
    next_activity: CareActivity | None
    overdue: list[CareActivity]
    gaps: tuple[pathway.IntegrationGap, ...]
    adherence_percent: float | None
    blockers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Doses whose integration window is still open with no integration yet.
    open_windows: tuple[pathway.DoseAdherence, ...] = ()

    @property
    def patient(self) -> Patient:
        return self.episode.patient

    @property
    def overdue_by_kind(self) -> list[tuple[str, int]]:
        """(activity kind, count) of the overdue items, most first."""
        counts: dict[str, int] = {}
        for act in self.overdue:
            counts[act.kind] = counts.get(act.kind, 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    @property
    def sort_key(self) -> tuple[int, date, str]:
        nxt = self.next_activity
        return (0 if nxt else 1, nxt.target if nxt else date.max, self.patient.family_name)


@dataclass(frozen=True)
class BoardFilters:
    track: str = ""
    therapist: int | None = None
    language: str = ""


def therapists_of(program: Program | None) -> list[tuple[Any, list[str]]]:
    """Staff with the therapist role in ``program`` and the languages they work in."""
    if program is None:
        return []
    rows = (
        Membership.objects.filter(program=program, role=Role.THERAPIST)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    return [(m.user, list(m.languages or [])) for m in rows]


def _split_activities(
    acts: list[CareActivity], today: date
) -> tuple[CareActivity | None, list[CareActivity]]:
    pending = [a for a in acts if a.status in OPEN_STATUSES]
    overdue = [a for a in pending if a.latest < today]
    upcoming = sorted((a for a in pending if a.latest >= today), key=lambda a: (a.target, a.pk))
    return (upcoming[0] if upcoming else None), overdue


def pathway_board(
    user: Any,
    program: Program | None,
    filters: BoardFilters = BoardFilters(),
    *,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> list[BoardRow]:
    """Every active course of the program with its phase, next activity due, overdue items,
    integration gaps and what still blocks dose 1; filtered, sorted by next due. Audited."""
    require_roles(user, program, CLINICAL_ROLES)
    rows = board_rows(user, program, filters, now=now)
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        object_type="care.pathway_board",
        detail={
            "track": filters.track,
            "therapist": filters.therapist,
            "language": filters.language,
            "rows": len(rows),
        },
    )
    return rows


def board_rows(
    user: Any,
    program: Program | None,
    filters: BoardFilters = BoardFilters(),
    *,
    now: datetime | None = None,
) -> list[BoardRow]:
    """:func:`pathway_board`'s rows, not audited: for a caller that audits the page showing
    them (the home page's work queues). A constant number of queries whatever the rows."""
    require_roles(user, program, CLINICAL_ROLES)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    qs = active_episodes(user, program).order_by("patient__family_name", "pk")
    if filters.track:
        qs = qs.filter(protocol_id=filters.track)
    if filters.therapist:
        qs = qs.filter(primary_therapist_id=filters.therapist)
    if filters.language:
        qs = qs.filter(patient__preferred_language=filters.language)
    # One query per kind of data for all the rows, never one per course (the facts are worked
    # out here from what was loaded). Apps' BOARD_NOTE_PROVIDERS and FIRST_DOSE_FACT_PROVIDERS
    # with a batch twin (*_BATCH_PROVIDERS) are called once for all rows; those without one are
    # still called once per row.
    episodes: list[Episode] = list(qs.select_related("program"))
    by_episode: dict[Any, list[CareActivity]] = {e.pk: [] for e in episodes}
    pending = CareActivity.objects.filter(
        episode__in=[e.pk for e in episodes], status__in=OPEN_STATUSES
    )
    for act in pending:
        by_episode[act.episode_id].append(act)
    protocols = _protocols_of(episodes)
    events = _events_by_episode(episodes)
    gate = _FirstDoseGate.load([e for e in episodes if e.phase in BEFORE_FIRST_DOSE])
    notes = _board_notes(episodes)
    rows = []
    for episode in episodes:
        protocol = protocols[episode.pk]
        report = _adherence(protocol, events[episode.pk], now)
        nxt, overdue = _split_activities(by_episode[episode.pk], today)
        rows.append(
            BoardRow(
                episode=episode,
                protocol=protocol,
                next_activity=nxt,
                overdue=overdue,
                gaps=report.gaps,
                adherence_percent=report.percent,
                blockers=(
                    gate.blockers(episode, protocol, events[episode.pk])
                    if episode.phase in BEFORE_FIRST_DOSE
                    else []
                ),
                notes=notes[episode.pk],
                open_windows=tuple(d for d in report.doses if d.status == "open"),
            )
        )
    rows.sort(key=lambda r: r.sort_key)
    return rows


def _board_notes(episodes: list[Episode]) -> dict[Any, list[str]]:
    """Every BOARD_NOTE_PROVIDERS note of each episode, in the providers' order; a provider
    with a batch twin is called through it once for all episodes."""
    notes: dict[Any, list[str]] = {e.pk: [] for e in episodes}
    if not episodes:
        return notes
    for provider in BOARD_NOTE_PROVIDERS:
        batch = BOARD_NOTE_BATCH_PROVIDERS.get(provider)
        found = batch(episodes) if batch else {e.pk: provider(e) for e in episodes}
        for episode in episodes:
            if note := found[episode.pk]:
                notes[episode.pk].append(note)
    return notes


@dataclass(frozen=True)
class _FirstDoseGate:
    """What :func:`first_dose_blockers` reads, loaded for many episodes at once (the facts of
    providers with a batch twin included; those without one are called per episode)."""

    latest_screening: dict[Any, ScreeningRecord]
    part2_consent: set[Any]
    batched: dict[FirstDoseFactProvider, dict[Any, dict[str, Any]]]

    @classmethod
    def load(cls, episodes: list[Episode]) -> _FirstDoseGate:
        if not episodes:
            return cls({}, set(), {})
        pks = [e.pk for e in episodes]
        latest: dict[Any, ScreeningRecord] = {}
        # Newest first (the model's ordering, as latest_screening): the first seen is the latest.
        for row in ScreeningRecord.objects.filter(episode__in=pks):
            latest.setdefault(row.episode_id, row)
        # has_active_consent(patient, PART2) for every patient, through the episode's patient.
        part2 = set(
            Episode.objects.filter(
                pk__in=pks,
                patient__consents__kind=ConsentKind.PART2,
                patient__consents__withdrawn_on__isnull=True,
            ).values_list("pk", flat=True)
        )
        batched = {
            provider: batch(episodes)
            for provider in FIRST_DOSE_FACT_PROVIDERS
            if (batch := FIRST_DOSE_FACT_BATCH_PROVIDERS.get(provider))
        }
        return cls(latest, part2, batched)

    def blockers(
        self, episode: Episode, protocol: Protocol, events: list[EpisodeEvent]
    ) -> list[str]:
        """:func:`first_dose_blockers` of ``episode`` (one of those loaded) from its events."""
        latest = self.latest_screening.get(episode.pk)
        if latest is None:
            return [NOT_SCREENED]
        facts = _first_dose_facts(
            episode,
            latest,
            part2_consent=episode.pk in self.part2_consent,
            preparations_done=sum(1 for e in events if e.kind == "preparation_done"),
            provided={provider: facts[episode.pk] for provider, facts in self.batched.items()},
        )
        return _first_dose_blockers(episode, protocol, facts)


@dataclass(frozen=True)
class BoardCounts:
    active: int
    gaps: int
    overdue: int
    # Doses whose integration window is open with no integration yet.
    open_windows: int = 0


def board_counts(user: Any, program: Program | None, now: datetime | None = None) -> BoardCounts:
    """Counts for the home card: active courses, open integration gaps, overdue activities."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    episodes = list(active_episodes(user, program).select_related("program"))
    reports = _adherence_of_many(episodes, _protocols_of(episodes), now)
    gaps = sum(len(report.gaps) for report in reports.values())
    overdue = CareActivity.objects.filter(
        episode__in=[e.pk for e in episodes], status__in=OPEN_STATUSES, latest__lt=today
    ).count()
    open_windows = sum(
        1 for report in reports.values() for dose in report.doses if dose.status == "open"
    )
    return BoardCounts(len(episodes), gaps, overdue, open_windows)


def sync_gap_alerts(program: Program, now: datetime | None = None) -> list[Any]:
    """Raise one ``integration_gap`` alert per closed integration window with none inside it,
    for every active course of ``program`` (idempotent: the alert's key names episode and dose,
    so running this again, e.g. on every board view or from a worker, adds nothing new)."""
    from trellis.alerts.models import Kind, Severity
    from trellis.alerts.services import raise_alert

    now = now or timezone.now()
    raised = []
    episodes = list(
        Episode.objects.filter(program=program)
        .exclude(phase__in=["completed", "withdrawn"])
        .select_related("patient", "program")
    )
    reports = _adherence_of_many(episodes, _protocols_of(episodes), now)
    for episode in episodes:
        for gap in reports[episode.pk].gaps:
            closed = timezone.localtime(gap.window_closed_at)
            raised.append(
                raise_alert(
                    program=program,
                    kind=Kind.INTEGRATION_GAP,
                    severity=Severity.WARNING,
                    title=(
                        f"Integration gap: no integration session within the window after "
                        f"dose {gap.dose_index} ({episode.protocol_id})"
                    ),
                    detail=(
                        f"The integration window after dose {gap.dose_index} closed on "
                        f"{closed:%Y-%m-%d %H:%M} with no session inside it. Contact the "
                        "patient and book an integration session."
                    ),
                    dedupe_key=f"care:integration_gap:{episode.pk}:{gap.dose_index}",
                    patient=episode.patient,
                    source=episode,
                    at=gap.window_closed_at,
                )
            )
    return raised


def open_activities_for_events(episode: Episode) -> list[CareActivity]:
    """Plan activities a person can record as done from the episode page (preparation,
    integration and check-ins; doses when no dosing page exists), in date order."""
    names = {"preparation", "integration", "check-in"}
    return [
        a
        for a in CareActivity.objects.filter(
            episode=episode, source=CareActivity.Source.PLAN, status__in=OPEN_STATUSES
        ).order_by("target", "pk")
        if a.name in names or a.kind == "dose"
    ]


def open_boosters(episode: Episode) -> QuerySet[CareActivity]:
    """Open activities completed directly (no event kind): relapse boosters, prescriber
    reviews and community health worker navigator contacts."""
    return (
        CareActivity.objects.filter(episode=episode, status__in=OPEN_STATUSES)
        .filter(Q(source=CareActivity.Source.BOOSTER) | Q(name__in=MANUAL_ACTIVITY_NAMES))
        .order_by("target", "pk")
    )


def requirements_of(episode: Episode) -> QuerySet[RequirementRecord]:
    return RequirementRecord.objects.filter(episode=episode).select_related("documented_by")


def screenings_of(episode: Episode) -> QuerySet[ScreeningRecord]:
    return ScreeningRecord.objects.filter(episode=episode).select_related(
        "recorded_by", "review_approved_by"
    )


def protocols_in_use(program: Program) -> list[Protocol]:
    """Every track of the program's library (enabled or not: running courses may use any)."""
    return [e.protocol for e in protocol_library(program)]


def sync_all_gap_alerts(now: datetime) -> None:
    """The worker's periodic job: integration-gap alerts for every program."""
    for program in Program.objects.all():
        sync_gap_alerts(program, now)


def complete_assessment_activity(episode: Episode, instrument: str, at: datetime) -> bool:
    """Mark the planned assessment of ``instrument`` whose window holds ``at`` as done (the
    earliest open one); called by the measures app when a score is stored. Returns whether one
    was found. System action: the caller has already checked access and audited the score."""
    day = timezone.localtime(at).date()
    activity = (
        CareActivity.objects.filter(
            episode=episode,
            kind="assessment",
            instrument=instrument,
            status__in=[CareActivity.Status.PLANNED, CareActivity.Status.SCHEDULED],
            earliest__lte=day,
            latest__gte=day,
        )
        .order_by("target", "id")
        .first()
    )
    if activity is None:
        return False
    CareActivity.objects.filter(pk=activity.pk).update(status=CareActivity.Status.DONE, done_at=at)
    return True


def mark_scheduled(
    activity_id: int | None, at: datetime | None, *, day: date | None = None
) -> None:
    """The booking app booked (``at`` set) or released (``at`` None) the planned activity.

    ``day`` (the booked date in clinic time) becomes the activity's target, so the timeline,
    the board and the booking calendar show the same date; the scheduler kept it inside the
    activity's window (earliest–latest), and a date outside it is refused rather than stored."""
    if activity_id is None:
        return
    rows = CareActivity.objects.filter(
        pk=activity_id, status__in=[CareActivity.Status.PLANNED, CareActivity.Status.SCHEDULED]
    )
    if at is None:
        rows.update(status=CareActivity.Status.PLANNED, scheduled_at=None)
        return
    if day is None:
        rows.update(status=CareActivity.Status.SCHEDULED, scheduled_at=at)
        return
    if rows.exclude(earliest__lte=day, latest__gte=day).exists():
        raise Conflict("The booked date is outside the care plan's window for this activity.")
    rows.update(status=CareActivity.Status.SCHEDULED, scheduled_at=at, target=day)


def unbooked_activities(
    user: Any, program: Program | None, kinds: Iterable[str], until: date
) -> dict[Episode, list[CareActivity]]:
    """Planned (not yet booked) activities of ``kinds`` of the program's active courses whose
    window opens on or before ``until``, per course in window order: one query."""
    if program is None:
        return {}
    acts = (
        CareActivity.objects.visible_to(user)
        .filter(
            program=program,
            kind__in=list(kinds),
            status=CareActivity.Status.PLANNED,
            earliest__lte=until,
        )
        .exclude(episode__phase__in=["completed", "withdrawn"])
        .select_related("episode__patient")
        .order_by("episode__patient__family_name", "episode_id", "earliest", "index")
    )
    out: dict[Episode, list[CareActivity]] = {}
    for act in acts:
        out.setdefault(act.episode, []).append(act)
    return out


def first_dose_blockers_of_many(episodes: list[Episode]) -> dict[Any, list[str]]:
    """:func:`first_dose_blockers` of many episodes in a constant number of queries (the gate
    loaded once for all; providers without a batch twin are still called per episode)."""
    if not episodes:
        return {}
    protocols = _protocols_of(episodes)
    events = _events_by_episode(episodes)
    gate = _FirstDoseGate.load(episodes)
    return {e.pk: gate.blockers(e, protocols[e.pk], events[e.pk]) for e in episodes}


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_episodes(program: Program) -> QuerySet[Episode]:
    """The program's courses.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Episode.objects.filter(program=program).select_related("patient")


def system_activities(program: Program) -> QuerySet[CareActivity]:
    """The program's care-plan activities.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return CareActivity.objects.filter(program=program).order_by("episode", "target", "index")

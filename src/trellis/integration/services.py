"""Integration services: the only place that queries the integration record, checks roles and
audits. Views, the check-in pages, the chart panel and the demo call these.

Others call:

- :func:`safety_plan_on_file` ``(patient) -> bool`` and :func:`first_dose_fact` (registered in
  ``care.services.FIRST_DOSE_FACT_PROVIDERS``: the first-dose gate reads the safety plan here);
- :func:`unmet_transport` ``(episode) -> bool`` for the pathway board (a ride home is required
  after every dose, CLINICAL.md §5 "ride home confirmed");
- :func:`write_integration_note` records ``integration_done`` on the episode through
  :func:`trellis.care.services.record_event`, so care's adherence and gaps update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import has_any_role, require_roles
from trellis.alerts.services import alert_on_risk_words
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.care.models import Episode
from trellis.checkin.models import CheckInLink
from trellis.core import integration_rules as rules
from trellis.core.errors import Conflict, InvalidInput
from trellis.integration.models import (
    Commitment,
    CommitmentReview,
    CommunityResource,
    ExperienceNote,
    HrsnScreening,
    IntegrationNote,
    Intention,
    JournalEntry,
    PatientReflection,
    Preparation,
    ProcessNote,
    Referral,
    SafetyPlan,
)
from trellis.patients.models import Patient

# Who writes what (issue 8). Reading the shared record: every clinical role (the care team).
SAFETY_PLAN_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.NURSE})
PREPARATION_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER})
# Other apps add to the therapist's preparation page: callable(request, patient, episode) ->
# {"title", "template", "context"} | None (e.g. the guides app: what the patient misunderstood).
PREPARATION_PANELS: list[Callable[[Any, Patient, Episode], dict[str, Any] | None]] = []
OBSERVER_ROLES = frozenset({Role.NURSE, Role.THERAPIST, Role.PRESCRIBER})
NOTE_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER})
PROCESS_NOTE_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER})
# A journal entry the patient shares goes to "their therapist": staff with the therapist role.
JOURNAL_READER_ROLES = frozenset({Role.THERAPIST})
BOARD_ROLES = frozenset({Role.THERAPIST, Role.PRESCRIBER, Role.ADMIN, Role.COORDINATOR})
RESOURCE_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})
# The patient's words after a dose are asked for within 24 h of it (issue 8).
REFLECTION_HOURS = 24
MAX_ENTRIES = 12  # per safety-plan section
MAX_TEXT = 5000


def _audit(
    action: str,
    user: Any,
    program: Program,
    *,
    patient_id: Any = None,
    obj: Any = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    actor_username: str = "",
) -> None:
    record(
        action=action,
        request=request,
        actor=user,
        program=program,
        patient_id=patient_id,
        obj=obj,
        detail=detail,
        object_type=object_type,
        object_id=object_id,
        actor_username=actor_username,
    )


def _text(field_name: str, value: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(field_name, "please write something here")
    if len(value) > limit:
        raise InvalidInput(field_name, f"at most {limit} characters (got {len(value)})")
    return value


def _patient_of_link(link: CheckInLink) -> Patient:
    return link.patient


def _patient_actor(patient: Patient) -> str:
    return f"patient:{patient.pk}"


# --- safety plan --------------------------------------------------------------------------------


def plan_content(plan: SafetyPlan | None) -> rules.SafetyPlanContent:
    if plan is None:
        return rules.SafetyPlanContent()
    return rules.SafetyPlanContent(
        **{name: tuple(getattr(plan, name) or ()) for name in rules.SAFETY_PLAN_SECTIONS}
    )


def safety_plan_on_file(patient: Patient) -> bool:
    """A complete safety plan (``core.integration_rules.safety_plan_complete``) is on file."""
    return patient.pk in _plans_on_file([patient.pk])


def _plans_on_file(patient_ids: Iterable[Any]) -> set[Any]:
    """Which of these patients have a complete safety plan on file (one query)."""
    plans = SafetyPlan.objects.filter(patient_id__in=set(patient_ids))
    return {plan.patient_id for plan in plans if rules.safety_plan_complete(plan_content(plan))}


def first_dose_fact(episode: Episode) -> dict[str, Any]:
    """The first-dose fact this app contributes (``care.services.FIRST_DOSE_FACT_PROVIDERS``)."""
    return first_dose_facts_of_many([episode])[episode.pk]


def first_dose_facts_of_many(episodes: Sequence[Episode]) -> dict[Any, dict[str, Any]]:
    """:func:`first_dose_fact` of every episode, by episode pk, in one query (its batch twin,
    ``care.services.FIRST_DOSE_FACT_BATCH_PROVIDERS``: the pathway board calls it)."""
    on_file = _plans_on_file(e.patient_id for e in episodes)
    return {e.pk: {"safety_plan_on_file": e.patient_id in on_file} for e in episodes}


def get_safety_plan(
    user: Any, patient: Patient, *, request: HttpRequest | None = None
) -> SafetyPlan | None:
    """The patient's plan (or None); the caller holds an access-checked patient. Audited."""
    require_roles(user, patient.program, CLINICAL_ROLES)
    plan = SafetyPlan.objects.visible_to(user).filter(patient=patient).first()
    _audit(
        Action.VIEW,
        user,
        patient.program,
        patient_id=patient.pk,
        obj=plan,
        object_type="" if plan else "integration.safetyplan",
        request=request,
    )
    return plan


def _clean_section(name: str, entries: Iterable[str]) -> list[str]:
    cleaned = [e.strip() for e in entries if e and e.strip()]
    if len(cleaned) > MAX_ENTRIES:
        raise InvalidInput(name, f"at most {MAX_ENTRIES} entries")
    for entry in cleaned:
        if len(entry) > 300:
            raise InvalidInput(name, "each entry at most 300 characters")
    return cleaned


@transaction.atomic
def save_safety_plan(
    user: Any,
    patient: Patient,
    sections: Mapping[str, Iterable[str]],
    *,
    language: str = "",
    request: HttpRequest | None = None,
) -> SafetyPlan:
    """Create or replace the patient's safety plan (all six sections at once).

    A plan may be saved incomplete (it is built over several sessions); it counts as on file for
    the first-dose gate only when :func:`core.integration_rules.safety_plan_complete` says so.
    """
    require_roles(user, patient.program, SAFETY_PLAN_ROLES)
    unknown = sorted(set(sections) - set(rules.SAFETY_PLAN_SECTIONS))
    if unknown:
        raise InvalidInput(unknown[0], "not a section of the safety plan")
    values = {
        name: _clean_section(name, sections.get(name, ())) for name in rules.SAFETY_PLAN_SECTIONS
    }
    plan = SafetyPlan.objects.select_for_update().filter(patient=patient).first()
    created = plan is None
    if plan is None:
        plan = SafetyPlan(patient=patient, program=patient.program)
    for name, value in values.items():
        setattr(plan, name, value)
    plan.language = language or patient.preferred_language
    plan.updated_by = user
    plan.save()
    _audit(
        Action.CREATE if created else Action.UPDATE,
        user,
        patient.program,
        patient_id=patient.pk,
        obj=plan,
        request=request,
        detail={"complete": rules.safety_plan_complete(plan_content(plan))},
    )
    return plan


# --- preparation: intentions, hopes, fears, supports --------------------------------------------


def intentions_of(episode: Episode) -> QuerySet[Intention]:
    """The episode's intentions (the caller holds an access-checked episode)."""
    return Intention.objects.filter(episode=episode)


def preparation_of(episode: Episode) -> Preparation | None:
    return Preparation.objects.filter(episode=episode).first()


@transaction.atomic
def save_preparation(
    user: Any,
    episode: Episode,
    *,
    new_intentions: Sequence[str] = (),
    hopes: str = "",
    fears: str = "",
    supports: str = "",
    language: str = "",
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> Preparation:
    """Record hopes, fears and supports and add intentions in the patient's own words."""
    require_roles(user, episode.program, PREPARATION_ROLES)
    lang = language or episode.patient.preferred_language
    texts = [_text("intentions", t, limit=500) for t in new_intentions if t and t.strip()]
    values = {
        "hopes": _text("hopes", hopes, required=False),
        "fears": _text("fears", fears, required=False),
        "supports": _text("supports", supports, required=False),
    }
    prep = Preparation.objects.select_for_update().filter(episode=episode).first()
    created = prep is None
    if prep is None:
        prep = Preparation(episode=episode, program=episode.program)
    for name, value in values.items():
        setattr(prep, name, value)
    prep.language = lang
    prep.updated_by = user
    prep.save()
    for text in texts:
        Intention.objects.create(
            episode=episode,
            program=episode.program,
            text=text,
            language=lang,
            created_by=user,
            created_at=at or timezone.now(),
        )
    _audit(
        Action.CREATE if created else Action.UPDATE,
        user,
        episode.program,
        patient_id=episode.patient_id,
        obj=prep,
        request=request,
        detail={"intentions_added": len(texts)},
    )
    return prep


# --- after each dose ----------------------------------------------------------------------------


def doses_given(episode: Episode) -> list[tuple[int, datetime]]:
    """(index, time) of every dose given in the episode, in order."""
    return [
        (e.index or 0, e.at)
        for e in care.events_of(episode).filter(kind__in=["dose_given", "maintenance_dose"])
        if e.index is not None
    ]


def _dose_time(episode: Episode, dose_index: int, field_name: str = "dose_index") -> datetime:
    for index, at in doses_given(episode):
        if index == dose_index:
            return at
    raise InvalidInput(field_name, f"dose {dose_index} has not been given in this course")


@transaction.atomic
def add_experience_note(
    user: Any,
    episode: Episode,
    *,
    dose_index: int,
    text: str,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> ExperienceNote:
    """The monitoring nurse's or therapist's observations of one dose."""
    require_roles(user, episode.program, OBSERVER_ROLES)
    dosed = _dose_time(episode, dose_index)
    at = at or timezone.now()
    if at < dosed:
        raise InvalidInput("at", "an experience note follows the dose it describes")
    note = ExperienceNote.objects.create(
        episode=episode,
        program=episode.program,
        dose_index=dose_index,
        text=_text("text", text),
        author=user,
        at=at,
    )
    _audit(
        Action.CREATE,
        user,
        episode.program,
        patient_id=episode.patient_id,
        obj=note,
        request=request,
        detail={"dose_index": dose_index},
    )
    return note


def _patient_episode(patient: Patient) -> Episode | None:
    """The patient's current course (active first, else the latest)."""
    return care.current_episode(patient)


def reflection_due(link: CheckInLink, now: datetime | None = None) -> tuple[Episode, int] | None:
    """The dose (episode, index) whose 24-hour reflection window is open for this patient."""
    now = now or timezone.now()
    episode = _patient_episode(_patient_of_link(link))
    if episode is None:
        return None
    written = set(
        PatientReflection.objects.filter(episode=episode).values_list("dose_index", flat=True)
    )
    for index, at in reversed(doses_given(episode)):
        if at <= now <= at + timedelta(hours=REFLECTION_HOURS) and index not in written:
            return episode, index
    return None


@transaction.atomic
def add_reflection(
    link: CheckInLink,
    text: str,
    *,
    language: str = "en",
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> PatientReflection:
    """The patient's own words on what stood out, within 24 h of a dose (optional for them)."""
    now = now or timezone.now()
    due = reflection_due(link, now)
    if due is None:
        raise Conflict("There is no dose in the last 24 hours to write about.")
    episode, index = due
    reflection = PatientReflection.objects.create(
        episode=episode,
        program=episode.program,
        dose_index=index,
        text=_text("text", text),
        language=language,
        at=now,
    )
    _audit(
        Action.CREATE,
        None,
        episode.program,
        patient_id=episode.patient_id,
        obj=reflection,
        request=request,
        actor_username=_patient_actor(episode.patient),
        detail={"dose_index": index, "via": "check-in link"},
    )
    # The care team reads reflections: the patient's words go through the risk-words path.
    alert_on_risk_words(
        program=episode.program,
        patient=episode.patient,
        text=reflection.text,
        source=reflection,
        where="the patient's reflection after a dose",
        at=now,
    )
    return reflection


# --- integration session notes and commitments --------------------------------------------------


def open_commitments(episode: Episode) -> QuerySet[Commitment]:
    return Commitment.objects.filter(episode=episode, status=Commitment.Status.OPEN).order_by(
        "review_on", "id"
    )


@dataclass(frozen=True)
class NewCommitment:
    text: str
    review_on: date


@transaction.atomic
def write_integration_note(
    user: Any,
    episode: Episode,
    *,
    dose_index: int,
    insights: str,
    risk: str,
    at: datetime | None = None,
    intention_ids: Iterable[int] = (),
    barriers: str = "",
    supports_needed: str = "",
    risk_detail: str = "",
    commitments: Sequence[NewCommitment] = (),
    reviews: Sequence[rules.CommitmentReview] = (),
    next_review: dict[int, date] | None = None,
    request: HttpRequest | None = None,
) -> IntegrationNote:
    """Store one integration session whole (note, new commitments, reviews of every open
    commitment) and record ``integration_done`` for the dose it follows.

    Every open commitment must be reviewed (done / partly / not yet / dropped; a word why unless
    done): partly and not yet carry forward with a new review date. A risk check that finds
    urgent risk raises an urgent alert for the care team.
    """
    require_roles(user, episode.program, NOTE_ROLES)
    at = at or timezone.now()
    today = timezone.localtime(at).date()
    dosed = _dose_time(episode, dose_index)
    if at < dosed:
        raise InvalidInput("at", "the integration session follows the dose")
    if risk not in IntegrationNote.Risk.values:
        raise InvalidInput("risk", "choose the result of the risk check")
    detail = _text("risk_detail", risk_detail, required=risk != IntegrationNote.Risk.NONE)
    wanted = set(intention_ids)
    intentions = list(intentions_of(episode).filter(pk__in=wanted))
    if len(intentions) != len(wanted):
        raise InvalidInput("intentions", "choose intentions of this course")
    for i, c in enumerate(commitments):
        _text(f"commitments.{i}", c.text, limit=300)
        if c.review_on < today:
            raise InvalidInput(f"commitments.{i}", "the review date cannot be in the past")
    open_rows = list(open_commitments(episode).select_for_update())
    result = rules.review_commitments([c.pk for c in open_rows], reviews, today, next_review)
    note = IntegrationNote.objects.create(
        episode=episode,
        program=episode.program,
        dose_index=dose_index,
        at=at,
        insights=_text("insights", insights),
        barriers=_text("barriers", barriers, required=False),
        supports_needed=_text("supports_needed", supports_needed, required=False),
        risk=risk,
        risk_detail=detail,
        author=user,
    )
    note.intentions.set(intentions)
    by_id = {c.pk: c for c in open_rows}
    for review in reviews:
        CommitmentReview.objects.create(
            commitment=by_id[review.commitment_id],
            program=episode.program,
            note=note,
            outcome=review.outcome,
            reason=review.reason.strip()[:300],
        )
    for cid, when in result.carried:
        Commitment.objects.filter(pk=cid).update(review_on=when)
    for cid, outcome in result.closed:
        status = Commitment.Status.DONE if outcome == "done" else Commitment.Status.DROPPED
        Commitment.objects.filter(pk=cid).update(status=status, closed_at=at)
    for c in commitments:
        Commitment.objects.create(
            episode=episode,
            program=episode.program,
            note=note,
            text=c.text.strip(),
            review_on=c.review_on,
        )
    # The session may already be on the pathway (recorded from the care pages): once is enough.
    if not care.events_of(episode).filter(kind="integration_done", index=dose_index).exists():
        care.record_event(
            user, episode, "integration_done", at=at, index=dose_index, request=request
        )
    if risk == IntegrationNote.Risk.URGENT:
        from trellis.alerts.models import Kind, Severity
        from trellis.alerts.services import raise_alert

        raise_alert(
            program=episode.program,
            kind=Kind.SUICIDE_RISK,
            severity=Severity.URGENT,
            title="Risk found at an integration session: same-day clinician contact",
            detail=detail,
            dedupe_key=f"integration:risk:{note.pk}",
            patient=episode.patient,
            source=note,
            at=at,
        )
    _audit(
        Action.CREATE,
        user,
        episode.program,
        patient_id=episode.patient_id,
        obj=note,
        request=request,
        detail={
            "dose_index": dose_index,
            "commitments": len(commitments),
            "reviewed": len(reviews),
            "carried": len(result.carried),
            "risk": risk,
        },
    )
    return note


def notes_of(episode: Episode) -> QuerySet[IntegrationNote]:
    return (
        IntegrationNote.objects.filter(episode=episode)
        .select_related("author")
        .prefetch_related("intentions", "commitments", "reviews__commitment")
    )


def commitments_of(episode: Episode) -> QuerySet[Commitment]:
    return Commitment.objects.filter(episode=episode).prefetch_related("reviews")


# --- psychotherapy process notes (author only) --------------------------------------------------


@transaction.atomic
def add_process_note(
    user: Any, patient: Patient, text: str, *, request: HttpRequest | None = None
) -> ProcessNote:
    require_roles(user, patient.program, PROCESS_NOTE_ROLES)
    note = ProcessNote.objects.create(
        patient=patient, program=patient.program, author=user, text=_text("text", text)
    )
    _audit(Action.CREATE, user, patient.program, patient_id=patient.pk, obj=note, request=request)
    return note


def process_notes_of(
    user: Any, patient: Patient, *, request: HttpRequest | None = None
) -> QuerySet[ProcessNote]:
    """The user's own process notes about ``patient`` (never anyone else's). Audited."""
    notes = ProcessNote.objects.visible_to(user).filter(patient=patient)
    _audit(
        Action.VIEW,
        user,
        patient.program,
        patient_id=patient.pk,
        object_type="integration.processnote_list",
        request=request,
        detail={"own_notes": notes.count()},
    )
    return notes


def get_process_note(user: Any, note_id: int, *, request: HttpRequest | None = None) -> ProcessNote:
    """One process note for its author; anyone else (admins included) gets 404 and the
    attempt is recorded in the audit log as ``denied``."""
    note = ProcessNote.objects.visible_to(user).filter(pk=note_id).first()
    if note is None:
        target = ProcessNote.objects.filter(pk=note_id).select_related("program").first()
        _audit(
            Action.DENIED,
            user,
            target.program if target else None,  # type: ignore[arg-type]
            patient_id=target.patient_id if target else None,
            object_type="integration.processnote",
            object_id=str(note_id),
            request=request,
        )
        raise Http404("No such note")
    _audit(Action.VIEW, user, note.program, patient_id=note.patient_id, obj=note, request=request)
    return note


# --- the patient's journal ----------------------------------------------------------------------


@transaction.atomic
def add_journal_entry(
    link: CheckInLink,
    text: str,
    *,
    share: bool = False,
    language: str = "en",
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> JournalEntry:
    """The patient writes an entry: private unless they choose to share it with the therapist."""
    patient = _patient_of_link(link)
    now = now or timezone.now()
    entry = JournalEntry.objects.create(
        patient=patient,
        program=patient.program,
        text=_text("text", text),
        language=language,
        shared=share,
        shared_at=now if share else None,
        created_at=now,
    )
    _audit(
        Action.CREATE,
        None,
        patient.program,
        patient_id=patient.pk,
        obj=entry,
        request=request,
        actor_username=_patient_actor(patient),
        detail={"shared": share, "via": "check-in link"},
    )
    if share:
        _risk_words_of_shared(entry)
    return entry


def _risk_words_of_shared(entry: JournalEntry) -> None:
    """A journal entry the patient shares is read by the therapist: its words go through the
    risk-words path then (a private entry is never read by anyone, so it is never scanned)."""
    alert_on_risk_words(
        program=entry.program,
        patient=entry.patient,
        text=entry.text,
        source=entry,
        where="a journal entry the patient shared",
        at=entry.shared_at,
    )


@transaction.atomic
def share_journal_entry(
    link: CheckInLink, entry_id: int, *, request: HttpRequest | None = None
) -> JournalEntry:
    """The patient shares one of their own entries later (404 for anyone else's)."""
    patient = _patient_of_link(link)
    entry = JournalEntry.objects.filter(pk=entry_id, patient=patient).first()
    if entry is None:
        raise Http404("No such entry")
    if not entry.shared:
        entry.shared = True
        entry.shared_at = timezone.now()
        entry.save(update_fields=["shared", "shared_at"])
        _audit(
            Action.UPDATE,
            None,
            patient.program,
            patient_id=patient.pk,
            obj=entry,
            request=request,
            actor_username=_patient_actor(patient),
            detail={"shared": True, "via": "check-in link"},
        )
        _risk_words_of_shared(entry)
    return entry


def has_journal(patient: Patient) -> bool:
    """Whether the patient has written any entry (for the demo's idempotent seeding)."""
    return JournalEntry.objects.filter(patient=patient).exists()


def journal_of_link(link: CheckInLink) -> QuerySet[JournalEntry]:
    """Every entry of the link's patient, for the patient's own check-in page."""
    return JournalEntry.objects.filter(patient=_patient_of_link(link))


def shared_entries(
    user: Any, patient: Patient, *, mark_read: bool = True, request: HttpRequest | None = None
) -> list[JournalEntry]:
    """Entries the patient shared, for the therapist (never the private ones). Audited; opening
    them marks them read."""
    require_roles(user, patient.program, JOURNAL_READER_ROLES)
    entries = list(JournalEntry.objects.visible_to(user).filter(patient=patient, shared=True))
    unread = [e.pk for e in entries if e.read_at is None]
    if mark_read and unread:
        JournalEntry.objects.filter(pk__in=unread).update(read_at=timezone.now())
    _audit(
        Action.VIEW,
        user,
        patient.program,
        patient_id=patient.pk,
        object_type="integration.journalentry_shared",
        request=request,
        detail={"entries": len(entries), "newly_read": len(unread)},
    )
    return entries


def staff_visible_journal(user: Any, patient: Patient) -> QuerySet[JournalEntry]:
    """What staff can ever see of the journal: shared entries, for the therapist role only."""
    if not has_any_role(user, patient.program, JOURNAL_READER_ROLES):
        return JournalEntry.objects.none()
    return JournalEntry.objects.visible_to(user).filter(patient=patient, shared=True)


# --- social needs (HRSN) and referrals ----------------------------------------------------------


@transaction.atomic
def record_hrsn(
    user: Any,
    patient: Patient,
    *,
    timing: str,
    answers: dict[str, str],
    episode: Episode | None = None,
    at: datetime | None = None,
    request: HttpRequest | None = None,
) -> HrsnScreening:
    """Record a social needs screening; the positive domains come from the pure rule."""
    require_roles(user, patient.program, CLINICAL_ROLES)
    if timing not in HrsnScreening.Timing.values:
        raise InvalidInput("timing", "choose intake or after the dose series")
    if episode is not None and episode.patient_id != patient.pk:
        raise InvalidInput("episode", "belongs to another patient")
    positive = rules.hrsn_positive_domains(answers)
    screening = HrsnScreening.objects.create(
        patient=patient,
        program=patient.program,
        episode=episode or _patient_episode(patient),
        timing=timing,
        answers=rules.validate_hrsn_answers(answers),
        positive_domains=list(positive),
        at=at or timezone.now(),
        recorded_by=user,
    )
    _audit(
        Action.CREATE,
        user,
        patient.program,
        patient_id=patient.pk,
        obj=screening,
        request=request,
        detail={"timing": timing, "positive": list(positive)},
    )
    return screening


def screenings_of(user: Any, patient: Patient) -> QuerySet[HrsnScreening]:
    return (
        HrsnScreening.objects.visible_to(user)
        .filter(patient=patient)
        .prefetch_related("referrals__resource")
    )


def referrals_of(user: Any, patient: Patient) -> QuerySet[Referral]:
    return Referral.objects.visible_to(user).filter(patient=patient).select_related("resource")


def resources_of(program: Program, domain: str = "") -> QuerySet[CommunityResource]:
    qs = CommunityResource.objects.filter(program=program, active=True)
    return qs.filter(domain=domain) if domain else qs


@transaction.atomic
def add_resource(
    user: Any,
    program: Program,
    *,
    name: str,
    domain: str,
    phone: str = "",
    address: str = "",
    note: str = "",
    request: HttpRequest | None = None,
) -> CommunityResource:
    """Add an entry to the program's community-resource directory (admins, coordinators)."""
    require_roles(user, program, RESOURCE_ROLES)
    if domain not in rules.HRSN_DOMAINS:
        raise InvalidInput("domain", f"choose one of: {', '.join(rules.HRSN_DOMAINS)}")
    name = _text("name", name, limit=200)
    if CommunityResource.objects.filter(program=program, name=name).exists():
        raise InvalidInput("name", "the directory already has a resource of this name")
    resource = CommunityResource.objects.create(
        program=program, name=name, domain=domain, phone=phone, address=address, note=note
    )
    _audit(Action.CREATE, user, program, obj=resource, request=request)
    return resource


def ensure_resource(program: Program, **values: Any) -> CommunityResource:
    """Demo seeding: a synthetic directory entry unless one of that name exists."""
    resource, _created = CommunityResource.objects.get_or_create(
        program=program, name=values.pop("name"), defaults=values
    )
    return resource


@transaction.atomic
def add_referral(
    user: Any,
    screening: HrsnScreening,
    *,
    resource_id: int,
    follow_up_on: date,
    note: str = "",
    request: HttpRequest | None = None,
) -> Referral:
    """Refer the patient to a directory resource for one of the screening's positive domains."""
    require_roles(user, screening.program, CLINICAL_ROLES)
    resource = CommunityResource.objects.filter(
        pk=resource_id, program=screening.program, active=True
    ).first()
    if resource is None:
        raise InvalidInput("resource", "choose a resource of this program's directory")
    if resource.domain not in screening.positive_domains:
        raise InvalidInput("resource", "this screening found no need in the resource's domain")
    if follow_up_on < timezone.localdate():
        raise InvalidInput("follow_up_on", "the follow-up date cannot be in the past")
    referral = Referral.objects.create(
        screening=screening,
        patient=screening.patient,
        program=screening.program,
        resource=resource,
        domain=resource.domain,
        follow_up_on=follow_up_on,
        note=_text("note", note, required=False, limit=300),
        created_by=user,
    )
    _audit(
        Action.CREATE,
        user,
        screening.program,
        patient_id=screening.patient_id,
        obj=referral,
        request=request,
        detail={"domain": resource.domain},
    )
    return referral


@transaction.atomic
def follow_up_referral(
    user: Any,
    referral_id: int,
    *,
    status: str,
    note: str = "",
    follow_up_on: date | None = None,
    request: HttpRequest | None = None,
) -> Referral:
    """Record a referral's follow-up: connected, not reached yet (new date), or closed unmet."""
    referral = Referral.objects.visible_to(user).filter(pk=referral_id).first()
    if referral is None:
        raise Http404("No such referral")
    require_roles(user, referral.program, CLINICAL_ROLES)
    if status not in Referral.Status.values:
        raise InvalidInput("status", "choose the result of the follow-up")
    if status in (Referral.Status.REFERRED, Referral.Status.UNREACHED):
        if follow_up_on is None:
            raise InvalidInput("follow_up_on", "give the next follow-up date")
        if follow_up_on < timezone.localdate():
            raise InvalidInput("follow_up_on", "the follow-up date cannot be in the past")
        referral.follow_up_on = follow_up_on
    referral.status = status
    referral.note = _text("note", note, required=False, limit=300) or referral.note
    referral.save()
    _audit(
        Action.UPDATE,
        user,
        referral.program,
        patient_id=referral.patient_id,
        obj=referral,
        request=request,
        detail={"status": status},
    )
    return referral


def get_screening(user: Any, patient: Patient, screening_id: int) -> HrsnScreening:
    screening = screenings_of(user, patient).filter(pk=screening_id).first()
    if screening is None:
        raise Http404("No such screening")
    return screening


# Phases after the dose series: the social needs screening is repeated then (issue 8).
AFTER_SERIES_PHASES = ("integrating", "sustaining", "maintenance", "completed")


def hrsn_due(episode: Episode) -> str:
    """Which social needs screening the course still needs: ``intake`` (none yet),
    ``after_series`` (the series is over and no screening since), or "" (none due)."""
    done = set(
        HrsnScreening.objects.filter(patient=episode.patient, episode=episode).values_list(
            "timing", flat=True
        )
    )
    if not done and not HrsnScreening.objects.filter(patient=episode.patient).exists():
        return HrsnScreening.Timing.INTAKE
    if episode.phase in AFTER_SERIES_PHASES and HrsnScreening.Timing.AFTER_SERIES not in done:
        return HrsnScreening.Timing.AFTER_SERIES
    return ""


def latest_hrsn(patient: Patient) -> HrsnScreening | None:
    return HrsnScreening.objects.filter(patient=patient).first()


def _transport_unmet(patient: Patient) -> bool:
    return patient.pk in _transport_unmet_of([patient.pk])


def _transport_unmet_of(patient_ids: Iterable[Any]) -> set[Any]:
    """Which of these patients' latest social needs screening found a transportation problem
    that no connected referral has met (two queries at most, whatever the number)."""
    latest: dict[Any, tuple[Any, list[str]]] = {}
    # Newest first (the model's ordering, as latest_hrsn): the first seen is the latest.
    for patient_id, pk, domains in HrsnScreening.objects.filter(
        patient_id__in=set(patient_ids)
    ).values_list("patient_id", "pk", "positive_domains"):
        latest.setdefault(patient_id, (pk, domains))
    need = {pk: patient for patient, (pk, domains) in latest.items() if "transport" in domains}
    if not need:
        return set()
    met = Referral.objects.filter(
        screening_id__in=list(need), domain="transport", status=Referral.Status.CONNECTED
    ).values_list("screening_id", flat=True)
    return set(need.values()) - {need[pk] for pk in met}


def unmet_transport_of(patient: Patient) -> bool:
    """:func:`unmet_transport` for a patient (an access-checked one)."""
    return _transport_unmet(patient)


def unmet_transport(episode: Episode) -> bool:
    """The patient's latest social needs screening found a transportation problem that no
    referral has met yet: the pathway board shows it next to the next dose (a ride home is a
    discharge criterion, CLINICAL.md §5). Called with an access-checked episode."""
    return _transport_unmet(episode.patient)


# --- the integration board ----------------------------------------------------------------------


@dataclass
class WindowRow:
    episode: Episode
    dose_index: int
    dosed_at: datetime
    closes_at: datetime
    transport_unmet: bool = False


@dataclass
class Board:
    window: list[WindowRow] = field(default_factory=list)
    commitments_due: list[Commitment] = field(default_factory=list)
    shared_unread: list[JournalEntry] = field(default_factory=list)
    transport: list[Episode] = field(default_factory=list)
    referrals_due: list[Referral] = field(default_factory=list)
    screenings_due: list[tuple[Episode, str]] = field(default_factory=list)


def integration_board(
    user: Any,
    program: Program | None,
    *,
    mine: bool = False,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Board:
    """Patients inside their integration window (a dose in the last 72 h with no integration
    yet), commitments due for review, shared journal entries unread, unmet transport needs."""
    require_roles(user, program, BOARD_ROLES)
    assert program is not None
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    episodes = list(care.active_episodes(user, program))
    if mine:
        episodes = [e for e in episodes if e.primary_therapist_id == user.pk]
    board = Board()
    for episode in episodes:
        report = care.adherence(episode, now)
        unmet = _transport_unmet(episode.patient)
        for dose in report.doses:
            if dose.status == "open":
                board.window.append(
                    WindowRow(episode, dose.dose_index, dose.dosed_at, dose.window_closes_at, unmet)
                )
        if unmet:
            board.transport.append(episode)
        due = hrsn_due(episode)
        if due:
            board.screenings_due.append((episode, due))
    board.window.sort(key=lambda r: r.closes_at)
    ids = [e.pk for e in episodes]
    board.commitments_due = list(
        Commitment.objects.visible_to(user)
        .filter(episode__in=ids, status=Commitment.Status.OPEN, review_on__lte=today)
        .select_related("episode__patient")
        .order_by("review_on", "id")
    )
    board.referrals_due = list(
        Referral.objects.visible_to(user)
        .filter(
            program=program,
            status__in=[Referral.Status.REFERRED, Referral.Status.UNREACHED],
            follow_up_on__lte=today,
        )
        .select_related("patient", "resource")
        .order_by("follow_up_on", "id")
    )
    if has_any_role(user, program, JOURNAL_READER_ROLES):
        board.shared_unread = list(
            JournalEntry.objects.visible_to(user)
            .filter(
                program=program,
                shared=True,
                read_at__isnull=True,
                patient__in=[e.patient_id for e in episodes],
            )
            .select_related("patient")
            .order_by("shared_at")
        )
    _audit(
        Action.VIEW,
        user,
        program,
        object_type="integration.board",
        request=request,
        detail={
            "window": len(board.window),
            "commitments_due": len(board.commitments_due),
            "shared_unread": len(board.shared_unread),
            "referrals_due": len(board.referrals_due),
            "mine": mine,
        },
    )
    return board


def board_counts(user: Any, program: Program | None, now: datetime | None = None) -> int:
    """For the home card: how many doses are inside their integration window (not audited:
    a count names no patient)."""
    if program is None or not has_any_role(user, program, BOARD_ROLES):
        return 0
    # care's counts read every course's events in one query (not one per course).
    return care.board_counts(user, program, now).open_windows


# --- the thread ---------------------------------------------------------------------------------


@dataclass
class ThreadItem:
    """One step of the course's thread, in time order."""

    kind: str  # intention, preparation, dose, experience, reflection, integration, circle, …
    at: datetime
    title: str
    body: str = ""
    obj: Any = None
    intention_ids: frozenset[int] = frozenset()
    dose_index: int | None = None


RANK = {"intention": 0, "preparation": 1}
# Other apps (peers: circle attendance; measures: the outcome trajectory) may add items:
# callable(episode) -> list[ThreadItem], reading their own data through their own services.
THREAD_PROVIDERS: list[Callable[[Episode], list[ThreadItem]]] = []


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def _outcome_items(user: Any, episode: Episode) -> list[ThreadItem]:
    """The outcome trajectory: the track's primary measure from the course start (through the
    measures app's own service, which checks roles and audits)."""
    from trellis.measures import services as measures

    instrument = measures.primary_instrument(episode)
    start = _start_of(episode.start_date)
    return [
        ThreadItem(
            "outcome",
            a.taken_at,
            f"{measures.short_name(instrument)} {a.total}",
            a.band or "",
            obj=a,
        )
        for a in measures.series(user, episode.patient, instrument)
        if a.total is not None and a.taken_at >= start
    ]


def episode_thread(
    user: Any,
    episode: Episode,
    *,
    intention_id: int | None = None,
    request: HttpRequest | None = None,
) -> list[ThreadItem]:
    """One timeline per course: intention → preparation → each dose and its experience →
    integration and commitments → circle attendance → outcomes. With ``intention_id``: the
    intention, the integration sessions that touched it, and the doses they followed."""
    require_roles(user, episode.program, CLINICAL_ROLES)
    items: list[ThreadItem] = []
    for intention in intentions_of(episode):
        items.append(
            ThreadItem(
                "intention",
                intention.created_at,
                intention.text,
                obj=intention,
                intention_ids=frozenset({intention.pk}),
            )
        )
    prep = preparation_of(episode)
    if prep is not None:
        items.append(ThreadItem("preparation", prep.updated_at, "", obj=prep))
    for event in care.events_of(episode).filter(kind="preparation_done"):
        items.append(ThreadItem("preparation_session", event.at, "", dose_index=event.index))
    for index, at in doses_given(episode):
        items.append(ThreadItem("dose", at, "", dose_index=index))
    for seen in ExperienceNote.objects.filter(episode=episode).select_related("author"):
        items.append(
            ThreadItem("experience", seen.at, "", seen.text, obj=seen, dose_index=seen.dose_index)
        )
    for reflection in PatientReflection.objects.filter(episode=episode):
        items.append(
            ThreadItem(
                "reflection",
                reflection.at,
                "",
                reflection.text,
                obj=reflection,
                dose_index=reflection.dose_index,
            )
        )
    for note in notes_of(episode):
        items.append(
            ThreadItem(
                "integration",
                note.at,
                "",
                note.insights,
                obj=note,
                intention_ids=frozenset(i.pk for i in note.intentions.all()),
                dose_index=note.dose_index,
            )
        )
    for act in care.activities_of(episode).filter(kind="peer_circle", status="done"):
        items.append(ThreadItem("circle", act.done_at or _start_of(act.target), "", obj=act))
    items.extend(_outcome_items(user, episode))
    for provider in THREAD_PROVIDERS:
        items.extend(provider(episode))
    if intention_id is not None:
        touched = {
            i.dose_index
            for i in items
            if i.kind == "integration" and intention_id in i.intention_ids
        }
        items = [
            i
            for i in items
            if intention_id in i.intention_ids
            or (i.kind in ("dose", "experience", "reflection") and i.dose_index in touched)
        ]
    # Intentions open the thread (what the course is for), then preparation, then time order.
    items.sort(key=lambda i: (RANK.get(i.kind, 2), i.at))
    _audit(
        Action.VIEW,
        user,
        episode.program,
        patient_id=episode.patient_id,
        obj=episode,
        object_type="integration.thread",
        request=request,
        detail={"intention": intention_id, "items": len(items)},
    )
    return items


# --- the patient's check-in page ----------------------------------------------------------------


@dataclass
class PatientView:
    """What the patient reads back on the check-in page (their own record, their language)."""

    episode: Episode | None
    intentions: list[Intention]
    commitments: list[Commitment]
    safety_plan: SafetyPlan | None
    journal: list[JournalEntry]
    reflection_dose: int | None


def patient_view(link: CheckInLink, now: datetime | None = None) -> PatientView:
    patient = _patient_of_link(link)
    episode = _patient_episode(patient)
    due = reflection_due(link, now)
    return PatientView(
        episode=episode,
        intentions=list(intentions_of(episode)) if episode else [],
        commitments=list(open_commitments(episode)) if episode else [],
        safety_plan=SafetyPlan.objects.filter(patient=patient).first(),
        journal=list(journal_of_link(link)[:50]),
        reflection_dose=due[1] if due else None,
    )


def chart_summary(user: Any, patient: Patient) -> dict[str, Any]:
    """The integration summary for the chart panel (never process notes or private journal)."""
    episode = care.episodes_of(user, patient).first()
    plan = SafetyPlan.objects.visible_to(user).filter(patient=patient).first()
    return {
        "episode": episode,
        "plan": plan,
        "plan_missing": rules.safety_plan_missing(plan_content(plan)),
        "intentions": list(intentions_of(episode)) if episode else [],
        "open_commitments": list(open_commitments(episode)) if episode else [],
        "notes": notes_of(episode).count() if episode else 0,
        "transport_unmet": _transport_unmet(patient),
        "latest_hrsn": HrsnScreening.objects.visible_to(user).filter(patient=patient).first(),
    }


def transport_board_note(episode: Any) -> str | None:
    """The pathway board's note beside the next dose when a ride home is not yet arranged."""
    return transport_board_notes([episode])[episode.pk]


def transport_board_notes(episodes: Sequence[Episode]) -> dict[Any, str | None]:
    """:func:`transport_board_note` of every episode, by episode pk, in two queries at most (its
    batch twin, ``care.services.BOARD_NOTE_BATCH_PROVIDERS``)."""
    from django.utils.translation import gettext

    unmet = _transport_unmet_of(e.patient_id for e in episodes)
    note = gettext("Transport need not met: arrange the ride home")
    return {e.pk: note if e.patient_id in unmet else None for e in episodes}


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_integration_notes(program: Program) -> QuerySet[IntegrationNote]:
    """The program's integration sessions (their notes).

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return IntegrationNote.objects.filter(program=program).select_related("episode")

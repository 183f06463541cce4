"""Preparation guides for patients (issue 17): which guide a course gets, what the patient read,
their teach-back answers, and a program's adapted copies.

The guide and its rules are pure (:mod:`trellis.core.guides`); this module adds the course
(drug, route, track and adaptations from :mod:`trellis.care.services`), storage, permissions and
the audit log. A patient reaches their guide through their check-in link; staff read what they
read and answered on the chart and the therapist's preparation page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES, Program
from trellis.accounts.services import require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.care.models import Episode
from trellis.checkin.models import CheckInLink
from trellis.core import guides as core
from trellis.core.errors import InvalidInput
from trellis.guides.models import GuideReading, ProgramGuide, TeachBack
from trellis.integration.services import PREPARATION_ROLES
from trellis.patients.models import Patient

LIBRARY_ROLES = CLINICAL_ROLES
EDITOR_ROLES = care.PROTOCOL_EDITOR_ROLES  # who adapts a track adapts its guide
DISCUSS_ROLES = PREPARATION_ROLES


def _actor(patient: Patient) -> str:
    return f"patient:{patient.pk}"


# --- which guide ------------------------------------------------------------------------------


def resolve_guide(program: Program, guide_id: str, language: str) -> core.Guide:
    """The program's adapted copy of a guide in ``language``, else the packaged guide."""
    row = ProgramGuide.objects.filter(program=program, guide_id=guide_id, language=language).first()
    if row is not None:
        return core.parse_guide(row.yaml_text, f"{guide_id}.{language}.yaml")
    return core.load_guide(guide_id, language)


@dataclass(frozen=True)
class PatientGuide:
    """The guide one course gets, narrowed to its route, track and adaptations."""

    episode: Episode
    guide: core.Guide
    track: str
    route: str
    adaptations: tuple[str, ...]
    sections: tuple[core.Section, ...]
    family_sections: tuple[core.Section, ...]


def guide_for_episode(episode: Episode, language: str) -> PatientGuide:
    protocol = care.protocol_of(episode)
    track = care.packaged_track_of(episode)
    adaptations = tuple(episode.adaptations or ())
    lang = language if language in core.LANGUAGES else "en"
    guide = resolve_guide(episode.program, core.guide_id_for_drug(protocol.drug), lang)
    pick = {"route": protocol.route, "track": track, "adaptations": adaptations}
    return PatientGuide(
        episode=episode,
        guide=guide,
        track=track,
        route=protocol.route,
        adaptations=adaptations,
        sections=tuple(core.sections_for(guide, **pick)),  # type: ignore[arg-type]
        family_sections=tuple(
            core.sections_for(guide, audience="family", **pick)  # type: ignore[arg-type]
        ),
    )


def guide_for_link(link: CheckInLink, language: str) -> PatientGuide | None:
    """The guide of the patient's current course (None when they have no course)."""
    episode = care.current_episode(link.patient)
    if episode is None:
        return None
    return guide_for_episode(episode, language)


# --- what the patient does ----------------------------------------------------------------------


@transaction.atomic
def record_reading(
    link: CheckInLink,
    pg: PatientGuide,
    *,
    audience: str = "patient",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> GuideReading:
    """The patient opened their guide (or its family page): one row per course, guide and
    audience, counting the visits; audited with the patient as the actor."""
    now = now or timezone.now()
    patient = link.patient
    shown = pg.sections if audience == "patient" else pg.family_sections
    reading, created = GuideReading.objects.select_for_update().get_or_create(
        patient=patient,
        episode=pg.episode,
        guide_id=pg.guide.id,
        audience=audience,
        defaults={
            "program": link.program,
            "guide_version": pg.guide.version,
            "language": pg.guide.language,
            "sections": [s.id for s in shown],
            "first_read_at": now,
            "last_read_at": now,
        },
    )
    if not created:
        reading.times += 1
        reading.last_read_at = now
        reading.language = pg.guide.language
        reading.guide_version = pg.guide.version
        reading.sections = [s.id for s in shown]
        reading.save(
            update_fields=["times", "last_read_at", "language", "guide_version", "sections"]
        )
    # A write (the reading row), so never folded into the visit's one view event.
    record(
        action=Action.CREATE if created else Action.UPDATE,
        request=request,
        actor_username=_actor(patient),
        program=link.program,
        patient_id=patient.pk,
        obj=reading,
        detail={"guide": pg.guide.id, "audience": audience, "via": "check-in link"},
    )
    return reading


@transaction.atomic
def submit_teach_back(
    link: CheckInLink,
    pg: PatientGuide,
    answers: Mapping[str, str],
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> TeachBack:
    """Store the patient's answers whole (every question answered with one of its options, else
    :class:`InvalidInput` naming the question and nothing stored); misses become a note for the
    therapist."""
    result = core.check_teach_back(pg.guide, answers)
    patient = link.patient
    row = TeachBack.objects.create(
        program=link.program,
        patient=patient,
        episode=pg.episode,
        guide_id=pg.guide.id,
        guide_version=pg.guide.version,
        language=pg.guide.language,
        answers=dict(result.answers),
        misunderstood=list(result.misunderstood),
        submitted_at=now or timezone.now(),
    )
    record(
        action=Action.CREATE,
        request=request,
        actor_username=_actor(patient),
        program=link.program,
        patient_id=patient.pk,
        obj=row,
        detail={
            "guide": pg.guide.id,
            "questions": len(pg.guide.teach_back),
            "to_discuss": len(result.misunderstood),
            "via": "check-in link",
        },
    )
    return row


def progress(episode: Episode) -> tuple[bool, bool]:
    """(the patient opened their guide, the patient answered its questions) for a course."""
    read = GuideReading.objects.filter(episode=episode, audience="patient").exists()
    return read, TeachBack.objects.filter(episode=episode).exists()


def latest_teach_back(episode: Episode) -> TeachBack | None:
    row: TeachBack | None = TeachBack.objects.filter(episode=episode).first()
    return row


# --- what staff see -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToDiscuss:
    question: str
    chosen: str
    explain: str


@dataclass(frozen=True)
class CourseSummary:
    episode: Episode
    readings: list[GuideReading]
    teach_back: TeachBack | None
    to_discuss: list[ToDiscuss]


def _to_discuss(program: Program, row: TeachBack) -> list[ToDiscuss]:
    try:
        guide = resolve_guide(program, row.guide_id, row.language)
    except InvalidInput:
        return []
    out = []
    for qid in row.misunderstood:
        try:
            q = guide.question(qid)
        except KeyError:
            continue
        chosen = next((o.text for o in q.options if o.id == row.answers.get(qid)), "")
        out.append(ToDiscuss(q.question, chosen, q.explain))
    return out


def course_summary(
    user: Any, patient: Patient, *, request: HttpRequest | None = None
) -> CourseSummary | None:
    """What the patient read and answered for their current course (clinical roles of the
    patient's program; audited as a view of the patient's data)."""
    require_roles(user, patient.program, CLINICAL_ROLES)
    episode = care.episodes_of(user, patient).first()
    if episode is None:
        return None
    readings = list(GuideReading.objects.visible_to(user).filter(episode=episode))
    row = TeachBack.objects.visible_to(user).filter(episode=episode).first()
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        object_type="guides.course",
        object_id=str(episode.pk),
        detail={"readings": len(readings), "teach_back": row is not None},
    )
    return CourseSummary(
        episode, readings, row, _to_discuss(patient.program, row) if row is not None else []
    )


@transaction.atomic
def mark_discussed(
    user: Any, teach_back_id: int, *, request: HttpRequest | None = None
) -> TeachBack:
    """The therapist talked the misunderstood points through with the patient."""
    try:
        row = TeachBack.objects.visible_to(user).select_for_update().get(pk=teach_back_id)
    except TeachBack.DoesNotExist as exc:
        raise Http404("No such answers") from exc
    require_roles(user, row.program, DISCUSS_ROLES)
    if row.discussed_at is None:
        row.discussed_by = user
        row.discussed_at = timezone.now()
        row.save(update_fields=["discussed_by", "discussed_at"])
        record(
            action=Action.UPDATE,
            request=request,
            actor=user,
            program=row.program,
            patient_id=row.patient_id,
            obj=row,
            detail={"discussed": True},
        )
    return row


# --- the first-dose gate (a track may require the teach-back) -----------------------------------


def first_dose_fact(episode: Episode) -> dict[str, Any]:
    """``care.services.FIRST_DOSE_FACT_PROVIDERS``: the teach-back answered for this course."""
    return {"teach_back_answered": TeachBack.objects.filter(episode=episode).exists()}


def first_dose_facts_of_many(episodes: list[Episode]) -> dict[Any, dict[str, Any]]:
    answered = set(
        TeachBack.objects.filter(episode__in=episodes).values_list("episode_id", flat=True)
    )
    return {e.pk: {"teach_back_answered": e.pk in answered} for e in episodes}


# --- the library and a program's adapted copies -------------------------------------------------


@dataclass(frozen=True)
class LibraryEntry:
    guide: core.Guide
    readability: core.Readability
    adapted: ProgramGuide | None


def library(user: Any, program: Program) -> list[LibraryEntry]:
    require_roles(user, program, LIBRARY_ROLES)
    copies = {(r.guide_id, r.language): r for r in ProgramGuide.objects.filter(program=program)}
    entries = []
    for packaged in core.list_guides():
        key = (packaged.id, packaged.language)
        guide = resolve_guide(program, *key)
        entries.append(LibraryEntry(guide, core.guide_readability(guide), copies.get(key)))
    return entries


def guide_text_of(program: Program, guide_id: str, language: str) -> str:
    row = ProgramGuide.objects.filter(program=program, guide_id=guide_id, language=language).first()
    if row is not None:
        return row.yaml_text
    core.load_guide(guide_id, language)  # raises InvalidInput when unknown
    return core.packaged_guide_text(guide_id, language)


def check_copy(guide_id: str, language: str, text: str) -> tuple[core.Guide, core.Readability]:
    """Validate an adapted copy: a valid guide, the same id, language and drug, the packaged
    guide's sections and questions (so every course still gets every safety section), and the
    plain-language bar. Raises :class:`trellis.core.guides.GuideInvalid` naming the problem."""
    file = f"{guide_id}.{language}.yaml"
    packaged = core.load_guide(guide_id, language)
    guide = core.parse_guide(text, file)
    errors = []
    if guide.id != guide_id:
        errors.append(core.GuideError(file, "id", f"must stay {guide_id!r}"))
    if guide.language != language:
        errors.append(core.GuideError(file, "language", f"must stay {language!r}"))
    errors += core.pair_errors(packaged, guide, file)
    if errors:
        raise core.GuideInvalid(errors)
    result = core.guide_readability(guide)
    if not result.passes:
        raise core.GuideInvalid(core.readability_errors(guide, file))
    return guide, result


@transaction.atomic
def save_copy(
    user: Any,
    program: Program,
    guide_id: str,
    language: str,
    text: str,
    *,
    request: HttpRequest | None = None,
) -> ProgramGuide:
    """Save the program's adapted copy (validated whole; nothing saved on any problem)."""
    require_roles(user, program, EDITOR_ROLES)
    guide, result = check_copy(guide_id, language, text)
    row, _created = ProgramGuide.objects.update_or_create(
        program=program,
        guide_id=guide_id,
        language=language,
        defaults={
            "yaml_text": text,
            "version": guide.version,
            "readability": result.score,
            "updated_by": user,
        },
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        obj=row,
        detail={"guide": guide_id, "language": language, "version": guide.version},
    )
    return row

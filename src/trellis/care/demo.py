"""Synthetic demo courses: episodes on every track, at every point of the pathway.

Stage 10 opens the episodes (screening, documented requirements, preparation sessions that are
past); stage 30 records the doses and integration sessions whose dates are past, stopping at
dose 1 while anything still blocks it, and leaving a few integration windows empty so the
board shows real gaps.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from trellis.care import services
from trellis.care.models import CareActivity, Episode
from trellis.core.protocols import load_protocol
from trellis.patients.models import ConsentKind, Patient
from trellis.patients.services import add_consent, has_active_consent
from trellis.web.demo import DemoContext, demo_seeder

# (track, days since the pathway started, adaptations): the course of demo patient i.
COURSES: list[tuple[str, int, list[str]]] = [
    ("iv-trd", 30, []),
    ("iv-trd", 16, []),
    ("iv-trd", 9, ["medical-distrust"]),
    ("esketamine-trd", 35, []),
    ("esketamine-trd", 12, []),
    ("esketamine-suicidal", 4, []),
    ("iv-ptsd", 22, []),
    ("iv-ptsd", 8, ["chw-navigator"]),
    ("complex-trauma", 40, []),
    ("iv-bipolar", 20, []),
    ("iv-ocd", 14, []),
    ("iv-aud", 25, ["transport"]),
    ("iv-trd", 75, []),
    ("iv-trd", 110, ["family-involved"]),
    ("esketamine-trd", 60, []),
    ("iv-trd", 2, []),
    ("iv-ptsd", 50, []),
    ("iv-trd", 0, []),
    ("complex-trauma", 12, ["medical-distrust"]),
    ("iv-trd", 24, []),
    ("iv-aud", 8, []),
    ("iv-bipolar", 6, []),
]
# Demo patients whose integration after dose 3 never happened (a visible gap on the board).
GAP_AFTER_DOSE_3 = {1, 6, 19}
WITHDRAWN = {13}


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _adaptations(patient: Patient, base: list[str]) -> list[str]:
    adapt = list(base)
    if patient.preferred_language != "en":
        adapt.append("language-concordant")
        if patient.interpreter_needed:
            adapt.append("interpreter")
    return sorted(set(adapt))


def _no_answers(track: str) -> dict[str, bool]:
    protocol = load_protocol(track)
    return {item.id: False for item in protocol.screening if item.age_below is None}


@demo_seeder(stage=10)
def open_courses(ctx: DemoContext) -> None:
    coordinator = ctx.staff["cora.coordinator"]
    prescriber = ctx.staff["priya.prescriber"]
    therapist = ctx.staff["tomas.therapist"]
    opened = 0
    for i, (track, days_in, base_adapt) in enumerate(COURSES):
        if i >= len(ctx.patients):
            break
        patient = ctx.patients[i]
        if services.episodes_of(coordinator, patient).exists():
            continue
        start = ctx.today - timedelta(days=days_in)
        spanish = patient.preferred_language == "es"
        episode = services.start_episode(
            coordinator,
            patient,
            protocol_id=track,
            referred_on=start - timedelta(days=2 if track != "esketamine-suicidal" else 0),
            start_date=start,
            adaptations=_adaptations(patient, base_adapt),
            primary_therapist=therapist if spanish else ctx.staff["tessa.therapist"],
        )
        opened += 1
        services.record_screening(
            coordinator, episode, _no_answers(track), today=start, at=_at(start, 10)
        )
        if track == "iv-bipolar":
            services.document_requirement(
                prescriber,
                episode,
                "mood_stabiliser_documented",
                "Lithium carbonate 900 mg nightly; level 0.7 mmol/L (synthetic)",
            )
        if track in {"iv-ptsd", "complex-trauma"}:
            services.document_requirement(
                therapist,
                episode,
                "consent_to_touch_documented",
                "Prefers no touch; a spoken check-in before any contact (synthetic)",
            )
        if track == "iv-aud" and not has_active_consent(patient, ConsentKind.PART2):
            add_consent(
                coordinator,
                patient,
                kind=ConsentKind.PART2,
                given_on=start,
                scope="Alcohol-use treatment records, care team only",
            )
        for act in services.activities_of(episode).filter(kind="preparation", target__lt=ctx.today):
            services.record_event(
                therapist, episode, "preparation_done", at=_at(act.target, 11), index=act.index
            )
    ctx.created["episodes"] = ctx.created.get("episodes", 0) + opened


@demo_seeder(stage=30)
def record_course_so_far(ctx: DemoContext) -> None:
    nurse = ctx.staff["noah.nurse"]
    coordinator = ctx.staff["cora.coordinator"]
    recorded = 0
    for i, patient in enumerate(ctx.patients[: len(COURSES)]):
        episode = services.episodes_of(coordinator, patient).first()
        if episode is None or services.events_of(episode).filter(kind="dose_given").exists():
            continue
        therapist = episode.primary_therapist or ctx.staff["tessa.therapist"]
        if services.first_dose_blockers(episode):
            continue  # waits for what is still missing (shown on the pathway board)
        past = services.activities_of(episode).filter(
            kind__in=["dose", "integration", "follow_up"],
            source=CareActivity.Source.PLAN,
            target__lt=ctx.today,
        )
        for act in past.order_by("target", "kind"):
            if act.kind == "dose":
                services.record_event(
                    nurse, episode, "dose_given", at=_at(act.target, 9), index=act.index
                )
            elif act.kind == "integration" and act.name == "integration":
                if act.index == 3 and i in GAP_AFTER_DOSE_3:
                    continue
                services.record_event(
                    therapist,
                    episode,
                    "integration_done",
                    at=_at(act.target, 14),
                    index=act.index,
                )
            elif act.kind == "follow_up" and act.name == "check-in":
                services.record_event(
                    therapist, episode, "check_in_done", at=_at(act.target, 15), index=act.index
                )
            recorded += 1
        episode.refresh_from_db()
        if i in WITHDRAWN and episode.is_active:
            services.record_event(
                coordinator,
                episode,
                "withdrawn",
                at=_at(ctx.today - timedelta(days=3), 12),
                note="Moved out of state (synthetic)",
            )
    ctx.created["course events"] = ctx.created.get("course events", 0) + recorded


# The demo program's adapted copy of the IV TRD track: a third preparation session for everyone
# (the clinic's choice for a population with low trust in medical care) and 48-hour integration.
ADAPTED_ID_SUFFIX = "iv-trd"
ADAPTED_COURSE_PATIENT = len(COURSES)  # the first demo patient without a packaged-track course


def _adapt(text: str) -> str:
    text = text.replace("  count: 2\n  minutes: 60", "  count: 3\n  minutes: 60", 1)
    text = text.replace('version: "1.0.0"', 'version: "1.1.0"', 1)
    return text.replace(
        "title: IV ketamine for treatment-resistant depression",
        "title: IV ketamine for TRD, Riverbend adaptation (3 preparation sessions)",
        1,
    )


@demo_seeder(stage=10)
def adapted_protocol(ctx: DemoContext) -> None:
    """A copy of iv-trd adapted by the demo program's prescriber, enabled, with one course."""
    prescriber = ctx.staff["priya.prescriber"]
    copy_id = services.default_copy_id(ctx.program, ADAPTED_ID_SUFFIX)
    ids = {e.id for e in services.protocol_library(ctx.program)}
    if copy_id not in ids:
        row = services.copy_protocol(prescriber, ctx.program, ADAPTED_ID_SUFFIX, copy_id)
        services.save_protocol_copy(prescriber, ctx.program, copy_id, _adapt(row.yaml_text))
        services.set_protocol_enabled(prescriber, ctx.program, copy_id, True)
        ctx.created["adapted protocols"] = ctx.created.get("adapted protocols", 0) + 1
    if len(ctx.patients) <= ADAPTED_COURSE_PATIENT:
        return
    patient = ctx.patients[ADAPTED_COURSE_PATIENT]
    coordinator = ctx.staff["cora.coordinator"]
    if services.episodes_of(coordinator, patient).exists():
        return
    start = ctx.today - timedelta(days=5)
    episode = services.start_episode(
        coordinator,
        patient,
        protocol_id=copy_id,
        referred_on=start - timedelta(days=3),
        start_date=start,
        adaptations=_adaptations(patient, ["chw-navigator"]),
        primary_therapist=ctx.staff["tessa.therapist"],
    )
    services.record_screening(
        coordinator, episode, _no_answers(ADAPTED_ID_SUFFIX), today=start, at=_at(start, 10)
    )
    for act in services.activities_of(episode).filter(kind="preparation", target__lt=ctx.today):
        services.record_event(
            ctx.staff["tessa.therapist"],
            episode,
            "preparation_done",
            at=_at(act.target, 11),
            index=act.index,
        )
    ctx.created["episodes"] = ctx.created.get("episodes", 0) + 1


@demo_seeder(stage=40)
def gap_alerts(ctx: DemoContext) -> None:
    """Integration gaps of the demo courses become alerts (once each; see sync_gap_alerts)."""
    # Idempotent: a second run returns the same alerts (no summary count: nothing new).
    services.sync_gap_alerts(ctx.program)


__all__ = ["Episode", "adapted_protocol", "gap_alerts", "open_courses", "record_course_so_far"]

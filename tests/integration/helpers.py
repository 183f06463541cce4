"""Shared set-up for integration tests: a course on a track with its screening and preparation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from tests.support import Cast

from trellis.care import services as care
from trellis.integration import services

PLAN = {
    "warning_signs": ["Not sleeping", "Pulling away from friends"],
    "coping_strategies": ["Walk the dog"],
    "distraction": ["Library"],
    "help_contacts": ["Sister 555-0101"],
    "professionals": ["Call or text 988"],
    "environment": ["Pills kept by my partner"],
}


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour))).astimezone(UTC)


def no_answers(track: str) -> dict[str, bool]:
    from trellis.core.protocols import load_protocol

    return {i.id: False for i in load_protocol(track).screening if i.age_below is None}


def ready_episode(cast: Cast, track: str = "iv-trd", *, start: date | None = None) -> Any:
    """A course screened eligible with its preparation done (dose 1 waits only for what the
    track requires besides: e.g. the safety plan)."""
    start = start or timezone.localdate() - timedelta(days=20)
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id=track,
        referred_on=start - timedelta(days=1),
        start_date=start,
        primary_therapist=cast.therapist_a,
    )
    care.record_screening(cast.coordinator_a, episode, no_answers(track), at=at(start, 9))
    for act in care.activities_of(episode).filter(kind="preparation"):
        care.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(start, 11), index=act.index
        )
    return episode


def give_dose(cast: Cast, episode: Any, index: int, when: datetime) -> None:
    care.record_event(cast.nurse_a, episode, "dose_given", at=when, index=index)


def with_plan(cast: Cast) -> None:
    services.save_safety_plan(cast.therapist_a, cast.patient_a, PLAN)

"""Measures test helpers: a course with doses given in the (recent) past."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.support import Cast

from trellis.care import services as care


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def no_answers(track: str) -> dict[str, bool]:
    from trellis.core.protocols import load_protocol

    return {i.id: False for i in load_protocol(track).screening if i.age_below is None}


def safety_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        care,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*care.FIRST_DOSE_FACT_PROVIDERS, lambda episode: {"safety_plan_on_file": True}],
    )


def dosed_episode(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, doses: int, start: date, track: str = "iv-trd"
) -> Any:
    """An episode of ``track`` started on ``start`` with ``doses`` doses given 3 days apart
    from ``start + 4`` (times in the past: care refuses future events)."""
    safety_plan(monkeypatch)
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id=track,
        referred_on=start - timedelta(days=1),
        start_date=start,
    )
    care.record_screening(cast.coordinator_a, episode, no_answers(track), at=at(start))
    for k in (1, 2):
        care.record_event(cast.therapist_a, episode, "preparation_done", at=at(start), index=k)
    for n in range(1, doses + 1):
        care.record_event(
            cast.nurse_a,
            episode,
            "dose_given",
            at=at(start + timedelta(4 + 3 * (n - 1)), 9),
            index=n,
        )
    episode.refresh_from_db()
    return episode


def days_ago(n: int) -> date:
    return timezone.now().date() - timedelta(days=n)

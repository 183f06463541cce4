"""Care test helpers: a prescriber in program A, a safety plan on file, opening a course."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.support import Cast

START = date(2026, 3, 2)


def at(day: date, hour: int = 10) -> datetime:
    # UTC: START's week crosses the US switch to daylight saving time (see test_episodes.py).
    return timezone.make_aware(datetime.combine(day, time(hour))).astimezone(UTC)


def no_answers(track: str) -> dict[str, bool]:
    from trellis.core.protocols import load_protocol

    return {i.id: False for i in load_protocol(track).screening if i.age_below is None}


@pytest.fixture
def prescriber_a(cast: Cast) -> Any:
    from trellis.accounts.models import Role
    from trellis.accounts.services import create_staff

    return create_staff(
        username="pia",
        password="correct horse battery",
        program=cast.program_a,
        roles=[Role.PRESCRIBER],
    )


@pytest.fixture
def safety_plan_on_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from trellis.care import services

    monkeypatch.setattr(
        services,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*services.FIRST_DOSE_FACT_PROVIDERS, lambda episode: {"safety_plan_on_file": True}],
    )


def open_course(cast: Cast, track: str = "iv-trd", **kwargs: Any) -> Any:
    from trellis.care import services

    kwargs.setdefault("referred_on", START - timedelta(days=1))
    kwargs.setdefault("start_date", START)
    return services.start_episode(cast.coordinator_a, cast.patient_a, protocol_id=track, **kwargs)


def dosed_course(cast: Cast, doses: int = 1) -> Any:
    """An iv-trd course screened eligible, prepared and dosed ``doses`` times (3 days apart)."""
    from trellis.care import services

    episode = open_course(cast)
    services.record_screening(cast.coordinator_a, episode, no_answers("iv-trd"), at=at(START))
    for k in (1, 2):
        services.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(START, 10 + k), index=k
        )
    for i in range(1, doses + 1):
        day = START + timedelta(days=4 + 3 * (i - 1))
        services.record_event(cast.nurse_a, episode, "dose_given", at=at(day, 9), index=i)
    return episode

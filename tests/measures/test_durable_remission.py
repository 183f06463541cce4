"""Durable remission at 90 days (CLINICAL.md §3) for the equity funnel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.care import services as care
from trellis.core.protocols import load_protocol
from trellis.measures import services
from trellis.measures.models import Assessment


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour))).astimezone(dt.UTC)


def course_with_scores(cast: Cast, scores: list[tuple[int, int]], monkeypatch: Any) -> Any:
    """An iv-trd course with all six doses given and PHQ-9 totals at (days after dose 1,
    total); returns the episode and the date of the last induction dose."""
    monkeypatch.setattr(
        care,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*care.FIRST_DOSE_FACT_PROVIDERS, lambda e: {"safety_plan_on_file": True}],
    )
    start = dt.date(2026, 1, 5)
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=start,
        start_date=start,
    )
    answers = {i.id: False for i in load_protocol("iv-trd").screening if i.age_below is None}
    care.record_screening(cast.coordinator_a, episode, answers, at=at(start))
    for k in (1, 2):
        care.record_event(cast.therapist_a, episode, "preparation_done", at=at(start), index=k)
    first = start + dt.timedelta(days=7)
    for k in range(1, 7):
        day = first + dt.timedelta(days=3 * (k - 1))
        care.record_event(cast.nurse_a, episode, "dose_given", at=at(day), index=k)
    for offset, total in scores:
        Assessment.objects.create(
            program=cast.program_a,
            patient=cast.patient_a,
            episode=episode,
            instrument="phq9",
            instrument_version="1",
            answers={},
            total=total,
            source="clinician",
            taken_at=at(first + dt.timedelta(days=offset), 8),
            idempotency_key=f"t:{offset}",
        )
    return episode, first + dt.timedelta(days=15)


@pytest.mark.django_db
def test_durable_remission_known_only_after_90_days(cast: Cast, monkeypatch: Any) -> None:
    episode, induction_end = course_with_scores(
        cast, [(0, 18), (7, 8), (20, 4), (60, 3), (105, 3)], monkeypatch
    )
    day_90 = induction_end + dt.timedelta(days=90)
    assert services.durable_remission_for_episode(episode, day_90 - dt.timedelta(days=1)) is None
    assert services.durable_remission_for_episode(episode, day_90 + dt.timedelta(days=5)) is True
    assert services.equity_outcomes(episode, day_90 + dt.timedelta(days=5)) == {
        "durable_remission_90d": True
    }


@pytest.mark.django_db
def test_not_durable_when_out_of_remission_at_90_days(cast: Cast, monkeypatch: Any) -> None:
    episode, induction_end = course_with_scores(
        cast, [(0, 18), (7, 8), (20, 4), (105, 9)], monkeypatch
    )
    as_of = induction_end + dt.timedelta(days=100)
    assert services.durable_remission_for_episode(episode, as_of) is False


@pytest.mark.django_db
def test_ptsd_course_outcomes_use_the_pcl5_rules(client: Any, cast: Cast, monkeypatch: Any) -> None:
    """CLINICAL.md §3 in the app: on a PCL-5 track response is a drop of >= 10 points (not
    50 %), remission a total < 33, relapse undetermined."""
    monkeypatch.setattr(
        care,
        "FIRST_DOSE_FACT_PROVIDERS",
        [
            *care.FIRST_DOSE_FACT_PROVIDERS,
            lambda e: {"safety_plan_on_file": True, "consent_to_touch_documented": True},
        ],
    )
    start = dt.date(2026, 1, 5)
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-ptsd",
        referred_on=start,
        start_date=start,
    )
    answers = {i.id: False for i in load_protocol("iv-ptsd").screening if i.age_below is None}
    care.record_screening(cast.coordinator_a, episode, answers, at=at(start))
    for k in (1, 2):
        care.record_event(cast.therapist_a, episode, "preparation_done", at=at(start), index=k)
    first = start + dt.timedelta(days=7)
    care.record_event(cast.nurse_a, episode, "dose_given", at=at(first), index=1)
    for offset, total in ((-1, 52), (5, 42)):
        Assessment.objects.create(
            program=cast.program_a,
            patient=cast.patient_a,
            episode=episode,
            instrument="pcl5",
            instrument_version="1",
            answers={},
            total=total,
            source="clinician",
            taken_at=at(first + dt.timedelta(days=offset), 8),
            idempotency_key=f"t:{offset}",
        )
    outcome = services.outcomes_for_episode(episode)
    assert outcome.instrument == "pcl5"
    assert outcome.response == first + dt.timedelta(days=5)  # 52 -> 42: a 10-point drop
    assert outcome.remission is None
    assert outcome.to_dict()["relapse"] == "undetermined"
    assert outcome.status == "response"
    sign_in(client, cast.nurse_a)
    page = client.get(f"/measures/patients/{cast.patient_a.pk}/").content.decode()
    assert "outcome-response" in page
    assert "outcome-relapse " not in page  # "undetermined" is not shown as a relapse

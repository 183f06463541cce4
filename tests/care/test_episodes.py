"""Episodes: a track becomes a pathway; events advance the phase; dose 1 waits for its gate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.support import Cast

from trellis.audit.models import AuditEvent
from trellis.care import services
from trellis.care.models import CareActivity
from trellis.core.errors import Conflict, InvalidInput, NotAllowed

START = date(2026, 3, 2)


def at(day: date, hour: int = 10) -> datetime:
    # In UTC: aware arithmetic in a local zone is wall-clock time, and START's week crosses the
    # US switch to daylight saving time (8 March 2026), where 72 wall-clock hours are 71 real ones.
    return timezone.make_aware(datetime.combine(day, time(hour))).astimezone(UTC)


def no_answers(track: str) -> dict[str, bool]:
    from trellis.core.protocols import load_protocol

    return {i.id: False for i in load_protocol(track).screening if i.age_below is None}


@pytest.fixture
def safety_plan_on_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # The safety plan lives in the integration record; here the gate is tested on its own.
    monkeypatch.setattr(
        services,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*services.FIRST_DOSE_FACT_PROVIDERS, lambda episode: {"safety_plan_on_file": True}],
    )


def open_episode(cast: Cast, track: str = "iv-trd", **kwargs: Any) -> Any:
    return services.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id=track,
        referred_on=START - timedelta(days=1),
        start_date=START,
        **kwargs,
    )


@pytest.mark.django_db
def test_start_episode_lays_out_the_whole_pathway(cast: Cast) -> None:
    episode = open_episode(cast, adaptations=["medical-distrust"])
    acts = services.activities_of(episode)
    assert acts.filter(kind="dose").count() == 6
    assert acts.filter(kind="preparation").count() == 3  # 2 + 1 for medical distrust
    first_dose = acts.get(kind="dose", index=1)
    assert acts.filter(kind="preparation", latest__gte=first_dose.earliest).count() == 0
    assert episode.phase == "referred"
    assert AuditEvent.objects.filter(action="create", object_type="care.episode").count() == 1


@pytest.mark.django_db
def test_unknown_track_or_adaptation_is_refused(cast: Cast) -> None:
    with pytest.raises(InvalidInput, match="protocol"):
        open_episode(cast, track="iv-nonsense")
    with pytest.raises(InvalidInput, match="adapt"):
        open_episode(cast, adaptations=["teleport"])


@pytest.mark.django_db
def test_one_active_course_at_a_time(cast: Cast) -> None:
    open_episode(cast)
    with pytest.raises(Conflict):
        open_episode(cast)


@pytest.mark.django_db
def test_nurse_cannot_start_a_course(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.start_episode(
            cast.nurse_a, cast.patient_a, protocol_id="iv-trd", referred_on=START
        )


@pytest.mark.django_db
def test_first_dose_waits_for_screening_preparation_and_safety_plan(
    cast: Cast, safety_plan_on_file: None
) -> None:
    episode = open_episode(cast)
    assert services.first_dose_blockers(episode) == ["screening: not yet recorded"]
    services.record_screening(cast.coordinator_a, episode, no_answers("iv-trd"), at=at(START))
    assert any("preparation" in b for b in services.first_dose_blockers(episode))
    with pytest.raises(Conflict, match="first dose"):
        services.record_event(cast.nurse_a, episode, "dose_given", at=at(START), index=1)
    for k in (1, 2):
        services.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(START, 11 + k), index=k
        )
    assert services.first_dose_blockers(episode) == []
    services.record_event(cast.nurse_a, episode, "dose_given", at=at(START + timedelta(4)), index=1)
    episode.refresh_from_db()
    assert episode.phase == "dosing"
    dose = services.activities_of(episode).get(kind="dose", index=1)
    assert dose.status == CareActivity.Status.DONE
    assert dose.done_by == cast.nurse_a


@pytest.mark.django_db
def test_without_safety_plan_dose_1_is_refused(cast: Cast) -> None:
    episode = open_episode(cast, track="esketamine-suicidal")
    blockers = services.first_dose_blockers(episode)
    services.record_screening(
        cast.coordinator_a, episode, no_answers("esketamine-suicidal"), at=at(START)
    )
    blockers = services.first_dose_blockers(episode)
    assert any(b.startswith("safety_plan") for b in blockers)
    assert any(b.startswith("rems_patient_enrolment") for b in blockers)


@pytest.mark.django_db
def test_excluded_patient_cannot_start_preparation(cast: Cast) -> None:
    episode = open_episode(cast)
    answers = {**no_answers("iv-trd"), "current_psychosis": True}
    result = services.record_screening(cast.coordinator_a, episode, answers, at=at(START))
    assert result.outcome == "excluded"
    with pytest.raises(InvalidInput):
        services.record_event(cast.therapist_a, episode, "preparation_done", at=at(START), index=1)


@pytest.mark.django_db
def test_review_needs_a_prescriber_and_a_reason(cast: Cast) -> None:
    from trellis.accounts.models import Role
    from trellis.accounts.services import create_staff

    prescriber = create_staff(
        username="pia",
        password="correct horse battery",
        program=cast.program_a,
        roles=[Role.PRESCRIBER],
    )
    episode = open_episode(cast)
    answers = {**no_answers("iv-trd"), "glaucoma": True}
    assert services.record_screening(
        cast.coordinator_a, episode, answers, at=at(START)
    ).outcome == ("needs_review")
    with pytest.raises(NotAllowed):
        services.approve_review(cast.coordinator_a, episode, note="fine")
    with pytest.raises(InvalidInput, match="note"):
        services.approve_review(prescriber, episode, note="  ")
    services.approve_review(prescriber, episode, note="Ophthalmology: open-angle, controlled")
    assert "screening: prescriber review not yet recorded" not in services.first_dose_blockers(
        episode
    )


@pytest.mark.django_db
def test_integration_gap_after_window_closes(cast: Cast, safety_plan_on_file: None) -> None:
    episode = open_episode(cast)
    services.record_screening(cast.coordinator_a, episode, no_answers("iv-trd"), at=at(START))
    for k in (1, 2):
        services.record_event(cast.therapist_a, episode, "preparation_done", at=at(START), index=k)
    dose_day = START + timedelta(days=4)
    services.record_event(cast.nurse_a, episode, "dose_given", at=at(dose_day, 9), index=1)
    within = at(dose_day, 9) + timedelta(hours=71)
    assert services.integration_gaps(cast.nurse_a, cast.program_a, now=within) == []
    after = at(dose_day, 9) + timedelta(hours=73)
    gaps = services.integration_gaps(cast.nurse_a, cast.program_a, now=after)
    assert [(e.pk, g.dose_index) for e, g in gaps] == [(episode.pk, 1)]
    services.record_event(
        cast.therapist_a, episode, "integration_done", at=at(dose_day, 15), index=1
    )
    assert services.integration_gaps(cast.nurse_a, cast.program_a, now=after) == []
    report = services.adherence(episode, now=after)
    assert report.percent == 100


@pytest.mark.django_db
def test_relapse_booster_is_added_once(cast: Cast) -> None:
    episode = open_episode(cast)
    warning = START + timedelta(days=40)
    first = services.add_relapse_booster(cast.therapist_a, episode, warning)
    again = services.add_relapse_booster(cast.therapist_a, episode, warning)
    assert {a.pk for a in first} == {a.pk for a in again}
    names = sorted(a.name for a in first)
    assert names == ["prescriber-review", "relapse-booster"]
    booster = next(a for a in first if a.name == "relapse-booster")
    assert booster.latest == warning + timedelta(days=3)
    later = services.add_relapse_booster(cast.therapist_a, episode, warning + timedelta(days=30))
    assert {a.index for a in later} == {2}


@pytest.mark.django_db
def test_a_score_in_its_window_completes_the_planned_assessment(cast: Cast) -> None:
    episode = open_episode(cast)
    baseline = services.activities_of(episode).filter(kind="assessment", instrument="phq9").first()
    assert baseline is not None
    inside = at(baseline.earliest)
    assert services.complete_assessment_activity(episode, "phq9", inside) is True
    baseline.refresh_from_db()
    assert baseline.status == CareActivity.Status.DONE
    too_early = at(baseline.earliest - timedelta(days=30))
    assert services.complete_assessment_activity(episode, "phq9", too_early) is False

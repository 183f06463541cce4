"""Screening refuses the course on each hard exclusion of every track; integration gaps with a
pinned clock (and their alerts, once per gap); relapse warning → booster → re-dose gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from tests.care.conftest import START, at, dosed_course, no_answers, open_course
from tests.support import Cast

from trellis.care import services
from trellis.care.models import CareActivity
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.core.protocols import list_protocols

HARD_ITEMS = [
    pytest.param(p.id, item.id, id=f"{p.id}-{item.id}")
    for p in list_protocols()
    for item in p.screening
    if item.kind == "hard" and item.age_below is None
]


@pytest.mark.django_db
@pytest.mark.parametrize(("track", "item"), HARD_ITEMS)
def test_each_hard_exclusion_refuses_the_course(cast: Cast, track: str, item: str) -> None:
    episode = open_course(cast, track=track, referred_on=START)
    answers = {**no_answers(track), item: True}
    result = services.record_screening(cast.coordinator_a, episode, answers, at=at(START))
    assert result.outcome == "excluded"
    assert any(r.startswith(f"{item} (excludes)") for r in result.reasons)
    assert services.first_dose_blockers(episode)[0] == "screening: excluded from this track"
    with pytest.raises(InvalidInput, match="eligible screening"):
        services.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(START, 12), index=1
        )
    episode.refresh_from_db()
    assert episode.phase == "screening"


@pytest.mark.django_db
def test_esketamine_under_18_is_excluded_from_age(cast: Cast) -> None:
    from trellis.patients.services import update_patient

    update_patient(cast.admin_a, cast.patient_a, {"date_of_birth": START.replace(year=2010)})
    episode = open_course(cast, track="esketamine-trd", referred_on=START)
    result = services.record_screening(
        cast.coordinator_a, episode, no_answers("esketamine-trd"), today=START, at=at(START)
    )
    assert result.outcome == "excluded"
    assert any(r.startswith("age_under_18 (excludes)") for r in result.reasons)


@pytest.mark.django_db
def test_esketamine_suicidal_refuses_dose_1_without_a_safety_plan(cast: Cast) -> None:
    from trellis.care.models import Episode

    episode = open_course(cast, track="esketamine-suicidal", referred_on=START)
    services.record_screening(
        cast.coordinator_a, episode, no_answers("esketamine-suicidal"), at=at(START)
    )
    for k in range(1, services.protocol_of(episode).preparation.count + 1):
        services.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(START, 10 + k), index=k
        )
    blockers = services.first_dose_blockers(episode)
    if not any(b.startswith("safety_plan") for b in blockers):
        pytest.skip("a safety plan provider in this build reports one on file")
    with pytest.raises(Conflict, match="no written safety plan"):
        services.record_event(cast.nurse_a, episode, "dose_given", at=at(START, 15), index=1)
    assert not services.events_of(episode).filter(kind="dose_given").exists()
    assert Episode.objects.get(pk=episode.pk).phase == "preparing"


@pytest.mark.django_db
def test_gap_detection_with_a_pinned_clock(cast: Cast, safety_plan_on_file: None) -> None:
    dose_at = at(START + timedelta(days=4), 9)
    with time_machine.travel(dose_at + timedelta(hours=1), tick=False):
        episode = dosed_course(cast, doses=1)
    # Inside the 72-hour window: no gap yet; the board shows the window as open.
    with time_machine.travel(dose_at + timedelta(hours=71), tick=False):
        assert services.integration_gaps(cast.nurse_a, cast.program_a) == []
        assert services.adherence(episode).doses[0].status == "open"
    # The window closed with none inside it: one gap, on the board and as one alert.
    with time_machine.travel(dose_at + timedelta(hours=73), tick=False):
        gaps = services.integration_gaps(cast.nurse_a, cast.program_a)
        assert [(e.pk, g.dose_index) for e, g in gaps] == [(episode.pk, 1)]
        rows = services.pathway_board(cast.coordinator_a, cast.program_a)
        assert [len(r.gaps) for r in rows] == [1]
        first = services.sync_gap_alerts(cast.program_a)
        again = services.sync_gap_alerts(cast.program_a)
        assert len(first) == 1
        assert [a.pk for a in again] == [first[0].pk]
        alert = first[0]
        assert (alert.kind, alert.patient_id) == ("integration_gap", cast.patient_a.pk)
        assert alert.raised_at == dose_at + timedelta(hours=72)
        assert services.board_counts(cast.coordinator_a, cast.program_a).gaps == 1
        # A late session still leaves a gap (done late) and 0 % adherence.
        services.record_event(
            cast.therapist_a,
            episode,
            "integration_done",
            at=dose_at + timedelta(hours=73),
            index=1,
        )
        report = services.adherence(episode)
        assert report.doses[0].status == "done_late"
        assert report.percent == 0


@pytest.mark.django_db
def test_events_in_the_future_are_refused(cast: Cast, safety_plan_on_file: None) -> None:
    episode = dosed_course(cast, doses=1)
    with pytest.raises(InvalidInput, match="future") as err:
        services.record_event(
            cast.therapist_a,
            episode,
            "integration_done",
            at=datetime.now(UTC) + timedelta(days=1),
            index=1,
        )
    assert err.value.field == "at"


@pytest.mark.django_db
def test_relapse_warning_adds_a_booster_and_gates_a_redose(
    cast: Cast, safety_plan_on_file: None, prescriber_a: Any
) -> None:
    episode = dosed_course(cast, doses=6)
    services.record_event(
        cast.therapist_a,
        episode,
        "integration_done",
        at=at(START + timedelta(days=20), 14),
        index=6,
    )
    episode.refresh_from_db()
    assert episode.phase == "sustaining"
    warning = START + timedelta(days=40)
    acts = services.on_relapse_warning(None, episode, warning)  # the system, no user
    assert sorted(a.name for a in acts) == ["prescriber-review", "relapse-booster"]
    again = services.on_relapse_warning(cast.nurse_a, episode, warning)
    assert {a.pk for a in again} == {a.pk for a in acts}
    booster = next(a for a in acts if a.name == "relapse-booster")
    assert booster.latest == warning + timedelta(days=3)
    with pytest.raises(NotAllowed):
        services.on_relapse_warning(cast.coordinator_b, episode, warning)

    assert services.redose_blockers(episode, "") == [
        "prescriber review is required before any re-dose",
        "a re-dose must record its reason",
    ]
    redose_at = at(warning + timedelta(days=2), 9)
    with pytest.raises(Conflict, match="prescriber review"):
        services.record_event(
            cast.nurse_a, episode, "maintenance_dose", at=redose_at, note="PHQ-9 back to 16"
        )
    review = next(a for a in acts if a.name == "prescriber-review")
    with pytest.raises(NotAllowed):
        services.complete_activity(cast.nurse_a, episode, review.pk, note="ok", at=redose_at)
    with pytest.raises(InvalidInput, match="note"):
        services.complete_activity(prescriber_a, episode, review.pk, at=redose_at)
    services.complete_activity(
        prescriber_a, episode, review.pk, at=redose_at, note="Re-dose agreed; booster first"
    )
    assert services.redose_blockers(episode, "PHQ-9 back to 16") == []
    with pytest.raises(Conflict, match="reason"):
        services.record_event(cast.nurse_a, episode, "maintenance_dose", at=redose_at)
    services.record_event(
        cast.nurse_a, episode, "maintenance_dose", at=redose_at, note="PHQ-9 back to 16"
    )
    episode.refresh_from_db()
    assert episode.phase == "maintenance"


@pytest.mark.django_db
def test_withdraw_needs_a_reason_and_cancels_open_activities(cast: Cast) -> None:
    episode = open_course(cast)
    with pytest.raises(InvalidInput, match="reason"):
        services.withdraw_episode(cast.coordinator_a, episode, "  ")
    with pytest.raises(NotAllowed):
        services.withdraw_episode(cast.therapist_a, episode, "moved away")
    services.withdraw_episode(cast.coordinator_a, episode, "Moved out of state")
    episode.refresh_from_db()
    assert episode.phase == "withdrawn"
    assert not services.activities_of(episode).filter(status="planned").exists()
    assert services.activities_of(episode).filter(status=CareActivity.Status.CANCELLED).exists()
    assert services.pathway_board(cast.coordinator_a, cast.program_a) == []


@pytest.mark.django_db
def test_board_filters_and_blockers(cast: Cast) -> None:
    from tests.support import PATIENT_DATA

    from trellis.patients.services import register_patient

    episode = open_course(cast)
    other = register_patient(
        cast.admin_a,
        cast.program_a,
        {**PATIENT_DATA, "given_name": "Lucía", "preferred_language": "es"},
    )
    services.start_episode(
        cast.coordinator_a,
        other,
        protocol_id="iv-ptsd",
        referred_on=START,
        primary_therapist=cast.therapist_a,
    )
    board = services.pathway_board
    assert len(board(cast.nurse_a, cast.program_a)) == 2
    only = board(cast.nurse_a, cast.program_a, services.BoardFilters(track="iv-trd"))
    assert [r.episode.pk for r in only] == [episode.pk]
    spanish = board(cast.nurse_a, cast.program_a, services.BoardFilters(language="es"))
    assert [r.patient.pk for r in spanish] == [other.pk]
    theo = board(cast.nurse_a, cast.program_a, services.BoardFilters(therapist=cast.therapist_a.pk))
    assert [r.patient.pk for r in theo] == [other.pk]
    row = only[0]
    assert row.blockers == ["screening: not yet recorded"]
    with pytest.raises(NotAllowed):
        board(cast.peer_a, cast.program_a)
    with pytest.raises(NotAllowed):
        board(cast.coordinator_b, cast.program_a)


@pytest.mark.django_db
def test_a_dose_out_of_order_is_refused_in_words_not_event_paths(cast: Cast) -> None:
    """Issue 19: "events[5]: dose_given during referred" reached the page; now the refusal
    says what to do and names no internal path."""
    episode = open_course(cast)
    with pytest.raises(Conflict) as err:
        services.record_event(cast.nurse_a, episode, "dose_given", at=at(START, 12), index=2)
    assert "events[" not in err.value.message
    assert "finish screening and preparation first" in err.value.message

"""The integration record: notes with commitments and their review, process notes kept to their
author, the journal kept to the patient until shared, social needs and transport, the board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone
from tests.integration.helpers import at, give_dose, ready_episode, with_plan
from tests.support import Cast, today

from trellis.alerts.models import Alert
from trellis.audit.models import AuditEvent
from trellis.care import services as care
from trellis.checkin.services import issue_link
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.core.integration_rules import CommitmentReview
from trellis.integration import services
from trellis.integration.demo import NO_NEEDS
from trellis.integration.models import Commitment


def dosed_episode(cast: Cast, doses: int = 2) -> object:
    with_plan(cast)
    episode = ready_episode(cast, start=today() - timedelta(days=20))
    for i in range(1, doses + 1):
        give_dose(cast, episode, i, at(today() - timedelta(days=12 - 4 * i), 9))
    return episode


def first_note(cast: Cast, episode: object) -> object:
    intention = services.intentions_of(episode).first()  # type: ignore[arg-type]
    return services.write_integration_note(
        cast.therapist_a,
        episode,  # type: ignore[arg-type]
        dose_index=1,
        at=at(today() - timedelta(days=7), 14),
        insights="I felt my father's kindness again",
        risk="none",
        intention_ids=[intention.pk] if intention else [],
        commitments=[
            services.NewCommitment("Call my brother", today() - timedelta(days=1)),
            services.NewCommitment("Walk every morning", today() + timedelta(days=2)),
        ],
    )


@pytest.mark.django_db
def test_note_with_commitments_records_integration_done(cast: Cast) -> None:
    episode = dosed_episode(cast)
    services.save_preparation(
        cast.therapist_a, episode, new_intentions=["Feel close to my family again"], hopes="Calm"
    )
    note = first_note(cast, episode)
    assert note.commitments.count() == 2
    assert note.intentions.count() == 1
    events = care.events_of(episode).filter(kind="integration_done")
    assert list(events.values_list("index", flat=True)) == [1]
    assert care.adherence(episode).doses[0].status in ("done_in_window", "done_late")


@pytest.mark.django_db
def test_next_session_reviews_each_commitment_and_carries_open_ones_forward(cast: Cast) -> None:
    episode = dosed_episode(cast)
    first_note(cast, episode)
    call, walk = services.open_commitments(episode)
    with pytest.raises(InvalidInput, match=f"review.{walk.pk}"):
        services.write_integration_note(
            cast.therapist_a,
            episode,
            dose_index=2,
            at=at(today() - timedelta(days=3), 14),
            insights="x",
            risk="none",
            reviews=[CommitmentReview(call.pk, "done")],
        )
    assert care.events_of(episode).filter(kind="integration_done").count() == 1  # nothing saved
    services.write_integration_note(
        cast.therapist_a,
        episode,
        dose_index=2,
        at=at(today() - timedelta(days=3), 14),
        insights="Walking helps",
        risk="none",
        reviews=[CommitmentReview(call.pk, "done"), CommitmentReview(walk.pk, "partly", "rain")],
        commitments=[services.NewCommitment("Cook with my daughter", today() + timedelta(days=5))],
    )
    call.refresh_from_db()
    walk.refresh_from_db()
    assert call.status == Commitment.Status.DONE
    assert walk.status == Commitment.Status.OPEN
    assert walk.review_on == today() - timedelta(days=3) + timedelta(days=7)
    assert [c.text for c in services.open_commitments(episode)] == [
        "Walk every morning",
        "Cook with my daughter",
    ]
    assert walk.reviews.get().reason == "rain"


@pytest.mark.django_db
def test_urgent_risk_raises_an_urgent_alert_and_needs_detail(cast: Cast) -> None:
    episode = dosed_episode(cast, 1)
    with pytest.raises(InvalidInput, match="risk_detail"):
        services.write_integration_note(
            cast.therapist_a, episode, dose_index=1, insights="x", risk="urgent"
        )
    services.write_integration_note(
        cast.therapist_a,
        episode,
        dose_index=1,
        insights="Hard week",
        risk="urgent",
        risk_detail="Passive thoughts of death; plan reviewed, prescriber called",
    )
    alert = Alert.objects.get()
    assert alert.severity == "urgent"
    assert alert.patient_id == cast.patient_a.pk


@pytest.mark.django_db
def test_only_therapists_and_prescribers_write_notes(cast: Cast) -> None:
    episode = dosed_episode(cast, 1)
    for who in (cast.nurse_a, cast.coordinator_a, cast.coordinator_b):
        with pytest.raises(NotAllowed):
            services.write_integration_note(who, episode, dose_index=1, insights="x", risk="none")
    with pytest.raises(InvalidInput, match="dose_index"):
        services.write_integration_note(
            cast.therapist_a, episode, dose_index=4, insights="x", risk="none"
        )


@pytest.mark.django_db
def test_process_notes_are_invisible_to_every_other_role_and_attempts_are_audited(
    cast: Cast,
) -> None:
    note = services.add_process_note(cast.therapist_a, cast.patient_a, "Transference themes")
    assert services.get_process_note(cast.therapist_a, note.pk).text == "Transference themes"
    others = [cast.admin_a, cast.nurse_a, cast.coordinator_a, cast.coordinator_b, cast.peer_a]
    for who in others:
        with pytest.raises(Http404):
            services.get_process_note(who, note.pk)
        assert list(services.process_notes_of(who, cast.patient_a)) == []
    denied = AuditEvent.objects.filter(action="denied", object_type="integration.processnote")
    assert sorted(denied.values_list("actor_username", flat=True)) == sorted(
        u.username for u in others
    )
    assert all(e.object_id == str(note.pk) for e in denied)
    # Not in the chart summary nor the thread of anyone, the author included.
    summary = services.chart_summary(cast.admin_a, cast.patient_a)
    assert "Transference" not in repr(summary)


@pytest.mark.django_db
def test_journal_entries_are_invisible_to_staff_until_shared(cast: Cast) -> None:
    dosed_episode(cast, 1)
    link, _token = issue_link(cast.patient_a, purpose="journal")
    private = services.add_journal_entry(link, "Only for me", language="es")
    assert services.shared_entries(cast.therapist_a, cast.patient_a) == []
    assert list(services.staff_visible_journal(cast.admin_a, cast.patient_a)) == []
    board = services.integration_board(cast.therapist_a, cast.program_a)
    assert board.shared_unread == []
    services.share_journal_entry(link, private.pk)
    board = services.integration_board(cast.therapist_a, cast.program_a)
    assert [e.pk for e in board.shared_unread] == [private.pk]
    assert [e.pk for e in services.shared_entries(cast.therapist_a, cast.patient_a)] == [private.pk]
    assert services.integration_board(cast.therapist_a, cast.program_a).shared_unread == []
    with pytest.raises(NotAllowed):
        services.shared_entries(cast.admin_a, cast.patient_a)
    other_link, _ = issue_link(cast.patient_b)
    with pytest.raises(Http404):
        services.share_journal_entry(other_link, private.pk)


@pytest.mark.django_db
def test_reflection_only_within_24_hours_of_a_dose(cast: Cast) -> None:
    with_plan(cast)
    episode = ready_episode(cast, start=today() - timedelta(days=20))
    link, _ = issue_link(cast.patient_a)
    with pytest.raises(Conflict):
        services.add_reflection(link, "Nothing yet")
    give_dose(cast, episode, 1, timezone.now() - timedelta(hours=3))
    services.add_reflection(link, "I saw the sea")
    assert services.reflection_due(link) is None


@pytest.mark.django_db
def test_transport_need_shows_until_a_referral_meets_it(cast: Cast) -> None:
    episode = dosed_episode(cast, 1)
    assert services.unmet_transport(episode) is False
    assert services.hrsn_due(episode) == "intake"
    screening = services.record_hrsn(
        cast.coordinator_a,
        cast.patient_a,
        timing="intake",
        answers={**NO_NEEDS, "transport": "yes"},
    )
    assert screening.positive_domains == ["transport"]
    assert services.hrsn_due(episode) == ""
    assert services.unmet_transport(episode) is True
    assert services.integration_board(cast.therapist_a, cast.program_a).transport == [episode]
    ride = services.add_resource(
        cast.coordinator_a, cast.program_a, name="County dial-a-ride", domain="transport"
    )
    food = services.add_resource(cast.admin_a, cast.program_a, name="Pantry", domain="food")
    with pytest.raises(InvalidInput, match="resource"):
        services.add_referral(
            cast.coordinator_a, screening, resource_id=food.pk, follow_up_on=today()
        )
    referral = services.add_referral(
        cast.coordinator_a, screening, resource_id=ride.pk, follow_up_on=today()
    )
    assert services.unmet_transport(episode) is True
    board = services.integration_board(cast.therapist_a, cast.program_a)
    assert board.referrals_due == [referral]
    services.follow_up_referral(cast.nurse_a, referral.pk, status="connected", note="Rides booked")
    assert services.unmet_transport(episode) is False
    with pytest.raises(Http404):
        services.follow_up_referral(cast.coordinator_b, referral.pk, status="connected")


@pytest.mark.django_db
def test_board_lists_patients_inside_their_window_and_commitments_due(cast: Cast) -> None:
    with_plan(cast)
    episode = ready_episode(cast, start=today() - timedelta(days=20))
    give_dose(cast, episode, 1, timezone.now() - timedelta(hours=30))
    board = services.integration_board(cast.therapist_a, cast.program_a)
    assert [(r.episode, r.dose_index) for r in board.window] == [(episode, 1)]
    services.write_integration_note(
        cast.therapist_a,
        episode,
        dose_index=1,
        insights="ok",
        risk="none",
        commitments=[services.NewCommitment("Call Mum", today())],
    )
    board = services.integration_board(cast.therapist_a, cast.program_a)
    assert board.window == []
    assert [c.text for c in board.commitments_due] == ["Call Mum"]
    with pytest.raises(NotAllowed):
        services.integration_board(cast.nurse_a, cast.program_a)


@pytest.mark.django_db
def test_thread_links_intention_to_doses_and_notes_and_filters(cast: Cast) -> None:
    episode = dosed_episode(cast, 2)
    services.save_preparation(
        cast.therapist_a, episode, new_intentions=["Sleep better", "Forgive myself"]
    )
    sleep, forgive = services.intentions_of(episode)
    services.add_experience_note(cast.nurse_a, episode, dose_index=1, text="Calm, tearful")
    services.write_integration_note(
        cast.therapist_a,
        episode,
        dose_index=2,
        insights="Self-forgiveness came up",
        risk="none",
        intention_ids=[forgive.pk],
    )
    kinds = [i.kind for i in services.episode_thread(cast.therapist_a, episode)]
    assert kinds.count("intention") == 2
    assert {"dose", "experience", "integration", "preparation"} <= set(kinds)
    filtered = services.episode_thread(cast.therapist_a, episode, intention_id=forgive.pk)
    assert [(i.kind, i.dose_index) for i in filtered] == [
        ("intention", None),
        ("dose", 2),
        ("integration", 2),
    ]
    assert services.episode_thread(cast.therapist_a, episode, intention_id=sleep.pk)[0].title == (
        "Sleep better"
    )

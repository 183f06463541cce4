"""Booking: instance from the clinic, propose + accept, conflicts, cancel + repair, reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from tests.booking.clinic import NOW, START, make_clinic, open_course, second_patient
from tests.support import Cast

from trellis.accounts.models import Room
from trellis.booking import services
from trellis.booking.models import Appointment
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.core.scheduling import parse_instance, parse_plan, verify
from trellis.notify.models import OutboxMessage
from trellis.patients.models import ConsentKind


@pytest.fixture
def clinic(cast: Cast) -> dict:
    return make_clinic(cast)


@pytest.mark.django_db
def test_build_instance_lists_waiting_episodes(cast: Cast, clinic: dict) -> None:
    episode = open_course(cast, cast.patient_a)
    built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
    instance = parse_instance(built.instance)
    assert [p.id for p in instance.patients] == [f"e{episode.pk.hex}"]
    track = instance.tracks[instance.patients[0].track]
    assert track.dose_count == 6
    assert track.preparation_count >= 1
    assert {r.kind for r in instance.rooms} == {"dosing_chair", "therapy_room"}
    assert instance.nurse_ratio == 2
    assert {s.id for s in instance.staff} == {f"s{cast.nurse_a.pk}", f"s{cast.therapist_a.pk}"}


@pytest.mark.django_db
def test_propose_and_accept_books_a_verified_course(cast: Cast, clinic: dict) -> None:
    episode = open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    assert proposal.verification["valid"]
    assert proposal.courses_complete == 1
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    assert len(made) == len(proposal.plan["appointments"])
    assert {a.episode_id for a in made} == {episode.pk}
    assert all(a.care_activity_id for a in made if a.kind == "dose")
    # The booked course is now fixed: a new plan keeps it and the verifier accepts it.
    again = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    assert again.verification["valid"]
    assert again.waiting == 0
    instance = parse_instance(again.instance)
    assert verify(instance, parse_plan(again.plan, instance)).valid
    with pytest.raises(Conflict):
        services.accept(cast.coordinator_a, proposal, now=NOW)


@pytest.mark.django_db
def test_accept_refuses_when_a_conflicting_booking_appeared(cast: Cast, clinic: dict) -> None:
    open_course(cast, cast.patient_a)
    first = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    open_course(cast, second_patient(cast))
    # Both proposals planned patient A's course: accepting the first makes the second stale.
    second = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    services.accept(cast.coordinator_a, first, now=NOW)
    with pytest.raises(Conflict):
        services.accept(cast.coordinator_a, second, now=NOW)
    assert second.__class__.objects.get(pk=second.pk).accepted_at is None


@pytest.mark.django_db
def test_accept_refuses_a_plan_that_clashes_with_a_new_booking(cast: Cast, clinic: dict) -> None:
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    other_episode = open_course(cast, second_patient(cast))
    # Meanwhile someone booked another patient into the only therapy room at A's preparation.
    prep = next(a for a in proposal.plan["appointments"] if a["kind"] == "preparation")
    start = services._aware(cast.program_a, datetime.fromisoformat(prep["start"]))
    Appointment.objects.create(
        program=cast.program_a,
        patient=other_episode.patient,
        episode=other_episode,
        kind="preparation",
        index=1,
        start=start,
        end=start + timedelta(minutes=60),
        room=clinic["rooms"][2],
        staff=cast.therapist_a,
    )
    with pytest.raises(Conflict, match="changed"):
        services.accept(cast.coordinator_a, proposal, now=NOW)
    assert not Appointment.objects.filter(patient=cast.patient_a).exists()


@pytest.mark.django_db
def test_cancel_repair_changes_no_other_appointment(cast: Cast, clinic: dict) -> None:
    open_course(cast, cast.patient_a)
    lupe = second_patient(cast)
    open_course(cast, lupe)
    services.accept(
        cast.coordinator_a,
        services.propose(
            cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
        ),
        now=NOW,
    )
    before = {
        a.pk: (a.start, a.room_id, a.staff_id, a.status)
        for a in Appointment.objects.exclude(patient=cast.patient_a)
    }
    target = Appointment.objects.filter(patient=cast.patient_a, kind="dose").order_by("start")[2]
    proposal = services.cancel(cast.coordinator_a, target, "patient is unwell", now=NOW)
    assert proposal is not None
    assert proposal.verification["valid"]
    services.accept(cast.coordinator_a, proposal, now=NOW)
    after = {
        a.pk: (a.start, a.room_id, a.staff_id, a.status)
        for a in Appointment.objects.exclude(patient=cast.patient_a)
    }
    assert after == before
    target.refresh_from_db()
    assert target.status == "cancelled"
    booked = Appointment.objects.filter(patient=cast.patient_a, status="booked")
    assert booked.filter(kind="dose").count() == 6
    assert booked.filter(kind="dose", start=target.start).count() == 0
    # The whole clinic, with the repaired course, still passes the verifier.
    again = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    assert again.verification["valid"]


@pytest.mark.django_db
def test_acceptance_confirms_once_and_reminds_only_what_is_due(cast: Cast, clinic: dict) -> None:
    lupe = second_patient(cast, consents=(ConsentKind.REMINDERS_EMAIL,))
    open_course(cast, lupe)
    open_course(cast, cast.patient_a)  # has a phone but no SMS consent: nothing
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    lupes = sorted((a for a in made if a.patient_id == lupe.pk), key=lambda a: a.start)
    assert len(lupes) > 1
    msgs = OutboxMessage.objects.filter(purpose="appointment")
    assert not msgs.filter(patient=cast.patient_a).exists()
    soon = [a for a in lupes if a.start <= NOW + services.REMINDER_LEAD]
    # One confirmation (in Spanish, no health details) plus a reminder for what is due already.
    assert msgs.count() == 1 + len(soon)
    confirmation = msgs.get(dedupe_key__startswith="booking:confirm:")
    assert confirmation.channel == "email"
    assert "Hola" in confirmation.body
    assert str(len(lupes)) in confirmation.body
    assert "ketamine" not in confirmation.body.lower()
    assert "dosis" not in confirmation.body.lower()


@pytest.mark.django_db
def test_the_day_before_job_reminds_each_appointment_once(cast: Cast, clinic: dict) -> None:
    from trellis.audit.models import Action, AuditEvent

    lupe = second_patient(cast, consents=(ConsentKind.REMINDERS_EMAIL,))
    open_course(cast, lupe)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    later = sorted(
        (a for a in made if a.start > NOW + services.REMINDER_LEAD), key=lambda a: a.start
    )
    assert len(later) >= 2
    target, cancelled = later[-1], later[-2]
    cancelled.status = Appointment.Status.CANCELLED
    cancelled.save(update_fields=["status"])
    reminders = OutboxMessage.objects.filter(
        purpose="appointment", dedupe_key__startswith=f"booking:{target.pk}:"
    )
    assert not reminders.exists()
    services.send_due_reminders(now=target.start - timedelta(hours=25))  # too early for it
    assert not reminders.exists()
    when = target.start - timedelta(hours=23)
    sent = services.send_due_reminders(now=when)
    assert sent >= 1
    assert reminders.count() == 1
    assert "Hola" in reminders.get().body
    assert not OutboxMessage.objects.filter(
        dedupe_key__startswith=f"booking:{cancelled.pk}:"
    ).exists()
    assert AuditEvent.objects.filter(
        action=Action.NOTIFY, patient_id=lupe.pk, object_id=str(target.pk)
    ).exists()
    assert services.send_due_reminders(now=when) == 0  # once only
    assert reminders.count() == 1


@pytest.mark.django_db
def test_only_planners_propose_and_accept(cast: Cast, clinic: dict) -> None:
    open_course(cast, cast.patient_a)
    with pytest.raises(NotAllowed):
        services.propose(cast.nurse_a, cast.program_a, "greedy", start_date=START, now=NOW)
    with pytest.raises(NotAllowed):
        services.propose(cast.coordinator_b, cast.program_a, "greedy", start_date=START, now=NOW)


@pytest.mark.django_db
def test_closed_dates_and_rooms_in_instance(cast: Cast, clinic: dict) -> None:
    from trellis.booking.models import ClosedDate

    ClosedDate.objects.create(program=cast.program_a, date=START + timedelta(days=1))
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    days = {a["start"][:10] for a in proposal.plan["appointments"]}
    assert (START + timedelta(days=1)).isoformat() not in days
    assert Room.objects.count() == 3


@pytest.mark.django_db
def test_appointments_become_done_when_their_session_is_recorded(cast: Cast, clinic: dict) -> None:
    from trellis.care.models import CareActivity

    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    dose1 = next(a for a in made if a.kind == "dose" and a.care_activity_id is not None)
    assert services.mark_done() == 0  # nothing recorded yet
    # The dosing app records the dose, which completes its care activity.
    CareActivity.objects.filter(pk=dose1.care_activity_id).update(
        status="done", done_at=dose1.start
    )
    assert services.mark_done() == 1
    dose1.refresh_from_db()
    assert dose1.status == Appointment.Status.DONE
    others = Appointment.objects.filter(episode=dose1.episode).exclude(pk=dose1.pk)
    assert set(others.values_list("status", flat=True)) == {Appointment.Status.BOOKED}
    # A done appointment still shows on the calendar and still holds its chair when planning.
    shown = services.program_appointments(cast.coordinator_a, cast.program_a, START, 28)
    assert dose1 in list(shown)
    built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
    booked = [b for p in built.instance["patients"] for b in p.get("booked", [])]
    assert len(booked) == len(made)
    assert services.mark_done() == 0


@pytest.mark.django_db
def test_reminder_time_is_a_program_setting(cast: Cast, clinic: dict) -> None:
    lupe = second_patient(cast, consents=(ConsentKind.REMINDERS_EMAIL,))
    open_course(cast, lupe)
    hours = dict.fromkeys(range(5), (services.DEFAULT_HOURS[0], services.DEFAULT_HOURS[1]))
    services.save_settings(cast.coordinator_a, cast.program_a, 2, hours, reminder_hours=48)
    with pytest.raises(InvalidInput):
        services.save_settings(cast.coordinator_a, cast.program_a, 2, hours, reminder_hours=0)
    assert services.settings_of(cast.program_a).reminder_hours == 48
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    confirmation = OutboxMessage.objects.get(dedupe_key__startswith="booking:confirm:")
    assert "48 horas antes" in confirmation.body
    later = max(made, key=lambda a: a.start)
    reminder = OutboxMessage.objects.filter(dedupe_key__startswith=f"booking:{later.pk}:")
    services.send_due_reminders(now=later.start - timedelta(hours=49))
    assert not reminder.exists()
    services.send_due_reminders(now=later.start - timedelta(hours=47))
    assert reminder.count() == 1

"""The booked course obeys the care plan: every appointment inside its activity's window, the
booked dates written back to the plan, and an appointment done only by its own session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.booking.clinic import NOW, START, make_clinic, open_course
from tests.support import Cast

from trellis.booking import services
from trellis.booking.models import Appointment, PlanProposal
from trellis.care.models import CareActivity
from trellis.core.scheduling import parse_instance, parse_plan, verify


@pytest.fixture
def clinic(cast: Cast) -> dict:
    return make_clinic(cast)


def _local_day(appt: Appointment) -> Any:
    return timezone.localtime(appt.start, services._tz(appt.program)).date()


def _check_against_plan(appts: list[Appointment]) -> None:
    """Each appointment on a day its care activity allows, the activity's target that day, and
    within a course every preparation over before dose 1 starts."""
    assert appts
    for appt in appts:
        act = appt.care_activity
        if act is None:
            continue
        day = _local_day(appt)
        assert act.earliest <= day <= act.latest, (appt.kind, appt.index, day, act)
        assert (act.kind, act.index) == (appt.kind, appt.index)
        if appt.status == Appointment.Status.BOOKED:
            assert act.target == day
            assert act.status == CareActivity.Status.SCHEDULED
    by_episode: dict[Any, list[Appointment]] = {}
    for appt in appts:
        by_episode.setdefault(appt.episode_id, []).append(appt)
    for course in by_episode.values():
        doses = sorted((a for a in course if a.kind == "dose"), key=lambda a: a.start)
        preps = [a for a in course if a.kind == "preparation"]
        if doses and preps:
            assert max(p.end for p in preps) <= doses[0].start


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["greedy", "cpsat"])
def test_booked_course_keeps_every_session_in_its_care_plan_window(
    cast: Cast, clinic: dict, method: str
) -> None:
    episode = open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, method, 5, start_date=START, days=28, now=NOW
    )
    patient = proposal.instance["patients"][0]
    # The instance carries the care plan's windows for every session of the course.
    acts = CareActivity.objects.filter(episode=episode, kind="dose").order_by("index")
    dose_windows = [w for w in patient["windows"] if w["kind"] == "dose"]
    assert [(w["earliest"], w["latest"]) for w in dose_windows] == [
        (a.earliest.isoformat(), a.latest.isoformat()) for a in acts
    ]
    assert proposal.verification["valid"], proposal.verification["violations"]
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    _check_against_plan(
        list(
            Appointment.objects.filter(pk__in=[a.pk for a in made]).select_related("care_activity")
        )
    )


@pytest.mark.django_db
def test_a_plan_against_the_care_plan_is_refused(cast: Cast, clinic: dict) -> None:
    # A plan that puts dose 1 before its window (as a hand-edited or stale plan might) fails
    # the verifier, so it is never booked.
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    instance = parse_instance(proposal.instance)
    plan = dict(proposal.plan)
    appts = [dict(a) for a in plan["appointments"]]
    prep = next(a for a in appts if a["kind"] == "preparation" and a["index"] == 1)
    dose = next(a for a in appts if a["kind"] == "dose" and a["index"] == 1)
    dose["start"] = prep["start"][:11] + "15:00"
    plan["appointments"] = appts
    result = verify(instance, parse_plan(plan, instance))
    assert "outside_pathway_window" in result.constraints()


@pytest.mark.django_db
def test_an_appointment_is_done_only_by_its_own_session_on_its_day(
    cast: Cast, clinic: dict
) -> None:
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    made = services.accept(cast.coordinator_a, proposal, now=NOW)
    prep = min((a for a in made if a.kind == "preparation"), key=lambda a: a.start)
    dose = min((a for a in made if a.kind == "dose"), key=lambda a: a.start)
    # The preparation is recorded a week before its appointment: the appointment stays booked.
    CareActivity.objects.filter(pk=prep.care_activity_id).update(
        status="done", done_at=prep.start - timedelta(days=7)
    )
    assert services.mark_done() == 0
    prep.refresh_from_db()
    assert prep.status == Appointment.Status.BOOKED
    # A mislinked appointment (another session's activity) never becomes done by it.
    CareActivity.objects.filter(pk=dose.care_activity_id).update(status="done", done_at=prep.start)
    Appointment.objects.filter(pk=prep.pk).update(care_activity_id=dose.care_activity_id)
    assert services.mark_done() == 0
    # The dose recorded on its own day makes its appointment done, and only that one.
    Appointment.objects.filter(pk=prep.pk).update(care_activity_id=prep.care_activity_id)
    CareActivity.objects.filter(pk=dose.care_activity_id).update(done_at=dose.start)
    assert services.mark_done() == 1
    statuses = dict(Appointment.objects.filter(episode=dose.episode).values_list("pk", "status"))
    assert statuses.pop(dose.pk) == Appointment.Status.DONE
    assert set(statuses.values()) == {Appointment.Status.BOOKED}


@pytest.mark.django_db
def test_the_demo_books_its_courses_inside_their_care_plan_windows() -> None:
    from trellis.web.demo import DEMO_SLUG, seed_demo

    seed_demo()
    proposal = PlanProposal.objects.get(
        program__slug=DEMO_SLUG, accepted_at__isnull=False, kind=PlanProposal.Kind.PLAN
    )
    instance = parse_instance(proposal.instance)
    assert verify(instance, parse_plan(proposal.plan, instance)).valid
    new = {pid for pid, p in proposal.mapping["patients"].items() if not p["fixed"]}
    assert all(p.windows for p in instance.patients if p.id in new)
    appts = list(
        Appointment.objects.filter(program__slug=DEMO_SLUG)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("care_activity", "program")
    )
    _check_against_plan(appts)

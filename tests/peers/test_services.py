"""Peers services: circles, matching from the DB, accept (consent, capacity), notes, mentors."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.http import Http404
from tests.peers.helpers import circle_data, consent, due_patient, make_circle, room, today
from tests.support import Cast

from trellis.audit.models import AuditEvent
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.peers import services
from trellis.peers.models import Circle, CircleMembership, FacilitatorNote, Meeting

pytestmark = pytest.mark.django_db


def test_create_circle_generates_weekly_meetings(cast: Cast) -> None:
    c = make_circle(cast)
    dates = list(Meeting.objects.filter(circle=c).values_list("date", flat=True))
    assert dates
    assert all(d.weekday() == 1 for d in dates)
    assert all((b - a).days == 7 for a, b in zip(dates, dates[1:], strict=False))
    assert dates[0] >= c.start_date
    assert dates[-1] <= c.end_date
    assert AuditEvent.objects.filter(object_type__icontains="circle").exists()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"name": " "}, "name"),
        ({"language": "english!"}, "language"),
        ({"capacity": 13}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"video_link": "http://insecure.example.org"}, "video_link"),
        ({"format": "in_person", "room": None}, "room"),
        ({"format": "smoke"}, "format"),
        ({"end_date": today() - timedelta(days=60)}, "end_date"),
        ({"length_minutes": 10}, "length_minutes"),
        ({"start_time": time(23, 30)}, "length_minutes"),
        ({"agreements": ""}, "agreements"),
    ],
)
def test_bad_circle_names_the_field_and_saves_nothing(cast: Cast, over: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        make_circle(cast, **over)
    assert err.value.field == field
    assert not Circle.objects.exists()
    assert not Meeting.objects.exists()


def test_facilitator_must_hold_the_role(cast: Cast) -> None:
    with pytest.raises(InvalidInput) as err:
        make_circle(cast, facilitator=cast.nurse_a)
    assert err.value.field == "facilitator"


def test_in_person_circle_needs_a_circle_room_of_the_program(cast: Cast) -> None:
    c = make_circle(cast, format="in_person", room=room(cast), video_link="")
    assert c.room is not None
    assert c.video_link == ""


def test_only_circle_roles_create(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.create_circle(cast.nurse_a, cast.program_a, circle_data(cast))
    with pytest.raises(NotAllowed):
        services.create_circle(cast.coordinator_b, cast.program_a, circle_data(cast))


def test_due_needs_consent_and_window(cast: Cast) -> None:
    due = due_patient(cast, "Ana")
    due_patient(cast, "Ben", with_consent=False)
    episodes = services.due_episodes(cast.coordinator_a, cast.program_a, today())
    assert [e.patient for e in episodes] == [due]


def test_matching_respects_hard_rules_and_waitlists(cast: Cast) -> None:
    en = make_circle(cast, name="English", capacity=1)
    make_circle(cast, name="Identity", identity_focus="LGBTQ+")
    es = make_circle(cast, name="Español", language="es")
    a = due_patient(cast, "Ana")
    b = due_patient(cast, "Bea")
    c = due_patient(cast, "Cruz", language="es")
    d = due_patient(cast, "Dee", availability=[{"weekday": 0, "start": "09:00", "end": "12:00"}])
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    proposed = {p.patient: p.circle for p in view.proposals}
    assert proposed[c] == es
    # Only one of Ana and Bea fits English (capacity 1); the identity circle is for opt-ins only.
    assert sorted([proposed.get(a), proposed.get(b)], key=str) == sorted([en, None], key=str)
    waiting = {p.patient for p in view.waitlist}
    assert d in waiting
    assert len(waiting) == 2
    assert not CircleMembership.objects.exists()  # nothing joins without acceptance


def test_identity_circle_for_opted_in(cast: Cast) -> None:
    ident = make_circle(cast, name="Identity", identity_focus="LGBTQ+")
    a = due_patient(cast, "Ana", identities=["lgbtq+"])
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    assert {p.patient: p.circle for p in view.proposals} == {a: ident}


def test_accept_requires_consent(cast: Cast) -> None:
    c = make_circle(cast)
    p = due_patient(cast, "Ana", with_consent=False)
    with pytest.raises(Conflict, match="group participation consent"):
        services.join_circle(cast.coordinator_a, c, p, today())
    assert not CircleMembership.objects.exists()
    consent(cast, p)
    assert services.join_circle(cast.coordinator_a, c, p, today()).circle == c


def test_accept_never_exceeds_capacity(cast: Cast) -> None:
    c = make_circle(cast, capacity=1)
    a, b = due_patient(cast, "Ana"), due_patient(cast, "Bea")
    services.join_circle(cast.coordinator_a, c, a, today())
    with pytest.raises(Conflict, match="over capacity"):
        services.join_circle(cast.coordinator_a, c, b, today())
    assert services.enrolled_count(c) == 1


def test_accept_refuses_a_language_mismatch(cast: Cast) -> None:
    c = make_circle(cast, language="es")
    a = due_patient(cast, "Ana")
    with pytest.raises(Conflict, match="does not fit"):
        services.join_circle(cast.coordinator_a, c, a, today())


def test_suggests_a_new_circle_for_a_shared_waitlist(cast: Cast) -> None:
    for name in ["Ana", "Bea", "Cy", "Dot", "Eve", "Fay"]:
        due_patient(cast, name, language="pt")
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    assert len(view.waitlist) == 6
    assert len(view.suggested) == 1
    assert view.suggested[0][0].language == "pt"


def test_attendance_and_connection_index(cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana")
    m = services.join_circle(cast.coordinator_a, c, a, c.start_date)
    past = [x for x in Meeting.objects.filter(circle=c) if x.date <= today()]
    assert len(past) >= 2
    services.record_attendance(cast.peer_a, c, past[0].pk, {m.pk: "present"})
    services.record_attendance(cast.peer_a, c, past[1].pk, {m.pk: "absent"})
    summary = services.connection(a, today())
    assert summary.planned == len(past)
    assert summary.attended == 1
    assert summary.index == pytest.approx(1 / len(past))


def test_attendance_bad_status_saves_nothing(cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana")
    m = services.join_circle(cast.coordinator_a, c, a, c.start_date)
    meeting = Meeting.objects.filter(circle=c).first()
    assert meeting is not None
    with pytest.raises(InvalidInput):
        services.record_attendance(cast.peer_a, c, meeting.pk, {m.pk: "sleeping"})
    with pytest.raises(InvalidInput):
        services.record_attendance(cast.peer_a, c, meeting.pk, {m.pk: "present", 99999: "present"})
    assert services.connection(a, today()).attended == 0


def test_facilitator_note_may_not_name_a_member(cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana", "Quintero")
    services.join_circle(cast.coordinator_a, c, a, today())
    with pytest.raises(InvalidInput) as err:
        services.add_note(cast.peer_a, c, "Ana Quintero spoke about the first session.")
    assert err.value.field == "text"
    assert not FacilitatorNote.objects.exists()
    note = services.add_note(cast.peer_a, c, "Warm group; we talked about sleep.")
    assert note.circle == c
    assert not hasattr(note, "patient")


def test_facilitator_roster_has_first_names_only(cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana", "Quintero")
    services.join_circle(cast.coordinator_a, c, a, today())
    _meetings, rows = services.roster(cast.peer_a, c)
    assert [r.first_name for r in rows] == ["Ana"]
    assert rows[0].full_name == ""
    _meetings, rows = services.roster(cast.coordinator_a, c)
    assert rows[0].full_name == a.staff_label  # name and date of birth (issue 13 §4)


def test_other_facilitator_cannot_see_a_circle(cast: Cast) -> None:
    c = make_circle(cast)
    with pytest.raises(Http404):
        services.get_circle(cast.coordinator_b, cast.program_b, c.pk)


def test_mentor_needs_finished_course_opt_in_and_training(cast: Cast) -> None:
    mentor = due_patient(cast, "Max")
    with pytest.raises(Conflict):
        services.mark_mentor_training(cast.coordinator_a, mentor, today())
    episode = mentor.episodes.get()
    episode.phase = "completed"
    episode.save(update_fields=["phase"])
    with pytest.raises(Conflict, match="opted in"):
        services.mark_mentor_training(cast.coordinator_a, mentor, today())
    services.set_preferences(cast.coordinator_a, mentor, [], [], mentor_opt_in=True)
    profile = services.mark_mentor_training(cast.coordinator_a, mentor, today())
    mentees = [due_patient(cast, n) for n in ["Ana", "Bea", "Cy", "Dot"]]
    proposals = services.propose_mentors(cast.coordinator_a, cast.program_a)
    assert len(proposals["pairs"]) == 3  # one mentor, at most 3 mentees
    pairing = None
    for m in mentees[:3]:
        pairing = services.pair_mentor(cast.coordinator_a, profile, m, today())
    with pytest.raises(Conflict, match="most mentees"):
        services.pair_mentor(cast.coordinator_a, profile, mentees[3], today())
    assert pairing is not None
    services.log_contact(cast.coordinator_a, pairing, today(), "phone", 20)
    with pytest.raises(InvalidInput) as err:
        services.log_contact(cast.coordinator_a, pairing, today(), "phone", 0)
    assert err.value.field == "minutes"
    assert services.connection(mentees[2], today()).mentor_contacts == 1


def test_attendance_is_never_silently_overwritten(cast: Cast) -> None:
    """Issue 19: saving one meeting erased an earlier "present". Only changes are saved, each
    audited with old and new value; a stale page saves nothing; a blank never erases."""

    c = make_circle(cast)
    a = due_patient(cast, "Ana")
    b = due_patient(cast, "Bea")
    ma = services.join_circle(cast.coordinator_a, c, a, c.start_date)
    mb = services.join_circle(cast.coordinator_a, c, b, c.start_date)
    past = [x for x in Meeting.objects.filter(circle=c) if x.date <= today()]
    services.record_attendance(cast.peer_a, c, past[0].pk, {ma.pk: "present", mb.pk: "present"})
    services.record_attendance(
        cast.peer_a, c, past[1].pk, {ma.pk: "present"}, shown={ma.pk: "", mb.pk: ""}
    )
    assert services.connection(a, today()).attended == 2
    # Re-saving meeting 1 as shown changes nothing and writes no audit row.
    before = AuditEvent.objects.filter(object_type="peers.attendance").count()
    changed = services.record_attendance(
        cast.peer_a,
        c,
        past[0].pk,
        {ma.pk: "present", mb.pk: "present"},
        shown={ma.pk: "present", mb.pk: "present"},
    )
    assert changed == []
    assert AuditEvent.objects.filter(object_type="peers.attendance").count() == before
    # A page opened before someone else's change saves nothing.
    with pytest.raises(Conflict):
        services.record_attendance(
            cast.peer_a, c, past[0].pk, {mb.pk: "absent"}, shown={ma.pk: "", mb.pk: "present"}
        )
    # A real change is saved alone and audited with what it replaced.
    changed = services.record_attendance(
        cast.peer_a, c, past[0].pk, {mb.pk: "excused"}, shown={ma.pk: "present", mb.pk: "present"}
    )
    assert [r.membership_id for r in changed] == [mb.pk]
    event = AuditEvent.objects.filter(object_type="peers.attendance").latest("pk")
    assert event.detail["from"] == "present"
    assert event.detail["to"] == "excused"
    assert services.connection(a, today()).attended == 2
    assert services.connection(b, today()).attended == 0


def test_waiting_patients_are_told_why_and_booking_times_count(cast: Cast) -> None:
    """Issue 19: the reported case, a Spanish-speaking patient waiting beside a Spanish circle
    with free places. Without peer times the matcher now reads the times given for booking
    (one availability); whoever still waits gets a reason, and no consent is a reason too."""
    from datetime import time as t

    from trellis.booking.models import PatientAvailability
    from trellis.peers.models import Circle

    c = make_circle(cast, language="es")
    ana = due_patient(cast, "Ana", language="es", availability=[])
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    (waiting,) = [p for p in view.waitlist if p.patient == ana]
    assert any("no times given" in r for r in waiting.reasons)
    PatientAvailability.objects.create(
        program=cast.program_a,
        patient=ana,
        weekday=c.weekday,
        start=t(c.start_time.hour - 1),
        end=t(min(c.start_time.hour + 3, 23)),
    )
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    assert [p.patient for p in view.proposals] == [ana]
    assert Circle.objects.count() == 1
    bea = due_patient(cast, "Bea", language="es", with_consent=False)
    view = services.run_matching(cast.coordinator_a, cast.program_a, today())
    (waiting,) = [p for p in view.waitlist if p.patient == bea]
    assert any("consent" in r for r in waiting.reasons)

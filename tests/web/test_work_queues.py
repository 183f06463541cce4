"""Each role's day on the home page: the work-queue registry, the therapist's, the peer
facilitator's and the coordinator's queues (content, empty states, access, audit)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.audit.models import AuditEvent
from trellis.web import home as home_module
from trellis.web.home import QueueSection, providers_for, work_queue


def home(client: Any, user: Any) -> str:
    client.logout()
    sign_in(client, user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def queue_html(page: str, key: str) -> str:
    start = page.index(f'data-queue="{key}"')
    return page[start : page.index("</section>", start)]


def start_course(cast: Cast, *, therapist: Any = None) -> Any:
    from trellis.care import services as care

    today = timezone.localdate()
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=today - timedelta(days=3),
        start_date=today - timedelta(days=2),
    )
    if therapist is not None:
        type(episode).objects.filter(pk=episode.pk).update(primary_therapist=therapist)
    return episode


def test_registry_is_per_role_ordered_and_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(home_module, "QUEUE_PROVIDERS", [])

    def build(request: Any, now: Any) -> QueueSection | None:
        return None

    work_queue("b.second", roles=["nurse"], order=20)(build)
    work_queue("a.first", roles=["nurse", "therapist"], order=10)(build)
    work_queue("a.first", roles=["coordinator"], order=1)(build)  # same key: ignored
    assert [p.key for p in providers_for(["nurse"])] == ["a.first", "b.second"]
    assert [p.key for p in providers_for(["therapist"])] == ["a.first"]
    assert providers_for(["coordinator"]) == []


@pytest.mark.django_db
def test_coordinator_sees_blocked_first_dose_and_alerts_and_the_view_is_audited(
    client: Any, cast: Cast
) -> None:
    from trellis.alerts.services import raise_alert

    episode = start_course(cast)
    raise_alert(
        program=cast.program_a,
        kind="other",
        severity="urgent",
        title="Call back about transport",
        dedupe_key="t1",
        patient=cast.patient_a,
    )
    page = home(client, cast.coordinator_a)
    blocked = queue_html(page, "care.blocked_first_doses")
    assert "Robin Example" in blocked
    assert "screening" in blocked
    assert reverse("care:episode", args=[episode.pk]) in blocked
    assert reverse("care:board") in blocked  # the count links to the list
    alerts = queue_html(page, "alerts.open")
    assert "Call back about transport" in alerts
    assert 'class="urgent"' in alerts
    assert 'data-queue="booking.unbooked"' in page
    assert 'data-queue="care.integration_gaps"' in page
    event = AuditEvent.objects.filter(object_type="web.work_queues").latest("id")
    assert str(cast.patient_a.pk) in event.detail["patients"]
    assert event.actor == cast.coordinator_a
    # Another program's coordinator sees none of it.
    other = home(client, cast.coordinator_b)
    assert "Robin Example" not in other
    assert "Call back about transport" not in other


@pytest.mark.django_db
def test_therapist_caseload_and_empty_sessions(client: Any, cast: Cast) -> None:
    start_course(cast, therapist=cast.therapist_a)
    page = home(client, cast.therapist_a)
    caseload = queue_html(page, "integration.caseload")
    assert '<span class="queue-count">1</span>' in caseload
    assert "No integration is due in your caseload" in caseload
    assert f"?therapist={cast.therapist_a.pk}" in caseload
    sessions = queue_html(page, "booking.sessions_today")
    assert "No sessions booked with you today" in sessions
    assert 'data-queue="booking.notes_due"' in page
    assert 'data-queue="care.blocked_first_doses"' not in page  # the coordinator's, not theirs


@pytest.mark.django_db
def test_therapist_sees_todays_session_and_the_note_not_written(client: Any, cast: Cast) -> None:
    from trellis.accounts.models import Room, Site
    from trellis.booking.models import Appointment

    episode = start_course(cast, therapist=cast.therapist_a)
    room = Room.objects.create(
        site=Site.objects.create(program=cast.program_a, name="Main"),
        name="Therapy 1",
        kind=Room.Kind.THERAPY_ROOM,
    )
    now = timezone.now()
    for start, index in ((now - timedelta(minutes=5), 1), (now - timedelta(days=2), 2)):
        Appointment.objects.create(
            program=cast.program_a,
            patient=cast.patient_a,
            episode=episode,
            kind="integration",
            index=index,
            start=start,
            end=start + timedelta(hours=1),
            room=room,
            staff=cast.therapist_a,
        )
    page = home(client, cast.therapist_a)
    notes = queue_html(page, "booking.notes_due")
    assert "Integration 1" in notes
    assert "Integration 2" in notes
    assert "Write note" in notes
    assert reverse("integration:new_note", args=[cast.patient_a.pk]) in notes
    if timezone.localtime(now - timedelta(minutes=5)).date() == timezone.localdate():
        assert "Integration 1" in queue_html(page, "booking.sessions_today")


@pytest.mark.django_db
def test_peer_facilitator_sees_circles_this_week_and_no_patient_names(
    client: Any, cast: Cast
) -> None:
    from trellis.peers.models import Circle, CircleMembership, Meeting

    today = timezone.localdate()
    circle = Circle.objects.create(
        program=cast.program_a,
        name="Monday circle (synthetic)",
        facilitator=cast.peer_a,
        format=Circle.Format.VIDEO,
        video_link="https://video.example/x",
        weekday=today.weekday(),
        start_time=time(18),
        start_date=today - timedelta(days=7),
        end_date=today + timedelta(days=30),
    )
    Meeting.objects.create(program=cast.program_a, circle=circle, date=today)
    CircleMembership.objects.create(
        program=cast.program_a, circle=circle, patient=cast.patient_a, joined_on=today
    )
    page = home(client, cast.peer_a)
    week = queue_html(page, "peers.week")
    assert "Monday circle (synthetic)" in week
    assert "Attendance to take: 1 members" in week
    assert reverse("peers:circle", args=[circle.pk]) in week
    assert "Robin" not in page
    assert "Example" not in page
    assert 'data-queue="messaging.unread"' not in page  # not a clinical role


@pytest.mark.django_db
def test_analyst_and_peer_without_circles_get_no_patient_queue(client: Any, cast: Cast) -> None:
    page = home(client, cast.analyst_a)
    assert "data-queue=" not in page
    page = home(client, cast.peer_a)
    assert "None of your circles meets this week" in queue_html(page, "peers.week")


@pytest.mark.django_db
def test_unread_patient_message_reaches_every_clinical_role(client: Any, cast: Cast) -> None:
    from trellis.checkin.services import issue_link
    from trellis.messaging import services

    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Is parking free?")
    for user in (cast.nurse_a, cast.therapist_a, cast.coordinator_a):
        unread = queue_html(home(client, user), "messaging.unread")
        assert "Robin Example" in unread
        assert "1 unread" in unread
        assert reverse("messaging:thread", args=[cast.patient_a.pk]) in unread


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_a", "therapist_a", "nurse_a"])
def test_home_page_queries_do_not_grow_with_the_patients(client: Any, cast: Cast, who: str) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from tests.support import PATIENT_DATA

    from trellis.care import services as care
    from trellis.patients.services import register_patient

    user = getattr(cast, who)
    start_course(cast, therapist=cast.therapist_a)
    sign_in(client, user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("web:home")).status_code == 200
        return len(ctx.captured_queries)

    one = count()
    today = timezone.localdate()
    for n in range(3):
        patient = register_patient(
            cast.admin_a, cast.program_a, {**PATIENT_DATA, "given_name": f"Extra{n}"}
        )
        episode = care.start_episode(
            cast.coordinator_a, patient, protocol_id="iv-trd", referred_on=today, start_date=today
        )
        type(episode).objects.filter(pk=episode.pk).update(primary_therapist=cast.therapist_a)
    assert count() == one

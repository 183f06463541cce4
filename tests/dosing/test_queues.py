"""The nurse's "Doses today" and the prescriber's "Waiting for your signature" on the home page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from tests.dosing.conftest import predose_values
from tests.support import Cast, sign_in

from trellis.booking.models import Appointment
from trellis.dosing import queues, services
from trellis.dosing.models import DosingSession, Status


def book_dose(cast: Cast, episode: Any, chair: Any, start: Any, index: int = 1) -> Appointment:
    return Appointment.objects.create(
        program=cast.program_a,
        patient=episode.patient,
        episode=episode,
        kind="dose",
        index=index,
        start=start,
        end=start + timedelta(hours=2),
        room=chair,
        staff=cast.nurse_a,
    )


def home(client: Any, user: Any) -> str:
    client.logout()
    sign_in(client, user)
    response = client.get(reverse("web:home"))
    assert response.status_code == 200
    return response.content.decode()


def queue_html(page: str, key: str) -> str:
    start = page.index(f'data-queue="{key}"')
    return page[start : page.index("</section>", start)]


@pytest.mark.django_db
def test_nurse_starts_a_session_from_the_queue_and_follows_it(
    client: Any, cast: Cast, ready_course: Any, chair: Any, prescriber: Any
) -> None:
    start = timezone.now() + timedelta(minutes=30)
    book_dose(cast, ready_course, chair, start)
    page = queue_html(home(client, cast.nurse_a), "dosing.today")
    assert "Robin Example" in page
    assert "Dose 1: not started" in page
    assert "Chair 1" in page
    assert f'action="{reverse("dosing:start", args=[cast.patient_a.pk])}"' in page
    assert f'name="chair" value="{chair.pk}"' in page
    assert "Start session" in page

    # The button posts the booked chair: the session opens there.
    response = client.post(
        reverse("dosing:start", args=[cast.patient_a.pk]), {"chair": str(chair.pk)}
    )
    session = DosingSession.objects.get(episode=ready_course)
    assert response.status_code == 302
    assert session.chair == chair
    page = queue_html(home(client, cast.nurse_a), "dosing.today")
    assert "Pre-dose check:" in page
    assert "items to record" in page
    assert "Start session" not in page
    assert "Open session" in page

    # Everything recorded but the prescriber's sign-off: the nurse sees who is waiting, the
    # prescriber sees it in their queue.
    services.record_predose(cast.nurse_a, session, predose_values(start), now=start)
    assert "waiting for the prescriber" in queue_html(home(client, cast.nurse_a), "dosing.today")
    page = queue_html(home(client, prescriber), "dosing.prescriber")
    assert "Robin Example" in page
    assert "ready for your sign-off" in page
    assert "Sign off" in page
    services.sign_off_predose(prescriber, session)
    page = queue_html(home(client, prescriber), "dosing.prescriber")
    assert "Robin Example" not in page
    assert "Nothing waits for you" in page


@pytest.mark.django_db
def test_a_pre_dose_hold_goes_to_the_prescriber_as_urgent(
    client: Any, cast: Cast, ready_course: Any, chair: Any, prescriber: Any
) -> None:
    start = timezone.now()
    session = services.start_session(cast.nurse_a, ready_course, chair=chair)
    services.record_predose(
        cast.nurse_a, session, predose_values(start, systolic=182, diastolic=96), now=start
    )
    page = queue_html(home(client, prescriber), "dosing.prescriber")
    assert "Pre-dose hold" in page
    assert 'class="urgent"' in page
    assert "Review the hold" in page
    assert "Pre-dose hold: needs a prescriber" in queue_html(
        home(client, cast.nurse_a), "dosing.today"
    )


@pytest.mark.django_db
def test_discharged_unsigned_record_waits_for_a_signature(
    client: Any, cast: Cast, ready_course: Any, chair: Any, prescriber: Any
) -> None:
    session = services.start_session(cast.nurse_a, ready_course, chair=chair)
    DosingSession.objects.filter(pk=session.pk).update(status=Status.DISCHARGED)
    page = queue_html(home(client, prescriber), "dosing.prescriber")
    assert "Dose 1 record not signed" in page
    assert "Sign the record" in page
    assert "Discharged: record to sign" in queue_html(home(client, cast.nurse_a), "dosing.today")


@pytest.mark.django_db
def test_empty_states_say_what_to_do_next_and_other_roles_see_no_dose_queue(
    client: Any, cast: Cast, prescriber: Any
) -> None:
    page = queue_html(home(client, cast.nurse_a), "dosing.today")
    assert "No doses booked for today" in page
    assert reverse("patients:list") in page
    for user in (cast.therapist_a, cast.peer_a, cast.analyst_a, cast.coordinator_b):
        assert 'data-queue="dosing.today"' not in home(client, user)
        assert 'data-queue="dosing.prescriber"' not in home(client, user)


@pytest.mark.django_db
def test_doses_today_reads_in_a_constant_number_of_queries(
    cast: Cast, ready_course: Any, chair: Any
) -> None:
    request = RequestFactory().get("/")
    request.user = cast.nurse_a
    request.program = cast.program_a  # type: ignore[attr-defined]
    now = timezone.now()
    book_dose(cast, ready_course, chair, now + timedelta(minutes=10))

    def run() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            section = queues.doses_today(request, now)
        assert section is not None
        return len(ctx.captured_queries), section.count

    one, rows = run()
    assert rows == 1
    for hours in (1, 2, 3, 4):
        book_dose(cast, ready_course, chair, now + timedelta(hours=hours))
    five, rows = run()
    assert rows == 5
    assert five == one


@pytest.mark.django_db
def test_a_booked_chair_still_taken_offers_the_chair_choice_instead(
    client: Any, cast: Cast, ready_course: Any, chair: Any
) -> None:
    from tests.support import PATIENT_DATA

    from trellis.patients.services import register_patient

    sam = register_patient(
        cast.admin_a, cast.program_a, {**PATIENT_DATA, "given_name": "Sam", "family_name": "Seated"}
    )
    # Sam's course is ready for dose 1 (screened, prepared, a safety plan on file): a session
    # opens only when nothing blocks the first dose.
    from tests.dosing.conftest import open_course
    from tests.integration.helpers import PLAN

    from trellis.integration import services as integration

    other = open_course(cast, "iv-trd", patient=sam)
    integration.save_safety_plan(cast.therapist_a, sam, PLAN)
    services.start_session(cast.nurse_a, other, chair=chair)  # Sam is in the booked chair
    book_dose(cast, ready_course, chair, timezone.now() + timedelta(minutes=5))
    page = queue_html(home(client, cast.nurse_a), "dosing.today")
    assert "Chair 1 (still taken)" in page
    assert "Choose a chair" in page
    assert 'name="chair"' not in page


@pytest.mark.django_db
def test_queue_titles_and_states_are_translated(cast: Cast, ready_course: Any, chair: Any) -> None:
    from django.utils import translation

    request = RequestFactory().get("/")
    request.user = cast.nurse_a
    request.program = cast.program_a  # type: ignore[attr-defined]
    book_dose(cast, ready_course, chair, timezone.now() + timedelta(minutes=10))
    with translation.override("es"):
        section = queues.doses_today(request, timezone.now())
    assert section is not None
    assert str(section.title) == "Dosis de hoy"
    assert section.rows[0].what == "Dosis 1: sin iniciar"


@pytest.mark.django_db
def test_a_blocked_first_dose_shows_why_and_offers_no_start(
    client: Any, cast: Cast, chair: Any
) -> None:
    from trellis.care import services as care

    today = timezone.localdate()
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=today,
        start_date=today,
    )
    book_dose(cast, episode, chair, timezone.now() + timedelta(minutes=20))
    page = queue_html(home(client, cast.nurse_a), "dosing.today")
    assert "Dose 1 blocked: screening" in page
    assert "Start session" not in page
    assert reverse("care:episode", args=[episode.pk]) in page

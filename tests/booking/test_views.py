"""Booking pages: who sees what, validation, the flow through the web client."""

from __future__ import annotations

import pytest
from django.urls import reverse
from tests.booking.clinic import NOW, START, make_clinic, open_course
from tests.support import Cast, sign_in

from trellis.booking import services
from trellis.booking.models import Appointment, StaffRota


@pytest.fixture
def planned(cast: Cast) -> dict:
    make_clinic(cast)
    open_course(cast, cast.patient_a)
    proposal = services.propose(
        cast.coordinator_a, cast.program_a, "greedy", start_date=START, days=28, now=NOW
    )
    return {"proposal": proposal}


@pytest.mark.django_db
def test_plan_page_shows_calendar_by_room_and_staff(client, cast: Cast, planned: dict) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("booking:proposal", args=[planned["proposal"].pk])
    html = client.get(url).content.decode()
    assert "By room" in html
    assert "By staff" in html
    assert "Chair 1" in html
    assert "Robin" in html
    assert "Accept and book" in html


@pytest.mark.django_db
def test_nurse_reads_but_cannot_accept(client, cast: Cast, planned: dict) -> None:
    sign_in(client, cast.nurse_a)
    proposal = planned["proposal"]
    page = client.get(reverse("booking:proposal", args=[proposal.pk]))
    assert page.status_code == 200
    assert "Accept and book" not in page.content.decode()
    assert client.post(reverse("booking:accept", args=[proposal.pk])).status_code == 404
    assert client.post(reverse("booking:plan"), {"weeks": 2}).status_code == 404
    assert not Appointment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["coordinator_b", "peer_a", "analyst_a"])
def test_outsiders_get_404(client, cast: Cast, planned: dict, who: str) -> None:
    proposal = planned["proposal"]
    services.accept(cast.coordinator_a, proposal, now=NOW)
    appt = Appointment.objects.first()
    sign_in(client, getattr(cast, who))
    assert client.get(reverse("booking:proposal", args=[proposal.pk])).status_code == 404
    if who != "coordinator_b":  # B's coordinator sees B's own booking page
        assert client.get(reverse("booking:index")).status_code == 404
    cancel = reverse("booking:cancel", args=[appt.pk])
    assert client.post(cancel, {"reason": "x"}).status_code == 404
    appt.refresh_from_db()
    assert appt.status == "booked"


@pytest.mark.django_db
def test_plan_form_validates(client, cast: Cast, planned: dict) -> None:
    sign_in(client, cast.coordinator_a)
    page = client.post(reverse("booking:plan"), {"weeks": 0, "method": "cpsat", "time_limit": 99})
    assert page.status_code == 400
    html = page.content.decode()
    assert "Plan at least 1 week." in html
    assert "At most 60 seconds." in html


@pytest.mark.django_db
def test_setup_rota_validation_and_save(client, cast: Cast, planned: dict) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("booking:setup")
    bad = client.post(
        url,
        {
            "form": "rota",
            "staff": cast.nurse_a.pk,
            "role": "nurse",
            "start": "12:00",
            "end": "09:00",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Choose a weekday or one date, not both." in html
    assert "The shift must end after it starts." in html
    wrong_role = client.post(
        url,
        {
            "form": "rota",
            "staff": cast.nurse_a.pk,
            "role": "therapist",
            "weekday": 5,
            "start": "09:00",
            "end": "12:00",
        },
    )
    assert "does not hold that role" in wrong_role.content.decode()
    before = StaffRota.objects.count()
    ok = client.post(
        url,
        {
            "form": "rota",
            "staff": cast.nurse_a.pk,
            "role": "nurse",
            "weekday": 5,
            "start": "09:00",
            "end": "12:00",
        },
    )
    assert ok.status_code == 302
    assert StaffRota.objects.count() == before + 1
    hours = client.post(url, {"form": "settings", "nurse_ratio": 0, "opens_0": "09:00"})
    assert hours.status_code == 400
    assert "Give both times" in hours.content.decode()
    early = client.post(url, {"form": "settings", "nurse_ratio": 2, "reminder_hours": 200})
    assert early.status_code == 400
    assert "At most 168 hours (7 days)." in early.content.decode()
    assert services.settings_of(cast.program_a).reminder_hours == 24
    week = {f"opens_{wd}": "08:00" for wd in range(5)} | {
        f"closes_{wd}": "18:00" for wd in range(5)
    }
    saved = client.post(url, {"form": "settings", "nurse_ratio": 2, "reminder_hours": 48} | week)
    assert saved.status_code == 302
    assert services.settings_of(cast.program_a).reminder_hours == 48


@pytest.mark.django_db
def test_chart_panel_cancel_offers_repair(client, cast: Cast, planned: dict) -> None:
    services.accept(cast.coordinator_a, planned["proposal"], now=NOW)
    sign_in(client, cast.coordinator_a)
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "Appointments" in chart
    appt = Appointment.objects.filter(kind="dose").order_by("start")[1]
    from unittest import mock

    with mock.patch("trellis.booking.services.timezone.now", return_value=NOW):
        page = client.post(reverse("booking:cancel", args=[appt.pk]), {"reason": "unwell"})
    assert page.status_code == 302
    assert "/booking/plans/" in page["Location"]
    sign_in(client, cast.coordinator_a)  # the session saved under the patched clock expired
    repaired_page = client.get(page["Location"])
    assert repaired_page.status_code == 200, repaired_page.content[:3000]
    repaired = repaired_page.content.decode()
    assert "Repaired course after a cancellation" in repaired


@pytest.mark.django_db
def test_week_navigation_returns_a_fragment_for_htmx(client, cast: Cast, planned: dict) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("booking:proposal", args=[planned["proposal"].pk])
    full = client.get(url).content.decode()
    assert "Week 1 of 4" in full
    assert "Next week" in full
    part = client.get(url + "?week=1", HTTP_HX_REQUEST="true").content.decode()
    assert "Week 2 of 4" in part
    assert "<html" not in part
    assert "Previous week" in part

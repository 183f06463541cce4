"""Peers pages: create (errors next to fields), matching and accept, facilitator sees first
names only, coordinator_b gets 404, chart panel and check-in section."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from tests.peers.helpers import due_patient, make_circle, today
from tests.support import Cast, sign_in

from trellis.checkin.services import issue_link
from trellis.peers import services
from trellis.peers.models import DEFAULT_AGREEMENTS, Circle, CircleMembership, Meeting

pytestmark = pytest.mark.django_db


def form(cast: Cast, **over: str) -> dict[str, str]:
    data = {
        "name": "Thursday circle",
        "facilitator": str(cast.peer_a.pk),
        "language": "en",
        "format": "video",
        "video_link": "https://video.example.org/x",
        "weekday": "3",
        "start_time": "18:00",
        "length_minutes": "90",
        "capacity": "10",
        "start_date": today().isoformat(),
        "end_date": (today() + timedelta(days=56)).isoformat(),
        "agreements": "Confidentiality.",
    }
    data.update(over)
    return data


def test_create_circle_page(client, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    assert client.get(reverse("peers:create")).status_code == 200
    response = client.post(reverse("peers:create"), form(cast))
    assert response.status_code == 302
    assert Circle.objects.get().name == "Thursday circle"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"capacity": "13"}, "Capacity is 1 to 12"),
        ({"video_link": "http://x.example.org"}, "https://"),
        ({"format": "in_person", "video_link": ""}, "circle room"),
    ],
)
def test_create_circle_errors_next_to_field(client, cast: Cast, over, message) -> None:
    sign_in(client, cast.coordinator_a)
    response = client.post(reverse("peers:create"), form(cast, **over))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Circle.objects.exists()


def test_matching_and_accept(client, cast: Cast) -> None:
    c = make_circle(cast, capacity=1)
    a = due_patient(cast, "Ana", "Quintero")
    b = due_patient(cast, "Bea", "Rivers")
    sign_in(client, cast.coordinator_a)
    page = client.get(reverse("peers:matching")).content.decode()
    assert "Ana Quintero" in page
    assert "Waitlist" in page
    response = client.post(reverse("peers:matching"), {"patient": str(a.pk), "circle": str(c.pk)})
    assert response.status_code == 302
    response = client.post(reverse("peers:matching"), {"patient": str(b.pk), "circle": str(c.pk)})
    assert response.status_code == 409
    assert "over capacity" in response.content.decode()
    assert CircleMembership.objects.count() == 1


def test_facilitator_sees_first_names_and_attendance_only(client, cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana", "Quintero")
    services.join_circle(cast.coordinator_a, c, a, c.start_date)
    sign_in(client, cast.peer_a)
    page = client.get(reverse("peers:circle", args=[c.pk])).content.decode()
    assert "Ana" in page
    assert "Quintero" not in page
    assert "+1555" not in page
    assert client.get(reverse("patients:chart", args=[a.pk])).status_code == 404
    assert client.get(reverse("peers:matching")).status_code == 404
    meeting = Meeting.objects.filter(circle=c, date__lte=today()).first()
    membership = CircleMembership.objects.get()
    url = reverse("peers:attendance", args=[c.pk, meeting.pk])
    assert client.post(url, {f"member-{membership.pk}": "present"}).status_code == 302
    assert services.connection(a, today()).attended == 1
    response = client.post(reverse("peers:circle", args=[c.pk]), {"text": "Ana Quintero cried"})
    assert response.status_code == 400
    assert "full name" in response.content.decode()


def test_coordinator_b_gets_404(client, cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana")
    sign_in(client, cast.coordinator_b)
    assert client.get(reverse("peers:circle", args=[c.pk])).status_code == 404
    response = client.post(reverse("peers:matching"), {"patient": str(a.pk), "circle": str(c.pk)})
    assert response.status_code == 404
    assert "Ana" not in client.get(reverse("peers:index")).content.decode()


def test_chart_panel_and_checkin_section(client, cast: Cast) -> None:
    c = make_circle(cast)
    a = due_patient(cast, "Ana")
    services.join_circle(cast.coordinator_a, c, a, c.start_date)
    sign_in(client, cast.nurse_a)
    chart = client.get(reverse("patients:chart", args=[a.pk])).content.decode()
    assert "Connection index" in chart
    assert c.name in chart
    _link, token = issue_link(a, created_by=cast.coordinator_a)
    page = client.get(reverse("checkin:home", args=[token])).content.decode()
    assert "Your peer circle" in page
    assert "https://video.example.org/circle" in page


def test_checkin_circle_in_spanish(client, cast: Cast) -> None:
    c = make_circle(cast, language="es", agreements=DEFAULT_AGREEMENTS)
    a = due_patient(cast, "Cruz", language="es")
    services.join_circle(cast.coordinator_a, c, a, c.start_date)
    _link, token = issue_link(a, created_by=cast.coordinator_a)
    page = client.get(reverse("checkin:home", args=[token]), HTTP_ACCEPT_LANGUAGE="es").content
    text = page.decode()
    assert "Su círculo de pares" in text
    assert "martes" in text
    assert "Escuchamos; no damos consejos." in text


def test_patients_see_their_circle_and_set_preferences_from_the_checkin_link(
    client, cast: Cast
) -> None:
    """Issue 19: from the check-in link the patient sees the circle (day, time, place, the
    facilitator's first name, how to join) and sets peer preferences; the times are not asked
    again (booking's availability is the one source)."""
    from trellis.peers.models import PeerPreferences

    cast.peer_a.first_name = "Pete"
    cast.peer_a.save()
    c = make_circle(cast)
    make_circle(cast, name="Veterans circle", identity_focus="Veterans")
    a = due_patient(cast, "Ana")
    services.join_circle(cast.coordinator_a, c, a, c.start_date)
    _link, token = issue_link(a, created_by=cast.coordinator_a)
    page = client.get(reverse("checkin:home", args=[token])).content.decode()
    assert "Your facilitator is Pete." in page
    assert "How to join" in page
    url = reverse("peers:patient_preferences", args=[token])
    assert url in page
    form = client.get(url).content.decode()
    assert "Veterans" in form
    assert "availability" not in form.lower() or "days you told us" in form
    bad = client.post(url, {"identity_opt_in": "Astronauts"})
    assert bad.status_code == 400
    response = client.post(url, {"identity_opt_in": "Veterans", "mentor_opt_in": "on"})
    assert response.status_code == 302
    prefs = PeerPreferences.objects.get(patient=a)
    assert prefs.identity_opt_in == ["Veterans"]
    assert prefs.mentor_opt_in is True
    assert prefs.availability  # the times set before are kept, not asked again

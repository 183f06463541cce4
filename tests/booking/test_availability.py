"""When a patient can come: stored all or nothing by planners, audited, used by the scheduler."""

from __future__ import annotations

from datetime import time

import pytest
from django.test import Client
from tests.booking.clinic import NOW, START, make_clinic, open_course
from tests.support import Cast, sign_in

from trellis.audit.models import Action, AuditEvent
from trellis.booking import services
from trellis.booking.models import PatientAvailability
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.core.scheduling import parse_instance

MORNINGS = {wd: (time(8), time(13)) for wd in range(5)}


@pytest.fixture
def clinic(cast: Cast) -> dict:
    return make_clinic(cast)


def _windows(patient: object) -> list[tuple[int, time, time]]:
    return [
        (w.weekday, w.start, w.end) for w in PatientAvailability.objects.filter(patient=patient)
    ]


@pytest.mark.django_db
def test_planner_sets_windows_the_scheduler_uses_them(cast: Cast, clinic: dict) -> None:
    episode = open_course(cast, cast.patient_a)
    services.set_availability(cast.coordinator_a, cast.patient_a, MORNINGS)
    assert _windows(cast.patient_a) == [(wd, time(8), time(13)) for wd in range(5)]
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, patient_id=cast.patient_a.pk, object_type="booking.availability"
    ).exists()
    built = services.build_instance(cast.coordinator_a, cast.program_a, START, 28, NOW)
    inst = parse_instance(built.instance)
    (p,) = [p for p in inst.patients if p.id == f"e{episode.pk.hex}"]
    assert p.availability is not None
    assert {(w.weekday, w.start, w.end) for w in p.availability} == {
        (wd, 8 * 60, 13 * 60) for wd in range(5)
    }
    # Every day empty again: whenever the clinic is open.
    services.set_availability(cast.coordinator_a, cast.patient_a, dict.fromkeys(range(7)))
    assert _windows(cast.patient_a) == []


@pytest.mark.django_db
def test_bad_windows_change_nothing(cast: Cast, clinic: dict) -> None:
    services.set_availability(cast.coordinator_a, cast.patient_a, MORNINGS)
    with pytest.raises(InvalidInput) as err:
        services.set_availability(
            cast.coordinator_a, cast.patient_a, {0: (time(8), time(12)), 2: (time(14), time(9))}
        )
    assert err.value.field == "until_2"
    assert len(_windows(cast.patient_a)) == 5


@pytest.mark.django_db
def test_only_planners_change_windows(cast: Cast, clinic: dict) -> None:
    with pytest.raises(NotAllowed):
        services.set_availability(cast.nurse_a, cast.patient_a, MORNINGS)
    with pytest.raises(NotAllowed):
        services.set_availability(cast.coordinator_b, cast.patient_a, MORNINGS)
    assert _windows(cast.patient_a) == []


@pytest.mark.django_db
def test_availability_page(cast: Cast, clinic: dict) -> None:
    url = f"/booking/patients/{cast.patient_a.pk}/availability/"
    nurse = sign_in(Client(), cast.nurse_a)
    page = nurse.get(url)
    assert page.status_code == 200
    assert b"whenever the clinic is open" in page.content
    assert b"Save availability" not in page.content
    assert nurse.post(url, {"from_0": "08:00", "until_0": "13:00"}).status_code == 403

    coord = sign_in(Client(), cast.coordinator_a)
    bad = coord.post(url, {"from_0": "08:00"})
    assert bad.status_code == 400
    assert "Give both times, or neither if they cannot come that day." in bad.content.decode()
    off_grid = coord.post(url, {"from_1": "08:15", "until_1": "12:00"})
    assert off_grid.status_code == 400
    assert _windows(cast.patient_a) == []
    ok = coord.post(
        url, {"from_0": "08:00", "until_0": "13:00", "from_3": "12:00", "until_3": "18:00"}
    )
    assert ok.status_code == 302
    assert _windows(cast.patient_a) == [(0, time(8), time(13)), (3, time(12), time(18))]
    chart = coord.get(f"/patients/{cast.patient_a.pk}/")
    assert "Change when they can come" in chart.content.decode()

    other = sign_in(Client(), cast.coordinator_b)
    assert other.get(url).status_code == 404


def _link(patient: object) -> str:
    from trellis.checkin.services import issue_link

    _row, token = issue_link(patient, purpose="general")  # type: ignore[arg-type]
    return token


@pytest.mark.django_db
def test_patient_says_when_they_can_come_on_their_phone(cast: Cast, clinic: dict) -> None:
    token = _link(cast.patient_a)
    client = Client()
    home = client.get(f"/c/{token}/")
    assert "Tell us when you can come" in home.content.decode()
    url = f"/booking/c/{token}/availability/"
    page = client.get(url)
    assert page.status_code == 200
    assert "Mornings only (until 1 pm)" in page.content.decode()
    # Mornings on Monday, not on Wednesday, any time otherwise.
    form = {f"day_{wd}": "any" for wd in range(5)} | {"day_0": "morning", "day_2": "none"}
    saved = client.post(url, form)
    assert saved.status_code == 302
    assert _windows(cast.patient_a) == [
        (0, time(8), time(13)),
        (1, time(8), time(18)),
        (3, time(8), time(18)),
        (4, time(8), time(18)),
    ]
    assert services.day_choices_of(cast.patient_a) == {
        0: "morning",
        1: "any",
        2: "none",
        3: "any",
        4: "any",
    }
    event = AuditEvent.objects.filter(
        object_type="booking.availability", patient_id=cast.patient_a.pk
    ).latest("pk")
    assert event.actor_username == f"patient:{cast.patient_a.pk}"
    # Every day "any time" again: nothing on file (whenever the clinic is open).
    assert client.post(url, {f"day_{wd}": "any" for wd in range(5)}).status_code == 302
    assert _windows(cast.patient_a) == []


@pytest.mark.django_db
def test_patient_answers_are_checked_and_change_nothing_when_wrong(
    cast: Cast, clinic: dict
) -> None:
    services.set_availability(cast.coordinator_a, cast.patient_a, MORNINGS)
    token = _link(cast.patient_a)
    url = f"/booking/c/{token}/availability/"
    client = Client()
    nowhere = client.post(url, {f"day_{wd}": "none" for wd in range(5)})
    assert nowhere.status_code == 400
    assert "Choose at least one day you can come." in nowhere.content.decode()
    odd = client.post(url, {f"day_{wd}": "any" for wd in range(5)} | {"day_1": "evenings"})
    assert odd.status_code == 400
    assert len(_windows(cast.patient_a)) == 5
    assert Client().get(f"/booking/c/{token}x/availability/").status_code == 404


@pytest.mark.django_db
def test_patient_page_speaks_spanish(cast: Cast, clinic: dict) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save(update_fields=["preferred_language"])
    token = _link(cast.patient_a)
    page = Client().get(f"/booking/c/{token}/availability/")
    text = page.content.decode()
    assert "Cuándo puede venir" in text
    assert "Solo por la mañana (hasta la 1 pm)" in text
    assert "lunes" in text.lower()

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

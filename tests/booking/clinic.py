"""A small synthetic clinic on the named cast: two chairs, one therapy room, Nora and Theo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from tests.support import PATIENT_DATA, Cast

from trellis.accounts.models import Membership, Room, Site
from trellis.booking import services
from trellis.care import services as care
from trellis.patients.models import ConsentKind
from trellis.patients.services import add_consent, register_patient

START = date(2026, 3, 2)  # a Monday


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour))).astimezone(UTC)


NOW = at(START - timedelta(days=1), 12)


def make_clinic(cast: Cast) -> dict[str, Any]:
    site = Site.objects.create(program=cast.program_a, name="Main")
    rooms = [
        Room.objects.create(site=site, name="Chair 1", kind="dosing_chair"),
        Room.objects.create(site=site, name="Chair 2", kind="dosing_chair"),
        Room.objects.create(site=site, name="Therapy 1", kind="therapy_room"),
    ]
    coord = cast.coordinator_a
    Membership.objects.filter(user=cast.therapist_a).update(languages=["en", "es"])
    hours = {wd: (time(8), time(18)) for wd in range(5)}
    hours.update({5: None, 6: None})
    services.save_settings(coord, cast.program_a, 2, hours)
    for wd in range(5):
        services.add_rota(
            coord, cast.program_a, cast.nurse_a, "nurse", time(8), time(18), weekday=wd
        )
        services.add_rota(
            coord, cast.program_a, cast.therapist_a, "therapist", time(8), time(18), weekday=wd
        )
    return {"site": site, "rooms": rooms}


def open_course(cast: Cast, patient: Any, track: str = "iv-trd") -> Any:
    return care.start_episode(
        cast.coordinator_a,
        patient,
        protocol_id=track,
        referred_on=START - timedelta(days=1),
        start_date=START,
    )


def second_patient(cast: Cast, consents: tuple[str, ...] = ()) -> Any:
    p = register_patient(
        cast.admin_a,
        cast.program_a,
        {
            **PATIENT_DATA,
            "given_name": "Lupe",
            "email": "lupe@example.org",
            "preferred_language": "es",
        },
    )
    for kind in consents:
        add_consent(cast.admin_a, p, kind=kind, given_on=START - timedelta(days=3))
    return p


__all__ = ["NOW", "START", "ConsentKind", "at", "make_clinic", "open_course", "second_patient"]

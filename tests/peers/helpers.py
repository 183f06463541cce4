"""Builders for the peers tests: circles, patients due to join, consent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from tests.support import PATIENT_DATA, Cast, today

from trellis.accounts.models import Room, Site
from trellis.care import services as care
from trellis.care.models import EpisodeEvent
from trellis.patients.models import Consent, ConsentKind
from trellis.patients.services import register_patient
from trellis.peers import services

EVENINGS = [{"weekday": d, "start": "17:00", "end": "21:00"} for d in range(7)]


def consent(cast: Cast, patient: Any) -> None:
    Consent.objects.create(
        patient=patient,
        program=patient.program,
        kind=ConsentKind.GROUP,
        given_on=today() - timedelta(days=30),
        recorded_by=cast.coordinator_a,
    )


def due_patient(
    cast: Cast,
    given: str,
    family: str = "Synthetic",
    *,
    language: str = "en",
    availability: list[dict[str, Any]] | None = None,
    identities: list[str] | None = None,
    with_consent: bool = True,
    track: str = "iv-trd",
) -> Any:
    patient = register_patient(
        cast.admin_a,
        cast.program_a,
        {
            **PATIENT_DATA,
            "given_name": given,
            "family_name": family,
            "preferred_language": language,
        },
    )
    episode = care.start_episode(
        cast.coordinator_a,
        patient,
        protocol_id=track,
        referred_on=today() - timedelta(days=20),
        start_date=today() - timedelta(days=19),
    )
    # The first dose 8 days ago: week 2 (the circle window) has started.
    EpisodeEvent.objects.create(
        episode=episode,
        program=episode.program,
        kind="dose_given",
        index=1,
        at=datetime.combine(today() - timedelta(days=8), time(10), tzinfo=UTC),
    )
    if with_consent:
        consent(cast, patient)
    services.set_preferences(
        cast.coordinator_a,
        patient,
        availability if availability is not None else EVENINGS,
        identities,
    )
    return patient


def room(cast: Cast, name: str = "Garden room") -> Room:
    site, _ = Site.objects.get_or_create(program=cast.program_a, name="Main site")
    return Room.objects.create(site=site, name=name, kind=Room.Kind.CIRCLE_ROOM)


def circle_data(cast: Cast, **over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Tuesday evening circle",
        "facilitator": cast.peer_a,
        "language": "en",
        "focus_track": "",
        "identity_focus": "",
        "format": "video",
        "room": None,
        "video_link": "https://video.example.org/circle",
        "weekday": 1,
        "start_time": time(18, 0),
        "length_minutes": 90,
        "capacity": 10,
        "start_date": today() - timedelta(days=21),
        "end_date": today() + timedelta(days=42),
        "agreements": "Confidentiality. No advice-giving. No pressure to share. No dosing advice.",
    }
    data.update(over)
    return data


def make_circle(cast: Cast, **over: Any) -> Any:
    return services.create_circle(cast.coordinator_a, cast.program_a, circle_data(cast, **over))

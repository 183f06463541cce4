"""Fixtures for dosing tests: an esketamine course ready for its first dose."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.support import Cast

from trellis.care import services as care


@pytest.fixture
def safety_plan_on_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # The safety plan lives in the integration record; here dosing is tested on its own.
    monkeypatch.setattr(
        care,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*care.FIRST_DOSE_FACT_PROVIDERS, lambda episode: {"safety_plan_on_file": True}],
    )


@pytest.fixture
def prescriber(cast: Cast) -> Any:
    from trellis.accounts.models import Role
    from trellis.accounts.services import create_staff

    return create_staff(
        username="pia",
        password="correct horse battery",
        program=cast.program_a,
        roles=[Role.PRESCRIBER],
        first_name="Pia",
        last_name="Prescriber",
    )


@pytest.fixture
def chair(cast: Cast) -> Any:
    from trellis.accounts.models import Room, Site

    site = Site.objects.create(program=cast.program_a, name="Clinic A")
    return Room.objects.create(site=site, name="Chair 1", kind=Room.Kind.DOSING_CHAIR)


def open_course(cast: Cast, track: str = "esketamine-trd", patient: Any = None) -> Any:
    today = timezone.localdate()
    episode = care.start_episode(
        cast.coordinator_a,
        patient or cast.patient_a,
        protocol_id=track,
        referred_on=today - timedelta(days=12),
        start_date=today - timedelta(days=11),
    )
    from trellis.core.protocols import load_protocol

    answers = {i.id: False for i in load_protocol(track).screening if i.age_below is None}
    care.record_screening(
        cast.coordinator_a,
        episode,
        answers,
        today=today - timedelta(days=11),
        at=timezone.now() - timedelta(days=11),
    )
    for n, act in enumerate(care.activities_of(episode).filter(kind="preparation"), start=1):
        care.record_event(
            cast.therapist_a,
            episode,
            "preparation_done",
            at=timezone.now() - timedelta(days=10 - 3 * n),
            index=act.index,
        )
    return episode


def certify(cast: Cast) -> Any:
    from trellis.dosing import services

    return services.record_certification(
        cast.admin_a,
        cast.program_a,
        setting_name="Clinic A (synthetic)",
        authorised_representative="Ada Admin",
        certified_on=timezone.localdate() - timedelta(days=30),
    )


def enrol(cast: Cast) -> Any:
    from trellis.dosing import services

    return services.enrol_patient(
        cast.nurse_a,
        cast.patient_a,
        rems_patient_id="SYN00042",
        enrolled_on=timezone.localdate() - timedelta(days=5),
    )


GOOD_PREDOSE: dict[str, Any] = {
    "identity_confirmed": True,
    "screening_changes_reviewed": True,
    "concomitant_medicines_reviewed": True,
    "concomitant_medicines": ["benzodiazepines"],
    "phq9_item9": 0,
    "systolic": 128,
    "diastolic": 80,
    "heart_rate": 72,
    "spo2": 98,
    "ride_home_confirmed": True,
    "no_driving_advice_given": True,
    "pregnancy_status": "not_applicable",
}


def predose_values(start: Any, **changes: Any) -> dict[str, Any]:
    values = {
        **GOOD_PREDOSE,
        "planned_start": start.isoformat(),
        "last_food": (start - timedelta(hours=3)).isoformat(),
        "last_liquids": (start - timedelta(hours=1)).isoformat(),
    }
    values.update(changes)
    return values


@pytest.fixture
def ready_course(cast: Cast, safety_plan_on_file: None, prescriber: Any, chair: Any) -> Any:
    """An esketamine course in a certified setting with the patient enrolled."""
    certify(cast)
    enrol(cast)
    return open_course(cast)

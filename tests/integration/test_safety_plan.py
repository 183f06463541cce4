"""The safety plan: saved whole, counted complete by the pure rule, and required before dose 1
on the tracks that list it (the suicidal-crisis track above all)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from tests.integration.helpers import PLAN, at, ready_episode
from tests.support import Cast

from trellis.audit.models import AuditEvent
from trellis.care import services as care
from trellis.core.errors import Conflict, InvalidInput, NotAllowed
from trellis.integration import services


@pytest.mark.django_db
def test_suicidal_track_refuses_dose_1_without_a_complete_safety_plan(cast: Cast) -> None:
    # Screening (09:00) and preparation (11:00) are recorded today: run the test at 13:00 clinic
    # time so that they are not in the future, whatever the hour the suite runs.
    with time_machine.travel(at(timezone.localdate(), 13), tick=True):
        _suicidal_track_refuses_dose_1_without_a_complete_safety_plan(cast)


def _suicidal_track_refuses_dose_1_without_a_complete_safety_plan(cast: Cast) -> None:
    episode = ready_episode(cast, "esketamine-suicidal", start=timezone.localdate())
    blockers = care.first_dose_blockers(episode)
    assert any(b.startswith("safety_plan") for b in blockers)
    services.save_safety_plan(
        cast.therapist_a, cast.patient_a, {**PLAN, "professionals": ["Dr Lee 555-0100"]}
    )
    assert any(b.startswith("safety_plan") for b in care.first_dose_blockers(episode))
    services.save_safety_plan(cast.therapist_a, cast.patient_a, PLAN)
    assert not any(b.startswith("safety_plan") for b in care.first_dose_blockers(episode))


@pytest.mark.django_db
def test_dose_1_waits_for_the_plan_then_goes_ahead(cast: Cast) -> None:
    episode = ready_episode(cast)
    dose_at = at(timezone.localdate() - timedelta(days=5))
    with pytest.raises(Conflict, match="no written safety plan"):
        care.record_event(cast.nurse_a, episode, "dose_given", at=dose_at, index=1)
    services.save_safety_plan(cast.therapist_a, cast.patient_a, PLAN)
    care.record_event(cast.nurse_a, episode, "dose_given", at=dose_at, index=1)


@pytest.mark.django_db
def test_saving_is_audited_and_replaces_the_plan(cast: Cast) -> None:
    plan = services.save_safety_plan(cast.therapist_a, cast.patient_a, PLAN)
    services.save_safety_plan(
        cast.nurse_a, cast.patient_a, {**PLAN, "coping_strategies": ["Breathing", " "]}
    )
    plan.refresh_from_db()
    assert plan.coping_strategies == ["Breathing"]
    events = AuditEvent.objects.filter(object_type="integration.safetyplan")
    assert sorted(events.values_list("action", flat=True)) == ["create", "update"]


@pytest.mark.django_db
def test_who_may_write_and_read(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.save_safety_plan(cast.coordinator_a, cast.patient_a, PLAN)
    with pytest.raises(NotAllowed):
        services.save_safety_plan(cast.coordinator_b, cast.patient_a, PLAN)
    services.save_safety_plan(cast.therapist_a, cast.patient_a, PLAN)
    assert services.get_safety_plan(cast.coordinator_a, cast.patient_a) is not None
    with pytest.raises(NotAllowed):
        services.get_safety_plan(cast.peer_a, cast.patient_a)


@pytest.mark.django_db
def test_bad_input_names_the_section(cast: Cast) -> None:
    with pytest.raises(InvalidInput, match="^hobbies"):
        services.save_safety_plan(cast.therapist_a, cast.patient_a, {"hobbies": ["x"]})
    with pytest.raises(InvalidInput, match="^warning_signs"):
        services.save_safety_plan(
            cast.therapist_a, cast.patient_a, {**PLAN, "warning_signs": ["x" * 301]}
        )
    assert not services.safety_plan_on_file(cast.patient_a)

"""Nurse screens (issue 13 §4): taken chairs not offered, the sign-off named as the next step,
minutes shown as whole minutes, a short infusion warned about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.dosing.conftest import predose_values
from tests.support import Cast, sign_in

from trellis.core.safety import ESKETAMINE_TRD, KETAMINE_IV_STANDARD, short_infusion_minutes
from trellis.dosing import services

M = timedelta(minutes=1)


@pytest.mark.django_db
def test_a_chair_in_use_is_not_offered(
    client: Any, cast: Cast, ready_course: Any, chair: Any
) -> None:
    from trellis.accounts.models import Room

    free = Room.objects.create(site=chair.site, name="Chair 2", kind=Room.Kind.DOSING_CHAIR)
    sign_in(client, cast.nurse_a)
    page = client.get(reverse("dosing:start", args=[cast.patient_a.pk])).content.decode()
    assert f'value="{chair.pk}"' in page
    services.start_session(cast.nurse_a, ready_course, chair=chair)
    page = client.get(reverse("dosing:start", args=[cast.patient_a.pk])).content.decode()
    assert f'value="{chair.pk}"' not in page
    assert f'value="{free.pk}"' in page
    free.active = False
    free.save()
    page = client.get(reverse("dosing:start", args=[cast.patient_a.pk])).content.decode()
    assert "Every dosing chair is in use" in page


@pytest.mark.django_db
def test_the_prescriber_sign_off_is_named_as_the_next_step(
    client: Any, cast: Cast, ready_course: Any, chair: Any, prescriber: Any
) -> None:
    session = services.start_session(cast.nurse_a, ready_course, chair=chair)
    url = reverse("dosing:session", args=[session.pk])
    sign_in(client, cast.nurse_a)
    assert "record the pre-dose check below" in client.get(url).content.decode()
    start = timezone.now() + 10 * M
    services.record_predose(cast.nurse_a, session, predose_values(start), now=start - 10 * M)
    page = client.get(url).content.decode()
    assert "Next step:" in page
    assert "a prescriber signs off the pre-dose check" in page
    board = client.get(reverse("dosing:board")).content.decode()
    assert "Next: prescriber sign-off" in board
    services.sign_off_predose(prescriber, session)
    page = client.get(url).content.decode()
    assert "a prescriber signs off" not in page
    assert "give the dose" in page


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_an_infusion_shorter_than_the_track_is_flagged() -> None:
    rule = KETAMINE_IV_STANDARD  # 40 min (CLINICAL.md §4)
    assert short_infusion_minutes(rule, T0, T0 + timedelta(minutes=25)) == 25
    assert short_infusion_minutes(rule, T0, T0 + timedelta(minutes=39, seconds=59)) == 39
    assert short_infusion_minutes(rule, T0, T0 + timedelta(minutes=40)) is None
    assert short_infusion_minutes(rule, T0, T0 + timedelta(minutes=55)) is None
    assert short_infusion_minutes(rule, T0, None) is None
    assert short_infusion_minutes(ESKETAMINE_TRD, T0, T0 + timedelta(minutes=5)) is None


def test_observation_time_is_shown_in_whole_minutes() -> None:
    from tests.core.test_safety_discharge import ready_esketamine

    from trellis.core.safety import discharge_readiness

    result = discharge_readiness(ready_esketamine(now=datetime(2026, 3, 2, 9, 0, 44)))
    assert result.to_dict()["details"]["minimum_observation"] == (
        "0 min since first device; needs ≥ 120 min"
    )

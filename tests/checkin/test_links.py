"""Check-in links: unguessable, hashed at rest, expiring, first name only, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from tests.support import Cast

from trellis.audit.models import AuditEvent
from trellis.checkin import services
from trellis.checkin.models import CheckInLink
from trellis.core.errors import InvalidInput, NotAllowed


@pytest.mark.django_db
def test_token_is_long_random_and_only_its_hash_is_stored(cast: Cast) -> None:
    link, token = services.issue_link(cast.patient_a, created_by=cast.nurse_a)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert token not in str(list(CheckInLink.objects.values()))
    assert link.token_hash == services.hash_token(token)
    _, other = services.issue_link(cast.patient_a, created_by=cast.nurse_a)
    assert other != token


@pytest.mark.django_db
def test_page_shows_first_name_only(client: Any, cast: Cast) -> None:
    _, token = services.issue_link(cast.patient_a)
    response = client.get(f"/c/{token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Robin" in body
    assert "Example" not in body  # no family name
    assert "1985" not in body  # no date of birth
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(
        action="view", patient_id=cast.patient_a.pk, actor_username=f"patient:{cast.patient_a.pk}"
    ).exists()


@pytest.mark.django_db
def test_spanish_speaker_gets_spanish_and_can_switch(client: Any, cast: Cast) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save()
    _, token = services.issue_link(cast.patient_a)
    body = client.get(f"/c/{token}/").content.decode()
    assert 'lang="es"' in body
    assert 'lang="en"' in client.get(f"/c/{token}/?lang=en").content.decode()[:200]


@pytest.mark.django_db
def test_unknown_link_404_expired_410(client: Any, cast: Cast) -> None:
    assert client.get("/c/not-a-real-token/").status_code == 404
    _, token = services.issue_link(cast.patient_a, hours=72)
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert client.get(f"/c/{token}/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        response = client.get(f"/c/{token}/")
        assert response.status_code == 410
        assert "expired" in response.content.decode()


@pytest.mark.django_db
def test_revoked_link_is_dead(client: Any, cast: Cast) -> None:
    link, token = services.issue_link(cast.patient_a, created_by=cast.nurse_a)
    services.revoke(cast.nurse_a, link.pk)
    assert client.get(f"/c/{token}/").status_code == 410


@pytest.mark.django_db
def test_issuing_needs_a_clinical_role_and_sane_lifetime(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.issue_link(cast.patient_a, created_by=cast.coordinator_b)
    with pytest.raises(InvalidInput, match="hours"):
        services.issue_link(cast.patient_a, hours=0)

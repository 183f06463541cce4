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


def _normalised(body: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)


@pytest.mark.django_db
def test_unknown_expired_and_revoked_links_get_one_answer(client: Any, cast: Cast) -> None:
    # Issue 14, finding 6: nothing tells a guesser that a link existed, whose program it was or
    # which language its patient speaks.
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save()
    unknown = client.get("/c/not-a-real-token-but-long-enough-to-look-real-00000/")
    assert unknown.status_code == 404
    _, token = services.issue_link(cast.patient_a, hours=72)
    with time_machine.travel(timezone.now() + timedelta(hours=71, minutes=59)):
        assert client.get(f"/c/{token}/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        expired = client.get(f"/c/{token}/")
    link, revoked_token = services.issue_link(cast.patient_a, created_by=cast.nurse_a)
    services.revoke(cast.nurse_a, link.pk)
    revoked = client.get(f"/c/{revoked_token}/")
    bodies = {_normalised(r.content.decode()) for r in (unknown, expired, revoked)}
    assert len(bodies) == 1
    assert {r.status_code for r in (expired, revoked)} == {404}
    body = bodies.pop()
    assert cast.program_a.name not in body
    assert "988" in body
    assert 'lang="en"' in body[:200]  # the page's language is never the patient's


@pytest.mark.django_db
def test_unknown_links_are_throttled_per_client_address(client: Any, cast: Cast) -> None:
    from django.core.cache import cache
    from django.test import Client, override_settings

    cache.clear()
    _, token = services.issue_link(cast.patient_a)
    with override_settings(CHECKIN_FAILURE_LIMIT=3):
        for i in range(3):
            assert client.get(f"/c/guess-{i}/").status_code == 404
        # now even a real link is refused from this address, with the crisis line shown
        refused = client.get(f"/c/{token}/")
        assert refused.status_code == 429
        assert "988" in refused.content.decode()
        other = Client(REMOTE_ADDR="10.0.0.9")
        assert other.get(f"/c/{token}/").status_code == 200
    cache.clear()


@pytest.mark.django_db
def test_tokens_never_reach_logs_or_the_audit_path(
    client: Any, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from trellis.audit.redact import RedactTokensFilter

    _, token = services.issue_link(cast.patient_a)
    handler_filter = RedactTokensFilter()
    caplog.handler.addFilter(handler_filter)
    with caplog.at_level(logging.WARNING):
        client.get(f"/c/{token}/")
        client.get(f"/measures/c/{token}/phq9/nope/")
        client.get("/c/an-unknown-token-that-should-not-be-logged/")
    caplog.handler.removeFilter(handler_filter)
    assert caplog.records, "Django logs the 404s"
    assert token not in caplog.text
    assert "an-unknown-token" not in caplog.text
    assert "/c/[token]/" in caplog.text
    paths = list(AuditEvent.objects.values_list("path", flat=True))
    assert any("/c/[token]/" in p for p in paths)
    assert not any(token in p for p in paths)


def test_logging_configuration_redacts_every_handler() -> None:
    from django.conf import settings

    for handler in settings.LOGGING["handlers"].values():
        assert "redact_tokens" in handler.get("filters", [])


@pytest.mark.django_db
def test_issuing_needs_a_clinical_role_and_sane_lifetime(cast: Cast) -> None:
    with pytest.raises(NotAllowed):
        services.issue_link(cast.patient_a, created_by=cast.coordinator_b)
    with pytest.raises(InvalidInput, match="hours"):
        services.issue_link(cast.patient_a, hours=0)


@pytest.mark.django_db
def test_private_pages_ask_the_birth_year_once_with_988_first(client: Any, cast: Cast) -> None:
    from django.core.cache import cache
    from django.urls import reverse

    cache.clear()
    _, token = services.issue_link(cast.patient_a)
    journal = reverse("integration:patient_journal", args=[token])
    page = client.get(journal).content.decode()
    assert 'name="birth_year"' in page
    assert page.index("988") < page.index('name="birth_year"')  # the crisis line comes first
    wrong = client.post(journal, {"confirm_birth_year": "1", "birth_year": "1990"})
    assert wrong.status_code == 400
    assert "does not match" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="denied", patient_id=cast.patient_a.pk).exists()
    ok = client.post(journal, {"confirm_birth_year": "1", "birth_year": "1985"})
    assert ok.status_code == 302
    # asked once per link: the journal and the safety-plan page open without asking again
    assert 'name="birth_year"' not in client.get(journal).content.decode()
    plan = reverse("integration:patient_safety_plan", args=[token])
    assert 'name="birth_year"' not in client.get(plan).content.decode()
    cache.clear()


@pytest.mark.django_db
def test_birth_year_guesses_are_limited_per_link(client: Any, cast: Cast) -> None:
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    cache.clear()
    _, token = services.issue_link(cast.patient_a)
    journal = reverse("integration:patient_journal", args=[token])
    for year in range(1990, 1995):
        Client().post(journal, {"confirm_birth_year": "1", "birth_year": str(year)})
    # a fresh browser (new cookie) does not buy new guesses; even the right year is refused now
    last = Client().post(journal, {"confirm_birth_year": "1", "birth_year": "1985"})
    assert last.status_code == 400
    assert "too many tries" in last.content.decode()
    assert "988" in last.content.decode()
    cache.clear()

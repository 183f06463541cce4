from __future__ import annotations

from typing import Any

import pytest

from trellis.accounts.models import Membership, Program
from trellis.patients.models import Consent, Patient
from trellis.web.demo import DEMO_SLUG, seed_demo


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_synthetic() -> None:
    seed_demo()
    counts = (Patient.objects.count(), Consent.objects.count(), Membership.objects.count())
    seed_demo()
    assert (Patient.objects.count(), Consent.objects.count(), Membership.objects.count()) == counts
    assert counts[0] >= 30
    assert not Patient.objects.filter(is_synthetic=False).exists()
    assert not Program.objects.filter(is_synthetic=False).exists()
    demo = Program.objects.get(slug=DEMO_SLUG)
    languages = set(
        Patient.objects.filter(program=demo).values_list("preferred_language", flat=True)
    )
    assert {"en", "es"} <= languages


@pytest.mark.django_db
def test_demo_program_shows_banner(client: Any) -> None:
    from django.test import override_settings

    seed_demo()
    with override_settings(REQUIRE_2FA=False):
        client.post("/accounts/login/", {"username": "noah.nurse", "password": "demo-trellis-2026"})
        body = client.get("/patients/").content.decode()
    assert "Synthetic demo data" in body
    assert "synthetic" in body

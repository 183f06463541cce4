"""Sign-in: Argon2 hashes, TOTP enrolment and check, lock-out after failures, idle expiry."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from tests.support import Cast

PASSWORD = "correct horse battery"


def code_for(key: bytes) -> str:
    return f"{TOTP(key).token():06d}"


def test_argon2_is_the_production_hasher() -> None:
    # Tests prepend a fast hasher (settings.TESTING); production uses Argon2 first.
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" in settings.PASSWORD_HASHERS
    with override_settings(PASSWORD_HASHERS=settings.PASSWORD_HASHERS[1:]):
        assert make_password("x").startswith("argon2")


def test_sessions_expire_after_idle_minutes() -> None:
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


@pytest.mark.django_db
def test_first_sign_in_enrols_totp_then_requires_it(client: Any, cast: Cast) -> None:
    response = client.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    assert response["Location"] == reverse("accounts:otp")
    response = client.get(reverse("accounts:otp"))
    assert response["Location"] == reverse("accounts:otp_setup")
    page = client.get(reverse("accounts:otp_setup")).content.decode()
    device = TOTPDevice.objects.get(user=cast.nurse_a, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret in page
    # A wrong code is refused and nothing is confirmed.
    response = client.post(reverse("accounts:otp_setup"), {"token": "000000"})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed is False
    device.throttle_reset()  # django-otp slows retries after a failure; skip the wait
    response = client.post(reverse("accounts:otp_setup"), {"token": code_for(device.bin_key)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get(reverse("patients:list")).status_code == 200


@pytest.mark.django_db
def test_confirmed_device_code_checked(client: Any, cast: Cast) -> None:
    device = TOTPDevice.objects.create(user=cast.nurse_a, name="phone", confirmed=True)
    client.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    response = client.post(reverse("accounts:otp"), {"token": "12345"})
    assert "Enter the 6 digits" in response.content.decode()
    assert client.get(reverse("patients:list")).status_code == 302
    response = client.post(reverse("accounts:otp"), {"token": code_for(device.bin_key)})
    assert response.status_code == 302
    assert client.get(reverse("patients:list")).status_code == 200


@pytest.mark.django_db
@override_settings(REQUIRE_2FA=False)
def test_demo_mode_skips_totp(client: Any, cast: Cast) -> None:
    response = client.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    assert response["Location"] == "/"
    assert client.get(reverse("patients:list")).status_code == 200


@pytest.mark.django_db
def test_lockout_after_repeated_failures(client: Any, cast: Cast) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "nora", "password": "wrong"})
    response = client.post(reverse("accounts:login"), {"username": "nora", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_program_switcher_only_to_own_programs(client: Any, cast: Cast) -> None:
    from trellis.accounts.middleware import SESSION_KEY

    client.force_login(cast.analyst_a)
    client.post(reverse("accounts:switch_program"), {"program": str(cast.program_b.pk)})
    assert client.session.get(SESSION_KEY) is None
    client.post(reverse("accounts:switch_program"), {"program": str(cast.program_a.pk)})
    assert client.session.get(SESSION_KEY) == cast.program_a.pk

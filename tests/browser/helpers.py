"""Helpers for browser tests: viewports and signing in (password, then TOTP) as a demo user.

Usage::

    from tests.browser.helpers import sign_in

    def test_something(page, demo_site):
        sign_in(page, demo_site, "noah.nurse")  # ends on the home page, fully signed in
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlsplit

from trellis.web.demo import DEMO_PASSWORD

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}

LOGIN_PATH = "/accounts/login/"
OTP_PATH = "/accounts/otp/"
OTP_SETUP_PATH = "/accounts/otp/setup/"


def path_of(page: Any) -> str:
    return urlsplit(page.url).path


def code_from_secret(secret: str) -> str:
    """The current six-digit code for a base32 key as shown on the set-up page (no padding)."""
    from django_otp.oath import TOTP

    key = base64.b32decode(secret.strip().upper() + "=" * (-len(secret.strip()) % 8))
    return f"{TOTP(key).token():06d}"


def code_for_user(username: str) -> str:
    """A code the user's confirmed TOTP device will accept now.

    django-otp refuses a code whose time step is not later than the last one used, so a second
    sign-in within the same 30 s uses the next step (inside the device's tolerance), waiting for
    the clock if even that is taken.
    """
    from django_otp.oath import TOTP, hotp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    target = max(totp.t(), device.last_t + 1)
    while target > totp.t() + device.tolerance:
        time.sleep(0.5)
    return f"{hotp(device.bin_key, target, digits=device.digits):0{device.digits}d}"


def _submit(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def sign_in(page: Any, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and, where required, the TOTP step; end on the home page.

    Handles both first sign-in (enrolment at ``/accounts/otp/setup/``: the key shown on the page
    gives the code) and later ones (``/accounts/otp/``: the code comes from the device in the
    database). Fails with the page's error text if the app does not let the user in.
    """
    base_url = base_url.rstrip("/")
    page.goto(base_url + LOGIN_PATH)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    _submit(page, "Sign in")
    if path_of(page) == LOGIN_PATH:
        raise AssertionError(f"sign-in of {username!r} failed: {_error_text(page)}")
    if path_of(page) == OTP_SETUP_PATH:
        secret = page.get_by_test_id("totp-secret").inner_text()
        page.get_by_label("Six-digit code").fill(code_from_secret(secret))
        _submit(page, "Confirm")
    elif path_of(page) == OTP_PATH:
        page.get_by_label("Six-digit code").fill(code_for_user(username))
        _submit(page, "Continue")
    if path_of(page) in (OTP_PATH, OTP_SETUP_PATH):
        raise AssertionError(f"TOTP step for {username!r} failed: {_error_text(page)}")
    if page.url != base_url + "/":
        raise AssertionError(f"sign-in of {username!r} ended on {page.url}, not the home page")
    page.get_by_role("button", name="Sign out").wait_for()


def sign_out(page: Any) -> None:
    _submit(page, "Sign out")


def _error_text(page: Any) -> str:
    summary = page.locator(".error-summary, .errorlist")
    return summary.first.inner_text() if summary.count() else "(no error message shown)"

"""Passwords: validators see the user; numeric-only and repetitive ones are refused; createstaff
does not silently change an existing account (issue 14, finding 7)."""

from __future__ import annotations

from typing import Any

import pytest

from trellis.accounts.models import Membership, Program, User

GOOD = "lantern-meadow-quietly-42"


def authenticate(*, username: str, password: str) -> Any:
    user = User.objects.get(username=username)
    return user if user.check_password(password) else None


@pytest.fixture
def run(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    def go(password: str, *extra: str, username: str = "ada", **kw: str) -> Any:
        monkeypatch.setenv("ADA_PW", password)
        args = [
            "createstaff",
            "--username",
            username,
            "--program",
            "riverbend",
            "--program-name",
            "Riverbend Clinic",
            "--role",
            "admin",
            "--password-env",
            "ADA_PW",
            *extra,
        ]
        return cli(*args)

    return go


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("839201746512", "entirely numeric"),
        ("aaaaaaaaaaaaaaaa", "repeats the same few characters"),
        ("abababababababab", "repeats the same few characters"),
        ("abcabcabcabcabca", "repeats the same few characters"),
        ("adaokafor.example", "too similar"),  # similar to the e-mail the user is created with
        ("short", "too short"),
    ],
)
def test_weak_passwords_are_refused_naming_the_field(run: Any, password: str, why: str) -> None:
    result = run(password, "--email", "adaokafor@example.org")
    assert result.code == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert "password" in result.err
    assert why in result.err
    # nothing changed: no user, and no program created on the way
    assert not User.objects.filter(username="ada").exists()
    assert not Program.objects.filter(slug="riverbend").exists()


@pytest.mark.django_db
def test_existing_user_needs_reset_password(run: Any) -> None:
    assert run(GOOD).code == 0
    again = run("another-fine-passphrase-7", "--role", "nurse")
    assert again.code == 2
    assert "--reset-password" in again.err
    assert again.out == ""
    assert authenticate(username="ada", password=GOOD) is not None
    assert not Membership.objects.filter(user__username="ada", role="nurse").exists()
    reset = run("another-fine-passphrase-7", "--role", "nurse", "--reset-password")
    assert reset.code == 0, reset.err
    assert authenticate(username="ada", password="another-fine-passphrase-7") is not None
    assert Membership.objects.filter(user__username="ada", role="nurse").exists()
    weak_reset = run("1111111111111111", "--reset-password")
    assert weak_reset.code == 2
    assert authenticate(username="ada", password="another-fine-passphrase-7") is not None

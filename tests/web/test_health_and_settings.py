from __future__ import annotations

import os
import subprocess
import sys
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError

CHECK = "import trellis.settings"


@pytest.mark.django_db
def test_healthz_ok(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_503_when_database_down(client: Any) -> None:
    with mock.patch("trellis.web.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"


def _import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    return subprocess.run(
        [sys.executable, "-c", CHECK], env={**clean, **env}, capture_output=True, text=True
    )


def test_default_secret_key_refused_outside_demo_and_debug() -> None:
    result = _import_settings()
    assert result.returncode != 0
    assert "TRELLIS_SECRET_KEY" in result.stderr
    assert _import_settings(TRELLIS_DEMO="1").returncode == 0
    assert _import_settings(TRELLIS_SECRET_KEY="x" * 50).returncode == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRELLIS_DEBUG": "maybe"}, "TRELLIS_DEBUG must be a boolean"),
        ({"TRELLIS_DEMO": "1", "TRELLIS_TIME_ZONE": "Mars/Base"}, "not a known time zone"),
        ({"TRELLIS_DEMO": "1", "TRELLIS_SESSION_IDLE_MINUTES": "0"}, "at least 1"),
        ({"TRELLIS_DEMO": "1", "TRELLIS_DATABASE_URL": "nonsense://x"}, "TRELLIS_DATABASE_URL"),
    ],
)
def test_bad_settings_fail_loudly(env: dict[str, str], message: str) -> None:
    result = _import_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_to_is_translated_by_its_meaning() -> None:
    """'To' is the end of a date range in the audit filter and a recipient in the outbox."""
    from django.utils import translation
    from django.utils.translation import pgettext

    with translation.override("es"):
        assert pgettext("end of a date range", "To") == "Hasta"
        assert pgettext("message recipient", "To") == "Para"


TRANSPORT = (
    "import trellis.settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_PROXY_SSL_HEADER)"
)


def _transport(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRELLIS_")}
    return subprocess.run(
        [sys.executable, "-c", TRANSPORT], env={**clean, **env}, capture_output=True, text=True
    )


def test_transport_security_outside_demo_and_debug() -> None:
    # Issue 14, finding 5: HSTS for a year at least, HTTPS redirect, the proxy's header trusted.
    result = _transport(TRELLIS_SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 3) == [
        "True",
        "31536000",
        "True",
        "('HTTP_X_FORWARDED_PROTO', 'https')\n",
    ]
    longer = _transport(TRELLIS_SECRET_KEY="x" * 50, TRELLIS_HSTS_SECONDS="63072000")
    assert "63072000" in longer.stdout
    shorter = _transport(TRELLIS_SECRET_KEY="x" * 50, TRELLIS_HSTS_SECONDS="3600")
    assert shorter.returncode != 0
    assert "TRELLIS_HSTS_SECONDS must be at least 31536000" in shorter.stderr
    demo = _transport(TRELLIS_DEMO="1")
    assert demo.stdout.split(" ")[:2] == ["False", "0"]


@pytest.mark.django_db
def test_https_redirect_and_hsts_header(client: Any) -> None:
    from django.test import override_settings

    with override_settings(
        SECURE_SSL_REDIRECT=True,
        SECURE_HSTS_SECONDS=31536000,
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
    ):
        plain = client.get("/accounts/login/")
        assert plain.status_code == 301
        assert plain["Location"].startswith("https://")
        assert client.get("/healthz").status_code == 200  # probes may use plain HTTP
        secure = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"].startswith("max-age=31536000")

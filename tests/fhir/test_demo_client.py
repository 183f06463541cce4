"""The demo's example client: registered once, a fresh key each start, printed once."""

from __future__ import annotations

import re
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
from tests.fhir.helpers import token_form
from tests.support import Cast

pytestmark = pytest.mark.django_db


def test_demo_client_key_is_printed_once_and_works(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    from trellis.fhir import demo, services
    from trellis.fhir.models import FhirClient

    ctx = SimpleNamespace(program=cast.program_a, created={})
    demo.seed_fhir_client(ctx)
    demo.seed_fhir_client(ctx)  # a second start: same client, new key
    assert FhirClient.objects.filter(program=cast.program_a).count() == 1
    demo.print_demo_client("http://127.0.0.1:8000")
    out = capsys.readouterr().out
    client_id = re.search(r"client_id:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    pem = re.search(r"-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----", out, re.S)
    assert pem is not None
    demo.print_demo_client("http://127.0.0.1:8000")
    assert "PRIVATE KEY" not in capsys.readouterr().out  # printed once
    aud = "http://127.0.0.1:8000/fhir/token"
    assertion = jwt.encode(
        {
            "iss": client_id,
            "sub": client_id,
            "aud": aud,
            "exp": int(time.time()) + 120,
            "jti": str(uuid.uuid4()),
        },
        pem.group(0),
        algorithm="ES384",
        headers={"kid": "demo-key-1"},
    )
    body = services.issue_token(token_form(assertion), [aud])
    assert body["scope"] == "system/*.read"

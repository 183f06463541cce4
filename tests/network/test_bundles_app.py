"""Admins add other programs' bundles; /network/bundles/ places the program among them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from tests.support import Cast, sign_in

from trellis.analytics.run import write_bundle
from trellis.analytics.synth import synthesise
from trellis.audit.models import AuditEvent
from trellis.network.models import ReceivedBundle

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def partner_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("partners")
    synthesise(folder / "data", programs=2, patients=400, seed=5)
    keys = sorted(
        set(pq.read_table(folder / "data" / "episodes.parquet")["program_key"].to_pylist())
    )
    files = []
    for i, pk in enumerate(keys):
        f = folder / f"partner-{i}.json"
        write_bundle(folder / "data", f, Ed25519PrivateKey.generate(), pk, synthetic=True)
        files.append(f)
    return files


def _upload(client: Any, path: Path, content: bytes | None = None) -> Any:
    data = content if content is not None else path.read_bytes()
    return client.post(
        "/network/bundles/", {"bundle": SimpleUploadedFile(path.name, data, "application/json")}
    )


@override_settings(NETWORK_KEY="an-example-network-key-for-tests")
def test_admin_adds_bundles_and_sees_the_programs_compared(
    client: Any, cast: Cast, partner_files: list[Path]
) -> None:
    admin = sign_in(client, cast.admin_a)
    for f in partner_files:
        assert _upload(admin, f).status_code == 302
    assert ReceivedBundle.objects.filter(program=cast.program_a).count() == 2
    assert _upload(admin, partner_files[0]).status_code == 302  # a newer one replaces
    assert ReceivedBundle.objects.filter(program=cast.program_a).count() == 2
    page = admin.get("/network/bundles/").content.decode()
    assert "Programs compared" in page
    assert "<svg" in page
    assert "cannot be computed from bundles" in page
    assert AuditEvent.objects.filter(object_type="network.receivedbundle").count() == 3


@override_settings(NETWORK_KEY="an-example-network-key-for-tests")
def test_an_altered_or_foreign_file_is_refused_and_nothing_stored(
    client: Any, cast: Cast, partner_files: list[Path]
) -> None:
    admin = sign_in(client, cast.admin_a)
    data = json.loads(partner_files[0].read_text("utf-8"))
    data["tables"]["funnel/network"]["rows"][0][1] += 5
    r = _upload(admin, partner_files[0], json.dumps(data).encode())
    assert r.status_code == 400
    assert "altered" in r.content.decode()
    assert _upload(admin, partner_files[0], b"not json").status_code == 400
    assert _upload(admin, partner_files[0], b'{"schema": "x"}').status_code == 400
    assert not ReceivedBundle.objects.exists()


@override_settings(NETWORK_KEY="an-example-network-key-for-tests")
def test_only_admins_add_and_only_network_roles_see(
    client: Any, cast: Cast, partner_files: list[Path]
) -> None:
    analyst = sign_in(client, cast.analyst_a)
    assert analyst.get("/network/bundles/").status_code == 200
    assert _upload(analyst, partner_files[0]).status_code == 404
    assert not ReceivedBundle.objects.exists()
    nurse = sign_in(client, cast.nurse_a)
    assert nurse.get("/network/bundles/").status_code in {403, 404}

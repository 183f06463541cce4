"""The de-identified export (trellis-network/1) and the /network/ page."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.test import override_settings

from trellis.accounts.models import Program, Site
from trellis.analytics.schema import TABLES
from trellis.audit.models import AuditEvent
from trellis.core.errors import InvalidInput
from trellis.network import services
from trellis.patients.models import Patient
from trellis.web.demo import DEMO_SLUG, seed_demo

KEY = "an-example-network-key-for-tests"


def _values(data: Path) -> list[str]:
    """Every value of every Parquet table, as text."""
    out = []
    for name in TABLES:
        for row in pq.read_table(data / f"{name}.parquet").to_pylist():
            out.extend(str(v) for v in row.values() if v is not None)
    return out


def _identifiers() -> set[str]:
    """Every name, phone, e-mail, street address and birth date in the database."""
    found: set[str] = set()
    for p in Patient.objects.all():
        for v in (p.given_name, p.family_name, p.preferred_name, p.email, p.phone,
                  p.emergency_contact_name, p.emergency_contact_phone, str(p.pk)):  # fmt: skip
            if v:
                found.add(v)
        dob = p.date_of_birth
        found |= {dob.isoformat(), dob.strftime("%m/%d/%Y"), dob.strftime("%Y%m%d")}
    for s in Site.objects.all():
        if s.address:
            found.add(s.address)
    from trellis.integration.models import CommunityResource

    for r in CommunityResource.objects.all():
        if r.address:
            found.add(r.address)
    return {v for v in found if len(v) >= 3}


@pytest.mark.django_db
def test_demo_export_holds_no_identifier(tmp_path: Path) -> None:
    seed_demo()
    out = tmp_path / "export"
    with override_settings(DEMO_MODE=True, NETWORK_KEY=""):
        man = services.export_deidentified(out, DEMO_SLUG)
    assert set(man) == {"schema", "synthetic", "programs", "tables"}
    assert man["schema"] == "trellis-network/1"
    assert man["synthetic"] is True
    assert json.loads((out / "manifest.json").read_text()) == man
    for name, schema in TABLES.items():
        table = pq.read_table(out / f"{name}.parquet")
        assert table.schema.names == schema.names
        assert table.num_rows == man["tables"][name]
    assert man["tables"]["episodes"] > 0
    assert man["tables"]["assessments"] > 0
    values = _values(out)
    identifiers = _identifiers()
    assert len(identifiers) > 50
    leaked = sorted(i for i in identifiers if any(i.lower() in v.lower() for v in values))
    assert leaked == []
    # Safe Harbor shapes: day offsets, top-coded age, three-digit ZIP, money not floats.
    episodes = pq.read_table(out / "episodes.parquet").to_pylist()
    assert all(0 <= e["age"] <= 90 for e in episodes)
    assert all(len(e["zip3"]) == 3 for e in episodes)
    assert str(pq.read_table(out / "charges.parquet").schema.field("gross_usd").type).startswith(
        "decimal"
    )
    doses = pq.read_table(out / "doses.parquet").to_pylist()
    assert min(d["day"] for d in doses) == 0
    assert AuditEvent.objects.filter(action="export", object_type="network.deidentified_export")


@pytest.mark.django_db
def test_export_refuses_without_a_key_outside_demo(tmp_path: Path) -> None:
    with override_settings(DEMO_MODE=False, NETWORK_KEY=""), pytest.raises(InvalidInput) as exc:
        services.export_deidentified(tmp_path / "x")
    assert exc.value.field == "TRELLIS_NETWORK_KEY"
    assert not (tmp_path / "x").exists()


@pytest.mark.django_db
def test_cli_export_bad_program_exits_2(tmp_path: Path, cli: Any) -> None:
    with override_settings(NETWORK_KEY=KEY):
        r = cli("export", "deidentified", "--out", str(tmp_path / "o"), "--program", "nope")
    assert r.code == 2
    assert "--program" in r.err
    assert r.out == ""


def _dose_patient(cast: Any, consent: bool, monkeypatch: pytest.MonkeyPatch) -> Patient:
    """A patient of program A with one course and a first dose given."""
    from datetime import timedelta

    from django.utils import timezone

    from trellis.care import services as care
    from trellis.core.protocols import load_protocol
    from trellis.patients.services import add_consent, register_patient

    p = register_patient(
        cast.admin_a,
        cast.program_a,
        {
            "given_name": "Zed",
            "family_name": "Quinlan",
            "date_of_birth": date(1930, 1, 2),
            "preferred_language": "en",
            "zip_code": "03601",
            "phone": "+15555550199",
        },  # fmt: skip
    )
    if consent:
        add_consent(cast.admin_a, p, kind="research_sharing", given_on=date(2026, 1, 5))
    now = timezone.now()
    ep = care.start_episode(cast.coordinator_a, p, protocol_id="iv-trd",
                            referred_on=(now - timedelta(days=30)).date(),
                            start_date=(now - timedelta(days=29)).date())  # fmt: skip
    answers = {i.id: False for i in load_protocol("iv-trd").screening if i.age_below is None}
    care.record_screening(cast.coordinator_a, ep, answers, at=now - timedelta(days=29))
    monkeypatch.setattr(care, "first_dose_blockers", lambda episode: [])
    for n in (1, 2, 3):
        care.record_event(cast.nurse_a, ep, "preparation_done", at=now - timedelta(days=28 - n),
                          index=n)  # fmt: skip
    care.record_event(cast.nurse_a, ep, "dose_given", at=now - timedelta(days=10), index=1)
    return p


@pytest.mark.django_db
def test_only_consenting_patients_or_qi_programs_leave(
    cast: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _dose_patient(cast, True, monkeypatch)
    _dose_patient(cast, False, monkeypatch)
    with override_settings(NETWORK_KEY=KEY):
        man = services.export_deidentified(tmp_path / "a", cast.program_a.slug)
        assert man["tables"]["episodes"] == 1
        ep = pq.read_table(tmp_path / "a" / "episodes.parquet").to_pylist()[0]
        assert ep["age"] == 90  # born 1930: top-coded
        assert ep["zip3"] == "000"  # restricted three-digit area
        assert len(ep["patient_key"]) == 64
        assert "+15555550199" not in _values(tmp_path / "a")
        services.set_qi_sharing(cast.admin_a, cast.program_a, True)
        man = services.export_deidentified(tmp_path / "b", cast.program_a.slug)
        assert man["tables"]["episodes"] == 2


@pytest.mark.django_db
def test_export_is_admin_only_and_audited(cast: Any, client: Any) -> None:
    from trellis.core.errors import NotAllowed

    with override_settings(NETWORK_KEY=KEY):
        with pytest.raises(NotAllowed):
            services.export_zip(cast.analyst_a, cast.program_a)
        before = AuditEvent.objects.filter(action="export").count()
        data = services.export_zip(cast.admin_a, cast.program_a)
    assert AuditEvent.objects.filter(action="export").count() == before + 1
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {"manifest.json", *(f"{n}.parquet" for n in TABLES)}


@pytest.mark.django_db
def test_network_page_for_analysts_shows_curves_and_own_place(client: Any) -> None:
    seed_demo()
    demo = Program.objects.get(slug=DEMO_SLUG)
    with override_settings(REQUIRE_2FA=False, DEMO_MODE=True, NETWORK_KEY=""):
        client.post(
            "/accounts/login/", {"username": "ana.analyst", "password": "demo-trellis-2026"}
        )
        r = client.get("/network/")
        assert r.status_code == 200
        body = r.content.decode()
        assert "Relapse-free survival" in body
        assert body.count("<svg") >= 3
        assert "Your program" in body
        assert "place" in body  # its rank among the programs
        assert "rates beside the network" in body
        assert "Export this program" not in body  # analysts do not export
        assert client.post("/network/export/").status_code == 403
        assert AuditEvent.objects.filter(object_type="network.report", program=demo).exists()
        client.post("/accounts/logout/")
        client.post("/accounts/login/", {"username": "noah.nurse", "password": "demo-trellis-2026"})
        assert client.get("/network/").status_code == 403
        client.post("/accounts/logout/")
        client.post("/accounts/login/", {"username": "ada.admin", "password": "demo-trellis-2026"})
        r = client.post("/network/export/")
        assert r.status_code == 200
        assert r["Content-Type"] == "application/zip"

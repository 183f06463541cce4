"""`trellis fhir client add` and `trellis fhir import` (exit 2 with one line naming the field)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.fhir.helpers import KeyPair
from tests.support import Cast

pytestmark = pytest.mark.django_db

SCOPES = "system/*.read system/QuestionnaireResponse.write"


def test_client_add_prints_the_client_id(
    cli: Callable[..., Any], cast: Cast, tmp_path: Path
) -> None:
    from trellis.audit.models import AuditEvent
    from trellis.fhir.models import FhirClient

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeyPair("RSA").jwks))
    args = ["fhir", "client", "add", "--program", "prog-a", "--name", "EHR", "--jwks", str(jwks)]
    result = cli(*args, "--scopes", SCOPES)
    assert result.code == 0, result.err
    client = FhirClient.objects.get()
    assert result.out.strip() == client.client_id
    assert client.program == cast.program_a
    assert client.scopes == SCOPES
    assert AuditEvent.objects.filter(object_id=str(client.pk), action="create").exists()
    as_json = cli(*args, "--scopes", "system/Patient.read", "--format", "json")
    assert json.loads(as_json.out)["scopes"] == ["system/Patient.read"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"--program": "nope"}, "--program"),
        ({"--scopes": "patient/*.read"}, "--scopes"),
        ({"--scopes": "system/Patient.launch"}, "--scopes"),
        ({"--name": " "}, "--name"),
        ({"--jwks": "missing.json"}, "--jwks"),
        ({"--jwks": "private"}, "--jwks"),
    ],
)
def test_client_add_refuses_bad_input(
    cli: Callable[..., Any], cast: Cast, tmp_path: Path, change: dict[str, str], field: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    from trellis.fhir.models import FhirClient

    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(KeyPair().jwks))
    private = tmp_path / "private.json"
    private.write_text(
        json.dumps(
            {"keys": [json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1())))]}
        )
    )
    opts = {"--program": "prog-a", "--name": "EHR", "--jwks": str(jwks), "--scopes": SCOPES}
    opts.update(change)
    if opts["--jwks"] == "private":
        opts["--jwks"] = str(private)
    elif opts["--jwks"] == "missing.json":
        opts["--jwks"] = str(tmp_path / "missing.json")
    result = cli("fhir", "client", "add", *[x for kv in opts.items() for x in kv])
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert field in result.err
    assert not FhirClient.objects.exists()


def _synthea_bundle() -> dict[str, Any]:
    pid = "urn:uuid:5cbc121b-cd71-4428-b8b7-31e53eba8184"

    def obs(code: str, value: float, when: str, status: str = "final") -> dict[str, Any]:
        return {
            "fullUrl": f"urn:uuid:obs-{code}-{when[:10]}",
            "resource": {
                "resourceType": "Observation",
                "status": status,
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                "code": "survey",
                            }
                        ]
                    }
                ],
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": {"reference": pid},
                "effectiveDateTime": when,
                "valueQuantity": {"value": value, "unit": "{score}"},
            },
            "request": {"method": "POST", "url": "Observation"},
        }

    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": pid,
                "resource": {
                    "resourceType": "Patient",
                    "id": "5cbc121b-cd71-4428-b8b7-31e53eba8184",
                    "extension": [
                        {
                            "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
                            "extension": [
                                {
                                    "url": "ombCategory",
                                    "valueCoding": {
                                        "system": "urn:oid:2.16.840.1.113883.6.238",
                                        "code": "2054-5",
                                    },
                                },
                                {"url": "text", "valueString": "Black"},
                            ],
                        }
                    ],
                    "name": [{"use": "official", "family": "Lind531", "given": ["Marva730"]}],
                    "telecom": [{"system": "phone", "value": "555-380-8471", "use": "home"}],
                    "gender": "female",
                    "birthDate": "1988-07-14",
                    "address": [{"city": "Boston", "postalCode": "02118"}],
                    "communication": [
                        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es"}]}}
                    ],
                },
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:cond-1",
                "resource": {
                    "resourceType": "Condition",
                    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "370143000"}]},
                    "subject": {"reference": pid},
                },
            },
            {
                "fullUrl": "urn:uuid:enc-1",
                "resource": {
                    "resourceType": "Encounter",
                    "status": "finished",
                    "class": {"code": "AMB"},
                },
            },
            obs("44261-6", 14, "2026-01-05T10:00:00-05:00"),
            obs("70274-6", 9.0, "2026-01-05T10:05:00-05:00"),
            obs("44261-6", 11, "2026-02-05T10:00:00-05:00", status="preliminary"),
            obs("8867-4", 71, "2026-01-05T10:00:00-05:00"),
        ],
    }


def test_import_a_synthea_bundle(cli: Callable[..., Any], cast: Cast, tmp_path: Path) -> None:
    from trellis.measures.services import system_assessments
    from trellis.patients.services import system_patients

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_synthea_bundle()))
    result = cli("fhir", "import", str(path), "--program", "prog-a", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert (report["patients"], report["observations"]) == (1, 2)
    reasons = {s["resource"].split("/")[0]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"Encounter", "Condition", "Observation"}
    assert sum(s["resource"].startswith("Observation") for s in report["skipped"]) == 2
    patient = system_patients(cast.program_a).get(family_name="Lind531")
    assert (patient.preferred_language, patient.race_ethnicity, patient.zip_code) == (
        "es",
        ["black"],
        "02118",
    )
    scores = system_assessments(cast.program_a).filter(patient=patient)
    assert sorted((a.instrument, a.total, a.band) for a in scores) == [
        ("gad7", 9, "mild"),
        ("phq9", 14, "moderate"),
    ]
    # Again: nothing new, the patient is reported as already registered.
    again = json.loads(
        cli("fhir", "import", str(path), "--program", "prog-a", "--format", "json").out
    )
    assert (again["patients"], again["existing_patients"]) == (0, 1)
    assert scores.count() == 2


def test_import_is_all_or_nothing(cli: Callable[..., Any], cast: Cast, tmp_path: Path) -> None:
    from trellis.measures.services import system_assessments
    from trellis.patients.services import system_patients

    bundle = _synthea_bundle()
    broken = copy.deepcopy(bundle)
    broken["entry"][4]["resource"]["valueQuantity"]["value"] = 30  # GAD-7 is 0-21
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(broken))
    before = system_patients(cast.program_a).count()
    result = cli("fhir", "import", str(path), "--program", "prog-a")
    assert result.code == 2
    assert result.out == ""
    assert "entry[4] Observation.valueQuantity" in result.err
    assert system_patients(cast.program_a).count() == before
    assert not system_assessments(cast.program_a).exists()
    invalid = copy.deepcopy(bundle)
    invalid["entry"][0]["resource"]["gender"] = "robot"
    path.write_text(json.dumps(invalid))
    result = cli("fhir", "import", str(path), "--program", "prog-a")
    assert result.code == 2
    assert "entry[0] Patient.gender" in result.err


def test_import_text_report_counts_skips(
    cli: Callable[..., Any], cast: Cast, tmp_path: Path
) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_synthea_bundle()))
    result = cli("fhir", "import", str(path), "--program", "prog-a")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "imported 1 patients (0 already registered), 2 scores into prog-a"
    assert (
        "skipped 1 Encounter: Encounter is not imported (Patients, Conditions, scores only)"
        in lines
    )
    assert any("suicide item could not be checked" in line for line in lines)

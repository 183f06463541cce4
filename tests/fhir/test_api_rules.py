"""FHIR API rules checked through Django's test client (fast): errors as OperationOutcome,
search parameters and paging, scopes, the export status while queued, the write's audit row."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from tests.fhir.helpers import KeyPair, assert_valid, phq9_response, token_form
from tests.support import Cast

pytestmark = pytest.mark.django_db

AUD = "http://testserver/fhir/token"


@pytest.fixture
def api(client: Client, cast: Cast) -> dict[str, Any]:
    from trellis.fhir.services import register_client
    from trellis.measures.services import record_system_answers

    key = KeyPair()
    fc = register_client(
        None,
        cast.program_a,
        name="EHR",
        scopes="system/Patient.read system/Observation.read system/QuestionnaireResponse.*",
        jwks=key.jwks,
        system=True,
    )
    for n in range(3):
        record_system_answers(
            cast.patient_a, "gad7", {str(i): n for i in range(1, 8)}, key=f"k{n}", audit_actor="t"
        )

    def token(scope: str = "system/Patient.read system/Observation.read") -> str:
        resp = client.post(AUD, token_form(key.assertion(fc.client_id, AUD), scope))
        assert resp.status_code == 200, resp.content
        return f"Bearer {resp.json()['access_token']}"

    return {"client": fc, "token": token, "key": key}


def get(client: Client, url: str, auth: str) -> Any:
    return client.get(url, HTTP_AUTHORIZATION=auth)


def test_errors_are_operation_outcomes(client: Client, api: dict[str, Any]) -> None:
    auth = api["token"]()
    cases = [
        ("/fhir/Basic", 404),
        ("/fhir/Patient/not-a-uuid", 404),
        ("/fhir/Patient?foo=bar", 400),
        ("/fhir/Patient?_count=x", 400),
        ("/fhir/Observation?date=yesterday", 400),
        ("/fhir/Encounter", 403),  # not in the token's scopes
    ]
    for url, status in cases:
        resp = get(client, url, auth)
        assert resp.status_code == status, url
        assert resp["Content-Type"].startswith("application/fhir+json")
        assert_valid(resp.json())
        assert resp.json()["resourceType"] == "OperationOutcome"
    resp = client.delete("/fhir/Patient", HTTP_AUTHORIZATION=auth)
    assert resp.status_code == 405


def test_paging_and_last_updated(client: Client, api: dict[str, Any], cast: Cast) -> None:
    auth = api["token"]()
    first = get(client, f"/fhir/Observation?patient={cast.patient_a.pk}&_count=2", auth).json()
    assert first["total"] == 3
    assert len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    second = get(client, links["next"].removeprefix("http://testserver"), auth).json()
    assert len(second["entry"]) == 1
    assert {link["relation"] for link in second["link"]} == {"self", "previous"}
    ids = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert len(set(ids)) == 3
    assert get(client, "/fhir/Observation?_lastUpdated=gt2099-01-01", auth).json()["total"] == 0
    assert get(client, "/fhir/Observation?_lastUpdated=ge2000-01-01", auth).json()["total"] == 3
    gad = get(client, "/fhir/Observation?code=http://loinc.org|70274-6", auth).json()
    assert gad["total"] == 3
    assert get(client, "/fhir/Observation?code=http://other|70274-6", auth).json()["total"] == 0
    assert get(client, "/fhir/Observation?category=vital-signs", auth).json()["total"] == 0


def test_write_audit_names_the_client(client: Client, api: dict[str, Any], cast: Cast) -> None:
    from trellis.audit.models import AuditEvent

    auth = api["token"]("system/QuestionnaireResponse.write")
    body = phq9_response(str(cast.patient_a.pk), [0] * 9, identifier={"value": "ext-1"})
    resp = client.post(
        "/fhir/QuestionnaireResponse",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=auth,
    )
    assert resp.status_code == 201
    assert resp["Location"].endswith(f"/QuestionnaireResponse/{resp.json()['id']}")
    event = AuditEvent.objects.get(
        action="create", object_type="measures.assessment", object_id=resp.json()["id"]
    )
    assert event.actor_username == api["client"].audit_name
    # The same identifier again: the first response, nothing new.
    again = client.post(
        "/fhir/QuestionnaireResponse",
        json.dumps(body),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=auth,
    )
    assert again.json()["id"] == resp.json()["id"]
    # Unknown linkId and wrong questionnaire name the element.
    bad = phq9_response(str(cast.patient_a.pk), [0] * 9)
    bad["item"][0]["linkId"] = "99"
    resp = client.post(
        "/fhir/QuestionnaireResponse",
        json.dumps(bad),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=auth,
    )
    assert resp.status_code == 422
    assert "99" in resp.json()["issue"][0]["diagnostics"]
    bad = phq9_response(str(cast.patient_a.pk), [0] * 9, questionnaire="Questionnaire/madrs")
    resp = client.post(
        "/fhir/QuestionnaireResponse",
        json.dumps(bad),
        content_type="application/fhir+json",
        HTTP_AUTHORIZATION=auth,
    )
    assert resp.status_code == 422
    assert resp.json()["issue"][0]["expression"] == ["QuestionnaireResponse.questionnaire"]


def test_export_status_while_queued(client: Client, api: dict[str, Any]) -> None:
    from trellis.fhir import bulk, services

    auth = api["token"]()
    caller = services.caller_for(auth.split()[1])
    assert caller is not None
    job = services.create_job(
        caller,
        level="patient",
        types=["Patient"],
        since=None,
        request_url="http://testserver/fhir/Patient/$export",
    )
    status = get(client, f"/fhir/bulk-status/{job.pk}", auth)
    assert status.status_code == 202
    assert status["X-Progress"] == "queued"
    bulk.run_export(str(job.pk))
    manifest = get(client, f"/fhir/bulk-status/{job.pk}", auth).json()
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    # A type outside the token's scopes cannot be exported.
    resp = client.get(
        "/fhir/$export?_type=Encounter", HTTP_AUTHORIZATION=auth, HTTP_PREFER="respond-async"
    )
    assert resp.status_code == 403
    resp = client.get(
        "/fhir/$export?_type=Nope", HTTP_AUTHORIZATION=auth, HTTP_PREFER="respond-async"
    )
    assert resp.status_code == 400


def test_scopes_rules() -> None:
    from trellis.fhir import scopes

    assert scopes.allows("system/*.read", "Patient", "read")
    assert not scopes.allows("system/*.read", "Patient", "write")
    assert scopes.allows("system/Patient.rs", "Patient", "read")
    assert scopes.allows("system/QuestionnaireResponse.cu", "QuestionnaireResponse", "write")
    assert scopes.covered("system/Patient.read", "system/*.read") == []
    assert scopes.covered("system/*.read", "system/Patient.read") == ["system/*.read"]
    assert scopes.covered("system/Patient.write", "system/*.read") == ["system/Patient.write"]


@pytest.mark.django_db(transaction=True)
def test_export_runs_in_the_worker(cast: Cast) -> None:
    from django.test import override_settings
    from django_tasks_db.models import DBTaskResult

    from trellis.fhir import bulk, services
    from trellis.fhir.models import BulkJob
    from trellis.notify import worker

    fc = services.register_client(
        None, cast.program_a, name="EHR", scopes="system/*.read", jwks=KeyPair().jwks, system=True
    )
    caller = services.Caller(client=fc, program=cast.program_a, scopes="system/*.read")
    db_backend = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with override_settings(TASKS=db_backend):
        job = services.create_job(
            caller,
            level="group",
            types=["Patient"],
            since=None,
            request_url="http://x/fhir/$export",
        )
        bulk.enqueue(job)
        assert DBTaskResult.objects.count() == 1
        assert services.job_status(job) == BulkJob.Status.QUEUED
        worker.drain_tasks()
        assert services.job_status(job) == BulkJob.Status.DONE
        (f,) = services.job_files(job)
        lines = f.content.splitlines()
        assert len(lines) == 1
        assert_valid(json.loads(lines[0]))
        assert json.loads(lines[0])["id"] == str(cast.patient_a.pk)

"""The FHIR API against the real server (pytest-django's live server) with a real FHIR client
(fhirpy): SMART Backend Services token, search, paging, read, the QuestionnaireResponse write,
Bulk Data export, and nothing of another program for any resource type."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError, ResourceNotFound
from fhirpy.base.exceptions import OperationOutcome as FhirOutcome
from tests.fhir.helpers import KeyPair, assert_valid, phq9_response, token_form

pytestmark = pytest.mark.django_db(transaction=True)

SERVED = [
    "Patient",
    "Practitioner",
    "Organization",
    "Condition",
    "CarePlan",
    "Appointment",
    "Encounter",
    "Observation",
    "Questionnaire",
    "QuestionnaireResponse",
    "MedicationAdministration",
    "Consent",
]


def _setup(url: str, seed: bool) -> dict[str, Any]:
    from trellis.accounts.models import Program
    from trellis.fhir.services import register_client
    from trellis.web.demo import DEMO_SLUG, OTHER_SLUG, seed_demo

    if seed:
        seed_demo(patient_count=8)
    else:
        Program.objects.create(slug=DEMO_SLUG, name="A (synthetic)", is_synthetic=True)
        Program.objects.create(slug=OTHER_SLUG, name="B (synthetic)", is_synthetic=True)
    keys = {"a": KeyPair("EC", "a1"), "b": KeyPair("RSA", "b1")}
    clients = {}
    for name, slug in (("a", DEMO_SLUG), ("b", OTHER_SLUG)):
        program = Program.objects.get(slug=slug)
        clients[name] = register_client(
            None,
            program,
            name=f"EHR {name}",
            scopes="system/*.read system/QuestionnaireResponse.write",
            jwks=keys[name].jwks,
            system=True,
        )
    return {"url": url, "keys": keys, "clients": clients}


@pytest.fixture
def bare(live_server: Any) -> dict[str, Any]:
    """Two programs without patients, one client each (for the token checks)."""
    return _setup(live_server.url, seed=False)


@pytest.fixture
def demo(live_server: Any) -> dict[str, Any]:
    """The synthetic demo (two programs, every kind of record) and one client per program."""
    return _setup(live_server.url, seed=True)


def get_token(demo: dict[str, Any], who: str, scope: str = "system/*.read", **over: Any) -> Any:
    client = demo["clients"][who]
    url = f"{demo['url']}/fhir/token"
    assertion = demo["keys"][who].assertion(client.client_id, over.pop("aud", url), **over)
    aud = url
    return requests.post(aud, data=token_form(assertion, scope), timeout=10)


def fhir(demo: dict[str, Any], who: str, scope: str = "system/*.read") -> SyncFHIRClient:
    resp = get_token(demo, who, scope)
    assert resp.status_code == 200, resp.text
    return SyncFHIRClient(
        f"{demo['url']}/fhir", authorization=f"Bearer {resp.json()['access_token']}"
    )


def all_of(client: SyncFHIRClient, rtype: str, **params: Any) -> list[dict[str, Any]]:
    out = []
    for res in client.resources(rtype).search(**params).limit(200).fetch_all():
        data = res.serialize()
        assert_valid(data)
        out.append(data)
    return out


def test_metadata_and_smart_configuration(bare: dict[str, Any]) -> None:
    demo = bare
    meta = requests.get(f"{demo['url']}/fhir/metadata", timeout=10)
    assert meta.status_code == 200
    assert meta.headers["Content-Type"].startswith("application/fhir+json")
    cap = meta.json()
    assert_valid(cap)
    assert cap["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in cap["rest"][0]["resource"]}
    assert sorted(served) == sorted([*SERVED, "Group"])
    assert "interaction" not in served["Group"]
    assert {p["name"] for p in served["Observation"]["searchParam"]} >= {
        "patient",
        "code",
        "category",
        "date",
        "_lastUpdated",
    }
    smart = requests.get(f"{demo['url']}/fhir/.well-known/smart-configuration", timeout=10).json()
    assert smart["token_endpoint"] == f"{demo['url']}/fhir/token"
    assert smart["grant_types_supported"] == ["client_credentials"]
    assert smart["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert "system/*.read" in smart["scopes_supported"]


def test_token_refusals(bare: dict[str, Any]) -> None:
    demo = bare
    from trellis.fhir.models import AccessToken

    client = demo["clients"]["a"]
    aud = f"{demo['url']}/fhir/token"
    key = demo["keys"]["a"]
    # Replay: the same assertion (same jti) a second time.
    assertion = key.assertion(client.client_id, aud)
    assert requests.post(aud, data=token_form(assertion), timeout=10).status_code == 200
    replay = requests.post(aud, data=token_form(assertion), timeout=10)
    assert replay.status_code == 401
    assert replay.json()["error"] == "invalid_client"
    assert "jti" in replay.json()["error_description"]
    # Expired, wrong audience, too long-lived, signed by another key, scope not allowed.
    expired = get_token(demo, "a", exp=1_000_000_000)
    assert (expired.status_code, expired.json()["error"]) == (401, "invalid_client")
    wrong_aud = get_token(demo, "a", aud="https://elsewhere.example/token")
    assert (wrong_aud.status_code, wrong_aud.json()["error"]) == (401, "invalid_client")
    import time

    too_long = get_token(demo, "a", exp=int(time.time()) + 3600)
    assert too_long.status_code == 401
    forged = demo["keys"]["b"].assertion(client.client_id, aud)
    bad_sig = requests.post(aud, data=token_form(forged), timeout=10)
    assert bad_sig.status_code == 401
    scope = get_token(demo, "a", scope="system/Patient.write")
    assert (scope.status_code, scope.json()["error"]) == (400, "invalid_scope")
    grant = requests.post(
        aud, data={**token_form(key.assertion(client.client_id, aud)), "grant_type": "password"}
    )
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    # Only the one good request made a token.
    assert AccessToken.objects.count() == 1
    # No token, or a made-up one: 401 OperationOutcome.
    resp = requests.get(f"{demo['url']}/fhir/Patient", timeout=10)
    assert resp.status_code == 401
    assert resp.json()["resourceType"] == "OperationOutcome"
    resp = requests.get(
        f"{demo['url']}/fhir/Patient", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert resp.status_code == 401


def test_expired_access_token_is_refused(bare: dict[str, Any]) -> None:
    demo = bare
    import datetime as dt

    import time_machine

    token = get_token(demo, "a").json()["access_token"]
    url = f"{demo['url']}/fhir/Patient?_count=1"
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6), tick=True):
        assert requests.get(url, headers=headers, timeout=10).status_code == 401


def check_search_page_read_with_fhirpy(demo: dict[str, Any]) -> None:
    from trellis.audit.models import AuditEvent

    client = fhir(demo, "a")
    patients = all_of(client, "Patient")
    assert len(patients) == 8
    first = patients[0]
    assert first["meta"]["tag"][0]["code"] == "synthetic"
    # Paging: two at a time, following Bundle.link next.
    page = client.resources("Patient").limit(2).fetch_raw()
    assert len(page.entry) == 2
    assert page.total == 8
    assert any(link.relation == "next" for link in page.link)
    # Search by name, birthdate and identifier.
    name = first["name"][0]["family"]
    by_name = all_of(client, "Patient", name=name)
    assert first["id"] in {p["id"] for p in by_name}
    assert (
        all_of(client, "Patient", birthdate=first["birthDate"], identifier=first["id"])[0]["id"]
        == first["id"]
    )
    # Read.
    read = client.reference("Patient", first["id"]).to_resource().serialize()
    assert read["id"] == first["id"]
    # Observations of a patient: PHQ-9 totals by LOINC, vital signs by category, date range.
    obs = all_of(client, "Observation", code="http://loinc.org|44261-6")
    assert obs
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in obs)
    pid = obs[0]["subject"]["reference"].split("/")[1]
    mine = all_of(client, "Observation", patient=pid, code="44261-6")
    assert {o["subject"]["reference"] for o in mine} == {f"Patient/{pid}"}
    when = mine[0]["effectiveDateTime"][:10]
    ranged = client.resources("Observation").search(patient=pid, code="44261-6")
    ranged = ranged.search(date__ge=when, date__le=when).fetch_all()
    assert mine[0]["id"] in {o.id for o in ranged}
    vitals = all_of(client, "Observation", category="vital-signs")
    codes = {o["code"]["coding"][0]["code"] for o in vitals}
    assert {"85354-9", "8867-4", "59408-5"} <= codes
    questionnaires = all_of(client, "Questionnaire")
    assert {"phq9", "gad7"} <= {q["id"] for q in questionnaires}
    responses = all_of(client, "QuestionnaireResponse", patient=pid)
    assert responses
    # Audit rows name the client.
    events = AuditEvent.objects.filter(actor_username=demo["clients"]["a"].audit_name)
    assert events.filter(object_type="fhir.Patient", patient_id=first["id"]).exists()
    assert events.filter(object_type="fhir.Observation", patient_id=pid).exists()


def check_every_type_served_and_isolated(demo: dict[str, Any]) -> None:
    a = fhir(demo, "a")
    b = fhir(demo, "b")
    token_b = b.authorization
    for rtype in SERVED:
        of_a = all_of(a, rtype)
        of_b = all_of(b, rtype)
        assert of_a, f"the demo has no {rtype}"
        if rtype == "Questionnaire":
            continue  # shared reference data: the same questionnaires for everyone
        ids_b = {r["id"] for r in of_b}
        assert not ids_b & {r["id"] for r in of_a}, rtype
        for res in of_a[:5]:
            resp = requests.get(
                f"{demo['url']}/fhir/{rtype}/{res['id']}",
                headers={"Authorization": token_b},
                timeout=10,
            )
            assert resp.status_code == 404, (rtype, res["id"])
            assert resp.json()["resourceType"] == "OperationOutcome"
            with pytest.raises(ResourceNotFound):
                b.reference(rtype, res["id"]).to_resource()
    # Searching B with A's patient finds nothing, for every patient-linked type.
    pid = all_of(a, "Patient")[0]["id"]
    for rtype in ("Observation", "Encounter", "CarePlan", "Appointment", "Condition", "Consent"):
        assert all_of(b, rtype, patient=pid) == [], rtype


def check_questionnaire_response_write(demo: dict[str, Any]) -> None:
    from trellis.alerts.models import Alert
    from trellis.measures.models import Assessment

    client = fhir(demo, "a", "system/*.read system/QuestionnaireResponse.write")
    pid = all_of(client, "Patient")[3]["id"]
    before = Assessment.objects.count()
    alerts = Alert.objects.filter(kind="suicide_risk").count()
    qr = client.resource("QuestionnaireResponse", **phq9_response(pid, [1, 1, 2, 1, 0, 1, 0, 0, 1]))
    qr.save()
    assert qr.id
    assert_valid(qr.serialize())
    assert Assessment.objects.count() == before + 1
    made = Assessment.objects.get(pk=int(qr.id))
    assert (made.instrument, made.total, made.patient_id.hex) == ("phq9", 7, pid.replace("-", ""))
    # The same alert as a phone check-in: item 9 >= 1.
    assert Alert.objects.filter(kind="suicide_risk").count() == alerts + 1
    obs = client.reference("Observation", f"score-{made.pk}").to_resource().serialize()
    assert obs["valueQuantity"]["value"] == 7
    assert obs["derivedFrom"][0]["reference"] == f"QuestionnaireResponse/{qr.id}"
    # Invalid: an answer out of range names the item; nothing stored.
    bad = phq9_response(pid, [1, 1, 5, 1, 0, 1, 0, 0, 0])
    resp = requests.post(
        f"{demo['url']}/fhir/QuestionnaireResponse",
        data=json.dumps(bad),
        headers={"Authorization": client.authorization, "Content-Type": "application/fhir+json"},
        timeout=10,
    )
    assert resp.status_code == 422
    issue = resp.json()["issue"][0]
    assert "item 3" in issue["diagnostics"]
    assert issue["expression"] == ["QuestionnaireResponse.item.where(linkId='3')"]
    missing = phq9_response(pid, [1, 1, 1, 1, 0, 1, 0, 0])
    with pytest.raises(FhirOutcome):
        client.resource("QuestionnaireResponse", **missing).save()
    other = all_of(fhir(demo, "b"), "Patient")[0]["id"]
    with pytest.raises(FhirOutcome):
        client.resource("QuestionnaireResponse", **phq9_response(other, [0] * 9)).save()
    assert Assessment.objects.count() == before + 1
    assert Alert.objects.filter(kind="suicide_risk").count() == alerts + 1
    # A read-only token may not write.
    reader = fhir(demo, "a")
    with pytest.raises(ForbiddenError):
        reader.resource("QuestionnaireResponse", **phq9_response(pid, [0] * 9)).save()


def check_bulk_export(demo: dict[str, Any]) -> None:
    token = get_token(demo, "a").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Prefer": "respond-async"}
    no_prefer = requests.get(
        f"{demo['url']}/fhir/$export", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert no_prefer.status_code == 400
    kick = requests.get(
        f"{demo['url']}/fhir/Patient/$export?_type=Patient,Observation",
        headers=headers,
        timeout=30,
    )
    assert kick.status_code == 202
    status_url = kick.headers["Content-Location"]
    done = requests.get(status_url, headers=headers, timeout=10)
    assert done.status_code == 200
    manifest = done.json()
    assert manifest["requiresAccessToken"] is True
    assert manifest["request"].endswith("_type=Patient,Observation")
    assert {o["type"] for o in manifest["output"]} == {"Patient", "Observation"}
    assert manifest["error"] == []
    assert manifest["transactionTime"]
    for out in manifest["output"]:
        assert requests.get(out["url"], timeout=10).status_code == 401
        body = requests.get(out["url"], headers=headers, timeout=10)
        assert body.headers["Content-Type"].startswith("application/fhir+ndjson")
        lines = body.text.strip().splitlines()
        assert len(lines) == out["count"]
        for line in lines:
            res = json.loads(line)
            assert res["resourceType"] == out["type"]
            assert_valid(res)
    # Another program's client cannot see the job or its files.
    token_b = get_token(demo, "b").json()["access_token"]
    other = {"Authorization": f"Bearer {token_b}"}
    assert requests.get(status_url, headers=other, timeout=10).status_code == 404
    assert requests.get(manifest["output"][0]["url"], headers=other, timeout=10).status_code == 404
    # _since in the future: nothing changed since then.
    later = requests.get(
        f"{demo['url']}/fhir/$export?_type=Patient&_since=2099-01-01", headers=headers, timeout=30
    )
    assert requests.get(later.headers["Content-Location"], headers=headers).json()["output"] == []
    # Group export of another program: 404; cancel answers 202 and the job is gone.
    assert (
        requests.get(
            f"{demo['url']}/fhir/Group/lakeside-demo/$export", headers=headers, timeout=10
        ).status_code
        == 404
    )
    assert requests.delete(status_url, headers=headers, timeout=10).status_code == 202
    assert requests.get(status_url, headers=headers, timeout=10).status_code == 404


def test_the_api_on_the_demo(demo: dict[str, Any]) -> None:
    """One seeded demo (seeding is the slow part), each behaviour checked in its own step."""
    check_search_page_read_with_fhirpy(demo)
    check_every_type_served_and_isolated(demo)
    check_questionnaire_response_write(demo)
    check_bulk_export(demo)

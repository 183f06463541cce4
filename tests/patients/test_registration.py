"""Registering a patient: a specific error beside each bad field, and nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.audit.models import AuditEvent
from trellis.patients.models import Consent, Patient

GOOD = {
    "given_name": "Kai",
    "family_name": "Synthetic",
    "date_of_birth": "1990-06-01",
    "preferred_language": "es",
    "interpreter_needed": "on",
    "race_ethnicity": ["hispanic", "black"],
    "phone": "(555) 201-0134",
    "zip_code": "60623",
    "household_size": "3",
    "annual_income": "31000",
    "payer": "medicaid",
    "emergency_contact_name": "Lee Synthetic",
    "emergency_contact_phone": "555 201 0199",
    "emergency_contact_relationship": "sibling",
}


@pytest.mark.django_db
def test_register_patient(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    response = client.post(reverse("patients:register"), GOOD)
    assert response.status_code == 302
    patient = Patient.objects.get(given_name="Kai")
    assert patient.program == cast.program_a
    assert patient.phone == "+15552010134"
    assert patient.race_ethnicity == ["hispanic", "black"]
    assert patient.is_synthetic  # program A is a synthetic program
    assert AuditEvent.objects.filter(action="create", patient_id=patient.pk).count() == 1


BAD_CASES = [
    ("date_of_birth", "2999-01-01", "cannot be in the future"),
    ("date_of_birth", "1850-01-01", "over 120"),
    ("zip_code", "6062", "5 digits"),
    ("phone", "555-0134", "10 digits"),
    ("phone", "call me", "digits only"),
    ("household_size", "0", "from 1 to 20"),
    ("annual_income", "-5", "cannot be negative"),
    ("race_ethnicity", ["prefer_not", "white"], "cannot be combined"),
    ("given_name", "", "required"),
    ("family_name", "R2D2", "cannot contain digits"),
    ("preferred_language", "xx", "not one of the available choices"),
    ("email", "not-an-email", "valid email"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), BAD_CASES)
def test_bad_input_names_the_field_and_saves_nothing(
    client: Any, cast: Cast, field: str, value: Any, message: str
) -> None:
    sign_in(client, cast.coordinator_a)
    patients, events = Patient.objects.count(), AuditEvent.objects.count()
    response = client.post(reverse("patients:register"), {**GOOD, field: value})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_{field}_errors"' in body
    assert message.lower() in body.lower()
    assert Patient.objects.count() == patients
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_emergency_contact_needs_name_and_phone(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    data = {**GOOD, "emergency_contact_phone": ""}
    body = client.post(reverse("patients:register"), data).content.decode()
    assert 'id="id_emergency_contact_phone_errors"' in body


@pytest.mark.django_db
def test_therapist_cannot_register(client: Any, cast: Cast) -> None:
    sign_in(client, cast.therapist_a)
    assert client.post(reverse("patients:register"), GOOD).status_code == 404
    assert not Patient.objects.filter(given_name="Kai").exists()


@pytest.mark.django_db
def test_edit_records_changed_fields(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("patients:edit", args=[cast.patient_a.pk])
    data = {**GOOD, "given_name": "Robin", "family_name": "Example", "zip_code": "62901"}
    assert client.post(url, data).status_code == 302
    cast.patient_a.refresh_from_db()
    assert cast.patient_a.zip_code == "62901"
    event = AuditEvent.objects.filter(action="update").first()
    assert event is not None
    assert "zip_code" in event.detail["fields"]
    assert "given_name" not in event.detail["fields"]


@pytest.mark.django_db
def test_consent_recorded_and_withdrawn(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    url = reverse("patients:add_consent", args=[cast.patient_a.pk])
    response = client.post(url, {"kind": "part2", "scope": "AUD records", "given_on": "2026-01-05"})
    assert response.status_code == 302
    consent = Consent.objects.get(patient=cast.patient_a, kind="part2")
    assert consent.recorded_by == cast.nurse_a
    assert consent.active
    bad = client.post(url, {"kind": "part2", "given_on": "2999-01-01"})
    assert bad.status_code == 400
    assert Consent.objects.filter(patient=cast.patient_a).count() == 1
    withdraw = reverse("patients:withdraw_consent", args=[cast.patient_a.pk, consent.pk])
    # One click no longer withdraws: the chart links to a confirm page that asks why.
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert f'href="{withdraw}"' in chart
    confirm = client.get(withdraw)
    assert confirm.status_code == 200
    assert "Confirm: withdraw this consent" in confirm.content.decode()
    consent.refresh_from_db()
    assert consent.active
    today = timezone.localdate().isoformat()
    no_reason = client.post(withdraw, {"withdrawn_on": today, "reason": " "})
    assert no_reason.status_code == 400
    assert "Reason the patient gave" in no_reason.content.decode()
    consent.refresh_from_db()
    assert consent.active
    done = client.post(withdraw, {"withdrawn_on": today, "reason": "No longer wants sharing"})
    assert done.status_code == 302
    consent.refresh_from_db()
    assert not consent.active
    assert consent.withdrawal_reason == "No longer wants sharing"
    assert consent.withdrawn_by == cast.nurse_a
    event = AuditEvent.objects.filter(action="update", object_id=str(consent.pk)).get()
    assert event.detail["reason"] == "No longer wants sharing"
    again = client.post(withdraw, {"withdrawn_on": today, "reason": "twice over"})
    assert again.status_code == 409


@pytest.mark.django_db
def test_consent_of_another_patient_cannot_be_withdrawn_through_this_one(
    client: Any, cast: Cast
) -> None:
    from trellis.patients.services import add_consent, register_patient

    other = register_patient(cast.admin_a, cast.program_a, {**_minimal(), "given_name": "Zed"})
    consent = add_consent(cast.admin_a, other, kind="treatment", given_on=other.date_of_birth)
    sign_in(client, cast.nurse_a)
    url = reverse("patients:withdraw_consent", args=[cast.patient_a.pk, consent.pk])
    assert client.post(url).status_code == 404
    consent.refresh_from_db()
    assert consent.active


def _minimal() -> dict[str, Any]:
    from datetime import date

    return {"given_name": "X", "family_name": "Synthetic", "date_of_birth": date(1970, 1, 1)}

"""Test support: the named cast (STYLE.md habit 6) and sign-in helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils import timezone

# --- the named cast (STYLE.md habit 6) ------------------------------------------------------
# Program A (Riverbend) and program B (Lakeside). Nora the nurse, Theo the therapist, Ada the
# admin and Cole the coordinator work in A; Bea coordinates B and must get 404 for A's patients;
# Pete is A's peer facilitator and Ann A's analyst: neither may open a chart.


@dataclass
class Cast:
    program_a: Any
    program_b: Any
    nurse_a: Any
    therapist_a: Any
    admin_a: Any
    coordinator_a: Any
    coordinator_b: Any
    peer_a: Any
    analyst_a: Any
    patient_a: Any
    patient_b: Any


PATIENT_DATA = {
    "given_name": "Robin",
    "family_name": "Example",
    "date_of_birth": date(1985, 4, 12),
    "preferred_language": "en",
    "phone": "+15555550123",
}


def make_cast() -> Cast:
    from trellis.accounts.models import Program, Role
    from trellis.accounts.services import create_staff
    from trellis.patients.services import register_patient

    a = Program.objects.create(slug="prog-a", name="Program A (synthetic)", is_synthetic=True)
    b = Program.objects.create(slug="prog-b", name="Program B (synthetic)", is_synthetic=True)

    def staff(name: str, program: Any, *roles: str) -> Any:
        return create_staff(
            username=name, password="correct horse battery", program=program, roles=roles
        )

    admin_a = staff("ada", a, Role.ADMIN)
    coordinator_b = staff("bea", b, Role.COORDINATOR)
    return Cast(
        program_a=a,
        program_b=b,
        nurse_a=staff("nora", a, Role.NURSE),
        therapist_a=staff("theo", a, Role.THERAPIST),
        admin_a=admin_a,
        coordinator_a=staff("cole", a, Role.COORDINATOR),
        coordinator_b=coordinator_b,
        peer_a=staff("pete", a, Role.PEER_FACILITATOR),
        analyst_a=staff("ann", a, Role.ANALYST),
        patient_a=register_patient(admin_a, a, dict(PATIENT_DATA)),
        patient_b=register_patient(
            coordinator_b, b, {**PATIENT_DATA, "given_name": "Sam", "family_name": "Other"}
        ),
    )


def sign_in(client: Any, user: Any) -> Any:
    """Sign ``user`` in on the Django test client, second factor included."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def today() -> date:
    """The clinic's date when the test runs (a module-level constant would go stale in a run
    that crosses midnight in the clinic's time zone)."""
    return timezone.localdate()

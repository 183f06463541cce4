"""Patients who share a name are told apart wherever staff see them (issue 13 §4).

Every staff template names a patient through the ``patient_name`` filter (full name and date of
birth, ``Patient.staff_label``); a template that prints ``full_name`` on its own fails the guard.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.support import sign_in

import trellis

TEMPLATES = Path(trellis.__file__).parent
# Names a peer-circle row carries, already made by the service from ``Patient.staff_label``.
ALLOWED = {("peers/templates/peers/circle.html", "r.full_name")}


def test_no_staff_template_names_a_patient_without_the_filter() -> None:
    offenders = []
    for path in TEMPLATES.glob("*/templates/**/*.html"):
        rel = str(path.relative_to(TEMPLATES))
        text = path.read_text()
        for m in re.finditer(r"[\w.]+\.(full_name|family_name }}, )", text):
            if (rel, m.group(0)) not in ALLOWED:
                offenders.append(f"{rel}: {m.group(0)}")
    assert offenders == [], "name patients with |patient_name: " + ", ".join(offenders)


@pytest.fixture
def twins(cast: Any) -> tuple[Any, Any]:
    from trellis.alerts.services import raise_alert
    from trellis.patients.services import register_patient

    made = []
    for dob in (date(1970, 1, 2), date(1991, 9, 30)):
        p = register_patient(
            cast.admin_a,
            cast.program_a,
            {"given_name": "Maria", "family_name": "Lopez", "date_of_birth": dob},
        )
        raise_alert(
            program=cast.program_a,
            kind="suicide_risk",
            severity="urgent",
            title="Positive answer on item 9",
            dedupe_key=f"twin-{p.pk}",
            patient=p,
        )
        made.append(p)
    return made[0], made[1]


@pytest.mark.django_db
def test_alert_bar_and_patient_list_tell_two_maria_lopez_apart(
    client: Any, cast: Any, twins: tuple[Any, Any]
) -> None:
    sign_in(client, cast.nurse_a)
    for url in ("/", "/patients/?q=Lopez", "/alerts/"):
        html = client.get(url).content.decode()
        assert "1970-01-02" in html, url
        assert "1991-09-30" in html, url


def test_the_label_carries_the_date_of_birth() -> None:
    from trellis.patients.models import Patient

    p = Patient(given_name="Ana", family_name="Ruiz", date_of_birth=date(2001, 5, 6))
    assert p.staff_label == "Ana Ruiz (born 2001-05-06)"
    assert p.staff_label_list == "Ruiz, Ana (born 2001-05-06)"

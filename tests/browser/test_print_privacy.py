"""Browser: printed handouts carry nothing from the staff shell (issue 13 §4, privacy).

Urgent alerts name other patients on every staff page; a printed after-care sheet, cost sheet
or safety plan handed to one patient must not carry them. Each printable page is rendered with
print media and its printed text must name no other patient, while still holding the handout.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


@pytest.fixture
def other_patient_alert(demo_site: str) -> str:
    """An urgent alert about a made-up patient who is in none of the handouts; returns the name."""
    from datetime import date

    from trellis.accounts.models import Program, User
    from trellis.alerts.services import acknowledge, open_alerts, raise_alert
    from trellis.patients.services import register_patient

    program = Program.objects.get(slug=DEMO_SLUG)
    other = register_patient(
        User.objects.get(username="cora.coordinator"),
        program,
        {"given_name": "Zebulon", "family_name": "Printwatch", "date_of_birth": date(1977, 3, 4)},
    )
    mine = raise_alert(
        program=program,
        kind="suicide_risk",
        severity="urgent",
        title="Positive answer on item 9",
        dedupe_key="print-test",
        patient=other,
    )
    # The demo's own urgent alerts are acknowledged, so the bar names this patient (with more
    # than two open it would show only their count).
    nurse = User.objects.get(username="noah.nurse")
    for alert in open_alerts(nurse, program).filter(severity="urgent").exclude(pk=mine.pk):
        acknowledge(nurse, alert.pk, action_taken="Handled for the print test")
    return "Printwatch"


def _printable_urls() -> list[tuple[str, str]]:
    """(url, the first name the handout must show) for each printable page of the demo."""
    from trellis.dosing.models import DosingSession
    from trellis.integration.models import SafetyPlan

    session = DosingSession.objects.select_related("patient").order_by("pk").first()
    plan = SafetyPlan.objects.select_related("patient").order_by("pk").first()
    assert session is not None
    assert plan is not None
    return [
        (f"/dosing/sessions/{session.pk}/instructions/", session.patient.display_first_name),
        (
            f"/access/patients/{session.patient_id}/cost/print/?protocol=esketamine-trd",
            session.patient.display_first_name,
        ),
        (
            f"/integration/patients/{plan.patient_id}/safety-plan/print/",
            plan.patient.display_first_name,
        ),
    ]


def test_printed_handouts_name_no_other_patient(
    page: Any, demo_site: str, other_patient_alert: str
) -> None:
    name = other_patient_alert
    sign_in(page, demo_site, "ada.admin")
    pages = _printable_urls()
    for url, expected in pages:
        page.emulate_media(media="screen")
        response = page.goto(demo_site + url)
        assert response is not None, url
        assert response.status == 200, url
        # On screen the staff still see the urgent bar (it is on every staff page)...
        assert name in page.locator("body").inner_text(), url
        # ...but nothing of the shell prints.
        page.emulate_media(media="print")
        printed = page.locator("body").inner_text()
        assert name not in printed, f"{url} prints another patient's alert"
        assert "Sign out" not in printed, url
        assert expected.lower() in printed.lower(), url

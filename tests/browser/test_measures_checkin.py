"""A Spanish-speaking patient completes a PHQ-9 on a phone (item 9 = 1) and sees the crisis
resources at once; then a nurse sees the urgent alert banner and acknowledges it with the action
taken. axe-core must be clean on the questionnaire, thank-you and alert pages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def spanish_patient() -> Any:
    from trellis.patients.models import Patient

    return (
        Patient.objects.filter(program__slug=DEMO_SLUG, preferred_language="es")
        .order_by("family_name", "pk")
        .first()
    )


def test_spanish_phq9_on_a_phone_then_a_nurse_acknowledges_the_alert(
    phone_page: Any, page: Any, demo_site: str
) -> None:
    from trellis.alerts.models import Alert
    from trellis.checkin.services import issue_link

    patient = spanish_patient()
    assert patient is not None
    _, token = issue_link(
        patient,
        purpose="assessments",
        payload={"due": [{"instrument": "phq9", "timepoint": "week_3"}]},
    )

    # The patient opens the link on a phone: Spanish, first name only.
    phone_page.goto(f"{demo_site}/c/{token}/")
    expect(phone_page.locator("html")).to_have_attribute("lang", "es")
    expect(phone_page.get_by_role("heading", level=1)).to_contain_text(patient.display_first_name)
    phone_page.get_by_role("link", name="Cuestionario sobre el estado de ánimo (PHQ-9)").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text(
        "Cuestionario sobre el estado de ánimo (PHQ-9)"
    )
    expect(phone_page.get_by_text("Poco interés o placer en hacer cosas")).to_be_visible()
    assert_accessible(phone_page, "questionnaire (es, phone)")

    # A half-filled form lists what is missing and stores nothing.
    first = phone_page.get_by_role("group", name=re.compile(r"^1\."))
    first.get_by_label("Varios días").check()
    phone_page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone_page.get_by_role("alert")).to_contain_text("Preguntas que faltan por contestar")
    expect(phone_page.get_by_text("Por favor, conteste la pregunta 9.")).to_be_visible()
    assert_accessible(phone_page, "questionnaire with missing answers (es, phone)")

    for n in range(1, 10):
        group = phone_page.get_by_role("group", name=re.compile(rf"^{n}\."))
        group.get_by_label("Ningún día" if n < 9 else "Varios días").check()
    phone_page.get_by_role("button", name="Enviar mis respuestas").click()

    crisis = phone_page.locator("section.crisis")
    expect(crisis).to_be_visible()
    expect(crisis.get_by_role("heading", level=1)).to_have_text(
        "No tiene que pasar por esto a solas"
    )
    expect(crisis.get_by_role("link", name="Llamar al 988")).to_have_attribute("href", "tel:988")
    expect(crisis).to_contain_text("911")
    assert_accessible(phone_page, "thank-you with crisis resources (es, phone)")

    alert = Alert.objects.get(kind="suicide_risk", patient=patient)
    assert alert.severity == "urgent"
    assert alert.is_open

    # A nurse signs in: the urgent banner is on the page; she acknowledges with the action taken.
    sign_in(page, demo_site, "noah.nurse")
    # The demo has other urgent alerts open: more than two collapse to one bar with the count
    # and a link to the list (issue 13), where this patient's alert is opened.
    bar = page.locator(".urgent-alert")
    expect(bar).to_have_count(1)
    expect(bar).to_contain_text("urgent alerts are open")
    bar.get_by_role("link", name="Open the list and acknowledge each").click()
    row = page.locator("tr").filter(has_text=patient.full_name).filter(has_text="item 9 = 1")
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suicide risk")
    assert_accessible(page, "alert page")
    page.get_by_label("Action taken").fill(
        "Called the patient; C-SSRS screener done, safety plan reviewed, seen today."
    )
    page.get_by_role("button", name="Acknowledge").click()
    alert.refresh_from_db()
    assert not alert.is_open
    assert alert.action_taken.startswith("Called the patient")
    expect(
        page.locator(".urgent-alert")
        .filter(has_text=patient.full_name)
        .filter(has_text="PHQ-9 item 9 = 1")
    ).to_have_count(0)

    # The patient's measures page: trajectory charts, outcome badges, the new flagged score.
    page.goto(f"{demo_site}/measures/patients/{patient.pk}/")
    expect(page.locator("svg.trajectory").first).to_be_visible()
    expect(page.get_by_role("button", name="Send a check-in link now")).to_be_visible()
    assert_accessible(page, "measures page")

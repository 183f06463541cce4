"""The patient's record: on a phone the patient opens the plain summary from their check-in
link; a nurse downloads the FHIR Bundle from the chart; an admin sees the API clients page.
axe-core must be clean on each page."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def test_patient_summary_record_download_and_clients_page(
    phone_page: Any, page: Any, demo_site: str
) -> None:
    from trellis.accounts.models import Program
    from trellis.checkin.services import issue_link
    from trellis.measures.services import system_assessments

    program = Program.objects.get(slug=DEMO_SLUG)
    assessment = system_assessments(program).filter(instrument="phq9", total__isnull=False).first()
    assert assessment is not None
    patient = assessment.patient
    _, token = issue_link(patient, purpose="general")

    phone_page.goto(f"{demo_site}/c/{token}/?lang=en")
    phone_page.get_by_role("link", name="See my record").click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Your record")
    expect(phone_page.get_by_role("heading", name="Your questionnaires")).to_be_visible()
    expect(phone_page.get_by_text("out of 27").first).to_be_visible()
    assert_accessible(phone_page, "patient record summary (phone)")

    sign_in(page, demo_site, "noah.nurse")
    page.goto(f"{demo_site}/patients/{patient.pk}/")
    link = page.get_by_role("link", name="Download the record (FHIR)")
    expect(link).to_be_visible()
    body = page.request.get(f"{demo_site}{link.get_attribute('href')}")
    assert body.status == 200
    bundle = json.loads(body.text())
    assert bundle["resourceType"] == "Bundle"
    assert bundle["entry"][0]["resource"]["id"] == str(patient.pk)

    sign_in(page, demo_site, "ada.admin")
    page.goto(f"{demo_site}/fhir/clients/")
    expect(page.get_by_role("heading", level=1)).to_have_text("FHIR API clients")
    expect(page.get_by_text("Example EHR (synthetic demo)")).to_be_visible()
    assert_accessible(page, "FHIR clients page")

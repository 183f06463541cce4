"""Foundation smoke test: a nurse signs in (with TOTP), finds a demo patient and opens the chart.

Also: the chart fits a phone screen, and another program's coordinator gets 404 for the chart.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import LOGIN_PATH, sign_in

from trellis.web.demo import DEMO_SLUG, OTHER_SLUG


def demo_patient(slug: str = DEMO_SLUG) -> Any:
    """A patient of the demo program whose full name no other patient there shares."""
    from trellis.patients.models import Patient

    patients = list(Patient.objects.filter(program__slug=slug).order_by("family_name", "pk"))
    names = Counter(p.full_name for p in patients)
    return next(p for p in patients if names[p.full_name] == 1)


def chart_url(base_url: str, patient: Any) -> str:
    return f"{base_url}/patients/{patient.pk}/"


def test_nurse_finds_a_demo_patient_and_opens_the_chart(page: Any, demo_site: str) -> None:
    page.goto(demo_site + LOGIN_PATH)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    assert_accessible(page, "login page")

    sign_in(page, demo_site, "noah.nurse")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Riverbend")
    assert_accessible(page, "home page")

    patient = demo_patient()
    search = page.get_by_role("search").get_by_label("Find a patient")
    search.fill(patient.full_name)
    with page.expect_navigation():
        search.press("Enter")
    expect(page).to_have_url(re.compile(r"/patients/\?q="))
    link = page.get_by_role("link", name=f"{patient.family_name}, {patient.given_name}")
    expect(link).to_be_visible()
    row = page.get_by_role("row").filter(has=link)
    expect(row.get_by_text("synthetic", exact=True)).to_be_visible()
    assert_accessible(page, "patient list")

    link.click()
    expect(page).to_have_url(chart_url(demo_site, patient))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(patient.full_name)
    expect(heading.get_by_text("synthetic patient")).to_be_visible()
    expect(page.get_by_role("note").filter(has_text="Synthetic demo data")).to_be_visible()
    assert_accessible(page, "chart")


# On a phone emulation (is_mobile) Chromium widens the layout viewport to fit overflowing
# content, so ``innerWidth`` grows along with ``scrollWidth`` and comparing the two proves
# nothing; the page must fit the device width itself.
PHONE_PAGES = [
    pytest.param("patients/", id="patient-list"),
    pytest.param("chart", id="chart"),
]


@pytest.mark.parametrize("where", PHONE_PAGES)
def test_page_fits_a_phone_screen(phone_page: Any, demo_site: str, where: str) -> None:
    sign_in(phone_page, demo_site, "noah.nurse")
    url = chart_url(demo_site, demo_patient()) if where == "chart" else f"{demo_site}/{where}"
    phone_page.goto(url)
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    device_width = phone_page.viewport_size["width"]
    scroll_width, inner_width = phone_page.evaluate(
        "[document.scrollingElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= min(inner_width, device_width) + 1, (
        f"{url} scrolls sideways on a {device_width}px phone: {scroll_width}px wide"
    )


def test_other_programs_coordinator_gets_404_for_the_chart(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "lee.lakeside")
    # Control: Lee can open a chart of Lakeside, so the 404 below is about the program.
    own = page.goto(chart_url(demo_site, demo_patient(OTHER_SLUG)))
    assert own is not None
    assert own.status == 200

    response = page.goto(chart_url(demo_site, demo_patient(DEMO_SLUG)))
    assert response is not None
    assert response.status == 404

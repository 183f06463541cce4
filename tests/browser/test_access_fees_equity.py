"""Browser: a coordinator assesses a sliding fee (error beside the field, then the result), and
an analyst reads the equity dashboard (suppressed cells, htmx update, no names); axe-core on each.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def demo_patient() -> Any:
    from trellis.patients.models import Patient

    patients = list(Patient.objects.filter(program__slug=DEMO_SLUG).order_by("family_name", "pk"))
    names = Counter(p.full_name for p in patients)
    return next(p for p in patients if names[p.full_name] == 1)


def test_coordinator_assesses_a_sliding_fee(page: Any, demo_site: str) -> None:
    patient = demo_patient()
    sign_in(page, demo_site, "cora.coordinator")
    page.goto(f"{demo_site}/access/patients/{patient.pk}/fee/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sliding-fee assessment")
    assert_accessible(page, "fee assessment page")

    form = page.locator("form[method=post]").filter(has=page.get_by_label("Region"))
    page.get_by_label("Poverty-guideline year").select_option("2026")
    page.get_by_label("Region").select_option("alaska")
    page.get_by_label("Household size (people)").fill("3")
    page.get_by_label("Annual household income (USD)").fill("30000")
    page.get_by_label("Document seen").select_option("pay_stubs")
    page.get_by_label("Document date").fill("2026-01-10")
    with page.expect_navigation():
        form.get_by_role("button", name="Assess").click()
    # Alaska 2026: the per-person increment is not verified, so a household of 3 is refused.
    expect(page.locator("#id_household_size_errors")).to_contain_text(
        "only known for a household of 1"
    )
    expect(page.locator(".error-summary")).to_contain_text("Nothing was saved")
    assert_accessible(page, "fee assessment with an error")

    page.get_by_label("Region").select_option("contiguous")
    # 2026, 48 states, household of 3: guideline $27,320; $30,000 is 109.8 % → class B.
    with page.expect_navigation():
        form.get_by_role("button", name="Assess").click()
    expect(page.get_by_text("Fee assessment recorded.")).to_be_visible()
    expect(page.get_by_test_id("fee-class")).to_have_text("B")
    expect(page.get_by_role("table", name="Fee assessments, newest first")).to_contain_text(
        "109.8 %"
    )
    assert_accessible(page, "fee assessment result")


def test_analyst_reads_the_equity_dashboard(page: Any, demo_site: str) -> None:
    from trellis.patients.models import Patient

    sign_in(page, demo_site, "ana.analyst")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Equity").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Equity dashboard")
    expect(page.get_by_role("heading", name="The care funnel")).to_be_visible()
    language = page.locator("table[data-dimension=language]")
    expect(language).to_contain_text("<11")
    expect(page.get_by_role("img", name="Started rate by preferred language")).to_be_visible()
    assert_accessible(page, "equity dashboard")

    # Changing the step updates the charts in place (htmx) and the address.
    page.get_by_label("Step shown in the charts").select_option("screened")
    expect(page.get_by_role("img", name="Screened rate by preferred language")).to_be_visible()
    expect(page).to_have_url(re.compile(r"stage=screened"))
    body = page.locator("main").inner_text()
    for p in Patient.objects.filter(program__slug=DEMO_SLUG):
        assert p.family_name not in body
    assert_accessible(page, "equity dashboard after htmx update")


def test_admin_pages_cost_and_print_are_accessible(page: Any, demo_site: str) -> None:
    patient = demo_patient()
    sign_in(page, demo_site, "ada.admin")
    page.goto(f"{demo_site}/access/schedule/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sliding-fee schedule")
    assert_accessible(page, "schedule editor")
    page.goto(f"{demo_site}/access/prices/")
    assert_accessible(page, "price list")
    page.goto(f"{demo_site}/access/patients/{patient.pk}/coverage/")
    expect(page.get_by_role("heading", name="What the payer typically requires")).to_be_visible()
    assert_accessible(page, "coverage")

    page.goto(f"{demo_site}/access/patients/{patient.pk}/cost/")
    page.get_by_label("Track").select_option("esketamine-trd")
    # htmx swaps the estimate in place when the plan changes.
    expect(page.get_by_role("heading", name=re.compile("Estimate: Esketamine"))).to_be_visible()
    first = page.get_by_test_id("gross").inner_text()
    page.get_by_label("Esketamine dose after the first").select_option("56")
    expect(page.get_by_test_id("gross")).not_to_have_text(first)
    assert_accessible(page, "cost of a course")
    with page.expect_navigation():
        page.get_by_role("link", name="Printable version in the patient's language").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("What your course may cost|Lo que puede costar su tratamiento")
    )
    assert_accessible(page, "printable estimate")

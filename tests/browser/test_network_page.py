"""Browser: an analyst opens the network report (curves, funnel plot, own place); axe-core."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def test_analyst_reads_the_network_report(page: Any, demo_site: str) -> None:
    from trellis.patients.models import Patient

    sign_in(page, demo_site, "ana.analyst")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Network").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Network report")
    expect(
        page.get_by_role("img", name="Relapse-free survival by integration engagement")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Funnel plot of programs' response rates")).to_be_visible()
    expect(page.get_by_role("table", name="Your program's funnel")).to_be_visible()
    expect(
        page.get_by_role("button", name="Export this program's de-identified data")
    ).to_have_count(0)
    body = page.locator("main").inner_text()
    for p in Patient.objects.filter(program__slug=DEMO_SLUG):
        assert p.family_name not in body
    assert_accessible(page, "network report")

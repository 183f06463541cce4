"""Peer circles in a real browser: create a circle, run matching, accept a proposal; axe-clean;
the facilitator sees first names only."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in


def test_create_circle_match_and_accept(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "cora.coordinator")
    page.get_by_role("link", name="Peer circles").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Peer integration circles")
    assert_accessible(page, "circles")
    page.get_by_role("link", name="Create a circle").click()
    assert_accessible(page, "create circle form")
    page.get_by_label("Name").fill("Monday lunch circle (synthetic)")
    page.get_by_label("Peer facilitator").select_option(index=1)
    page.get_by_label("Format").select_option("video")
    page.get_by_label("Video link (https)").fill("http://not-secure.example.org")
    page.get_by_label("Weekday").select_option("0")
    page.get_by_label("Start time").fill("12:00")
    page.get_by_label("Capacity (at most 12)").fill("12")
    today = date.today()
    page.get_by_label("Start date").fill(today.isoformat())
    page.get_by_label("End date").fill((today + timedelta(days=56)).isoformat())
    page.get_by_role("button", name="Create circle").click()
    expect(page.get_by_text("The video link must start with https://.", exact=True)).to_be_visible()
    assert_accessible(page, "create circle with an error")
    page.get_by_label("Video link (https)").fill("https://video.example.org/monday")
    page.get_by_role("button", name="Create circle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monday lunch circle (synthetic)")

    page.goto(demo_site + "/peers/matching/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Match patients to circles")
    assert_accessible(page, "matching")
    accept = page.get_by_role("button", name=re.compile(r"^Accept for "))
    before = accept.count()
    assert before >= 1
    accept.first.click()
    expect(page.get_by_text(re.compile(r"joins "))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Accept for "))).to_have_count(before - 1)


def test_facilitator_sees_first_names_only(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "pat.peer")
    page.get_by_role("link", name="Peer circles").first.click()
    page.get_by_role("link", name="Tuesday evening circle (synthetic)").click()
    names = page.locator("th.member-name")
    assert names.count() >= 1
    for text in names.all_inner_texts():
        assert len(text.split()) == 1, text
    assert_accessible(page, "circle for the facilitator")


def test_attendance_edits_never_lose_a_record(page: Any, demo_site: str) -> None:
    """Issue 19: each meeting's form shows what is recorded; saving one meeting keeps every
    other record, and re-saving a form unchanged changes nothing."""
    sign_in(page, demo_site, "pat.peer")
    page.get_by_role("link", name="Peer circles").first.click()
    page.get_by_role("link", name="Tuesday evening circle (synthetic)").click()
    forms = page.locator("form[data-meeting]")
    assert forms.count() >= 2
    first, second = forms.nth(0), forms.nth(1)
    member_select = first.locator("select").first
    member_id = member_select.get_attribute("name")
    first.locator(f"select[name='{member_id}']").select_option("present")
    first.get_by_role("button", name="Save attendance").click()
    expect(page.get_by_role("status").or_(page.locator(".messages"))).to_contain_text(
        re.compile(r"Attendance saved|Nothing changed")
    )
    attended = page.locator("tbody tr").first.locator("td").first.inner_text()

    # Save the second meeting, changing someone else's mark or nothing at all.
    second = page.locator("form[data-meeting]").nth(1)
    other = second.locator("select").nth(1 if second.locator("select").count() > 1 else 0)
    other.select_option("excused")
    second.get_by_role("button", name="Save attendance").click()
    first = page.locator("form[data-meeting]").nth(0)
    # The first meeting still shows the recorded "present": nothing was lost.
    expect(first.locator(f"select[name='{member_id}']")).to_have_value("present")
    assert int(page.locator("tbody tr").first.locator("td").first.inner_text()) >= int(attended)

    # Re-saving the first meeting as shown changes nothing.
    first.get_by_role("button", name="Save attendance").click()
    expect(
        page.get_by_text("Nothing changed: the recorded attendance stays as it was.")
    ).to_be_visible()
    expect(
        page.locator("form[data-meeting]").nth(0).locator(f"select[name='{member_id}']")
    ).to_have_value("present")
    assert_accessible(page, "attendance forms")

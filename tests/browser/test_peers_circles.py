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

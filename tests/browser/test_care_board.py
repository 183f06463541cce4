"""The coordinator's pathway board in a real browser: filter by track and language (htmx
refresh), open a patient's course timeline, start-course form; axe-clean; fits a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def _rows(page: Any) -> Any:
    return page.locator("#board-rows table.board tbody tr")


def test_board_filters_and_opens_a_timeline(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "cora.coordinator")
    page.get_by_role("link", name="Pathway board").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pathway board")
    expect(_rows(page).first).to_be_visible()
    total = _rows(page).count()
    assert total >= 10
    assert_accessible(page, "pathway board")

    # Filter by track: the rows refresh in place (htmx) and the URL follows.
    page.locator("#id_track").select_option("iv-ptsd")
    expect(page).to_have_url(re.compile(r"track=iv-ptsd"))
    expect(_rows(page).first).to_be_visible()
    tracks = _rows(page).locator("td[data-label=Track]").all_inner_texts()
    assert tracks
    assert set(tracks) == {"IV ketamine for post-traumatic stress disorder"}  # words, not the id
    assert len(tracks) < total

    # And by language: only Spanish-speaking patients on that track.
    page.locator("#id_language").select_option("es")
    expect(page).to_have_url(re.compile(r"language=es"))
    languages = _rows(page).locator("td[data-label=Language]").all_inner_texts()
    assert languages
    assert all(text.startswith("Spanish") for text in languages)

    # Open the first patient's course timeline.
    link = _rows(page).first.get_by_role("link")
    name = link.inner_text()
    link.click()
    expect(page).to_have_url(re.compile(r"/care/episodes/[0-9a-f-]+/$"))
    family, rest = name.split(", ", 1)
    given, born = rest.split(" (", 1)  # the list shows "Family, Given (born …)"
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"{given} {family} ({born}")
    expect(page.get_by_role("img", name=re.compile("Course timeline"))).to_be_visible()
    expect(page.locator("[aria-current=step]")).to_have_count(1)
    assert_accessible(page, "episode page")


def test_board_shows_gaps_in_text_and_blockers(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "noah.nurse")
    page.goto(demo_site + "/care/board/")
    gap_rows = page.locator("#board-rows tr.has-gap")
    expect(gap_rows.first).to_contain_text(re.compile(r"Gaps?: \d+ windows? closed"))


def test_start_course_form_is_accessible(page: Any, demo_site: str) -> None:
    from trellis.care import services
    from trellis.patients.models import Patient

    patient = next(
        p
        for p in Patient.objects.filter(program__slug=DEMO_SLUG).order_by("family_name", "pk")
        if not services.Episode.objects.filter(patient=p).exists()
    )
    sign_in(page, demo_site, "cora.coordinator")
    page.goto(f"{demo_site}/patients/{patient.pk}/")
    page.get_by_role("link", name="Start a course").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Start a course")
    assert_accessible(page, "start-course form")
    # Submitting without a track: the error is next to the field and summarised on top.
    page.get_by_role("button", name="Open the course").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose the track this course follows.")
    assert_accessible(page, "start-course form with errors")
    page.locator("#id_protocol").select_option("iv-trd")
    page.get_by_label("Transport help", exact=False).check()
    page.get_by_role("button", name="Open the course").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Screening")
    assert_accessible(page, "screening form")


def test_board_fits_a_phone(phone_page: Any, demo_site: str) -> None:
    sign_in(phone_page, demo_site, "cora.coordinator")
    phone_page.goto(demo_site + "/care/board/")
    expect(phone_page.get_by_role("heading", level=1)).to_be_visible()
    width = phone_page.viewport_size["width"]
    scroll_width = phone_page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= width + 1, f"the board scrolls sideways: {scroll_width}px"

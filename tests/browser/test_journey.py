"""The whole journey of a new patient (issue 13, "Done means")."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect
from tests.browser.axe import format_violation, violations
from tests.browser.helpers import sign_in

DUPLICATE_IDS_JS = """() => {
  const seen = new Map();
  for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
}"""


def axe_clean(page: Any, where: str) -> None:
    """axe (WCAG 2.x A/AA) finds nothing at any impact, and no id is used twice (a label tied
    to another form's field by a shared id is a trap axe does not always see)."""
    assert page.evaluate(DUPLICATE_IDS_JS) == [], f"duplicate ids on {where} ({page.url})"
    found = violations(page)
    assert not found, f"axe on {where} ({page.url}):\n" + "\n".join(
        format_violation(v) for v in found
    )


def booked_sessions() -> list[tuple[str, int, Any, Any]]:
    """(kind, index, local date, care-plan activity) of Rosa's booked appointments."""
    from trellis.booking.models import Appointment

    return [
        (a.kind, a.index, timezone.localtime(a.start).date(), a.care_activity)
        for a in Appointment.objects.filter(patient__family_name="Journeyman", status="booked")
        .select_related("care_activity")
        .order_by("start")
    ]


@pytest.fixture
def clock(settings: Any) -> Any:
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600
    traveller = time_machine.travel(timezone.now(), tick=True)
    coordinates = traveller.start()
    yield coordinates
    traveller.stop()


def test_journey(page: Any, new_page: Any, demo_site: str, clock: Any) -> None:
    base = demo_site
    today = timezone.localdate()
    sign_in(page, base, "cora.coordinator")
    axe_clean(page, "coordinator home")
    page.goto(base + "/patients/new/")
    axe_clean(page, "register")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Journeyman")
    page.get_by_label("Date of birth").fill("1984-03-09")
    page.get_by_label("Preferred language").select_option("es")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Patient registered.")).to_be_visible()
    axe_clean(page, "new chart")
    chart = page.url.split("#")[0]
    for kind in ("Treatment", "Reminders by text message", "Group participation"):
        page.locator("summary", has_text="Record a consent").click()
        page.get_by_label(re.compile(r"^Consent\b")).select_option(label=kind)
        page.get_by_label(re.compile(r"^Date given")).fill(today.isoformat())
        page.get_by_role("button", name="Record consent").click()
        expect(page.get_by_text("Consent recorded.")).to_be_visible()
    axe_clean(page, "chart with consents")
    expect(page.locator("section", has_text="Consents").get_by_text("active")).to_have_count(3)
    page.get_by_role("link", name="Start a course").click()
    axe_clean(page, "start a course")
    page.get_by_label("Track").select_option("iv-trd")
    # The pathway starts on the next Monday: the clinic is open on weekdays only.
    monday = today + timedelta(days=7 - today.weekday())
    page.get_by_label(re.compile(r"^Pathway start")).fill(monday.isoformat())
    page.get_by_label("Primary integration therapist").select_option(
        label="Tomás Herrera (Spanish, English)"
    )
    page.get_by_role("button", name="Open the course").click()
    expect(page.get_by_text("Course opened. Now record the screening.")).to_be_visible()
    axe_clean(page, "screening")
    for box in page.locator("fieldset.screening-item").all():
        box.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Record the screening").click()
    axe_clean(page, "course timeline")
    course_url = page.url.split("#")[0]
    expect(page.get_by_text("Screening recorded: eligible.")).to_be_visible()

    # Booking: plan the coming weeks and accept.
    page.get_by_role("link", name="Booking").first.click()
    axe_clean(page, "booking home")
    page.get_by_label("Weeks to plan").fill("6")
    page.get_by_label("Method").select_option("cpsat")
    page.get_by_label(re.compile("Time limit")).fill("10")
    page.get_by_role("button", name="Plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposed plan")
    axe_clean(page, "proposed plan")
    page.get_by_role("button", name="Accept and book").click()
    expect(page.get_by_text(re.compile(r"Plan accepted"))).to_be_visible()
    axe_clean(page, "accepted plan")
    booked = booked_sessions()
    assert {(kind, index) for kind, index, _day, _act in booked} >= {
        ("preparation", 1),
        ("preparation", 2),
        ("dose", 1),
        ("integration", 1),
    }
    for kind, index, day, act in booked:
        # Every booked date lies inside its care-plan activity's window (issue 13 §1) ...
        assert (act.kind, act.index) == (kind, index)
        assert act.earliest <= day <= act.latest, (kind, index, day, act.earliest, act.latest)

    # ... and the course timeline shows the booked dates (one story on every page).
    page.goto(course_url)
    names = {
        "preparation": "Preparation session",
        "dose": "Dose",
        "integration": "Integration session",
    }
    for kind, index, day, _act in booked:
        row = page.locator("tr").filter(
            has_text=re.compile(rf"^\s*{day.isoformat()}\s*{names[kind]} {index}(?!\d)")
        )
        expect(row).to_have_count(1)
    axe_clean(page, "timeline after booking")
    # The chart lists the booked appointments too.
    page.goto(chart)
    expect(page.get_by_text("No appointments booked.")).to_have_count(0)
    axe_clean(page, "chart after booking")

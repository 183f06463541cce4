"""Booking in a real browser: plan the coming weeks, read the week calendar by room and by staff,
accept; axe-clean; the calendar stacks on a phone."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in


def test_plan_view_calendar_and_accept(page: Any, demo_site: str) -> None:
    sign_in(page, demo_site, "cora.coordinator")
    page.get_by_role("link", name="Booking").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Booking")
    assert_accessible(page, "booking home")

    page.get_by_label("Weeks to plan").fill("2")
    page.get_by_label("Method").select_option("greedy")
    page.get_by_role("button", name="Plan").click()
    expect(page).to_have_url(re.compile(r"/booking/plans/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposed plan")
    expect(page.get_by_text("every rule holds")).to_be_visible()
    rooms = page.get_by_role("table", name="Appointments by room").first
    staff = page.get_by_role("table", name="Appointments by staff member").first
    expect(rooms).to_be_visible()
    expect(staff).to_be_visible()
    # The demo's accepted plan fills the clinic: doses in chairs, sessions with therapists.
    expect(rooms.locator("li.slot-dose").first).to_be_visible()
    expect(staff.locator("li.slot-integration").first).to_be_visible()
    assert_accessible(page, "proposed plan")
    # The next week replaces the calendar in place (htmx) and the URL follows.
    page.get_by_role("link", name="Next week").click()
    expect(page).to_have_url(re.compile(r"week=1"))
    expect(page.get_by_text(re.compile(r"^Week 2 of \d+$"))).to_be_visible()

    page.get_by_role("button", name="Accept and book").click()
    expect(page.get_by_text(re.compile(r"Plan accepted"))).to_be_visible()
    expect(page.get_by_role("button", name="Accept and book")).to_have_count(0)
    assert_accessible(page, "accepted plan")


def test_calendar_and_setup_on_a_phone(phone_page: Any, demo_site: str) -> None:
    page = phone_page
    sign_in(page, demo_site, "noah.nurse")
    page.goto(demo_site + "/booking/")
    link = page.get_by_role("link", name=re.compile(r"\d{4}-\d\d-\d\d")).first
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposed plan")
    expect(page.get_by_role("button", name="Accept and book")).to_have_count(0)
    # Stacked: the table cells are blocks, so nothing scrolls sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400
    assert_accessible(page, "plan on a phone")
    page.goto(demo_site + "/booking/setup/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rotas")
    assert_accessible(page, "setup on a phone")


def test_availability_on_a_phone(phone_page: Any, demo_site: str) -> None:
    from trellis.booking.models import PatientAvailability
    from trellis.patients.models import Patient
    from trellis.web.demo import DEMO_SLUG

    patient = next(
        p
        for p in Patient.objects.filter(program__slug=DEMO_SLUG).order_by("-family_name", "pk")
        if not PatientAvailability.objects.filter(patient=p).exists()
    )
    page = phone_page
    sign_in(page, demo_site, "cora.coordinator")
    page.goto(f"{demo_site}/patients/{patient.pk}/")
    page.get_by_role("link", name="Change when they can come").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("can come")
    assert_accessible(page, "availability form on a phone")
    page.get_by_label("Tuesday from").fill("12:00")
    page.get_by_role("button", name="Save availability").click()
    # Half the window is missing: a specific error, tied to the field, nothing saved.
    expect(
        page.get_by_text("Give both times, or neither if they cannot come that day.").first
    ).to_be_visible()
    assert_accessible(page, "availability form with an error")
    page.get_by_label("Tuesday until").fill("18:00")
    page.get_by_role("button", name="Save availability").click()
    expect(page.get_by_text("Availability saved.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Tuesday 12:00–18:00"))).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400


def test_patient_gives_their_times_on_a_phone_in_spanish(phone_page: Any, demo_site: str) -> None:
    from trellis.care.models import Episode
    from trellis.checkin.services import issue_link
    from trellis.web.demo import DEMO_SLUG

    episode = (
        Episode.objects.filter(program__slug=DEMO_SLUG, patient__preferred_language="es")
        .select_related("patient")
        .first()
    )
    assert episode is not None
    _link, token = issue_link(episode.patient)
    page = phone_page
    page.goto(f"{demo_site}/c/{token}/")
    page.get_by_role("link", name="Díganos cuándo puede venir").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cuándo puede venir")
    assert_accessible(page, "patient availability (es)")
    monday = page.get_by_role("group", name=re.compile("lunes", re.I))
    monday.get_by_label("Solo por la mañana (hasta la 1 pm)").check()
    wednesday = page.get_by_role("group", name=re.compile("miércoles", re.I))
    wednesday.get_by_label("No puedo venir este día").check()
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_text("Gracias. Le daremos sus citas en estos horarios.")).to_be_visible()
    expect(monday.get_by_label("Solo por la mañana (hasta la 1 pm)")).to_be_checked()
    assert_accessible(page, "patient availability saved (es)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400

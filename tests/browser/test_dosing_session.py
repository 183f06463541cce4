"""Browser: a nurse runs a full esketamine session on the monitoring board (Chromium).

The pre-dose check, a prescriber's sign-off (second browser), the dose, vitals with one
out-of-range BP that raises an alert on the live board, the clinician checks, discharge and
signing; the board updates without a reload (htmx polling); axe-clean board and session pages.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG

FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def course(demo_site: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A new synthetic patient on esketamine-trd, enrolled in the REMS, ready for dose 1."""
    from trellis.accounts.models import Program, User
    from trellis.care import services as care
    from trellis.core.protocols import load_protocol
    from trellis.dosing import services as dosing
    from trellis.patients.services import register_patient

    # The safety plan lives in the integration record; this test is about dosing.
    monkeypatch.setattr(
        care,
        "FIRST_DOSE_FACT_PROVIDERS",
        [*care.FIRST_DOSE_FACT_PROVIDERS, lambda episode: {"safety_plan_on_file": True}],
    )
    program = Program.objects.get(slug=DEMO_SLUG)
    coordinator = User.objects.get(username="cora.coordinator")
    therapist = User.objects.get(username="tessa.therapist")
    patient = register_patient(
        coordinator,
        program,
        {"given_name": "Quinn", "family_name": "Browserly", "date_of_birth": date(1980, 6, 1)},
    )
    today = timezone.localdate()
    episode = care.start_episode(
        coordinator,
        patient,
        protocol_id="esketamine-trd",
        referred_on=today - timedelta(days=12),
        start_date=today - timedelta(days=11),
    )
    answers = {
        i.id: False for i in load_protocol("esketamine-trd").screening if i.age_below is None
    }
    care.record_screening(coordinator, episode, answers, at=timezone.now() - timedelta(days=11))
    for n, act in enumerate(care.activities_of(episode).filter(kind="preparation"), start=1):
        care.record_event(
            therapist,
            episode,
            "preparation_done",
            at=timezone.now() - timedelta(days=10 - 3 * n),
            index=act.index,
        )
    dosing.enrol_patient(coordinator, patient, rems_patient_id="SYN09999", enrolled_on=today)
    return patient


def fill_when(form: Any, label: str, moment: Any) -> None:
    form.get_by_label(label).fill(timezone.localtime(moment).strftime(FMT))


@pytest.fixture
def clock(settings: Any) -> Any:
    """A clock the test moves: the server (same process) and the test share it. Sessions are
    given a long idle limit, since the test jumps two hours in a few seconds."""
    settings.SESSION_COOKIE_AGE = 6 * 3600
    traveller = time_machine.travel(timezone.now(), tick=True)
    coordinates = traveller.start()
    yield coordinates
    traveller.stop()


def rems_display(value: str) -> str:
    return {"Y": "Yes", "N": "No"}.get(value, value) or "—"


def test_esketamine_session_from_pre_dose_to_signed_rems_form(
    page: Any, new_page: Any, demo_site: str, course: Any, clock: Any
) -> None:
    """Issue 19: pre-dose check, prescriber sign-off, dose and each device at its actual time,
    the board prompting for the 40-minute BP, one out-of-range BP alert, 120 minutes passing on
    a controlled clock, discharge, signature, and every REMS field on the form page compared
    with the session record."""
    patient = course
    sign_in(page, demo_site, "noah.nurse")

    # Start the session from the chart, in a free chair.
    page.goto(f"{demo_site}/patients/{patient.pk}/")
    page.get_by_role("link", name="Start a dosing session").click()
    page.get_by_label("Dosing chair").select_option(label="Riverbend Clinic · Chair 5")
    page.get_by_role("button", name="Start the pre-dose check").click()
    expect(page).to_have_url(re.compile(r"/dosing/sessions/[0-9a-f-]+/$"))
    session_url = page.url.split("#")[0]
    start = timezone.now() + timedelta(minutes=15)

    # Pre-dose check.
    form = page.locator("form[action$='/predose/']")
    for label in (
        "Identity confirmed (two identifiers)",
        "Screening changes since the last visit reviewed",
        "Concomitant medicines reviewed",
        "Ride home confirmed",
        "No-driving advice given (until the next day after restful sleep)",
    ):
        form.get_by_label(label, exact=True).check()
    form.get_by_label("Pregnancy status").select_option("not_applicable")
    fill_when(form, "Planned start", start)
    fill_when(form, "Last food", start - timedelta(hours=3))
    fill_when(form, "Last liquids", start - timedelta(hours=1))
    form.get_by_label("Today's PHQ-9 item 9").select_option("0")
    form.get_by_label("Systolic BP").fill("128")
    form.get_by_label("Diastolic BP").fill("80")
    form.get_by_label("Heart rate").fill("72")
    form.get_by_label("SpO2 (%)").fill("98")
    form.get_by_role("button", name="Save pre-dose check").click()
    missing = page.locator("#predose .missing-list li")
    expect(missing).to_have_count(1)
    expect(missing).to_have_text("prescriber has not signed off the pre-dose check")
    assert_accessible(page, "session page, pre-dose check")

    # The prescriber signs off from her own browser.
    prescriber = new_page()
    sign_in(prescriber, demo_site, "priya.prescriber")
    prescriber.goto(session_url)
    prescriber.get_by_role("button", name="Prescriber sign-off").click()
    expect(prescriber.get_by_text("Pre-dose check signed off.")).to_be_visible()

    # 15 minutes later, the dose: the track's first dose, 56 mg as two devices.
    clock.shift(timedelta(minutes=15))
    page.goto(session_url)
    expect(page.get_by_text("Pre-dose check complete")).to_be_visible()
    dose = page.locator("form[action$='/dose/']")
    dose.get_by_label("Lot number").fill("EK24A117")
    first_device = timezone.now().replace(second=0, microsecond=0)
    fill_when(dose, "First administration (time)", first_device)
    dose.get_by_role("button", name="Give the dose").click()
    expect(page.get_by_text("1 device still to give")).to_be_visible()

    # Device 2 is recorded when it is given: too soon is refused, 6 minutes later it is kept.
    clock.shift(timedelta(minutes=3))
    device = page.locator("form[action$='/device/']")
    fill_when(device, "Device given at", first_device + timedelta(minutes=2))
    device.get_by_role("button", name="Record device 2 given").click()
    expect(page.locator("#device_at_errors")).to_contain_text("devices are given 5 min apart")
    clock.shift(timedelta(minutes=3))
    device = page.locator("form[action$='/device/']")
    fill_when(device, "Device given at", first_device + timedelta(minutes=6))
    device.get_by_role("button", name="Record device 2 given").click()
    expect(page.get_by_text("Device recorded.")).to_be_visible()
    second = timezone.localtime(first_device + timedelta(minutes=6)).strftime("%H:%M")
    expect(page.locator("#dose")).to_contain_text(second)

    # At 36 minutes the board prompts for the 40-minute blood pressure.
    clock.shift(timedelta(minutes=30))
    page.goto(f"{demo_site}/dosing/board/")
    card = page.locator("article.chair-card").filter(has_text="Quinn Browserly")
    expect(card).to_contain_text("Chair 5")
    expect(card).to_contain_text("Take the 40-minute blood pressure now")
    assert_accessible(page, "monitoring board")

    def record(minute: int, sys_: str, dia: str, moaas: str, dissociation: str) -> None:
        form = page.locator("form[action$='/observations/']")
        fill_when(form, "Time", first_device + timedelta(minutes=minute))
        form.get_by_label("Systolic BP").fill(sys_)
        form.get_by_label("Diastolic BP").fill(dia)
        form.get_by_label("Heart rate").fill("80")
        form.get_by_label("SpO2 (%)").fill("97")
        form.get_by_label("MOAA/S sedation (5 = responds readily to name)").select_option(moaas)
        form.get_by_label("Dissociation (clinician rating)").select_option(dissociation)
        form.get_by_role("button", name="Record observation").click()
        expect(page.get_by_text("Observation recorded.")).to_be_visible()

    # A reading at the first device (monitoring, not the pre-dose check) and the 40-min BP,
    # out of range: an alert on the board.
    clock.shift(timedelta(minutes=5))
    card.get_by_role("link", name=re.compile("Record vitals")).click()
    record(0, "150", "95", "5", "none")
    record(40, "186", "96", "4", "moderate")
    expect(page.locator("#monitoring .badge.danger")).to_have_text("systolic 186 ≥ 180")
    page.goto(f"{demo_site}/dosing/board/")
    card = page.locator("article.chair-card").filter(has_text="Quinn Browserly")
    expect(card).to_contain_text("Blood pressure at 40 minutes: 186/96")
    expect(card.locator(".alert-list li")).to_contain_text("threshold 180")

    # Two hours pass on the controlled clock; the last vitals, checks, discharge and signature.
    clock.shift(timedelta(minutes=80))
    page.goto(session_url)
    record(118, "126", "80", "5", "none")
    checks = page.locator("form[action$='/checks/']")
    for label, value in (
        ("Sedation occurred", "yes"),
        ("Sedation resolved", "yes"),
        ("Dissociation occurred", "yes"),
        ("Dissociation resolved", "yes"),
        ("Respiratory depression occurred", "no"),
    ):
        checks.get_by_label(label).select_option(value)
    checks.get_by_role("button", name="Save checks").click()
    expect(page.locator("#discharge").get_by_text("Ready for discharge")).to_be_visible()
    release = page.locator("form[action$='/discharge/']")
    release.get_by_label("Released to (name and relationship)").fill("Partner (synthetic)")
    release.get_by_label("After-care instructions given and explained").check()
    release.get_by_role("button", name="Discharge", exact=True).click()
    expect(page.get_by_text("Patient discharged.")).to_be_visible()
    expect(page.locator("#rems .missing-list")).to_have_count(0)
    page.get_by_role("button", name="Sign the session record").click()
    expect(page.locator(".signed-note")).to_contain_text("This record cannot be edited")
    assert_accessible(page, "signed session page")

    # The REMS form page: every field equals the session record (read straight from its rows).
    from tests.dosing.rems_oracle import expected_rems_fields

    from trellis.core import rems
    from trellis.dosing.models import DosingSession

    session = DosingSession.objects.get(patient=patient)
    expected = rems.form_to_csv_row(rems.PatientMonitoringForm(**expected_rems_fields(session)))
    page.get_by_role("link", name="Open the form").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("REMS Patient Monitoring Form")
    for name in rems.CSV_COLUMNS:
        cell = page.locator(f"tr[data-field='{name}'] td")
        if name.startswith("vitals_acceptable"):
            expect(cell).to_contain_text("Yes")
            continue
        expect(cell).to_have_text(re.compile("^" + re.escape(rems_display(expected[name]))))
    expect(page.locator("tr[data-field='bp_before'] td")).to_have_text("128/80")
    expect(page.locator("tr[data-field='total_monitoring_minutes'] td")).to_have_text(
        str(expected["total_monitoring_minutes"])
    )
    expect(page.get_by_test_id("rems-status")).to_contain_text("Not yet submitted")
    expect(page.locator(".rems-attestation")).to_contain_text("Priya")
    assert_accessible(page, "REMS form")
    page.goto(f"{demo_site}/dosing/rems/")
    expect(page.get_by_role("row").filter(has_text="Quinn Browserly")).to_be_visible()


def test_board_fits_a_phone_screen(phone_page: Any, demo_site: str) -> None:
    sign_in(phone_page, demo_site, "noah.nurse")
    phone_page.goto(f"{demo_site}/dosing/board/")
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Live monitoring board")
    scroll_width = phone_page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll_width <= phone_page.viewport_size["width"] + 1

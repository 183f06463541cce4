"""The whole journey of a new patient on the demo, in a real browser (issue 13, "Done means").

As each role and as the patient in Spanish on a phone: the coordinator registers Rosa, records
her consents, opens an iv-trd course and screens her; plans and accepts the booking, and every
booked date lies inside its care-plan activity's window and shows on the timeline; the therapist
writes the safety plan and preparation and records both preparation sessions on their booked
days; Rosa opens her check-in link on a phone (baseline PHQ-9, her guide, a message to the
team); on dose 1's booked day the nurse starts the session from her queue, the prescriber signs
the pre-dose check off from hers, the nurse doses, observes, ends the infusion, discharges,
signs and answers Rosa's message; the therapist writes the integration note; before dose 2 Rosa
sees the reply waiting and answers the PHQ-9 on her phone; the measures page shows the outcome
in words. axe (WCAG 2.x A/AA) finds nothing at any impact on any page.

Time passes on a clock the test controls (time-machine; the live server runs in this process):
the test moves it to each booked appointment, so monitoring minutes really pass for the session.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect
from tests.browser.axe import format_violation, violations
from tests.browser.helpers import PHONE, sign_in

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


def send_link(page: Any, base: str, patient_id: str, phone: Any) -> str:
    """Staff send a check-in link from the measures page; the patient's phone opens it.
    Returns the link's address."""
    page.goto(f"{base}/measures/patients/{patient_id}/")
    axe_clean(page, "measures page")
    page.get_by_role("button", name="Send a check-in link now").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check-in link")
    # The questionnaire due, in words (it read "(pre_dose_2)").
    expect(
        page.get_by_text(
            re.compile(r"^Mood questionnaire \(PHQ-9\) \((baseline|before dose \d)\)$")
        )
    ).to_be_visible()
    axe_clean(page, "check-in link sent")
    url = base + urlsplit(page.get_by_label("Check-in link").input_value()).path
    phone.goto(url)
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    return url


def phq9(phone: Any, answers: list[int]) -> None:
    """The patient answers the PHQ-9 (Spanish, usted) with the given item scores."""
    phone.get_by_role("link", name="Cuestionario sobre el estado de ánimo (PHQ-9)").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "Cuestionario sobre el estado de ánimo (PHQ-9)"
    )
    axe_clean(phone, "PHQ-9 (es, phone)")
    for n, score in enumerate(answers, start=1):
        phone.get_by_role("group", name=re.compile(rf"^{n}\.")).get_by_role("radio").nth(
            score
        ).check()
    phone.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Gracias")
    expect(phone.get_by_text("Sus respuestas se enviaron a su equipo de atención.")).to_be_visible()
    axe_clean(phone, "PHQ-9 thanks (es, phone)")


def appointments() -> list[Any]:
    from trellis.booking.models import Appointment

    return list(
        Appointment.objects.filter(patient__family_name="Journeyman", status="booked")
        .select_related("care_activity")
        .order_by("start")
    )


def booked_sessions() -> list[tuple[str, int, Any, Any]]:
    """(kind, index, local date, care-plan activity) of Rosa's booked appointments."""
    return [
        (a.kind, a.index, timezone.localtime(a.start).date(), a.care_activity)
        for a in appointments()
    ]


@pytest.fixture
def clock(settings: Any) -> Any:
    """A clock the test moves (server and test share it); sessions outlive the weeks it jumps."""
    settings.SESSION_COOKIE_AGE = 60 * 24 * 3600
    traveller = time_machine.travel(timezone.now(), tick=True)
    coordinates = traveller.start()
    yield coordinates
    traveller.stop()


def test_journey(page: Any, new_page: Any, demo_site: str, clock: Any) -> None:  # noqa: PLR0915
    base = demo_site
    today = timezone.localdate()
    sign_in(page, base, "cora.coordinator")
    expect(page.get_by_role("heading", name="Your day")).to_be_visible()
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

    # Preparation (therapist): the safety plan, intentions, and each booked session recorded
    # on its booked day (the test's clock moves to it).
    patient_id = chart.rstrip("/").rsplit("/", 1)[1]
    when = {(kind, index): day for kind, index, day, _act in booked}
    appt_start = {(a.kind, a.index): a.start for a in appointments()}
    clock.move_to(appt_start["preparation", 1] + timedelta(minutes=65))
    therapist = new_page()
    sign_in(therapist, base, "tomas.therapist")
    expect(therapist.get_by_role("heading", name="Your day")).to_be_visible()
    expect(therapist.get_by_text("Rosa Journeyman").first).to_be_visible()
    axe_clean(therapist, "therapist home")
    therapist.goto(f"{base}/integration/patients/{patient_id}/safety-plan/")
    axe_clean(therapist, "safety plan form")
    plan = {
        "1. Warning signs": "Staying in bed all day",
        "2. Things I can do": "Walk around the block",
        "3. People and places": "My sister's kitchen",
        "4. People I can ask": "Ana (sister) 555-0100",
        "6. Making my environment": "Give my pills to Ana",
    }
    for label, text in plan.items():
        therapist.get_by_label(re.compile("^" + re.escape(label))).fill(text)
    therapist.get_by_role("button", name="Save safety plan").click()
    expect(therapist.get_by_text("Safety plan saved.")).to_be_visible()
    therapist.goto(f"{base}/integration/patients/{patient_id}/safety-plan/")
    expect(therapist.get_by_text("complete", exact=True)).to_be_visible()
    therapist.goto(f"{base}/integration/patients/{patient_id}/preparation/")
    axe_clean(therapist, "preparation form")
    therapist.get_by_label(re.compile("^New intentions")).fill("Volver a disfrutar de mis nietos")
    therapist.get_by_label("Hopes about the experience").fill("Feel lighter")
    therapist.get_by_role("button", name="Save preparation").click()
    expect(therapist.get_by_text("Preparation saved.")).to_be_visible()
    expect(therapist.locator("main")).to_contain_text("Volver a disfrutar de mis nietos")
    axe_clean(therapist, "integration thread")

    def record_done(kind_label: str, key: tuple[str, int]) -> None:
        therapist.goto(course_url)
        form = therapist.locator("section", has=therapist.locator("#record-h"))
        form.get_by_label("What happened").select_option(
            label=f"{kind_label} {key[1]} · {when[key].isoformat()}"
        )
        form.get_by_role("button").first.click()
        expect(therapist.get_by_text(f"Recorded: {kind_label} {key[1]}.")).to_be_visible()

    record_done("Preparation session", ("preparation", 1))
    axe_clean(therapist, "course after preparation 1")
    clock.move_to(appt_start["preparation", 2] + timedelta(minutes=65))
    record_done("Preparation session", ("preparation", 2))
    expect(therapist.get_by_text("Nothing: everything dose 1 needs is on file.")).to_be_visible()

    # The coordinator sends the check-in link from the measures page (Rosa has no phone on
    # file: the page shows the link, as for a clinic tablet); the patient opens it on a phone,
    # in Spanish: the baseline PHQ-9 and her preparation guide.
    phone = new_page(**PHONE)
    checkin = send_link(page, base, patient_id, phone)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Rosa")
    axe_clean(phone, "check-in home (es, phone)")
    phq9(phone, [2, 2, 2, 2, 2, 2, 2, 2, 0])  # 16: moderately severe
    phone.goto(checkin)
    phone.get_by_role("link", name=re.compile("su guía", re.I)).first.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Su guía")
    axe_clean(phone, "guide (es, phone)")
    # Her messages page: 988/911 before she writes; a question for the team.
    phone.goto(checkin)
    phone.get_by_role("link", name="Abrir sus mensajes").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Mensajes con su equipo de atención")
    notice = phone.get_by_role("note").filter(has_text="no se vigilan a todas horas")
    expect(notice).to_contain_text("988")
    axe_clean(phone, "messages (es, phone)")
    phone.get_by_label("Su mensaje").fill("¿Puedo desayunar el día de la dosis?")
    phone.get_by_role("button", name="Enviar mensaje").click()
    expect(phone.get_by_text("¿Puedo desayunar el día de la dosis?")).to_be_visible()
    axe_clean(phone, "messages after sending (es, phone)")

    # Dose 1 (nurse), on its booked day: the nurse's queue shows Rosa; the session starts there.
    clock.move_to(appt_start["dose", 1] - timedelta(minutes=20))
    nurse = new_page()
    sign_in(nurse, base, "noah.nurse")
    doses = nurse.locator('[data-queue="dosing.today"]')
    row = doses.locator("li, tr").filter(has_text="Rosa Journeyman").first
    expect(row).to_contain_text("Dose 1: not started")
    axe_clean(nurse, "nurse home")
    # In the booked chair when it is free (one click), else through the chair choice: the
    # demo's sessions still open from its own day may hold the booked chair.
    start = row.get_by_role("button", name=re.compile("^Start session"))
    if start.count():
        start.click()
    else:
        row.get_by_role("link", name=re.compile("^Choose a chair")).click()
        nurse.get_by_role("button", name="Start the pre-dose check").click()
    expect(nurse).to_have_url(re.compile(r"/dosing/sessions/[0-9a-f-]+/$"))
    session_url = nurse.url.split("#")[0]
    expect(nurse.get_by_text("Next step: record the pre-dose check below.")).to_be_visible()
    axe_clean(nurse, "session: pre-dose check")
    form = nurse.locator("form[action$='/predose/']")
    for label in (
        "Identity confirmed (two identifiers)",
        "Screening changes since the last visit reviewed",
        "Concomitant medicines reviewed",
        "Ride home confirmed",
        "No-driving advice given (until the next day after restful sleep)",
    ):
        form.get_by_label(label, exact=True).check()
    form.get_by_label("Pregnancy status").select_option("not_pregnant")
    form.get_by_label("Today's PHQ-9 item 9").select_option("0")
    form.get_by_label("Systolic BP").fill("124")
    form.get_by_label("Diastolic BP").fill("78")
    form.get_by_label("Heart rate").fill("70")
    form.get_by_label("SpO2 (%)").fill("98")
    form.get_by_label("Weight (kg)").fill("64")
    form.get_by_role("button", name="Save pre-dose check").click()
    missing = nurse.locator("#predose .missing-list li")
    expect(missing).to_have_count(1)
    expect(missing).to_have_text("prescriber has not signed off the pre-dose check")
    axe_clean(nurse, "session: waiting for the sign-off")

    # The prescriber's queue names the sign-off; she signs from her own browser.
    prescriber = new_page()
    sign_in(prescriber, base, "priya.prescriber")
    expect(prescriber.get_by_text("Rosa Journeyman").first).to_be_visible()
    axe_clean(prescriber, "prescriber home")
    prescriber.goto(session_url)
    prescriber.get_by_role("button", name="Prescriber sign-off").click()
    expect(prescriber.get_by_text("Pre-dose check signed off.")).to_be_visible()
    axe_clean(prescriber, "session after sign-off")

    # The dose at the booked time: 0.5 mg/kg of 64 kg over 40 minutes.
    clock.move_to(appt_start["dose", 1])
    nurse.goto(session_url)
    expect(nurse.get_by_text("Pre-dose check complete")).to_be_visible()
    dose = nurse.locator("form[action$='/dose/']")
    dose.get_by_label("Lot number").fill("KT24B311")
    first = timezone.now().replace(second=0, microsecond=0)
    dose.get_by_label("First administration (time)").fill(
        timezone.localtime(first).strftime("%Y-%m-%dT%H:%M")
    )
    dose.get_by_role("button", name="Give the dose").click()
    expect(nurse.locator("#dose")).to_contain_text("32 mg (0.5 mg/kg × 64 kg = 32 mg)")
    axe_clean(nurse, "session: dose given")

    def at(minutes: int) -> str:
        return timezone.localtime(first + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")

    def observe(minute: int, moaas: str, dissociation: str) -> None:
        form = nurse.locator("form[action$='/observations/']")
        form.get_by_label("Time").fill(at(minute))
        form.get_by_label("Systolic BP").fill("130")
        form.get_by_label("Diastolic BP").fill("82")
        form.get_by_label("Heart rate").fill("76")
        form.get_by_label("SpO2 (%)").fill("97")
        form.get_by_label("MOAA/S sedation (5 = responds readily to name)").select_option(moaas)
        form.get_by_label("Dissociation (clinician rating)").select_option(dissociation)
        form.get_by_role("button", name="Record observation").click()
        expect(nurse.get_by_text("Observation recorded.")).to_be_visible()

    # Monitoring passes on the test's clock: an observation during the infusion, its end at
    # 40 minutes, the last observation at 100 minutes, then discharge.
    clock.move_to(first + timedelta(minutes=16))
    observe(15, "4", "mild")
    clock.move_to(first + timedelta(minutes=41))
    end = nurse.locator("form[action$='/end/']")
    end.get_by_label("Infusion ended at").fill(at(40))
    end.get_by_role("button", name="Record infusion end").click()
    clock.move_to(first + timedelta(minutes=101))
    nurse.goto(session_url)
    observe(100, "5", "none")
    axe_clean(nurse, "session: monitoring")
    checks = nurse.locator("form[action$='/checks/']")
    for label, value in (
        ("Sedation occurred", "yes"),
        ("Sedation resolved", "yes"),
        ("Dissociation occurred", "yes"),
        ("Dissociation resolved", "yes"),
        ("Respiratory depression occurred", "no"),
    ):
        checks.get_by_label(label).select_option(value)
    checks.get_by_role("button", name="Save checks").click()
    expect(nurse.locator("#discharge").get_by_text("Ready for discharge")).to_be_visible()
    release = nurse.locator("form[action$='/discharge/']")
    release.get_by_label("Released to (name and relationship)").fill("Ana, sister (synthetic)")
    release.get_by_label("Instructions language").select_option(label="Spanish")
    release.get_by_label("After-care instructions given and explained").check()
    release.get_by_role("button", name="Discharge", exact=True).click()
    expect(nurse.get_by_text("Patient discharged.")).to_be_visible()
    nurse.get_by_role("button", name="Sign the session record").click()
    expect(nurse.locator(".signed-note")).to_contain_text("This record cannot be edited")
    axe_clean(nurse, "signed session")

    # The nurse answers Rosa's question from the shared inbox.
    nurse.goto(f"{base}/messages/?box=unread")
    axe_clean(nurse, "messages inbox")
    nurse.get_by_role("link", name=re.compile("Rosa Journeyman")).first.click()
    expect(nurse.get_by_text("¿Puedo desayunar el día de la dosis?")).to_be_visible()
    nurse.get_by_label("Your reply").fill("Sí, algo ligero hasta 6 horas antes.")
    nurse.get_by_role("button", name="Send reply").click()
    expect(nurse.get_by_text("Reply sent.", exact=False)).to_be_visible()
    axe_clean(nurse, "message thread")

    # Integration session 1 (therapist), at its booked time after the dose.
    clock.move_to(appt_start["integration", 1] + timedelta(minutes=65))
    therapist.goto(f"{base}/integration/patients/{patient_id}/")
    therapist.get_by_role("link", name="Integration session note").click()
    expect(therapist.get_by_role("heading", level=1)).to_have_text("Integration session note")
    axe_clean(therapist, "integration note form")
    therapist.get_by_label("Insights, in the patient's words").fill("Me sentí en paz por un rato")
    therapist.get_by_label("New commitment 1").fill("Llamar a Ana el domingo")
    therapist.get_by_label("Review date for commitment 1").fill(
        (when["integration", 1] + timedelta(days=3)).isoformat()
    )
    therapist.get_by_role("group", name="Risk check").get_by_label(
        "No current risk identified"
    ).check()
    therapist.get_by_role("button", name="Save integration note").click()
    expect(therapist.get_by_text("Integration note saved.")).to_be_visible()
    expect(therapist.locator("main")).to_contain_text("Llamar a Ana el domingo")
    axe_clean(therapist, "integration thread after the note")
    therapist.goto(course_url)
    for name, key in (
        ("Preparation session 1", ("preparation", 1)),
        ("Preparation session 2", ("preparation", 2)),
        ("Dose 1", ("dose", 1)),
        ("Integration session 1", ("integration", 1)),
    ):
        day = when[key].isoformat()
        row = therapist.locator("tr").filter(has_text=re.compile(rf"^\s*{day}\s*{name}(?!\d)"))
        expect(row).to_contain_text(f"done {day}")
    axe_clean(therapist, "timeline after dose 1")

    # Before dose 2, the PHQ-9 check-in, by the patient on her phone in Spanish.
    clock.move_to(appt_start["dose", 2] - timedelta(hours=20))
    send_link(page, base, patient_id, phone)
    expect(phone.get_by_text("1 respuesta nueva")).to_be_visible()
    phq9(phone, [1, 1, 0, 1, 0, 0, 1, 0, 0])

    # The outcome on the measures page: 4 against a baseline of 16, a response and, below 5,
    # remission, in words.
    page.goto(f"{base}/measures/patients/{patient_id}/")
    main = page.locator("main")
    expect(main).to_contain_text("Outcomes (PHQ-9, status: Remission)")
    expect(main).to_contain_text(re.compile(r"Baseline \d{4}-\d\d-\d\d · score 16"))
    expect(main).to_contain_text(re.compile(r"Response \d{4}-\d\d-\d\d"))
    expect(main).not_to_contain_text("noresponse")
    axe_clean(page, "measures page with the outcome")

"""Each role's day and secure messages in a real browser (issue 13, sections 2 and 3): the
nurse's and the coordinator's home pages on a desktop and a phone (axe-clean, nothing scrolls
sideways, the nurse starts a session from the queue); a Spanish-speaking patient writes to the
care team on a phone, sees 988/911 before writing and at once after worrying words; a nurse
answers from the shared inbox and the patient reads it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import PHONE, sign_in

from trellis.web.demo import DEMO_SLUG


def _check_home(page: Any, base: str, username: str, queue: str, phone: bool) -> None:
    sign_in(page, base, username)
    expect(page.get_by_role("heading", name="Your day")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(queue))).to_be_visible()
    where = "phone" if phone else "desktop"
    assert_accessible(page, f"{username} home ({where})")
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{username}'s home is {width}px wide on a 390px phone"


def _a_dose_booked_soon() -> None:
    """Move the demo's next booked later dose (not a first dose, so nothing blocks it) to half an
    hour from now, for Noah: the demo's plan starts today, but whether a dose is still ahead at
    the hour the test runs depends on the clock."""
    from datetime import timedelta

    from django.utils import timezone

    from trellis.accounts.models import User
    from trellis.booking.models import Appointment
    from trellis.dosing.models import DosingSession

    now = timezone.now()
    busy = set(
        DosingSession.objects.filter(created_at__gte=now - timedelta(hours=24)).values_list(
            "episode_id", flat=True
        )
    )
    appt = next(
        (
            a
            for a in Appointment.objects.filter(
                program__slug=DEMO_SLUG,
                kind="dose",
                status="booked",
                start__gt=now,
                index__gt=1,
                episode__phase__in=["dosing", "integrating"],  # dose 1 given: nothing blocks it
            ).order_by("start")
            if a.episode_id not in busy
        ),
        None,
    )
    if appt is None:
        return  # every course that is dosing already has today's session: nothing to move
    start = now + timedelta(minutes=30)
    Appointment.objects.filter(pk=appt.pk).update(
        start=start,
        end=start + (appt.end - appt.start),
        staff=User.objects.get(username="noah.nurse"),
    )


def test_nurse_and_coordinator_days_on_desktop_and_phone(
    page: Any, new_page: Callable[..., Any], demo_site: str
) -> None:
    _a_dose_booked_soon()
    phone = new_page(**PHONE)
    _check_home(page, demo_site, "noah.nurse", "Doses today", phone=False)
    _check_home(phone, demo_site, "noah.nurse", "Doses today", phone=True)
    doses = page.locator('[data-queue="dosing.today"]')
    expect(doses.get_by_text("Waiting for the prescriber's sign-off", exact=False)).to_be_visible()
    # Start a booked dose from the queue: in the booked chair when it is free (one click), else
    # through the chair choice.
    start = doses.get_by_role("button", name=re.compile("^Start session"))
    choose = doses.get_by_role("link", name=re.compile("^Choose a chair"))
    if start.count():
        start.first.click()
        expect(page).to_have_url(re.compile(r"/dosing/sessions/[0-9a-f-]+/$"))
    elif choose.count():
        choose.first.click()
        chairs = page.get_by_label("Dosing chair")
        if (
            chairs.count()
        ):  # else the page says what still blocks the dose, or that no chair is free
            chairs.select_option(index=1 if chairs.locator("option").count() > 1 else 0)
            page.get_by_role("button", name="Start the pre-dose check").click()
            expect(page).to_have_url(re.compile(r"/dosing/sessions/[0-9a-f-]+/$"))

    coordinator = new_page()
    coordinator_phone = new_page(**PHONE)
    _check_home(coordinator, demo_site, "cora.coordinator", "First doses blocked", phone=False)
    _check_home(coordinator_phone, demo_site, "cora.coordinator", "Open alerts", phone=True)
    alerts = coordinator.locator('[data-queue="alerts.open"]')
    alerts.get_by_role("link", name=re.compile("Open alerts")).click()
    expect(coordinator).to_have_url(re.compile(r"/alerts/$"))


def _spanish_patient_token() -> str:
    from trellis.checkin.services import issue_link
    from trellis.messaging.services import has_thread
    from trellis.patients.models import Patient

    patient = next(
        p
        for p in Patient.objects.filter(program__slug=DEMO_SLUG, preferred_language="es").order_by(
            "family_name", "given_name"
        )
        if not has_thread(p)
    )
    _link, token = issue_link(patient)
    return token


def test_spanish_patient_writes_on_a_phone_and_reads_the_reply(
    phone_page: Any, new_page: Callable[..., Any], demo_site: str
) -> None:
    from trellis.alerts.models import Alert
    from trellis.checkin.services import resolve

    token = _spanish_patient_token()
    page = phone_page
    page.goto(f"{demo_site}/c/{token}/")
    page.get_by_role("link", name="Abrir sus mensajes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mensajes con su equipo de atención")
    notice = page.get_by_role("note").filter(has_text="no se vigilan a todas horas")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("988")
    expect(notice).to_contain_text("911")
    # The notice comes before the box the patient writes in.
    notice_y = notice.bounding_box()["y"]
    box = page.get_by_label("Su mensaje")
    assert notice_y < box.bounding_box()["y"]
    assert_accessible(page, "patient messages (es, phone)")

    page.get_by_role("button", name="Enviar mensaje").click()  # empty: refused, said plainly
    expect(page.get_by_text("Primero escriba su mensaje.").first).to_be_visible()
    box.fill("Estoy muy triste. A veces quiero morirme.")
    page.get_by_role("button", name="Enviar mensaje").click()
    crisis = page.get_by_role("alert")
    expect(crisis).to_contain_text("Por favor, busque ayuda ahora")
    expect(crisis.get_by_role("link", name="Llamar al 988")).to_be_visible()
    expect(page.get_by_text("Estoy muy triste. A veces quiero morirme.")).to_be_visible()
    assert_accessible(page, "patient messages after sending (es, phone)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the messages page is {width}px wide on a 390px phone"
    patient = resolve(token).patient
    assert Alert.objects.filter(patient=patient, kind="suicide_risk", severity="urgent").exists()

    # A nurse answers from the shared inbox.
    nurse = new_page()
    sign_in(nurse, demo_site, "nuria.nurse")
    nurse.goto(f"{demo_site}/messages/?box=unread")
    nurse.get_by_role("link", name=patient.full_name).first.click()
    expect(nurse.get_by_text("Words of concern: urgent alert raised")).to_be_visible()
    nurse.get_by_label("Your reply").fill("Le llamamos hoy. Si necesita ayuda ahora, llame al 988.")
    nurse.get_by_role("button", name="Send reply").click()
    expect(nurse.get_by_text("Reply sent.", exact=False)).to_be_visible()
    assert_accessible(nurse, "staff thread")

    page.goto(f"{demo_site}/c/{token}/")
    expect(page.get_by_text("1 respuesta nueva")).to_be_visible()
    page.get_by_role("link", name="Abrir sus mensajes").click()
    expect(page.get_by_text("Le llamamos hoy.", exact=False)).to_be_visible()

"""A Spanish-speaking patient reads their preparation guide on a phone and answers the
teach-back, missing one point; the therapist then sees the point to talk through on the
preparation page. axe-core must be clean on every page visited."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def test_spanish_patient_reads_the_guide_and_answers_on_a_phone(
    phone_page: Any, page: Any, demo_site: str
) -> None:
    from trellis.care import services as care
    from trellis.checkin.services import issue_link
    from trellis.guides.models import GuideReading, TeachBack
    from trellis.patients.models import Patient

    patient = next(
        p
        for p in Patient.objects.filter(program__slug=DEMO_SLUG, preferred_language="es")
        if (e := care.current_episode(p)) is not None and e.is_active
    )
    episode = care.current_episode(patient)
    TeachBack.objects.filter(episode=episode).delete()
    _, token = issue_link(patient, purpose="guide")

    phone_page.goto(f"{demo_site}/c/{token}/")
    expect(phone_page.locator("html")).to_have_attribute("lang", "es")
    phone_page.get_by_role("link", name=re.compile("su guía", re.I)).first.click()
    heading = phone_page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Su guía")
    expect(phone_page.get_by_text("no es como los hongos o el LSD", exact=False)).to_be_visible()
    expect(phone_page.locator("footer")).to_contain_text("988")
    assert_accessible(phone_page, "guide (es, phone)")
    assert GuideReading.objects.filter(episode=episode, language="es").exists()

    phone_page.get_by_role("link", name=re.compile("preguntas", re.I)).click()
    expect(phone_page.get_by_role("heading", level=1)).to_have_text("Unas preguntas sobre su guía")
    assert_accessible(phone_page, "teach-back (es, phone)")
    # Touch targets: every answer is at least 44 px tall.
    for box in phone_page.locator("label.choice").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert box >= 44
    # Submitting with a question unanswered stores nothing and says so.
    phone_page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone_page.get_by_role("alert")).to_be_visible()
    assert not TeachBack.objects.filter(episode=episode).exists()
    assert_accessible(phone_page, "teach-back with missing answers (es, phone)")

    groups = phone_page.get_by_role("group")
    for n in range(groups.count()):
        group = groups.nth(n)
        radios = group.get_by_role("radio")
        # The first question answered "like mushrooms or LSD" (a misunderstanding).
        if n == 0:
            group.get_by_label(re.compile("hongos o el LSD")).check()
        else:
            radios.nth(radios.count() - 1 if n == 4 else 0).check()
    phone_page.get_by_role("button", name="Enviar mis respuestas").click()
    expect(phone_page.get_by_role("status")).to_contain_text("Sus respuestas están guardadas")
    expect(phone_page.get_by_text("Esto es lo que debe recordar:")).to_be_visible()
    assert_accessible(phone_page, "teach-back thanks (es, phone)")
    row = TeachBack.objects.get(episode=episode)
    assert "visions" in row.misunderstood

    sign_in(page, demo_site, "tomas.therapist")
    page.goto(f"{demo_site}/integration/patients/{patient.pk}/preparation/")
    panel = page.get_by_role("region", name=re.compile("read and answered|leyó y contestó"))
    expect(panel).to_contain_text("visiones")
    assert_accessible(page, "preparation page with the teach-back note")

"""A patient on a phone adds a journal entry in Spanish and shares it with the therapist
(issue 8, browser test)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from tests.browser.axe import assert_accessible

from trellis.web.demo import DEMO_SLUG


def spanish_patient_link() -> str:
    from trellis.care.models import Episode
    from trellis.checkin.services import issue_link

    episode = (
        Episode.objects.filter(program__slug=DEMO_SLUG, patient__preferred_language="es")
        .select_related("patient")
        .first()
    )
    assert episode is not None
    _link, token = issue_link(episode.patient, purpose="journal")
    return token


def test_patient_adds_a_spanish_entry_on_a_phone_and_shares_it(
    phone_page: Any, demo_site: str
) -> None:
    from trellis.checkin.services import resolve
    from trellis.integration import services

    token = spanish_patient_link()
    page = phone_page
    page.goto(f"{demo_site}/c/{token}/")
    expect(page.get_by_role("heading", name="Su integración")).to_be_visible()
    assert_accessible(page, "check-in page (es)")
    page.get_by_role("link", name="Su diario").click()
    # The journal is private: the birth year once for this link, the crisis line above it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme que es usted")
    expect(page.get_by_text("988").first).to_be_visible()
    assert_accessible(page, "birth-year question (es)")
    year = resolve(token).patient.date_of_birth.year
    page.get_by_label("Año en que nació (4 dígitos)").fill(str(year))
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Su diario")
    page.get_by_label("Su entrada del diario").fill("Hoy caminé junto al río y respiré tranquila.")
    expect(page.get_by_label("Compartir esta entrada con mi terapeuta")).not_to_be_checked()
    page.get_by_role("button", name="Guardar entrada").click()
    expect(page.get_by_text("Su entrada se guardó.")).to_be_visible()
    entry = page.locator(".journal-entry").filter(has_text="Hoy caminé junto al río")
    expect(entry.get_by_text("Privada")).to_be_visible()
    assert_accessible(page, "journal (es)")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the journal page is {width}px wide on a 390px phone"

    link = resolve(token)
    written = services.journal_of_link(link).get(text__startswith="Hoy caminé junto al río")
    assert not written.shared
    entry.get_by_role("button", name="Compartir con mi terapeuta").click()
    entry = page.locator(".journal-entry").filter(has_text="Hoy caminé junto al río")
    expect(entry.get_by_text("Compartida con su terapeuta")).to_be_visible()
    written.refresh_from_db()
    assert written.shared
    assert written.language == "es"

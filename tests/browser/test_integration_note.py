"""A therapist writes an integration note with two commitments and reviews them at the next
session: one done, one carried forward (issue 8, browser test)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import expect
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

from trellis.web.demo import DEMO_SLUG


def dosed_episode() -> Any:
    """A demo course with doses, whose therapist is Tessa."""
    from trellis.care.models import Episode
    from trellis.integration import services

    for episode in Episode.objects.filter(program__slug=DEMO_SLUG).select_related("patient"):
        if (
            episode.primary_therapist
            and episode.primary_therapist.username == "tessa.therapist"
            and services.doses_given(episode)
            and episode.is_active
        ):
            return episode
    raise AssertionError("no demo course with doses")


def review(page: Any, text: str, outcome: str, reason: str = "") -> None:
    group = page.get_by_role("group", name=f"Review: {text}")
    group.get_by_label(outcome, exact=True).check()
    card = page.locator(".review").filter(has=group)
    if reason:
        card.get_by_label("In a word, why").fill(reason)


def test_therapist_writes_two_commitments_and_reviews_them(page: Any, demo_site: str) -> None:
    from trellis.integration import services

    episode = dosed_episode()
    patient = episode.patient
    earlier = [c.text for c in services.open_commitments(episode)]
    soon = (timezone.localdate() + timedelta(days=3)).isoformat()
    sign_in(page, demo_site, "tessa.therapist")
    page.goto(f"{demo_site}/integration/patients/{patient.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Integration thread")
    assert_accessible(page, "integration thread")

    page.get_by_role("link", name="Integration session note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integration session note")
    for text in earlier:
        review(page, text, "done")
    page.get_by_label("Insights, in the patient's words").fill("I am allowed to rest")
    page.get_by_label("New commitment 1").fill("Phone my aunt on Sunday")
    page.get_by_label("Review date for commitment 1").fill(soon)
    page.get_by_label("New commitment 2").fill("Stretch for ten minutes each morning")
    page.get_by_label("Review date for commitment 2").fill(soon)
    page.get_by_role("group", name="Risk check").get_by_label("No current risk identified").check()
    assert_accessible(page, "integration note form")
    page.get_by_role("button", name="Save integration note").click()
    expect(page.get_by_text("Integration note saved.")).to_be_visible()
    expect(page.get_by_text("Phone my aunt on Sunday").first).to_be_visible()

    # The next session: both commitments come up for review; "not yet" needs a word why.
    page.get_by_role("link", name="Integration session note").click()
    review(page, "Phone my aunt on Sunday", "done")
    review(page, "Stretch for ten minutes each morning", "not yet")
    page.get_by_label("Insights, in the patient's words").fill("Calling my aunt felt good")
    page.get_by_role("group", name="Risk check").get_by_label("No current risk identified").check()
    page.get_by_role("button", name="Save integration note").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_text("Say in a word why.", exact=True)).to_be_visible()
    assert_accessible(page, "integration note with errors")
    review(page, "Phone my aunt on Sunday", "done")
    review(page, "Stretch for ten minutes each morning", "not yet", "Back pain this week")
    page.get_by_role("group", name="Risk check").get_by_label("No current risk identified").check()
    page.get_by_role("button", name="Save integration note").click()
    expect(page.get_by_text("Integration note saved.")).to_be_visible()

    still_open = [c.text for c in services.open_commitments(episode)]
    assert still_open == ["Stretch for ten minutes each morning"]
    expect(page.get_by_text("Back pain this week")).to_be_visible()

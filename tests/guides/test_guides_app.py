"""The guides app: the patient's pages through the check-in link, teach-back stored whole, what
staff see (chart, preparation page), adapted copies, the first-dose gate, audit and scoping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.urls import reverse
from tests.integration.helpers import at, no_answers, ready_episode
from tests.support import Cast, sign_in, today

from trellis.audit.models import AuditEvent
from trellis.care import services as care
from trellis.checkin.services import issue_link
from trellis.core import guides as core
from trellis.guides import services
from trellis.guides.models import GuideReading, ProgramGuide, TeachBack

pytestmark = pytest.mark.django_db


def _course(cast: Cast, track: str = "esketamine-trd", adaptations: list[str] | None = None) -> Any:
    episode = ready_episode(cast, track)
    if adaptations:
        episode.adaptations = adaptations
        episode.save(update_fields=["adaptations"])
    return episode


def _answers(guide_id: str, lang: str = "en", **misses: str) -> dict[str, str]:
    guide = core.load_guide(guide_id, lang)
    return {**{q.id: q.answer for q in guide.teach_back}, **misses}


def test_checkin_page_links_to_the_guide(client: Any, cast: Cast) -> None:
    _course(cast)
    _link, token = issue_link(cast.patient_a)
    page = client.get(f"/c/{token}/").content.decode()
    assert "Your preparation guide" in page
    assert reverse("guides:patient_guide", args=[token]) in page
    assert reverse("guides:family_page", args=[token]) not in page  # no family-involved


def test_patient_reads_the_guide_of_their_drug_and_track_audited(client: Any, cast: Cast) -> None:
    episode = _course(cast, "esketamine-trd", ["medical-distrust"])
    _link, token = issue_link(cast.patient_a)
    url = reverse("guides:patient_guide", args=[token])
    page = client.get(url).content.decode()
    assert "Your guide to esketamine nasal spray" in page
    assert "If you are here for depression" in page  # esketamine-trd section
    assert "If you came to us in a crisis" not in page  # esketamine-suicidal only
    assert "Your choices, and who sees what" in page  # medical-distrust
    assert "CLINICAL.md" not in page
    client.get(url)
    reading = GuideReading.objects.get(episode=episode)
    assert reading.times == 2
    assert reading.language == "en"
    assert reading.guide_id == "esketamine"
    audited = AuditEvent.objects.filter(
        object_type="guides.guidereading", actor_username=f"patient:{cast.patient_a.pk}"
    )
    assert audited.count() == 2


def test_spanish_patient_reads_in_spanish(client: Any, cast: Cast) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save(update_fields=["preferred_language"])
    _course(cast, "iv-ptsd", ["language-concordant"])
    _link, token = issue_link(cast.patient_a)
    page = client.get(reverse("guides:patient_guide", args=[token])).content.decode()
    assert "Su guía sobre el tratamiento con ketamina" in page
    assert "Si viene por un trauma" in page
    assert "Atención en su idioma" in page
    assert 'lang="es"' in page


def test_family_page_only_for_family_involved(client: Any, cast: Cast) -> None:
    episode = _course(cast, "iv-trd", ["family-involved"])
    _link, token = issue_link(cast.patient_a)
    page = client.get(reverse("guides:family_page", args=[token])).content.decode()
    assert "For family and friends" in page
    assert "24 hours" in page
    assert GuideReading.objects.get(episode=episode, audience="family").times == 1
    episode.adaptations = []
    episode.save(update_fields=["adaptations"])
    assert client.get(reverse("guides:family_page", args=[token])).status_code == 404


def test_teach_back_missing_answer_stores_nothing(client: Any, cast: Cast) -> None:
    _course(cast)
    _link, token = issue_link(cast.patient_a)
    url = reverse("guides:teach_back", args=[token])
    answers = _answers("esketamine")
    del answers["stay"]
    response = client.post(url, answers)
    assert response.status_code == 400
    assert "Please choose an answer." in response.content.decode()
    assert TeachBack.objects.count() == 0
    response = client.post(url, {**answers, "stay": "q"})
    assert response.status_code == 400
    assert TeachBack.objects.count() == 0


def test_teach_back_misses_become_a_note_not_a_grade(client: Any, cast: Cast) -> None:
    episode = _course(cast)
    _link, token = issue_link(cast.patient_a)
    url = reverse("guides:teach_back", args=[token])
    response = client.post(url, _answers("esketamine", visions="a"), follow=True)
    page = response.content.decode()
    assert "Here is what to remember" in page
    assert "not like mushrooms or LSD" in page
    assert "wrong" not in page.lower()
    assert "score" not in page.lower()
    row = TeachBack.objects.get(episode=episode)
    assert row.misunderstood == ["visions"]
    assert row.answers["visions"] == "a"
    # The therapist sees it on the preparation page and the chart.
    therapist = sign_in(client, cast.therapist_a)
    prep = therapist.get(reverse("integration:preparation", args=[cast.patient_a.pk]))
    text = prep.content.decode()
    assert "What the patient read and answered" in text
    assert "Will esketamine make me see visions?" in text
    assert "1 point to talk through" in text
    chart = therapist.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "Preparation guide" in chart
    assert "Mark as talked through" in chart
    therapist.post(reverse("guides:discussed", args=[row.pk]))
    row.refresh_from_db()
    assert row.discussed_by == cast.therapist_a
    assert row.discussed_at is not None


def test_another_program_cannot_mark_or_see(client: Any, cast: Cast) -> None:
    episode = _course(cast)
    link, _token = issue_link(cast.patient_a)
    pg = services.guide_for_episode(episode, "en")
    row = services.submit_teach_back(link, pg, _answers("esketamine", driving="a"))
    other = sign_in(client, cast.coordinator_b)
    assert other.post(reverse("guides:discussed", args=[row.pk])).status_code == 404
    row.refresh_from_db()
    assert row.discussed_at is None


def test_a_track_requiring_teach_back_blocks_dose_one_until_answered(cast: Cast) -> None:
    text = yaml.safe_load(care.packaged_protocol_text("iv-trd"))
    text["requirements_before_first_dose"] = ["preparation_teach_back"]
    program = cast.program_a
    care.copy_protocol(cast.admin_a, program, "iv-trd", "prog-a-iv-trd")
    care.save_protocol_copy(
        cast.admin_a,
        program,
        "prog-a-iv-trd",
        yaml.safe_dump({**text, "id": "prog-a-iv-trd", "version": "1.0.1"}),
    )
    care.set_protocol_enabled(cast.admin_a, program, "prog-a-iv-trd", True)
    start = today() - timedelta(days=10)
    episode = care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="prog-a-iv-trd",
        referred_on=start,
        start_date=start,
        primary_therapist=cast.therapist_a,
    )
    care.record_screening(cast.coordinator_a, episode, no_answers("iv-trd"), at=at(start, 9))
    for act in care.activities_of(episode).filter(kind="preparation"):
        care.record_event(
            cast.therapist_a, episode, "preparation_done", at=at(start, 11), index=act.index
        )
    blockers = care.first_dose_blockers(episode)
    assert [b.split(":")[0] for b in blockers] == ["preparation_teach_back"]
    link, _token = issue_link(cast.patient_a)
    pg = services.guide_for_episode(episode, "en")
    assert pg.track == "iv-trd"  # the copy gets the packaged track's sections
    assert "depression_track" in {s.id for s in pg.sections}
    services.submit_teach_back(link, pg, _answers("ketamine"))
    assert not any(
        b.startswith("preparation_teach_back") for b in care.first_dose_blockers(episode)
    )


def test_library_shows_readability_and_admin_adapts_a_copy(client: Any, cast: Cast) -> None:
    admin = sign_in(client, cast.admin_a)
    page = admin.get(reverse("guides:library")).content.decode()
    assert "US grade" in page
    assert "Fernández Huerta" in page
    url = reverse("guides:adapt", args=["ketamine", "en"])
    data = yaml.safe_load(core.packaged_guide_text("ketamine", "en"))
    data["intro"] = "Read this before your first dose. Ask us anything. We are here to help you."
    data["version"] = "1.1.0"
    ok = admin.post(url, {"yaml_text": yaml.safe_dump(data), "action": "save"})
    assert ok.status_code == 302
    row = ProgramGuide.objects.get(program=cast.program_a, guide_id="ketamine", language="en")
    assert row.version == "1.1.0"
    assert row.readability <= core.MAX_ENGLISH_GRADE
    assert services.resolve_guide(cast.program_a, "ketamine", "en").intro.startswith("Read this")
    assert services.resolve_guide(cast.program_b, "ketamine", "en").version == "1.0.0"


def test_a_copy_that_is_too_hard_or_drops_a_section_is_refused(client: Any, cast: Cast) -> None:
    admin = sign_in(client, cast.admin_a)
    url = reverse("guides:adapt", args=["esketamine", "en"])
    data = yaml.safe_load(core.packaged_guide_text("esketamine", "en"))
    hard = (
        "Esketamine, a non-competitive N-methyl-D-aspartate receptor antagonist, demonstrates "
        "pharmacodynamic characteristics necessitating comprehensive hemodynamic surveillance."
    )
    for section in data["sections"]:
        section["paragraphs"] = [hard]
        section.pop("bullets", None)
    response = admin.post(url, {"yaml_text": yaml.safe_dump(data), "action": "save"})
    assert response.status_code == 400
    assert "too hard to read" in response.content.decode()
    data = yaml.safe_load(core.packaged_guide_text("esketamine", "en"))
    data["sections"] = [s for s in data["sections"] if s["id"] != "safety_and_rights"]
    response = admin.post(url, {"yaml_text": yaml.safe_dump(data), "action": "save"})
    assert response.status_code == 400
    assert "sections" in response.content.decode()
    assert not ProgramGuide.objects.exists()


def test_only_editors_adapt(client: Any, cast: Cast) -> None:
    nurse = sign_in(client, cast.nurse_a)
    assert nurse.get(reverse("guides:library")).status_code == 200
    response = nurse.get(reverse("guides:adapt", args=["ketamine", "en"]))
    assert response.status_code in {403, 404}
    assert client.get(reverse("guides:show", args=["nope", "en"])).status_code == 404

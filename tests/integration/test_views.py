"""Staff and patient pages of the integration record: forms, errors next to fields, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.integration.helpers import PLAN, at, give_dose, ready_episode, with_plan
from tests.support import Cast, sign_in, today

from trellis.audit.models import AuditEvent
from trellis.checkin.services import issue_link
from trellis.integration import services


def dosed(cast: Cast) -> Any:
    with_plan(cast)
    episode = ready_episode(cast, start=today() - timedelta(days=20))
    give_dose(cast, episode, 1, at(today() - timedelta(days=6), 9))
    give_dose(cast, episode, 2, timezone.now() - timedelta(hours=20))
    return episode


@pytest.mark.django_db
def test_note_page_saves_a_note_with_commitments(client: Any, cast: Cast) -> None:
    episode = dosed(cast)
    services.save_preparation(cast.therapist_a, episode, new_intentions=["Be kinder to myself"])
    intention = services.intentions_of(episode).get()
    sign_in(client, cast.therapist_a)
    url = reverse("integration:new_note", args=[cast.patient_a.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "dose_index": "2",
            "intentions": [str(intention.pk)],
            "insights": "I can rest",
            "risk": "none",
            "commitment_1": "Phone my aunt",
            "commitment_1_review": (today() + timedelta(days=3)).isoformat(),
            "commitment_2": "Stretch each morning",
            "commitment_2_review": (today() + timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [c.text for c in services.open_commitments(episode)] == [
        "Phone my aunt",
        "Stretch each morning",
    ]
    thread = client.get(reverse("integration:thread", args=[cast.patient_a.pk]))
    assert "Phone my aunt" in thread.content.decode()
    partial = client.get(
        reverse("integration:thread", args=[cast.patient_a.pk]),
        {"intention": intention.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "<html" not in partial.content.decode()
    assert "I can rest" in partial.content.decode()


@pytest.mark.django_db
def test_bad_note_shows_errors_next_to_fields_and_saves_nothing(client: Any, cast: Cast) -> None:
    episode = dosed(cast)
    sign_in(client, cast.therapist_a)
    response = client.post(
        reverse("integration:new_note", args=[cast.patient_a.pk]),
        {
            "dose_index": "2",
            "insights": "",
            "risk": "urgent",
            "commitment_1": "Walk",
            "commitment_1_review": (today() - timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Write the patient&#x27;s insights" in body
    assert "Say what was found and what was done." in body
    assert "The date cannot be in the past." in body
    assert not services.notes_of(episode).exists()


@pytest.mark.django_db
def test_safety_plan_page_and_print(client: Any, cast: Cast) -> None:
    sign_in(client, cast.nurse_a)
    url = reverse("integration:safety_plan", args=[cast.patient_a.pk])
    assert client.get(url).status_code == 200
    data = {k: "\n".join(v) for k, v in PLAN.items()}
    assert client.post(url, data).status_code == 302
    assert services.safety_plan_on_file(cast.patient_a)
    bad = client.post(url, {**data, "warning_signs": "\n".join(["x"] * 13)})
    assert bad.status_code == 400
    assert "At most 12 lines." in bad.content.decode()
    printed = client.get(reverse("integration:safety_plan_print", args=[cast.patient_a.pk]))
    assert "988" in printed.content.decode()


@pytest.mark.django_db
def test_process_note_urls_answer_404_to_others_and_audit(client: Any, cast: Cast) -> None:
    note = services.add_process_note(cast.therapist_a, cast.patient_a, "private themes")
    url = reverse("integration:process_note", args=[note.pk])
    sign_in(client, cast.therapist_a)
    assert client.get(url).status_code == 200
    sign_in(client, cast.admin_a)
    assert client.get(url).status_code == 404
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk]))
    assert chart.status_code == 200
    assert "private themes" not in chart.content.decode()
    assert "Integration record" in chart.content.decode()
    assert AuditEvent.objects.filter(
        action="denied", actor_username="ada", object_id=str(note.pk)
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["thread", "safety_plan", "social_needs", "new_note", "process_notes", "shared_journal"],
)
def test_other_program_gets_404(client: Any, cast: Cast, name: str) -> None:
    sign_in(client, cast.coordinator_b)
    assert client.get(reverse(f"integration:{name}", args=[cast.patient_a.pk])).status_code == 404


@pytest.mark.django_db
def test_social_needs_page_screens_and_refers(client: Any, cast: Cast) -> None:
    sign_in(client, cast.coordinator_a)
    url = reverse("integration:social_needs", args=[cast.patient_a.pk])
    answers = {
        "timing": "intake",
        "housing_situation": "steady",
        "housing_problems": "no",
        "food_worry": "never",
        "food_ran_out": "never",
        "transport": "yes",
        "utilities": "no",
        "safety_hurt": "never",
        "safety_insult": "never",
        "safety_threaten": "never",
        "safety_scream": "never",
    }
    missing = client.post(url, {**answers, "transport": ""})
    assert missing.status_code == 400
    assert "Please answer this question." in missing.content.decode()
    assert client.post(url, answers).status_code == 302
    ride = services.add_resource(
        cast.coordinator_a, cast.program_a, name="Dial-a-ride", domain="transport"
    )
    screening = services.screenings_of(cast.coordinator_a, cast.patient_a).get()
    refer = reverse("integration:refer", args=[cast.patient_a.pk, screening.pk])
    prefix = f"s{screening.pk}"
    response = client.post(
        refer,
        {f"{prefix}-resource": ride.pk, f"{prefix}-follow_up_on": today().isoformat()},
    )
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "Dial-a-ride" in page
    assert "Unmet transportation need" in page


@pytest.mark.django_db
def test_board_page_and_fragment(client: Any, cast: Cast) -> None:
    dosed(cast)
    sign_in(client, cast.therapist_a)
    page = client.get(reverse("integration:board"))
    assert page.status_code == 200
    assert "Robin Example" in page.content.decode()
    fragment = client.get(reverse("integration:board"), {"mine": "1"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    sign_in(client, cast.nurse_a)
    assert client.get(reverse("integration:board")).status_code == 404


@pytest.mark.django_db
def test_patient_journal_private_by_default_then_shared(client: Any, cast: Cast) -> None:
    dosed(cast)
    _link, token = issue_link(cast.patient_a, purpose="journal")
    url = reverse("integration:patient_journal", args=[token])
    assert client.get(url, {"lang": "es"}).status_code == 200  # the birth-year question
    confirm = {"confirm_birth_year": "1", "birth_year": "1985", "lang": "es"}
    assert client.post(url, confirm).status_code == 302
    assert "birth_year" not in client.get(url, {"lang": "es"}).content.decode()
    response = client.post(url, {"text": "Hoy caminé junto al río", "lang": "es"})
    assert response.status_code == 302
    entry = services.journal_of_link(_link).get()
    assert not entry.shared
    assert entry.language == "es"
    assert services.shared_entries(cast.therapist_a, cast.patient_a) == []
    share = reverse("integration:patient_share", args=[token, entry.pk])
    assert client.post(share, {"lang": "es"}).status_code == 302
    assert [e.pk for e in services.shared_entries(cast.therapist_a, cast.patient_a)] == [entry.pk]
    home = client.get(reverse("checkin:home", args=[token]), {"lang": "es"}).content.decode()
    assert "Hoy caminé" in home


@pytest.mark.django_db
def test_patient_sees_plan_and_reflects(client: Any, cast: Cast) -> None:
    dosed(cast)
    _link, token = issue_link(cast.patient_a)
    plan_url = reverse("integration:patient_safety_plan", args=[token])
    assert "Walk the dog" not in client.get(plan_url).content.decode()  # asks the year first
    client.post(plan_url, {"confirm_birth_year": "1", "birth_year": "1985"})
    plan = client.get(plan_url)
    assert plan.status_code == 200
    assert "Walk the dog" in plan.content.decode()
    url = reverse("integration:patient_reflection", args=[token])
    assert client.post(url, {"text": "Felt light"}).status_code == 302
    assert "Felt light" in str(
        [
            i.body
            for i in services.episode_thread(cast.therapist_a, services.patient_view(_link).episode)
        ]  # type: ignore[arg-type]
    )

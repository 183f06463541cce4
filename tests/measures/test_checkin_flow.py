"""The patient's check-in flow: questionnaire, missing answers, idempotency, language, crisis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from tests.support import Cast

from trellis.alerts.models import Alert
from trellis.checkin import services as checkin
from trellis.core.errors import InvalidInput
from trellis.measures import services
from trellis.measures.models import Assessment

PHQ9_OK = {str(i): 1 for i in range(1, 9)} | {"9": 0}


def link_for(patient: Any, *due: tuple[str, str]) -> tuple[Any, str]:
    payload = {"due": [{"instrument": i, "timepoint": t} for i, t in due or [("phq9", "week_3")]]}
    return checkin.issue_link(patient, purpose="assessments", payload=payload)


def form(answers: dict[str, int]) -> dict[str, str]:
    return {f"item_{k}": str(v) for k, v in answers.items()}


@pytest.mark.django_db
def test_resubmitting_the_same_form_stores_one_assessment(client: Any, cast: Cast) -> None:
    link, token = link_for(cast.patient_a)
    url = f"/measures/c/{token}/phq9/week_3/"
    first = client.post(url, form(PHQ9_OK))
    assert first.status_code == 302
    assert first["Location"].startswith(url + "thanks/")
    second = client.post(url, form({**PHQ9_OK, "1": 3}))
    assert second.status_code == 302
    rows = list(Assessment.objects.filter(patient=cast.patient_a))
    assert len(rows) == 1
    assert rows[0].total == 8
    assert rows[0].band == "mild"
    assert rows[0].source == "patient"
    assert rows[0].idempotency_key == f"link:{link.pk}:phq9:week_3"
    # The service is idempotent too.
    again = services.record_patient_answers(link, "phq9", PHQ9_OK, "week_3")
    assert again.pk == rows[0].pk


@pytest.mark.django_db
def test_half_filled_form_stores_nothing_and_lists_missing_questions(
    client: Any, cast: Cast
) -> None:
    _, token = link_for(cast.patient_a)
    answers = {k: v for k, v in PHQ9_OK.items() if k not in ("4", "9")}
    response = client.post(f"/measures/c/{token}/phq9/week_3/", form(answers))
    body = response.content.decode()
    assert response.status_code == 400
    assert 'href="#q-4"' in body
    assert 'href="#q-9"' in body
    assert "Please answer question 4." in body
    assert "Please answer question 9." in body
    assert "Please answer question 1." not in body
    assert 'value="1" checked' in body  # given answers are kept
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_out_of_range_answer_counts_as_missing(client: Any, cast: Cast) -> None:
    _, token = link_for(cast.patient_a)
    response = client.post(f"/measures/c/{token}/phq9/week_3/", form({**PHQ9_OK, "2": 7}))
    assert response.status_code == 400
    assert 'href="#q-2"' in response.content.decode()
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_service_refuses_incomplete_answers_and_foreign_items(cast: Cast) -> None:
    link, _ = link_for(cast.patient_a)
    with pytest.raises(InvalidInput, match="item"):
        services.record_patient_answers(link, "phq9", {"1": 1}, "week_3")
    with pytest.raises(InvalidInput, match="not part"):
        services.record_patient_answers(link, "gad7", {}, "week_3")
    link2, _ = link_for(cast.patient_a, ("madrs", "baseline"))
    with pytest.raises(InvalidInput, match="clinicians"):
        services.record_patient_answers(link2, "madrs", {}, "baseline")
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_expired_link_answers_404_and_stores_nothing(client: Any, cast: Cast) -> None:
    _, token = link_for(cast.patient_a)
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1)):
        response = client.post(f"/measures/c/{token}/phq9/week_3/", form(PHQ9_OK))
    assert response.status_code == 404  # the same answer as an unknown link (issue 14)
    assert not Assessment.objects.exists()
    assert client.get("/measures/c/not-a-token/phq9/week_3/").status_code == 404


@pytest.mark.django_db
def test_only_due_patient_questionnaires_are_served(client: Any, cast: Cast) -> None:
    _, token = link_for(cast.patient_a, ("phq9", "week_3"), ("madrs", "week_3"))
    assert client.get(f"/measures/c/{token}/gad7/week_3/").status_code == 404
    assert client.get(f"/measures/c/{token}/madrs/week_3/").status_code == 404  # licence
    assert client.get(f"/measures/c/{token}/phq9/week_4/").status_code == 404


@pytest.mark.django_db
def test_spanish_speaker_gets_the_official_spanish_text(client: Any, cast: Cast) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save()
    _, token = link_for(cast.patient_a)
    body = client.get(f"/measures/c/{token}/phq9/week_3/").content.decode()
    assert 'lang="es"' in body
    assert "Poco interés o placer en hacer cosas" in body
    assert "Más de la mitad de los días" in body
    assert "Little interest" not in body
    assert "Enviar mis respuestas" in body  # the app's own Spanish
    english = client.get(f"/measures/c/{token}/phq9/week_3/?lang=en").content.decode()
    assert "Little interest or pleasure in doing things" in english


@pytest.mark.django_db
def test_item_9_shows_crisis_resources_at_once_and_raises_an_urgent_alert(
    client: Any, cast: Cast
) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save()
    _, token = link_for(cast.patient_a)
    url = f"/measures/c/{token}/phq9/week_3/"
    response = client.post(url, form({**{str(i): 0 for i in range(1, 9)}, "9": 1}), follow=True)
    body = response.content.decode()
    assert response.status_code == 200
    crisis = body.index('class="crisis"')
    assert crisis < body.index("<h2>Gracias")  # crisis first, then the thank-you
    assert "988" in body[crisis:]
    assert "911" in body[crisis:]
    assert 'href="tel:988"' in body
    assert 'href="sms:988"' in body
    assessment = Assessment.objects.get()
    assert assessment.total == 1
    assert assessment.flags == ["suicidal_ideation"]
    alert = Alert.objects.get(kind="suicide_risk")
    assert alert.severity == "urgent"
    assert alert.patient == cast.patient_a
    assert alert.is_open
    assert alert.program == cast.program_a
    # A second submission adds no second alert.
    client.post(url, form({**{str(i): 0 for i in range(1, 9)}, "9": 1}))
    assert Alert.objects.filter(kind="suicide_risk").count() == 1


@pytest.mark.django_db
def test_no_flag_no_crisis_box_and_no_alert(client: Any, cast: Cast) -> None:
    _, token = link_for(cast.patient_a)
    body = client.post(
        f"/measures/c/{token}/phq9/week_3/", form(PHQ9_OK), follow=True
    ).content.decode()
    assert 'class="crisis"' not in body
    assert "Thank you" in body
    assert not Alert.objects.exists()


@pytest.mark.django_db
def test_alert_and_answers_are_stored_together_or_not_at_all(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    link, _ = link_for(cast.patient_a)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("alerts table unavailable")

    monkeypatch.setattr(services, "raise_alert", broken)
    with pytest.raises(RuntimeError):
        services.record_patient_answers(
            link, "phq9", {**{str(i): 0 for i in range(1, 9)}, "9": 2}, "week_3"
        )
    assert not Assessment.objects.exists()  # never stored without its alert


@pytest.mark.django_db
def test_checkin_page_lists_due_questionnaires_done_or_not(client: Any, cast: Cast) -> None:
    link, token = link_for(cast.patient_a, ("phq9", "week_3"), ("gad7", "week_3"))
    body = client.get(f"/c/{token}/").content.decode()
    assert "Mood questionnaire (PHQ-9)" in body
    assert "Anxiety questionnaire (GAD-7)" in body
    assert body.count("not yet") == 2
    services.record_patient_answers(link, "phq9", PHQ9_OK, "week_3")
    body = client.get(f"/c/{token}/").content.decode()
    assert body.count("not yet") == 1
    assert "done" in body
    assert "Example" not in body  # first name only
    thanks = client.get(f"/measures/c/{token}/phq9/week_3/thanks/").content.decode()
    assert "Anxiety questionnaire (GAD-7)" in thanks  # what is left to answer


@pytest.mark.django_db
def test_unacknowledged_item_9_alert_escalates_to_on_call_after_60_minutes(cast: Cast) -> None:
    from trellis.alerts.services import acknowledge, banner_alerts, escalate_overdue
    from trellis.notify.models import OutboxMessage

    program = cast.program_a
    program.on_call_phone = "+15555550999"
    program.save()
    link, _ = link_for(cast.patient_a)
    services.record_patient_answers(
        link, "phq9", {**{str(i): 0 for i in range(1, 9)}, "9": 1}, "week_3"
    )
    alert = Alert.objects.get(kind="suicide_risk")
    assert [a.pk for a in banner_alerts(cast.therapist_a, program)] == [alert.pk]
    assert banner_alerts(cast.coordinator_b, cast.program_b) == []
    escalate_overdue(alert.raised_at + timedelta(minutes=59))
    assert not OutboxMessage.objects.filter(purpose="alert_escalation").exists()
    escalate_overdue(alert.raised_at + timedelta(minutes=61))
    message = OutboxMessage.objects.get(purpose="alert_escalation")
    assert message.channel == "sms"
    assert message.to_address == "+15555550999"
    acknowledge(cast.nurse_a, alert.pk, action_taken="Called; C-SSRS done; seen today.")
    assert banner_alerts(cast.therapist_a, program) == []


@pytest.mark.django_db
@pytest.mark.parametrize("typo", ["+1", "0_1", "١"])
def test_loose_numbers_count_as_missing(client: Any, cast: Cast, typo: str) -> None:
    """Issue 18: ASCII digits only (``"١".isdigit()`` is true and ``int("١")`` is 1)."""
    _, token = link_for(cast.patient_a)
    response = client.post(f"/measures/c/{token}/phq9/week_3/", form({**PHQ9_OK, "2": typo}))
    assert response.status_code == 400
    assert 'href="#q-2"' in response.content.decode()
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_the_checkin_path_cannot_produce_a_cssrs_screen(client: Any, cast: Cast) -> None:
    """CLINICAL.md §2 (issue 18): a C-SSRS screen is administered by a clinician, complete or
    not at all; a link naming it (even with every answer "not asked") stores nothing."""
    link, token = link_for(cast.patient_a, ("cssrs", "baseline"))
    nothing = dict.fromkeys(("q1", "q2", "q3", "q4", "q5", "q6", "q6_3mo"), "not_asked")
    with pytest.raises(InvalidInput, match="clinicians"):
        services.record_patient_answers(link, "cssrs", nothing, "baseline")
    response = client.post(f"/measures/c/{token}/cssrs/baseline/", {"item_q1": "not_asked"})
    assert response.status_code == 404
    assert not Assessment.objects.exists()

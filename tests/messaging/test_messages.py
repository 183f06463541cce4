"""Secure two-way messages: services, views, program scoping, crisis words, notifications."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.http import Http404
from django.urls import reverse
from tests.support import Cast, sign_in

from trellis.alerts.models import Alert
from trellis.audit.models import AuditEvent
from trellis.checkin.services import issue_link
from trellis.core.errors import InvalidInput, NotAllowed
from trellis.messaging import services
from trellis.messaging.models import MAX_LENGTH, Message, Thread
from trellis.notify.models import OutboxMessage


def consent_reminders(cast: Cast, patient: Any = None) -> None:
    from trellis.patients.services import add_consent

    patient = patient or cast.patient_a
    for kind in ("reminders_sms", "reminders_email"):
        add_consent(cast.admin_a, patient, kind=kind, given_on=date(2026, 1, 1))
    patient.email = "robin@example.org"
    patient.save(update_fields=["email"])


@pytest.mark.django_db
def test_patient_message_is_stored_with_audit_and_no_alert(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    message = services.write_as_patient(link, "  Can I move my Thursday visit?  ")
    assert message.body == "Can I move my Thursday visit?"
    assert message.sender == Message.Sender.PATIENT
    assert message.risk_phrases == []
    assert Thread.objects.get(patient=cast.patient_a).program == cast.program_a
    event = AuditEvent.objects.get(object_type="messaging.message", action="create")
    assert event.patient_id == cast.patient_a.pk
    assert event.actor_username == f"patient:{cast.patient_a.pk}"
    assert not Alert.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["", "   \n ", "x" * (MAX_LENGTH + 1)])
def test_empty_or_too_long_message_is_refused_and_nothing_stored(cast: Cast, body: str) -> None:
    link, _token = issue_link(cast.patient_a)
    with pytest.raises(InvalidInput) as exc:
        services.write_as_patient(link, body)
    assert exc.value.field == "body"
    assert not Message.objects.exists()
    assert not Thread.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    ["Some days I want to die.", "Ya no quiero vivir, la verdad.", "I have thought about SUICIDE"],
)
def test_crisis_words_raise_the_urgent_suicide_alert(cast: Cast, body: str) -> None:
    link, _token = issue_link(cast.patient_a)
    message = services.write_as_patient(link, body)
    alert = Alert.objects.get(patient=cast.patient_a)
    assert alert.kind == "suicide_risk"
    assert alert.severity == "urgent"
    assert alert.source_id == str(message.pk)
    assert message.risk_phrases


@pytest.mark.django_db
def test_alert_failure_stores_nothing(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """All or nothing: if the alert cannot be raised, the message is not stored either."""
    from trellis.alerts import services as alerts

    def boom(**_kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(alerts, "raise_alert", boom)
    link, _token = issue_link(cast.patient_a)
    with pytest.raises(RuntimeError):
        services.write_as_patient(link, "I want to kill myself")
    assert not Message.objects.exists()
    assert not Thread.objects.exists()


@pytest.mark.django_db
def test_staff_reply_notifies_without_health_details(cast: Cast) -> None:
    consent_reminders(cast)
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "My ketamine dose made me dizzy, is that normal?")
    body = "Dizziness after a ketamine dose is common; call us if it lasts."
    services.reply(cast.nurse_a, cast.program_a, cast.patient_a.pk, body)
    sent = list(OutboxMessage.objects.filter(purpose="message_waiting"))
    assert {m.channel for m in sent} == {"sms", "email"}
    for m in sent:
        text = (m.subject + " " + m.body).lower()
        for secret in ("ketamine", "dizz", "dose", cast.program_a.name.lower(), "depress"):
            assert secret not in text, (secret, text)
        assert "/messages/c/" in m.body
        assert "Robin" in m.body
    # A second reply while the first is unread sends no second notice.
    services.reply(cast.nurse_a, cast.program_a, cast.patient_a.pk, "One more thing.")
    assert OutboxMessage.objects.filter(purpose="message_waiting").count() == 2
    # The patient reads; the next reply notifies again.
    services.mark_read_by_patient(link)
    services.reply(cast.therapist_a, cast.program_a, cast.patient_a.pk, "See you Thursday.")
    assert OutboxMessage.objects.filter(purpose="message_waiting").count() == 4


@pytest.mark.django_db
def test_spanish_patient_gets_the_notice_in_spanish(cast: Cast) -> None:
    consent_reminders(cast)
    cast.patient_a.preferred_language = "es"
    cast.patient_a.save(update_fields=["preferred_language"])
    subject, body = services.reply_notice(cast.patient_a, "https://x/messages/c/t/")
    assert "mensaje" in subject.lower()
    assert "Abra" in body


@pytest.mark.django_db
def test_opening_the_thread_marks_read_and_is_audited(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Hello")
    rows, total = services.inbox_rows(cast.coordinator_a, cast.program_a, "unread")
    assert total == 1
    assert rows[0].unread == 1
    view = services.open_thread(cast.coordinator_a, cast.program_a, cast.patient_a.pk)
    assert [m.body for m in view.messages] == ["Hello"]
    assert view.messages[0].read_by == cast.coordinator_a
    assert services.inbox_rows(cast.coordinator_a, cast.program_a, "unread")[1] == 0
    assert AuditEvent.objects.filter(
        object_type="messaging.thread", action="view", patient_id=cast.patient_a.pk
    ).exists()


@pytest.mark.django_db
def test_assign_to_clinical_staff_of_the_program_only(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Hello")
    thread = services.assign(cast.nurse_a, cast.program_a, cast.patient_a.pk, cast.therapist_a.pk)
    assert thread.assigned_to == cast.therapist_a
    assert services.inbox_rows(cast.therapist_a, cast.program_a, "mine")[1] == 1
    for outsider in (cast.peer_a, cast.coordinator_b):
        with pytest.raises(InvalidInput) as exc:
            services.assign(cast.nurse_a, cast.program_a, cast.patient_a.pk, outsider.pk)
        assert exc.value.field == "assigned_to"
    assert Thread.objects.get(pk=thread.pk).assigned_to == cast.therapist_a


@pytest.mark.django_db
def test_other_program_and_non_clinical_roles_cannot_read_or_reply(cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Hello")
    with pytest.raises(Http404):
        services.open_thread(cast.coordinator_b, cast.program_b, cast.patient_a.pk)
    with pytest.raises(Http404):
        services.reply(cast.coordinator_b, cast.program_b, cast.patient_a.pk, "hi")
    with pytest.raises(NotAllowed):
        services.reply(cast.peer_a, cast.program_a, cast.patient_a.pk, "hi")
    assert services.inbox_rows(cast.coordinator_b, cast.program_b)[1] == 0
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_views_inbox_thread_reply_and_cross_program_404(client: Any, cast: Cast) -> None:
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Where do I park?")
    sign_in(client, cast.nurse_a)
    inbox = client.get(reverse("messaging:inbox")).content.decode()
    assert "Robin Example" in inbox
    assert "1 unread" in inbox
    url = reverse("messaging:thread", args=[cast.patient_a.pk])
    page = client.get(url).content.decode()
    assert "Where do I park?" in page
    assert client.post(url, {"body": " "}).status_code == 400
    assert client.post(url, {"body": "Behind the building."}).status_code == 302
    assert Message.objects.filter(sender="staff", author=cast.nurse_a).count() == 1
    client.logout()
    sign_in(client, cast.coordinator_b)
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "x"}).status_code == 404
    assert Message.objects.filter(sender="staff").count() == 1


@pytest.mark.django_db
def test_patient_page_warns_before_writing_and_shows_crisis_after_risk_words(
    client: Any, cast: Cast
) -> None:
    _link, token = issue_link(cast.patient_a)
    url = reverse("messaging:patient", args=[token])
    page = client.get(url, {"lang": "es"}).content.decode()
    form_at = page.index("<form")
    assert "no se vigilan" in page[:form_at]
    assert "988" in page[:form_at]
    assert "911" in page[:form_at]
    assert client.post(url, {"body": "", "lang": "es"}).status_code == 400
    response = client.post(url, {"body": "Me quiero morir", "lang": "es"})
    assert response.status_code == 302
    assert "help=1" in response["Location"]
    after = client.get(response["Location"]).content.decode()
    assert 'role="alert"' in after
    assert "Me quiero morir" in after
    assert Alert.objects.filter(kind="suicide_risk", patient=cast.patient_a).count() == 1


@pytest.mark.django_db
def test_patient_sees_reply_and_it_becomes_read(client: Any, cast: Cast) -> None:
    link, token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Hi")
    services.reply(cast.nurse_a, cast.program_a, cast.patient_a.pk, "Hello Robin")
    home = client.get(reverse("checkin:home", args=[token])).content.decode()
    assert "1 new reply" in home
    page = client.get(reverse("messaging:patient", args=[token])).content.decode()
    assert "Hello Robin" in page
    assert services.unread_replies(link) == 0


@pytest.mark.django_db
def test_chart_panel_links_to_the_conversation(client: Any, cast: Cast) -> None:
    sign_in(client, cast.therapist_a)
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "Write to the patient" in chart
    assert reverse("messaging:thread", args=[cast.patient_a.pk]) in chart
    link, _token = issue_link(cast.patient_a)
    services.write_as_patient(link, "Hello")
    chart = client.get(reverse("patients:chart", args=[cast.patient_a.pk])).content.decode()
    assert "1 unread" in chart
    assert "Open the conversation" in chart


@pytest.mark.django_db
def test_no_notice_without_consent_but_the_reply_is_kept(cast: Cast) -> None:
    services.reply(cast.nurse_a, cast.program_a, cast.patient_a.pk, "Hello Robin")
    assert Message.objects.filter(sender="staff").count() == 1
    assert not OutboxMessage.objects.exists()
    event = AuditEvent.objects.get(object_type="messaging.message", action="create")
    assert event.detail["notified"] == []

"""Alerts: raised once, on every staff page until acknowledged with an action, escalated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from tests.support import Cast, sign_in

from trellis.alerts import services
from trellis.alerts.models import Alert
from trellis.core.errors import Conflict, InvalidInput
from trellis.notify.models import OutboxMessage


def urgent(cast: Cast, key: str = "k1", **kwargs: Any) -> Alert:
    return services.raise_alert(
        program=cast.program_a,
        kind="suicide_risk",
        severity="urgent",
        title="PHQ-9 item 9 answered 2",
        dedupe_key=key,
        patient=cast.patient_a,
        **kwargs,
    )


@pytest.mark.django_db
def test_raise_is_idempotent(cast: Cast) -> None:
    assert urgent(cast).pk == urgent(cast).pk
    assert Alert.objects.count() == 1


@pytest.mark.django_db
def test_patient_of_another_program_refused(cast: Cast) -> None:
    with pytest.raises(InvalidInput, match="patient"):
        services.raise_alert(
            program=cast.program_a,
            kind="other",
            severity="info",
            title="x",
            dedupe_key="x",
            patient=cast.patient_b,
        )


@pytest.mark.django_db
def test_urgent_alert_on_every_staff_page_until_acknowledged(client: Any, cast: Cast) -> None:
    alert = urgent(cast)
    sign_in(client, cast.nurse_a)
    for url in (reverse("web:home"), reverse("patients:list")):
        assert "PHQ-9 item 9 answered 2" in client.get(url).content.decode()
    sign_in(client, cast.coordinator_b)  # another program does not see it
    assert "PHQ-9 item 9" not in client.get(reverse("web:home")).content.decode()
    assert client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    sign_in(client, cast.nurse_a)
    url = reverse("alerts:detail", args=[alert.pk])
    response = client.post(url, {"action_taken": ""})
    assert response.status_code == 200
    assert Alert.objects.get(pk=alert.pk).is_open
    response = client.post(
        url, {"action_taken": "Called patient; C-SSRS low; safety plan reviewed"}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == cast.nurse_a
    assert "C-SSRS" in alert.action_taken
    assert "PHQ-9 item 9" not in client.get(reverse("web:home")).content.decode()


@pytest.mark.django_db
def test_acknowledge_twice_and_delete_refused(cast: Cast) -> None:
    alert = urgent(cast)
    services.acknowledge(cast.nurse_a, alert.pk, action_taken="Called the patient back")
    with pytest.raises(Conflict):
        services.acknowledge(cast.nurse_a, alert.pk, action_taken="Again, later")
    with pytest.raises(Conflict):
        alert.delete()
    with pytest.raises(Conflict):
        Alert.objects.all().delete()


@pytest.mark.django_db
def test_escalates_after_the_programs_time_then_again(cast: Cast) -> None:
    program = cast.program_a
    program.on_call_email = "oncall@example.org"
    program.on_call_phone = "+15555550199"
    program.save()
    t0 = timezone.now()
    alert = urgent(cast, at=t0)
    assert services.escalate_overdue(t0 + timedelta(minutes=59)) == []
    assert [a.pk for a in services.escalate_overdue(t0 + timedelta(minutes=60))] == [alert.pk]
    messages = OutboxMessage.objects.filter(purpose="alert_escalation")
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    # Not again within the next interval; again after it; never once acknowledged.
    assert services.escalate_overdue(t0 + timedelta(minutes=90)) == []
    assert len(services.escalate_overdue(t0 + timedelta(minutes=121))) == 1
    assert OutboxMessage.objects.filter(purpose="alert_escalation").count() == 4
    services.acknowledge(cast.nurse_a, alert.pk, action_taken="Spoke with the patient")
    assert services.escalate_overdue(t0 + timedelta(minutes=500)) == []


@pytest.mark.django_db
def test_escalation_without_on_call_contact_is_recorded_not_dropped(cast: Cast) -> None:
    from trellis.audit.models import AuditEvent

    t0 = timezone.now()
    alert = urgent(cast, at=t0)
    services.escalate_overdue(t0 + timedelta(minutes=61))
    event = AuditEvent.objects.get(action="notify", object_id=str(alert.pk))
    assert "no on-call contact" in event.detail["error"]
    assert Alert.objects.get(pk=alert.pk).is_open

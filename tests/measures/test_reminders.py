"""Reminders for due assessments: consent respected, each due item sent once, patient's language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from tests.measures.helpers import days_ago
from tests.support import Cast

from trellis.care import services as care
from trellis.measures import services
from trellis.measures.models import Reminder
from trellis.notify.jobs import PERIODIC_JOBS
from trellis.notify.models import OutboxMessage
from trellis.patients.services import add_consent


def course_before_dose_1(cast: Cast) -> Any:
    """A fresh iv-trd course: dose 1 is planned within 14 days, so the baselines are due."""
    return care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-trd",
        referred_on=days_ago(1),
        start_date=timezone.now().date(),
    )


def consent(cast: Cast, kind: str) -> None:
    add_consent(cast.nurse_a, cast.patient_a, kind=kind, given_on=days_ago(1))


@pytest.mark.django_db
def test_the_job_is_registered() -> None:
    assert ("measures.send_due_reminders", services.send_due_reminders) in PERIODIC_JOBS


@pytest.mark.django_db
def test_baselines_are_due_before_the_first_dose(cast: Cast) -> None:
    episode = course_before_dose_1(cast)
    due = services.open_due(episode, timezone.now())
    # The C-SSRS baseline is due too, but it is administered by a clinician (never sent).
    assert {(d.instrument, d.timepoint) for d in due} == {
        ("phq9", "baseline"),
        ("gad7", "baseline"),
        ("cssrs", "baseline"),
    }


@pytest.mark.django_db
def test_no_consent_no_message(cast: Cast) -> None:
    course_before_dose_1(cast)
    assert services.send_due_reminders(timezone.now()) == 0
    assert not OutboxMessage.objects.exists()
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_sms_consent_one_link_for_the_due_items_and_no_duplicates(cast: Cast) -> None:
    course_before_dose_1(cast)
    consent(cast, "reminders_sms")
    now = timezone.now()
    assert services.send_due_reminders(now) == 1
    assert services.send_due_reminders(now + timedelta(minutes=1)) == 0
    message = OutboxMessage.objects.get()
    assert message.channel == "sms"
    assert message.to_address == "+15555550123"
    assert "your care team has a short check-in for you" in message.body
    assert "PHQ" not in message.body
    assert "depress" not in message.body.lower()
    reminders = Reminder.objects.all()
    assert {(r.instrument, r.timepoint) for r in reminders} == {
        ("phq9", "baseline"),
        ("gad7", "baseline"),
    }
    link = reminders[0].link
    assert link is not None
    assert link.payload["due"]
    assert link.purpose == "assessments"


@pytest.mark.django_db
def test_answered_items_are_not_sent(cast: Cast) -> None:
    course_before_dose_1(cast)
    consent(cast, "reminders_sms")
    services.record_clinician_total(cast.nurse_a, cast.patient_a, "madrs", 20)  # not a reminder
    from trellis.checkin import services as checkin

    link, _ = checkin.issue_link(
        cast.patient_a, payload={"due": [{"instrument": "phq9", "timepoint": "baseline"}]}
    )
    services.record_patient_answers(link, "phq9", {str(i): 0 for i in range(1, 10)}, "baseline")
    services.send_due_reminders(timezone.now())
    assert [(r.instrument, r.timepoint) for r in Reminder.objects.all()] == [("gad7", "baseline")]


@pytest.mark.django_db
def test_email_consent_and_the_patients_language(cast: Cast) -> None:
    cast.patient_a.preferred_language = "es"
    cast.patient_a.email = "robin@example.org"
    cast.patient_a.save()
    course_before_dose_1(cast)
    consent(cast, "reminders_email")
    services.send_due_reminders(timezone.now())
    message = OutboxMessage.objects.get()
    assert message.channel == "email"
    assert message.to_address == "robin@example.org"
    assert message.body.startswith("Hola Robin, su equipo de atención")
    assert message.subject == "Un breve cuestionario de su equipo de atención"


@pytest.mark.django_db
def test_withdrawn_course_gets_no_reminders(cast: Cast) -> None:
    episode = course_before_dose_1(cast)
    consent(cast, "reminders_sms")
    care.withdraw_episode(cast.coordinator_a, episode, reason="moved away")
    assert services.send_due_reminders(timezone.now()) == 0


@pytest.mark.django_db
def test_pre_dose_reminder_uses_the_planned_dose(cast: Cast) -> None:
    episode = course_before_dose_1(cast)
    dose1 = care.activities_of(episode).get(kind="dose", index=1)
    nine = timezone.make_aware(
        timezone.datetime.combine(dose1.target, timezone.datetime.min.time())
    ) + timedelta(hours=9)
    due = services.open_due(episode, nine - timedelta(hours=2))
    assert ("phq9", "pre_dose_1") in {(d.instrument, d.timepoint) for d in due}
    assert not any(d.kind == "post_dose" for d in services.schedule_for(episode))


@pytest.mark.django_db
def test_bipolar_course_gets_its_phq9_reminder_and_asrm_is_not_sent(cast: Cast) -> None:
    """Issue 18: the bipolar track scheduled ASRM, which the registry lacked, so the job raised
    for every bipolar course and sent nothing, PHQ-9 included."""
    care.start_episode(
        cast.coordinator_a,
        cast.patient_a,
        protocol_id="iv-bipolar",
        referred_on=days_ago(1),
        start_date=timezone.now().date(),
    )
    consent(cast, "reminders_sms")
    assert services.send_due_reminders(timezone.now()) == 1
    sent = {(r.instrument, r.timepoint) for r in Reminder.objects.all()}
    assert ("phq9", "baseline") in sent
    assert not any(i == "asrm" for i, _t in sent)  # totals only: entered by a clinician
    sent_now = services.send_checkin_now(cast.nurse_a, cast.patient_a)
    assert sent_now.link.payload["due"]


@pytest.mark.django_db
def test_a_failing_course_raises_a_staff_alert_and_the_others_still_get_reminders(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support import PATIENT_DATA

    from trellis.alerts.models import Alert
    from trellis.patients.services import register_patient

    broken = course_before_dose_1(cast)
    other = register_patient(
        cast.admin_a, cast.program_a, {**PATIENT_DATA, "given_name": "Kai", "phone": "+15555550999"}
    )
    care.start_episode(
        cast.coordinator_a,
        other,
        protocol_id="iv-trd",
        referred_on=days_ago(1),
        start_date=timezone.now().date(),
    )
    consent(cast, "reminders_sms")
    add_consent(cast.nurse_a, other, kind="reminders_sms", given_on=days_ago(1))
    real = services.open_due

    def open_due(episode: Any, now: Any) -> Any:
        if episode.pk == broken.pk:
            raise RuntimeError("schedule cannot be computed")
        return real(episode, now)

    monkeypatch.setattr(services, "open_due", open_due)
    now = timezone.now()
    assert services.send_due_reminders(now) == 1  # the other course still gets its link
    assert Reminder.objects.filter(patient=other).exists()
    alert = Alert.objects.get(kind="reminder_failed")
    assert alert.patient == cast.patient_a
    assert alert.severity == "warning"
    assert "schedule cannot be computed" in alert.detail
    services.send_due_reminders(now + timedelta(minutes=1))
    assert Alert.objects.filter(kind="reminder_failed").count() == 1  # once per course and day
    # Staff can still send a check-in by hand (the primary instrument) for the failing course.
    sent = services.send_checkin_now(cast.nurse_a, cast.patient_a)
    assert [d["instrument"] for d in sent.link.payload["due"]] == ["phq9"]

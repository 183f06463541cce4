"""Raise, show, acknowledge and escalate alerts.

Any app raises an alert with :func:`raise_alert` (idempotent on ``dedupe_key``). Urgent open alerts
show on top of every staff page of their program (:func:`banner_alerts`) until a clinician
acknowledges them with the action taken (:func:`acknowledge`). :func:`escalate_overdue`, run by the
worker every minute, sends urgent alerts still open after the program's escalation time to its
on-call contact through the outbox, and again after each further interval: an alert is never
dropped silently.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone

from trellis.accounts.models import CLINICAL_ROLES, Program, Role
from trellis.accounts.services import require_roles
from trellis.alerts.models import Alert, Kind, Severity
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.core.errors import Conflict, InvalidInput
from trellis.notify import services as notify
from trellis.notify.models import Channel
from trellis.patients.models import Patient


def raise_alert(
    *,
    program: Program,
    kind: str,
    severity: str,
    title: str,
    dedupe_key: str,
    detail: str = "",
    patient: Patient | None = None,
    source: Any = None,
    at: datetime | None = None,
) -> Alert:
    """Open an alert unless one with the same ``dedupe_key`` exists in the program."""
    if severity not in Severity.values:
        raise InvalidInput("severity", f"unknown severity {severity!r}")
    if patient is not None and patient.program_id != program.pk:
        raise InvalidInput("patient", "the patient belongs to another program")
    existing = Alert.objects.filter(program=program, dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                program=program,
                patient=patient,
                kind=kind,
                severity=severity,
                title=title[:200],
                detail=detail,
                dedupe_key=dedupe_key[:200],
                source_type=source._meta.label_lower if source is not None else "",
                source_id=str(source.pk) if source is not None else "",
                raised_at=at or timezone.now(),
            )
            record(
                action=Action.CREATE,
                program=program,
                patient_id=patient.pk if patient else None,
                obj=alert,
                detail={"kind": kind, "severity": severity},
            )
    except IntegrityError:
        return Alert.objects.get(program=program, dedupe_key=dedupe_key)
    return alert


# Alerts only a prescriber may close: each holds the patient's next dose until then.
PRESCRIBER_REVIEW_KINDS = frozenset({Kind.POSSIBLE_MANIA})


def open_review_alerts(patient: Patient) -> list[Alert]:
    """The patient's open alerts that hold the next dose until a prescriber reviews them (the
    caller holds an access-checked patient)."""
    return list(
        Alert.objects.filter(
            program=patient.program, patient=patient, kind__in=PRESCRIBER_REVIEW_KINDS
        )
        .open()
        .order_by("raised_at", "pk")
    )


def alert_on_risk_words(
    *,
    program: Program,
    patient: Patient,
    text: str,
    source: Any,
    where: str,
    at: datetime | None = None,
) -> list[str]:
    """The one path for a patient's free text (CLINICAL.md §2): look for suicide-risk words
    (:func:`trellis.core.risk_text.risk_phrases`) and, when any is found, raise an urgent
    ``suicide_risk`` alert for same-day contact (once per ``source``). Returns the phrases found;
    the caller shows the patient the crisis text (988, 911) at once when the list is not empty.
    Call it inside the transaction that stores the text, so text and alert are stored together.
    """
    from trellis.core.risk_text import risk_phrases

    found = risk_phrases(text)
    if found:
        raise_alert(
            program=program,
            kind="suicide_risk",
            severity="urgent",
            title=f"Suicide risk: words of concern in {where}",
            dedupe_key=f"suicide:text:{source._meta.label_lower}:{source.pk}",
            detail=(
                f"Words found: {', '.join(found)}. Read what the patient wrote and contact them "
                "today; administer the C-SSRS."
            ),
            patient=patient,
            source=source,
            at=at,
        )
    return found


def open_alerts(user: Any, program: Program | None) -> QuerySet[Alert]:
    if program is None:
        return Alert.objects.none()
    return Alert.objects.visible_to(user).filter(program=program).open().select_related("patient")


def banner_alerts(user: Any, program: Program | None) -> list[Alert]:
    """Urgent open alerts of the program, for the top of every staff page."""
    return list(open_alerts(user, program).filter(severity=Severity.URGENT)[:20])


def get_alert(user: Any, alert_id: int) -> Alert:
    try:
        return Alert.objects.visible_to(user).select_related("patient").get(pk=alert_id)
    except Alert.DoesNotExist as exc:
        raise Http404("No such alert") from exc


@transaction.atomic
def acknowledge(
    user: Any, alert_id: int, *, action_taken: str, request: HttpRequest | None = None
) -> Alert:
    """A named clinician acknowledges the alert and records what was done."""
    alert = get_alert(user, alert_id)
    require_roles(user, alert.program, CLINICAL_ROLES)
    if alert.kind in PRESCRIBER_REVIEW_KINDS:
        # CLINICAL.md §1, §6: a possible-mania screen needs a prescriber's review.
        require_roles(user, alert.program, [Role.PRESCRIBER])
    if not alert.is_open:
        raise Conflict("This alert was already acknowledged.")
    action = action_taken.strip()
    if len(action) < 5:
        raise InvalidInput("action_taken", "say what was done (at least a few words)")
    Alert.objects.filter(pk=alert.pk).update(
        acknowledged_by=user, acknowledged_at=timezone.now(), action_taken=action
    )
    alert.refresh_from_db()
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=alert.program,
        patient_id=alert.patient_id,
        obj=alert,
        detail={"acknowledged": True},
    )
    return alert


def _escalation_body(alert: Alert) -> str:
    # E-mail and SMS are not secure channels: no patient name and no clinical detail, only
    # where to look (the alert number) and since when.
    raised = timezone.localtime(alert.raised_at)
    return (
        f"Trellis: an urgent {alert.get_kind_display().lower()} alert (#{alert.pk}) in "
        f"{alert.program.name} has not been acknowledged since {raised:%Y-%m-%d %H:%M}. "
        f"Please sign in to Trellis and act on it."
    )


def escalate_overdue(now: datetime | None = None) -> list[Alert]:
    """Send every urgent alert still open past its program's escalation time to the on-call
    contact (e-mail and SMS where set), and again after each further interval."""
    now = now or timezone.now()
    escalated = []
    urgent = (
        Alert.objects.open().filter(severity=Severity.URGENT).select_related("program", "patient")
    )
    for alert in urgent:
        interval = timedelta(minutes=alert.program.alert_escalation_minutes)
        due_from = (alert.escalated_at or alert.raised_at) + interval
        if now < due_from:
            continue
        program = alert.program
        n = alert.escalation_count + 1
        targets = [
            (Channel.EMAIL, program.on_call_email),
            (Channel.SMS, program.on_call_phone),
        ]
        sent_any = False
        for channel, address in targets:
            if address:
                notify.enqueue(
                    program=program,
                    channel=channel,
                    to_address=address,
                    subject=f"Trellis: urgent alert #{alert.pk} not acknowledged",
                    body=_escalation_body(alert),
                    purpose="alert_escalation",
                    dedupe_key=f"alert:{alert.pk}:escalation:{n}:{channel}",
                )
                sent_any = True
        if not sent_any:
            # No on-call contact configured: the alert stays on every page; record the gap.
            record(
                action=Action.NOTIFY,
                program=program,
                patient_id=alert.patient_id,
                obj=alert,
                detail={"escalation": n, "error": "no on-call contact configured"},
            )
        Alert.objects.filter(pk=alert.pk).update(escalated_at=now, escalation_count=n)
        escalated.append(alert)
    return escalated

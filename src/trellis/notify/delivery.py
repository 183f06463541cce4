"""Deliver queued messages: one attempt per call, retries with exponential back-off.

A failed send stays visible on the outbox page with its error; after ``MAX_ATTEMPTS`` it is marked
``gave_up`` and raises a warning alert for the program, so a message is never dropped silently.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from trellis.notify.models import OutboxMessage, Status
from trellis.notify.transports import DeliveryError, transport_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 2, 4, 8, 16, 32)


def backoff(attempts: int) -> timedelta:
    """Minutes to wait after the ``attempts``-th failure: 1, 2, 4, 8, 16, 32."""
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def deliver(message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Try once to send the message if it is due; record the outcome."""
    now = now or timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update()
            .filter(pk=message_id, status__in=[Status.QUEUED, Status.FAILED])
            .first()
        )
        if message is None or message.next_attempt_at > now:
            return message
        try:
            transport_for(message.channel).send(message)
        except DeliveryError as exc:
            message.attempts += 1
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = Status.GAVE_UP
            else:
                message.status = Status.FAILED
                message.next_attempt_at = now + backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            log.warning("outbox message %s failed (%s): %s", message.pk, message.attempts, exc)
            if message.status == Status.GAVE_UP:
                _alert_undelivered(message)
            return message
        message.attempts += 1
        message.status = Status.SENT
        message.sent_at = now
        message.last_error = ""
        message.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return message


def _alert_undelivered(message: OutboxMessage) -> None:
    from trellis.alerts.services import raise_alert

    raise_alert(
        program=message.program,
        kind="delivery_failed",
        severity="warning",
        title=f"A {message.get_channel_display()} message could not be delivered",
        detail=f"{message.purpose} to {message.to_address}: {message.last_error}",
        dedupe_key=f"outbox:{message.pk}:gave_up",
        patient=message.patient,
        source=message,
    )


def deliver_due(now: datetime | None = None) -> int:
    """Attempt every queued or failed message whose next attempt is due (a periodic job)."""
    now = now or timezone.now()
    due = OutboxMessage.objects.filter(
        status__in=[Status.QUEUED, Status.FAILED], next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due[:500]):
        deliver(pk, now)
        count += 1
    return count


@task()
def deliver_task(message_id: int) -> None:
    """The background task queued for each new message (django-tasks, database backend)."""
    deliver(message_id)


def enqueue_delivery(message_id: int) -> None:
    deliver_task.enqueue(message_id)

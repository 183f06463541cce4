"""Queue messages for delivery. Delivery, transports and retries: see ``notify.delivery``.

Callers (reminders, alert escalation, appointment notices) use :func:`enqueue`; they never send
directly, so that every message is recorded, retried on failure and visible to staff.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from trellis.accounts.models import Program
from trellis.core.errors import InvalidInput
from trellis.notify.models import Channel, OutboxMessage, Status
from trellis.notify.transports import DeliveryError, transport_for
from trellis.patients.models import Patient

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 2, 4, 8, 16, 32)

# Hooks run after a message is queued (the delivery module registers the task that sends it).
AFTER_ENQUEUE: list[Callable[[int], None]] = []


def enqueue(
    *,
    program: Program,
    channel: str,
    to_address: str,
    body: str,
    purpose: str,
    subject: str = "",
    patient: Patient | None = None,
    dedupe_key: str = "",
) -> OutboxMessage:
    """Queue one message; with ``dedupe_key``, queuing the same message again returns the first."""
    if channel not in Channel.values:
        raise InvalidInput("channel", f"unknown channel {channel!r}")
    if not to_address.strip():
        raise InvalidInput("to_address", "there is no address to send to")
    if not body.strip():
        raise InvalidInput("body", "a message needs a body")
    if dedupe_key:
        existing = OutboxMessage.objects.filter(program=program, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                program=program,
                patient=patient,
                channel=channel,
                to_address=to_address.strip(),
                subject=subject,
                body=body,
                purpose=purpose,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:
        # A concurrent enqueue with the same key won the race: return its message.
        return OutboxMessage.objects.get(program=program, dedupe_key=dedupe_key)
    _after_commit(message.pk)
    return message


def unsent_channels(program: Program, patient: Patient, dedupe: str) -> list[tuple[str, str]]:
    """The (channel, address) pairs :func:`message_patient` would still queue for ``dedupe``:
    consented channels with no message under that key yet."""
    from trellis.patients.services import reminder_contacts

    contacts = reminder_contacts(patient)
    done = set(
        OutboxMessage.objects.filter(
            program=program, dedupe_key__in=[f"{dedupe}:{c}" for c, _a in contacts]
        ).values_list("dedupe_key", flat=True)
    )
    return [(c, a) for c, a in contacts if f"{dedupe}:{c}" not in done]


def message_patient(
    *, program: Program, patient: Patient, subject: str, body: str, purpose: str, dedupe: str
) -> list[tuple[str, str]]:
    """Queue ``body`` once per channel the patient consented to and has an address for (an
    e-mail gets ``subject``, an SMS does not); ``dedupe`` + the channel is the dedupe key, so
    asking again sends nothing new. Returns the (channel, address) pairs."""
    from trellis.patients.services import reminder_contacts

    sent = []
    for channel, address in reminder_contacts(patient):
        enqueue(
            program=program,
            channel=channel,
            to_address=address,
            body=body,
            subject=subject if channel == "email" else "",
            purpose=purpose,
            patient=patient,
            dedupe_key=f"{dedupe}:{channel}",
        )
        sent.append((channel, address))
    return sent


def _after_commit(message_id: int) -> None:
    for hook in AFTER_ENQUEUE:
        transaction.on_commit(functools.partial(hook, message_id))


def messages_for(user: Any, program: Program | None) -> Any:
    """The program's outbox, for staff with a clinical role there."""
    if program is None:
        return OutboxMessage.objects.none()
    return OutboxMessage.objects.visible_to(user).filter(program=program)


def retry_now(user: Any, program: Program | None, message_id: int, *, request: Any = None) -> None:
    """Staff ask to retry a failed or abandoned message at once."""
    from django.http import Http404
    from django.utils import timezone

    from trellis.audit.models import Action
    from trellis.audit.services import record
    from trellis.notify.models import Status

    message = messages_for(user, program).filter(pk=message_id).first()
    if message is None:
        raise Http404("No such message")
    if message.status == Status.SENT:
        return
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED if message.attempts else Status.QUEUED,
        next_attempt_at=timezone.now(),
        attempts=min(message.attempts, 5),
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=message.program,
        patient_id=message.patient_id,
        obj=message,
        detail={"retry": True},
    )
    _after_commit(message.pk)


# --- delivery (one attempt per call; the worker and the task call these) -------------------


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

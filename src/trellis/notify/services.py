"""Queue messages for delivery. Delivery, transports and retries: see ``notify.delivery``.

Callers (reminders, alert escalation, appointment notices) use :func:`enqueue`; they never send
directly, so that every message is recorded, retried on failure and visible to staff.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from trellis.accounts.models import Program
from trellis.core.errors import InvalidInput
from trellis.notify.models import Channel, OutboxMessage
from trellis.patients.models import Patient

# Hooks run after a message is queued (the delivery module registers the task that sends it).
AFTER_ENQUEUE: list[Any] = []


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
    for hook in AFTER_ENQUEUE:
        transaction.on_commit(lambda hook=hook, pk=message.pk: hook(pk))
    return message


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
    for hook in AFTER_ENQUEUE:
        transaction.on_commit(lambda hook=hook, pk=message.pk: hook(pk))

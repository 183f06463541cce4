"""The delivery task and the names of the delivery rules (which live in ``notify.services``):
one attempt per call, retries with exponential back-off.

A failed send stays visible on the outbox page with its error; after ``MAX_ATTEMPTS`` it is marked
``gave_up`` and raises a warning alert for the program, so a message is never dropped silently.
"""

from __future__ import annotations

from django_tasks import task

from trellis.notify.services import BACKOFF_MINUTES, MAX_ATTEMPTS, backoff, deliver, deliver_due

__all__ = [
    "BACKOFF_MINUTES",
    "MAX_ATTEMPTS",
    "backoff",
    "deliver",
    "deliver_due",
    "deliver_task",
    "enqueue_delivery",
]


@task()
def deliver_task(message_id: int) -> None:
    """The background task queued for each new message (django-tasks, database backend)."""
    deliver(message_id)


def enqueue_delivery(message_id: int) -> None:
    deliver_task.enqueue(message_id)

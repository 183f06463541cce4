"""The outbox: every message Trellis sends (e-mail, SMS, console) is a row here first.

A message is delivered by a background task (django-tasks, database backend); a failed send is
retried with back-off and stays visible to staff; nothing is dropped silently.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.audit.exposure import identifying
from trellis.patients.models import Patient


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message (SMS)")
    CONSOLE = "console", _("Console (demo)")


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed, will retry")
    GAVE_UP = "gave_up", _("not delivered")


class OutboxQuerySet(ProgramScopedQuerySet["OutboxMessage"]):
    pass


# The recipient's address and the text (which greets the patient by name) identify them.
@identifying("to_address", "body")
class OutboxMessage(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    # What the message is for, e.g. "checkin_reminder", "alert_escalation", "appointment".
    purpose = models.CharField(max_length=40)
    # Idempotency: the same key in the same program is one message, however often it is queued.
    dedupe_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="outbox_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to_address}: {self.purpose} ({self.status})"

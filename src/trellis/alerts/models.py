"""Alerts: things a clinician must see and act on. Never dropped silently.

An alert stays open (and, when urgent, on top of every staff page of its program) until a named
clinician acknowledges it and records the action taken. Alerts cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.core.errors import Conflict
from trellis.patients.models import Patient


class Kind(models.TextChoices):
    SUICIDE_RISK = "suicide_risk", _("Suicide risk")
    VITAL_SIGN = "vital_sign", _("Vital sign out of range")
    INTEGRATION_GAP = "integration_gap", _("Integration gap")
    RELAPSE_WARNING = "relapse_warning", _("Relapse warning")
    REMS_FORM_DUE = "rems_form_due", _("REMS form due")
    DELIVERY_FAILED = "delivery_failed", _("Message not delivered")
    # CLINICAL.md §1: ASRM total >= 6 -> a prescriber review before the next dose.
    POSSIBLE_MANIA = "possible_mania", _("Possible mania")
    # A course's check-in reminders could not be worked out (issue 18): staff must see it.
    REMINDER_FAILED = "reminder_failed", _("Check-in reminders failed")
    OTHER = "other", _("Other")


class Severity(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Information")


class AlertQuerySet(ProgramScopedQuerySet["Alert"]):
    def open(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise Conflict("Alerts are never deleted: acknowledge them with the action taken.")


class Alert(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    # Raising the same alert twice (same program and key) returns the first one.
    dedupe_key = models.CharField(max_length=200)
    source_type = models.CharField(max_length=100, blank=True)
    source_id = models.CharField(max_length=100, blank=True)
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = models.TextField(blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_count = models.PositiveSmallIntegerField(default=0)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["program", "dedupe_key"], name="alert_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.title}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise Conflict("Alerts are never deleted: acknowledge them with the action taken.")

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

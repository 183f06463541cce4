"""Assessments (patient- or clinician-reported scores) and the reminders sent for due ones.

Patient data: every row carries its program (the tenant); queries go through
``visible_to(user)`` inside this app's services.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet as ScopedQuerySet
from trellis.patients.models import Patient


class Assessment(models.Model):
    """One administration of an instrument: answers (when licensed), total, band, flags."""

    PATIENT_DATA = True

    class Source(models.TextChoices):
        PATIENT = "patient", _("Patient (check-in)")
        CLINICIAN = "clinician", _("Clinician")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    episode = models.ForeignKey(
        "care.Episode", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(max_length=16, db_index=True)
    instrument_version = models.CharField(max_length=16)
    answers = models.JSONField(default=dict, blank=True)
    total = models.SmallIntegerField(null=True, blank=True)
    band = models.CharField(max_length=24, blank=True)
    flags = models.JSONField(default=list, blank=True)
    risk = models.CharField(max_length=12, blank=True)
    subtotals = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    taken_at = models.DateTimeField()
    link = models.ForeignKey(
        "checkin.CheckInLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    timepoint = models.CharField(max_length=40, blank=True)
    # A resubmission of the same form returns the first row (e.g. link:<id>:phq9:week_3).
    idempotency_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["taken_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "idempotency_key"], name="assessment_unique_key"
            )
        ]
        indexes = [models.Index(fields=["patient", "instrument", "taken_at"], name="assess_series")]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total if self.total is not None else self.risk}"

    @property
    def suicide_flag(self) -> bool:
        return "suicidal_ideation" in (self.flags or []) or self.risk in ("moderate", "high")

    @property
    def suicide_item(self) -> str:
        """The item that raised ``suicidal_ideation`` (PHQ-9 9, QIDS-SR16 12; CLINICAL.md §2)."""
        from trellis.core.measures_rules import suicide_item

        return suicide_item(self.instrument) or ""

    @property
    def mania_flag(self) -> bool:
        """ASRM total >= 6 (CLINICAL.md §1): a prescriber review before the next dose."""
        return "possible_mania" in (self.flags or [])


class Reminder(models.Model):
    """A due assessment for which a check-in link was sent: each due item is sent once."""

    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("care.Episode", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=16)
    timepoint = models.CharField(max_length=40)
    link = models.ForeignKey(
        "checkin.CheckInLink", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channels = models.JSONField(default=list, blank=True)
    sent_at = models.DateTimeField()

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "instrument", "timepoint"], name="reminder_once_per_due"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.instrument} {self.timepoint}"

"""What each patient read of their preparation guide and how they answered its teach-back
(patient data: every row carries its program), and each program's adapted copies of the guides
(configuration, like adapted protocol tracks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.care.models import Episode
from trellis.patients.models import Patient


class GuideReading(models.Model):
    """The patient opened their guide (or its page for family) through their check-in link."""

    PATIENT_DATA = True

    class Audience(models.TextChoices):
        PATIENT = "patient", _("Patient")
        FAMILY = "family", _("Family")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guide_id = models.CharField(max_length=64)
    guide_version = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    audience = models.CharField(max_length=8, choices=Audience.choices, default="patient")
    sections = models.JSONField(default=list)
    first_read_at = models.DateTimeField()
    last_read_at = models.DateTimeField()
    times = models.PositiveIntegerField(default=1)

    objects = ProgramScopedQuerySet["GuideReading"].as_manager()

    class Meta:
        ordering = ["-last_read_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "episode", "guide_id", "audience"],
                name="guide_reading_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.guide_id} read {self.times}×"


class TeachBack(models.Model):
    """One set of answers to a guide's teach-back questions. A miss is a note for the
    therapist, not a grade; the latest set for a course is the one that counts."""

    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    guide_id = models.CharField(max_length=64)
    guide_version = models.CharField(max_length=32)
    language = models.CharField(max_length=8)
    answers = models.JSONField(default=dict)
    misunderstood = models.JSONField(default=list)
    submitted_at = models.DateTimeField()
    discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discussed_at = models.DateTimeField(null=True, blank=True)

    objects = ProgramScopedQuerySet["TeachBack"].as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return f"teach-back {self.guide_id} ({len(self.misunderstood)} to discuss)"


class ProgramGuide(models.Model):
    """A program's adapted copy of a packaged guide in one language (validated YAML that must
    keep the packaged guide's sections and questions and meet the plain-language bar)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    guide_id = models.CharField(max_length=64)
    language = models.CharField(max_length=8)
    yaml_text = models.TextField(_("guide (YAML)"))
    version = models.CharField(max_length=32)
    readability = models.FloatField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["guide_id", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "guide_id", "language"], name="program_guide_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.guide_id}.{self.language} ({self.program})"

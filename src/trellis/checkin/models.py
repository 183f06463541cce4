"""Check-in links: how a patient reaches Trellis on a phone without an account.

The token is unguessable (256 bits from ``secrets``) and only its SHA-256 hash is stored, so a
database leak does not leak working links. A link expires (72 h by default), shows no
identifying data beyond the first name, and is tied to what it was sent for.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.patients.models import Patient


class CheckInLinkQuerySet(ProgramScopedQuerySet["CheckInLink"]):
    pass


class CheckInLink(models.Model):
    PATIENT_DATA = True

    token_hash = models.CharField(max_length=64, unique=True)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checkin_links")
    # What the link is for, e.g. "assessments", "journal", "general"; apps read ``payload``.
    purpose = models.CharField(max_length=40, default="general")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CheckInLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"check-in link ({self.purpose}) until {self.expires_at:%Y-%m-%d %H:%M}"

    def is_valid(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and now < self.expires_at

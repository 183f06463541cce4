"""The program's part in the network: whether it shares de-identified data for quality
improvement (besides patients who consented to research)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program


class NetworkSettings(models.Model):
    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="+")
    # HIPAA permits de-identified data to be shared for quality improvement without consent;
    # a program opts in here. Without it, only patients with a research-sharing consent leave.
    qi_sharing = models.BooleanField(
        _("share de-identified data for quality improvement"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.program} network settings"


class ReceivedBundle(models.Model):
    """Another program's aggregate-only bundle (issue 16), uploaded by an admin: counts only,
    no records (so not patient data); its signature was checked on upload. A newer bundle of
    the same program replaces the older one."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    source_program_key = models.CharField(max_length=64)
    public_key = models.CharField(max_length=64)
    synthetic = models.BooleanField(default=False)
    text = models.TextField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source_program_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "source_program_key"], name="received_bundle_unique"
            )
        ]

    def __str__(self) -> str:
        return f"bundle {self.source_program_key[:8]}…"

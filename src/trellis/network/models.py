"""The program's part in the network: whether it shares de-identified data for quality
improvement (besides patients who consented to research)."""

from __future__ import annotations

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

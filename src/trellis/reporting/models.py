"""The problem list and status events that health-centre quality measures read (CMS159).

Patient data: every row carries its program; queries go through ``visible_to(user)`` in this
app's services. Diagnoses are ICD-10-CM codes with an onset (and, when it ended, a resolution)
date; status events are death, hospice, palliative care and permanent long-term care.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from trellis.accounts.models import Program
from trellis.accounts.scoping import ProgramScopedQuerySet
from trellis.patients.models import Patient


class Diagnosis(models.Model):
    PATIENT_DATA = True

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("ICD-10-CM code"), max_length=10)
    description = models.CharField(_("description"), max_length=200, blank=True)
    onset = models.DateField(_("onset"))
    resolved = models.DateField(_("resolved"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramScopedQuerySet["Diagnosis"].as_manager()

    class Meta:
        ordering = ["onset", "pk"]

    def __str__(self) -> str:
        return f"{self.code} from {self.onset}"


class StatusEvent(models.Model):
    PATIENT_DATA = True

    class Kind(models.TextChoices):
        DEATH = "death", _("Died")
        HOSPICE = "hospice", _("Hospice care")
        PALLIATIVE = "palliative_care", _("Palliative care")
        LONG_TERM_CARE = "long_term_care", _("Permanent long-term care")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("status"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("date"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramScopedQuerySet["StatusEvent"].as_manager()

    class Meta:
        ordering = ["date", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.date}"

"""The chart panel: the patient's problem list and status events (what quality measures read)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.core.cms159 import classify_icd10
from trellis.patients.models import Patient
from trellis.reporting import forms, services


def chart_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user: Any = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    diagnoses = [(d, classify_icd10(d.code)) for d in services.diagnoses_of(user, patient)]
    return {
        "title": _("Diagnoses and status"),
        "template": "reporting/_chart_panel.html",
        "context": {
            "patient": patient,
            "diagnoses": diagnoses,
            "events": services.status_events_of(user, patient),
            "can_edit": has_any_role(user, patient.program, services.EDIT_ROLES),
            # Own id prefixes: the chart holds other forms (the consent form has a "kind" too),
            # and a second id_kind would tie the consent's label to this form's select.
            "diagnosis_form": forms.DiagnosisForm(auto_id="diagnosis_%s"),
            "status_form": forms.StatusEventForm(auto_id="status_%s"),
        },
    }

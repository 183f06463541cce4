"""The patient chart's "Fees and coverage" panel: latest class, coverage and links."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from trellis.access import services
from trellis.accounts.services import has_any_role
from trellis.patients.models import Patient


def access_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user: Any = request.user
    fee = services.latest_fee_assessment(user, patient)
    coverage = services.current_coverage(user, patient)
    return {
        "title": _("Fees and coverage"),
        "template": "access/_panel.html",
        "context": {
            "patient": patient,
            "fee": fee,
            "coverage": coverage,
            "can_edit": has_any_role(user, patient.program, services.FEE_ROLES),
        },
    }

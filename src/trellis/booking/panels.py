"""The patient chart's appointments panel (with cancel → repaired course)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.services import has_any_role
from trellis.booking import services
from trellis.patients.models import Patient


def chart_panel(request: Any, patient: Patient) -> dict[str, Any] | None:
    user = request.user
    if not has_any_role(user, patient.program, services.VIEWER_ROLES):
        return None
    return {
        "title": _("Appointments"),
        "template": "booking/_chart_panel.html",
        "context": {
            "appointments": list(services.appointments_of(user, patient)),
            "can_cancel": has_any_role(user, patient.program, services.PLANNER_ROLES),
            "availability": services.availability_of(patient),
            "patient": patient,
            "now": timezone.now(),
        },
    }


def checkin_section(request: Any, link: Any) -> dict[str, Any] | None:
    """On the patient's check-in page: when they can come, and a link to change it."""
    choices = services.day_choices_of(link.patient)
    return {
        "title": _("When you can come"),
        "template": "booking/_checkin.html",
        "context": {"choices": choices, "all_any": all(c == "any" for c in choices.values())},
        "order": 70,
    }

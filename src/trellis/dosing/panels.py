"""The dosing panel on the patient chart and the home-page card."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.care import services as care
from trellis.dosing import services
from trellis.dosing.forms import EnrolmentForm
from trellis.patients.models import Patient


def dosing_panel(request: Any, patient: Patient) -> dict[str, Any] | None:
    """Dosing sessions and REMS enrolment on the chart of a patient with a course."""
    user = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    episode = services.episode_for_new_session(user, patient)
    sessions = list(services.sessions_of(user, patient)[:20])
    if episode is None and not sessions:
        return None
    drug = care.protocol_of(episode).drug if episode else None
    return {
        "title": _("Dosing sessions"),
        "template": "dosing/_chart_panel.html",
        "context": {
            "patient": patient,
            "sessions": sessions,
            "episode": episode,
            "esketamine": drug == "esketamine",
            "enrolment": services.enrolment_of(user, patient),
            "enrol_form": EnrolmentForm(),
            "can_dose": has_any_role(user, patient.program, services.DOSING_ROLES),
            "can_enrol": has_any_role(user, patient.program, services.REMS_ROLES),
        },
    }


def board_card(request: Any) -> dict[str, Any] | None:
    program = getattr(request, "program", None)
    if program is None or not has_any_role(request.user, program, services.BOARD_ROLES):
        return None
    return {
        "title": _("In dosing chairs now"),
        "number": services.in_chair_count(request.user, program),
        "url": reverse("dosing:board"),
        "link_text": _("Open the monitoring board"),
    }


def rems_overdue_card(request: Any) -> dict[str, Any] | None:
    """Home card for whoever must submit an overdue REMS Patient Monitoring Form (issue 19)."""
    program = getattr(request, "program", None)
    overdue = services.overdue_rems_forms(request.user, program)
    if not overdue:
        return None
    return {
        "title": _("REMS forms overdue"),
        "number": len(overdue),
        "url": reverse("dosing:rems_due"),
        "link_text": _("Submit the overdue REMS forms (due within 7 days of each session)"),
        "urgent": True,
    }

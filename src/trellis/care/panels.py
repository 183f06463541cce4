"""The care panel of the patient chart and the pathway card of the home page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.care import services
from trellis.care.timeline import PHASE_LABELS, phase_steps
from trellis.patients.models import Patient


def chart_panel(request: Any, patient: Patient) -> dict[str, Any] | None:
    """Care pathway: the active course (phase, next due, gaps, what blocks dose 1) and earlier
    courses, with links to each course's timeline; "Start a course" for planners."""
    user = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    now = timezone.now()
    today = timezone.localdate()
    episodes = list(services.episodes_of(user, patient).order_by("-referred_on", "-created_at"))
    active = next((e for e in episodes if e.is_active), None)
    summary = None
    if active is not None:
        report = services.adherence(active, now)
        summary = {
            "episode": active,
            "protocol": services.protocol_of(active),
            "steps": phase_steps(active.phase),
            "next": services.next_activity(active, today),
            "overdue": services.overdue_activities(active, today).count(),
            "gaps": report.gaps,
            "percent": report.percent,
            "blockers": (
                services.first_dose_blockers(active)
                if active.phase in services.BEFORE_FIRST_DOSE
                else []
            ),
        }
    return {
        "title": _("Care pathway"),
        "template": "care/_chart_panel.html",
        "context": {
            "patient": patient,
            "summary": summary,
            "today": today,
            "episodes": episodes,
            "phase_labels": PHASE_LABELS,
            "can_start": active is None
            and has_any_role(user, patient.program, services.PLANNER_ROLES),
        },
    }


def home_card(request: Any) -> dict[str, Any] | None:
    """Active courses, with open integration gaps and overdue activities in the link text."""
    program = getattr(request, "program", None)
    if program is None or not has_any_role(request.user, program, CLINICAL_ROLES):
        return None
    counts = services.board_counts(request.user, program)
    return {
        "title": _("Active courses"),
        "number": counts.active,
        "url": reverse("care:board"),
        "link_text": _("Pathway board: %(gaps)s integration gaps open, %(overdue)s overdue")
        % {"gaps": counts.gaps, "overdue": counts.overdue},
    }

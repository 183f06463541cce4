"""The peers panel of the patient chart and the patient's circle on the check-in page."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.patients.models import Patient
from trellis.peers import services
from trellis.peers.models import DEFAULT_AGREEMENTS


def chart_panel(request: Any, patient: Patient) -> dict[str, Any] | None:
    if not has_any_role(request.user, patient.program, CLINICAL_ROLES):
        return None
    return {
        "title": _("Peer circle and mentor"),
        "template": "peers/_chart_panel.html",
        "context": {
            "memberships": list(services.memberships_of(patient)),
            "conn": services.connection(patient, timezone.localdate()),
            "mentor": services.mentor_of(patient),
            "patient": patient,
        },
    }


def checkin_section(request: Any, link: Any) -> dict[str, Any] | None:
    """The patient's circle (day, time, place, facilitator's first name, how to join) and a
    link to set their peer preferences (issue 19); shown once the course plans a circle."""
    from django.urls import reverse

    patient = link.patient
    circle = services.circle_for_checkin(patient)
    episode = patient.episodes.exclude(phase__in=["completed", "withdrawn"]).first()
    if circle is None and (episode is None or services.window_of(episode) is None):
        return None
    token = request.resolver_match.kwargs.get("token", "") if request.resolver_match else ""
    lines: list[str] = []
    facilitator = ""
    if circle is not None:
        text = circle.agreements
        lines = [
            _(line) if text == DEFAULT_AGREEMENTS else line
            for line in text.splitlines()
            if line.strip()
        ]
        facilitator = circle.facilitator.first_name if circle.facilitator_id else ""
    return {
        "title": _("Your peer circle"),
        "template": "peers/_checkin.html",
        "context": {
            "circle": circle,
            "agreements": lines,
            "facilitator": facilitator,
            "preferences_url": reverse("peers:patient_preferences", args=[token]) if token else "",
        },
        "order": 60,
    }

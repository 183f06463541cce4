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
    circle = services.circle_for_checkin(link.patient)
    if circle is None:
        return None
    text = circle.agreements
    lines = [
        _(line) if text == DEFAULT_AGREEMENTS else line
        for line in text.splitlines()
        if line.strip()
    ]
    return {
        "title": _("Your peer circle"),
        "template": "peers/_checkin.html",
        "context": {"circle": circle, "agreements": lines},
        "order": 60,
    }

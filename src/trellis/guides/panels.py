"""Where the guides show up elsewhere: the patient's check-in page, the chart panel and the
therapist's preparation page (registered in ``GuidesConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.care.models import Episode
from trellis.checkin.models import CheckInLink
from trellis.guides import services
from trellis.patients.models import Patient


def checkin_section(request: HttpRequest, link: CheckInLink) -> dict[str, Any] | None:
    pg = services.guide_for_link(link, translation.get_language() or "en")
    if pg is None:
        return None
    episode = pg.episode
    read, answered = services.progress(episode)
    return {
        "title": _("Your preparation guide"),
        "template": "guides/_checkin_section.html",
        "context": {
            "guide": pg.guide,
            "read": read,
            "answered": answered,
            "has_family_page": bool(pg.family_sections),
            "before_first_dose": episode.phase in {"referred", "screening", "preparing"},
        },
        "order": 15,
    }


def chart_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user: Any = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    summary = services.course_summary(user, patient, request=request)
    if summary is None:
        return None
    return {
        "title": _("Preparation guide"),
        "template": "guides/_chart_panel.html",
        "context": {
            "summary": summary,
            "patient": patient,
            "can_discuss": has_any_role(user, patient.program, services.DISCUSS_ROLES),
        },
    }


def preparation_panel(request: Any, patient: Patient, episode: Episode) -> dict[str, Any] | None:
    summary = services.course_summary(request.user, patient, request=request)
    if summary is None:
        return None
    return {
        "title": _("What the patient read and answered"),
        "template": "guides/_chart_panel.html",
        "context": {"summary": summary, "patient": patient, "can_discuss": True},
    }

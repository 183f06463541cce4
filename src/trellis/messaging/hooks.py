"""Where messages show up elsewhere: the patient's check-in page, the chart and the home page's
work queues (registered in ``MessagingConfig.ready``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES
from trellis.accounts.services import has_any_role
from trellis.checkin.models import CheckInLink
from trellis.messaging import services
from trellis.patients.models import Patient
from trellis.web.home import ROWS_SHOWN, QueueRow, QueueSection, work_queue


def checkin_section(request: HttpRequest, link: CheckInLink) -> dict[str, Any] | None:
    return {
        "title": _("Messages with your care team"),
        "template": "messaging/_checkin_section.html",
        "context": {"unread": services.unread_replies(link), "lang": translation.get_language()},
        "order": 80,
    }


def chart_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user: Any = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    unread, has_thread = services.chart_summary(user, patient)
    return {
        "title": _("Messages"),
        "template": "messaging/_chart_panel.html",
        "context": {"patient": patient, "unread": unread, "has_thread": has_thread},
    }


@work_queue("messaging.unread", roles=CLINICAL_ROLES, order=90)
def unread_queue(request: HttpRequest, now: datetime) -> QueueSection | None:
    """Patients' messages not yet read by anyone on the care team, oldest first."""
    program = getattr(request, "program", None)
    rows, total = services.inbox_rows(request.user, program, "unread", limit=ROWS_SHOWN)
    out = []
    for r in rows:
        waiting = timezone.localtime(r.oldest_unread) if r.oldest_unread else None
        assigned = r.thread.assigned_to
        what = _("%(n)s unread, waiting since %(when)s") % {
            "n": r.unread,
            "when": waiting.strftime("%Y-%m-%d %H:%M") if waiting else "",
        }
        if assigned is not None:
            what += " · " + _("assigned to %(name)s") % {"name": assigned}
        out.append(
            QueueRow(
                who=r.patient.full_name,
                what=what,
                url=reverse("messaging:thread", args=[r.thread.patient_id]),
                patient_id=r.thread.patient_id,
            )
        )
    return QueueSection(
        title=_("Unread messages from patients"),
        count=total,
        url=reverse("messaging:inbox") + "?box=unread",
        link_text=_("Open the shared inbox"),
        rows=out,
        empty=_("No unread messages. Patients write from their check-in link."),
    )


def register() -> None:
    from trellis.checkin.services import CHECKIN_SECTIONS
    from trellis.patients.chart import CHART_PANELS

    if chart_panel not in CHART_PANELS:
        CHART_PANELS.append(chart_panel)
    if checkin_section not in CHECKIN_SECTIONS:
        CHECKIN_SECTIONS.append(checkin_section)

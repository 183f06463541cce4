"""Where the integration record shows up elsewhere: the chart panel, the patient's check-in page
and the home page card (registered in ``IntegrationConfig.ready``). Process notes and private
journal entries never appear in any of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES, Role
from trellis.accounts.services import has_any_role
from trellis.checkin.models import CheckInLink
from trellis.checkin.services import is_unlocked
from trellis.core.integration_rules import SAFETY_PLAN_SECTIONS
from trellis.integration import services
from trellis.integration.forms import SECTION_LABELS
from trellis.patients.models import Patient
from trellis.web.home import QueueAction, QueueRow, QueueSection, work_queue


def chart_panel(request: HttpRequest, patient: Patient) -> dict[str, Any] | None:
    user: Any = request.user
    if not has_any_role(user, patient.program, CLINICAL_ROLES):
        return None
    context = services.chart_summary(user, patient)
    context["patient"] = patient
    return {
        "title": _("Integration record"),
        "template": "integration/_chart_panel.html",
        "context": context,
    }


def checkin_section(request: HttpRequest, link: CheckInLink) -> dict[str, Any] | None:
    view = services.patient_view(link)
    # The safety plan and the journal show on this page only once the patient has confirmed
    # their birth year for this link (issue 14, finding 6); until then, links to those pages ask.
    private = is_unlocked(request, link)
    return {
        "title": _("Your integration"),
        "template": "integration/_checkin_section.html",
        "context": {
            "intentions": view.intentions,
            "commitments": view.commitments,
            "has_safety_plan": view.safety_plan is not None,
            "safety_plan": view.safety_plan if private else None,
            "sections": (
                [
                    (SECTION_LABELS[name], getattr(view.safety_plan, name))
                    for name in SAFETY_PLAN_SECTIONS
                ]
                if view.safety_plan and private
                else []
            ),
            "shared": [e for e in view.journal if e.shared][:5] if private else [],
            "reflection_dose": view.reflection_dose,
            "lang": translation.get_language(),
        },
        "order": 30,
    }


def home_card(request: HttpRequest) -> dict[str, Any] | None:
    user: Any = request.user
    program = getattr(request, "program", None)
    if program is None or not has_any_role(user, program, services.BOARD_ROLES):
        return None
    counts = services.board_counts(user, program)
    return {
        "title": _("Integration"),
        "number": counts,
        "url": reverse("integration:board"),
        "link_text": _("Open the integration board"),
    }


@work_queue("integration.caseload", roles=[Role.THERAPIST], order=20)
def caseload_queue(request: HttpRequest, now: datetime) -> QueueSection | None:
    """The therapist's caseload (active courses where they are the primary therapist): doses
    whose integration window is open (due first) and windows that closed with none. One read of
    the pathway board's rows (a constant number of queries)."""
    from trellis.care.services import BoardFilters, board_rows

    user: Any = request.user
    program = getattr(request, "program", None)
    if program is None:
        return None
    tz = ZoneInfo(program.time_zone)
    caseload = board_rows(user, program, BoardFilters(therapist=user.pk), now=now)
    due: list[tuple[datetime, QueueRow]] = []
    for r in caseload:
        note = reverse("integration:new_note", args=[r.patient.pk])
        for dose in r.open_windows:
            closes = timezone.localtime(dose.window_closes_at, tz)
            due.append(
                (
                    dose.window_closes_at,
                    QueueRow(
                        who=r.patient.full_name,
                        what=_("Dose %(n)s: integration due by %(when)s")
                        % {"n": dose.dose_index, "when": closes.strftime("%m-%d %H:%M")},
                        url=reverse("integration:thread", args=[r.patient.pk]),
                        action=QueueAction(_("Write note"), note),
                        urgent=True,
                        patient_id=r.patient.pk,
                    ),
                )
            )
        for gap in r.gaps:
            due.append(
                (
                    gap.window_closed_at,
                    QueueRow(
                        who=r.patient.full_name,
                        what=_("Dose %(n)s: window closed on %(day)s with no integration")
                        % {
                            "n": gap.dose_index,
                            "day": timezone.localtime(gap.window_closed_at, tz).strftime(
                                "%Y-%m-%d"
                            ),
                        },
                        url=reverse("integration:thread", args=[r.patient.pk]),
                        action=QueueAction(_("Write note"), note),
                        patient_id=r.patient.pk,
                    ),
                )
            )
    due.sort(key=lambda pair: (not pair[1].urgent, pair[0]))
    return QueueSection(
        title=_("Your caseload"),
        count=len(caseload),
        url=reverse("care:board") + f"?therapist={user.pk}",
        link_text=_("Your courses on the pathway board"),
        rows=[row for _at, row in due],
        empty=_(
            "No integration is due in your caseload. Integration windows open after each dose."
        ),
    )


def register() -> None:
    from trellis.checkin.services import CHECKIN_SECTIONS
    from trellis.patients.chart import CHART_PANELS
    from trellis.web.home import CARD_PROVIDERS

    for registry, hook in (
        (CHART_PANELS, chart_panel),
        (CHECKIN_SECTIONS, checkin_section),
        (CARD_PROVIDERS, home_card),
    ):
        if hook not in registry:
            registry.append(hook)  # type: ignore[arg-type]

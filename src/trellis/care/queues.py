"""The coordinator's day on the home page (``web.home.work_queue``): courses whose first dose is
blocked (with what blocks it) and integration windows that closed with no integration. Both
read :func:`care.services.board_rows` (a constant number of queries for the whole program)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import Role
from trellis.care import services
from trellis.web.home import QueueRow, QueueSection, work_queue

COORDINATORS = [Role.COORDINATOR, Role.ADMIN]


def _rows(request: HttpRequest, now: datetime) -> list[services.BoardRow]:
    # Both queues of one page read the board once.
    cache: dict[str, Any] = request.__dict__.setdefault("_care_queue_rows", {})
    if "rows" not in cache:
        cache["rows"] = services.board_rows(
            request.user, getattr(request, "program", None), now=now
        )
    rows: list[services.BoardRow] = cache["rows"]
    return rows


@work_queue("care.blocked_first_doses", roles=COORDINATORS, order=10)
def blocked_first_doses(request: HttpRequest, now: datetime) -> QueueSection | None:
    blocked = [r for r in _rows(request, now) if r.blockers]
    rows = []
    for r in blocked:
        what = r.blockers[0]
        if len(r.blockers) > 1:
            what += " " + _("(and %(n)s more)") % {"n": len(r.blockers) - 1}
        rows.append(
            QueueRow(
                who=r.patient.full_name,
                what=what,
                url=reverse("care:episode", args=[r.episode.pk]),
                patient_id=r.patient.pk,
            )
        )
    return QueueSection(
        title=_("First doses blocked"),
        count=len(rows),
        url=reverse("care:board"),
        link_text=_("Open the pathway board"),
        rows=rows,
        empty=_("No course is blocked before its first dose."),
    )


@work_queue("care.integration_gaps", roles=COORDINATORS, order=20)
def integration_gaps(request: HttpRequest, now: datetime) -> QueueSection | None:
    program = getattr(request, "program", None)
    tz = ZoneInfo(program.time_zone) if program is not None else None
    rows = []
    for r in _rows(request, now):
        for gap in r.gaps:
            closed = timezone.localtime(gap.window_closed_at, tz)
            rows.append(
                QueueRow(
                    who=r.patient.full_name,
                    what=_("Dose %(n)s: the integration window closed on %(day)s with none")
                    % {"n": gap.dose_index, "day": closed.strftime("%Y-%m-%d")},
                    url=reverse("care:episode", args=[r.episode.pk]),
                    urgent=True,
                    patient_id=r.patient.pk,
                )
            )
    return QueueSection(
        title=_("Integration gaps"),
        count=len(rows),
        url=reverse("care:board"),
        link_text=_("Open the pathway board"),
        rows=rows,
        empty=_("No integration gap: every integration window was met."),
    )

"""Open alerts on the coordinator's home page (``web.home.work_queue``): urgent first, then by
age; one query."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import Role
from trellis.alerts.models import Severity
from trellis.alerts.services import open_alerts
from trellis.web.home import ROWS_SHOWN, QueueRow, QueueSection, work_queue


@work_queue("alerts.open", roles=[Role.COORDINATOR, Role.ADMIN], order=40)
def alerts_open(request: HttpRequest, now: datetime) -> QueueSection | None:
    qs = open_alerts(request.user, getattr(request, "program", None))
    total = qs.count()
    urgent_first = Case(
        When(severity=Severity.URGENT, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    rows = [
        QueueRow(
            who=a.patient.full_name if a.patient else _("No patient"),
            what=a.title,
            when=timezone.localtime(a.raised_at).strftime("%m-%d %H:%M"),
            url=reverse("alerts:detail", args=[a.pk]),
            urgent=a.severity == Severity.URGENT,
            patient_id=a.patient_id,
        )
        for a in qs.order_by(urgent_first, "raised_at")[:ROWS_SHOWN]
    ]
    return QueueSection(
        title=_("Open alerts"),
        count=total,
        url=reverse("alerts:list"),
        link_text=_("All open alerts"),
        rows=rows,
        empty=_("No open alerts."),
    )

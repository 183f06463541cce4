"""The peer facilitator's week on the home page (``web.home.work_queue``): their circles' meetings
this week (Monday to Sunday), each with whether attendance is still to take. Circle names only:
a facilitator sees members' first names on the circle page, never here. Two queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import Role
from trellis.peers.models import CircleMembership, Meeting
from trellis.peers.services import circles_for
from trellis.web.home import QueueAction, QueueRow, QueueSection, work_queue


@work_queue("peers.week", roles=[Role.PEER_FACILITATOR], order=10)
def circles_this_week(request: HttpRequest, now: datetime) -> QueueSection | None:
    program = getattr(request, "program", None)
    if program is None:
        return None
    today = timezone.localtime(now, ZoneInfo(program.time_zone)).date()
    monday = today - timedelta(days=today.weekday())
    circles = circles_for(request.user, program).filter(facilitator_id=request.user.pk)
    active = Q(circle__memberships__status=CircleMembership.Status.ACTIVE)
    meetings = (
        Meeting.objects.filter(
            circle__in=circles, date__gte=monday, date__lt=monday + timedelta(days=7)
        )
        .select_related("circle")
        .annotate(
            marked=Count("attendance", distinct=True),
            members=Count("circle__memberships", filter=active, distinct=True),
        )
        .order_by("date", "circle__start_time")
    )
    rows = []
    for m in meetings:
        circle_url = reverse("peers:circle", args=[m.circle_id])
        when = f"{m.date:%m-%d} {m.circle.start_time:%H:%M}"
        if not m.members:
            what = _("No members yet")
            action = None
        elif m.date > today:
            what = _("Coming up: %(n)s members") % {"n": m.members}
            action = None
        elif m.marked:
            what = _("Attendance taken (%(marked)s of %(n)s)") % {
                "marked": m.marked,
                "n": m.members,
            }
            action = None
        else:
            what = _("Attendance to take: %(n)s members") % {"n": m.members}
            action = QueueAction(_("Take attendance"), circle_url + "#attendance")
        rows.append(
            QueueRow(
                who=m.circle.name,
                what=what,
                when=when,
                url=circle_url,
                action=action,
                urgent=action is not None,
            )
        )
    rows.sort(key=lambda r: not r.urgent)
    return QueueSection(
        title=_("Your circles this week"),
        count=len(rows),
        url=reverse("peers:index"),
        link_text=_("All your circles"),
        rows=rows,
        empty=_("None of your circles meets this week."),
        empty_url=reverse("peers:index"),
        empty_link_text=_("See your circles"),
    )

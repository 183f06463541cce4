"""Booked time on the home page (``web.home.work_queue``).

- Therapist and prescriber, "Your sessions today": their preparation and integration
  appointments today, with the note to write as the button.
- Therapist, "Notes not yet written": their preparation and integration appointments of the past
  two weeks still open (an appointment becomes done when its session is recorded).
- Coordinator, "Courses to book": active courses with preparation, dose or integration
  activities whose window opens within two weeks and that are not booked yet.
Each reads its rows in one or two queries, whatever the number of patients.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import Program, Role
from trellis.booking import services
from trellis.booking.models import Appointment
from trellis.web.home import QueueAction, QueueRow, QueueSection, work_queue

SESSION_KINDS = ("preparation", "integration")
NOTES_LOOKBACK_DAYS = 14
BOOKING_HORIZON_DAYS = 14


def _day_start(program: Program, now: datetime) -> datetime:
    tz = ZoneInfo(program.time_zone)
    return datetime.combine(timezone.localtime(now, tz).date(), time.min, tzinfo=tz)


def _kind_label(kind: str, index: int) -> str:
    labels = {
        "preparation": _("Preparation %(n)s"),
        "integration": _("Integration %(n)s"),
        "dose": _("Dose %(n)s"),
    }
    return labels.get(kind, kind) % {"n": index}


def _note_action(appt: Appointment) -> QueueAction:
    if appt.kind == "preparation":
        return QueueAction(
            _("Record preparation"), reverse("integration:preparation", args=[appt.patient_id])
        )
    return QueueAction(_("Write note"), reverse("integration:new_note", args=[appt.patient_id]))


def _row(program: Program, appt: Appointment, *, with_day: bool = False) -> QueueRow:
    local = timezone.localtime(appt.start, ZoneInfo(program.time_zone))
    return QueueRow(
        who=appt.patient.full_name,
        what=_kind_label(appt.kind, appt.index),
        when=local.strftime("%m-%d %H:%M" if with_day else "%H:%M"),
        where=appt.room.name,
        url=reverse("patients:chart", args=[appt.patient_id]),
        action=_note_action(appt),
        patient_id=appt.patient_id,
    )


@work_queue("booking.sessions_today", roles=[Role.THERAPIST], order=10)
def sessions_today(request: HttpRequest, now: datetime) -> QueueSection | None:
    user: Any = request.user
    program: Program | None = getattr(request, "program", None)
    if program is None:
        return None
    start = _day_start(program, now)
    appts = services.staff_appointments(
        user, program, user, start, start + timedelta(days=1), kinds=SESSION_KINDS
    )
    rows = [_row(program, a) for a in appts]
    return QueueSection(
        title=_("Your sessions today"),
        count=len(rows),
        url=reverse("booking:index"),
        link_text=_("Open the calendar"),
        rows=rows,
        empty=_("No sessions booked with you today. Use the time for notes not yet written."),
    )


@work_queue("booking.notes_due", roles=[Role.THERAPIST], order=30)
def notes_not_written(request: HttpRequest, now: datetime) -> QueueSection | None:
    user: Any = request.user
    program: Program | None = getattr(request, "program", None)
    if program is None:
        return None
    appts = services.staff_appointments(
        user,
        program,
        user,
        _day_start(program, now) - timedelta(days=NOTES_LOOKBACK_DAYS),
        now,
        kinds=SESSION_KINDS,
        statuses=(Appointment.Status.BOOKED,),
    )
    rows = [_row(program, a, with_day=True) for a in appts]
    return QueueSection(
        title=_("Notes not yet written"),
        count=len(rows),
        url=reverse("integration:board") + "?mine=1",
        link_text=_("Open the integration board"),
        rows=rows,
        empty=_("Every session you held in the last two weeks has its note."),
    )


@work_queue("booking.unbooked", roles=[Role.COORDINATOR, Role.ADMIN], order=30)
def courses_to_book(request: HttpRequest, now: datetime) -> QueueSection | None:
    from trellis.care.services import unbooked_activities

    program: Program | None = getattr(request, "program", None)
    if program is None:
        return None
    today = timezone.localtime(now, ZoneInfo(program.time_zone)).date()
    pending = unbooked_activities(
        request.user, program, services.COURSE_KINDS, today + timedelta(days=BOOKING_HORIZON_DAYS)
    )
    rows = []
    for episode, acts in pending.items():
        first = acts[0]
        rows.append(
            QueueRow(
                who=episode.patient.full_name,
                what=_("%(n)s to book, first: %(what)s from %(day)s")
                % {
                    "n": len(acts),
                    "what": _kind_label(first.kind, first.index),
                    "day": first.earliest.strftime("%Y-%m-%d"),
                },
                url=reverse("care:episode", args=[episode.pk]),
                urgent=first.latest < today,
                patient_id=episode.patient_id,
            )
        )
    rows.sort(key=lambda r: not r.urgent)
    return QueueSection(
        title=_("Courses to book"),
        count=len(rows),
        url=reverse("booking:plan"),
        link_text=_("Plan the bookings"),
        rows=rows,
        empty=_("Every course's next two weeks are booked."),
    )

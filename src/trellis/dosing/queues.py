"""The nurse's and the prescriber's day on the home page (``web.home.work_queue``).

- Nurse, "Doses today": every dose booked today (the booking app's appointments, read through
  its service) and every session opened today or still in a chair, one row per course: time,
  chair, where the patient is (not started, pre-dose check with what is missing, dosing,
  monitoring, ready for discharge, record to sign) and the next step as a button (start the
  session in the booked chair, open the session).
- Prescriber, "Waiting for your signature": pre-dose holds to override, pre-dose checks waiting
  only for the prescriber's sign-off, and discharged records not yet signed.

Each queue reads its data in a constant number of queries whatever the number of patients (the
program's thresholds are read once and packaged tracks load from the package).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from trellis.accounts.models import Program, Role
from trellis.care import services as care
from trellis.dosing import services
from trellis.dosing.models import DosingSession, Status
from trellis.web.home import QueueAction, QueueRow, QueueSection, work_queue

SIGN_OFF = "prescriber_sign_off"


def _local(program: Program, moment: datetime) -> datetime:
    return timezone.localtime(moment, ZoneInfo(program.time_zone))


def _session_state(session: DosingSession) -> tuple[str, bool]:
    """What the nurse reads about one session, and whether it needs someone now."""
    if session.status == Status.CHECKING:
        missing = services.predose_missing(session)
        if services.predose_hold_reasons(session) and not session.override_by_id:
            return _("Pre-dose hold: needs a prescriber"), True
        if [m.item for m in missing] == [SIGN_OFF]:
            return _("Pre-dose check done: waiting for the prescriber's sign-off"), False
        if missing:
            return _("Pre-dose check: %(n)s items to record") % {"n": len(missing)}, False
        return _("Pre-dose check complete: ready to dose"), False
    if session.status == Status.READY:
        return _("Ready for discharge"), True
    if session.status == Status.DISCHARGED:
        return _("Discharged: record to sign"), False
    return str(session.get_status_display()).capitalize(), False


BEFORE_FIRST_DOSE = frozenset({"referred", "screening", "preparing"})


@work_queue("dosing.today", roles=[Role.NURSE], order=10)
def doses_today(request: HttpRequest, now: datetime) -> QueueSection | None:
    from trellis.booking.services import program_appointments

    user: Any = request.user
    program: Program | None = getattr(request, "program", None)
    if program is None:
        return None
    today = _local(program, now).date()
    appointments = list(
        program_appointments(user, program, today, 1)
        .filter(kind="dose")
        .select_related("episode__patient", "episode__program")
        .order_by("start")
    )
    sessions = services.sessions_of_day(user, program, now)
    by_episode = {s.episode_id: s for s in sessions}
    # A first dose booked today but still blocked (no screening, preparation or safety plan
    # missing...) is shown as blocked, with no start button.
    # The course's first dose is still to come when the booked dose is dose 1 or the course has
    # not reached its dosing phase (a later dose booked before dose 1 happened): either way the
    # start page holds it until the first-dose gate opens, so the queue says so too.
    first_doses = [
        a.episode
        for a in appointments
        if a.episode_id not in by_episode and (a.index == 1 or a.episode.phase in BEFORE_FIRST_DOSE)
    ]
    blocked = care.first_dose_blockers_of_many(first_doses)
    occupied = {s.chair_id for s in sessions if s.in_chair}
    rows: list[tuple[int, datetime, QueueRow]] = []
    seen: set[Any] = set()
    for appt in appointments:
        session = by_episode.get(appt.episode_id)
        when = _local(program, appt.start)
        if session is not None and session.status != Status.SIGNED:
            seen.add(session.pk)
            rows.append((_rank(session), when, _session_row(session, when.strftime("%H:%M"))))
            continue
        if session is not None:  # signed: this dose is done
            seen.add(session.pk)
            continue
        start_url = reverse("dosing:start", args=[appt.patient_id])
        if blocked.get(appt.episode_id):
            reasons = blocked[appt.episode_id]
            rows.append(
                (
                    NOT_STARTED,
                    when,
                    QueueRow(
                        who=appt.patient.full_name,
                        what=_("Dose 1 blocked: %(why)s") % {"why": "; ".join(reasons)},
                        when=when.strftime("%H:%M"),
                        where=appt.room.name,
                        url=reverse("care:episode", args=[appt.episode_id]),
                        patient_id=appt.patient_id,
                    ),
                )
            )
            continue
        if appt.room_id in occupied:
            # The booked chair is still taken: the start page lets the nurse choose another.
            where = _("%(chair)s (still taken)") % {"chair": appt.room.name}
            action = QueueAction(_("Choose a chair"), start_url)
        else:
            where = appt.room.name
            action = QueueAction(_("Start session"), start_url, post={"chair": str(appt.room_id)})
        rows.append(
            (
                NOT_STARTED,
                when,
                QueueRow(
                    who=appt.patient.full_name,
                    what=_("Dose %(n)s: not started") % {"n": appt.index},
                    when=when.strftime("%H:%M"),
                    where=where,
                    url=reverse("patients:chart", args=[appt.patient_id]),
                    action=action,
                    patient_id=appt.patient_id,
                ),
            )
        )
    for session in sessions:
        if session.pk in seen or session.status == Status.SIGNED:
            continue
        opened = _local(program, session.created_at)
        rows.append((_rank(session), opened, _session_row(session, opened.strftime("%H:%M"))))
    # Who needs someone now first, then who is in a chair, then the rest of the day in order.
    rows.sort(key=lambda item: (item[0], item[1]))
    return QueueSection(
        title=_("Doses today"),
        count=len(rows),
        url=reverse("dosing:board"),
        link_text=_("Open the monitoring board"),
        rows=[row for _rank, _when, row in rows],
        empty=_(
            "No doses booked for today and nobody in a chair. To dose a patient who is not "
            "booked, open their chart and start a session."
        ),
        empty_url=reverse("patients:list"),
        empty_link_text=_("Find a patient"),
    )


NOW, IN_CHAIR_NOW, NOT_STARTED, LATER = range(4)


def _rank(session: DosingSession) -> int:
    if _session_state(session)[1]:
        return NOW
    return IN_CHAIR_NOW if session.in_chair else LATER


def _session_row(session: DosingSession, when: str) -> QueueRow:
    what, urgent = _session_state(session)
    label = _("Discharge") if session.status == Status.READY else _("Open session")
    return QueueRow(
        who=session.patient.full_name,
        what=_("Dose %(n)s") % {"n": session.dose_index} + ": " + what,
        when=when,
        where=session.chair.name if session.chair else "",
        url=reverse("patients:chart", args=[session.patient_id]),
        action=QueueAction(label, reverse("dosing:session", args=[session.pk])),
        urgent=urgent,
        patient_id=session.patient_id,
    )


@work_queue("dosing.prescriber", roles=[Role.PRESCRIBER], order=10)
def prescriber_queue(request: HttpRequest, now: datetime) -> QueueSection | None:
    user: Any = request.user
    program: Program | None = getattr(request, "program", None)
    if program is None:
        return None
    rows: list[QueueRow] = []
    for session in services.sessions_of_day(user, program, now):
        url = reverse("dosing:session", args=[session.pk])
        base: dict[str, Any] = {
            "who": session.patient.full_name,
            "where": session.chair.name if session.chair else "",
            "url": reverse("patients:chart", args=[session.patient_id]),
            "patient_id": session.patient_id,
        }
        if session.status == Status.CHECKING:
            holds = services.predose_hold_reasons(session)
            if holds and not session.override_by_id:
                rows.append(
                    QueueRow(
                        what=_("Pre-dose hold: %(why)s") % {"why": "; ".join(holds)},
                        action=QueueAction(_("Review the hold"), url),
                        urgent=True,
                        **base,
                    )
                )
                continue
            missing = [m.item for m in services.predose_missing(session)]
            if missing == [SIGN_OFF]:
                rows.append(
                    QueueRow(
                        what=_("Pre-dose check ready for your sign-off"),
                        action=QueueAction(_("Sign off"), url),
                        urgent=True,
                        **base,
                    )
                )
        elif session.status == Status.DISCHARGED:
            rows.append(
                QueueRow(
                    what=_("Dose %(n)s record not signed") % {"n": session.dose_index},
                    action=QueueAction(_("Sign the record"), url),
                    **base,
                )
            )
    return QueueSection(
        title=_("Waiting for your signature"),
        count=len(rows),
        url=reverse("dosing:board"),
        link_text=_("Open the monitoring board"),
        rows=rows,
        empty=_("Nothing waits for you: no pre-dose hold, sign-off or unsigned record."),
    )

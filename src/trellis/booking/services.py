"""Booking services: build a scheduling instance, propose, accept, cancel and repair.

Every read and write of patient data here is role-checked and audited. The clinical rules live in
:mod:`trellis.core.scheduling` (pure); this module only translates between the database and its
JSON instance/plan formats (``docs/scheduling.md``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES, Membership, Program, Role, Room, User
from trellis.accounts.services import has_any_role, require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.booking.models import (
    Appointment,
    BookingSettings,
    ClinicHours,
    ClosedDate,
    PatientAvailability,
    PlanProposal,
    StaffRota,
)
from trellis.care import services as care
from trellis.care.models import CareActivity, Episode
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.scheduling import parse_instance, parse_plan, plan_to_json, solve_greedy, verify
from trellis.core.scheduling.generate import default_tracks
from trellis.core.scheduling.model import WEEKDAYS, Instance, Plan
from trellis.core.scheduling.repair import repair
from trellis.core.scheduling.windows import windows_json
from trellis.notify.jobs import periodic_job
from trellis.notify.services import message_patient, unsent_channels
from trellis.patients.models import Patient

# Coordinators and admins plan and accept; other clinical staff read (issue 9).
PLANNER_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})
VIEWER_ROLES = CLINICAL_ROLES
# ★ Program setting [verify]: dosing patients one nurse monitors at once. CLINICAL.md §4 sets the
# monitoring load (IV: BP every 10 min during and 15 min after, Riva-Posse 2018; esketamine REMS:
# >= 120 min monitoring with a prescriber on site); it names no ratio, so 2 is a conservative
# default the program's medical director sets on the booking setup page.
DEFAULT_NURSE_RATIO = 2
DEFAULT_HOURS = (time(8, 0), time(18, 0))
COURSE_KINDS = ("preparation", "dose", "integration")
MAX_TIME_LIMIT = 60
REMINDER_LEAD = timedelta(hours=24)  # default: appointment reminders go out the day before
MAX_REMINDER_HOURS = 7 * 24
# Appointments that hold their room and staff time: booked, or done (the session happened).
HELD = (Appointment.Status.BOOKED, Appointment.Status.DONE)
SCHEDULER_ROLES = ("prescriber", "nurse", "therapist", "peer_facilitator")


# --- settings -----------------------------------------------------------------------------------


def settings_of(program: Program) -> BookingSettings:
    row, _created = BookingSettings.objects.get_or_create(
        program=program, defaults={"nurse_ratio": DEFAULT_NURSE_RATIO}
    )
    return row


def clinic_hours(program: Program) -> QuerySet[ClinicHours]:
    return ClinicHours.objects.filter(program=program)


def closed_dates(program: Program) -> QuerySet[ClosedDate]:
    return ClosedDate.objects.filter(program=program)


def rotas(program: Program) -> QuerySet[StaffRota]:
    return StaffRota.objects.filter(program=program).select_related("user")


def rota_roles(program: Program, user: Any) -> list[str]:
    """Scheduler roles ``user`` holds in ``program`` (from the memberships)."""
    return sorted(
        set(Membership.objects.filter(program=program, user=user).values_list("role", flat=True))
        & set(SCHEDULER_ROLES)
    )


def rota_staff(program: Program) -> list[tuple[User, list[str]]]:
    rows: dict[int, tuple[User, list[str]]] = {}
    for m in Membership.objects.filter(program=program, role__in=SCHEDULER_ROLES).select_related(
        "user"
    ):
        rows.setdefault(m.user.pk, (m.user, []))[1].append(m.role)
    return sorted(rows.values(), key=lambda r: r[0].get_full_name() or r[0].username)


@transaction.atomic
def _check_weekday_pairs(
    pairs: Mapping[int, tuple[time, time] | None], field: str, message: str
) -> None:
    """Weekdays 0–6, each pair (start, end) with end after start; the error names
    ``{field}_{weekday}``."""
    for wd, pair in pairs.items():
        if wd not in range(7):
            raise InvalidInput("weekday", _("A weekday is 0 (Monday) to 6 (Sunday)."))
        if pair is not None and pair[1] <= pair[0]:
            raise InvalidInput(f"{field}_{wd}", message)


def save_settings(
    user: Any,
    program: Program,
    nurse_ratio: int,
    hours: Mapping[int, tuple[time, time] | None],
    *,
    reminder_hours: int | None = None,
    request: HttpRequest | None = None,
) -> BookingSettings:
    """Store the nurse ratio, the opening hours per weekday (None = closed) and, if given, how
    many hours before an appointment its reminder goes out."""
    require_roles(user, program, PLANNER_ROLES)
    if not 1 <= nurse_ratio <= 20:
        raise InvalidInput("nurse_ratio", _("A nurse monitors between 1 and 20 dosing patients."))
    if reminder_hours is not None and not 1 <= reminder_hours <= MAX_REMINDER_HOURS:
        raise InvalidInput("reminder_hours", _("Send reminders between 1 hour and 7 days before."))
    _check_weekday_pairs(hours, "closes", _("Closing time must be after opening time."))
    row = settings_of(program)
    row.nurse_ratio = nurse_ratio
    if reminder_hours is not None:
        row.reminder_hours = reminder_hours
    row.save()
    ClinicHours.objects.filter(program=program).delete()
    ClinicHours.objects.bulk_create(
        ClinicHours(program=program, weekday=wd, opens=p[0], closes=p[1])
        for wd, p in sorted(hours.items())
        if p is not None
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        object_type="booking.settings",
        object_id=str(program.pk),
        detail={"nurse_ratio": nurse_ratio, "reminder_hours": row.reminder_hours},
    )
    return row


@transaction.atomic
def add_rota(
    user: Any,
    program: Program,
    staff: User,
    role: str,
    start: time,
    end: time,
    *,
    weekday: int | None = None,
    on: date | None = None,
    request: HttpRequest | None = None,
) -> StaffRota:
    require_roles(user, program, PLANNER_ROLES)
    if role not in rota_roles(program, staff):
        raise InvalidInput("role", _("This person does not hold that role in the program."))
    if (weekday is None) == (on is None):
        raise InvalidInput("weekday", _("Choose a weekday or one date, not both."))
    if end <= start:
        raise InvalidInput("end", _("The shift must end after it starts."))
    row = StaffRota.objects.create(
        program=program, user=staff, role=role, weekday=weekday, date=on, start=start, end=end
    )
    record(action=Action.CREATE, request=request, actor=user, program=program, obj=row)
    return row


@transaction.atomic
def delete_rota(user: Any, program: Program, rota_id: int) -> None:
    require_roles(user, program, PLANNER_ROLES)
    deleted, _rows = StaffRota.objects.filter(program=program, pk=rota_id).delete()
    if not deleted:
        raise Http404("No such rota window")
    record(
        action=Action.DELETE,
        actor=user,
        program=program,
        object_type="booking.staffrota",
        object_id=str(rota_id),
    )


# --- instance -----------------------------------------------------------------------------------


def _tz(program: Program) -> ZoneInfo:
    return ZoneInfo(program.time_zone)


def _hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _local(program: Program, moment: datetime) -> datetime:
    return timezone.localtime(moment, _tz(program)).replace(tzinfo=None)


def _aware(program: Program, naive: datetime) -> datetime:
    return naive.replace(tzinfo=_tz(program))


def _round_up(minutes: int, slot: int) -> int:
    return max(slot, math.ceil(minutes / slot) * slot)


def _base_track(episode: Episode) -> dict[str, Any]:
    tracks = default_tracks()
    protocol = care.protocol_of(episode)
    base = tracks.get(episode.protocol_id)
    if base is None:
        base = tracks["esketamine-trd" if protocol.drug == "esketamine" else "iv-trd"]
    out = {k: v for k, v in base.items() if k not in ("description", "source")}
    out["minutes"] = dict(base["minutes"])
    out["dose_spacing_days"] = dict(base["dose_spacing_days"])
    doses = protocol.doses
    if not doses.uses_cadence and doses.max_days_between:
        out["dose_spacing_days"] = {
            "min": doses.min_days_between,
            "max": doses.max_days_between,
        }
    out["integration_within_hours"] = protocol.integration.within_hours
    out["minutes"]["preparation"] = protocol.preparation.minutes
    out["minutes"]["integration"] = protocol.integration.minutes
    return out


@dataclass
class Built:
    """An instance (JSON) and how its ids map back to rows."""

    instance: dict[str, Any]
    mapping: dict[str, Any]


def _staff_json(
    program: Program, start_date: date, days: int
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    by_user: dict[int, list[StaffRota]] = defaultdict(list)
    for r in rotas(program):
        by_user[r.user.pk].append(r)
    langs: dict[int, set[str]] = defaultdict(set)
    for m in Membership.objects.filter(program=program):
        langs[m.user_id].update(str(x).lower() for x in (m.languages or []))
    staff, names = [], {}
    for uid, rows in sorted(by_user.items()):
        windows = []
        for r in rows:
            if r.date is not None:
                d = (r.date - start_date).days
                if 0 <= d < days:
                    windows.append({"day": d, "start": _hhmm(r.start), "end": _hhmm(r.end)})
            elif r.weekday is not None:
                windows.append(
                    {"weekday": WEEKDAYS[r.weekday], "start": _hhmm(r.start), "end": _hhmm(r.end)}
                )
        sid = f"s{uid}"
        staff.append(
            {
                "id": sid,
                "roles": sorted({r.role for r in rows}),
                "languages": sorted(langs[uid] or {"en"}),
                "availability": windows,
            }
        )
        names[sid] = rows[0].user.get_full_name() or rows[0].user.username
    return staff, names


def _rooms_json(
    program: Program, start_date: date, days: int, hours: dict[int, tuple[str, str]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    closed = set(
        ClosedDate.objects.filter(
            program=program, date__gte=start_date, date__lt=start_date + timedelta(days=days)
        ).values_list("date", flat=True)
    )
    availability = None
    if closed:
        availability = []
        for d in range(days):
            day = start_date + timedelta(days=d)
            pair = hours.get(day.weekday())
            if pair and day not in closed:
                availability.append({"day": d, "start": pair[0], "end": pair[1]})
    rooms, names = [], {}
    for room in Room.objects.filter(site__program=program, active=True).order_by(
        "kind", "site__name", "name"
    ):
        rid = f"r{room.pk}"
        item: dict[str, Any] = {"id": rid, "kind": room.kind, "name": room.name}
        if availability is not None:
            item["availability"] = availability
        rooms.append(item)
        names[rid] = room.name
    return rooms, names


def availability_on_file(program: Program) -> bool:
    """Whether any patient of the program has windows on file (the demo seeds them once)."""
    return PatientAvailability.objects.filter(program=program).exists()


def availability_of(patient: Patient) -> list[PatientAvailability]:
    """The patient's weekly windows (empty: whenever the clinic is open). The caller has opened
    the chart (permission checked and audited there)."""
    return list(PatientAvailability.objects.filter(program=patient.program, patient=patient))


@transaction.atomic
def set_availability(
    user: Any,
    patient: Patient,
    windows: Mapping[int, tuple[time, time] | None],
    *,
    request: HttpRequest | None = None,
) -> list[PatientAvailability]:
    """Replace the patient's weekly windows (weekday → (from, until) or None for a day they
    cannot come; every day None = whenever the clinic is open). All or nothing."""
    program = patient.program
    require_roles(user, program, PLANNER_ROLES)
    _check_weekday_pairs(windows, "until", _("'Until' must be after 'from'."))
    return _store_availability(patient, windows, request=request, actor=user)


def _store_availability(
    patient: Patient,
    windows: Mapping[int, tuple[time, time] | None],
    *,
    request: HttpRequest | None,
    actor: Any = None,
    actor_username: str = "",
    via: str = "",
) -> list[PatientAvailability]:
    """Replace the patient's windows with ``windows`` (checked by the caller) and audit it."""
    program = patient.program
    PatientAvailability.objects.filter(program=program, patient=patient).delete()
    rows = PatientAvailability.objects.bulk_create(
        PatientAvailability(program=program, patient=patient, weekday=wd, start=p[0], end=p[1])
        for wd, p in sorted(windows.items())
        if p is not None
    )
    detail: dict[str, Any] = {"weekdays": [wd for wd, p in sorted(windows.items()) if p]}
    if via:
        detail["via"] = via
    record(
        action=Action.UPDATE,
        request=request,
        actor=actor,
        actor_username=actor_username,
        program=program,
        patient_id=patient.pk,
        object_type="booking.availability",
        object_id=str(patient.pk),
        detail=detail,
    )
    return rows


# The patient's own answer on their phone: a plain choice per open day (mornings end and
# afternoons start at 13:00), turned into windows inside the clinic's hours.
DAY_CHOICES = ("any", "morning", "afternoon", "none")
MIDDAY = time(13, 0)


def open_days(program: Program) -> dict[int, tuple[time, time]]:
    """Weekday → (opens, closes) for the days the clinic is open (defaults when none set)."""
    rows = {h.weekday: (h.opens, h.closes) for h in clinic_hours(program)}
    return rows or dict.fromkeys(range(5), DEFAULT_HOURS)


def _choice_window(choice: str, opens: time, closes: time) -> tuple[time, time] | None:
    """The window a plain choice stands for on a day the clinic opens ``opens``–``closes``."""
    pair = {
        "any": (opens, closes),
        "morning": (opens, min(closes, MIDDAY)),
        "afternoon": (max(opens, MIDDAY), closes),
    }.get(choice)
    return pair if pair is not None and pair[0] < pair[1] else None


def day_choices_of(patient: Patient) -> dict[int, str]:
    """The patient's windows read back as the plain choices ("any" when nothing fits)."""
    hours = open_days(patient.program)
    current = availability_of(patient)
    if not current:
        return dict.fromkeys(hours, "any")
    by_day = {w.weekday: (w.start, w.end) for w in current}
    out: dict[int, str] = {}
    for wd, (opens, closes) in hours.items():
        pair = by_day.get(wd)
        named = [c for c in ("morning", "afternoon") if pair == _choice_window(c, opens, closes)]
        out[wd] = "none" if pair is None else (named[0] if named else "any")
    return out


@transaction.atomic
def set_availability_by_patient(
    link: Any, choices: Mapping[int, str], *, request: HttpRequest | None = None
) -> list[PatientAvailability]:
    """The patient (through their check-in link) says when they can come, per open day: any
    time, mornings, afternoons or not that day. All "any" = whenever the clinic is open. All
    or nothing; audited as the patient's own change."""
    patient = link.patient
    hours = open_days(patient.program)
    unknown = [wd for wd in choices if wd not in hours]
    if unknown:
        raise InvalidInput("weekday", _("The clinic is closed on that day."))
    bad = [wd for wd, c in choices.items() if c not in DAY_CHOICES]
    if bad:
        raise InvalidInput(f"day_{bad[0]}", _("Choose one of the options."))
    if choices and all(c == "none" for c in choices.values()):
        raise InvalidInput("days", _("Choose at least one day you can come."))
    windows: dict[int, tuple[time, time] | None] = {}
    if any(c != "any" for c in choices.values()):
        for wd, (opens, closes) in hours.items():
            windows[wd] = _choice_window(choices.get(wd, "any"), opens, closes)
    return _store_availability(
        patient,
        windows,
        request=request,
        actor_username=f"patient:{patient.pk}",
        via="check-in link",
    )


def weekly_availability(patient: Patient) -> list[tuple[int, time, time]]:
    """The patient's weekly windows ``(weekday 0 = Monday, from, until)`` as given for booking;
    peer circles read the same times (issue 19: one availability, asked once)."""
    return [
        (r.weekday, r.start, r.end)
        for r in PatientAvailability.objects.filter(
            program=patient.program, patient=patient
        ).order_by("weekday", "start")
    ]


def _patient_windows(program: Program, patient: Patient) -> list[dict[str, Any]] | None:
    rows = PatientAvailability.objects.filter(program=program, patient=patient)
    if not rows:
        return None
    return [
        {"weekday": WEEKDAYS[r.weekday], "start": _hhmm(r.start), "end": _hhmm(r.end)} for r in rows
    ]


def _fixed_course(
    program: Program, episode: Episode, appts: list[Appointment], pid: str, slot: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]] | None:
    """A booked course as a pre-booked instance patient: (track, patient, session → appt id).

    The track keeps the protocol's rules but is widened to the booked times (they were verified
    when booked). Sessions are renumbered from 1; an integration whose dose is already past is
    left out (the scheduler pairs integration k with dose k). None when no dose is left.
    """
    preps = sorted((a for a in appts if a.kind == "preparation"), key=lambda a: a.start)
    doses = sorted((a for a in appts if a.kind == "dose"), key=lambda a: a.start)
    if not doses:
        return None
    dose_no = {a.index: i for i, a in enumerate(doses, start=1)}
    integ = {dose_no[a.index]: a for a in appts if a.kind == "integration" and a.index in dose_no}
    if len(integ) != len(doses):
        return None
    base = _base_track(episode)
    local = {a.pk: _local(program, a.start) for a in appts}
    gaps = [
        (local[b.pk].date() - local[a.pk].date()).days
        for a, b in zip(doses, doses[1:], strict=False)
    ]
    lo = (
        min([base["dose_spacing_days"]["min"], *gaps]) if gaps else base["dose_spacing_days"]["min"]
    )
    hi = (
        max([base["dose_spacing_days"]["max"], *gaps]) if gaps else base["dose_spacing_days"]["max"]
    )
    within = base["integration_within_hours"]
    for k, d in enumerate(doses, start=1):
        need = (integ[k].start - d.end).total_seconds() / 3600
        within = max(within, math.ceil(need))

    def minutes(a: Appointment) -> int:
        return _round_up(int((a.end - a.start).total_seconds() // 60), slot)

    track = dict(base)
    track.pop("start_within_hours", None)
    track.update(
        preparation_count=len(preps),
        dose_count=len(doses),
        dose_spacing_days={"min": max(1, lo), "max": max(1, lo, hi)},
        integration_within_hours=within,
        minutes={
            "preparation": minutes(preps[0]) if preps else _round_up(60, slot),
            "dose": minutes(doses[0]),
            "integration": minutes(integ[1]),
        },
    )
    sessions: dict[str, str] = {}
    booked = []

    def add(a: Appointment, kind: str, index: int) -> None:
        sessions[f"{kind}#{index}"] = str(a.pk)
        booked.append(
            {
                "patient": pid,
                "kind": kind,
                "index": index,
                "start": local[a.pk].strftime("%Y-%m-%dT%H:%M"),
                "room": f"r{a.room_id}",
                "staff": [f"s{a.staff_id}"] if a.staff_id else [],
            }
        )

    for i, a in enumerate(preps, start=1):
        add(a, "preparation", i)
    for k, a in enumerate(doses, start=1):
        add(a, "dose", k)
        add(integ[k], "integration", k)
    first = min(local.values()).date()
    patient = {
        "id": pid,
        "track": f"fixed-{pid}",
        "release": first.isoformat(),
        "language": episode.patient.preferred_language,
        "booked": booked,
    }
    return track, patient, sessions


def _open_activities(episode: Episode, taken: set[int]) -> dict[str, list[CareActivity]]:
    """The course's planned preparation, dose and integration activities, in index order.

    Only the plan's own sessions (``name == kind``): a track's extra integration sessions
    (``relapse-prevention``) share the kind and their own numbering, and are not booked here."""
    out: dict[str, list[CareActivity]] = {k: [] for k in COURSE_KINDS}
    for a in (
        care.activities_of(episode)
        .filter(kind__in=COURSE_KINDS, status=CareActivity.Status.PLANNED)
        .order_by("kind", "index")
    ):
        if a.pk not in taken and a.name == a.kind:
            out[a.kind].append(a)
    return out


def _cadence_spacing(episode: Episode, doses: list[CareActivity], base: dict[str, Any]) -> None:
    """A weekly cadence (Spravato label: twice weekly, then weekly) is held by the doses' care-plan
    windows; the track's spacing only keeps its minimum and is widened to what the windows
    allow between consecutive doses."""
    if not care.protocol_of(episode).doses.uses_cadence or len(doses) < 2:
        return
    widest = max((b.latest - a.earliest).days for a, b in zip(doses, doses[1:], strict=False))
    spacing = base["dose_spacing_days"]
    base["dose_spacing_days"] = {
        "min": spacing["min"],
        "max": max(spacing["max"], spacing["min"], widest),
    }


def _may_book_drug(program: Any, episode: Any, on: Any) -> bool:
    """Esketamine is booked only in a REMS-certified outpatient setting (CLINICAL.md §4), and
    only once a prior authorisation the payer requires is approved (issue 19)."""
    if care.protocol_of(episode).drug != "esketamine":
        return True
    from trellis.access.services import prior_auth_blocks
    from trellis.dosing.services import setting_certified

    return bool(setting_certified(program, on)) and not prior_auth_blocks(episode)


def build_instance(
    user: Any,
    program: Program,
    start_date: date,
    days: int,
    now: datetime,
    *,
    exclude_episode: Episode | None = None,
) -> Built:
    """The program's clinic as a scheduling instance for ``days`` days from ``start_date``.

    Rooms: the program's active rooms. Staff: everyone with a rota (roles and windows from the
    rota, languages from their memberships). Waiting patients: active episodes with planned
    preparation/dose/integration activities and no booked appointment; each gets a track from
    its protocol (spacing, minutes) with the counts still open in its care plan. Episodes with
    booked appointments are pre-booked patients (they stay). ``user`` scopes the episodes.
    """
    require_roles(user, program, VIEWER_ROLES)
    conf = settings_of(program)
    slot = conf.slot_minutes
    hours_rows = {h.weekday: (_hhmm(h.opens), _hhmm(h.closes)) for h in clinic_hours(program)}
    if not hours_rows:
        hours_rows = {wd: (_hhmm(DEFAULT_HOURS[0]), _hhmm(DEFAULT_HOURS[1])) for wd in range(5)}
    day0 = datetime.combine(start_date, time.min)
    booked = list(
        Appointment.objects.filter(
            program=program, status__in=HELD, start__gte=_aware(program, day0)
        ).select_related("episode", "episode__patient")
    )
    if exclude_episode is not None:
        booked = [a for a in booked if a.episode_id != exclude_episode.pk]
    last = max((_local(program, a.end) for a in booked), default=None)
    if last is not None:
        days = max(days, (last.date() - start_date).days + 1)
    rooms, room_names = _rooms_json(program, start_date, days, hours_rows)
    staff, staff_names = _staff_json(program, start_date, days)
    tracks: dict[str, Any] = {}
    patients: list[dict[str, Any]] = []
    mapping: dict[str, Any] = {"patients": {}, "rooms": room_names, "staff": staff_names}

    by_episode: dict[Any, list[Appointment]] = defaultdict(list)
    for a in booked:
        by_episode[a.episode_id].append(a)
    leftovers: list[Appointment] = []
    for appts in by_episode.values():
        episode = appts[0].episode
        pid = f"e{episode.pk.hex}"
        fixed = _fixed_course(program, episode, appts, pid, slot)
        if fixed is None:
            leftovers += appts
            continue
        used = set(fixed[2].values())
        leftovers += [a for a in appts if str(a.pk) not in used]
        track, patient, sessions = fixed
        tracks[patient["track"]] = track
        patients.append(patient)
        mapping["patients"][pid] = {
            "episode": str(episode.pk),
            "name": episode.patient.staff_label,
            "fixed": True,
            "sessions": sessions,
        }

    taken = set(
        Appointment.objects.filter(program=program, care_activity__isnull=False)
        .exclude(status=Appointment.Status.CANCELLED)
        .values_list("care_activity_id", flat=True)
    )
    horizon_end = start_date + timedelta(days=days)
    for episode in care.active_episodes(user, program).order_by("referred_on", "created_at"):
        if episode.pk in by_episode or (exclude_episode and episode.pk == exclude_episode.pk):
            continue
        open_ = _open_activities(episode, taken)
        if not open_["dose"]:
            continue
        if not _may_book_drug(program, episode, start_date):
            continue  # Spravato REMS: an uncertified setting cannot book esketamine
        base = _base_track(episode)
        doses = open_["dose"]
        preps = open_["preparation"]
        integ = {a.index: a for a in open_["integration"]}
        _cadence_spacing(episode, doses, base)
        track = dict(base)
        track["preparation_count"] = len(preps)
        track["dose_count"] = len(doses)
        track["minutes"] = {k: _round_up(v, slot) for k, v in base["minutes"].items()}
        if doses[0].index != 1:
            track.pop("start_within_hours", None)
        tid = f"{episode.protocol_id}.p{len(preps)}.d{len(doses)}"
        if "start_within_hours" not in track:
            tid += ".n"
        tracks[tid] = track
        pid = f"e{episode.pk.hex}"
        release = max(start_date, episode.referred_on)
        if release >= horizon_end:
            continue
        item: dict[str, Any] = {
            "id": pid,
            "track": tid,
            "release": release.isoformat(),
            "language": episode.patient.preferred_language,
        }
        windows = _patient_windows(program, episode.patient)
        if windows is not None:
            item["availability"] = windows
        # The care plan's dates (the pathway's windows, stored when the course started): every
        # session inside its window, in the pathway's order (one source of truth for dates).
        item["windows"] = windows_json(preps, doses, integ)
        patients.append(item)
        links: dict[str, int | None] = {}
        for i, prep in enumerate(preps, start=1):
            links[f"preparation#{i}"] = prep.pk
        for k, dose in enumerate(doses, start=1):
            links[f"dose#{k}"] = dose.pk
            match = integ.get(dose.index)
            links[f"integration#{k}"] = match.pk if match else None
        mapping["patients"][pid] = {
            "episode": str(episode.pk),
            "name": episode.patient.staff_label,
            "fixed": False,
            "sessions": links,
        }
    _block(program, start_date, days, hours_rows, rooms, staff, leftovers)
    instance = {
        "name": f"{program.slug} {start_date.isoformat()} +{days}d",
        "start_date": start_date.isoformat(),
        "days": days,
        "slot_minutes": slot,
        "opening_hours": {WEEKDAYS[wd]: list(pair) for wd, pair in hours_rows.items()},
        "nurse_ratio": conf.nurse_ratio,
        "rooms": rooms,
        "staff": staff,
        "tracks": tracks or {"none": _placeholder_track()},
        "patients": patients,
    }
    return Built(instance, mapping)


def _day_windows(
    item: dict[str, Any], start_date: date, days: int, hours: dict[int, tuple[str, str]]
) -> dict[int, list[tuple[int, int]]]:
    def mins(text: str) -> int:
        return int(text[:2]) * 60 + int(text[3:])

    out: dict[int, list[tuple[int, int]]] = {}
    for d in range(days):
        wd = (start_date + timedelta(days=d)).weekday()
        windows = item.get("availability")
        if windows is None:
            pair = hours.get(wd)
            out[d] = [(mins(pair[0]), mins(pair[1]))] if pair else []
        else:
            out[d] = [
                (mins(w["start"]), mins(w["end"]))
                for w in windows
                if w.get("day") == d or w.get("weekday") == WEEKDAYS[wd]
            ]
    return out


def _block(
    program: Program,
    start_date: date,
    days: int,
    hours: dict[int, tuple[str, str]],
    rooms: list[dict[str, Any]],
    staff: list[dict[str, Any]],
    appts: list[Appointment],
) -> None:
    """Booked sessions that are not part of a modelled course (e.g. a lone preparation) take
    their room and staff member out of the availability, so nothing is planned over them."""
    if not appts:
        return
    blocks: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for a in appts:
        s, e = _local(program, a.start), _local(program, a.end)
        d = (s.date() - start_date).days
        span = (d, s.hour * 60 + s.minute, e.hour * 60 + e.minute if e.date() == s.date() else 1440)
        blocks[f"r{a.room_id}"].append(span)
        if a.staff_id:
            blocks[f"s{a.staff_id}"].append(span)
    for item in [*rooms, *staff]:
        mine = blocks.get(item["id"])
        if not mine:
            continue
        free = _day_windows(item, start_date, days, hours)
        for d, bs, be in mine:
            if d not in free:
                continue
            cut = []
            for ws, we in free[d]:
                if be <= ws or bs >= we:
                    cut.append((ws, we))
                    continue
                if ws < bs:
                    cut.append((ws, bs))
                if be < we:
                    cut.append((be, we))
            free[d] = cut
        item["availability"] = [
            {
                "day": d,
                "start": f"{ws // 60:02d}:{ws % 60:02d}",
                "end": f"{we // 60:02d}:{we % 60:02d}",
            }
            for d, spans in sorted(free.items())
            for ws, we in spans
            if we > ws
        ]


def _placeholder_track() -> dict[str, Any]:
    base = dict(default_tracks()["iv-trd"])
    base.pop("description", None)
    base.pop("source", None)
    return base


# --- propose / accept ---------------------------------------------------------------------------


def _solve(instance: Instance, method: str, time_limit: float) -> Plan:
    if method == "greedy":
        return solve_greedy(instance)
    if method == "cpsat":
        from trellis.core.scheduling.cpsat import solve_cpsat

        return solve_cpsat(instance, time_limit=time_limit)
    raise InvalidInput("method", _("Choose greedy or CP-SAT."))


@transaction.atomic
def propose(
    user: Any,
    program: Program,
    method: str = "greedy",
    time_limit: float = 10,
    *,
    start_date: date | None = None,
    days: int = 14,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> PlanProposal:
    """Solve the program's waiting courses, verify the plan and keep it as a proposal."""
    require_roles(user, program, PLANNER_ROLES)
    if not 0 < time_limit <= MAX_TIME_LIMIT:
        raise InvalidInput("time_limit", _("The time limit must be 1 to 60 seconds."))
    if not 1 <= days <= 84:
        raise InvalidInput("weeks", _("Plan between 1 and 12 weeks."))
    now = now or timezone.now()
    start_date = start_date or _local(program, now).date() + timedelta(days=1)
    built = build_instance(user, program, start_date, days, now)
    instance = parse_instance(built.instance)
    plan = _solve(instance, method, time_limit)
    result = verify(instance, plan)
    waiting = sum(1 for p in built.mapping["patients"].values() if not p["fixed"])
    fixed = len(built.mapping["patients"]) - waiting
    proposal = PlanProposal.objects.create(
        program=program,
        created_by=user,
        start_date=start_date,
        days=instance.days,
        instance=built.instance,
        plan=plan_to_json(instance, plan, result.courses_complete),
        mapping=built.mapping,
        method=method,
        status=plan.status,
        courses_complete=max(0, result.courses_complete - fixed),
        waiting=waiting,
        verification=result.to_json(),
    )
    record(action=Action.CREATE, request=request, actor=user, program=program, obj=proposal)
    return proposal


def has_accepted_plan(program: Program) -> bool:
    """Whether any plan of ``program`` was accepted (no patient data is read)."""
    return bool(PlanProposal.objects.filter(program=program, accepted_at__isnull=False).exists())


def proposals(user: Any, program: Program) -> QuerySet[PlanProposal]:
    require_roles(user, program, VIEWER_ROLES)
    qs: QuerySet[PlanProposal] = PlanProposal.objects.visible_to(user).filter(program=program)
    return qs


def get_proposal(
    user: Any, proposal_id: Any, *, request: HttpRequest | None = None
) -> PlanProposal:
    try:
        proposal: PlanProposal = PlanProposal.objects.visible_to(user).get(pk=proposal_id)
    except (PlanProposal.DoesNotExist, ValueError) as exc:
        raise Http404("No such plan") from exc
    if not has_any_role(user, proposal.program, VIEWER_ROLES):
        raise Http404("No such plan")
    record(action=Action.VIEW, request=request, actor=user, program=proposal.program, obj=proposal)
    return proposal


def _new_patients(proposal: PlanProposal) -> set[str]:
    return {pid for pid, p in proposal.mapping["patients"].items() if not p["fixed"]}


def _recheck(user: Any, proposal: PlanProposal, now: datetime, mine: set[str]) -> None:
    """Verify ``mine`` (patients of the proposal) against the bookings as they are now."""
    exclude = None
    if proposal.kind == PlanProposal.Kind.REPAIR:
        pid = next(iter(mine))
        exclude = care.get_episode(user, proposal.mapping["patients"][pid]["episode"], audit=False)
    fresh = build_instance(
        user, proposal.program, proposal.start_date, proposal.days, now, exclude_episode=exclude
    )
    fresh_fixed = {pid for pid, p in fresh.mapping["patients"].items() if p["fixed"]}
    clash = mine & fresh_fixed
    if clash:
        raise Conflict(_("Some of these courses were booked since this plan was made."))
    data = dict(fresh.instance)
    data["days"] = max(fresh.instance["days"], proposal.instance["days"])
    data["tracks"] = {**proposal.instance["tracks"], **fresh.instance["tracks"]}
    data["patients"] = [p for p in fresh.instance["patients"] if p["id"] in fresh_fixed] + [
        p for p in proposal.instance["patients"] if p["id"] in mine
    ]
    instance = parse_instance(data)
    booked = [b for p in data["patients"] if p["id"] in fresh_fixed for b in p.get("booked", [])]
    new = [a for a in proposal.plan["appointments"] if a["patient"] in mine]
    plan = parse_plan({"appointments": booked + new}, instance)
    result = verify(instance, plan)
    if not result.valid:
        msgs = "; ".join(v.message for v in result.violations[:5])
        raise Conflict(_("The clinic changed since this plan was made: %(m)s") % {"m": msgs})


def _resolve_staff(program: Program, sid: str | None) -> User | None:
    if not sid:
        return None
    return User.objects.filter(pk=int(sid[1:]), memberships__program=program).distinct().first()


def _resolve_room(program: Program, rid: str) -> Room:
    return Room.objects.get(pk=int(rid[1:]), site__program=program)


def _durations(proposal: PlanProposal, pid: str) -> dict[str, int]:
    track = proposal.instance["tracks"][
        next(p["track"] for p in proposal.instance["patients"] if p["id"] == pid)
    ]
    minutes: dict[str, int] = track["minutes"]
    return minutes


@transaction.atomic
def accept(
    user: Any,
    proposal: PlanProposal,
    *,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> list[Appointment]:
    """Book the proposal: re-verified against today's bookings first; all or nothing."""
    program = proposal.program
    require_roles(user, program, PLANNER_ROLES)
    proposal = PlanProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.accepted_at is not None:
        raise Conflict(_("This plan was already accepted."))
    now = now or timezone.now()
    planned = {a["patient"] for a in proposal.plan["appointments"]}
    mine = _new_patients(proposal) & planned
    if proposal.kind == PlanProposal.Kind.REPAIR:
        mine = {pid for pid, p in proposal.mapping["patients"].items() if p.get("repaired")}
    _recheck(user, proposal, now, mine)
    episodes: dict[str, Episode] = {}
    made: list[Appointment] = []
    for a in proposal.plan["appointments"]:
        pid = a["patient"]
        if pid not in mine:
            continue
        info = proposal.mapping["patients"][pid]
        if pid not in episodes:
            episodes[pid] = care.get_episode(user, info["episode"], audit=False)
        episode = episodes[pid]
        key = f"{a['kind']}#{a['index']}"
        start = _aware(program, datetime.fromisoformat(a["start"]))
        if a["kind"] == "dose" and not _may_book_drug(program, episode, start.date()):
            # Re-checked at booking: the certification may have lapsed since the proposal.
            raise Conflict(
                _(
                    "Esketamine cannot be booked: this setting's Spravato REMS certification "
                    "is not current. Nothing was booked."
                )
            )
        end = start + timedelta(minutes=_durations(proposal, pid)[a["kind"]])
        room = _resolve_room(program, a["room"])
        staff = _resolve_staff(program, (a.get("staff") or [None])[0])
        if proposal.kind == PlanProposal.Kind.REPAIR:
            existing_id = info["sessions"].get(key)
            old = (
                Appointment.objects.filter(pk=existing_id, status=Appointment.Status.BOOKED).first()
                if existing_id
                else None
            )
            if old is not None:
                if (old.start, old.room_id, old.staff_id) != (
                    start,
                    room.pk,
                    getattr(staff, "pk", None),
                ):
                    old.start, old.end, old.room, old.staff = start, end, room, staff
                    old.save(update_fields=["start", "end", "room", "staff"])
                    care.mark_scheduled(old.care_activity_id, start, day=_local_day(program, start))
                    made.append(old)
                continue
            activity_id = info.get("activities", {}).get(key)
        else:
            activity_id = info["sessions"].get(key)
        appt = Appointment.objects.create(
            program=program,
            patient=episode.patient,
            episode=episode,
            care_activity_id=activity_id,
            kind=a["kind"],
            index=_activity_index(episode, activity_id, a["index"]),
            start=start,
            end=end,
            room=room,
            staff=staff,
            created_by=user,
            source_plan=proposal,
        )
        care.mark_scheduled(activity_id, start, day=_local_day(program, start))
        made.append(appt)
    proposal.accepted_by = user
    proposal.accepted_at = now
    proposal.save(update_fields=["accepted_by", "accepted_at"])
    by_patient: dict[Any, list[Appointment]] = defaultdict(list)
    lead = timedelta(hours=settings_of(program).reminder_hours)
    for appt in made:
        record(
            action=Action.CREATE,
            request=request,
            actor=user,
            program=program,
            patient_id=appt.patient_id,
            obj=appt,
        )
        by_patient[appt.patient_id].append(appt)
        if appt.start <= now + lead:
            send_reminder(appt)  # due already; the periodic job sends the rest on time
    for appts in by_patient.values():
        send_confirmation(proposal, appts[0].patient, appts)
    return made


def _local_day(program: Program, moment: datetime) -> date:
    return _local(program, moment).date()


def _activity_index(episode: Episode, activity_id: int | None, fallback: int) -> int:
    if activity_id is None:
        return fallback
    found = care.activities_of(episode).filter(pk=activity_id).values_list("index", flat=True)
    return int(found[0]) if found else fallback


# --- reminders ----------------------------------------------------------------------------------


def reminder_text(appt: Appointment) -> tuple[str, str]:
    """Subject and body in the patient's language: a time and a place, no health details."""
    patient = appt.patient
    lang = patient.preferred_language if patient.preferred_language in ("en", "es") else "en"
    local = _local(appt.program, appt.start)
    with translation.override(lang):
        subject = _("Your appointment")
        body = _(
            "Hello %(name)s, this is a reminder of your appointment with %(clinic)s on "
            "%(date)s at %(time)s. If you cannot come, please call us."
        ) % {
            "name": patient.display_first_name,
            "clinic": appt.program.name,
            "date": local.strftime("%Y-%m-%d"),
            "time": local.strftime("%H:%M"),
        }
    return subject, body


def send_reminder(appt: Appointment) -> list[tuple[str, str]]:
    """Queue one reminder per consented channel; once per appointment and time (a moved
    appointment gets a new one)."""
    subject, body = reminder_text(appt)
    return message_patient(
        program=appt.program,
        patient=appt.patient,
        subject=subject,
        body=body,
        purpose="appointment",
        dedupe=_reminder_dedupe(appt),
    )


def _reminder_dedupe(appt: Appointment) -> str:
    stamp = _local(appt.program, appt.start).strftime("%Y%m%d%H%M")
    return f"booking:{appt.pk}:{stamp}"


def confirmation_text(
    patient: Patient, program: Program, appts: list[Appointment]
) -> tuple[str, str]:
    """Subject and body of the one message a patient gets when a plan is accepted: how many
    appointments, the first one's date and time, and that a reminder comes the day before each
    (no health details: CLINICAL.md's minimum-necessary rule for messages)."""
    lang = patient.preferred_language if patient.preferred_language in ("en", "es") else "en"
    first = _local(program, min(a.start for a in appts))
    hours = settings_of(program).reminder_hours
    with translation.override(lang):
        subject = _("Your appointments are booked")
        when = (
            _("We will send a reminder the day before each one.")
            if hours == 24
            else _("We will send a reminder %(hours)d hours before each one.") % {"hours": hours}
        )
        body = _(
            "Hello %(name)s, %(clinic)s has booked %(count)d appointments for you. The first is "
            "on %(date)s at %(time)s. %(when)s If a time does not suit you, please call us."
        ) % {
            "when": when,
            "name": patient.display_first_name,
            "clinic": program.name,
            "count": len(appts),
            "date": first.strftime("%Y-%m-%d"),
            "time": first.strftime("%H:%M"),
        }
    return subject, body


def send_confirmation(proposal: PlanProposal, patient: Patient, appts: list[Appointment]) -> int:
    """One message per consented channel when ``proposal`` books ``appts`` for ``patient``."""
    if not appts:
        return 0
    subject, body = confirmation_text(patient, proposal.program, appts)
    sent = message_patient(
        program=proposal.program,
        patient=patient,
        subject=subject,
        body=body,
        purpose="appointment",
        dedupe=f"booking:confirm:{proposal.pk}:{patient.pk}",
    )
    return len(sent)


@periodic_job("booking.mark_done")
def mark_done(now: datetime | None = None) -> int:
    """Booked appointments whose care activity has been recorded (the dose given, the session
    held: recorded in dosing or integration, which complete the care activity) become done, so
    the calendars and the chart show what happened. Each change is audited; returns how many.

    Only the appointment's own session counts: the recorded activity has the appointment's kind
    and index and happened on the appointment's day (clinic time). A session recorded on
    another day (a preparation held today while its appointment is next week) leaves the
    appointment booked, for the team to cancel or keep."""
    candidates = Appointment.objects.filter(
        status=Appointment.Status.BOOKED,
        care_activity__status=CareActivity.Status.DONE,
        care_activity__done_at__isnull=False,
        care_activity__kind=F("kind"),
        care_activity__index=F("index"),
    ).select_related("program", "care_activity")
    done = [
        appt
        for appt in candidates
        if appt.care_activity is not None
        and appt.care_activity.done_at is not None
        and _local_day(appt.program, appt.care_activity.done_at)
        == _local_day(appt.program, appt.start)
    ]
    for appt in done:
        appt.status = Appointment.Status.DONE
        appt.save(update_fields=["status"])
        record(
            action=Action.UPDATE,
            program=appt.program,
            patient_id=appt.patient_id,
            obj=appt,
            detail={"status": "done", "because": "care activity recorded"},
        )
    return len(done)


def reminder_leads() -> dict[Any, timedelta]:
    """Program id → how long before an appointment its reminder goes out (programs that have
    settings; the others use ``REMINDER_LEAD``)."""
    return {
        row.program_id: timedelta(hours=row.reminder_hours) for row in BookingSettings.objects.all()
    }


@periodic_job("booking.send_due_reminders")
def send_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminder for every booked appointment that starts within its program's
    reminder time (default ``REMINDER_LEAD``, the day before), once per appointment and time;
    returns the appointments reminded.
    Each patient's reminder is audited as a notification by the system."""
    now = now or timezone.now()
    leads = reminder_leads()
    longest = max(leads.values(), default=REMINDER_LEAD)
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.BOOKED,
            start__gt=now,
            start__lte=now + max(longest, REMINDER_LEAD),
        )
        .select_related("program", "patient")
        .order_by("start")
    )
    count = 0
    for appt in due:
        if appt.start > now + leads.get(appt.program_id, REMINDER_LEAD):
            continue  # not yet: this program reminds closer to the time
        if not unsent_channels(appt.program, appt.patient, _reminder_dedupe(appt)):
            continue  # no consented channel, or already reminded
        sent = send_reminder(appt)
        record(
            action=Action.NOTIFY,
            program=appt.program,
            patient_id=appt.patient_id,
            obj=appt,
            detail={"reminder": "appointment", "channels": [c for c, _a in sent]},
        )
        count += 1
    return count


# --- appointments, cancel and repair ------------------------------------------------------------


def appointments_of(user: Any, patient: Patient) -> QuerySet[Appointment]:
    qs: QuerySet[Appointment] = (
        Appointment.objects.visible_to(user)
        .filter(patient=patient)
        .select_related("room", "staff")
        .order_by("start")
    )
    return qs


def program_appointments(
    user: Any, program: Program, start: date, days: int
) -> QuerySet[Appointment]:
    require_roles(user, program, VIEWER_ROLES)
    day0 = _aware(program, datetime.combine(start, time.min))
    qs: QuerySet[Appointment] = (
        Appointment.objects.visible_to(user)
        .filter(
            program=program,
            status__in=HELD,
            start__gte=day0,
            start__lt=day0 + timedelta(days=days),
        )
        .select_related("patient", "room", "staff")
    )
    return qs


def get_appointment(
    user: Any, appointment_id: Any, *, request: HttpRequest | None = None
) -> Appointment:
    try:
        appt: Appointment = (
            Appointment.objects.visible_to(user)
            .select_related("patient", "episode", "program")
            .get(pk=appointment_id)
        )
    except (Appointment.DoesNotExist, ValueError) as exc:
        raise Http404("No such appointment") from exc
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=appt.program,
        patient_id=appt.patient_id,
        obj=appt,
    )
    return appt


@transaction.atomic
def cancel(
    user: Any,
    appointment: Appointment,
    reason: str,
    *,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> PlanProposal | None:
    """Cancel one appointment and propose a repaired course for its patient (None if none).

    Every other appointment stays as booked; the repair moves only this patient's sessions.
    """
    program = appointment.program
    require_roles(user, program, PLANNER_ROLES)
    reason = reason.strip()
    if not reason:
        raise InvalidInput("reason", _("Say why the appointment is cancelled."))
    if appointment.status != Appointment.Status.BOOKED:
        raise Conflict(_("Only a booked appointment can be cancelled."))
    now = now or timezone.now()
    mine = list(
        Appointment.objects.filter(episode=appointment.episode, status__in=HELD).select_related(
            "episode", "episode__patient"
        )
    )
    care.mark_scheduled(appointment.care_activity_id, None)
    appointment.status = Appointment.Status.CANCELLED
    appointment.cancel_reason = reason[:200]
    appointment.save(update_fields=["status", "cancel_reason"])
    record(
        action=Action.UPDATE,
        request=request,
        actor=user,
        program=program,
        patient_id=appointment.patient_id,
        obj=appointment,
        detail={"status": "cancelled"},
    )
    local_now = _local(program, now)
    start_date = local_now.date()
    future = [a for a in mine if a.start >= _aware(program, datetime.combine(start_date, time.min))]
    if appointment not in future:
        return None
    built = build_instance(user, program, start_date, 14, now, exclude_episode=appointment.episode)
    slot = settings_of(program).slot_minutes
    pid = f"e{appointment.episode.pk.hex}"
    last = max(_local(program, a.end) for a in future)
    days = max(built.instance["days"], (last.date() - start_date).days + 15)
    data = dict(built.instance)
    data["days"] = days
    fixed = _fixed_course(program, appointment.episode, future, pid, slot)
    if fixed is None:
        return None
    track, patient_json, sessions = fixed
    booked = patient_json.pop("booked")
    cancelled_key = next(k for k, v in sessions.items() if v == str(appointment.pk))
    # The repaired course stays inside its care plan's windows too.
    acts = care.activities_by_pk(a.care_activity_id for a in future if a.care_activity_id)
    by_id = {str(a.pk): a for a in future}
    plan_windows = []
    for key, appt_id in sessions.items():
        kind, index = key.split("#")
        act = acts.get(by_id[appt_id].care_activity_id or 0)
        if act is not None:
            plan_windows.append(
                {
                    "kind": kind,
                    "index": int(index),
                    "earliest": act.earliest.isoformat(),
                    "latest": act.latest.isoformat(),
                }
            )
    if plan_windows:
        patient_json["windows"] = plan_windows
    patient_json["release"] = start_date.isoformat()
    data["tracks"] = {**data["tracks"], patient_json["track"]: track}
    others = [p for p in data["patients"] if p["id"] != pid and p.get("booked")]
    data["patients"] = [*others, patient_json]
    instance = parse_instance(data)
    plan = parse_plan({"appointments": [b for p in others for b in p["booked"]] + booked}, instance)
    kind, index = cancelled_key.split("#")
    minute = local_now.hour * 60 + local_now.minute
    try:
        repaired = repair(
            instance, plan, pid, cancelled=(kind, int(index)), not_before=(0, minute), time_limit=10
        )
    except Conflict:
        return None
    result = verify(instance, repaired)
    activities = {k: (Appointment.objects.get(pk=v).care_activity_id) for k, v in sessions.items()}
    mapping = {
        "patients": {
            **{p: {**built.mapping["patients"][p]} for p in built.mapping["patients"]},
            pid: {
                "episode": str(appointment.episode_id),
                "name": appointment.patient.staff_label,
                "fixed": True,
                "repaired": True,
                "sessions": {k: (None if k == cancelled_key else v) for k, v in sessions.items()},
                "activities": activities,
            },
        },
        "rooms": built.mapping["rooms"],
        "staff": built.mapping["staff"],
    }
    proposal = PlanProposal.objects.create(
        program=program,
        kind=PlanProposal.Kind.REPAIR,
        created_by=user,
        start_date=start_date,
        days=days,
        instance=data,
        plan=plan_to_json(instance, repaired, result.courses_complete),
        mapping=mapping,
        method="repair",
        status=repaired.status,
        courses_complete=1 if result.valid else 0,
        waiting=1,
        verification=result.to_json(),
        cancelled_appointment=appointment,
    )
    record(action=Action.CREATE, request=request, actor=user, program=program, obj=proposal)
    return proposal


# --- calendar -----------------------------------------------------------------------------------

KIND_LABELS = {"preparation": "Preparation", "dose": "Dose", "integration": "Integration"}


def calendar(proposal: PlanProposal) -> list[dict[str, Any]]:
    """Weeks of the proposal as rows (rooms, staff) × days, each cell a list of sessions."""
    mapping = proposal.mapping
    start = proposal.start_date
    weeks = []
    appts = proposal.plan["appointments"]
    # Names are read from the patients themselves, not from the copy kept in the mapping, so
    # that showing them is audited like every other page that shows a patient (issue 14).
    episode_ids = {info.get("episode") for info in mapping["patients"].values()} - {None}
    names = care.patient_labels_of(proposal.program, episode_ids)
    span = max(proposal.days, 1)
    for w in range(0, span, 7):
        days = [start + timedelta(days=d) for d in range(w, min(w + 7, span))]
        by_room: dict[str, list[list[dict[str, Any]]]] = {
            rid: [[] for _ in days] for rid in mapping["rooms"]
        }
        by_staff: dict[str, list[list[dict[str, Any]]]] = {
            sid: [[] for _ in days] for sid in mapping["staff"]
        }
        pooled: list[list[dict[str, Any]]] = [[] for _ in days]
        for a in appts:
            when = datetime.fromisoformat(a["start"])
            d = (when.date() - start).days - w
            if not 0 <= d < len(days):
                continue
            info = mapping["patients"].get(a["patient"], {})
            entry = {
                "time": when.strftime("%H:%M"),
                "end": (a.get("end") or "")[11:],
                "name": names.get(info.get("episode", ""), "?"),
                "kind": a["kind"],
                "index": a["index"],
                "new": not info.get("fixed") or info.get("repaired", False),
            }
            if a.get("room") in by_room:
                by_room[a["room"]][d].append(entry)
            staff = a.get("staff") or []
            for sid in staff:
                if sid in by_staff:
                    by_staff[sid][d].append(entry)
            if a["kind"] == "dose" and not staff:
                pooled[d].append(entry)
        for cells in [*by_room.values(), *by_staff.values(), pooled]:
            for cell in cells:
                cell.sort(key=lambda e: e["time"])
        weeks.append(
            {
                "days": days,
                "rooms": [(mapping["rooms"][r], c) for r, c in by_room.items()],
                "staff": [(mapping["staff"][s], c) for s, c in by_staff.items()],
                "pooled": pooled,
            }
        )
    return weeks


def staff_appointments(
    user: Any,
    program: Program,
    staff: Any,
    start: datetime,
    end: datetime,
    *,
    kinds: tuple[str, ...] = COURSE_KINDS,
    statuses: tuple[str, ...] = HELD,
) -> QuerySet[Appointment]:
    """Appointments of one staff member between ``start`` and ``end`` (the work queues)."""
    require_roles(user, program, VIEWER_ROLES)
    qs: QuerySet[Appointment] = (
        Appointment.objects.visible_to(user)
        .filter(
            program=program,
            staff=staff,
            kind__in=list(kinds),
            status__in=list(statuses),
            start__gte=start,
            start__lt=end,
        )
        .select_related("patient", "room")
        .order_by("start")
    )
    return qs


# --- system access (the FHIR API) ---------------------------------------------------------------


def system_appointments(program: Program) -> QuerySet[Appointment]:
    """The program's appointments.

    For the FHIR API: a system client already authorised for ``program``; the caller audits
    each read.
    """
    return Appointment.objects.filter(program=program).select_related("patient", "room", "staff")

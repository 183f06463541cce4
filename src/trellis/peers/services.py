"""Peer services: circles, matching, memberships, attendance, facilitator notes and mentors.

Every read and write of patient data is role-checked and audited. The rules are pure
(:mod:`trellis.core.peers`, :mod:`trellis.core.peers_rules`; CLINICAL.md §7); this module turns
the tables into their inputs and writes accepted results back. Nothing joins a circle without a
coordinator's acceptance and an active group participation consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from trellis.accounts.models import CLINICAL_ROLES, Membership, Program, Role, Room
from trellis.accounts.services import has_any_role, require_roles
from trellis.audit.models import Action
from trellis.audit.services import record
from trellis.care import services as care
from trellis.care.models import Episode
from trellis.core import peers as rules
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.peers.defaults import ABSOLUTE_CIRCLE_CAP
from trellis.core.peers_rules import names_in_note
from trellis.patients.models import ConsentKind, Patient
from trellis.patients.services import has_active_consent
from trellis.peers.models import (
    WEEKDAY_CHOICES,
    Attendance,
    Circle,
    CircleMembership,
    FacilitatorNote,
    Meeting,
    MentorContact,
    MentorPairing,
    MentorProfile,
    PeerPreferences,
)

# Coordinators and admins create circles, run matching and accept; facilitators run their own
# circles (first names and attendance only); clinical roles read the chart panel (issue 5).
COORDINATOR_ROLES = frozenset({Role.ADMIN, Role.COORDINATOR})
CIRCLE_ROLES = COORDINATOR_ROLES | {Role.PEER_FACILITATOR}
DUE_AHEAD_DAYS = 14


def _is_coordinator(user: Any, program: Program) -> bool:
    return has_any_role(user, program, COORDINATOR_ROLES)


# --- circles ------------------------------------------------------------------------------------


def _clean_circle(program: Program, data: dict[str, Any]) -> dict[str, Any]:
    """Validate a circle; the first bad field raises ``InvalidInput(field, message)``."""
    name = (data.get("name") or "").strip()
    if not name:
        raise InvalidInput("name", _("Give the circle a name."))
    facilitator = data.get("facilitator")
    if (
        facilitator is None
        or not Membership.objects.filter(
            user=facilitator, program=program, role=Role.PEER_FACILITATOR
        ).exists()
    ):
        raise InvalidInput("facilitator", _("Choose a peer facilitator of this program."))
    language = (data.get("language") or "").strip().lower()
    try:
        rules.model.language_tag(language, "language")
    except InvalidInput:
        raise InvalidInput("language", _('Use a language code such as "en" or "es".')) from None
    fmt = data.get("format")
    room = data.get("room")
    link = (data.get("video_link") or "").strip()
    if fmt == Circle.Format.IN_PERSON:
        if room is None or room.kind != Room.Kind.CIRCLE_ROOM or room.site.program_id != program.pk:
            raise InvalidInput("room", _("Choose a circle room of this program."))
        link = ""
    elif fmt == Circle.Format.VIDEO:
        parsed = urlparse(link)
        if parsed.scheme != "https" or not parsed.netloc:
            raise InvalidInput("video_link", _("The video link must start with https://."))
        room = None
    else:
        raise InvalidInput("format", _("Choose in person or video."))
    weekday = data.get("weekday")
    if not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise InvalidInput("weekday", _("Choose a weekday."))
    start_time = data.get("start_time")
    if not isinstance(start_time, time):
        raise InvalidInput("start_time", _("Give a start time such as 18:00."))
    length = data.get("length_minutes")
    length = 90 if length is None else length
    if not isinstance(length, int) or not 30 <= length <= 240:
        raise InvalidInput("length_minutes", _("A meeting lasts 30 to 240 minutes."))
    end_minutes = start_time.hour * 60 + start_time.minute + length
    if end_minutes > 24 * 60:
        raise InvalidInput("length_minutes", _("The meeting must end by midnight."))
    capacity = data.get("capacity")
    capacity = 10 if capacity is None else capacity
    if not isinstance(capacity, int) or not 1 <= capacity <= ABSOLUTE_CIRCLE_CAP:
        raise InvalidInput(
            "capacity", _("Capacity is 1 to %(cap)d people.") % {"cap": ABSOLUTE_CIRCLE_CAP}
        )
    start_date, end_date = data.get("start_date"), data.get("end_date")
    if not isinstance(start_date, date):
        raise InvalidInput("start_date", _("Give the first day of the circle."))
    if not isinstance(end_date, date) or end_date < start_date:
        raise InvalidInput("end_date", _("The end date must be on or after the start date."))
    if (end_date - start_date).days > 366:
        raise InvalidInput("end_date", _("A circle runs for at most a year."))
    agreements = (data.get("agreements") or "").strip()
    if not agreements:
        raise InvalidInput("agreements", _("Write the group agreements."))
    return {
        "name": name[:100],
        "facilitator": facilitator,
        "language": language,
        "focus_track": (data.get("focus_track") or "").strip(),
        "identity_focus": (data.get("identity_focus") or "").strip(),
        "format": fmt,
        "room": room,
        "video_link": link,
        "weekday": weekday,
        "start_time": start_time,
        "length_minutes": length,
        "capacity": capacity,
        "start_date": start_date,
        "end_date": end_date,
        "agreements": agreements,
    }


def meeting_dates(circle: Circle) -> list[date]:
    """Weekly on the circle's weekday from its start date to its end date (inclusive)."""
    first = circle.start_date + timedelta(days=(circle.weekday - circle.start_date.weekday()) % 7)
    out = []
    day = first
    while day <= circle.end_date:
        out.append(day)
        day += timedelta(days=7)
    return out


@transaction.atomic
def create_circle(user: Any, program: Program, data: dict[str, Any]) -> Circle:
    """A new circle with its weekly meetings (coordinators, admins or peer facilitators)."""
    require_roles(user, program, CIRCLE_ROLES)
    circle = Circle.objects.create(program=program, **_clean_circle(program, data))
    Meeting.objects.bulk_create(
        [Meeting(program=program, circle=circle, date=d) for d in meeting_dates(circle)]
    )
    record(action=Action.CREATE, actor=user, program=program, obj=circle)
    return circle


def circles_for(user: Any, program: Program | None) -> QuerySet[Circle]:
    """Every circle of the program for coordinators; a facilitator's own circles otherwise."""
    if program is None or not has_any_role(user, program, CIRCLE_ROLES | CLINICAL_ROLES):
        return Circle.objects.none()
    qs: QuerySet[Circle] = Circle.objects.filter(program=program).select_related(
        "room", "facilitator"
    )
    if not has_any_role(user, program, CLINICAL_ROLES):
        qs = qs.filter(facilitator_id=user.pk)
    return qs


def get_circle(user: Any, program: Program | None, circle_id: int) -> Circle:
    try:
        circle: Circle = circles_for(user, program).get(pk=circle_id)
    except Circle.DoesNotExist as exc:
        raise Http404("No such circle") from exc
    return circle


def enrolled_count(circle: Circle) -> int:
    return CircleMembership.objects.filter(
        circle=circle, status=CircleMembership.Status.ACTIVE
    ).count()


@dataclass(frozen=True)
class RosterRow:
    """What a facilitator may see of a member: first name and attendance, nothing else."""

    membership_id: int
    first_name: str
    full_name: str  # empty unless the viewer is a coordinator/clinician
    attendance: dict[int, str]  # meeting id -> status
    attended: int


def roster(
    user: Any, circle: Circle, *, request: HttpRequest | None = None
) -> tuple[list[Meeting], list[RosterRow]]:
    """The circle's meetings and members (first names; full names only for clinical roles)."""
    program = circle.program
    require_roles(user, program, CIRCLE_ROLES | CLINICAL_ROLES)
    if not has_any_role(user, program, CLINICAL_ROLES) and circle.facilitator_id != user.pk:
        raise Http404
    full = has_any_role(user, program, CLINICAL_ROLES)
    meetings = list(Meeting.objects.filter(circle=circle))
    members = list(
        CircleMembership.objects.filter(circle=circle, status=CircleMembership.Status.ACTIVE)
        .select_related("patient")
        .order_by("patient__given_name", "pk")
    )
    marks: dict[int, dict[int, str]] = {}
    for a in Attendance.objects.filter(meeting__circle=circle):
        marks.setdefault(a.membership_id, {})[a.meeting_id] = a.status
    rows = []
    for m in members:
        att = marks.get(m.pk, {})
        rows.append(
            RosterRow(
                membership_id=m.pk,
                first_name=m.patient.display_first_name,
                full_name=m.patient.staff_label if full else "",
                attendance=att,
                attended=sum(1 for s in att.values() if s == Attendance.Status.PRESENT),
            )
        )
    record(
        action=Action.VIEW,
        request=request,
        actor=user,
        program=program,
        obj=circle,
        detail={"roster": len(rows), "full_names": full},
    )
    return meetings, rows


# --- preferences --------------------------------------------------------------------------------


@transaction.atomic
def set_preferences(
    user: Any,
    patient: Patient,
    availability: list[dict[str, Any]],
    identity_opt_in: list[str] | None = None,
    mentor_opt_in: bool = False,
) -> PeerPreferences:
    """Store a patient's availability windows and opt-ins (validated by the pure parser)."""
    require_roles(user, patient.program, CLINICAL_ROLES)
    doc = {
        "id": "p",
        "language": patient.preferred_language or "en",
        "track": "any",
        "availability": availability,
        "identity_opt_in": list(identity_opt_in or []),
    }
    try:
        rules.model.parse_patient(doc, "preferences", {})
    except InvalidInput as exc:
        raise InvalidInput(exc.field.removeprefix("preferences."), str(exc)) from None
    prefs, _created = PeerPreferences.objects.update_or_create(
        patient=patient,
        defaults={
            "program": patient.program,
            "availability": availability,
            "identity_opt_in": [s.strip() for s in identity_opt_in or [] if s.strip()],
            "mentor_opt_in": mentor_opt_in,
        },
    )
    record(
        action=Action.UPDATE,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=prefs,
    )
    return prefs


def preferences_of(patient: Patient) -> PeerPreferences | None:
    return PeerPreferences.objects.filter(patient=patient).first()


# --- who is due, matching -----------------------------------------------------------------------


def first_dose_date(episode: Episode) -> date | None:
    event = care.events_of(episode).filter(kind="dose_given", index=1).order_by("at").first()
    return event.at.date() if event else None


def window_of(episode: Episode) -> tuple[date, date] | None:
    first = first_dose_date(episode)
    if first is None:
        return None
    rule = care.protocol_of(episode).peer_circle
    return rules.circle_window(first, rule.from_week, rule.weeks)


def _in_circle(patient: Patient) -> bool:
    return CircleMembership.objects.filter(
        patient=patient, status=CircleMembership.Status.ACTIVE
    ).exists()


def due_episodes(
    user: Any, program: Program, today: date, *, without_consent: list[Episode] | None = None
) -> list[Episode]:
    """Active episodes whose circle window has started or starts within 14 days, with group
    consent, whose patient is not already in a circle (issue 5). Those due but without group
    consent go to ``without_consent`` when given (issue 19: the matcher says why they wait)."""
    out = []
    for episode in care.active_episodes(user, program):
        window = window_of(episode)
        if window is None or window[0] > today + timedelta(days=DUE_AHEAD_DAYS):
            continue
        if window[1] < today:
            continue
        patient = episode.patient
        if _in_circle(patient):
            continue
        if not has_active_consent(patient, ConsentKind.GROUP):
            if without_consent is not None:
                without_consent.append(episode)
            continue
        out.append(episode)
    return out


def _core_circle(circle: Circle, enrolled: int) -> rules.Circle:
    start = circle.start_time.hour * 60 + circle.start_time.minute
    return rules.Circle(
        id=str(circle.pk),
        language=circle.language.lower(),
        weekday=circle.weekday,
        start=start,
        end=start + circle.length_minutes,
        capacity=circle.capacity,
        enrolled=min(enrolled, circle.capacity),
        focus=circle.focus_track.casefold() or None,
        identity=circle.identity_focus.casefold() or None,
        start_date=circle.start_date,
    )


def _core_patient(episode: Episode) -> rules.Patient:
    patient = episode.patient
    prefs = preferences_of(patient)
    windows: list[rules.Window] = []
    identities: frozenset[str] = frozenset()
    availability = prefs.availability if prefs is not None else []
    if not availability:
        # One availability, asked once (issue 19): the times the patient gave for booking
        # count for the circles too when no peer-specific times were given.
        availability = booking_availability(patient)
    if prefs is not None or availability:
        parsed = rules.model.parse_patient(
            {
                "id": str(patient.pk),
                "language": patient.preferred_language or "en",
                "track": episode.protocol_id,
                "availability": availability,
                "identity_opt_in": prefs.identity_opt_in if prefs is not None else [],
            },
            "patient",
            {},
        )
        windows, identities = list(parsed.availability), parsed.identity_opt_in
    return rules.Patient(
        id=str(patient.pk),
        language=(patient.preferred_language or "en").lower(),
        track=episode.protocol_id.casefold(),
        availability=tuple(windows),
        identity_opt_in=identities,
    )


def booking_availability(patient: Patient) -> list[dict[str, Any]]:
    """The weekly times the patient gave for booking, in the peer availability format."""
    from trellis.booking.services import weekly_availability

    return [
        {"weekday": day, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
        for day, start, end in weekly_availability(patient)
    ]


def open_circles(program: Program, today: date) -> list[Circle]:
    qs: QuerySet[Circle] = Circle.objects.filter(program=program, end_date__gte=today)
    return list(qs)


@dataclass(frozen=True)
class Proposal:
    episode: Episode
    patient: Patient
    circle: Circle | None
    reasons: list[str]
    alternatives: list[Circle]


@dataclass(frozen=True)
class MatchView:
    proposals: list[Proposal]
    waitlist: list[Proposal]
    suggested: list[tuple[rules.SuggestedCircle, list[Patient], str]]


def reasons_for(patient: rules.Patient, circle: rules.Circle) -> list[str]:
    """Why a circle fits (or not), for the coordinator."""
    out = []
    out.append(
        _("language %(lang)s matches") % {"lang": circle.language}
        if patient.language == circle.language
        else _("language differs")
    )
    out.append(
        _("slot fits availability")
        if patient.available(circle.weekday, circle.start, circle.end)
        else _("slot outside availability")
    )
    out.append(_("%(n)d of %(cap)d places taken") % {"n": circle.enrolled, "cap": circle.capacity})
    if circle.identity:
        out.append(
            _("opted in to %(id)s") % {"id": circle.identity}
            if circle.identity in patient.identity_opt_in
            else _("not opted in to %(id)s") % {"id": circle.identity}
        )
    if rules.affinity(patient, circle):
        out.append(_("track focus matches"))
    return out


def run_matching(
    user: Any, program: Program, today: date, *, request: HttpRequest | None = None
) -> MatchView:
    """Proposals (never saved) for every patient due to join; the coordinator accepts each."""
    require_roles(user, program, COORDINATOR_ROLES)
    no_consent: list[Episode] = []
    episodes = due_episodes(user, program, today, without_consent=no_consent)
    circles = open_circles(program, today)
    core_c = [_core_circle(c, enrolled_count(c)) for c in circles]
    core_p = {str(e.patient.pk): (_core_patient(e), e) for e in episodes}
    result = rules.match_patients([p for p, _e in core_p.values()], core_c)
    by_id = {str(c.pk): c for c in circles}
    core_by_id = {c.id: c for c in core_c}
    proposals, waitlist = [], []
    for pid, (cp, episode) in sorted(core_p.items(), key=lambda kv: kv[1][1].patient.full_name):
        alts = [by_id[c.id] for c in core_c if rules.is_feasible(cp, c)]
        cid = result.assignments.get(pid)
        if cid is None:
            why = [
                text for _code, text in rules.not_placed_reasons(cp, core_c, result.assignments)
            ] or [_("a fitting circle with room may open soon; run matching again")]
            waitlist.append(Proposal(episode, episode.patient, None, why, alts))
        else:
            proposals.append(
                Proposal(
                    episode, episode.patient, by_id[cid], reasons_for(cp, core_by_id[cid]), alts
                )
            )
    for episode in sorted(no_consent, key=lambda e: e.patient.full_name):
        waitlist.append(
            Proposal(
                episode,
                episode.patient,
                None,
                [_("no group participation consent on file: record it on the chart first")],
                [],
            )
        )
    patients_by_id = {pid: e.patient for pid, (_p, e) in core_p.items()}
    days = dict(WEEKDAY_CHOICES)
    suggested = [
        (s, [patients_by_id[p] for p in s.patients], str(days[s.weekday]))
        for s in result.suggested_circles
    ]
    for episode in episodes:
        record(
            action=Action.VIEW,
            request=request,
            actor=user,
            program=program,
            patient_id=episode.patient_id,
            object_type="peers.matching",
        )
    return MatchView(proposals, waitlist, suggested)


@transaction.atomic
def join_circle(
    user: Any, circle: Circle, patient: Patient, on: date, *, episode: Episode | None = None
) -> CircleMembership:
    """Add a patient to a circle: group consent, hard rules and capacity are checked again."""
    require_roles(user, circle.program, COORDINATOR_ROLES)
    if patient.program_id != circle.program_id:
        raise Http404
    if not has_active_consent(patient, ConsentKind.GROUP):
        raise Conflict(
            _("%(name)s has no active group participation consent; record it before joining.")
            % {"name": patient.full_name}
        )
    # Lock the circle row so two acceptances cannot both take the last place.
    circle = Circle.objects.select_for_update().get(pk=circle.pk)
    if _in_circle(patient):
        raise Conflict(_("%(name)s is already in a circle.") % {"name": patient.full_name})
    if episode is None:
        episode = care.active_episodes(user, circle.program).filter(patient=patient).first()
    if episode is None:
        raise Conflict(_("%(name)s has no active course.") % {"name": patient.full_name})
    cp = _core_patient(episode)
    cc = _core_circle(circle, enrolled_count(circle))
    problems = rules.check_assignment([cp], [cc], {cp.id: cc.id})
    problems = [p for p in problems if "waitlisted" not in p]
    if problems:
        raise Conflict(_("This circle does not fit: %(why)s") % {"why": "; ".join(problems)})
    membership = CircleMembership.objects.create(
        program=circle.program, circle=circle, patient=patient, joined_on=on, accepted_by=user
    )
    record(
        action=Action.CREATE,
        actor=user,
        program=circle.program,
        patient_id=patient.pk,
        obj=membership,
    )
    return membership


@transaction.atomic
def leave_circle(user: Any, membership: CircleMembership, on: date) -> CircleMembership:
    require_roles(user, membership.program, COORDINATOR_ROLES)
    membership.status = CircleMembership.Status.LEFT
    membership.left_on = on
    membership.save(update_fields=["status", "left_on"])
    record(
        action=Action.UPDATE,
        actor=user,
        program=membership.program,
        patient_id=membership.patient_id,
        obj=membership,
    )
    return membership


# --- attendance and notes -----------------------------------------------------------------------


def _may_run(user: Any, circle: Circle) -> bool:
    return _is_coordinator(user, circle.program) or (
        circle.facilitator_id == user.pk
        and has_any_role(user, circle.program, {Role.PEER_FACILITATOR})
    )


@transaction.atomic
def record_attendance(
    user: Any,
    circle: Circle,
    meeting_id: int,
    marks: dict[int, str],
    shown: dict[int, str] | None = None,
) -> list[Attendance]:
    """Attendance of one meeting: ``{membership id: present|absent|excused}``, stored whole.

    Never silently overwritten (issue 19): only marks that change the recorded value are
    saved, each change audited with its old and new value; a blank mark never erases a record;
    ``shown`` (what the form displayed as recorded, ``""`` for nothing) guards against a stale
    page: if a recorded value changed since, nothing is saved and the person is told.
    Returns the rows that changed."""
    if not _may_run(user, circle):
        raise Http404
    try:
        meeting = Meeting.objects.get(pk=meeting_id, circle=circle)
    except Meeting.DoesNotExist as exc:
        raise Http404 from exc
    members = {
        m.pk: m
        for m in CircleMembership.objects.filter(
            circle=circle, status=CircleMembership.Status.ACTIVE
        )
    }
    valid = set(Attendance.Status.values)
    for mid, status in marks.items():
        if mid not in members:
            raise InvalidInput(f"member-{mid}", _("Not a member of this circle."))
        if status not in valid:
            raise InvalidInput(f"member-{mid}", _("Choose present, absent or excused."))
    current = {
        a.membership_id: a
        for a in Attendance.objects.select_for_update().filter(
            meeting=meeting, membership_id__in=list(members)
        )
    }
    if shown is not None:
        for mid, was in shown.items():
            now = current[mid].status if mid in current else ""
            if mid in members and now != was:
                raise Conflict(
                    _(
                        "Attendance for this meeting changed since the page was opened: "
                        "nothing was saved. Check the recorded values and save again."
                    )
                )
    out = []
    for mid, status in sorted(marks.items()):
        row = current.get(mid)
        old = row.status if row is not None else ""
        if old == status:
            continue  # unchanged: not written, not audited as a change
        if row is None:
            row = Attendance.objects.create(
                meeting=meeting,
                membership=members[mid],
                program=circle.program,
                status=status,
                recorded_by=user,
            )
        else:
            row.status = status
            row.recorded_by = user
            row.save(update_fields=["status", "recorded_by"])
        record(
            action=Action.UPDATE if old else Action.CREATE,
            actor=user,
            program=circle.program,
            patient_id=members[mid].patient_id,
            obj=row,
            detail={"meeting": meeting.date.isoformat(), "from": old, "to": status},
        )
        out.append(row)
    return out


def member_names(circle: Circle) -> list[tuple[str, str]]:
    """Given and family names of everyone who was ever a member (for the note check only)."""
    return [
        (m.patient.given_name, m.patient.family_name)
        for m in CircleMembership.objects.filter(circle=circle).select_related("patient")
    ] + [
        (m.patient.preferred_name, m.patient.family_name)
        for m in CircleMembership.objects.filter(circle=circle).select_related("patient")
        if m.patient.preferred_name
    ]


@transaction.atomic
def add_note(
    user: Any, circle: Circle, text: str, meeting_id: int | None = None
) -> FacilitatorNote:
    """A note about the group, kept apart from patient records; it may name no member."""
    if not _may_run(user, circle):
        raise Http404
    text = (text or "").strip()
    if not text:
        raise InvalidInput("text", _("Write the note."))
    if len(text) > 4000:
        raise InvalidInput("text", _("Keep the note under 4000 characters."))
    if names_in_note(text, member_names(circle)):
        raise InvalidInput(
            "text",
            _("Notes are about the group: remove the member's full name from the note."),
        )
    meeting = None
    if meeting_id is not None:
        meeting = Meeting.objects.filter(pk=meeting_id, circle=circle).first()
        if meeting is None:
            raise InvalidInput("meeting", _("Choose a meeting of this circle."))
    note = FacilitatorNote.objects.create(
        program=circle.program, circle=circle, meeting=meeting, text=text, written_by=user
    )
    record(action=Action.CREATE, actor=user, program=circle.program, obj=note)
    return note


def notes_of(user: Any, circle: Circle) -> QuerySet[FacilitatorNote]:
    if not _may_run(user, circle):
        raise Http404
    qs: QuerySet[FacilitatorNote] = FacilitatorNote.objects.filter(circle=circle)
    return qs


# --- connection index ---------------------------------------------------------------------------


def memberships_of(patient: Patient) -> QuerySet[CircleMembership]:
    qs: QuerySet[CircleMembership] = CircleMembership.objects.filter(
        patient=patient
    ).select_related("circle", "circle__room")
    return qs


def connection(patient: Patient, as_of: date) -> rules.ConnectionSummary:
    """The patient's connection index over their circles' meetings since joining (★ core)."""
    planned: list[date] = []
    attended: list[date] = []
    for m in memberships_of(patient):
        until = m.left_on or as_of
        planned += list(
            Meeting.objects.filter(
                circle=m.circle, date__gte=m.joined_on, date__lte=until
            ).values_list("date", flat=True)
        )
        attended += list(
            Attendance.objects.filter(
                membership=m, status=Attendance.Status.PRESENT, meeting__date__lte=as_of
            ).values_list("meeting__date", flat=True)
        )
    attended = [d for d in attended if d in set(planned)]
    contacts = MentorContact.objects.filter(pairing__mentee=patient).values_list("date", flat=True)
    return rules.episode_connection(planned, attended, as_of, list(contacts))


def episode_connection(episode: Episode, as_of: date) -> rules.ConnectionSummary:
    """For analytics: the connection index of an episode's patient (caller checked access)."""
    return connection(episode.patient, as_of)


def circle_for_checkin(patient: Patient) -> Circle | None:
    m = memberships_of(patient).filter(status=CircleMembership.Status.ACTIVE).first()
    return m.circle if m else None


def identity_choices(program: Program) -> list[str]:
    """The identity focuses of the program's circles (what a patient may opt in to)."""
    return sorted(
        {
            c.identity_focus.strip()
            for c in Circle.objects.filter(program=program).exclude(identity_focus="")
        }
    )


@transaction.atomic
def set_preferences_by_patient(
    link: Any,
    identity_opt_in: list[str],
    mentor_opt_in: bool,
    *,
    request: HttpRequest | None = None,
) -> PeerPreferences:
    """The patient sets their peer preferences from their check-in link (issue 19): the identity
    circles they would join and whether they want a mentor. Their times are not asked here:
    the days they gave for booking are used (one availability, asked once)."""
    patient = link.patient
    allowed = set(identity_choices(patient.program))
    chosen = [s for s in identity_opt_in if s]
    bad = [s for s in chosen if s not in allowed]
    if bad:
        raise InvalidInput("identity_opt_in", _("Choose one of the circles offered."))
    prefs = preferences_of(patient)
    prefs, _created = PeerPreferences.objects.update_or_create(
        patient=patient,
        defaults={
            "program": patient.program,
            "availability": prefs.availability if prefs is not None else [],
            "identity_opt_in": chosen,
            "mentor_opt_in": bool(mentor_opt_in),
        },
    )
    record(
        action=Action.UPDATE,
        request=request,
        actor_username=f"patient:{patient.pk}",
        program=patient.program,
        patient_id=patient.pk,
        obj=prefs,
        detail={"via": "check-in link"},
    )
    return prefs


# --- mentors ------------------------------------------------------------------------------------


# A patient "finished a course" once the acute dose series is over: sustaining or completed.
FINISHED_PHASES = ("sustaining", "completed")


def finished_course(patient: Patient) -> bool:
    return patient.episodes.filter(phase__in=FINISHED_PHASES).exists()


@transaction.atomic
def mark_mentor_training(user: Any, patient: Patient, on: date) -> MentorProfile:
    """Program staff mark a patient's mentor training done (they must have finished a course
    and opted in)."""
    require_roles(user, patient.program, COORDINATOR_ROLES)
    if not finished_course(patient):
        raise Conflict(_("Only patients who finished a course can become peer mentors."))
    prefs = preferences_of(patient)
    if prefs is None or not prefs.mentor_opt_in:
        raise Conflict(_("The patient has not opted in to peer mentoring."))
    profile, _c = MentorProfile.objects.update_or_create(
        patient=patient,
        defaults={
            "program": patient.program,
            "opted_in": True,
            "training_done_on": on,
            "marked_by": user,
        },
    )
    record(
        action=Action.UPDATE,
        actor=user,
        program=patient.program,
        patient_id=patient.pk,
        obj=profile,
    )
    return profile


def _core_mentor(profile: MentorProfile) -> rules.Mentor:
    ep = profile.patient.episodes.order_by("-start_date").first()
    return rules.Mentor(
        id=str(profile.pk),
        language=(profile.patient.preferred_language or "en").lower(),
        track=(ep.protocol_id if ep else "any").casefold(),
        opted_in=profile.opted_in,
        training_done=profile.training_done_on is not None,
        finished_course=finished_course(profile.patient),
        current_mentees=MentorPairing.objects.filter(mentor=profile, ended_on=None).count(),
    )


def propose_mentors(user: Any, program: Program) -> dict[str, Any]:
    """Mentor proposals for patients with an active course and no mentor yet (never saved)."""
    require_roles(user, program, COORDINATOR_ROLES)
    profiles = list(MentorProfile.objects.filter(program=program).select_related("patient"))
    paired = set(
        MentorPairing.objects.filter(program=program, ended_on=None).values_list(
            "mentee_id", flat=True
        )
    )
    mentors_p = {p.patient_id for p in profiles}
    episodes = [
        e
        for e in care.active_episodes(user, program)
        if e.patient_id not in paired and e.patient_id not in mentors_p
    ]
    mentees = [
        rules.Mentee(
            id=str(e.patient_id),
            language=(e.patient.preferred_language or "en").lower(),
            track=e.protocol_id.casefold(),
        )
        for e in episodes
    ]
    result = rules.pair_mentors([_core_mentor(p) for p in profiles], mentees)
    return {
        "pairs": result.pairs,
        "mentors": {str(p.pk): p for p in profiles},
        "mentees": {str(e.patient_id): e.patient for e in episodes},
    }


@transaction.atomic
def pair_mentor(user: Any, mentor: MentorProfile, mentee: Patient, on: date) -> MentorPairing:
    require_roles(user, mentor.program, COORDINATOR_ROLES)
    if mentee.program_id != mentor.program_id:
        raise Http404
    core = _core_mentor(mentor)
    if not core.eligible:
        raise Conflict(_("This mentor has not finished a course, opted in and been trained."))
    if core.current_mentees >= rules.load_defaults().max_mentees:
        raise Conflict(_("This mentor already has the most mentees allowed."))
    if (mentee.preferred_language or "en").lower() != core.language:
        raise Conflict(_("Mentor and mentee must share a language."))
    pairing = MentorPairing.objects.create(
        program=mentor.program, mentor=mentor, mentee=mentee, started_on=on
    )
    record(
        action=Action.CREATE, actor=user, program=mentor.program, patient_id=mentee.pk, obj=pairing
    )
    return pairing


@transaction.atomic
def log_contact(
    user: Any, pairing: MentorPairing, on: date, mode: str, minutes: int, note: str = ""
) -> MentorContact:
    require_roles(user, pairing.program, COORDINATOR_ROLES | {Role.PEER_FACILITATOR})
    if mode not in MentorContact.Mode.values:
        raise InvalidInput("mode", _("Choose phone, video, in person or message."))
    if not isinstance(minutes, int) or not 1 <= minutes <= 240:
        raise InvalidInput("minutes", _("Minutes are 1 to 240."))
    contact = MentorContact.objects.create(
        program=pairing.program,
        pairing=pairing,
        date=on,
        mode=mode,
        minutes=minutes,
        note=note[:500],
    )
    record(
        action=Action.CREATE,
        actor=user,
        program=pairing.program,
        patient_id=pairing.mentee_id,
        obj=contact,
    )
    return contact


def mentor_of(patient: Patient) -> MentorPairing | None:
    pairing: MentorPairing | None = (
        MentorPairing.objects.filter(mentee=patient, ended_on=None)
        .select_related("mentor__patient")
        .first()
    )
    return pairing


def get_patient_for_circle(user: Any, program: Program, patient_id: Any) -> Patient:
    from trellis.patients.services import get_patient

    return get_patient(user, patient_id)


def memberships_of_circle(circle: Circle) -> QuerySet[CircleMembership]:
    qs: QuerySet[CircleMembership] = CircleMembership.objects.filter(circle=circle)
    return qs


# --- the mentors and preferences pages ----------------------------------------------------------


def identity_foci(program: Program) -> list[str]:
    """The identity foci the program's circles use (the preferences page's checkboxes)."""
    return sorted(
        {
            f
            for f in Circle.objects.filter(program=program).values_list("identity_focus", flat=True)
            if f
        }
    )


def mentor_candidates(user: Any, program: Program) -> list[tuple[Patient, MentorProfile | None]]:
    """Patients who finished a course and opted in to mentoring, with their profile if any."""
    require_roles(user, program, COORDINATOR_ROLES)
    profiles = {m.patient_id: m for m in MentorProfile.objects.filter(program=program)}
    prefs = (
        PeerPreferences.objects.filter(program=program, mentor_opt_in=True)
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name")
    )
    return [(p.patient, profiles.get(p.patient_id)) for p in prefs if finished_course(p.patient)]


def active_pairings(user: Any, program: Program) -> list[tuple[MentorPairing, int]]:
    """Current pairings with the mentor's current mentee count."""
    require_roles(user, program, COORDINATOR_ROLES)
    pairings = list(
        MentorPairing.objects.filter(program=program, ended_on=None)
        .select_related("mentor__patient", "mentee")
        .order_by("started_on", "pk")
    )
    counts: dict[int, int] = {}
    for p in pairings:
        counts[p.mentor_id] = counts.get(p.mentor_id, 0) + 1
    return [(p, counts[p.mentor_id]) for p in pairings]


def get_mentor_profile(user: Any, program: Program, profile_id: Any) -> MentorProfile:
    require_roles(user, program, COORDINATOR_ROLES)
    profile: MentorProfile | None = (
        MentorProfile.objects.filter(program=program, pk=profile_id)
        .select_related("patient")
        .first()
    )
    if profile is None:
        raise Http404
    return profile


def get_active_pairing(user: Any, program: Program, pairing_id: Any) -> MentorPairing:
    require_roles(user, program, COORDINATOR_ROLES)
    pairing: MentorPairing | None = MentorPairing.objects.filter(
        program=program, pk=pairing_id, ended_on=None
    ).first()
    if pairing is None:
        raise Http404
    return pairing


def get_membership(user: Any, circle: Circle, membership_id: Any) -> CircleMembership:
    require_roles(user, circle.program, COORDINATOR_ROLES)
    membership: CircleMembership | None = (
        memberships_of_circle(circle).filter(pk=membership_id).first()
    )
    if membership is None:
        raise Http404
    return membership

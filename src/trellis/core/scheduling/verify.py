"""The plan verifier: lists every violated hard constraint, independently of the solvers.

It shares nothing with the solvers but the parsed instance and plan: it re-derives every rule from
minutes and windows, so a bug in a solver's slot arithmetic cannot hide behind the same bug here.

Constraint names are stable strings (documented in ``docs/scheduling.md``). Sources of the rules:

- ``nurse_ratio_exceeded``: the program's nurse monitoring ratio (ARCHITECTURE.md scheduling notes).
- ``prescriber_not_on_site``: Spravato REMS (FDA, 12/31/2024) requires a prescriber on site in the
  certified setting during esketamine sessions; monitoring ≥ 120 min (CLINICAL.md §4).
- ``preparation_after_dose``: preparation precedes the first dose (CLINICAL.md §6 tracks;
  integration practice, Cheung et al. 2024, CLINICAL.md §7).
- ``dose_spacing_too_short`` / ``_too_long``: track dose spacing (Murrough 2013 3×/week; esketamine
  label twice weekly weeks 1–4; Grabski 2022 weekly; CLINICAL.md §4, §6).
- ``integration_outside_window``: ★ integration within N hours after each dose (track rule).
- ``start_deadline_missed``: ★ suicidal-crisis track starts within 48 h of release (CLINICAL.md §2
  same-day contact; esketamine label for MDD with acute suicidal ideation, §4).
- ``outside_pathway_window``: a session on a day outside its care-plan window (the patient's
  ``windows``, from ``trellis.core.pathway.plan``: preparation slots, dose series spacing and
  cadence, integration after each dose; CLINICAL.md §4, §6, §7).
- ``preparation_out_of_order``: preparation k+1 starts before preparation k ends (the pathway
  orders them: ``after = preparation:k``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trellis.core.scheduling.model import (
    COURSE_KINDS,
    ROOM_KIND_FOR,
    Appointment,
    Instance,
    Plan,
    Window,
)

CONSTRAINTS = (
    "unknown_patient",
    "unknown_room",
    "unknown_staff",
    "unknown_session",
    "not_on_slot_grid",
    "outside_horizon",
    "outside_opening_hours",
    "room_unavailable",
    "room_wrong_kind",
    "room_double_booked",
    "staff_unavailable",
    "staff_wrong_role",
    "staff_double_booked",
    "staff_language_mismatch",
    "nurse_ratio_exceeded",
    "prescriber_not_on_site",
    "patient_unavailable",
    "patient_double_booked",
    "before_release",
    "preparation_after_dose",
    "dose_spacing_too_short",
    "dose_spacing_too_long",
    "integration_outside_window",
    "partial_course",
    "start_deadline_missed",
    "booked_appointment_moved",
    "wrong_session_count",
    "outside_pathway_window",
    "preparation_out_of_order",
)


@dataclass(frozen=True)
class Violation:
    constraint: str
    message: str
    patient: str | None = None
    appointment: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"constraint": self.constraint}
        if self.patient is not None:
            out["patient"] = self.patient
        if self.appointment is not None:
            out["appointment"] = self.appointment
        out["message"] = self.message
        return out


@dataclass(frozen=True)
class Verification:
    violations: tuple[Violation, ...]
    courses_complete: int
    patients: int
    therapist_changes: int

    @property
    def valid(self) -> bool:
        return not self.violations

    def constraints(self) -> set[str]:
        return {v.constraint for v in self.violations}

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "violations": [v.to_json() for v in self.violations],
            "courses_complete": self.courses_complete,
            "patients": self.patients,
            "therapist_changes": self.therapist_changes,
        }


def label(a: Appointment) -> str:
    return f"{a.patient}/{a.kind}#{a.index}"


def _covered(windows: Iterable[Window], day: int, weekday: int, start: int, end: int) -> bool:
    """True when the union of the windows that apply to this day covers [start, end)."""
    spans = sorted((w.start, w.end) for w in windows if w.applies(day, weekday))
    reach = start
    for s, e in spans:
        if s > reach:
            break
        reach = max(reach, e)
        if reach >= end:
            return True
    return reach >= end


def _available(
    windows: tuple[Window, ...] | None, day: int, weekday: int, start: int, end: int
) -> bool:
    return windows is None or _covered(windows, day, weekday, start, end)


class _Span:
    __slots__ = ("day", "start", "end", "what")

    def __init__(self, day: int, start: int, end: int, what: str) -> None:
        self.day, self.start, self.end, self.what = day, start, end, what

    def abs(self) -> tuple[int, int]:
        return self.day * 1440 + self.start, self.day * 1440 + self.end


def _overlaps(spans: list[_Span]) -> list[tuple[_Span, _Span]]:
    """Pairs (earlier, later) where the later one starts before the earlier one ends."""
    out: list[tuple[_Span, _Span]] = []
    ordered = sorted(spans, key=lambda s: s.abs())
    active: list[_Span] = []
    for s in ordered:
        s0, _ = s.abs()
        active = [a for a in active if a.abs()[1] > s0]
        out.extend((a, s) for a in active)
        active.append(s)
    return out


def verify(instance: Instance, plan: Plan) -> Verification:
    """Check ``plan`` against every hard constraint of ``instance``; list each violation by name."""
    v: list[Violation] = []

    def add(
        constraint: str, message: str, a: Appointment | None = None, patient: str | None = None
    ) -> None:
        v.append(
            Violation(
                constraint,
                message,
                patient=patient if patient is not None else (a.patient if a else None),
                appointment=label(a) if a else None,
            )
        )

    slot = instance.slot_minutes
    room_spans: dict[str, list[_Span]] = defaultdict(list)
    staff_spans: dict[str, list[_Span]] = defaultdict(list)
    patient_spans: dict[str, list[_Span]] = defaultdict(list)
    dose_spans: list[tuple[Appointment, int, int]] = []  # absolute minutes
    by_patient: dict[str, list[tuple[Appointment, int]]] = defaultdict(list)  # with duration

    for c in instance.circles:
        for day in range(instance.days):
            if instance.weekday(day) == c.weekday:
                span = _Span(day, c.start, c.start + c.minutes, f"peer circle {c.id}")
                room_spans[c.room].append(span)
                staff_spans[c.facilitator].append(span)

    for a in plan.appointments:
        patient = instance.patient(a.patient)
        if patient is None:
            add("unknown_patient", f"patient {a.patient!r} is not in the instance", a)
            continue
        track = instance.tracks[patient.track]
        if a.kind not in COURSE_KINDS:
            add(
                "unknown_session",
                f"{a.kind} is not booked per patient (circles are fixed weekly slots)",
                a,
            )
            continue
        minutes = track.minutes(a.kind)
        start, end = a.minute, a.minute + minutes
        by_patient[a.patient].append((a, minutes))
        if a.minute % slot:
            add(
                "not_on_slot_grid", f"starts at minute {a.minute}, not on the {slot}-minute grid", a
            )
        if a.day < 0 or a.day >= instance.days or end > 1440:
            add(
                "outside_horizon",
                f"{instance.iso(a.day, a.minute)} is outside the {instance.days}-day horizon "
                f"from {instance.start_date.isoformat()}",
                a,
            )
            continue
        weekday = instance.weekday(a.day)
        hours = instance.opening_hours[weekday]
        if hours is None or start < hours[0] or end > hours[1]:
            add(
                "outside_opening_hours",
                f"{instance.iso(a.day, start)}–{instance.iso(a.day, end)[11:]} "
                "is outside opening hours",
                a,
            )
        if a.day < patient.release_day:
            add(
                "before_release",
                f"booked before the patient's release day {patient.release_day}",
                a,
            )
        if not _available(patient.availability, a.day, weekday, start, end):
            add("patient_unavailable", f"patient {a.patient} is not available then", a)
        plan_window = patient.window(a.kind, a.index)
        if plan_window is not None and not plan_window.holds(a.day):
            w_lo, w_hi = plan_window.earliest, plan_window.latest
            add(
                "outside_pathway_window",
                f"booked on {instance.iso(a.day, start)[:10]}; the care plan allows "
                f"{'…' if w_lo is None else instance.iso(w_lo, 0)[:10]} to "
                f"{'…' if w_hi is None else instance.iso(w_hi, 0)[:10]}",
                a,
            )
        span = _Span(a.day, start, end, label(a))
        patient_spans[a.patient].append(span)

        # Room.
        needed = ROOM_KIND_FOR[a.kind]
        room = instance.room(a.room) if a.room is not None else None
        if a.room is None:
            add("room_wrong_kind", f"{a.kind} needs a {needed}; no room given", a)
        elif room is None:
            add("unknown_room", f"room {a.room!r} is not in the instance", a)
        else:
            if room.kind != needed:
                add("room_wrong_kind", f"{a.kind} needs a {needed}; {room.id} is a {room.kind}", a)
            if not _available(room.availability, a.day, weekday, start, end):
                add("room_unavailable", f"room {room.id} is not available then", a)
            room_spans[room.id].append(span)

        # Staff.
        therapists = []
        for sid in a.staff:
            member = instance.staff_member(sid)
            if member is None:
                add("unknown_staff", f"staff {sid!r} is not in the instance", a)
                continue
            if not _available(member.availability, a.day, weekday, start, end):
                add("staff_unavailable", f"{sid} is not available then", a)
            if a.kind == "dose":
                if not member.roles & {"nurse", "prescriber"}:
                    add("staff_wrong_role", f"{sid} is not a nurse or prescriber", a)
            else:
                if "therapist" not in member.roles:
                    add("staff_wrong_role", f"{sid} is not a therapist", a)
                    continue
                therapists.append(member)
                staff_spans[sid].append(span)
                if patient.language not in member.languages:
                    add(
                        "staff_language_mismatch",
                        f"{sid} does not speak the patient's language ({patient.language})",
                        a,
                    )
        if (
            a.kind != "dose"
            and len(therapists) != 1
            and not any(instance.staff_member(s) is None for s in a.staff)
        ):
            add(
                "staff_wrong_role",
                f"{a.kind} needs exactly one therapist, got {len(therapists)}",
                a,
            )

        if a.kind == "dose":
            dose_spans.append((a, a.day * 1440 + start, a.day * 1440 + end))
            if track.drug == "esketamine" and instance.prescriber_on_site_for_esketamine:
                on_site = any(
                    "prescriber" in s.roles
                    and _available(s.availability, a.day, weekday, start, end)
                    for s in instance.staff
                )
                if not on_site:
                    add(
                        "prescriber_not_on_site",
                        "no prescriber is on site for the whole esketamine session (REMS)",
                        a,
                    )

    for room_id, spans in room_spans.items():
        for first, second in _overlaps(spans):
            if first.what.startswith("peer circle") and second.what.startswith("peer circle"):
                continue
            add(
                "room_double_booked",
                f"room {room_id}: {first.what} overlaps {second.what}",
                patient=second.what.split("/")[0] if "/" in second.what else None,
            )
    for staff_id, spans in staff_spans.items():
        for first, second in _overlaps(spans):
            if first.what.startswith("peer circle") and second.what.startswith("peer circle"):
                continue
            add(
                "staff_double_booked",
                f"{staff_id}: {first.what} overlaps {second.what}",
                patient=second.what.split("/")[0] if "/" in second.what else None,
            )
    for pid, spans in patient_spans.items():
        for first, second in _overlaps(spans):
            add("patient_double_booked", f"{first.what} overlaps {second.what}", patient=pid)

    _check_nurse_ratio(instance, dose_spans, add)

    complete = 0
    changes = 0
    for patient in instance.patients:
        appts = by_patient.get(patient.id, [])
        booked_keys = {b.key: b for b in patient.booked}
        planned = {a.key: a for a, _ in appts}
        for key, b in booked_keys.items():
            if planned.get(key) != b:
                add(
                    "booked_appointment_moved",
                    f"pre-booked {b.kind}#{b.index} at {instance.iso(b.day, b.minute)} "
                    "is missing or changed",
                    b,
                )
        if not appts:
            continue
        track = instance.tracks[patient.track]
        ok = _check_course(instance, patient.id, track, appts, add)
        if ok:
            complete += 1
            sessions = sorted(
                (a for a, _ in appts if a.kind != "dose"), key=lambda a: (a.day, a.minute)
            )
            names = [a.staff[0] if a.staff else "" for a in sessions]
            changes += sum(1 for x, y in zip(names, names[1:], strict=False) if x != y)

    return Verification(tuple(v), complete, len(instance.patients), changes)


def _check_nurse_ratio(
    instance: Instance, doses: list[tuple[Appointment, int, int]], add: Any
) -> None:
    """At every minute, doses in progress ≤ nurse_ratio × nurses on duty.

    Cover is pooled minute by minute, so time is cut wherever either side changes: at dose
    starts and ends *and* at every nurse's shift boundaries and the opening hours (a dose that
    spans a shift change is covered by the outgoing nurse, then the incoming one)."""
    if not doses:
        return
    nurses = [s for s in instance.staff if "nurse" in s.roles]
    cuts = {t for _, s, e in doses for t in (s, e)}
    for day in {s // 1440 for _, s, _ in doses} | {(e - 1) // 1440 for _, _, e in doses}:
        if not 0 <= day < instance.days:
            continue
        weekday = instance.weekday(day)
        hours = instance.opening_hours[weekday]
        if hours is not None:
            cuts.update((day * 1440 + hours[0], day * 1440 + hours[1]))
        for n in nurses:
            for w in n.availability or ():
                if w.applies(day, weekday):
                    cuts.update((day * 1440 + w.start, day * 1440 + w.end))
    events = sorted(cuts)
    reported: set[str] = set()
    for t0, t1 in zip(events, events[1:], strict=False):
        active = [a for a, s, e in doses if s < t1 and e > t0]
        if not active:
            continue
        day, m0 = divmod(t0, 1440)
        m1 = m0 + (t1 - t0)
        if day < 0 or day >= instance.days:
            continue
        weekday = instance.weekday(day)
        hours = instance.opening_hours[weekday]
        on_duty = sum(
            1
            for n in nurses
            if (n.availability is not None and _available(n.availability, day, weekday, m0, m1))
            or (n.availability is None and hours is not None and hours[0] <= m0 and m1 <= hours[1])
        )
        capacity = on_duty * instance.nurse_ratio
        if len(active) > capacity:
            a = active[-1]
            if label(a) in reported:
                continue
            reported.add(label(a))
            add(
                "nurse_ratio_exceeded",
                f"{len(active)} doses in progress at {instance.iso(day, m0)} but {on_duty} "
                f"nurse(s) on duty × ratio {instance.nurse_ratio} = {capacity}",
                a,
            )


def _check_course(
    instance: Instance, pid: str, track: Any, appts: list[tuple[Appointment, int]], add: Any
) -> bool:
    """Course-level rules; returns True when the course is complete (every session present)."""
    keys: dict[tuple[str, int], list[tuple[Appointment, int]]] = defaultdict(list)
    for a, m in appts:
        keys[(a.kind, a.index)].append((a, m))
    bad_count = False
    for (kind, index), items in keys.items():
        if index > track.count(kind):
            add(
                "wrong_session_count",
                f"{kind}#{index} but the {track.id} track has "
                f"{track.count(kind)} {kind} session(s)",
                items[0][0],
            )
            bad_count = True
        if len(items) > 1:
            add("wrong_session_count", f"{kind}#{index} is booked {len(items)} times", items[0][0])
            bad_count = True
    expected = track.sessions()
    missing = [f"{k}#{i}" for k, i in expected if (k, i) not in keys]
    if missing:
        add(
            "partial_course",
            f"course incomplete: {len(missing)} of {len(expected)} sessions missing "
            f"({', '.join(missing[:4])}{'…' if len(missing) > 4 else ''}); book all or none",
            patient=pid,
        )
        return False
    if bad_count:
        return False

    def at(kind: str, index: int) -> tuple[Appointment, int, int]:
        a, m = keys[(kind, index)][0]
        s = a.day * 1440 + a.minute
        return a, s, s + m

    patient = instance.patient(pid)
    assert patient is not None
    _, d1_start, _ = at("dose", 1)
    for i in range(1, track.preparation_count):
        _, _, e = at("preparation", i)
        a, s, _ = at("preparation", i + 1)
        if s < e:
            add(
                "preparation_out_of_order",
                f"preparation {i + 1} starts before preparation {i} ends",
                a,
            )
    for i in range(1, track.preparation_count + 1):
        a, _, e = at("preparation", i)
        if e > d1_start:
            add("preparation_after_dose", "preparation must end before dose 1 starts", a)
    for k in range(1, track.dose_count):
        a0, _, _ = at("dose", k)
        a1, _, _ = at("dose", k + 1)
        gap = a1.day - a0.day
        if gap < track.dose_spacing_min_days:
            add(
                "dose_spacing_too_short",
                f"dose {k + 1} is {gap} day(s) after dose {k}; "
                f"minimum {track.dose_spacing_min_days}",
                a1,
            )
        elif gap > track.dose_spacing_max_days:
            add(
                "dose_spacing_too_long",
                f"dose {k + 1} is {gap} day(s) after dose {k}; "
                f"maximum {track.dose_spacing_max_days}",
                a1,
            )
    for k in range(1, track.dose_count + 1):
        _, _, dose_end = at("dose", k)
        a, s, _ = at("integration", k)
        if s < dose_end or s > dose_end + track.integration_within_hours * 60:
            add(
                "integration_outside_window",
                f"integration {k} must start after dose {k} ends and within "
                f"{track.integration_within_hours} h of it",
                a,
            )
    if track.start_within_hours is not None:
        a, s, _ = at("dose", 1)
        deadline = patient.release_day * 1440 + track.start_within_hours * 60
        if s > deadline:
            add(
                "start_deadline_missed",
                f"dose 1 must start within {track.start_within_hours} h of release "
                f"(by {instance.iso(0, deadline)})",
                a,
            )
    return True

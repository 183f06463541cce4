"""Greedy baseline: first-come, first-fit, as a front desk books by hand.

Patients are taken in release order (then higher priority first, then id); patients with
pre-booked appointments go first because their courses are already promised. Each course is
booked session by session at the earliest feasible slot, keeping the first therapist for the whole
course (continuity of the therapeutic relationship). When a session cannot be placed, the desk
retries the course from the next day; a course that cannot be completed is not booked at all
(never a partial course).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass, field

from trellis.core.errors import Conflict
from trellis.core.scheduling.grid import Grid, build_grid
from trellis.core.scheduling.model import Appointment, Instance, Patient, Plan, Track


@dataclass
class State:
    """Resource occupancy per slot; shared with repair."""

    grid: Grid
    room_busy: dict[str, bytearray] = field(default_factory=dict)
    staff_busy: dict[str, bytearray] = field(default_factory=dict)
    nurse_load: list[int] = field(default_factory=list)
    patient_busy: dict[str, bytearray] = field(default_factory=dict)

    @classmethod
    def empty(cls, grid: Grid) -> State:
        h = grid.horizon
        return cls(
            grid,
            {r.id: bytearray(h) for r in grid.instance.rooms},
            {s.id: bytearray(h) for s in grid.instance.staff},
            [0] * h,
            {},
        )

    def occupy(self, patient: Patient, a: Appointment, minutes: int) -> None:
        g = self.grid
        t = g.slot(a.day, a.minute)
        d = g.slots(minutes)
        if not 0 <= t <= g.horizon - d:
            return
        if a.room in self.room_busy:
            self.room_busy[a.room][t : t + d] = b"\x01" * d
        if a.kind == "dose":
            for x in range(t, t + d):
                self.nurse_load[x] += 1
        else:
            for sid in a.staff:
                if sid in self.staff_busy:
                    self.staff_busy[sid][t : t + d] = b"\x01" * d
        pb = self.patient_busy.setdefault(patient.id, bytearray(g.horizon))
        pb[t : t + d] = b"\x01" * d


def place_course(
    state: State,
    patient: Patient,
    fixed: dict[tuple[str, int], Appointment] | None = None,
    forbidden: set[tuple[str, int, int]] | None = None,
) -> list[Appointment] | None:
    """First-fit booking of one patient's whole course against ``state``, or None.

    ``fixed`` sessions keep their given times and resources; ``forbidden`` lists (kind, index,
    slot) starts the patient cannot take (a cancelled appointment). Does not modify ``state``.
    """
    g = state.grid
    inst = g.instance
    track = inst.tracks[patient.track]
    fixed = fixed or {}
    forbidden = forbidden or set()
    prun = g.patient_run(patient)
    starts = {
        k: g.static_starts(patient, track, k, prun) for k in ("preparation", "dose", "integration")
    }
    dur = {k: g.slots(track.minutes(k)) for k in ("preparation", "dose", "integration")}
    within = track.integration_within_hours * 60 // inst.slot_minutes
    deadline = (
        None
        if track.start_within_hours is None
        else patient.release_day * g.spd + track.start_within_hours * 60 // inst.slot_minutes
    )
    eligible = g.eligible_therapists(patient)
    own = state.patient_busy.get(patient.id)
    first_lb = max(0, patient.release_day) * g.spd
    fixed_ther = next((a.staff[0] for a in fixed.values() if a.kind != "dose" and a.staff), None)

    while first_lb < g.horizon:
        result = _chain(
            state,
            patient,
            track,
            starts,
            dur,
            within,
            deadline,
            eligible,
            fixed,
            forbidden,
            first_lb,
            fixed_ther,
            own,
        )
        if isinstance(result, list):
            return result
        if result is None:
            return None
        first_lb = (result // g.spd + 1) * g.spd
    return None


def _chain(  # noqa: PLR0913 - the chain needs the whole context
    state: State,
    patient: Patient,
    track: Track,
    starts: dict[str, list[int]],
    dur: dict[str, int],
    within: int,
    deadline: int | None,
    eligible: list[str],
    fixed: dict[tuple[str, int], Appointment],
    forbidden: set[tuple[str, int, int]],
    first_lb: int,
    fixed_ther: str | None,
    own: bytearray | None,
) -> list[Appointment] | int | None:
    """Try one chain from ``first_lb``. Returns the appointments, or the first session's start
    to retry after the next day, or None when no retry can help."""
    g = state.grid
    therapist = fixed_ther
    out: list[Appointment] = []
    prev_end = first_lb
    first_start: int | None = None
    dose_day: int | None = None
    for kind, index in track.sessions():
        d = dur[kind]
        lb, ub = prev_end, g.horizon - d
        if kind == "dose":
            if index == 1:
                if deadline is not None:
                    ub = min(ub, deadline)
            else:
                assert dose_day is not None
                lb = max(lb, (dose_day + track.dose_spacing_min_days) * g.spd)
                ub = min(ub, (dose_day + track.dose_spacing_max_days + 1) * g.spd - 1)
        elif kind == "integration":
            ub = min(ub, prev_end + within)
        # The care plan's date window for this session (pathway; none: the track's rules only).
        w_lo, w_hi = g.start_range(patient, kind, index)
        lb, ub = max(lb, w_lo), min(ub, w_hi)
        key = (kind, index)
        if key in fixed:
            a = fixed[key]
            t = g.slot(a.day, a.minute)
            if t < lb or t > ub:
                return None
            chosen: tuple[int, str | None, tuple[str, ...]] | None = (t, a.room, a.staff)
        else:
            chosen = _first_fit(
                state, kind, index, d, lb, ub, starts[kind], therapist, eligible, forbidden, own
            )
        if chosen is None:
            if first_start is None:
                return None  # nothing at all from here on
            return first_start
        t, room, staff = chosen
        if kind != "dose" and therapist is None and staff:
            therapist = staff[0]
        if first_start is None:
            first_start = t
        if kind == "dose":
            dose_day = t // g.spd
        prev_end = t + d
        day, minute = g.day_minute(t)
        out.append(Appointment(patient.id, kind, index, day, minute, room, staff))
    return out


def _first_fit(
    state: State,
    kind: str,
    index: int,
    d: int,
    lb: int,
    ub: int,
    starts: list[int],
    therapist: str | None,
    eligible: list[str],
    forbidden: set[tuple[str, int, int]],
    own: bytearray | None,
) -> tuple[int, str | None, tuple[str, ...]] | None:
    g = state.grid
    i = bisect_left(starts, lb)
    zero = bytes(d)
    while i < len(starts) and starts[i] <= ub:
        t = starts[i]
        i += 1
        if (kind, index, t) in forbidden:
            continue
        if own is not None and own[t : t + d] != zero:
            continue
        if kind == "dose":
            if any(state.nurse_load[x] >= g.nurse_capacity[x] for x in range(t, t + d)):
                continue
            chair = next(
                (
                    c
                    for c in g.chairs
                    if g.room_run[c][t] >= d and state.room_busy[c][t : t + d] == zero
                ),
                None,
            )
            if chair is None:
                continue
            return t, chair, ()
        candidates = [therapist] if therapist is not None else eligible
        who = next(
            (
                s
                for s in candidates
                if g.staff_run[s][t] >= d and state.staff_busy[s][t : t + d] == zero
            ),
            None,
        )
        if who is None:
            continue
        room = next(
            (
                r
                for r in g.therapy_rooms
                if g.room_run[r][t] >= d and state.room_busy[r][t : t + d] == zero
            ),
            None,
        )
        if room is None:
            continue
        return t, room, (who,)
    return None


def prebooked_state(instance: Instance, grid: Grid) -> State:
    """Occupancy with every pre-booked appointment in place."""
    state = State.empty(grid)
    for p in instance.patients:
        track = instance.tracks[p.track]
        for a in p.booked:
            state.occupy(p, a, track.minutes(a.kind))
    return state


def course_cost(instance: Instance, patient: Patient) -> int:
    """Chair and therapist minutes of a course (the resources the clinic runs out of)."""
    t = instance.tracks[patient.track]
    return sum(t.minutes(kind) for kind, _ in t.sessions())


def solve_greedy(instance: Instance, order: str = "release") -> Plan:
    """The front-desk baseline plan (status ``heuristic``); see the module docstring.

    ``order="release"`` is the baseline (first come, first served). ``order="cost"`` (priority,
    then cheapest course first) is a better warm start for the optimiser, not a front-desk rule.
    Raises :class:`Conflict` when a patient's pre-booked course cannot be completed.
    """
    t0 = time.perf_counter()
    grid = build_grid(instance)
    state = prebooked_state(instance, grid)
    if order not in ("release", "cost"):
        raise ValueError(f"unknown greedy order {order!r}")

    def order_key(p: Patient) -> tuple[int | bool, ...]:
        if order == "release":
            return (not p.booked, p.release_day, -p.priority)
        return (not p.booked, -p.priority, course_cost(instance, p), p.release_day)

    order_list = sorted(instance.patients, key=lambda p: (*order_key(p), p.id))
    appts: list[Appointment] = []
    booked_weight = 0
    for p in order_list:
        track = instance.tracks[p.track]
        fixed = {(a.kind, a.index): a for a in p.booked}
        course = place_course(state, p, fixed)
        if course is None:
            if p.booked:
                raise Conflict(f"patient {p.id}: the pre-booked course cannot be completed")
            continue
        for a in course:
            if (a.kind, a.index) not in fixed:
                state.occupy(p, a, track.minutes(a.kind))
        appts.extend(course)
        booked_weight += p.priority
    return Plan(
        tuple(appts),
        method="greedy" if order == "release" else f"greedy-{order}",
        status="heuristic",
        objective=booked_weight,
        bound=None,
        solve_seconds=time.perf_counter() - t0,
    )

"""CP-SAT optimiser (OR-Tools): book as many whole courses as possible, weighted by priority.

Model (one optional interval per session; presence = "this patient's course is booked"):

- every session's start ranges over the slots where the patient, the clinic and some suitable
  resource are free (for esketamine doses also a prescriber on site for the whole session: REMS,
  CLINICAL.md §4); the suicidal-crisis track's first dose must start within 48 h of release
  (CLINICAL.md §2, §4);
- dose intervals share one cumulative whose capacity per slot is min(free chairs, nurse ratio ×
  nurses on duty); chairs are then assigned by interval colouring;
- preparation and integration intervals share a cumulative over free therapy rooms; each course
  has one therapist (continuity of the therapeutic relationship), chosen among those speaking the
  patient's language, with a NoOverlap per therapist (their unavailable time as fixed intervals);
- track rules: preparations before dose 1, dose spacing in calendar days within [min, max],
  integration k starts after dose k ends and within the track's window;
- objective, lexicographic by weights: Σ priority × BIG per booked course, minus waiting days from
  release to the first session.

The greedy plan is the solution hint, and the better of the two is returned, so a time limit never
returns less than the baseline. Partial courses are impossible by construction (one presence
literal per course).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from trellis.core.errors import Conflict
from trellis.core.scheduling.grid import Grid, build_grid
from trellis.core.scheduling.model import Appointment, Instance, Patient, Plan, Track

NUM_WORKERS = 2  # this project's CI and benchmark machines have 2 cores


@dataclass
class _Session:
    kind: str
    index: int
    dur: int
    start: cp_model.IntVar
    interval: cp_model.IntervalVar
    fixed: Appointment | None = None


@dataclass
class _Course:
    patient: Patient
    track: Track
    present: cp_model.IntVar
    required: bool
    sessions: dict[tuple[str, int], _Session] = field(default_factory=dict)
    therapist: dict[str, cp_model.IntVar] = field(default_factory=dict)
    wait: cp_model.IntVar | None = None
    first_day: cp_model.IntVar | None = None
    dose_days: dict[int, cp_model.IntVar] = field(default_factory=dict)


def _segments(profile: list[int]) -> Iterable[tuple[int, int, int]]:
    """Maximal runs (start, length, value) of a per-slot profile with value > 0."""
    t, n = 0, len(profile)
    while t < n:
        v = profile[t]
        u = t
        while u < n and profile[u] == v:
            u += 1
        if v > 0:
            yield t, u - t, v
        t = u


class Background:
    """Resource use that is fixed and outside the model (repair: everyone else's appointments)."""

    def __init__(self, grid: Grid) -> None:
        h = grid.horizon
        self.dose = [0] * h
        self.therapy_room = [0] * h
        self.staff: dict[str, bytearray] = {s: bytearray(h) for s in grid.therapists}
        self.rooms: dict[str, bytearray] = {r.id: bytearray(h) for r in grid.instance.rooms}

    def add(self, grid: Grid, a: Appointment, minutes: int) -> None:
        t = grid.slot(a.day, a.minute)
        d = grid.slots(minutes)
        if t < 0 or t + d > grid.horizon:
            return
        for x in range(t, t + d):
            if a.kind == "dose":
                self.dose[x] += 1
            else:
                self.therapy_room[x] += 1
        if a.room in self.rooms:
            self.rooms[a.room][t : t + d] = b"\x01" * d
        if a.kind != "dose":
            for s in a.staff:
                if s in self.staff:
                    self.staff[s][t : t + d] = b"\x01" * d


class Model:
    """Builds the CP-SAT model for some patients against a fixed background."""

    def __init__(self, grid: Grid, background: Background | None = None) -> None:
        self.grid = grid
        self.inst = grid.instance
        self.m = cp_model.CpModel()
        self.bg = background or Background(grid)
        self.courses: dict[str, _Course] = {}

    # ------------------------------------------------------------------ courses
    def add_course(
        self,
        patient: Patient,
        fixed: dict[tuple[str, int], Appointment] | None = None,
        forbidden: set[tuple[str, int, int]] | None = None,
        required: bool = False,
    ) -> _Course | None:
        g, m = self.grid, self.m
        track = self.inst.tracks[patient.track]
        fixed = fixed or {}
        forbidden = forbidden or set()
        prun = g.patient_run(patient)
        eligible = g.eligible_therapists(patient)
        fixed_ther = next(
            (a.staff[0] for a in fixed.values() if a.kind != "dose" and a.staff), None
        )
        if fixed_ther is not None:
            eligible = [fixed_ther] if fixed_ther in eligible else []
        if not eligible:
            return None
        deadline = (
            None
            if track.start_within_hours is None
            else patient.release_day * g.spd
            + track.start_within_hours * 60 // self.inst.slot_minutes
        )
        static = {
            k: g.static_starts(patient, track, k, prun)
            for k in ("preparation", "dose", "integration")
        }
        present = m.new_constant(1) if required else m.new_bool_var(f"x_{patient.id}")
        course = _Course(patient, track, present, required)
        for kind, index in track.sessions():
            d = g.slots(track.minutes(kind))
            if (kind, index) in fixed:
                a = fixed[(kind, index)]
                values = [g.slot(a.day, a.minute)]
            else:
                values = [t for t in static[kind] if (kind, index, t) not in forbidden]
                if kind == "dose" and index == 1 and deadline is not None:
                    values = [t for t in values if t <= deadline]
            if not values:
                return None
            name = f"{patient.id}_{kind}{index}"
            start = m.new_int_var_from_domain(cp_model.Domain.from_values(values), f"s_{name}")
            interval = m.new_optional_fixed_size_interval_var(start, d, present, f"i_{name}")
            course.sessions[(kind, index)] = _Session(
                kind, index, d, start, interval, fixed.get((kind, index))
            )
        self._course_rules(course)
        for sid in eligible:
            course.therapist[sid] = (
                present if len(eligible) == 1 else m.new_bool_var(f"y_{patient.id}_{sid}")
            )
        if len(eligible) > 1:
            m.add(sum(course.therapist.values()) == present)
        self.courses[patient.id] = course
        return course

    def _course_rules(self, c: _Course) -> None:
        g, m, t = self.grid, self.m, c.track
        x = c.present
        s = c.sessions
        within = t.integration_within_hours * 60 // self.inst.slot_minutes
        for i in range(1, t.preparation_count):
            a, b = s[("preparation", i)], s[("preparation", i + 1)]
            m.add(a.start + a.dur <= b.start).only_enforce_if(x)
        if t.preparation_count:
            last = s[("preparation", t.preparation_count)]
            m.add(last.start + last.dur <= s[("dose", 1)].start).only_enforce_if(x)
        for k in range(1, t.dose_count + 1):
            dose = s[("dose", k)]
            day = m.new_int_var(0, self.inst.days - 1, f"d_{c.patient.id}_{k}")
            m.add(g.spd * day <= dose.start)
            m.add(dose.start <= g.spd * day + g.spd - 1)
            c.dose_days[k] = day
            integ = s[("integration", k)]
            m.add(integ.start >= dose.start + dose.dur).only_enforce_if(x)
            m.add(integ.start <= dose.start + dose.dur + within).only_enforce_if(x)
            if k > 1:
                gap = day - c.dose_days[k - 1]
                m.add(gap >= t.dose_spacing_min_days).only_enforce_if(x)
                m.add(gap <= t.dose_spacing_max_days).only_enforce_if(x)
        m.add_no_overlap([sess.interval for sess in s.values()])
        first = s[t.sessions()[0]]
        first_day = m.new_int_var(0, self.inst.days - 1, f"fd_{c.patient.id}")
        m.add(g.spd * first_day <= first.start)
        m.add(first.start <= g.spd * first_day + g.spd - 1)
        c.first_day = first_day
        wait = m.new_int_var(0, self.inst.days, f"w_{c.patient.id}")
        m.add(wait == first_day - max(0, c.patient.release_day)).only_enforce_if(x)
        if not c.required:
            m.add(wait == 0).only_enforce_if(x.negated())
        c.wait = wait

    # ------------------------------------------------------------------ resources
    def add_resources(self) -> None:
        g, m = self.grid, self.m
        h = g.horizon
        doses, therapy = [], []
        per_therapist: dict[str, list[cp_model.IntervalVar]] = {s: [] for s in g.therapists}
        for c in self.courses.values():
            for (kind, _), sess in c.sessions.items():
                if kind == "dose":
                    doses.append(sess.interval)
                    continue
                therapy.append(sess.interval)
                for sid, lit in c.therapist.items():
                    if len(c.therapist) == 1:
                        per_therapist[sid].append(sess.interval)
                    else:
                        per_therapist[sid].append(
                            m.new_optional_fixed_size_interval_var(
                                sess.start,
                                sess.dur,
                                lit,
                                f"t_{c.patient.id}_{kind}{sess.index}_{sid}",
                            )
                        )
        # Chairs and nurse ratio in one cumulative: capacity = min(free chairs, ratio × nurses).
        chairs_free = [
            sum(1 for ch in g.chairs if g.room_run[ch][t] > 0 and not self.bg.rooms[ch][t])
            for t in range(h)
        ]
        cap_profile = [
            max(0, min(chairs_free[t], g.nurse_capacity[t] - self.bg.dose[t])) for t in range(h)
        ]
        self._cumulative(doses, cap_profile, "dose")
        rooms_free = [
            sum(1 for r in g.therapy_rooms if g.room_run[r][t] > 0 and not self.bg.rooms[r][t])
            for t in range(h)
        ]
        self._cumulative(therapy, rooms_free, "therapy")
        for sid, intervals in per_therapist.items():
            if not intervals:
                continue
            busy = [1 if g.staff_run[sid][t] == 0 or self.bg.staff[sid][t] else 0 for t in range(h)]
            fixed = [
                m.new_interval_var(s, n, s + n, f"off_{sid}_{s}") for s, n, _ in _segments(busy)
            ]
            m.add_no_overlap(intervals + fixed)

    def _cumulative(
        self, intervals: list[cp_model.IntervalVar], capacity: list[int], name: str
    ) -> None:
        if not intervals:
            return
        top = max(capacity) if capacity else 0
        blocked = [top - c for c in capacity]
        fixed = [
            self.m.new_interval_var(s, n, s + n, f"{name}_cap_{s}")
            for s, n, _ in _segments(blocked)
        ]
        demands = [1] * len(intervals) + [v for _, _, v in _segments(blocked)]
        self.m.add_cumulative(intervals + fixed, demands, max(top, 0))

    # ------------------------------------------------------------------ hints / results
    def hint(self, plan_appts: Iterable[Appointment]) -> None:
        by_patient: dict[str, list[Appointment]] = {}
        for a in plan_appts:
            by_patient.setdefault(a.patient, []).append(a)
        for pid, c in self.courses.items():
            appts = by_patient.get(pid)
            booked = appts is not None and len(appts) == len(c.sessions)
            if not c.required:
                self.m.add_hint(c.present, int(booked))
            if not booked or appts is None:
                for lit in c.therapist.values():
                    if lit is not c.present:
                        self.m.add_hint(lit, 0)
                continue
            ther = next((a.staff[0] for a in appts if a.kind != "dose" and a.staff), None)
            for a in appts:
                sess = c.sessions.get((a.kind, a.index))
                if sess is not None:
                    self.m.add_hint(sess.start, self.grid.slot(a.day, a.minute))
                if a.kind == "dose":
                    self.m.add_hint(c.dose_days[a.index], a.day)
            for sid, lit in c.therapist.items():
                if lit is not c.present:
                    self.m.add_hint(lit, int(sid == ther))
            first = min(appts, key=lambda a: (a.day, a.minute))
            assert c.first_day is not None
            assert c.wait is not None
            self.m.add_hint(c.first_day, first.day)
            self.m.add_hint(c.wait, first.day - max(0, c.patient.release_day))

    def extract(self, solver: cp_model.CpSolver) -> list[Appointment]:
        """Appointments of every booked course, with chairs and therapy rooms assigned."""
        g = self.grid
        items: list[tuple[int, int, str, _Course, _Session, str | None]] = []
        for c in self.courses.values():
            if not solver.boolean_value(c.present):
                continue
            ther = next((s for s, lit in c.therapist.items() if solver.boolean_value(lit)), None)
            for sess in c.sessions.values():
                items.append((solver.value(sess.start), sess.dur, sess.kind, c, sess, ther))
        return assign_rooms(g, self.bg, items)


def assign_rooms(
    g: Grid,
    bg: Background,
    items: list[tuple[int, int, str, _Course, _Session, str | None]],
) -> list[Appointment]:
    """Interval colouring of chairs and therapy rooms (exact for identical rooms); a course whose
    session finds no free room is dropped whole, so the result stays a valid plan."""
    busy = {r: bytearray(v) for r, v in bg.rooms.items()}
    chosen: dict[tuple[str, str, int], str] = {}
    dropped: set[str] = set()
    for c in {id(it[3]): it[3] for it in items}.values():  # fixed rooms first
        for sess in c.sessions.values():
            if sess.fixed is not None and sess.fixed.room is not None:
                t = g.slot(sess.fixed.day, sess.fixed.minute)
                busy[sess.fixed.room][t : t + sess.dur] = b"\x01" * sess.dur
                chosen[(c.patient.id, sess.kind, sess.index)] = sess.fixed.room
    zero_cache: dict[int, bytes] = {}
    for t, d, kind, c, sess, _ in sorted(items, key=lambda it: (it[0], it[1])):
        key = (c.patient.id, kind, sess.index)
        if key in chosen or c.patient.id in dropped:
            continue
        zero = zero_cache.setdefault(d, bytes(d))
        pool = g.chairs if kind == "dose" else g.therapy_rooms
        room = next((r for r in pool if g.room_run[r][t] >= d and busy[r][t : t + d] == zero), None)
        if room is None:
            dropped.add(c.patient.id)
            continue
        busy[room][t : t + d] = b"\x01" * d
        chosen[key] = room
    out = []
    for t, _, kind, c, sess, ther in items:
        if c.patient.id in dropped:
            continue
        day, minute = g.day_minute(t)
        staff: tuple[str, ...] = () if kind == "dose" or ther is None else (ther,)
        if sess.fixed is not None:
            out.append(sess.fixed)
        else:
            out.append(
                Appointment(
                    c.patient.id,
                    kind,
                    sess.index,
                    day,
                    minute,
                    chosen[(c.patient.id, kind, sess.index)],
                    staff,
                )
            )
    return out


def _status(code: cp_model.CpSolverStatus) -> str:
    if code == cp_model.OPTIMAL:
        return "optimal"
    return "feasible" if code == cp_model.FEASIBLE else "unknown"


def solve_cpsat(
    instance: Instance,
    time_limit: float = 60.0,
    seed: int = 0,
    hint: Plan | None = None,
) -> Plan:
    """Best plan found within ``time_limit`` seconds; ``status`` is optimal or feasible.

    ``objective`` is Σ priority over booked courses; ``bound`` is CP-SAT's proven upper bound on
    that sum. Raises :class:`Conflict` when a pre-booked course cannot be completed.
    """
    from trellis.core.scheduling.greedy import solve_greedy

    t0 = time.perf_counter()
    grid = build_grid(instance)
    baseline = hint if hint is not None else solve_greedy(instance)
    model = Model(grid)
    for p in instance.patients:
        fixed = {(a.kind, a.index): a for a in p.booked}
        course = model.add_course(p, fixed, required=bool(p.booked))
        if course is None and p.booked:
            raise Conflict(f"patient {p.id}: the pre-booked course cannot be completed")
    model.add_resources()
    model.hint(baseline.appointments)
    days = instance.days
    big = days * max(1, len(model.courses)) + 1
    m = model.m
    courses = list(model.courses.values())
    m.maximize(
        cp_model.LinearExpr.weighted_sum(
            [c.present for c in courses], [c.patient.priority * big for c in courses]
        )
        - cp_model.LinearExpr.sum([c.wait for c in courses if c.wait is not None])
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.perf_counter() - t0))
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    code = solver.solve(m)
    priority = {p.id: p.priority for p in instance.patients}
    weight_base = sum(priority[pid] for pid in {a.patient for a in baseline.appointments})
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Plan(
            baseline.appointments,
            method="cpsat",
            status="feasible",
            objective=weight_base,
            bound=None,
            solve_seconds=time.perf_counter() - t0,
            extra={"note": "CP-SAT found no solution in time; the greedy plan is returned"},
        )
    appts = model.extract(solver)
    booked = {a.patient for a in appts}
    weight = sum(model.courses[pid].patient.priority for pid in booked)
    # obj = W·big − waits with 0 ≤ waits < big, so W ≤ ceil(bound / big).
    bound = math.ceil(solver.best_objective_bound / big - 1e-9)
    status = _status(code)
    if weight < weight_base:
        appts, weight, status = list(baseline.appointments), weight_base, "feasible"
    return Plan(
        tuple(appts),
        method="cpsat",
        status=status,
        objective=weight,
        bound=bound,
        solve_seconds=time.perf_counter() - t0,
    )

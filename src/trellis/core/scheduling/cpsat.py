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

On large instances the whole model is too big for CP-SAT to improve on its hint in a minute; the
optimiser then starts from the master-guided construction (:mod:`.decompose`) and uses CP-SAT for
the per-day packing and the neighbourhood search (:func:`solve_cpsat`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from trellis.core.errors import Conflict
from trellis.core.scheduling.cumulative import add_profile_cumulative, segments
from trellis.core.scheduling.decompose import master_guided
from trellis.core.scheduling.grid import Grid, build_grid
from trellis.core.scheduling.model import Appointment, Instance, Patient, Plan, Track

NUM_WORKERS = 2  # this project's CI and benchmark machines have 2 cores
# Large-neighbourhood search, tuned on the generator's 150-patient clinic-months (bench/).
LNS_WINDOW_DAYS = 7
LNS_BOOKED = 14
LNS_NEW = 14
LNS_SECONDS = 3.0
LNS_PRESOLVE = True
LNS_SWAP = False
FULL_SHARE = 1 / 3
GUIDED_SHARE = 0.6  # of the time limit, for the master-guided construction
FULL_MODEL_MAX_COURSES = 60  # above this the whole model only costs time (bench/)


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


class Background:
    """Resource use fixed outside the model: everyone else's appointments.

    ``pin_rooms=True`` (repair) keeps their chairs and rooms; otherwise (the optimiser's
    neighbourhood search) only their counts are kept and rooms are re-coloured at the end.
    """

    def __init__(self, grid: Grid) -> None:
        h = grid.horizon
        self.dose = [0] * h  # all doses in progress (nurse ratio)
        self.unpinned_dose = [0] * h
        self.unpinned_therapy = [0] * h
        self.staff: dict[str, bytearray] = {s: bytearray(h) for s in grid.therapists}
        self.rooms: dict[str, bytearray] = {r.id: bytearray(h) for r in grid.instance.rooms}

    def add(self, grid: Grid, a: Appointment, minutes: int, pin_rooms: bool) -> None:
        t = grid.slot(a.day, a.minute)
        d = grid.slots(minutes)
        if t < 0 or t + d > grid.horizon:
            return
        pinned = pin_rooms and a.room in self.rooms
        for x in range(t, t + d):
            if a.kind == "dose":
                self.dose[x] += 1
                if not pinned:
                    self.unpinned_dose[x] += 1
            elif not pinned:
                self.unpinned_therapy[x] += 1
        if pinned and a.room is not None:
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
                values = [
                    t
                    for t in g.in_window(patient, kind, index, static[kind])
                    if (kind, index, t) not in forbidden
                ]
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
            max(
                0,
                min(
                    chairs_free[t] - self.bg.unpinned_dose[t],
                    g.nurse_capacity[t] - self.bg.dose[t],
                ),
            )
            for t in range(h)
        ]
        add_profile_cumulative(m, doses, cap_profile, "dose")
        rooms_free = [
            max(
                0,
                sum(1 for r in g.therapy_rooms if g.room_run[r][t] > 0 and not self.bg.rooms[r][t])
                - self.bg.unpinned_therapy[t],
            )
            for t in range(h)
        ]
        add_profile_cumulative(m, therapy, rooms_free, "therapy")
        for sid, intervals in per_therapist.items():
            if not intervals:
                continue
            busy = [1 if g.staff_run[sid][t] == 0 or self.bg.staff[sid][t] else 0 for t in range(h)]
            fixed = [
                m.new_interval_var(s, n, s + n, f"off_{sid}_{s}") for s, n, _ in segments(busy)
            ]
            m.add_no_overlap(intervals + fixed)

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

    def extract(self, solver: cp_model.CpSolver) -> dict[str, list[Appointment]]:
        """Booked courses with times and therapists; rooms are assigned later (:func:`colour`)."""
        g = self.grid
        out: dict[str, list[Appointment]] = {}
        for pid, c in self.courses.items():
            if not solver.boolean_value(c.present):
                continue
            ther = next((s for s, lit in c.therapist.items() if solver.boolean_value(lit)), None)
            appts = []
            for sess in c.sessions.values():
                if sess.fixed is not None:
                    appts.append(sess.fixed)
                    continue
                day, minute = g.day_minute(solver.value(sess.start))
                staff: tuple[str, ...] = () if sess.kind == "dose" or ther is None else (ther,)
                appts.append(Appointment(pid, sess.kind, sess.index, day, minute, None, staff))
            out[pid] = appts
        return out


def colour(
    g: Grid,
    courses: dict[str, list[Appointment]],
    required: set[str],
    background: Background | None = None,
) -> list[Appointment]:
    """Assign chairs and therapy rooms by interval colouring, in start order (exact when rooms of
    a kind are interchangeable). Appointments that already have a room keep it. A course whose
    session finds no room is dropped whole (never a partial course), unless it is ``required``."""
    inst = g.instance
    busy = {r: bytearray(v) for r, v in (background or Background(g)).rooms.items()}
    minutes = {p.id: inst.tracks[p.track] for p in inst.patients}
    prio = {p.id: p.priority for p in inst.patients}
    for appts in courses.values():
        for a in appts:
            if a.room is not None and a.room in busy:
                t, d = g.slot(a.day, a.minute), g.slots(minutes[a.patient].minutes(a.kind))
                busy[a.room][t : t + d] = b"\x01" * d
    dropped: set[str] = set()
    chosen: dict[tuple[str, str, int], str] = {}
    todo = sorted(
        (a for appts in courses.values() for a in appts if a.room is None),
        key=lambda a: (a.day, a.minute, a.patient),
    )
    # Rooms of one kind on one day form an independent problem (no session crosses midnight).
    groups: dict[tuple[int, bool], list[Appointment]] = {}
    for a in todo:
        groups.setdefault((a.day, a.kind == "dose"), []).append(a)

    def span(a: Appointment) -> tuple[int, int]:
        return g.slot(a.day, a.minute), g.slots(minutes[a.patient].minutes(a.kind))

    for (_, is_dose), items in sorted(groups.items()):
        pool = g.chairs if is_dose else g.therapy_rooms
        items = [a for a in items if a.patient not in dropped]
        trial = {r: bytearray(busy[r]) for r in pool}
        picks: dict[tuple[str, str, int], str] = {}
        failed: list[Appointment] = []
        for a in items:
            if a.patient in {f.patient for f in failed}:
                continue
            t, d = span(a)
            zero = bytes(d)
            # Best fit: of the free rooms, the one whose next booking (a pinned appointment)
            # comes soonest, so long free stretches stay whole; with nothing pinned ahead every
            # room ties and this is interval colouring in start order (exact when rooms are
            # interchangeable).
            free = [r for r in pool if g.room_run[r][t] >= d and trial[r][t : t + d] == zero]
            room = min(
                free, key=lambda r: (_next_taken(g, trial[r], r, t), pool.index(r)), default=None
            )
            if room is None:
                failed.append(a)
                continue
            trial[room][t : t + d] = b"\x01" * d
            picks[a.key] = room
        if failed:
            # Pinned rooms make colouring inexact: assign the day's sessions exactly, keeping
            # the required courses first, then as much priority as fits.
            weight = {a.key: (1000 if a.patient in required else prio[a.patient]) for a in items}
            exact = _assign_exact(g, busy, [(a.key, *span(a), weight[a.key]) for a in items], pool)
            if exact is not None and sum(weight[k] for k in exact) > sum(weight[k] for k in picks):
                picks = exact
                failed = [a for a in items if a.key not in picks]
                trial = {r: bytearray(busy[r]) for r in pool}
                for a in items:
                    if a.key in picks:
                        t, d = span(a)
                        trial[picks[a.key]][t : t + d] = b"\x01" * d
        for a in failed:
            if a.patient in required:
                raise Conflict(f"patient {a.patient}: no free room for {a.kind}#{a.index}")
            dropped.add(a.patient)
        busy.update(trial)
        chosen.update(picks)
    out = []
    for pid, appts in courses.items():
        if pid in dropped:
            continue
        for a in appts:
            if a.room is None:
                a = Appointment(a.patient, a.kind, a.index, a.day, a.minute, chosen[a.key], a.staff)
            out.append(a)
    return out


def _assign_exact(
    g: Grid,
    busy: dict[str, bytearray],
    items: list[tuple[tuple[str, str, int], int, int, int]],
    pool: list[str],
    time_limit: float = 2.0,
) -> dict[tuple[str, str, int], str] | None:
    """Rooms for sessions ``(key, start slot, length, weight)`` of one kind and day around the
    rooms' bookings ``busy`` (a small CP-SAT model), keeping as much weight as possible; a
    session left out has no key in the result. None when the model finds nothing in time."""
    m = cp_model.CpModel()
    per_room: dict[str, list[cp_model.IntervalVar]] = {r: [] for r in pool}
    options: dict[tuple[str, str, int], list[tuple[str, cp_model.IntVar]]] = {}
    kept = []
    for key, t, d, weight in items:
        zero = bytes(d)
        options[key] = []
        for r in pool:
            if g.room_run[r][t] < d or busy[r][t : t + d] != zero:
                continue
            lit = m.new_bool_var(f"{key}_{r}")
            per_room[r].append(m.new_optional_fixed_size_interval_var(t, d, lit, f"i_{key}_{r}"))
            options[key].append((r, lit))
        m.add_at_most_one(lit for _, lit in options[key])
        kept += [(lit, weight) for _, lit in options[key]]
    for intervals in per_room.values():
        if len(intervals) > 1:
            m.add_no_overlap(intervals)
    m.maximize(sum(w * lit for lit, w in kept))
    solver = _solver(time_limit, 0)
    if solver.solve(m) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out: dict[tuple[str, str, int], str] = {}
    for key, opts in options.items():
        room = next((r for r, lit in opts if solver.boolean_value(lit)), None)
        if room is not None:
            out[key] = room
    return out


def _next_taken(g: Grid, busy: bytearray, room: str, t: int) -> int:
    """The first slot from ``t`` on where ``room`` is booked or closed."""
    taken = busy.find(b"\x01", t)
    closed = t + g.room_run[room][t]
    return closed if taken < 0 else min(taken, closed)


def _status(code: cp_model.CpSolverStatus) -> str:
    if code == cp_model.OPTIMAL:
        return "optimal"
    return "feasible" if code == cp_model.FEASIBLE else "unknown"


def _courses(appts: Iterable[Appointment]) -> dict[str, list[Appointment]]:
    out: dict[str, list[Appointment]] = {}
    for a in appts:
        out.setdefault(a.patient, []).append(a)
    return out


def _objective(model: Model, big: int) -> None:
    courses = list(model.courses.values())
    model.m.maximize(
        cp_model.LinearExpr.weighted_sum(
            [c.present for c in courses], [c.patient.priority * big for c in courses]
        )
        - cp_model.LinearExpr.sum([c.wait for c in courses if c.wait is not None])
    )


def _solver(time_limit: float, seed: int, presolve: bool = True) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    # Presolve costs seconds on big models and the hint is already good: skip it there.
    solver.parameters.cp_model_presolve = presolve
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = NUM_WORKERS
    solver.parameters.random_seed = seed
    return solver


def _weight(instance: Instance, courses: dict[str, list[Appointment]]) -> int:
    prio = {p.id: p.priority for p in instance.patients}
    return sum(prio[pid] for pid in courses)


def _first_fit_rest(
    instance: Instance, grid: Grid, appts: list[Appointment]
) -> dict[str, list[Appointment]]:
    """``appts`` (whole courses with rooms) plus, first come first served, every other
    patient's course that still fits first-fit around them."""
    from trellis.core.scheduling.greedy import State, place_course

    state = State.empty(grid)
    courses = _courses(appts)
    by_id = {p.id: p for p in instance.patients}
    for a in appts:
        p = by_id[a.patient]
        state.occupy(p, a, instance.tracks[p.track].minutes(a.kind))
    rest = sorted(
        (p for p in instance.patients if p.id not in courses and not p.booked),
        key=lambda p: (-p.priority, p.release_day, p.id),
    )
    for p in rest:
        course = place_course(state, p)
        if course is None:
            continue
        for a in course:
            state.occupy(p, a, instance.tracks[p.track].minutes(a.kind))
        courses[p.id] = course
    return courses


def solve_cpsat(
    instance: Instance,
    time_limit: float = 60.0,
    seed: int = 0,
    hint: Plan | None = None,
) -> Plan:
    """Best plan found within ``time_limit`` seconds; ``status`` is optimal or feasible.

    1. Greedy plans (release order and cheapest-first) are the floor.
    2. The master-guided construction (:mod:`.decompose`, up to ``GUIDED_SHARE`` of the time)
       around the pre-booked courses (as the greedy plan completed them): the day-level master
       MIP chooses dose days, doses are packed day by day, therapy placed around them, in
       rounds; then first-fit for whoever is left. Without pre-booked courses the first
       master's proven bound on Σ priority is the plan's ``bound``.
    3. With at most ``FULL_MODEL_MAX_COURSES`` candidate courses: the whole CP-SAT model,
       hinted with the best plan so far (a third of the time, at least 5 s); small instances
       are proven optimal here.
    4. Large-neighbourhood search for the rest of the time: free the booked courses with a
       dose in a random week plus some unbooked patients, fix everything else, re-optimise that
       neighbourhood with CP-SAT, keep improvements.

    ``objective`` is Σ priority over booked courses; ``bound`` the best proven upper bound on it
    (the master's or CP-SAT's). Raises :class:`Conflict` when a pre-booked course cannot be
    completed.
    """
    import random

    from trellis.core.scheduling.greedy import course_cost, solve_greedy

    t0 = time.perf_counter()
    deadline = t0 + time_limit
    grid = build_grid(instance)
    baseline = solve_greedy(instance)
    for candidate in (solve_greedy(instance, order="cost"), hint):
        if candidate is not None and (candidate.objective or 0) > (baseline.objective or 0):
            baseline = candidate
    required = {p.id for p in instance.patients if p.booked}
    big = instance.days * max(1, len(instance.patients)) + 1

    best = _courses(baseline.appointments)
    best_weight = _weight(instance, best)
    # The best plan whose rooms are already assigned: the end's re-colouring may drop a course
    # (pinned pre-booked rooms make colouring inexact), and then this one stands.
    roomed = list(baseline.appointments)
    bound: int | None = None
    status = "feasible"
    if instance.patients and len(instance.patients) > len(required):
        # Master-guided construction (module docstring) around the pre-booked courses (as the
        # greedy plan completed them), then first-fit for whoever is left.
        base = [a for pid in sorted(required) for a in best[pid]]
        guided, master_bound = master_guided(
            instance, grid, time_limit * GUIDED_SHARE, seed, base=base
        )
        if master_bound is not None:
            bound = math.floor(master_bound + 1e-6)
        pinned = {pid: best[pid] for pid in required}
        found = _first_fit_rest(instance, grid, colour(grid, pinned | guided, required))
        if _weight(instance, found) > best_weight:
            best, best_weight = found, _weight(instance, found)
            roomed = [a for appts in found.values() for a in appts]

    model = Model(grid)
    for p in instance.patients:
        fixed = {(a.kind, a.index): a for a in p.booked}
        if model.add_course(p, fixed, required=bool(p.booked)) is None and p.booked:
            raise Conflict(f"patient {p.id}: the pre-booked course cannot be completed")
    feasible_ids = list(model.courses)
    if len(model.courses) <= FULL_MODEL_MAX_COURSES:
        # The whole model: small instances are proven optimal here.
        model.add_resources()
        model.hint(a for appts in best.values() for a in appts)
        _objective(model, big)
        solver = _solver(
            min(max(time_limit * FULL_SHARE, 5.0), deadline - time.perf_counter()),
            seed,
            presolve=len(model.courses) < 60,
        )
        code = solver.solve(model.m)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            # obj = W·big − waits with 0 ≤ waits < big, so W ≤ ceil(bound / big).
            full_bound = math.ceil(solver.best_objective_bound / big - 1e-9)
            bound = full_bound if bound is None else min(bound, full_bound)
            found = model.extract(solver)
            if _weight(instance, found) >= best_weight:
                best, best_weight = found, _weight(instance, found)
                status = _status(code)
    if status != "optimal" and bound is not None and best_weight >= bound:
        status = "optimal"

    rng = random.Random(seed)
    by_id = {p.id: p for p in instance.patients}
    cost = {p.id: course_cost(instance, p) for p in instance.patients}
    while status != "optimal" and time.perf_counter() < deadline - 0.5:
        # Neighbourhood: the courses with a dose in a random window of days, and some others.
        first = rng.randrange(instance.days)
        window = range(first, first + LNS_WINDOW_DAYS)
        booked = [pid for pid in best if pid not in required]
        in_window = [pid for pid in booked if any(a.day in window for a in best[pid])]
        unbooked = [pid for pid in feasible_ids if pid not in best]
        if LNS_SWAP and rng.random() < 0.5:
            # Swap move: long courses out, short ones in (more courses from the same chairs).
            in_window.sort(key=lambda pid: -cost[pid] + rng.random() * 200)
            unbooked.sort(key=lambda pid: cost[pid] + rng.random() * 200)
            free_booked = in_window[:LNS_BOOKED]
            free_new = unbooked[:LNS_NEW]
        else:
            free_booked = rng.sample(in_window, min(len(in_window), LNS_BOOKED))
            free_new = rng.sample(unbooked, min(len(unbooked), LNS_NEW))
        if not free_new:
            break
        freed = set(free_booked) | set(free_new)
        bg = Background(grid)
        for pid, appts in best.items():
            if pid in freed:
                continue
            track = instance.tracks[by_id[pid].track]
            for a in appts:
                bg.add(grid, a, track.minutes(a.kind), pin_rooms=False)
        sub = Model(grid, bg)
        for pid in sorted(freed):
            sub.add_course(by_id[pid])
        sub.add_resources()
        sub.hint(a for pid in free_booked for a in best[pid])
        _objective(sub, big)
        sub_solver = _solver(
            min(LNS_SECONDS, deadline - time.perf_counter() - 0.3),
            rng.randrange(1 << 30),
            presolve=LNS_PRESOLVE,
        )
        sub_code = sub_solver.solve(sub.m)
        if sub_code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            continue
        found = sub.extract(sub_solver)
        if _weight(instance, found) > _weight(instance, {p: best[p] for p in free_booked}):
            best = {pid: a for pid, a in best.items() if pid not in freed} | found
            best_weight = _weight(instance, best)
            if bound is not None and best_weight >= bound:
                status = "optimal"  # the master's proven bound is reached: stop here
        elif _weight(instance, found) == _weight(instance, {p: best[p] for p in free_booked}):
            best = {pid: a for pid, a in best.items() if pid not in freed} | found

    stripped = {
        pid: [
            a
            if a.patient in required
            else Appointment(a.patient, a.kind, a.index, a.day, a.minute, None, a.staff)
            for a in appts
        ]
        for pid, appts in best.items()
    }
    try:
        appts = colour(grid, stripped, required)
        weight = _weight(instance, _courses(appts))
    except Conflict:
        # A pre-booked patient's own new sessions found no room once rooms were pinned: the
        # greedy plan (rooms assigned as it books) stands instead.
        appts, weight = [], -1
    roomed_weight = _weight(instance, _courses(roomed))
    if weight < roomed_weight:
        appts, weight = roomed, roomed_weight
    if weight < best_weight:  # rooms cost a course: optimal only if the bound still says so
        status = "optimal" if bound is not None and weight >= bound else "feasible"
    return Plan(
        tuple(appts),
        method="cpsat",
        status=status,
        objective=weight,
        bound=bound,
        solve_seconds=time.perf_counter() - t0,
    )

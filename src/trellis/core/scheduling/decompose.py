"""Master-guided construction: dose days from the master, dose times per day, then therapy.

1. :func:`trellis.core.scheduling.master.master_days` chooses each booked course's dose days.
2. Doses never cross midnight, so their times are packed one day at a time
   (:func:`pack_day`, a small CP-SAT model: the day's doses against min(free chairs, nurse ratio
   × nurses on duty), each inside the patient's hours).
3. Therapy (:func:`place_therapy`): for each course, in order of its first dose, one therapist
   who speaks the patient's language takes every preparation (latest fit before dose 1, so early
   slots stay free for courses that start early) and every integration session (earliest fit
   after its dose, inside the track's window); the least-loaded therapist that fits is chosen.

The result is a set of whole courses (a course that does not fit is left out whole) without
rooms; the optimiser uses it as its starting point and assigns rooms by interval colouring.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from trellis.core.scheduling.cumulative import add_profile_cumulative
from trellis.core.scheduling.grid import Grid
from trellis.core.scheduling.master import DoseOptions, dose_options
from trellis.core.scheduling.model import Appointment, Instance, Patient

MAX_STALE = 6  # restarts of the construction without gain before it stops
Tied = dict[tuple[str, int], list[tuple[str, int, int, list[int]]]]


def pack_day(
    grid: Grid,
    day: int,
    doses: list[tuple[DoseOptions, int, int]],
    capacity: list[int],
    time_limit: float = 2.0,
    seed: int = 0,
    tied: Tied | None = None,
    therapy_cap: dict[str | None, list[int]] | None = None,
) -> tuple[dict[tuple[str, int], int], dict[tuple[str, str, int], int]]:
    """Start slots for the day's doses ``(options, dose index, weight)``; leaves out a dose only
    when they cannot all fit (maximising the weight kept). ``capacity`` is per slot of the day.

    ``tied`` maps a dose (patient, index) to therapy sessions (kind, index, length, possible
    starts) that can only happen on this day: the preparations before dose 1 of a patient
    released today (chained, all before the dose) and an integration session whose window
    closes before the clinic reopens (after the dose, inside the window). They are packed too,
    against ``therapy_cap`` (per slot of the day: None → rooms and therapists, a language →
    therapists who speak it). Returns (dose starts, tied session starts by (patient, kind,
    index))."""
    m = cp_model.CpModel()
    spd = grid.spd
    lo = day * spd
    ivs, keep = [], []
    starts: dict[tuple[str, int], cp_model.IntVar] = {}
    present: dict[tuple[str, int], cp_model.IntVar] = {}
    for o, k, weight in doses:
        values = (o.first_starts if k == 1 else o.starts).get(day, [])
        if not values:
            continue
        key = (o.patient.id, k)
        s = m.new_int_var_from_domain(cp_model.Domain.from_values(values), f"s_{key}")
        x = m.new_bool_var(f"x_{key}")
        starts[key], present[key] = s, x
        ivs.append(m.new_optional_fixed_size_interval_var(s, o.dur, x, f"i_{key}"))
        keep.append((x, weight))
    if not ivs:
        return {}, {}
    add_profile_cumulative(m, ivs, capacity, "dose", lo)
    session_vars: dict[tuple[str, str, int], cp_model.IntVar] = {}
    if tied and therapy_cap:
        by_lang: dict[str | None, list[cp_model.IntervalVar]] = defaultdict(list)
        for o, k, _ in doses:
            key = (o.patient.id, k)
            if key not in starts or key not in tied:
                continue
            x = present[key]
            before: cp_model.LinearExprT = starts[key]
            for kind, index, dur, values in tied[key]:
                if not values:
                    m.add(x == 0)
                    break
                v = m.new_int_var_from_domain(cp_model.Domain.from_values(values), "t")
                if kind == "preparation":  # listed last first: each ends before the next
                    m.add(v + dur <= before).only_enforce_if(x)
                    before = v
                else:
                    m.add(v >= starts[key] + o.dur).only_enforce_if(x)
                    within = o.track.integration_within_hours * 60 // grid.instance.slot_minutes
                    m.add(v <= starts[key] + o.dur + within).only_enforce_if(x)
                iv = m.new_optional_fixed_size_interval_var(v, dur, x, "ti")
                by_lang[None].append(iv)
                by_lang[o.patient.language].append(iv)
                session_vars[(o.patient.id, kind, index)] = v
        for lang, group in by_lang.items():
            cap = therapy_cap.get(lang)
            if cap is not None and group:
                add_profile_cumulative(m, group, cap, f"therapy_{lang}", lo)
    m.maximize(sum(w * x for x, w in keep))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = seed
    code = solver.solve(m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}, {}
    placed = {
        key: int(solver.value(starts[key])) for key, x in present.items() if solver.boolean_value(x)
    }
    at = {
        key: int(solver.value(v))
        for key, v in session_vars.items()
        if any(q == key[0] and solver.boolean_value(x) for (q, _), x in present.items())
    }
    return placed, at


@dataclass
class Occupancy:
    """Per-slot use of therapists, therapy rooms and patients while therapy is placed."""

    grid: Grid
    staff: dict[str, bytearray] = field(default_factory=dict)
    rooms: list[int] = field(default_factory=list)  # therapy sessions in progress
    room_cap: list[int] = field(default_factory=list)
    patient: dict[str, bytearray] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, grid: Grid) -> Occupancy:
        h = grid.horizon
        cap = [sum(1 for r in grid.therapy_rooms if grid.room_run[r][t] > 0) for t in range(h)]
        return cls(
            grid,
            {s: bytearray(h) for s in grid.therapists},
            [0] * h,
            cap,
            {},
            dict.fromkeys(grid.therapists, 0),
        )

    def copy(self) -> Occupancy:
        return Occupancy(
            self.grid,
            {s: bytearray(v) for s, v in self.staff.items()},
            list(self.rooms),
            self.room_cap,
            {p: bytearray(v) for p, v in self.patient.items()},
            dict(self.load),
        )

    def adopt(self, other: Occupancy) -> None:
        """Take over ``other``'s state (a trial that was kept)."""
        self.staff, self.rooms, self.patient, self.load = (
            other.staff,
            other.rooms,
            other.patient,
            other.load,
        )

    def therapy_capacity(
        self, lo: int, hi: int, languages: set[str]
    ) -> dict[str | None, list[int]]:
        """Free therapy capacity per slot in [lo, hi): None → min(free rooms, free therapists);
        a language → free therapists who speak it."""
        g = self.grid
        inst = g.instance

        def free(ids: list[str], t: int) -> int:
            return sum(1 for s in ids if g.staff_run[s][t] > 0 and not self.staff[s][t])

        out: dict[str | None, list[int]] = {
            None: [
                min(self.room_cap[t] - self.rooms[t], free(g.therapists, t)) for t in range(lo, hi)
            ]
        }
        for lang in languages:
            ids = [
                s
                for s in g.therapists
                if lang in getattr(inst.staff_member(s), "languages", frozenset())
            ]
            out[lang] = [free(ids, t) for t in range(lo, hi)]
        return out

    def own(self, pid: str) -> bytearray:
        return self.patient.setdefault(pid, bytearray(self.grid.horizon))

    def fits(self, pid: str, sid: str, t: int, d: int) -> bool:
        g = self.grid
        if g.staff_run[sid][t] < d or self.staff[sid][t : t + d] != bytes(d):
            return False
        if self.own(pid)[t : t + d] != bytes(d):
            return False
        return all(self.rooms[x] < self.room_cap[x] for x in range(t, t + d))

    def take(self, pid: str, sid: str | None, t: int, d: int) -> None:
        self.own(pid)[t : t + d] = b"\x01" * d
        if sid is not None:
            self.staff[sid][t : t + d] = b"\x01" * d
            self.load[sid] += d
            for x in range(t, t + d):
                self.rooms[x] += 1


def place_therapy(
    grid: Grid,
    occ: Occupancy,
    patient: Patient,
    doses: dict[int, int],
    therapy_starts: dict[str, list[int]],
    hints: dict[tuple[str, int], int] | None = None,
) -> list[Appointment] | None:
    """Preparations and integration sessions around fixed dose starts, one therapist for the
    course; commits to ``occ`` and returns the course's appointments, or None (nothing taken)."""
    inst = grid.instance
    track = inst.tracks[patient.track]
    pdur = grid.slots(track.preparation_minutes)
    idur = grid.slots(track.integration_minutes)
    ddur = grid.slots(track.dose_minutes)
    within = track.integration_within_hours * 60 // inst.slot_minutes
    # Therapists with fewer languages first (keep the few bilingual ones for the patients who
    # need them), then the least loaded.
    eligible = sorted(
        grid.eligible_therapists(patient),
        key=lambda s: (len(getattr(inst.staff_member(s), "languages", ())), occ.load[s], s),
    )
    for sid in eligible:
        taken: list[tuple[str, int, int, int]] = []  # kind, index, start, length
        busy = bytearray(occ.own(patient.id))
        ok = True

        def free(t: int, d: int, sid: str = sid, busy: bytearray = busy) -> bool:
            return busy[t : t + d] == bytes(d) and occ.fits(patient.id, sid, t, d)

        # Where the day's packing put a session, if this therapist is free then; otherwise
        # preparations latest fit (last one first, each ending before the next begins) and
        # integration sessions earliest fit.
        hint = hints or {}
        limit = doses[1]
        for j in range(track.preparation_count, 0, -1):
            lo, hi = grid.start_range(patient, "preparation", j)  # the care plan's window
            cands = [
                t for t in therapy_starts["preparation"] if t + pdur <= limit and lo <= t <= hi
            ]
            h = hint.get(("preparation", j))
            if h is not None and h + pdur <= limit and lo <= h <= hi:
                cands.append(h)
            t = next((t for t in reversed(cands) if free(t, pdur)), None)
            if t is None:
                ok = False
                break
            taken.append(("preparation", j, t, pdur))
            busy[t : t + pdur] = b"\x01" * pdur
            limit = t
        if ok:
            for k in range(1, track.dose_count + 1):
                end = doses[k] + ddur
                lo, hi = grid.start_range(patient, "integration", k)
                lo, hi = max(lo, end), min(hi, end + within)
                h = hint.get(("integration", k))
                first = [h] if h is not None and lo <= h <= hi else []
                t = next(
                    (
                        t
                        for t in first + therapy_starts["integration"]
                        if lo <= t <= hi and free(t, idur)
                    ),
                    None,
                )
                if t is None:
                    ok = False
                    break
                taken.append(("integration", k, t, idur))
                busy[t : t + idur] = b"\x01" * idur
        if not ok:
            continue
        out = []
        for kind, index, t, d in taken:
            occ.take(patient.id, sid, t, d)
            day, minute = grid.day_minute(t)
            out.append(Appointment(patient.id, kind, index, day, minute, None, (sid,)))
        for k, t in doses.items():
            day, minute = grid.day_minute(t)
            out.append(Appointment(patient.id, "dose", k, day, minute, None, ()))
        return out
    return None


def _tied_sessions(
    grid: Grid,
    day: int,
    doses: list[tuple[DoseOptions, int, int]],
    therapy_starts: dict[str, dict[str, list[int]]],
) -> Tied:
    """Therapy sessions that can only be on ``day`` with their dose (see :func:`pack_day`)."""
    spd = grid.spd
    lo, hi = day * spd, (day + 1) * spd
    tied: Tied = {}
    for o, k, _ in doses:
        pid = o.patient.id
        sessions: list[tuple[str, int, int, list[int]]] = []
        prep = therapy_starts[pid]["preparation"]
        first_prep = grid.in_window(o.patient, "preparation", 1, prep)
        if k == 1 and o.track.preparation_count and first_prep and first_prep[0] >= lo:
            pdur = grid.slots(o.track.preparation_minutes)
            sessions += [
                (
                    "preparation",
                    j,
                    pdur,
                    [t for t in grid.in_window(o.patient, "preparation", j, prep) if lo <= t < hi],
                )
                for j in range(o.track.preparation_count, 0, -1)
            ]
        integ = grid.in_window(o.patient, "integration", k, therapy_starts[pid]["integration"])
        dose_starts = (o.first_starts if k == 1 else o.starts).get(day, [])
        if dose_starts:
            within = o.track.integration_within_hours * 60 // grid.instance.slot_minutes
            reach = max(dose_starts) + o.dur + within
            if not any(hi <= t <= reach for t in integ):
                values = [t for t in integ if lo <= t < hi]
                sessions.append(("integration", k, grid.slots(o.track.integration_minutes), values))
        if sessions:
            tied[(pid, k)] = sessions
    return tied


def construct(
    instance: Instance,
    grid: Grid,
    days: dict[str, dict[int, int]],
    occ: Occupancy,
    dose_load: list[int],
    seed: int = 0,
    day_time_limit: float = 2.0,
    therapy_time: float = 2.0,
    deadline: float | None = None,
) -> dict[str, list[Appointment]]:
    """Whole courses (no rooms yet) realising the master's ``days`` as far as they fit, on top
    of what ``occ`` (therapy, patients) and ``dose_load`` (doses per slot) already hold; both are
    updated with the courses placed. Each day's packing gets at most ``day_time_limit`` seconds
    and the therapy orders ``therapy_time``, both cut to fit ``deadline`` (a
    ``time.perf_counter()`` value)."""
    spd = grid.spd
    dose_cap, _ = grid.dose_capacity()
    options: dict[str, DoseOptions] = {}
    per_day: dict[int, list[tuple[DoseOptions, int, int]]] = defaultdict(list)
    for pid, ks in days.items():
        p = instance.patient(pid)
        assert p is not None
        o = dose_options(grid, p)
        if o is None:
            continue
        options[pid] = o
        for k, d in ks.items():
            per_day[d].append((o, k, p.priority))
    dose_start: dict[tuple[str, int], int] = {}
    session_start: dict[tuple[str, str, int], int] = {}
    therapy_starts: dict[str, dict[str, list[int]]] = {}
    for pid, o in options.items():
        prun = grid.patient_run(o.patient)
        therapy_starts[pid] = {
            k: grid.static_starts(o.patient, o.track, k, prun)
            for k in ("preparation", "integration")
        }
    languages = {o.patient.language for o in options.values()}
    end = deadline if deadline is not None else time.perf_counter() + 3600.0
    todo = sorted(per_day.items())
    for i, (d, doses) in enumerate(todo):
        lo, hi = d * spd, (d + 1) * spd
        free = [max(0, c - b) for c, b in zip(dose_cap[lo:hi], dose_load[lo:hi], strict=True)]
        tied = _tied_sessions(grid, d, doses, therapy_starts)
        caps = occ.therapy_capacity(lo, hi, languages) if tied else None
        # Share what is left of the time among the days still to pack.
        limit = min(day_time_limit, (end - time.perf_counter()) / (len(todo) - i))
        placed, at = pack_day(grid, d, doses, free, max(0.05, limit), seed, tied, caps)
        dose_start |= placed
        session_start |= at
    ready: list[tuple[tuple[int, int, int], int, str, dict[int, int]]] = []
    for pid, ks in days.items():
        if pid in options and all((pid, k) in dose_start for k in ks):
            starts = {k: dose_start[(pid, k)] for k in ks}
            p = options[pid].patient
            # Higher priority first, then patients with fewer therapists to choose from and
            # more preparations, then by first dose.
            hard = (
                -p.priority,
                len(grid.eligible_therapists(p)),
                -options[pid].track.preparation_count,
            )
            ready.append((hard, starts[1], pid, starts))
    ready.sort()
    rng = random.Random(seed)
    stop = min(end, time.perf_counter() + therapy_time)
    best: tuple[int, Occupancy, dict[str, list[Appointment]]] | None = None
    order = list(ready)
    while True:
        trial = occ.copy()
        courses: dict[str, list[Appointment]] = {}
        for _, _, pid, starts in order:
            p = options[pid].patient
            dur = options[pid].dur
            for t in starts.values():
                trial.take(pid, None, t, dur)
            hint = {(kind, j): t for (q, kind, j), t in session_start.items() if q == pid}
            course = place_therapy(grid, trial, p, starts, therapy_starts[pid], hint)
            if course is None:
                for t in starts.values():  # give the patient's time back
                    trial.own(pid)[t : t + dur] = bytes(dur)
                continue
            courses[pid] = course
        weight = sum(options[pid].patient.priority for pid in courses)
        if best is None or weight > best[0]:
            best = (weight, trial, courses)
        if len(courses) == len(ready) or time.perf_counter() > stop:
            break
        # Another order: the courses that failed move to the front, the rest shuffled a little.
        failed = [r for r in order if r[2] not in courses]
        kept = [r for r in order if r[2] in courses]
        rng.shuffle(failed)
        for i in range(len(kept) - 1):
            if rng.random() < 0.3:
                kept[i], kept[i + 1] = kept[i + 1], kept[i]
        order = failed + kept
    assert best is not None
    _, final, out = best
    occ.adopt(final)
    for pid in out:
        dur = options[pid].dur
        for t in (
            a.day * spd + a.minute // grid.instance.slot_minutes
            for a in out[pid]
            if a.kind == "dose"
        ):
            for x in range(t, t + dur):
                dose_load[x] += 1
    return out


def master_guided(
    instance: Instance,
    grid: Grid,
    time_limit: float,
    seed: int = 0,
    rounds: int = 4,
    base: list[Appointment] | None = None,
) -> tuple[dict[str, list[Appointment]], float | None]:
    """Rounds of master + construction: each round's master plans the patients still unbooked
    against the capacity the earlier rounds left. While time is left the construction starts
    again with another seed (the first master's days are reused; the per-day packing and the
    therapy orders differ) and the best attempt is kept. Patients with pre-booked appointments
    are left to the caller. Returns the courses and the first master's proven bound on Σ priority
    (an upper bound for any plan; with pre-booked courses, for any plan that keeps them).
    ``base`` holds the appointments already fixed (the pre-booked patients' whole courses): the
    construction works around them."""
    from trellis.core.scheduling.master import master_days

    start = time.perf_counter()
    deadline = start + time_limit
    patients = [p for p in instance.patients if not p.booked]
    if not patients:
        return {}, None
    prio_ids = {p.id for p in patients}
    pre_weight = sum(p.priority for p in instance.patients if p.booked)
    by_id = {p.id: p for p in instance.patients}

    def fresh() -> tuple[Occupancy, list[int]]:
        occ = Occupancy.empty(grid)
        load = [0] * grid.horizon
        for a in base or ():
            track = instance.tracks[by_id[a.patient].track]
            t, d = grid.slot(a.day, a.minute), grid.slots(track.minutes(a.kind))
            if a.kind == "dose":
                occ.take(a.patient, None, t, d)
                for x in range(t, min(t + d, grid.horizon)):
                    load[x] += 1
            else:
                occ.take(a.patient, a.staff[0] if a.staff else None, t, d)
        return occ, load

    occ0, load0 = fresh()
    bound: float | None = None
    if len(patients) == len(instance.patients):
        first_days, bound = master_days(instance, grid, time_limit / 2, patients)
    else:
        # Pre-booked courses: the first master plans everyone with them required on their
        # booked days (chair, window and therapy cuts see them), which also bounds every plan
        # that keeps them; if it finds nothing, plan the others against the capacity left.
        first_days, bound = master_days(
            instance, grid, time_limit / 3, list(instance.patients), required=True
        )
        if first_days:
            first_days = {pid: d for pid, d in first_days.items() if pid in prio_ids}
        else:
            bound = None
            first_days, _ = master_days(instance, grid, time_limit / 3, patients, load0)
    prio = {p.id: p.priority for p in patients}
    best: dict[str, list[Appointment]] = {}
    attempt = stale = 0
    while True:
        t0 = time.perf_counter()
        occ, dose_load = (occ0, load0) if attempt == 0 else fresh()
        booked: dict[str, list[Appointment]] = {}
        remaining = patients
        days = first_days
        for r in range(rounds):
            if r:
                left = deadline - time.perf_counter()
                if left < 1 or not remaining:
                    break
                days, _ = master_days(instance, grid, left / 2, remaining, dose_load)
            new = construct(instance, grid, days, occ, dose_load, seed + attempt, deadline=deadline)
            if not new:
                break
            booked |= new
            remaining = [p for p in remaining if p.id not in new]
        weight = sum(prio[pid] for pid in booked)
        if weight > sum(prio[pid] for pid in best):
            best, stale = booked, 0
        else:
            stale += 1
        attempt += 1
        # Stop at the bound, after two attempts without gain, or when another attempt as long
        # as this one would not fit in the time.
        if bound is not None and weight + pre_weight >= math.floor(bound + 1e-6):
            break
        if stale >= MAX_STALE or time.perf_counter() + (time.perf_counter() - t0) > deadline:
            break
    return best, bound

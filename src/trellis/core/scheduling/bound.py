"""An upper bound on the number of whole courses that can be completed (never a solution's value).

Capacity relaxation (``method = "capacity-knapsack"``): forget *when* sessions happen and keep only
how much of each scarce resource a course consumes over the horizon. Any valid plan satisfies:

- dose slots: Σ booked courses' dose slots ≤ Σ_t min(free chairs_t, nurse ratio × nurses_t)
  (chairs and the nurse monitoring ratio both cap the doses in progress in each slot);
- esketamine dose slots ≤ the same sum restricted to slots with a prescriber on site (REMS);
- therapy slots (preparation + integration): ≤ Σ_t min(free therapy rooms_t, free therapists_t);
- per language L: therapy slots of L-speaking patients ≤ Σ_t min(rooms_t, L-speaking therapists_t);
- release cuts: for each day d, courses of patients released on or after d use only capacity
  from day d on;
- horizon-end cuts: on days ≥ d a course fits at most as many doses as its minimum spacing
  allows on the open days left, so the rest of its dose slots use capacity before day d;
- a course that cannot be booked even in an empty clinic (a solo CP-SAT feasibility check) counts 0.

Every constraint holds for every valid plan, so the optimum of this multi-dimensional knapsack
(solved exactly by CP-SAT; it is small) is an upper bound on courses completed. If the knapsack
is not solved to optimality in time, its proven bound is returned instead, which is still valid.

``upper_bound`` also solves a day-level relaxation (``day_relaxation_bound``, method
``"day-relaxation-cpsat"``) and returns the smaller of the two valid bounds; on the 150-patient
benchmark CP-SAT does not prove it below the knapsack within 20 s, so the knapsack usually wins
there (on 6 small generated instances, 14 days and 20 patients, it was tighter on 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from trellis.core.scheduling.grid import Grid, build_grid
from trellis.core.scheduling.model import Instance, Patient


@dataclass(frozen=True)
class Bound:
    bound: int
    method: str
    optimal: bool
    solo_feasible: int


def solo_feasible(grid: Grid, patient: Patient, time_limit: float = 5.0) -> bool:
    """Can this course be booked at all in an otherwise empty clinic? (exact, via CP-SAT)."""
    from trellis.core.scheduling.cpsat import Model
    from trellis.core.scheduling.greedy import State, place_course

    fixed = {(a.kind, a.index): a for a in patient.booked}
    if place_course(State.empty(grid), patient, fixed) is not None:
        return True
    model = Model(grid)
    if model.add_course(patient, fixed, required=True) is None:
        return False
    model.add_resources()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    code = solver.solve(model.m)
    # UNKNOWN (timeout) must count as feasible to keep the bound valid.
    return code != cp_model.INFEASIBLE


def upper_bound(instance: Instance, time_limit: float = 20.0) -> Bound:
    """Upper bound on whole courses completable in ``instance``; see the module docstring."""
    g = build_grid(instance)
    h = g.horizon
    chairs = [sum(1 for c in g.chairs if g.room_run[c][t] > 0) for t in range(h)]
    dose_cap = [min(chairs[t], g.nurse_capacity[t]) for t in range(h)]
    esk_cap = [dose_cap[t] if g.prescriber_run[t] > 0 else 0 for t in range(h)]
    rooms = [sum(1 for r in g.therapy_rooms if g.room_run[r][t] > 0) for t in range(h)]
    languages = sorted({p.language for p in instance.patients})

    def therapists(lang: str | None) -> list[int]:
        ids = [
            s
            for s in g.therapists
            if lang is None or lang in (instance.staff_member(s) or _NO).languages
        ]
        return [min(rooms[t], sum(1 for s in ids if g.staff_run[s][t] > 0)) for t in range(h)]

    therapy_cap = therapists(None)
    lang_cap = {lang: therapists(lang) for lang in languages}

    candidates = [p for p in instance.patients if solo_feasible(g, p)]
    m = cp_model.CpModel()
    x = {p.id: m.new_bool_var(f"x_{p.id}") for p in candidates}

    def demand(p: Patient, kinds: tuple[str, ...]) -> int:
        t = instance.tracks[p.track]
        return sum(g.slots(t.minutes(k)) * t.count(k) for k in kinds)

    def esk(p: Patient) -> bool:
        return instance.tracks[p.track].drug == "esketamine" and (
            instance.prescriber_on_site_for_esketamine
        )

    release_days = sorted({max(0, p.release_day) for p in candidates})
    for d in release_days:
        lo = d * g.spd
        group = [p for p in candidates if max(0, p.release_day) >= d]
        m.add(sum(demand(p, ("dose",)) * x[p.id] for p in group) <= sum(dose_cap[lo:]))
        m.add(sum(demand(p, ("dose",)) * x[p.id] for p in group if esk(p)) <= sum(esk_cap[lo:]))
        therapy = ("preparation", "integration")
        m.add(sum(demand(p, therapy) * x[p.id] for p in group) <= sum(therapy_cap[lo:]))
        for lang in languages:
            m.add(
                sum(demand(p, therapy) * x[p.id] for p in group if p.language == lang)
                <= sum(lang_cap[lang][lo:])
            )
    # Horizon-end cuts: on days ≥ d a course can hold at most ``late(d)`` of its doses (spacing),
    # so the rest of its dose slots must fit in the capacity before day d.
    open_days = [
        day for day in range(instance.days) if any(g.open[day * g.spd : (day + 1) * g.spd])
    ]

    def late(track_id: str, d: int) -> int:
        t = instance.tracks[track_id]
        count, last = 0, None
        for day in open_days:
            if day >= d and (last is None or day - last >= t.dose_spacing_min_days):
                count, last = count + 1, day
        return min(count, t.dose_count)

    for d in open_days[1:]:
        early = sum(dose_cap[: d * g.spd])
        terms = []
        for p in candidates:
            t = instance.tracks[p.track]
            must_early = t.dose_count - late(p.track, d)
            if must_early > 0:
                terms.append(must_early * g.slots(t.dose_minutes) * x[p.id])
        if terms:
            m.add(sum(terms) <= early)
    m.maximize(sum(x.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    code = solver.solve(m)
    optimal = code == cp_model.OPTIMAL
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        value = math.floor(solver.best_objective_bound + 1e-6)
    else:
        value = len(candidates)
    knapsack = min(value, len(candidates))
    day, day_optimal = day_relaxation_bound(instance, time_limit, candidates)
    if day < knapsack:
        return Bound(
            bound=day,
            method="day-relaxation-cpsat",
            optimal=day_optimal,
            solo_feasible=len(candidates),
        )
    return Bound(
        bound=knapsack,
        method="capacity-knapsack",
        optimal=optimal,
        solo_feasible=len(candidates),
    )


class _NoStaff:
    languages: frozenset[str] = frozenset()


_NO = _NoStaff()


def day_relaxation_bound(
    instance: Instance,
    time_limit: float = 20.0,
    candidates: list[Patient] | None = None,
    solution: dict[str, int] | None = None,
) -> tuple[int, bool]:
    """Upper bound from a day-level relaxation (``method = "day-relaxation-cpsat"``).

    Every slot-level plan maps to a day-level plan (each session → the day it starts on) that
    satisfies all of these, so the relaxed optimum — or CP-SAT's proven bound on it — bounds
    the courses any plan completes. Kept exactly: release day, the start deadline, dose spacing
    in calendar days, preparations on or before dose 1's day, integration k on a day in
    [dose k's day, dose k's day + ⌊(latest closing minute + hours × 60) / 1440⌋], the horizon,
    and each session's possible days (patient, clinic and some suitable resource free for the
    whole session; pre-booked sessions on their day). Slot-level resources become per-day
    capacities: dose slots ≤ Σ_t min(chairs_t, ratio × nurses_t), esketamine dose slots only in
    prescriber-present slots, therapy slots ≤ Σ_t min(rooms_t, therapists_t), per language
    ≤ Σ_t min(rooms_t, L-speaking therapists_t), and a patient's session slots in a day ≤ their
    free slots that day. Returns (bound, optimal); never computed from a solution. If
    ``solution`` is given, it is filled with the relaxed plan found (patient → dose 1's day), a
    guide for the search — not a schedule.
    """
    g = build_grid(instance)
    h, spd = g.horizon, g.spd
    days = instance.days
    chairs = [sum(1 for c in g.chairs if g.room_run[c][t] > 0) for t in range(h)]
    dose_cap = [min(chairs[t], g.nurse_capacity[t]) for t in range(h)]
    esk_cap = [dose_cap[t] if g.prescriber_run[t] > 0 else 0 for t in range(h)]
    rooms = [sum(1 for r in g.therapy_rooms if g.room_run[r][t] > 0) for t in range(h)]

    def per_day(cap: list[int]) -> list[int]:
        return [sum(cap[d * spd : (d + 1) * spd]) for d in range(days)]

    def ther_cap(lang: str | None) -> list[int]:
        ids = [
            s
            for s in g.therapists
            if lang is None or lang in (instance.staff_member(s) or _NO).languages
        ]
        return per_day(
            [min(rooms[t], sum(1 for s in ids if g.staff_run[s][t] > 0)) for t in range(h)]
        )

    dose_day, esk_day, ther_day = per_day(dose_cap), per_day(esk_cap), ther_cap(None)
    pats = candidates if candidates is not None else list(instance.patients)
    languages = sorted({p.language for p in pats})
    lang_day = {lang: ther_cap(lang) for lang in languages}
    open_ends = [(t % spd + 1) * instance.slot_minutes for t in range(h) if g.open[t]]
    close_max = max(open_ends) if open_ends else 1440

    m = cp_model.CpModel()
    x: dict[str, cp_model.IntVar] = {}
    first: dict[str, cp_model.LinearExpr] = {}
    dose_load: list[list[cp_model.LinearExprT]] = [[] for _ in range(days)]
    esk_load: list[list[cp_model.LinearExprT]] = [[] for _ in range(days)]
    ther_load: list[list[cp_model.LinearExprT]] = [[] for _ in range(days)]
    lang_load: dict[str, list[list[cp_model.LinearExprT]]] = {
        lang: [[] for _ in range(days)] for lang in languages
    }
    for p in pats:
        t = instance.tracks[p.track]
        prun = g.patient_run(p)
        free_day = [
            sum(1 for s in range(d * spd, (d + 1) * spd) if prun[s] > 0) for d in range(days)
        ]
        fixed = {(a.kind, a.index): a.day for a in p.booked}
        xp = m.new_bool_var(f"x_{p.id}")
        day_expr: dict[tuple[str, int], cp_model.LinearExpr] = {}
        pat_load: list[list[cp_model.LinearExprT]] = [[] for _ in range(days)]
        ok = True
        esk = t.drug == "esketamine" and instance.prescriber_on_site_for_esketamine
        for kind, idx in t.sessions():
            starts = g.static_starts(p, t, kind, prun)
            if kind == "dose" and idx == 1 and t.start_within_hours is not None:
                deadline = p.release_day * 1440 + t.start_within_hours * 60
                starts = [
                    s
                    for s in starts
                    if (s // spd) * 1440 + (s % spd) * instance.slot_minutes <= deadline
                ]
            dset = sorted({s // spd for s in starts})
            if (kind, idx) in fixed:
                dset = [d for d in dset if d == fixed[(kind, idx)]]
            if not dset:
                ok = False
                break
            n = g.slots(t.minutes(kind))
            ys = {d: m.new_bool_var(f"y_{p.id}_{kind}{idx}_{d}") for d in dset}
            m.add(sum(ys.values()) == xp)
            day_expr[(kind, idx)] = cp_model.LinearExpr.weighted_sum(
                list(ys.values()), list(ys.keys())
            )
            for d, y in ys.items():
                pat_load[d].append(n * y)
                if kind == "dose":
                    dose_load[d].append(n * y)
                    if esk:
                        esk_load[d].append(n * y)
                else:
                    ther_load[d].append(n * y)
                    lang_load[p.language][d].append(n * y)
        if not ok:
            continue
        x[p.id] = xp
        first[p.id] = day_expr[("dose", 1)]
        for j in range(1, t.preparation_count + 1):
            m.add(day_expr[("preparation", j)] <= day_expr[("dose", 1)])
        offset = (close_max + t.integration_within_hours * 60) // 1440
        for k in range(1, t.dose_count + 1):
            dk, ik = day_expr[("dose", k)], day_expr[("integration", k)]
            m.add(ik >= dk)
            m.add(ik <= dk + offset).only_enforce_if(xp)
            if k < t.dose_count:
                nxt = day_expr[("dose", k + 1)]
                m.add(nxt - dk >= t.dose_spacing_min_days).only_enforce_if(xp)
                m.add(nxt - dk <= t.dose_spacing_max_days).only_enforce_if(xp)
        for d in range(days):
            if len(pat_load[d]) > 1:
                m.add(sum(pat_load[d]) <= free_day[d])
    for d in range(days):
        if dose_load[d]:
            m.add(sum(dose_load[d]) <= dose_day[d])
        if esk_load[d]:
            m.add(sum(esk_load[d]) <= esk_day[d])
        if ther_load[d]:
            m.add(sum(ther_load[d]) <= ther_day[d])
        for lang in languages:
            if lang_load[lang][d]:
                m.add(sum(lang_load[lang][d]) <= lang_day[lang][d])
    if not x:
        return 0, True
    m.maximize(sum(x.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    code = solver.solve(m)
    if code == cp_model.INFEASIBLE:  # only if pre-booked courses clash; no bound from here
        return len(x), False
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if solution is not None:
            for pid, xp in x.items():
                if solver.boolean_value(xp):
                    solution[pid] = int(solver.value(first[pid]))
        return min(len(x), math.floor(solver.best_objective_bound + 1e-6)), code == cp_model.OPTIMAL
    return len(x), False

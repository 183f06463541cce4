"""Day-level master problem: which days each booked course takes its doses on.

Doses are the clinic's scarce resource (chairs and the nurse monitoring ratio; CLINICAL.md §4),
and a dose never crosses midnight, so once every course's dose *days* are chosen, the slot-level
packing of doses falls apart into one small problem per day. This module chooses the days.

Per patient, the dose days form a path through a layered graph: layer k holds the days dose k may
take (release, start deadline, the patient's and the clinic's hours, some chair, nurse and — for
esketamine — prescriber free, room for the preparations before dose 1 and for an integration
session within the track's window after the dose), and an arc joins day d of layer k to day d' of
layer k + 1 when d' − d is inside the track's dose spacing. Choosing a course = sending one unit of
flow through its graph (a network polytope, so the linear relaxation is as strong as enumerating
every day pattern). Per day the doses must fit the clinic:

- dose slots ≤ Σ over the day's slots of min(free chairs, nurse ratio × nurses on duty);
- esketamine dose slots only where a prescriber is on site (Spravato REMS, CLINICAL.md §4);
- window cuts: for each distinct *footprint* W (the slots a patient's dose could occupy that
  day, e.g. a mornings-only patient's morning), the doses of every patient whose footprint lies
  inside W fit in W, in slots (Σ min(chairs, ratio × nurses) over W) and in count (per chair,
  ⌊free run / shortest dose⌋; per run of W, the largest ratio × nurses there × ⌊run / shortest
  dose⌋);
- therapy (preparation + integration) slots overall and per language within the capacity from
  each release day on (as in the knapsack bound).

Every valid slot-level plan maps to a feasible master solution (each dose → the day it is on),
so the master's optimum — or the MIP solver's proven bound on it — is an upper bound on the
courses any plan completes (``master_bound``). The same model, weighted by priority, guides the
CP-SAT optimiser (``master_days``).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp

from trellis.core.scheduling.grid import Grid, build_grid
from trellis.core.scheduling.model import Instance, Patient, Track


@dataclass
class DoseOptions:
    """Where one patient's doses may go, in an otherwise empty clinic."""

    patient: Patient
    track: Track
    dur: int  # dose length in slots
    layers: list[list[int]]  # layers[k - 1] = days dose k may take
    starts: dict[int, list[int]]  # day → dose starts (slots) valid for doses 2…n
    first_starts: dict[int, list[int]]  # day → dose starts valid for dose 1
    # (day, is dose 1) → the slots of that day (offsets) the dose could occupy
    footprint: dict[tuple[int, bool], frozenset[int]] = field(default_factory=dict)


def _valid_dose_starts(grid: Grid, p: Patient, track: Track) -> tuple[list[int], list[int]]:
    """(starts for any dose, starts for dose 1): static starts with an integration slot in reach;
    dose 1 also after the earliest possible end of the preparations and before the deadline."""
    prun = grid.patient_run(p)
    inst = grid.instance
    dur = grid.slots(track.dose_minutes)
    within = track.integration_within_hours * 60 // inst.slot_minutes
    dose_static = grid.static_starts(p, track, "dose", prun)
    integ = grid.static_starts(p, track, "integration", prun)
    ok = []
    for s in dose_static:
        i = bisect_left(integ, s + dur)
        if i < len(integ) and integ[i] <= s + dur + within:
            ok.append(s)
    prep = grid.static_starts(p, track, "preparation", prun)
    pdur = grid.slots(track.preparation_minutes)
    earliest = max(0, p.release_day) * grid.spd
    booked = {(a.kind, a.index): grid.slot(a.day, a.minute) for a in p.booked}
    if booked:
        # Pre-booked sessions stand wherever they were booked: keep their dose starts and do
        # not tighten dose 1 by the preparations (a relaxation stays a relaxation).
        extra = [t for (kind, _), t in booked.items() if kind == "dose"]
        ok = sorted(set(ok) | set(extra))
        prep = []
    for j in range(1, track.preparation_count + 1 if prep else 1):
        # Each preparation starts inside its care-plan window, after the one before it.
        lo, hi = grid.start_range(p, "preparation", j)
        i = bisect_left(prep, max(earliest, lo))
        if i == len(prep) or prep[i] > hi:
            return ok, []
        earliest = prep[i] + pdur
    first = [s for s in ok if s >= earliest]
    if track.start_within_hours is not None and ("dose", 1) not in booked:
        deadline = p.release_day * grid.spd + track.start_within_hours * 60 // inst.slot_minutes
        first = [s for s in first if s <= deadline]
    return ok, first


def dose_options(grid: Grid, p: Patient) -> DoseOptions | None:
    """The patient's layered day graph, pruned to days on some complete path; None if empty."""
    inst = grid.instance
    track = inst.tracks[p.track]
    spd = grid.spd
    ok, first = _valid_dose_starts(grid, p, track)
    booked = {a.index: grid.slot(a.day, a.minute) for a in p.booked if a.kind == "dose"}
    by_day: dict[int, list[int]] = defaultdict(list)
    for s in ok:
        by_day[s // spd].append(s)
    first_by_day: dict[int, list[int]] = defaultdict(list)
    for s in first:
        first_by_day[s // spd].append(s)
    for k, t in booked.items():  # a pre-booked dose stands where it is
        target = first_by_day if k == 1 else by_day
        if t not in target[t // spd]:
            target[t // spd].append(t)
    n = track.dose_count
    layers: list[set[int]] = []
    within_days = (track.integration_within_hours * 60 + 1440) // 1440
    for k in range(1, n + 1):
        source = first_by_day if k == 1 else by_day
        days = set(source)
        if k in booked:
            days = {booked[k] // spd}
        else:
            # The care plan's windows: dose k's days, and days from which integration k's
            # window is still in reach (a relaxation of the slot-level rule).
            dw, iw = p.window("dose", k), p.window("integration", k)
            days = {
                d
                for d in days
                if (dw is None or dw.holds(d))
                and (
                    iw is None
                    or (
                        (iw.latest is None or d <= iw.latest)
                        and (iw.earliest is None or d + within_days >= iw.earliest)
                    )
                )
            }
        layers.append(days)
    lo, hi = track.dose_spacing_min_days, track.dose_spacing_max_days
    for k in range(1, n):  # forward
        layers[k] = {d for d in layers[k] if any(d - hi <= e <= d - lo for e in layers[k - 1])}
    for k in range(n - 2, -1, -1):  # backward
        layers[k] = {d for d in layers[k] if any(d + lo <= e <= d + hi for e in layers[k + 1])}
    if any(not layer for layer in layers):
        return None
    opts = DoseOptions(
        p,
        track,
        grid.slots(track.dose_minutes),
        [sorted(layer) for layer in layers],
        dict(by_day),
        dict(first_by_day),
    )
    for k, layer in enumerate(opts.layers, start=1):
        source = first_by_day if k == 1 else by_day
        for d in layer:
            slots: set[int] = set()
            for s in source[d]:
                slots.update(range(s - d * spd, s - d * spd + opts.dur))
            opts.footprint[(d, k == 1)] = frozenset(slots)
    return opts


@dataclass
class Master:
    """The day-level MIP over some patients (see the module docstring)."""

    solver: pywraplp.Solver
    options: dict[str, DoseOptions]
    x: dict[str, pywraplp.Variable]
    y: dict[tuple[str, int, int], pywraplp.Variable]  # (patient, dose index, day)


def _count_cap(
    grid: Grid,
    day: int,
    window: frozenset[int],
    dmin: int,
    dose_cap: list[int],
    chairs: bool = True,
) -> int:
    """At most this many doses of ≥ ``dmin`` slots lie inside ``window`` (slots of ``day``):
    per chair the free stretches' ⌊length / dmin⌋, and per run of the window its largest
    capacity × ⌊run / dmin⌋ (a constant capacity c is c machines)."""
    spd = grid.spd
    runs: list[tuple[int, int]] = []  # contiguous runs of the window (offsets)
    for o in sorted(window):
        if runs and runs[-1][1] == o:
            runs[-1] = (runs[-1][0], o + 1)
        else:
            runs.append((o, o + 1))
    by_chair = 0 if chairs else 1 << 30
    for c in grid.chairs if chairs else ():
        run = grid.room_run[c]
        for a, b in runs:
            o = a
            while o < b:  # free stretches of this chair inside the run
                t = day * spd + o
                if run[t] <= 0:
                    o += 1
                    continue
                length = min(run[t], b - o)
                by_chair += length // dmin
                o += length
    by_nurse = 0
    for a, b in runs:
        top = max(dose_cap[day * spd + o] for o in range(a, b))
        by_nurse += top * ((b - a) // dmin)
    return min(by_chair, by_nurse)


def build_master(
    instance: Instance,
    grid: Grid | None = None,
    patients: list[Patient] | None = None,
    weights: dict[str, float] | None = None,
    solver_id: str = "HIGHS",
    background: list[int] | None = None,
    required: bool = False,
) -> Master | None:
    """Build the master MIP; ``weights`` (default 1 per course) set the objective.

    ``background`` (the optimiser's later rounds) counts doses already booked in each slot; the
    capacities are what is left. With it the chair-count cut is skipped (chairs are pooled).
    ``required``: patients with pre-booked appointments must be booked (every valid plan
    completes them), which keeps the model a relaxation of the plans around them."""
    g = grid or build_grid(instance)
    spd = g.spd
    solver = pywraplp.Solver.CreateSolver(solver_id)
    if solver is None:  # pragma: no cover - OR-Tools always ships HiGHS and SCIP
        solver = pywraplp.Solver.CreateSolver("SCIP")
    if solver is None:  # pragma: no cover
        return None
    # No solver log on stdout (``trellis schedule bound --format json`` prints JSON there).
    # OR-Tools reports False for this HiGHS option string although HiGHS applies it.
    solver.SetSolverSpecificParametersAsString("output_flag=false")
    pats = patients if patients is not None else list(instance.patients)
    options: dict[str, DoseOptions] = {}
    for p in pats:
        o = dose_options(g, p)
        if o is not None:
            options[p.id] = o
    dose_cap, esk_cap = g.dose_capacity()
    if background is not None:
        dose_cap = [max(0, c - b) for c, b in zip(dose_cap, background, strict=True)]
        esk_cap = [min(e, c) for e, c in zip(esk_cap, dose_cap, strict=True)]
    x: dict[str, pywraplp.Variable] = {}
    y: dict[tuple[str, int, int], pywraplp.Variable] = {}
    # day → (patient, footprint, y) for every dose that may fall on it
    day_terms: dict[int, list[tuple[str, frozenset[int], pywraplp.Variable]]] = defaultdict(list)
    for pid, o in options.items():
        n = o.track.dose_count
        lo, hi = o.track.dose_spacing_min_days, o.track.dose_spacing_max_days
        xp = solver.IntVar(1 if required and o.patient.booked else 0, 1, f"x_{pid}")
        x[pid] = xp
        for k in range(1, n + 1):
            for d in o.layers[k - 1]:
                var = (
                    solver.IntVar(0, 1, f"y_{pid}_{k}_{d}")
                    if n == 1
                    else solver.NumVar(0, 1, f"y_{pid}_{k}_{d}")
                )
                y[(pid, k, d)] = var
                day_terms[d].append((pid, o.footprint[(d, k == 1)], var))
        solver.Add(sum(y[(pid, 1, d)] for d in o.layers[0]) == xp)
        for k in range(1, n):
            outgoing: dict[int, list[pywraplp.Variable]] = defaultdict(list)
            incoming: dict[int, list[pywraplp.Variable]] = defaultdict(list)
            for d in o.layers[k - 1]:
                for e in o.layers[k]:
                    if lo <= e - d <= hi:
                        z = solver.IntVar(0, 1, f"z_{pid}_{k}_{d}_{e}")
                        outgoing[d].append(z)
                        incoming[e].append(z)
            for d in o.layers[k - 1]:
                solver.Add(y[(pid, k, d)] == sum(outgoing[d]))
            for e in o.layers[k]:
                solver.Add(y[(pid, k + 1, e)] == sum(incoming[e]))

    for d, terms in day_terms.items():
        day_slots = range(d * spd, (d + 1) * spd)
        cap = sum(dose_cap[t] for t in day_slots)
        solver.Add(sum(options[pid].dur * v for pid, _, v in terms) <= cap)
        esk = [(pid, v) for pid, _, v in terms if options[pid].track.drug == "esketamine"]
        if esk and instance.prescriber_on_site_for_esketamine:
            solver.Add(
                sum(options[pid].dur * v for pid, v in esk) <= sum(esk_cap[t] for t in day_slots)
            )
        for window in {f for _, f, _ in terms}:
            inside = [(pid, v) for pid, f, v in terms if f <= window]
            slots = sum(dose_cap[d * spd + o] for o in window)
            solver.Add(sum(options[pid].dur * v for pid, v in inside) <= slots)
            dmin = min(options[pid].dur for pid, _ in inside)
            count = _count_cap(g, d, window, dmin, dose_cap, chairs=background is None)
            if count < len(inside):
                solver.Add(sum(v for _, v in inside) <= count)

    _therapy_rows(g, solver, options, x)
    w = weights or {}
    solver.Maximize(sum(w.get(pid, 1.0) * v for pid, v in x.items()))
    return Master(solver, options, x, y)


def _therapy_rows(
    g: Grid,
    solver: pywraplp.Solver,
    options: dict[str, DoseOptions],
    x: dict[str, pywraplp.Variable],
) -> None:
    """Therapy slots (preparation + integration) within the capacity from each release day on,
    overall and per language: min(free therapy rooms, free suitable therapists) per slot."""

    def demand(o: DoseOptions) -> int:
        t = o.track
        return (
            g.slots(t.preparation_minutes) * t.preparation_count
            + g.slots(t.integration_minutes) * t.dose_count
        )

    caps: dict[str | None, list[int]] = {None: g.therapy_capacity()}
    for language in sorted({o.patient.language for o in options.values()}):
        caps[language] = g.therapy_capacity(language)
    releases = sorted({max(0, o.patient.release_day) for o in options.values()})
    for lang, profile in caps.items():
        for r in releases:
            group = [
                o
                for o in options.values()
                if max(0, o.patient.release_day) >= r
                and (lang is None or o.patient.language == lang)
            ]
            if group:
                solver.Add(
                    sum(demand(o) * x[o.patient.id] for o in group) <= sum(profile[r * g.spd :])
                )


def master_bound(instance: Instance, time_limit: float = 30.0) -> tuple[int, bool]:
    """(upper bound on courses completed, proven optimal): the master's MIP bound, floored."""
    master = build_master(instance)
    if master is None or not master.x:
        return 0, True
    s = master.solver
    s.SetTimeLimit(int(time_limit * 1000))
    code = s.Solve()
    if code in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        # The dual bound, not the incumbent: with a relative gap tolerance the solver may stop
        # with the incumbent a fraction below the bound; counts are integers, so floor it.
        best = math.floor(s.Objective().BestBound() + 1e-6)
        return min(len(master.x), best), code == pywraplp.Solver.OPTIMAL
    return len(master.x), False


def master_days(
    instance: Instance,
    grid: Grid,
    time_limit: float,
    patients: list[Patient] | None = None,
    background: list[int] | None = None,
    required: bool = False,
) -> tuple[dict[str, dict[int, int]], float | None]:
    """The optimiser's guide: (patient → {dose index → day} for the courses the master books,
    maximising Σ priority; the MIP's proven bound on Σ priority). Empty when the MIP finds
    nothing in time. Without ``background`` and over all patients, the bound is an upper bound
    on Σ priority of any valid plan's courses."""
    pats = patients if patients is not None else list(instance.patients)
    weights = {p.id: float(p.priority) for p in pats}
    master = build_master(instance, grid, pats, weights, background=background, required=required)
    if master is None or not master.x:
        return {}, 0.0
    s = master.solver
    s.SetTimeLimit(max(1, int(time_limit * 1000)))
    code = s.Solve()
    if code not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):
        return {}, None
    bound = s.Objective().Value() if code == pywraplp.Solver.OPTIMAL else s.Objective().BestBound()
    out: dict[str, dict[int, int]] = {}
    for pid, xv in master.x.items():
        if xv.solution_value() < 0.5:
            continue
        o = master.options[pid]
        out[pid] = {
            k: d
            for k in range(1, o.track.dose_count + 1)
            for d in o.layers[k - 1]
            if master.y[(pid, k, d)].solution_value() > 0.5
        }
    return out, bound

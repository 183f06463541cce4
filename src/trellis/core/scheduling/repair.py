"""Repair after a cancellation: re-plan one patient's course with every other appointment fixed.

Minimal change: sessions keep their time, room and therapist where they can; the objective counts
moved sessions first, a change of therapist next (continuity of the therapeutic relationship),
then how far sessions move. Sessions before ``not_before`` (already happened) and the patient's
pre-booked appointments (other than the cancelled one) never move. The cancelled session may not
return to its old start. No other patient's appointment changes: the result contains them as they
were, object for object.
"""

from __future__ import annotations

import time

from ortools.sat.python import cp_model

from trellis.core.errors import Conflict, InvalidInput
from trellis.core.scheduling.cpsat import Background, Model, colour
from trellis.core.scheduling.grid import build_grid
from trellis.core.scheduling.model import Appointment, Instance, Plan

MOVE_COST = 10_000


def repair(
    instance: Instance,
    plan: Plan,
    patient_id: str,
    cancelled: tuple[str, int] | None = None,
    not_before: tuple[int, int] | None = None,
    time_limit: float = 10.0,
) -> Plan:
    """Re-plan ``patient_id``'s course in ``plan`` (see the module docstring).

    ``cancelled`` is the (kind, index) that cannot take place at its booked time; ``not_before`` a
    (day, minute): the patient's sessions starting before it stay. Raises :class:`InvalidInput` for
    an unknown patient or session and :class:`Conflict` when no repair exists.
    """
    t0 = time.perf_counter()
    patient = instance.patient(patient_id)
    if patient is None:
        raise InvalidInput("patient", f"{patient_id!r} is not in the instance")
    track = instance.tracks[patient.track]
    mine = {a.key[1:]: a for a in plan.appointments if a.patient == patient_id}
    if cancelled is not None and cancelled not in mine:
        raise InvalidInput(
            "appointment", f"{patient_id} has no {cancelled[0]}#{cancelled[1]} in the plan"
        )
    grid = build_grid(instance)
    cutoff = None if not_before is None else grid.slot(*not_before)
    fixed: dict[tuple[str, int], Appointment] = {}
    for key, a in mine.items():
        if key == cancelled:
            continue
        past = cutoff is not None and grid.slot(a.day, a.minute) < cutoff
        if past or a in patient.booked:
            fixed[key] = a
    forbidden: set[tuple[str, int, int]] = set()
    if cancelled is not None:
        old = mine[cancelled]
        forbidden.add((cancelled[0], cancelled[1], grid.slot(old.day, old.minute)))
    if cutoff is not None:
        # Sessions not yet held cannot move into the past.
        for kind, index in track.sessions():
            if (kind, index) not in fixed:
                forbidden.update((kind, index, t) for t in range(cutoff))

    bg = Background(grid)
    others = [a for a in plan.appointments if a.patient != patient_id]
    for a in others:
        other = instance.patient(a.patient)
        if other is not None and a.kind in ("preparation", "dose", "integration"):
            bg.add(grid, a, instance.tracks[other.track].minutes(a.kind), pin_rooms=True)

    model = Model(grid, bg)
    course = model.add_course(patient, fixed, forbidden, required=True)
    if course is None:
        raise Conflict(f"patient {patient_id}: no slot left for the course around the others")
    model.add_resources()
    m = model.m
    costs = []
    for key, sess in course.sessions.items():
        old_appt = mine.get(key)
        if old_appt is None or key in fixed:
            continue
        t_old = grid.slot(old_appt.day, old_appt.minute)
        moved = m.new_bool_var(f"moved_{key[0]}{key[1]}")
        m.add(sess.start == t_old).only_enforce_if(~moved)
        shift = m.new_int_var(0, grid.horizon, f"shift_{key[0]}{key[1]}")
        m.add_abs_equality(shift, sess.start - t_old)
        costs += [MOVE_COST * moved, shift]
        m.add_hint(sess.start, t_old)
    old_ther = next((a.staff[0] for a in mine.values() if a.kind != "dose" and a.staff), None)
    if old_ther is not None and old_ther in course.therapist and len(course.therapist) > 1:
        costs.append(MOVE_COST * (1 - course.therapist[old_ther]))
    if costs:
        m.minimize(sum(costs))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = 2
    code = solver.solve(m)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise Conflict(f"patient {patient_id}: no repair found with everyone else fixed")
    new = model.extract(solver)[patient_id]
    # Unmoved sessions keep their room; moved ones get a free room of the right kind.
    keep = []
    for a in new:
        old_appt = mine.get((a.kind, a.index))
        if (
            a.room is None
            and old_appt is not None
            and (old_appt.day, old_appt.minute) == (a.day, a.minute)
        ):
            a = Appointment(a.patient, a.kind, a.index, a.day, a.minute, old_appt.room, a.staff)
        keep.append(a)
    placed = colour(grid, {patient_id: keep}, {patient_id}, bg)
    return Plan(
        tuple(others) + tuple(placed),
        method="repair",
        status="optimal" if code == cp_model.OPTIMAL else "feasible",
        objective=int(solver.objective_value) if costs else 0,
        bound=None,
        solve_seconds=time.perf_counter() - t0,
    )

"""Scheduling benchmark: greedy baseline vs CP-SAT vs the upper bound on congested clinic-months.

Plain script, not a test (it measures wall-clock time):

    python bench/scheduling.py            # seeds 1-5: 28 days, 6 chairs, 3 nurses, 5 therapists,
                                          # 150 patients with care-plan windows, 30 s; each seed
                                          # on an empty month and with a third pre-booked
    python bench/scheduling.py --quick    # 1 small seed, 10 s
    python bench/scheduling.py --no-windows --prebooked 0   # the months without care plans

Prints a markdown table. Every patient carries the date windows its care plan gives each
session (``generate_instance(windows=True)``: the pathway engine's windows). A pre-booked month
first books a third of what the month can hold (first-fit, in a seeded random order of
referrals), then hands the whole month to the solvers with those courses as ``booked``
appointments that must stay, as the booking app does when it re-plans around accepted
appointments. Ratios are against the greedy baseline measured in the same run; every plan is
checked by the independent verifier before it is counted. ``new / (bound − pre)`` counts only
the courses booked on top of the pre-booked ones. ``CPU s`` is the solver process's CPU time
(up to 2 × the wall time with CP-SAT's 2 workers on an idle 2-core machine; much less when
other work shares the cores).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

from trellis.core.scheduling import generate_instance, parse_instance, solve_greedy, verify
from trellis.core.scheduling.bound import upper_bound
from trellis.core.scheduling.cpsat import solve_cpsat
from trellis.core.scheduling.model import appointment_to_json


def prebook(data: dict[str, Any], share: float, seed: int) -> tuple[dict[str, Any], int]:
    """``data`` with about ``share`` of the courses the month can hold already booked: the desk
    books courses first-fit in a seeded random order (referrals that came in earlier) until it
    holds ``share`` × the empty month's course bound. Returns the instance and how many."""
    from trellis.core.scheduling.greedy import State, place_course
    from trellis.core.scheduling.grid import build_grid
    from trellis.core.scheduling.master import master_bound

    inst = parse_instance(data)
    target = round(share * master_bound(inst)[0])
    rng = random.Random(seed * 7919 + 1)
    order = list(inst.patients)
    rng.shuffle(order)
    state = State.empty(build_grid(inst))
    by_patient: dict[str, list[dict[str, Any]]] = {}
    for p in order:
        if len(by_patient) >= target:
            break
        course = place_course(state, p)
        if course is None:
            continue
        track = inst.tracks[p.track]
        for a in course:
            state.occupy(p, a, track.minutes(a.kind))
        by_patient[p.id] = [appointment_to_json(inst, a) for a in course]
    out = dict(data)
    out["patients"] = [
        {**p, "booked": [{k: v for k, v in b.items() if k != "end"} for b in by_patient[p["id"]]]}
        if p["id"] in by_patient
        else p
        for p in data["patients"]
    ]
    return out, len(by_patient)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small instance, 10 s")
    parser.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated seeds")
    parser.add_argument("--time-limit", type=float, default=None, help="CP-SAT seconds (30)")
    parser.add_argument(
        "--no-windows", action="store_true", help="without the care plans' date windows"
    )
    parser.add_argument(
        "--prebooked",
        default="0,0.33",
        help="comma-separated shares of pre-booked courses per seed (default 0,0.33)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        seeds, size, limit = (
            [1],
            {"days": 28, "chairs": 3, "nurses": 2, "therapists": 3, "patients": 40},
            10.0,
        )
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
        size, limit = {"days": 28, "chairs": 6, "nurses": 3, "therapists": 5, "patients": 150}, 30.0
    limit = args.time_limit or limit
    shares = [float(s) for s in args.prebooked.split(",")]

    print(
        "| instance | patients | pre-booked | greedy courses | CP-SAT courses | bound "
        "| CP-SAT/greedy | CP-SAT/bound | new/(bound − pre) | CP-SAT status | solve s "
        "| CPU s | bound method |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    for seed in seeds:
        for share in shares:
            data = generate_instance(seed, **size, windows=not args.no_windows)
            pre = 0
            if share > 0:
                data, pre = prebook(data, share, seed)
            inst = parse_instance(data)
            greedy = solve_greedy(inst)
            g = verify(inst, greedy)
            t0, c0 = time.perf_counter(), time.process_time()
            best = solve_cpsat(inst, time_limit=limit, seed=seed)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            c = verify(inst, best)
            if not (g.valid and c.valid):
                bad = (g.violations or c.violations)[:3]
                print(f"seed {seed}: INVALID PLAN {[v.to_json() for v in bad]}", file=sys.stderr)
                return 1
            found = upper_bound(inst)
            bound = found.bound
            ratio = c.courses_complete / g.courses_complete if g.courses_complete else float("nan")
            share_of_bound = c.courses_complete / bound if bound else float("nan")
            new = (c.courses_complete - pre) / (bound - pre) if bound > pre else float("nan")
            name = f"seed {seed}, {size['days']} d, {size['chairs']} chairs"
            print(
                f"| {name} | {len(inst.patients)} | {pre} | {g.courses_complete} "
                f"| {c.courses_complete} | {bound} | {ratio:.2f} | {share_of_bound:.3f} "
                f"| {new:.3f} | {best.status} | {seconds:.1f} | {cpu:.1f} | {found.method} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

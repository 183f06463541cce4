"""Scheduling benchmark: greedy baseline vs CP-SAT vs the upper bound on congested clinic-months.

Plain script, not a test (it measures wall-clock time):

    python bench/scheduling.py            # 3 seeds: 28 days, 6 chairs, 3 nurses,
                                          # 5 therapists, 150 patients, 60 s
    python bench/scheduling.py --quick    # 1 small seed, 10 s

Prints a markdown table. Ratios are against the greedy baseline measured in the same run; every
plan is checked by the independent verifier before it is counted.
"""

from __future__ import annotations

import argparse
import sys
import time

from trellis.core.scheduling import generate_instance, parse_instance, solve_greedy, verify
from trellis.core.scheduling.bound import upper_bound
from trellis.core.scheduling.cpsat import solve_cpsat


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small instance, 10 s")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (default 1,2,3)")
    parser.add_argument("--time-limit", type=float, default=None, help="CP-SAT seconds")
    args = parser.parse_args(argv)
    if args.quick:
        seeds, size, limit = (
            [1],
            {"days": 14, "chairs": 3, "nurses": 2, "therapists": 3, "patients": 40},
            10.0,
        )
    else:
        seeds = [int(s) for s in args.seeds.split(",")]
        size, limit = {"days": 28, "chairs": 6, "nurses": 3, "therapists": 5, "patients": 150}, 60.0
    limit = args.time_limit or limit

    print(
        "| instance | patients | greedy courses | CP-SAT courses | bound | CP-SAT/greedy "
        "| CP-SAT/bound | CP-SAT status | solve s | bound method |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    for seed in seeds:
        inst = parse_instance(generate_instance(seed, **size))
        greedy = solve_greedy(inst)
        g = verify(inst, greedy)
        t0 = time.perf_counter()
        best = solve_cpsat(inst, time_limit=limit, seed=seed)
        seconds = time.perf_counter() - t0
        c = verify(inst, best)
        if not (g.valid and c.valid):
            print(f"seed {seed}: INVALID PLAN", file=sys.stderr)
            return 1
        found = upper_bound(inst)
        bound = found.bound
        ratio = c.courses_complete / g.courses_complete if g.courses_complete else float("nan")
        share = c.courses_complete / bound if bound else float("nan")
        name = f"seed {seed}, {size['days']} d, {size['chairs']} chairs"
        print(
            f"| {name} | {len(inst.patients)} | {g.courses_complete} | {c.courses_complete} "
            f"| {bound} | {ratio:.2f} | {share:.2f} | {best.status} | {seconds:.1f} "
            f"| {found.method} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

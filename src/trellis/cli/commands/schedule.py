"""``trellis schedule``: generate instances, solve, verify, bound and repair clinic schedules.

The pure work is in :mod:`trellis.core.scheduling`; this module only reads and writes files.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from trellis.cli.common import add_format_argument, emit, read_json_file, sub
from trellis.core.errors import Conflict, InvalidInput
from trellis.core.numbers import strict_whole
from trellis.core.scheduling.model import Instance, Plan, parse_instance, parse_plan, plan_to_json

EXIT_INVALID_PLAN = 1


def register(subparsers: Any) -> None:
    p = sub(subparsers, "schedule", "Book whole courses: preparation, doses and integration")
    inner = p.add_subparsers(dest="schedule_command", metavar="ACTION")

    g = sub(inner, "generate", "Write a seeded synthetic clinic-month instance")
    g.add_argument("--seed", required=True, help="random seed (integer)")
    g.add_argument("--days", default="28", help="horizon in days (default 28)")
    g.add_argument("--chairs", default="6", help="dosing chairs (default 6)")
    g.add_argument("--nurses", default="3", help="nurses (default 3)")
    g.add_argument("--therapists", default="5", help="therapists (default 5)")
    g.add_argument("--patients", default="150", help="patients (default 150)")
    g.add_argument(
        "--start-date", default="2026-02-02", help="first day (ISO date, default a Monday)"
    )
    g.add_argument(
        "--windows",
        action="store_true",
        help="give every patient its care-plan date windows (from the pathway engine)",
    )
    g.add_argument("--out", required=True, help="instance file to write ('-' for stdout)")
    add_format_argument(g)
    g.set_defaults(func=run_generate)

    s = sub(inner, "solve", "Solve an instance with the greedy baseline or the CP-SAT optimiser")
    s.add_argument("instance", metavar="INSTANCE")
    s.add_argument("--method", required=True, choices=["cpsat", "greedy"])
    s.add_argument("--time-limit", default="60", help="CP-SAT time limit in seconds (default 60)")
    s.add_argument("--out", required=True, help="plan file to write ('-' for stdout)")
    add_format_argument(s)
    s.set_defaults(func=run_solve)

    v = sub(inner, "verify", "Check a plan against every hard constraint (exit 1 when violated)")
    v.add_argument("instance", metavar="INSTANCE")
    v.add_argument("plan", metavar="PLAN")
    add_format_argument(v)
    v.set_defaults(func=run_verify)

    b = sub(inner, "bound", "Upper bound on the courses that can be completed")
    b.add_argument("instance", metavar="INSTANCE")
    b.add_argument("--time-limit", default="20", help="seconds for the bound model (default 20)")
    add_format_argument(b)
    b.set_defaults(func=run_bound)

    r = sub(inner, "repair", "Re-plan one patient after a cancellation, everything else fixed")
    r.add_argument("instance", metavar="INSTANCE")
    r.add_argument("plan", metavar="PLAN")
    r.add_argument("--patient", required=True, help="the affected patient's id")
    r.add_argument(
        "--appointment", help="the cancelled session as KIND#INDEX (e.g. dose#3); default: none"
    )
    r.add_argument("--not-before", help="keep the patient's sessions before this ISO date-time")
    r.add_argument("--time-limit", default="10", help="seconds (default 10)")
    r.add_argument("--out", required=True, help="plan file to write ('-' for stdout)")
    add_format_argument(r)
    r.set_defaults(func=run_repair)

    p.set_defaults(func=lambda args: _missing_action(p))


def _missing_action(parser: argparse.ArgumentParser) -> int:
    raise InvalidInput("schedule", "choose an action: generate, solve, verify, bound or repair")


# --------------------------------------------------------------------------- helpers
def _int_flag(value: str, flag: str, lo: int, hi: int) -> int:
    parsed = strict_whole(value)  # ASCII digits only (trellis.core.numbers)
    if parsed is None:
        raise InvalidInput(flag, f"must be an integer, got {value!r}")
    number = parsed
    if not lo <= number <= hi:
        raise InvalidInput(flag, f"must be between {lo} and {hi}, got {number}")
    return number


def _seconds(value: str, flag: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(flag, f"must be a number of seconds, got {value!r}") from None
    if not 0 < number <= 3600:
        raise InvalidInput(flag, f"must be more than 0 and at most 3600 seconds, got {value}")
    return number


def load_instance_file(path: str, field: str = "INSTANCE") -> Instance:
    data = read_json_file(path, field)
    try:
        return parse_instance(data)
    except InvalidInput as exc:
        raise InvalidInput(f"{field} {path}: {exc.field}", exc.detail) from exc


def load_plan_file(path: str, instance: Instance, field: str = "PLAN") -> Plan:
    data = read_json_file(path, field)
    try:
        return parse_plan(data, instance)
    except InvalidInput as exc:
        raise InvalidInput(f"{field} {path}: {exc.field}", exc.detail) from exc


def _write_json(path: str, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput("--out", f"cannot write {path}: {exc.strerror or exc}") from exc


def _emit_unless_stdout(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.out != "-":
        emit(data, args.format, text=text)


# --------------------------------------------------------------------------- actions
def run_generate(args: argparse.Namespace) -> int:
    from trellis.core.scheduling.generate import generate_instance

    seed = _int_flag(args.seed, "--seed", 0, 2**63 - 1)
    days = _int_flag(args.days, "--days", 1, 366)
    chairs = _int_flag(args.chairs, "--chairs", 1, 200)
    nurses = _int_flag(args.nurses, "--nurses", 1, 200)
    therapists = _int_flag(args.therapists, "--therapists", 1, 200)
    patients = _int_flag(args.patients, "--patients", 0, 20000)
    try:
        start = date.fromisoformat(args.start_date)
    except ValueError:
        raise InvalidInput(
            "--start-date", f"must be an ISO date YYYY-MM-DD, got {args.start_date!r}"
        ) from None
    data = generate_instance(
        seed, days, chairs, nurses, therapists, patients, start, windows=args.windows
    )
    _write_json(args.out, data)
    summary = {
        "out": args.out,
        "seed": seed,
        "days": days,
        "patients": patients,
        "rooms": len(data["rooms"]),
        "staff": len(data["staff"]),
    }
    _emit_unless_stdout(
        args, summary, f"Wrote {args.out}: {patients} patients over {days} days (seed {seed})."
    )
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from trellis.core.scheduling.verify import verify

    time_limit = _seconds(args.time_limit, "--time-limit")
    instance = load_instance_file(args.instance)
    try:
        if args.method == "greedy":
            from trellis.core.scheduling.greedy import solve_greedy

            plan = solve_greedy(instance)
        else:
            from trellis.core.scheduling.cpsat import solve_cpsat

            plan = solve_cpsat(instance, time_limit=time_limit)
    except Conflict as exc:
        raise InvalidInput("INSTANCE", exc.message) from exc
    check = verify(instance, plan)
    _write_json(args.out, plan_to_json(instance, plan, check.courses_complete))
    summary = {
        "out": args.out,
        "method": plan.method,
        "status": plan.status,
        "courses_complete": check.courses_complete,
        "patients": check.patients,
        "valid": check.valid,
        "objective": plan.objective,
        "bound": plan.bound,
        "solve_seconds": None if plan.solve_seconds is None else round(plan.solve_seconds, 3),
    }
    _emit_unless_stdout(
        args,
        summary,
        f"{plan.method} ({plan.status}): {check.courses_complete} of {check.patients} courses "
        f"booked in {summary['solve_seconds']} s; plan {'verifies' if check.valid else 'INVALID'}; "
        f"written to {args.out}.",
    )
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from trellis.core.scheduling.verify import verify

    instance = load_instance_file(args.instance)
    plan = load_plan_file(args.plan, instance)
    result = verify(instance, plan)
    lines = [
        f"{'VALID' if result.valid else 'INVALID'}: {result.courses_complete} of {result.patients} "
        f"courses complete, {len(result.violations)} violation(s)."
    ]
    lines += [
        f"  {v.constraint}: {v.appointment or v.patient or ''} {v.message}".rstrip()
        for v in result.violations
    ]
    emit(result.to_json(), args.format, text="\n".join(lines))
    return 0 if result.valid else EXIT_INVALID_PLAN


def run_bound(args: argparse.Namespace) -> int:
    from trellis.core.scheduling.bound import upper_bound

    time_limit = _seconds(args.time_limit, "--time-limit")
    instance = load_instance_file(args.instance)
    result = upper_bound(instance, time_limit=time_limit)
    emit(
        {"bound": result.bound, "method": result.method, "patients": len(instance.patients)},
        args.format,
        text=f"At most {result.bound} of {len(instance.patients)} courses can be completed "
        f"({result.method}).",
    )
    return 0


def run_repair(args: argparse.Namespace) -> int:
    from trellis.core.scheduling.model import parse_start
    from trellis.core.scheduling.repair import repair
    from trellis.core.scheduling.verify import verify

    time_limit = _seconds(args.time_limit, "--time-limit")
    instance = load_instance_file(args.instance)
    plan = load_plan_file(args.plan, instance)
    cancelled: tuple[str, int] | None = None
    if args.appointment is not None:
        kind, _, index = args.appointment.partition("#")
        if kind not in ("preparation", "dose", "integration") or not index.isdigit():
            raise InvalidInput(
                "--appointment", f"must be KIND#INDEX such as dose#3, got {args.appointment!r}"
            )
        cancelled = (kind, int(index))
    not_before = None
    if args.not_before is not None:
        not_before = parse_start(args.not_before, "--not-before", instance.start_date)
    try:
        new_plan = repair(
            instance,
            plan,
            args.patient,
            cancelled=cancelled,
            not_before=not_before,
            time_limit=time_limit,
        )
    except Conflict as exc:
        raise InvalidInput("--patient", exc.message) from exc
    check = verify(instance, new_plan)
    _write_json(args.out, plan_to_json(instance, new_plan, check.courses_complete))
    changed = sorted(
        f"{a.kind}#{a.index}"
        for a in set(new_plan.appointments) - set(plan.appointments)
        if a.patient == args.patient
    )
    summary = {
        "out": args.out,
        "patient": args.patient,
        "status": new_plan.status,
        "changed": changed,
        "valid": check.valid,
    }
    _emit_unless_stdout(
        args,
        summary,
        f"Re-planned {args.patient}: {len(changed)} session(s) moved "
        f"({', '.join(changed) or 'none'}); "
        f"written to {args.out}.",
    )
    return 0

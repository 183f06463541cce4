"""``trellis pathway``: plan an episode, screen a patient, check integration adherence.

Rules live in :mod:`trellis.core.pathway` and :mod:`trellis.core.screening`; this file parses
flags (each bad value → one-line error naming the flag, exit 2) and prints the result.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any

from trellis.cli.common import add_format_argument, emit, read_json_file, sub
from trellis.core.errors import InvalidInput
from trellis.core.numbers import strict_whole
from trellis.core.pathway import (
    ClinicCalendar,
    Event,
    Plan,
    integration_adherence,
    phase_from_events,
    plan,
    relapse_response,
    validate_adaptations,
)
from trellis.core.protocols import Protocol, load_protocol, load_protocol_file
from trellis.core.screening import can_start, screen

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def register(subparsers: Any) -> None:
    p = sub(subparsers, "pathway", "Care pathway: plan an episode, screen, integration adherence")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    pl = sub(actions, "plan", "Planned activities for a track from a start date")
    _protocol_flags(pl)
    pl.add_argument(
        "--start",
        required=True,
        help="start date, YYYY-MM-DD (referral date for tracks with a start-within-hours rule)",
    )
    pl.add_argument(
        "--adapt",
        action="append",
        default=[],
        metavar="NAME[,NAME…]",
        help="adaptations: language-concordant, interpreter, chw-navigator, "
        "medical-distrust, family-involved, transport",
    )
    pl.add_argument("--open-days", help="clinic open weekdays, e.g. mon,tue,wed,thu,fri")
    pl.add_argument(
        "--closed",
        action="append",
        default=[],
        metavar="DATE[,DATE…]",
        help="closed dates (holidays), YYYY-MM-DD",
    )
    add_format_argument(pl)
    pl.set_defaults(func=run_plan)

    sc = sub(actions, "screen", "Screen a patient for a track")
    _protocol_flags(sc)
    sc.add_argument(
        "--answers", required=True, help='JSON file (or - for stdin) of {"item_id": true|false, …}'
    )
    sc.add_argument("--age", help="age in years")
    sc.add_argument(
        "--review-approved",
        action="store_true",
        help="a prescriber's approval of the review reasons is on record",
    )
    add_format_argument(sc)
    sc.set_defaults(func=run_screen)

    ad = sub(actions, "adherence", "Integration adherence and gaps for an episode")
    ad.add_argument(
        "--input",
        required=True,
        help='JSON file: {"doses": [{"index", "at"}], "integrations": '
        '[{"index" (optional), "at"}]} with ISO 8601 times and zones',
    )
    ad.add_argument("--within-hours", default="72", help="integration window (default 72)")
    ad.add_argument("--now", required=True, help="the current time, ISO 8601 with zone")
    add_format_argument(ad)
    ad.set_defaults(func=run_adherence)

    ph = sub(actions, "phase", "The episode's phase from its recorded events")
    _protocol_flags(ph)
    ph.add_argument(
        "--events",
        required=True,
        help='JSON file: [{"kind", "at", "index" (optional), "outcome" (optional)}]',
    )
    add_format_argument(ph)
    ph.set_defaults(func=run_phase)

    bo = sub(
        actions, "booster", "Activities a relapse warning creates (booster + prescriber review)"
    )
    _protocol_flags(bo)
    bo.add_argument("--warning-date", required=True, help="date of the relapse warning, YYYY-MM-DD")
    add_format_argument(bo)
    bo.set_defaults(func=run_booster)


def _protocol_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--protocol", help="packaged track id, e.g. iv-trd")
    group.add_argument("--protocol-file", help="a program's adapted protocol YAML file")


def _protocol(args: argparse.Namespace) -> Protocol:
    if args.protocol_file:
        return load_protocol_file(args.protocol_file)
    return load_protocol(args.protocol, field="--protocol")


def _date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(flag, f"{value!r} is not a date (use YYYY-MM-DD)") from None


def _datetime(value: Any, flag: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(flag, f"{value!r} is not an ISO 8601 date and time")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(flag, f"{value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise InvalidInput(flag, f"{value!r} needs a time zone (e.g. +00:00 or Z)")
    return parsed


def _split(values: list[str]) -> list[str]:
    return [v.strip() for chunk in values for v in chunk.split(",") if v.strip()]


def _calendar(args: argparse.Namespace) -> ClinicCalendar | None:
    if args.open_days is None and not args.closed:
        return None
    weekdays = frozenset(range(7))
    if args.open_days is not None:
        names = [d.lower() for d in _split([args.open_days])]
        bad = [d for d in names if d not in WEEKDAYS]
        if bad or not names:
            raise InvalidInput(
                "--open-days",
                f"unknown weekday(s) {bad or args.open_days!r} (use {','.join(WEEKDAYS)})",
            )
        weekdays = frozenset(WEEKDAYS.index(d) for d in names)
    closed = frozenset(_date(d, "--closed") for d in _split(args.closed))
    return ClinicCalendar(weekdays, closed)


def _plan_text(result: Plan, proto: Protocol) -> str:
    lines = [
        f"{proto.title} ({proto.id} v{proto.version}), start {result.start.isoformat()}",
        f"adaptations: {', '.join(result.adaptations) or 'none'}",
        "",
    ]
    for a in result.activities:
        what = a.name if a.name == a.kind else f"{a.kind} ({a.name})"
        if a.instrument:
            what = f"assessment {a.instrument} ({a.name})"
        extra = f"  needs: {', '.join(a.needs)}" if a.needs else ""
        lines.append(
            f"{a.target.isoformat()}  {what} #{a.index}  "
            f"[{a.earliest.isoformat()} … {a.latest.isoformat()}]{extra}"
        )
    return "\n".join(lines)


def run_plan(args: argparse.Namespace) -> int:
    proto = _protocol(args)
    start = _date(args.start, "--start")
    adapt = validate_adaptations(_split(args.adapt), field_name="--adapt")
    calendar = _calendar(args)
    try:
        result = plan(proto, start, adapt, calendar)
    except InvalidInput as exc:
        if exc.field == "calendar":
            raise InvalidInput("--open-days/--closed", exc.detail) from exc
        if exc.field == "adaptations":
            raise InvalidInput("--adapt", exc.detail) from exc
        raise
    emit(result.to_dict(), args.format, text=_plan_text(result, proto))
    return 0


def _answers(path: str) -> dict[str, bool]:
    data = read_json_file(path, field="--answers")
    if not isinstance(data, dict):
        raise InvalidInput("--answers", "must be a JSON object of item id → true/false")
    for key, value in data.items():
        if not isinstance(value, bool):
            raise InvalidInput("--answers", f"{key}: must be true or false, not {value!r}")
    return data


def run_screen(args: argparse.Namespace) -> int:
    proto = _protocol(args)
    answers = _answers(args.answers)
    age: int | None = None
    if args.age is not None:
        age = strict_whole(args.age)  # ASCII digits only (trellis.core.numbers)
        if age is None:
            raise InvalidInput("--age", f"{args.age!r} is not a whole number of years")
    try:
        result = screen(proto, answers, age)
    except InvalidInput as exc:
        if exc.field == "age":
            raise InvalidInput("--age", exc.detail) from exc
        detail = exc.detail if exc.field == "answers" else exc.message
        raise InvalidInput("--answers", detail) from exc
    start = can_start(proto, result, review_approved=args.review_approved)
    data = {
        "protocol": proto.id,
        "outcome": result.outcome,
        "reasons": [
            {"item": r.item_id, "kind": r.kind, "question": r.question} for r in result.reasons
        ],
        "can_start": start.allowed,
        "blocked_because": list(start.reasons),
    }
    text = "\n".join(
        [
            f"{proto.id}: {result.outcome}",
            *(f"  - {r}" for r in result.reasons),
            f"can start: {'yes' if start.allowed else 'no'}",
        ]
    )
    emit(data, args.format, text=text)
    return 0


def run_adherence(args: argparse.Namespace) -> int:
    hours_or_none = strict_whole(args.within_hours)  # ASCII digits only
    if hours_or_none is None:
        raise InvalidInput("--within-hours", f"{args.within_hours!r} is not a whole number")
    hours = hours_or_none
    if hours < 1:
        raise InvalidInput("--within-hours", "must be at least 1")
    now = _datetime(args.now, "--now")
    data = read_json_file(args.input, field="--input")
    if not isinstance(data, dict) or not isinstance(data.get("doses"), list):
        raise InvalidInput("--input", 'must be a JSON object with a "doses" list')
    integrations_raw = data.get("integrations", [])
    if not isinstance(integrations_raw, list):
        raise InvalidInput("--input", '"integrations" must be a list')
    doses: list[tuple[int, datetime]] = []
    for i, row in enumerate(data["doses"]):
        if not isinstance(row, dict) or "index" not in row or "at" not in row:
            raise InvalidInput("--input", f'doses[{i}] needs "index" and "at"')
        if isinstance(row["index"], bool) or not isinstance(row["index"], int):
            raise InvalidInput("--input", f"doses[{i}].index must be a whole number")
        doses.append((row["index"], _datetime(row["at"], f"--input: doses[{i}].at")))
    integrations: list[tuple[int | None, datetime]] = []
    for i, row in enumerate(integrations_raw):
        if not isinstance(row, dict) or "at" not in row:
            raise InvalidInput("--input", f'integrations[{i}] needs "at"')
        index = row.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise InvalidInput("--input", f"integrations[{i}].index must be a whole number")
        integrations.append((index, _datetime(row["at"], f"--input: integrations[{i}].at")))
    try:
        report = integration_adherence(doses, integrations, hours, now)
    except InvalidInput as exc:
        raise InvalidInput("--input", exc.message) from exc
    out = report.to_dict()
    pct = "n/a" if report.percent is None else f"{report.percent:g} %"
    text = "\n".join(
        [
            f"integration adherence: {pct}",
            *(f"  dose {d.dose_index}: {d.status}" for d in report.doses),
            *(
                f"  GAP: dose {g.dose_index}, window closed {g.window_closed_at.isoformat()}"
                for g in report.gaps
            ),
        ]
    )
    emit(out, args.format, text=text)
    return 0


def run_phase(args: argparse.Namespace) -> int:
    proto = _protocol(args)
    data = read_json_file(args.events, field="--events")
    if not isinstance(data, list):
        raise InvalidInput("--events", "must be a JSON list of events")
    events: list[Event] = []
    for i, row in enumerate(data):
        if not isinstance(row, dict) or not isinstance(row.get("kind"), str) or "at" not in row:
            raise InvalidInput("--events", f'[{i}] needs "kind" and "at"')
        index = row.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise InvalidInput("--events", f"[{i}].index must be a whole number")
        outcome = row.get("outcome")
        if outcome is not None and not isinstance(outcome, str):
            raise InvalidInput("--events", f"[{i}].outcome must be a string")
        at = _datetime(row["at"], f"--events: [{i}].at")
        events.append(Event(row["kind"], at, index, outcome))
    try:
        phase = phase_from_events(events, proto)
    except InvalidInput as exc:
        raise InvalidInput("--events", exc.message) from exc
    emit({"protocol": proto.id, "phase": phase}, args.format, text=f"{proto.id}: {phase}")
    return 0


def run_booster(args: argparse.Namespace) -> int:
    proto = _protocol(args)
    warning = _date(args.warning_date, "--warning-date")
    acts = relapse_response(warning, proto)
    text = "\n".join(
        f"{a.name}: by {a.latest.isoformat()} (target {a.target.isoformat()})" for a in acts
    )
    emit({"protocol": proto.id, "activities": [a.to_dict() for a in acts]}, args.format, text=text)
    return 0

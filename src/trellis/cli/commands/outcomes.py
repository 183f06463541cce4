"""``trellis outcomes``: baseline, response, remission, relapse and status from a score series.

Rules: :func:`trellis.core.outcomes.evaluate_outcomes` (CLINICAL.md §3).
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub
from trellis.core.errors import InvalidInput
from trellis.core.numbers import strict_whole
from trellis.core.outcomes import (
    DEFAULT_THRESHOLDS,
    EVENT_KINDS,
    Outcome,
    durable_remission,
    evaluate_outcomes,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FIELDS = {
    "first_dose": "--first-dose",
    "series": "--series",
    "events": "--events",
    "instrument": "--instrument",
    "induction_end": "--induction-end",
    "days": "--durable-days",
}


def register(subparsers: Any) -> None:
    p = sub(subparsers, "outcomes", "Treatment outcomes (response, remission, relapse) from scores")
    p.add_argument("--first-dose", required=True, metavar="DATE", help="first dose (YYYY-MM-DD)")
    p.add_argument(
        "--series",
        required=True,
        metavar="DATE:SCORE,…",
        help="assessments, e.g. 2026-03-01:18,2026-03-09:7",
    )
    p.add_argument(
        "--events",
        default="",
        metavar="DATE:KIND,…",
        help=f"events after which relapse is counted; KIND: {', '.join(EVENT_KINDS)}",
    )
    p.add_argument(
        "--instrument",
        default="phq9",
        help=f"scale of the scores (default phq9; supported: {', '.join(DEFAULT_THRESHOLDS)})",
    )
    p.add_argument(
        "--induction-end",
        metavar="DATE",
        help="last dose of the induction series: adds durable_remission to the output",
    )
    p.add_argument(
        "--durable-days",
        default="90",
        metavar="D",
        help="durable remission is judged D days after --induction-end (default 90)",
    )
    add_format_argument(p)
    p.set_defaults(func=run)


def _date(text: str, field: str, entry: str | None = None) -> dt.date:
    where = f"{entry!r}: " if entry is not None else ""
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidInput(field, f"{where}invalid date {text!r} (expected YYYY-MM-DD)")


def _pairs(raw: str, field: str, what: str) -> list[tuple[str, str, str]]:
    entries = [e.strip() for e in raw.split(",")] if raw.strip() else []
    out = []
    for entry in entries:
        date_text, sep, value = entry.partition(":")
        if not sep or not value.strip():
            raise InvalidInput(field, f"{entry!r}: expected DATE:{what}")
        out.append((entry, date_text.strip(), value.strip()))
    return out


def _parse_series(raw: str) -> list[tuple[dt.date, int]]:
    parsed = _pairs(raw, "--series", "SCORE")
    if not parsed:
        raise InvalidInput("--series", "give at least one DATE:SCORE entry")
    series = []
    for entry, date_text, value in parsed:
        d = _date(date_text, "--series", entry)
        # ASCII digits only (trellis.core.numbers); a minus sign is let through so that the
        # range check names the instrument's range.
        digits = strict_whole(value.removeprefix("-"))
        score = None if digits is None else (-digits if value.startswith("-") else digits)
        if score is None:
            raise InvalidInput("--series", f"{entry!r}: score {value!r} is not a whole number")
        series.append((d, score))
    return series


def _parse_events(raw: str) -> list[tuple[dt.date, str]]:
    return [
        (_date(date_text, "--events", entry), kind)
        for entry, date_text, kind in _pairs(raw, "--events", "KIND")
    ]


def _text(out: Outcome) -> str:
    def show(d: dt.date | None) -> str:
        return d.isoformat() if d else "—"

    base = f"{out.baseline.score} on {out.baseline.date.isoformat()}" if out.baseline else "none"
    relapse = show(out.relapse) + (f" ({out.relapse_reason})" if out.relapse_reason else "")
    if out.relapse_undetermined:
        relapse = f"undetermined (not defined for {out.instrument})"
    return "\n".join(
        [
            f"Outcomes ({out.instrument})",
            f"Baseline:        {base}",
            f"Response:        {show(out.response)}",
            f"Remission:       {show(out.remission)}",
            f"Relapse warning: {show(out.relapse_warning)}",
            f"Relapse:         {relapse}",
            f"Status:          {out.status}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    instrument = args.instrument.strip()
    if instrument not in DEFAULT_THRESHOLDS:
        raise InvalidInput(
            "--instrument",
            f"unsupported instrument {instrument!r} (supported: {', '.join(DEFAULT_THRESHOLDS)})",
        )
    first_dose = _date(args.first_dose.strip(), "--first-dose")
    series = _parse_series(args.series)
    events = _parse_events(args.events)
    induction_end = None
    if args.induction_end is not None:
        induction_end = _date(args.induction_end.strip(), "--induction-end")
        if induction_end < first_dose:
            raise InvalidInput(
                "--induction-end", f"{induction_end.isoformat()} is before the first dose"
            )
    if strict_whole(args.durable_days) is None or len(args.durable_days.strip()) > 4:
        raise InvalidInput(
            "--durable-days", f"must be a whole number of days, got {args.durable_days!r}"
        )
    days = int(args.durable_days)
    try:
        outcome = evaluate_outcomes(first_dose, series, events, instrument=instrument)
        data = outcome.to_dict()
        text = _text(outcome)
        if induction_end is not None:
            if DEFAULT_THRESHOLDS[instrument].remission_max is None:
                durable = None
            else:
                durable = durable_remission(
                    first_dose, series, induction_end, events, instrument=instrument, days=days
                )
            data["durable_remission"] = durable
            data["durable_remission_at"] = (induction_end + dt.timedelta(days=days)).isoformat()
            shown = {True: "yes", False: "no", None: "cannot tell"}[durable]
            text += f"\nDurable remission at {days} days after induction: {shown}"
    except InvalidInput as exc:
        raise InvalidInput(_FIELDS.get(exc.field, exc.field), exc.detail) from None
    emit(data, args.format, text=text)
    return 0

"""When each measure is due: the default assessment schedule, or a per-track spec.

Default schedule (the project issue, until protocols give per-track schedules; CLINICAL.md §3
for the baseline window): baseline; before each dose; 24 h after each dose; weekly for 12 weeks
after the induction series; monthly to 12 months. Windows are ★ Trellis defaults, held in
:class:`ScheduleRules` so a program can change them:

- ``baseline``: due at the first dose, window the 14 days up to it (the outcome baseline window,
  CLINICAL.md §3, so a baseline taken in the window is the one :mod:`trellis.core.outcomes`
  uses).
- ``pre_dose_N``: due at dose N, window the 24 h before it.
- ``post_dose_N``: due 24 h after dose N, window 18 h to 36 h after it.
- ``week_K`` (K = 1..12): due K weeks after the last induction dose, window ±3 days.
- ``month_M``: due M calendar months after the last induction dose, window ±7 days, from the
  first month at least 28 days after the last weekly timepoint (month 4 with the defaults) up to
  month 12; "monthly to 12 months" is read as 12 months after the induction series, like the
  weekly phase.

Arithmetic on aware datetimes is wall-clock (Python semantics): "24 h after" a dose across a
daylight-saving change keeps the clock time, which is what a clinic's day-after call means.

An administration whose time falls in several windows of the same instrument (e.g. baseline and
``pre_dose_1``) can satisfy all of them; that matching belongs to the caller.

A per-track spec names timepoint kinds per instrument, e.g.
``[{"instrument": "pcl5", "timepoints": ["baseline", "monthly"]}]``; it is validated by
:func:`parse_schedule_spec`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument

TIMEPOINT_KINDS = ("baseline", "pre_dose", "post_dose", "weekly", "monthly")


@dataclass(frozen=True)
class ScheduleRules:
    """Timing of the default schedule (★ Trellis defaults; see the module docstring)."""

    baseline_window: dt.timedelta = dt.timedelta(days=14)
    pre_dose_window: dt.timedelta = dt.timedelta(hours=24)
    post_dose_delay: dt.timedelta = dt.timedelta(hours=24)
    post_dose_early: dt.timedelta = dt.timedelta(hours=6)
    post_dose_late: dt.timedelta = dt.timedelta(hours=12)
    weekly_count: int = 12
    weekly_window: dt.timedelta = dt.timedelta(days=3)
    monthly_until: int = 12
    monthly_gap_after_weekly: dt.timedelta = dt.timedelta(days=28)
    monthly_window: dt.timedelta = dt.timedelta(days=7)


@dataclass(frozen=True)
class ScheduleEntry:
    """One instrument and the timepoint kinds at which it is due."""

    instrument: str
    timepoints: tuple[str, ...]


@dataclass(frozen=True)
class DueAssessment:
    """One due measure: ``timepoint`` is a label such as ``pre_dose_2`` or ``week_5``."""

    instrument: str
    timepoint: str
    kind: str
    due_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "timepoint": self.timepoint,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
        }


def parse_schedule_spec(spec: Any, field: str = "schedule") -> tuple[ScheduleEntry, ...]:
    """Validate a per-track schedule spec (from a protocol file) and build its entries.

    Each entry is ``{"instrument": <known instrument id>, "timepoints": [<kind>, ...]}`` with
    kinds from :data:`TIMEPOINT_KINDS`, no duplicates, each instrument at most once.
    """
    if not isinstance(spec, Sequence) or isinstance(spec, str | bytes):
        raise InvalidInput(field, f"must be a list of entries, got {type(spec).__name__}")
    if not spec:
        raise InvalidInput(field, "must list at least one instrument")
    entries: list[ScheduleEntry] = []
    seen: set[str] = set()
    for i, raw in enumerate(spec):
        path = f"{field}[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidInput(path, f"must be a mapping, got {type(raw).__name__}")
        extra = sorted(set(raw) - {"instrument", "timepoints"})
        if extra:
            raise InvalidInput(path, f"unknown key(s) {', '.join(map(str, extra))}")
        instrument = raw.get("instrument")
        if not isinstance(instrument, str):
            raise InvalidInput(f"{path}.instrument", "required, a known instrument id")
        get_instrument(instrument, field=f"{path}.instrument")
        if instrument in seen:
            raise InvalidInput(f"{path}.instrument", f"{instrument} is listed twice")
        seen.add(instrument)
        timepoints = raw.get("timepoints")
        if (
            not isinstance(timepoints, Sequence)
            or isinstance(timepoints, str | bytes)
            or not timepoints
        ):
            raise InvalidInput(f"{path}.timepoints", "must be a non-empty list of timepoint kinds")
        for j, kind in enumerate(timepoints):
            if kind not in TIMEPOINT_KINDS:
                raise InvalidInput(
                    f"{path}.timepoints[{j}]",
                    f"unknown timepoint {kind!r} (known: {', '.join(TIMEPOINT_KINDS)})",
                )
        if len(set(timepoints)) != len(timepoints):
            raise InvalidInput(f"{path}.timepoints", "lists a timepoint twice")
        entries.append(ScheduleEntry(instrument, tuple(timepoints)))
    return tuple(entries)


def default_spec(instruments: Sequence[str]) -> tuple[ScheduleEntry, ...]:
    """Every timepoint kind for each instrument (the default schedule)."""
    return parse_schedule_spec(
        [{"instrument": i, "timepoints": list(TIMEPOINT_KINDS)} for i in instruments],
        field="instruments",
    )


def add_months(when: dt.datetime, months: int) -> dt.datetime:
    """``when`` plus calendar months, the day clamped to the month (31 Jan + 1 → 28/29 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(
        year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1])
    )


def _check_datetime(value: object, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise InvalidInput(field, f"must be a date and time, got {value!r}")
    return value


def assessment_schedule(
    first_dose: dt.datetime,
    doses: Sequence[dt.datetime],
    induction_end: dt.datetime,
    instruments: Sequence[str] | None = None,
    spec: Any = None,
    rules: ScheduleRules | None = None,
) -> list[DueAssessment]:
    """Due measures for one episode, sorted by due time.

    ``first_dose``: time of the first dose; ``doses``: all dose times (the first dose is added
    if missing); ``induction_end``: time of the last dose of the induction series. Give either
    ``instruments`` (each gets the default schedule) or ``spec`` (a per-track schedule, see
    :func:`parse_schedule_spec`). All times must be alike: all timezone-aware (recommended) or
    all naive. Source: the default schedule in the project issue; baseline window CLINICAL.md §3.
    """
    r = rules or ScheduleRules()
    first = _check_datetime(first_dose, "first_dose")
    end = _check_datetime(induction_end, "induction_end")
    if isinstance(doses, str | bytes) or not isinstance(doses, Sequence):
        raise InvalidInput("doses", "must be a list of dose times")
    dose_times = [_check_datetime(d, f"doses[{i}]") for i, d in enumerate(doses)]
    aware = first.tzinfo is not None
    for name, value in [("induction_end", end)] + [
        (f"doses[{i}]", d) for i, d in enumerate(dose_times)
    ]:
        if (value.tzinfo is not None) != aware:
            raise InvalidInput(name, "mixes timezone-aware and naive times with first_dose")
    for i, d in enumerate(dose_times):
        if d < first:
            raise InvalidInput(f"doses[{i}]", f"{d.isoformat()} is before the first dose")
    if end < first:
        raise InvalidInput("induction_end", f"{end.isoformat()} is before the first dose")
    if (instruments is None) == (spec is None):
        raise InvalidInput("instruments", "give either instruments or a per-track spec")
    entries = default_spec(instruments) if instruments is not None else parse_schedule_spec(spec)
    all_doses = sorted(set(dose_times) | {first})

    # Timepoints common to every instrument: (kind, label, due, start, end).
    points: dict[str, list[tuple[str, dt.datetime, dt.datetime, dt.datetime]]] = {
        k: [] for k in TIMEPOINT_KINDS
    }
    points["baseline"].append(("baseline", first, first - r.baseline_window, first))
    for n, dose in enumerate(all_doses, start=1):
        points["pre_dose"].append((f"pre_dose_{n}", dose, dose - r.pre_dose_window, dose))
        due = dose + r.post_dose_delay
        points["post_dose"].append(
            (f"post_dose_{n}", due, due - r.post_dose_early, due + r.post_dose_late)
        )
    last_weekly = end
    for k in range(1, r.weekly_count + 1):
        due = end + dt.timedelta(weeks=k)
        last_weekly = due
        points["weekly"].append((f"week_{k}", due, due - r.weekly_window, due + r.weekly_window))
    for m in range(1, r.monthly_until + 1):
        due = add_months(end, m)
        if due < last_weekly + r.monthly_gap_after_weekly:
            continue
        points["monthly"].append(
            (f"month_{m}", due, due - r.monthly_window, due + r.monthly_window)
        )

    due_list = [
        DueAssessment(entry.instrument, label, kind, due, start, stop)
        for entry in entries
        for kind in entry.timepoints
        for label, due, start, stop in points[kind]
    ]
    order = {k: i for i, k in enumerate(TIMEPOINT_KINDS)}
    due_list.sort(key=lambda d: (d.due_at, order[d.kind], d.instrument))
    return due_list

"""The care-pathway engine: plans, phases, integration adherence, relapse boosters.

Pure functions over a :class:`~trellis.core.protocols.Protocol`; the clock is always passed in.

**Plan** (:func:`plan`): a track + adaptations + a start date (+ an optional clinic calendar)
becomes dated activities, each with an ``earliest``/``target``/``latest`` window and an ``after``
reference (``"dose:1"``) to what it follows:

- ``preparation``: ``count`` sessions (one more with ``medical-distrust``) ``days_between``
  apart from ``start``; session k may happen on any day of its slot
  ``[start + (k-1)·gap, start + k·gap − 1]``, so all preparation ends before dose 1 can start.
- ``dose``: dose 1 in ``[start + n·gap, + first_dose_window_days]`` (capped at
  ``start + ⌊start_within_hours_of_referral / 24⌋`` days, where ``start`` is the referral date);
  dose i+1 in ``[target_i + min_days_between, target_i + max_days_between]``, target
  ``target_i + target_days_between``; or, for a weekly cadence (Spravato label), the k-th dose of
  week w (weeks counted from dose 1) aims at day ⌊k·7/p⌋ of that week (twice weekly → days 0
  and 3) and may fall anywhere in that week that leaves room for the doses still due in it,
  at least ``min_days_between`` after the previous dose.
- ``integration``: after every ``every``-th dose and always after the last; the window is
  **by date**: from the dose date to dose date + ⌈within_hours / 24⌉ days, target the day after
  the dose. Dates cannot express hours; the exact hour check (dose time + within_hours) is
  :func:`integration_adherence`, on datetimes.
- ``peer_circle``: weekly meetings from week ``from_week`` of dosing for ``weeks`` weeks
  (CLINICAL.md §7 ★), window the meeting's week.
- ``assessment``: from the measures schedule (baseline in the 14 days up to dose 1, CLINICAL.md
  §3; before each dose; 24 h after each dose; end of series; every visit; weekly; monthly = 30
  days).
- ``follow_up``: sustained-support check-ins N days after the last dose (± window_days);
  ``chw-navigator`` adds navigator contacts at the start and the end of the series.

A calendar moves the targets of clinic visits (preparation, dose, integration, peer circle,
follow-up check-ins) to the nearest open day inside their window, first later then earlier;
later doses are spaced from the moved target. Assessments that are not tied to a visit are done
remotely and are not moved.

**Phases** (:func:`phase_from_events`): referred → screening → preparing → dosing → integrating
→ sustaining → maintenance | completed | withdrawn (ARCHITECTURE.md "Data model").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from trellis.core.errors import InvalidInput
from trellis.core.protocols import ADAPTATIONS, Protocol

ActivityKind = Literal[
    "preparation", "dose", "integration", "peer_circle", "assessment", "follow_up"
]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = (
    "preparation",
    "dose",
    "integration",
    "peer_circle",
    "assessment",
    "follow_up",
)
# Same-day order: navigator/check-in, preparation, assessments (before the dose), dose, …
_KIND_ORDER = {
    "follow_up": 0,
    "preparation": 1,
    "assessment": 2,
    "dose": 3,
    "integration": 4,
    "peer_circle": 5,
}

BASELINE_DAYS = 14  # CLINICAL.md §3: the latest score in the 14 days up to and including dose 1
WEEKLY_TOLERANCE_DAYS = 2
MONTH_DAYS = 30
MONTHLY_TOLERANCE_DAYS = 7
END_OF_SERIES_DAYS = 7

NEED_INTERPRETER = "interpreter"
NEED_LANGUAGE_THERAPIST = "language-concordant-therapist"
NEED_LANGUAGE_CIRCLE = "language-concordant-circle"
NEED_FAMILY = "family-or-community-member-invited"
NEED_TRANSPORT = "transport"
NEED_NAVIGATOR = "chw-navigator"


@dataclass(frozen=True)
class Activity:
    """One planned activity. ``index`` counts activities of the same kind and name from 1
    (an ``integration`` named ``integration`` carries the index of the dose it follows)."""

    kind: ActivityKind
    index: int
    earliest: date
    target: date
    latest: date
    after: str | None
    name: str
    minutes: int | None = None
    instrument: str | None = None
    ref: str | None = None
    needs: tuple[str, ...] = ()
    note: str | None = None

    @property
    def key(self) -> str:
        """The reference other activities use for this one, e.g. ``"dose:3"``."""
        return (
            f"{self.kind}:{self.index}" if self.name == self.kind else f"{self.name}:{self.index}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "index": self.index,
            "earliest": self.earliest.isoformat(),
            "target": self.target.isoformat(),
            "latest": self.latest.isoformat(),
            "after": self.after,
            "name": self.name,
            "minutes": self.minutes,
            "instrument": self.instrument,
            "ref": self.ref,
            "needs": list(self.needs),
            "note": self.note,
        }


@dataclass(frozen=True)
class Plan:
    protocol_id: str
    protocol_version: str
    start: date
    adaptations: tuple[str, ...]
    activities: tuple[Activity, ...]

    def of_kind(self, kind: ActivityKind, name: str | None = None) -> tuple[Activity, ...]:
        return tuple(
            a for a in self.activities if a.kind == kind and (name is None or a.name == name)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol_id,
            "protocol_version": self.protocol_version,
            "start": self.start.isoformat(),
            "adaptations": list(self.adaptations),
            "activities": [a.to_dict() for a in self.activities],
        }


@dataclass(frozen=True)
class ClinicCalendar:
    """Open weekdays (Monday = 0 … Sunday = 6) minus closed dates (holidays, closures)."""

    open_weekdays: frozenset[int] = frozenset(range(7))
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        bad = sorted(d for d in self.open_weekdays if not (isinstance(d, int) and 0 <= d <= 6))
        if bad:
            raise InvalidInput("calendar.open_weekdays", f"weekdays are 0 (Mon) to 6 (Sun): {bad}")
        if not self.open_weekdays:
            raise InvalidInput("calendar.open_weekdays", "at least one weekday must be open")

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_weekdays and day not in self.closed_dates


def validate_adaptations(
    adaptations: Iterable[str], field_name: str = "adaptations"
) -> tuple[str, ...]:
    """The adaptations, de-duplicated in canonical order; InvalidInput naming ``field_name``."""
    given = list(adaptations)
    unknown = [a for a in given if a not in ADAPTATIONS]
    if unknown:
        raise InvalidInput(
            field_name,
            f"unknown adaptation(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(ADAPTATIONS)})",
        )
    return tuple(a for a in ADAPTATIONS if a in given)


def _place(
    target: date, earliest: date, latest: date, calendar: ClinicCalendar | None, what: str
) -> date:
    """``target`` or the nearest open day in the window (later first, then earlier)."""
    if calendar is None or calendar.is_open(target):
        return target
    day = target + timedelta(days=1)
    while day <= latest:
        if calendar.is_open(day):
            return day
        day += timedelta(days=1)
    day = target - timedelta(days=1)
    while day >= earliest:
        if calendar.is_open(day):
            return day
        day -= timedelta(days=1)
    raise InvalidInput(
        "calendar",
        f"no open clinic day for {what} between {earliest.isoformat()} and {latest.isoformat()}",
    )


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _candidates(
    ideal: date, earliest: date, latest: date, calendar: ClinicCalendar | None
) -> list[date]:
    """Days of the window in order of preference: the ideal day, then later, then earlier."""
    later = [ideal + _days(k) for k in range((latest - ideal).days + 1)]
    earlier = [ideal - _days(k) for k in range(1, (ideal - earliest).days + 1)]
    return [d for d in later + earlier if calendar is None or calendar.is_open(d)]


def _dose_windows(
    protocol: Protocol,
    first_earliest: date,
    first_latest: date,
    calendar: ClinicCalendar | None,
) -> list[tuple[date, date, date]]:
    """(earliest, target, latest) of each dose, in order.

    Each dose's window depends on the previous dose's target (and, for a cadence, on dose 1),
    so with a calendar the targets are chosen by a depth-first search that prefers each dose's
    ideal day and backtracks when a later dose would have no open day (memoised on
    (dose, previous target), so it stays polynomial).
    """
    series = protocol.doses
    gap = series.min_days_between
    slots: list[tuple[int, int]] = []
    if series.uses_cadence:
        # (ideal, latest) day offsets from dose 1: the k-th of p doses in week w aims at day
        # ⌊k·7/p⌋ of that week and may move up to the end of the week, leaving room for the
        # doses still due that week (min_days_between apart), so each week keeps its count.
        for block in series.cadence:
            for week in range(block.from_week, block.to_week + 1):
                week_start = 7 * (week - 1)
                for k in range(block.per_week):
                    ideal = week_start + (k * 7) // block.per_week
                    slots.append((ideal, week_start + 6 - (block.per_week - 1 - k) * gap))

    def window(i: int, first: date, prev: date) -> tuple[date, date, date]:
        """(earliest, ideal, latest) of dose i (≥ 2)."""
        if slots:
            ideal_day, latest_day = slots[i - 1]
            earliest = max(first + _days(7 * (ideal_day // 7)), prev + _days(gap))
            latest = first + _days(latest_day)
            return earliest, min(max(first + _days(ideal_day), earliest), latest), latest
        assert series.max_days_between is not None
        assert series.target_days_between is not None
        return (
            prev + _days(gap),
            prev + _days(series.target_days_between),
            prev + _days(series.max_days_between),
        )

    dead: set[tuple[int, date]] = set()
    stuck: list[tuple[int, date, date]] = []

    def place_rest(i: int, first: date, prev: date) -> list[tuple[date, date, date]] | None:
        if i > series.count:
            return []
        if (i, prev) in dead:
            return None
        earliest, ideal, latest = window(i, first, prev)
        for day in _candidates(ideal, earliest, latest, calendar) if earliest <= latest else []:
            rest = place_rest(i + 1, first, day)
            if rest is not None:
                return [(earliest, day, latest), *rest]
        dead.add((i, prev))
        stuck.append((i, earliest, latest))
        return None

    first_ideal = first_earliest
    for first in _candidates(first_ideal, first_earliest, first_latest, calendar):
        rest = place_rest(2, first, first)
        if rest is not None:
            return [(first_earliest, first, first_latest), *rest]
    if not stuck:
        stuck.append((1, first_earliest, first_latest))
    i, earliest, latest = max(stuck)
    raise InvalidInput(
        "calendar",
        f"no open clinic day for dose {i} between {earliest.isoformat()} and "
        f"{latest.isoformat()} that keeps the series' spacing",
    )


def plan(
    protocol: Protocol,
    start: date,
    adaptations: Iterable[str] = (),
    calendar: ClinicCalendar | None = None,
) -> Plan:
    """Plan an episode of ``protocol`` starting on ``start`` (see the module docstring).

    Sources: dose series CLINICAL.md §4 (Murrough 2013; Wilkinson 2021; Spravato label), §6
    (Feder 2021, Grabski 2022, Rodriguez 2013); baseline window §3; peer circle defaults §7;
    relapse and sustained support §3. Adaptations (exact names, see
    :data:`trellis.core.protocols.ADAPTATIONS`): ``medical-distrust`` adds one preparation
    session (first, for trust-building); ``family-involved`` marks preparation sessions;
    ``interpreter``, ``language-concordant``, ``transport`` add ``needs`` to activities;
    ``chw-navigator`` adds navigator contacts (kind ``follow_up``).
    """
    if not isinstance(start, date) or isinstance(start, datetime):
        raise InvalidInput("start", f"must be a date, not {start!r}")
    adapt = validate_adaptations(adaptations)
    prep = protocol.preparation
    n_prep = prep.count + (1 if "medical-distrust" in adapt else 0)
    gap = prep.days_between
    acts: list[Activity] = []

    for k in range(1, n_prep + 1):
        earliest = start + _days((k - 1) * gap)
        latest = earliest + _days(gap - 1)
        trust = k == 1 and n_prep > prep.count
        acts.append(
            Activity(
                "preparation",
                k,
                earliest,
                _place(earliest, earliest, latest, calendar, f"preparation {k}"),
                latest,
                f"preparation:{k - 1}" if k > 1 else None,
                "preparation",
                prep.minutes,
                note="trust-building session (medical-distrust adaptation)" if trust else None,
            )
        )

    first_earliest = start + _days(n_prep * gap)
    first_latest = first_earliest + _days(protocol.doses.first_dose_window_days)
    limit = protocol.start_within_hours_of_referral
    if limit is not None:
        first_latest = min(first_latest, start + _days(limit // 24))
        if first_latest < first_earliest:
            raise InvalidInput(
                "adaptations",
                f"{n_prep} preparation session(s) cannot fit before dose 1 within {limit} h "
                f"of referral on {protocol.id}",
            )
    windows = _dose_windows(protocol, first_earliest, first_latest, calendar)
    minutes = protocol.doses.session_minutes
    for i, (earliest, target, latest) in enumerate(windows, start=1):
        after = f"dose:{i - 1}" if i > 1 else f"preparation:{n_prep}"
        acts.append(Activity("dose", i, earliest, target, latest, after, "dose", minutes))
    doses = [a for a in acts if a.kind == "dose"]
    d1, last = doses[0].target, doses[-1].target
    n_doses = len(doses)

    integ = protocol.integration
    span = math.ceil(integ.within_hours / 24)
    for dose in doses:
        if dose.index % integ.every and dose.index != n_doses:
            continue
        earliest, latest = dose.target, dose.target + _days(span)
        ideal = min(dose.target + _days(1), latest)
        acts.append(
            Activity(
                "integration",
                dose.index,
                earliest,
                _place(ideal, earliest, latest, calendar, f"integration after dose {dose.index}"),
                latest,
                f"dose:{dose.index}",
                "integration",
                integ.minutes,
            )
        )
    for extra in protocol.extra_sessions:
        for j in range(1, extra.count + 1):
            earliest = d1 + _days(extra.from_day + (j - 1) * extra.every_days)
            latest = earliest + _days(extra.every_days - 1)
            acts.append(
                Activity(
                    "integration",
                    j,
                    earliest,
                    _place(earliest, earliest, latest, calendar, f"{extra.name} {j}"),
                    latest,
                    "dose:1",
                    extra.name,
                    extra.minutes,
                )
            )

    circle = protocol.peer_circle
    for m in range(1, circle.weeks + 1):
        earliest = d1 + _days(7 * (circle.from_week - 1 + m - 1))
        latest = earliest + _days(6)
        acts.append(
            Activity(
                "peer_circle",
                m,
                earliest,
                _place(earliest, earliest, latest, calendar, f"peer circle week {m}"),
                latest,
                "dose:1",
                "peer_circle",
                circle.minutes,
            )
        )

    support = protocol.sustained_support
    for day in support.check_in_days:
        ideal = last + _days(day)
        earliest = max(last + _days(1), ideal - _days(support.window_days))
        latest = ideal + _days(support.window_days)
        acts.append(
            Activity(
                "follow_up",
                0,
                earliest,
                _place(ideal, earliest, latest, calendar, f"check-in day {day}"),
                latest,
                f"dose:{n_doses}",
                "check-in",
                support.minutes,
            )
        )
    if "chw-navigator" in adapt:
        acts.append(
            Activity(
                "follow_up",
                0,
                start,
                start,
                d1 - _days(1),
                None,
                "chw-navigator-contact",
                needs=(NEED_NAVIGATOR,),
            )
        )
        acts.append(
            Activity(
                "follow_up",
                0,
                last + _days(1),
                last + _days(1),
                last + _days(END_OF_SERIES_DAYS),
                f"dose:{n_doses}",
                "chw-navigator-contact",
                needs=(NEED_NAVIGATOR,),
            )
        )

    visits = [a for a in acts if a.kind in ("preparation", "dose", "integration")]
    acts.extend(_assessments(protocol, start, doses, visits))
    acts = [_with_needs(a, adapt) for a in acts]
    return Plan(protocol.id, protocol.version, start, adapt, _number(acts))


def _assessments(
    protocol: Protocol, start: date, doses: Sequence[Activity], visits: Sequence[Activity]
) -> list[Activity]:
    d1, last = doses[0].target, doses[-1].target
    n = len(doses)
    out: list[Activity] = []

    def add(
        inst: str, tp: str, e: date, t: date, lt: date, after: str | None, ref: str | None
    ) -> None:
        out.append(Activity("assessment", 0, e, t, lt, after, tp, instrument=inst, ref=ref))

    for m in protocol.measures:
        for tp in m.timepoints:
            if tp == "baseline":
                earliest = d1 - _days(BASELINE_DAYS - 1)
                add(m.instrument, tp, earliest, max(start, earliest), d1, None, "dose:1")
            elif tp == "before_each_dose":
                for d in doses:
                    add(m.instrument, tp, d.earliest, d.target, d.latest, d.after, d.key)
            elif tp == "after_each_dose_24h":
                for d in doses:
                    t = d.target + _days(1)
                    add(m.instrument, tp, t, t, t + _days(1), d.key, d.key)
            elif tp == "end_of_series":
                t = last + _days(1)
                add(m.instrument, tp, t, t, last + _days(END_OF_SERIES_DAYS), f"dose:{n}", None)
            elif tp == "every_visit":
                for v in visits:
                    add(m.instrument, tp, v.earliest, v.target, v.latest, v.after, v.key)
        for k in range(1, (m.weekly_weeks or 0) + 1):
            t = d1 + _days(7 * k)
            tol = _days(WEEKLY_TOLERANCE_DAYS)
            add(m.instrument, "weekly", t - tol, t, t + tol, "dose:1", None)
        for k in range(1, (m.monthly_months or 0) + 1):
            t = d1 + _days(MONTH_DAYS * k)
            tol = _days(MONTHLY_TOLERANCE_DAYS)
            add(m.instrument, "monthly", t - tol, t, t + tol, "dose:1", None)
    return out


def _with_needs(a: Activity, adapt: tuple[str, ...]) -> Activity:
    needs = list(a.needs)
    if "interpreter" in adapt:
        needs.append(NEED_INTERPRETER)
    if "language-concordant" in adapt:
        if a.kind in ("preparation", "integration", "follow_up"):
            needs.append(NEED_LANGUAGE_THERAPIST)
        elif a.kind == "peer_circle":
            needs.append(NEED_LANGUAGE_CIRCLE)
    if "family-involved" in adapt and a.kind == "preparation":
        needs.append(NEED_FAMILY)
    if "transport" in adapt and a.kind in ("preparation", "dose", "integration", "peer_circle"):
        needs.append(NEED_TRANSPORT)
    return replace(a, needs=tuple(dict.fromkeys(needs)))


def _number(acts: list[Activity]) -> tuple[Activity, ...]:
    """Sort by date and same-day order; number the activities whose index is 0 per kind+name."""
    acts.sort(key=lambda a: (a.target, _KIND_ORDER[a.kind], a.earliest, a.name, a.index))
    counters: dict[tuple[str, str], int] = {}
    out = []
    for a in acts:
        if a.index == 0:
            k = (a.kind, a.kind if a.kind == "assessment" else a.name)
            counters[k] = counters.get(k, 0) + 1
            a = replace(a, index=counters[k])
        out.append(a)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Phases

Phase = Literal[
    "referred",
    "screening",
    "preparing",
    "dosing",
    "integrating",
    "sustaining",
    "maintenance",
    "completed",
    "withdrawn",
]
PHASES: tuple[Phase, ...] = (
    "referred",
    "screening",
    "preparing",
    "dosing",
    "integrating",
    "sustaining",
    "maintenance",
    "completed",
    "withdrawn",
)
EVENT_KINDS = (
    "referred",
    "screening_started",
    "screened",
    "review_approved",
    "preparation_done",
    "dose_given",
    "integration_done",
    "check_in_done",
    "maintenance_dose",
    "completed",
    "withdrawn",
)


@dataclass(frozen=True)
class Event:
    """A recorded event of an episode. ``outcome`` is the screening outcome of ``screened``."""

    kind: str
    at: datetime
    index: int | None = None
    outcome: str | None = None


def phase_from_events(events: Sequence[Event], protocol: Protocol) -> Phase:
    """The episode's phase after ``events`` (applied in time order; ties keep input order).

    - no events or only ``referred`` → referred; screening events → screening;
    - ``preparation_done`` → preparing (needs an ``eligible`` screening, or ``needs_review``
      followed by ``review_approved``; an ``excluded`` track cannot start: CLINICAL.md §5);
    - ``dose_given`` → dosing; the last dose of the series → integrating while the integration
      after it is pending, then sustaining (sustained support, CLINICAL.md §3);
    - every sustained-support check-in done, or ``completed`` → completed;
      ``maintenance_dose`` after the series → maintenance (esketamine label, week 9 on);
    - ``withdrawn`` at any time → withdrawn (final).
    A dose after the induction series (maintenance, or a re-dose after a relapse warning and the
    prescriber review) is recorded as ``maintenance_dose``, not ``dose_given``.
    Events that contradict this order raise InvalidInput naming ``events[i]``.
    """
    order = sorted(range(len(events)), key=lambda i: events[i].at)
    phase: Phase = "referred"
    screened: str | None = None
    approved = False
    doses = 0
    check_ins = 0
    n_doses = protocol.doses.count
    n_check_ins = len(protocol.sustained_support.check_in_days)

    for i in order:
        e = events[i]
        where = f"events[{i}]"
        if e.kind not in EVENT_KINDS:
            raise InvalidInput(
                f"{where}.kind", f"unknown event {e.kind!r} ({', '.join(EVENT_KINDS)})"
            )
        if phase in ("withdrawn", "completed") and e.kind != "check_in_done":
            raise InvalidInput(where, f"{e.kind} after the episode was {phase}")
        if e.kind == "withdrawn":
            phase = "withdrawn"
        elif e.kind == "referred":
            continue
        elif e.kind in ("screening_started", "screened", "review_approved"):
            if phase not in ("referred", "screening"):
                raise InvalidInput(where, f"{e.kind} during {phase}")
            if e.kind == "screened":
                if e.outcome not in ("eligible", "needs_review", "excluded"):
                    raise InvalidInput(
                        f"{where}.outcome", f"unknown screening outcome {e.outcome!r}"
                    )
                screened, approved = e.outcome, False
            elif e.kind == "review_approved":
                if screened != "needs_review":
                    raise InvalidInput(where, "review_approved without a needs_review screening")
                approved = True
            phase = "screening"
        elif e.kind == "preparation_done":
            if phase in ("referred", "screening"):
                if not (screened == "eligible" or (screened == "needs_review" and approved)):
                    raise InvalidInput(
                        where, f"preparation before an eligible screening (screening: {screened})"
                    )
                phase = "preparing"
            elif phase != "preparing":
                raise InvalidInput(where, f"preparation_done during {phase}")
        elif e.kind == "dose_given":
            if phase not in ("preparing", "dosing"):
                raise InvalidInput(where, f"dose_given during {phase}")
            doses += 1
            phase = "dosing"
            if doses >= n_doses:
                phase = "integrating"  # the plan always integrates after the last dose
        elif e.kind == "integration_done":
            if phase == "integrating" and (e.index is None or e.index >= n_doses):
                phase = "sustaining"
        elif e.kind == "check_in_done":
            if phase in ("integrating", "sustaining", "maintenance", "completed"):
                check_ins += 1
                if phase == "sustaining" and check_ins >= n_check_ins:
                    phase = "completed"
        elif e.kind == "maintenance_dose":
            if phase not in ("integrating", "sustaining", "maintenance"):
                raise InvalidInput(where, f"maintenance_dose during {phase} (series not complete)")
            phase = "maintenance"
        elif e.kind == "completed":
            phase = "completed"
    return phase


# --------------------------------------------------------------------------------------------
# Integration adherence

IntegrationStatus = Literal["done_in_window", "done_late", "missing", "open"]


@dataclass(frozen=True)
class DoseAdherence:
    dose_index: int
    dosed_at: datetime
    window_closes_at: datetime
    status: IntegrationStatus
    integration_at: datetime | None


@dataclass(frozen=True)
class IntegrationGap:
    """A closed integration window with no integration inside it (an alert for the team)."""

    dose_index: int
    window_closed_at: datetime


@dataclass(frozen=True)
class AdherenceReport:
    doses: tuple[DoseAdherence, ...]
    percent: float | None
    gaps: tuple[IntegrationGap, ...]

    @property
    def adherence_percent(self) -> float | None:
        """Same as ``percent`` (the name used in the JSON output)."""
        return self.percent

    def to_dict(self) -> dict[str, Any]:
        return {
            "doses": [
                {
                    "dose_index": d.dose_index,
                    "dosed_at": d.dosed_at.isoformat(),
                    "window_closes_at": d.window_closes_at.isoformat(),
                    "status": d.status,
                    "integration_at": d.integration_at.isoformat() if d.integration_at else None,
                }
                for d in self.doses
            ],
            "adherence_percent": self.percent,
            "gaps": [
                {"dose_index": g.dose_index, "window_closed_at": g.window_closed_at.isoformat()}
                for g in self.gaps
            ],
        }


def _aware(value: datetime, field_name: str) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(field_name, f"must be a date and time, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field_name, "must carry a time zone (e.g. 2026-03-02T09:00:00+00:00)")
    return value


def integration_adherence(
    doses: Sequence[tuple[int, datetime]],
    integrations: Sequence[tuple[int | None, datetime]],
    within_hours: int,
    now: datetime,
) -> AdherenceReport:
    """Was each dose followed by an integration session inside ``within_hours``?

    An integration with an index belongs to that dose; one without belongs to the latest dose
    given at or before it. Per dose: ``done_in_window`` (dose < integration ≤ dose + within_hours),
    ``done_late`` (first integration after the window), ``missing`` (window closed, none),
    ``open`` (window still open, none yet). Adherence % = in-window ÷ doses whose window has
    closed or is met (``None`` when there are none). An **integration gap** is a window that has
    closed (now > dose + within_hours) with no integration inside it (done_late or missing).

    Source: Trellis integration-centred care (ARCHITECTURE.md, Alert "integration gap"); the
    72-hour default window of the tracks, CLINICAL.md §3 (booster within 72 h) and §6–7.
    All datetimes must be time-zone aware; ``now`` is passed in (no clock reads).
    """
    if isinstance(within_hours, bool) or not isinstance(within_hours, int) or within_hours < 1:
        raise InvalidInput(
            "within_hours", f"must be a whole number of hours ≥ 1, not {within_hours!r}"
        )
    now = _aware(now, "now")
    dose_at: dict[int, datetime] = {}
    for i, (index, at) in enumerate(doses):
        if isinstance(index, bool) or not isinstance(index, int) or index < 1:
            raise InvalidInput(f"doses[{i}].index", f"must be a dose number ≥ 1, not {index!r}")
        if index in dose_at:
            raise InvalidInput(f"doses[{i}].index", f"dose {index} is listed twice")
        at = _aware(at, f"doses[{i}].at")
        if at > now:
            raise InvalidInput(f"doses[{i}].at", "is in the future")
        dose_at[index] = at
    by_time = sorted(dose_at.items(), key=lambda kv: kv[1])
    found: dict[int, list[datetime]] = {k: [] for k in dose_at}
    for i, (ref, at) in enumerate(integrations):
        at = _aware(at, f"integrations[{i}].at")
        if at > now:
            raise InvalidInput(f"integrations[{i}].at", "is in the future")
        if ref is None:
            before = [k for k, t in by_time if t <= at]
            if not before:
                raise InvalidInput(f"integrations[{i}].at", "is before every dose")
            found[before[-1]].append(at)
            continue
        if ref not in dose_at:
            raise InvalidInput(f"integrations[{i}].index", f"no dose {ref!r} was given")
        if at < dose_at[ref]:
            raise InvalidInput(f"integrations[{i}].at", f"is before dose {ref}")
        found[ref].append(at)

    window = timedelta(hours=within_hours)
    rows: list[DoseAdherence] = []
    gaps: list[IntegrationGap] = []
    for index, at in sorted(dose_at.items()):
        closes = at + window
        times = sorted(found[index])
        inside = [t for t in times if t <= closes]
        status: IntegrationStatus
        when: datetime | None
        if inside:
            status, when = "done_in_window", inside[0]
        elif times:
            status, when = "done_late", times[0]
        elif now > closes:
            status, when = "missing", None
        else:
            status, when = "open", None
        if status in ("done_late", "missing"):
            gaps.append(IntegrationGap(index, closes))
        rows.append(DoseAdherence(index, at, closes, status, when))
    counted = [r for r in rows if r.status != "open"]
    percent = (
        round(100 * sum(r.status == "done_in_window" for r in counted) / len(counted), 1)
        if counted
        else None
    )
    return AdherenceReport(tuple(rows), percent, tuple(gaps))


def doses_needing_integration(protocol: Protocol, dose_indexes: Iterable[int]) -> list[int]:
    """The doses after which the track plans an integration (every ``every``-th and the last),
    per the track's ``integration`` section; pass only these to :func:`integration_adherence`."""
    n = protocol.doses.count
    every = protocol.integration.every
    return [i for i in dose_indexes if i % every == 0 or i == n]


# --------------------------------------------------------------------------------------------
# Relapse warning → booster and prescriber review


def relapse_response(warning_date: date, protocol: Protocol) -> tuple[Activity, Activity]:
    """The integration booster and the prescriber review a relapse warning creates.

    CLINICAL.md §3 "Relapse warning": after response, an assessment meeting the relapse score
    criterion or ≥ 5 points above the lowest since response → an integration booster within
    72 h (``relapse_policy.booster_within_hours``) and a prescriber review *before* any decision
    to re-dose (modelled on SUSTAIN-1, Daly 2019). Both start on the warning date.
    """
    policy = protocol.relapse_policy
    span = _days(math.ceil(policy.booster_within_hours / 24))
    booster = Activity(
        "integration",
        1,
        warning_date,
        min(warning_date + _days(1), warning_date + span),
        warning_date + span,
        None,
        "relapse-booster",
        protocol.integration.minutes,
        ref="relapse-warning",
    )
    review = Activity(
        "follow_up",
        1,
        warning_date,
        warning_date,
        warning_date + span,
        None,
        "prescriber-review",
        ref="relapse-warning",
        needs=("prescriber",),
    )
    return booster, review


def booster_for_relapse_warning(warning_date: date, protocol: Protocol) -> Activity:
    """The integration booster (within 72 h) a relapse warning creates; see
    :func:`relapse_response` for the prescriber review that must precede any re-dose."""
    return relapse_response(warning_date, protocol)[0]


def redose_blockers(
    protocol: Protocol, prescriber_review_done: bool, reason: str | None
) -> list[str]:
    """What blocks a re-dose after a relapse warning (CLINICAL.md §3; ``relapse_policy``)."""
    blockers = []
    policy = protocol.relapse_policy
    if policy.prescriber_review_before_redose and not prescriber_review_done:
        blockers.append("prescriber review is required before any re-dose")
    if policy.redose_requires_reason and not (reason or "").strip():
        blockers.append("a re-dose must record its reason")
    return blockers

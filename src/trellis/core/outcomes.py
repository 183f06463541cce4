"""Treatment outcomes from a series of scores: baseline, response, remission, relapse.

Every rule here is a ★ Trellis definition from CLINICAL.md §3, modelled on SUSTAIN-1 (Daly EJ
et al., JAMA Psychiatry 2019;76:893-903: relapse = MADRS >= 22 on two consecutive visits 5-15
days apart, or hospitalisation for worsening depression, or a suicide attempt). PHQ-9 is the
default instrument; MADRS, QIDS-SR16, Y-BOCS and PCL-5 have their own thresholds
(:data:`DEFAULT_THRESHOLDS`), and a program may pass its own :class:`OutcomeThresholds`.

Dates, not times, are compared. Choices the source leaves open, made here and tested:

- **Same day as the first dose counts as before it**: an assessment dated the first-dose day is
  a baseline candidate (clinics score before dosing), and only assessments dated *after* the
  first-dose day are post-dose assessments.
- Assessments on the same date keep the order they were given in.
- Without a baseline every outcome is ``None`` and ``status`` is ``undetermined`` (§3).
- A hospitalisation or suicide attempt dated on or after the response date counts as relapse
  (same-day events are not ignored: the safer reading).
- ``status`` is the state at the last assessment, except that a relapse (by scores or by an
  event, even one dated after the last assessment) makes it ``relapse`` for the rest of the
  episode: a new episode (new first dose) starts a new evaluation. Otherwise it is the last
  post-dose assessment's own level against baseline: ``remission`` if it meets remission,
  else ``response`` if it meets response, else ``no_response`` (so a responder whose latest
  score no longer meets response, without relapse, is ``no_response``; the ``response`` date
  still records that they responded). With a baseline but no post-dose assessment yet, the
  status is ``no_response``.
- **PCL-5** (CLINICAL.md §3, the PTSD and complex-trauma tracks' primary measure): response is
  a drop of >= 10 points from baseline (the clinically meaningful change, VA NCPTSD), remission
  a total < 33 (below the probable-PTSD cut-off). Relapse is not defined for PCL-5: it is
  reported ``undetermined`` (neither scores nor events make one), so the status is never
  ``relapse``. The relapse warning reads "5 points above the lowest" as the instrument's
  meaningful change (10 points, CLINICAL.md §1), and durable remission is remission at D days
  (no relapse can be told to have happened in between).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.instruments import get_instrument

EVENT_KINDS = ("hospitalization", "suicide_attempt")
"""Events that count as relapse after response (CLINICAL.md §3; SUSTAIN-1)."""

STATUSES = ("undetermined", "no_response", "response", "remission", "relapse")


@dataclass(frozen=True)
class OutcomeThresholds:
    """Outcome thresholds for one instrument (CLINICAL.md §3, ★ configurable).

    - ``response_reduction``: response when the score has fallen by at least this fraction of
      baseline (1/2 for depression scales: "score <= 50 % of baseline"; 35/100 for Y-BOCS,
      Rodriguez 2013, CLINICAL §6).
    - ``remission_max``: remission when score <= this (PHQ-9 < 5 → 4; MADRS <= 12; QIDS-SR16
      <= 5); None when the instrument has no remission rule (Y-BOCS).
    - ``relapse_min``: the relapse score criterion, score >= this (PHQ-9 >= 10; MADRS >= 22,
      SUSTAIN-1) together with a reduction from baseline below ``response_reduction``; None when
      CLINICAL.md gives none (QIDS-SR16, Y-BOCS): then only events define relapse.
    - ``relapse_gap_days``: the second relapse-level assessment is 5-15 days after the first.
    - ``warning_rise``: relapse warning when a score is this many points above the lowest
      since response (5).
    - ``baseline_window_days``: baseline is taken in the 14 days up to the first dose.
    - ``response_drop``: when set, response is a drop of at least this many points from
      baseline instead of a fraction (PCL-5: 10 points, CLINICAL.md §3).
    - ``relapse_defined``: False when the source defines no relapse for the instrument (PCL-5):
      relapse is then reported ``undetermined``.
    """

    response_reduction: Fraction = Fraction(1, 2)
    remission_max: int | None = 4
    relapse_min: int | None = 10
    relapse_gap_days: tuple[int, int] = (5, 15)
    warning_rise: int = 5
    baseline_window_days: int = 14
    response_drop: int | None = None
    relapse_defined: bool = True

    def __post_init__(self) -> None:
        if self.response_drop is not None and self.response_drop < 1:
            raise InvalidInput("thresholds.response_drop", "must be at least 1 point")
        if not 0 < self.response_reduction <= 1:
            raise InvalidInput("thresholds.response_reduction", "must be in (0, 1]")
        lo, hi = self.relapse_gap_days
        if not 0 <= lo <= hi:
            raise InvalidInput("thresholds.relapse_gap_days", f"invalid window {lo}-{hi}")
        if self.warning_rise < 1:
            raise InvalidInput("thresholds.warning_rise", "must be at least 1")
        if self.baseline_window_days < 0:
            raise InvalidInput("thresholds.baseline_window_days", "must not be negative")

    def meets_response(self, baseline: int, score: int) -> bool:
        """Score has fallen by at least ``response_drop`` points when set, else by at least
        ``response_reduction`` of baseline (exact arithmetic)."""
        if self.response_drop is not None:
            return baseline - score >= self.response_drop
        return Fraction(score) <= (1 - self.response_reduction) * baseline

    def meets_remission(self, score: int) -> bool:
        return self.remission_max is not None and score <= self.remission_max

    def meets_relapse_level(self, baseline: int, score: int) -> bool:
        """The relapse score criterion: score >= relapse_min and reduction < response level."""
        return (
            self.relapse_min is not None
            and score >= self.relapse_min
            and not self.meets_response(baseline, score)
        )


DEFAULT_THRESHOLDS: Mapping[str, OutcomeThresholds] = {
    # CLINICAL §3: PHQ-9 remission < 5, relapse score criterion >= 10.
    "phq9": OutcomeThresholds(remission_max=4, relapse_min=10),
    # CLINICAL §1/§3: MADRS remission <= 12 (esketamine trials; some use <= 10), relapse >= 22
    # (SUSTAIN-1, Daly 2019).
    "madrs": OutcomeThresholds(remission_max=12, relapse_min=22),
    # CLINICAL §1/§3: QIDS-SR16 remission <= 5; no relapse score criterion given.
    "qids-sr16": OutcomeThresholds(remission_max=5, relapse_min=None),
    # CLINICAL §1/§6: Y-BOCS response >= 35 % reduction (Rodriguez 2013); no remission or
    # relapse score criterion given.
    "ybocs": OutcomeThresholds(
        response_reduction=Fraction(35, 100), remission_max=None, relapse_min=None
    ),
    # CLINICAL §3: PCL-5 response = a drop of >= 10 points (VA NCPTSD clinically meaningful
    # change), remission = total < 33 (below the probable-PTSD cut-off); relapse not defined.
    # Relapse warning: a rise of the meaningful change (10, CLINICAL §1) above the lowest.
    "pcl5": OutcomeThresholds(
        response_drop=10,
        remission_max=32,
        relapse_min=None,
        relapse_defined=False,
        warning_rise=10,
    ),
}


@dataclass(frozen=True)
class Assessment:
    date: dt.date
    score: int


@dataclass(frozen=True)
class Event:
    date: dt.date
    kind: str  # one of EVENT_KINDS


@dataclass(frozen=True)
class Baseline:
    date: dt.date
    score: int


@dataclass(frozen=True)
class Outcome:
    """Outcome of one episode; dates are None when the event has not happened."""

    instrument: str
    baseline: Baseline | None
    response: dt.date | None
    remission: dt.date | None
    relapse_warning: dt.date | None
    relapse: dt.date | None
    relapse_reason: str | None  # "scores", "hospitalization" or "suicide_attempt"
    status: str
    relapse_undetermined: bool = False  # the instrument defines no relapse (PCL-5)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ISO 8601 dates (the ``trellis outcomes`` contract)."""

        def iso(d: dt.date | None) -> str | None:
            return d.isoformat() if d is not None else None

        return {
            "instrument": self.instrument,
            "baseline": (
                {"date": self.baseline.date.isoformat(), "score": self.baseline.score}
                if self.baseline
                else None
            ),
            "response": iso(self.response),
            "remission": iso(self.remission),
            "relapse_warning": iso(self.relapse_warning),
            "relapse": "undetermined" if self.relapse_undetermined else iso(self.relapse),
            "relapse_reason": self.relapse_reason,
            "status": self.status,
        }


def thresholds_for(instrument: str) -> OutcomeThresholds:
    """Default thresholds for ``instrument`` (CLINICAL.md §3), or InvalidInput if none."""
    try:
        return DEFAULT_THRESHOLDS[instrument]
    except KeyError:
        known = ", ".join(DEFAULT_THRESHOLDS)
        raise InvalidInput(
            "instrument", f"no outcome thresholds for {instrument!r} (supported: {known})"
        ) from None


def _check_date(value: object, field: str, what: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(field, f"{what} must be a date, got {value!r}")
    return value


def _validate(
    first_dose: object,
    series: Iterable[Assessment | tuple[dt.date, int]],
    events: Iterable[Event | tuple[dt.date, str]],
    instrument: str,
) -> tuple[dt.date, list[Assessment], list[Event]]:
    first = _check_date(first_dose, "first_dose", "the first dose")
    inst = get_instrument(instrument)
    lo, hi = inst.range_min, inst.range_max
    if lo is None or hi is None:
        raise InvalidInput("instrument", f"{instrument} has no total score")
    assessments: list[Assessment] = []
    for i, entry in enumerate(series):
        if not isinstance(entry, Assessment) and not (isinstance(entry, tuple) and len(entry) == 2):
            raise InvalidInput("series", f"entry {i + 1} must be (date, score), got {entry!r}")
        d, s = (entry.date, entry.score) if isinstance(entry, Assessment) else entry
        _check_date(d, "series", f"entry {i + 1}: the date")
        if isinstance(s, bool) or not isinstance(s, int) or not lo <= s <= hi:
            raise InvalidInput(
                "series",
                f"{d.isoformat()}:{s}: score {s!r} is out of range "
                f"(an integer from {lo} to {hi} for {instrument})",
            )
        assessments.append(Assessment(d, s))
    checked_events: list[Event] = []
    for i, ev in enumerate(events):
        if not isinstance(ev, Event) and not (isinstance(ev, tuple) and len(ev) == 2):
            raise InvalidInput("events", f"entry {i + 1} must be (date, kind), got {ev!r}")
        d, kind = (ev.date, ev.kind) if isinstance(ev, Event) else ev
        _check_date(d, "events", f"entry {i + 1}: the date")
        if kind not in EVENT_KINDS:
            raise InvalidInput(
                "events",
                f"{d.isoformat()}:{kind}: unknown kind {kind!r} "
                f"(expected {' or '.join(EVENT_KINDS)})",
            )
        checked_events.append(Event(d, kind))
    # Stable sort: same-date entries keep the order given.
    assessments.sort(key=lambda a: a.date)
    checked_events.sort(key=lambda e: e.date)
    return first, assessments, checked_events


def find_baseline(
    first_dose: dt.date, assessments: Iterable[Assessment], window_days: int = 14
) -> Baseline | None:
    """The latest score in the ``window_days`` days up to and including the first dose.

    CLINICAL.md §3 (★): "the latest score in the 14 days up to and including the first dose,
    taken before it". Dates only: an assessment dated the first-dose day counts as taken
    before the dose; one dated 14 days before counts, 15 days before does not.
    """
    start = first_dose - dt.timedelta(days=window_days)
    chosen: Assessment | None = None
    for a in sorted(assessments, key=lambda x: x.date):
        if start <= a.date <= first_dose:
            chosen = a
    return Baseline(chosen.date, chosen.score) if chosen else None


def evaluate_outcomes(
    first_dose: dt.date,
    series: Iterable[Assessment | tuple[dt.date, int]],
    events: Iterable[Event | tuple[dt.date, str]] = (),
    instrument: str = "phq9",
    thresholds: OutcomeThresholds | None = None,
) -> Outcome:
    """Baseline, response, remission, relapse warning, relapse and status (CLINICAL.md §3).

    - Response: first assessment after the first dose with score <= 50 % of baseline
      (Y-BOCS: >= 35 % reduction; PCL-5: a drop of >= 10 points).
    - Remission: first assessment after the first dose meeting the remission threshold.
    - Relapse (only after response): assessments a then b with 5 <= days(b - a) <= 15, a, b
      and every assessment between them meeting the relapse score criterion (PHQ-9 >= 10 and
      reduction from baseline < 50 %); relapse date = a's date, the earliest such a. A
      hospitalisation or suicide attempt on or after the response date is a relapse on its
      date; the earliest relapse wins (SUSTAIN-1, Daly 2019).
    - Relapse warning: after response, the first assessment that meets the relapse score
      criterion or is >= 5 points above the lowest score since response (CLINICAL.md §3: an
      integration booster within 72 h and a prescriber review, before any re-dosing).
    - Status: see the module docstring.

    ``series`` holds (date, score) pairs or :class:`Assessment` objects; ``events`` holds
    (date, kind) pairs or :class:`Event` objects. ``thresholds`` defaults to
    :data:`DEFAULT_THRESHOLDS` for the instrument.
    """
    th = thresholds if thresholds is not None else thresholds_for(instrument)
    first, assessments, evs = _validate(first_dose, series, events, instrument)
    baseline = find_baseline(first, assessments, th.baseline_window_days)
    if baseline is None:
        return Outcome(
            instrument,
            None,
            None,
            None,
            None,
            None,
            None,
            "undetermined",
            relapse_undetermined=not th.relapse_defined,
        )
    base = baseline.score
    post = [a for a in assessments if a.date > first]

    response_idx = next((i for i, a in enumerate(post) if th.meets_response(base, a.score)), None)
    remission = next((a.date for a in post if th.meets_remission(a.score)), None)
    response = post[response_idx].date if response_idx is not None else None

    warning: dt.date | None = None
    relapse: dt.date | None = None
    reason: str | None = None
    if response_idx is not None:
        after = post[response_idx + 1 :]
        lowest = post[response_idx].score
        for a in after:
            if th.meets_relapse_level(base, a.score) or a.score >= lowest + th.warning_rise:
                warning = a.date
                break
            lowest = min(lowest, a.score)
        if th.relapse_defined:
            relapse = _score_relapse(after, base, th)
            if relapse is not None:
                reason = "scores"
            assert response is not None
            for ev in evs:
                if ev.date >= response:
                    if relapse is None or ev.date < relapse:
                        relapse, reason = ev.date, ev.kind
                    break  # events are sorted: the first one on/after response is earliest

    if relapse is not None:
        status = "relapse"
    elif not post:
        status = "no_response"
    else:
        last = post[-1].score
        if th.meets_remission(last):
            status = "remission"
        elif th.meets_response(base, last):
            status = "response"
        else:
            status = "no_response"
    return Outcome(
        instrument,
        baseline,
        response,
        remission,
        warning,
        relapse,
        reason,
        status,
        relapse_undetermined=not th.relapse_defined,
    )


def _score_relapse(after: list[Assessment], baseline: int, th: OutcomeThresholds) -> dt.date | None:
    """Earliest a with a later b 5-15 days on, a..b all at relapse level (CLINICAL.md §3)."""
    lo, hi = th.relapse_gap_days
    for i, a in enumerate(after):
        if not th.meets_relapse_level(baseline, a.score):
            continue
        for b in after[i + 1 :]:
            gap = (b.date - a.date).days
            if gap > hi or not th.meets_relapse_level(baseline, b.score):
                break  # a run broken by a lower score, or too far apart
            if gap >= lo:
                return a.date
    return None


def durable_remission(
    first_dose: dt.date,
    series: Iterable[Assessment | tuple[dt.date, int]],
    induction_end: dt.date,
    events: Iterable[Event | tuple[dt.date, str]] = (),
    instrument: str = "phq9",
    thresholds: OutcomeThresholds | None = None,
    days: int = 90,
    window_days: int = 14,
) -> bool | None:
    """In remission ``days`` (90) days after the last induction dose, with no relapse between.

    CLINICAL.md §3 (★ durable remission at D days). The assessment "at D" is the post-dose
    assessment closest to ``induction_end + days`` within ``window_days`` either side (the
    earlier on a tie). Returns None when it cannot be told (no baseline, or no assessment in
    that window); False when a relapse is dated on or before the later of D and that
    assessment, or when that assessment is not in remission; True otherwise.
    """
    th = thresholds if thresholds is not None else thresholds_for(instrument)
    if th.remission_max is None:
        raise InvalidInput("instrument", f"{instrument} has no remission threshold")
    end = _check_date(induction_end, "induction_end", "the end of the induction series")
    if days < 0 or window_days < 0:
        raise InvalidInput("days", "days and window_days must not be negative")
    series = list(series)
    outcome = evaluate_outcomes(first_dose, series, events, instrument, th)
    if outcome.baseline is None:
        return None
    target = end + dt.timedelta(days=days)
    _, assessments, _ = _validate(first_dose, series, (), instrument)
    candidates = [
        a for a in assessments if a.date > first_dose and abs((a.date - target).days) <= window_days
    ]
    if not candidates:
        return None
    chosen = min(candidates, key=lambda a: (abs((a.date - target).days), a.date))
    if outcome.relapse is not None and outcome.relapse <= max(target, chosen.date):
        return False
    return th.meets_remission(chosen.score)

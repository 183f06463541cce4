"""Measurement-based care rules the measures app needs on top of the instrument, outcome and
schedule modules: which assessments a track makes due, which are open now, which a patient can
answer on a phone, and what counts as a suicide-risk signal.

Sources: CLINICAL.md §1 (which instruments may be shown to patients: item text shipped), §2
(suicide risk: PHQ-9 item 9 >= 1 whatever the total; C-SSRS ``moderate``/``high``), §3 (baseline
window) and the project issue (default schedule). Pure: values in, decision out, the clock
passed in.

Mapping of a protocol track's ``measures`` (:class:`trellis.core.protocols.Measure`) to
:func:`trellis.core.assessment_schedule.assessment_schedule` (★ Trellis choices, tested):

- ``baseline`` → ``baseline``; ``before_each_dose`` → ``pre_dose``; ``after_each_dose_24h`` →
  ``post_dose``; ``weekly_weeks: K`` → ``weekly`` with K weeks; ``monthly_months: M`` →
  ``monthly`` up to month M.
- ``end_of_series`` → one timepoint ``end_of_series`` due 24 h after the last induction dose,
  window from that dose to 7 days after it.
- ``every_visit`` is asked by the clinician at each visit, not sent as a reminder: skipped here.
- Weekly, monthly and end-of-series timepoints are only known once the induction series is
  complete (its last dose given); before that only baseline and per-dose timepoints are due.
- With no dose given yet, the planned first-dose time stands in for the first dose, so the
  baseline reminder goes out in the 14 days before it (CLINICAL.md §3 baseline window).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from trellis.core.assessment_schedule import DueAssessment, ScheduleRules, assessment_schedule
from trellis.core.errors import InvalidInput
from trellis.core.instruments import ScoreResult, get_instrument
from trellis.core.outcomes import OutcomeThresholds, thresholds_for

# Protocol timepoint names → assessment_schedule kinds.
TIMEPOINT_MAP = {
    "baseline": "baseline",
    "before_each_dose": "pre_dose",
    "after_each_dose_24h": "post_dose",
}
END_OF_SERIES_WINDOW = dt.timedelta(days=7)
END_OF_SERIES_DELAY = dt.timedelta(hours=24)

# CLINICAL.md §1: ASRM total >= 6 flags possible mania -> a prescriber review before the next
# dose (bipolar track, CLINICAL.md §6); the flag's alert kind, which holds the next dose.
MANIA_FLAG = "possible_mania"
MANIA_ALERT_KIND = "possible_mania"

# CLINICAL.md §2: C-SSRS screener levels that need an urgent clinician response.
URGENT_CSSRS = frozenset({"moderate", "high"})


@dataclass(frozen=True)
class TrackMeasure:
    """One instrument of a track (mirror of :class:`trellis.core.protocols.Measure`)."""

    instrument: str
    timepoints: tuple[str, ...] = ()
    weekly_weeks: int | None = None
    monthly_months: int | None = None


def patient_reportable(instrument_id: str) -> bool:
    """True when a patient may answer ``instrument_id`` themselves on a check-in link.

    CLINICAL.md §1: only instruments whose item text Trellis may ship and that are scored from
    item answers (PHQ-9, GAD-7, PCL-5). Copyrighted or unlicensed ones (MADRS, Y-BOCS, CADSS,
    C-SSRS wording, QIDS-SR16 electronic use) are clinician-entered only.
    """
    inst = get_instrument(instrument_id)
    return inst.ship_item_text and inst.scoring_method in ("sum", "domains")


def suicide_item(instrument_id: str) -> str | None:
    """The item whose answer raises ``suicidal_ideation`` (PHQ-9 item 9, QIDS-SR16 item 12), read
    from the instrument's data file (CLINICAL.md §2: any instrument with a suicide item raises
    the same flag on the same path); None when the instrument has none."""
    for rule in get_instrument(instrument_id).flags:
        if rule.token == "suicidal_ideation" and rule.rule == "item_at_least":
            return rule.item
    return None


def suicide_risk(result: ScoreResult) -> bool:
    """The suicide-risk signal of one scored administration (CLINICAL.md §2).

    PHQ-9 item 9 >= 1 or QIDS-SR16 item 12 >= 1 raises the ``suicidal_ideation`` flag whatever
    the total; a C-SSRS screener at ``moderate`` or ``high`` risk. Either needs a same-day
    clinician response.
    """
    return "suicidal_ideation" in result.flags or (result.risk in URGENT_CSSRS)


def track_schedule(
    measures: Iterable[TrackMeasure],
    first_dose: dt.datetime,
    doses: Sequence[dt.datetime],
    induction_end: dt.datetime | None,
    rules: ScheduleRules | None = None,
) -> list[DueAssessment]:
    """Every due measure of a track, sorted by due time (see the module docstring).

    ``first_dose``: the first dose's time (or the planned time before it is given); ``doses``:
    the doses given so far; ``induction_end``: the last induction dose's time once the series is
    complete, else None.
    """
    base = rules or ScheduleRules()
    out: list[DueAssessment] = []
    end = induction_end or first_dose
    for m in measures:
        kinds = [TIMEPOINT_MAP[t] for t in m.timepoints if t in TIMEPOINT_MAP]
        weekly = bool(m.weekly_weeks) and induction_end is not None
        monthly = bool(m.monthly_months) and induction_end is not None
        if weekly:
            kinds.append("weekly")
        if monthly:
            kinds.append("monthly")
        if kinds:
            rules_m = ScheduleRules(
                **{
                    **base.__dict__,
                    "weekly_count": m.weekly_weeks or 0,
                    "monthly_until": m.monthly_months or 0,
                }
            )
            out.extend(
                assessment_schedule(
                    first_dose,
                    list(doses),
                    end,
                    spec=[{"instrument": m.instrument, "timepoints": kinds}],
                    rules=rules_m,
                )
            )
        if "end_of_series" in m.timepoints and induction_end is not None:
            due = induction_end + END_OF_SERIES_DELAY
            out.append(
                DueAssessment(
                    m.instrument,
                    "end_of_series",
                    "end_of_series",
                    due,
                    induction_end,
                    induction_end + END_OF_SERIES_WINDOW,
                )
            )
    out.sort(key=lambda d: (d.due_at, d.instrument, d.timepoint))
    return out


def open_now(
    schedule: Iterable[DueAssessment],
    now: dt.datetime,
    taken: Iterable[tuple[str, dt.datetime]] = (),
) -> list[DueAssessment]:
    """Due measures whose window contains ``now`` and that no administration has satisfied.

    ``taken``: (instrument, time) of administrations already on file; one taken inside a
    timepoint's window satisfies it (assessment_schedule: the matching belongs to the caller).
    """
    done = list(taken)
    result = []
    for d in schedule:
        if not d.window_start <= now <= d.window_end:
            continue
        if any(i == d.instrument and d.window_start <= t <= d.window_end for i, t in done):
            continue
        result.append(d)
    return result


def track_thresholds(instrument_id: str, response_threshold_percent: float) -> OutcomeThresholds:
    """Outcome thresholds for a track's primary instrument (CLINICAL.md §3, ★).

    The track's ``response_threshold_percent`` sets the response reduction (iv-ocd: 35 % on
    Y-BOCS, CLINICAL.md §6; others 50 %). Instruments with defaults in
    :data:`trellis.core.outcomes.DEFAULT_THRESHOLDS` keep their remission and relapse rules.
    Others with a total (PCL-5 on the PTSD tracks) get response only: CLINICAL.md gives no
    remission or relapse score criterion for them, and the relapse-warning rise is the
    instrument's clinically meaningful change (PCL-5: 10 points, CLINICAL.md §1) instead of 5.
    """
    if not 0 < response_threshold_percent <= 100:
        raise InvalidInput("response_threshold_percent", "must be in (0, 100]")
    reduction = Fraction(str(response_threshold_percent)) / 100
    try:
        return replace(thresholds_for(instrument_id), response_reduction=reduction)
    except InvalidInput:
        inst = get_instrument(instrument_id)
        if inst.range_max is None:
            raise
        return OutcomeThresholds(
            response_reduction=reduction,
            remission_max=None,
            relapse_min=None,
            warning_rise=inst.meaningful_change or 5,
        )

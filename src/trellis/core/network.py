"""Network measures on the de-identified dataset ``trellis-network/1`` (CLINICAL.md §3, §9).

Two layers, both pure:

1. **Per-episode definitions** (:func:`episode_measures`): the reference reading of CLINICAL.md
   §9 on day offsets (day 0 = the first dose). The analytics engine (:mod:`trellis.analytics`)
   computes the same quantities with Ibis expressions at scale; a test holds the two equal on a
   synthetic network, so the definitions live here once and the engine is checked against them.
2. **Statistics from counts** (Wilson intervals, Kaplan–Meier with Greenwood intervals,
   log-rank, funnel-plot limits, suppression, maintenance index, cost per durable remission):
   each takes *counts* (per-day numbers at risk and events, numerators and denominators), so
   pooled counts from several programs or aggregate bundles reproduce them exactly.

Readings of the definitions, made here and tested (CLINICAL.md §9 "§3 applies as written, with
days for dates"):

- PHQ-9 is the network's primary instrument for every track (§9). At most one assessment per
  episode, instrument and day is in the dataset (the export keeps the day's last one).
- **Baseline**: the latest PHQ-9 on days −14 … 0 (day 0 counts as before the dose, §3).
- **Response**: the first PHQ-9 on day ≥ 1 with score ≤ 50 % of baseline; **remission**: the
  first on day ≥ 1 with score < 5 (§3).
- **Relapse** (§3, SUSTAIN-1): among assessments after the response day, a then b with
  5 ≤ b − a ≤ 15 days, a, b and every assessment between them with score ≥ 10 and reduction from
  baseline < 50 %; relapse day = the earliest such a. A ``hospitalization`` or
  ``suicide_attempt`` event on or after the response day is a relapse on its day
  (``emergency_visit`` is not, §3); the earliest wins.
- **L** = the last day with an ``induction`` dose; an episode without one has no L and is in
  none of the measures that need it (durable remission, engagement, maintenance index).
- **Engaged**: integration activities on days 0 … L + 7, ``done`` ≥ 80 % of ``done`` + ``missed``
  (exact arithmetic: 4 of 5 is engaged, 3 of 4 is not); none planned → not engaged.
- **Durable remission at 90 days**: denominator = evaluable with ``last_day`` ≥ L + 90; numerator =
  those whose PHQ-9 nearest L + 90 within L + 76 … L + 104 (a tie takes the later) is < 5 with no
  relapse on or before its day. No assessment in the window → in the denominator, not durable.
- **Relapse-free survival** (responders): time = relapse day − response day (event), else the
  last PHQ-9 day − response day (censored).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from trellis.core.errors import InvalidInput

__all__ = [
    "DURABLE_DAYS",
    "ENGAGED_SHARE",
    "EVALUABLE_WINDOW",
    "RATE_DAY_MAX",
    "SMALL_CELL_MAX",
    "Curve",
    "EpisodeInput",
    "EpisodeMeasures",
    "LogRank",
    "complementary_suppression",
    "cost_per_durable_remission",
    "episode_measures",
    "funnel_limits",
    "kaplan_meier",
    "logrank",
    "maintenance_index",
    "wilson",
]

PRIMARY = "phq9"
BASELINE_WINDOW = (-14, 0)  # §3: the 14 days up to and including the first dose (day 0)
EVALUABLE_WINDOW = (14, 31)  # §9: at least one primary assessment on days 14–31
RATE_DAY_MAX = 31  # §9: response / remission on or before day 31
DURABLE_DAYS = 90  # §3 ★ durable remission at D = 90 days after L
DURABLE_WINDOW = 14  # §9: L + 76 … L + 104
ENGAGED_SHARE = Fraction(4, 5)  # §9: done ≥ 80 % of done + missed
ENGAGED_AFTER_L = 7  # §9: integration on days 0 … L + 7
RELAPSE_GAP = (5, 15)  # §3 (SUSTAIN-1): two assessments 5–15 days apart
RELAPSE_MIN = 10  # §3: PHQ-9 ≥ 10 …
REMISSION_MAX = 4  # §3: PHQ-9 < 5
RELAPSE_EVENTS = ("hospitalization", "suicide_attempt")  # §3; emergency visits are not relapse
SMALL_CELL_MAX = 10  # §9 / CMS cell-size policy: cells under 11 are suppressed
Z95 = 1.959963984540054  # two-sided 95 %
Z998 = 3.090232306167813  # two-sided 99.8 %
DAYS_PER_YEAR = 365.25


# --------------------------------------------------------------------------------------------
# Per-episode definitions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpisodeInput:
    """One episode's records as day offsets (the ``trellis-network/1`` rows of one episode).

    ``phq9``: (day, total) pairs; ``doses``: (day, phase); ``integration``: (day, status) of the
    episode's integration activities; ``events``: (day, kind).
    """

    last_day: int
    phq9: Sequence[tuple[int, int]]
    doses: Sequence[tuple[int, str]] = ()
    integration: Sequence[tuple[int, str]] = ()
    events: Sequence[tuple[int, str]] = ()


@dataclass(frozen=True)
class EpisodeMeasures:
    baseline: int | None
    evaluable: bool
    response_day: int | None
    remission_day: int | None
    relapse_day: int | None
    induction_end: int | None  # L
    engaged: bool
    durable_denominator: bool
    durable: bool
    rfs_time: int | None  # responders only
    rfs_event: bool | None
    boosters: int  # doses with phase booster or maintenance
    exposure_days: int  # max(0, last_day − L); 0 without L

    @property
    def responded_by_31(self) -> bool:
        return self.evaluable and self.response_day is not None and self.response_day <= 31

    @property
    def remitted_by_31(self) -> bool:
        return self.evaluable and self.remission_day is not None and self.remission_day <= 31


def _relapse_level(baseline: int, score: int) -> bool:
    """§3: PHQ-9 ≥ 10 and reduction from baseline < 50 % (score > baseline / 2)."""
    return score >= RELAPSE_MIN and 2 * score > baseline


def episode_measures(ep: EpisodeInput) -> EpisodeMeasures:
    """Every per-episode quantity of CLINICAL.md §9 (see the module docstring for readings)."""
    series = sorted(ep.phq9)
    days = [d for d, _ in series]
    if len(set(days)) != len(days):
        raise InvalidInput("phq9", "at most one assessment per day")
    lo, hi = BASELINE_WINDOW
    pre = [s for d, s in series if lo <= d <= hi]
    baseline = pre[-1] if pre else None
    induction = [d for d, phase in ep.doses if phase == "induction"]
    big_l = max(induction) if induction else None
    boosters = sum(1 for _, phase in ep.doses if phase in ("booster", "maintenance"))
    exposure = max(0, ep.last_day - big_l) if big_l is not None else 0
    engaged = False
    if big_l is not None:
        window = [st for d, st in ep.integration if 0 <= d <= big_l + ENGAGED_AFTER_L]
        done = window.count("done")
        counted = done + window.count("missed")
        engaged = counted > 0 and Fraction(done, counted) >= ENGAGED_SHARE
    if baseline is None:
        return EpisodeMeasures(
            None, False, None, None, None, big_l, engaged, False, False, None, None, boosters,
            exposure,
        )  # fmt: skip
    post = [(d, s) for d, s in series if d >= 1]
    evaluable = any(EVALUABLE_WINDOW[0] <= d <= EVALUABLE_WINDOW[1] for d, _ in series)
    response = next((d for d, s in post if 2 * s <= baseline), None)
    remission = next((d for d, s in post if s <= REMISSION_MAX), None)
    relapse: int | None = None
    if response is not None:
        after = [(d, s) for d, s in post if d > response]
        for i, (a_day, a_score) in enumerate(after):
            if not _relapse_level(baseline, a_score):
                continue
            found = False
            for b_day, b_score in after[i + 1 :]:
                if b_day - a_day > RELAPSE_GAP[1] or not _relapse_level(baseline, b_score):
                    break
                if b_day - a_day >= RELAPSE_GAP[0]:
                    found = True
                    break
            if found:
                relapse = a_day
                break
        event_days = [d for d, k in ep.events if k in RELAPSE_EVENTS and d >= response]
        if event_days and (relapse is None or min(event_days) < relapse):
            relapse = min(event_days)
    durable_den = evaluable and big_l is not None and ep.last_day >= big_l + DURABLE_DAYS
    durable = False
    if durable_den:
        assert big_l is not None
        target = big_l + DURABLE_DAYS
        near = [(d, s) for d, s in post if abs(d - target) <= DURABLE_WINDOW]
        if near:
            day, score = min(near, key=lambda x: (abs(x[0] - target), -x[0]))
            durable = score <= REMISSION_MAX and (relapse is None or relapse > day)
    rfs_time: int | None = None
    rfs_event: bool | None = None
    if response is not None:
        if relapse is not None:
            rfs_time, rfs_event = relapse - response, True
        else:
            rfs_time, rfs_event = days[-1] - response, False
    return EpisodeMeasures(
        baseline, evaluable, response, remission, relapse, big_l, engaged, durable_den, durable,
        rfs_time, rfs_event, boosters, exposure,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# Statistics from counts
# --------------------------------------------------------------------------------------------


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for k successes in n trials (Wilson 1927, JASA 22:209); None if n=0.

    Unlike the Wald interval it stays inside [0, 1] and is not degenerate at k = 0 or k = n.
    """
    if n < 0 or not 0 <= k <= n:
        raise InvalidInput("k", f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # The exact bounds at k = 0 and k = n are 0 and 1; keep rounding from crossing p.
    lo = 0.0 if k == 0 else min(p, max(0.0, centre - half))
    hi = 1.0 if k == n else max(p, min(1.0, centre + half))
    return (lo, hi)


@dataclass(frozen=True)
class Curve:
    """A Kaplan–Meier curve: at each distinct time with an event or a censoring, S(t) and its
    95 % interval (Greenwood variance on the log(−log S) scale, Kalbfleisch & Prentice 2002;
    the interval lifelines reports)."""

    n: int
    events: int
    times: tuple[int, ...]
    at_risk: tuple[int, ...]
    survival: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def at(self, t: int) -> float | None:
        """S(t), including events at t; None when t is past the last follow-up (undefined)."""
        if not self.times or t > self.times[-1]:
            return None
        value = 1.0
        for time, s in zip(self.times, self.survival, strict=True):
            if time > t:
                break
            value = s
        return value

    def ci_at(self, t: int) -> tuple[float, float] | None:
        if not self.times or t > self.times[-1]:
            return None
        value = (1.0, 1.0)
        for time, lo, hi in zip(self.times, self.lower, self.upper, strict=True):
            if time > t:
                break
            value = (lo, hi)
        return value

    @property
    def median(self) -> int | None:
        """The smallest t with S(t) ≤ 0.5 (§9); None if the curve never gets there."""
        return next((t for t, s in zip(self.times, self.survival, strict=True) if s <= 0.5), None)


def _counts(rows: Iterable[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    merged: dict[int, list[int]] = {}
    for t, d, c in rows:
        if t < 0 or d < 0 or c < 0:
            raise InvalidInput("survival", f"negative time or count at t={t}")
        cell = merged.setdefault(int(t), [0, 0])
        cell[0] += int(d)
        cell[1] += int(c)
    return [(t, d, c) for t, (d, c) in sorted(merged.items())]


def kaplan_meier(rows: Iterable[tuple[int, int, int]]) -> Curve:
    """Kaplan–Meier from per-time counts ``(t, events, censored)`` (Kaplan & Meier 1958).

    At risk at t = those with time ≥ t; S(t) includes the events at t (§9). Rows with the same t
    are added, so pooled counts from several sources give the same curve.
    """
    table = _counts(rows)
    n = sum(d + c for _, d, c in table)
    at_risk = n
    s = 1.0
    green = 0.0
    times: list[int] = []
    risks: list[int] = []
    surv: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for t, d, c in table:
        if d:
            s *= 1 - d / at_risk
            if at_risk > d:
                green += d / (at_risk * (at_risk - d))
        times.append(t)
        risks.append(at_risk)
        surv.append(s)
        if 0 < s < 1 and green > 0:
            se = math.sqrt(green) / abs(math.log(s))
            lows.append(s ** math.exp(Z95 * se))
            highs.append(s ** math.exp(-Z95 * se))
        else:  # no event yet (S = 1) or none left (S = 0): the interval is the point
            lows.append(s)
            highs.append(s)
        at_risk -= d + c
    return Curve(
        n=n,
        events=sum(d for _, d, _ in table),
        times=tuple(times),
        at_risk=tuple(risks),
        survival=tuple(surv),
        lower=tuple(lows),
        upper=tuple(highs),
    )


@dataclass(frozen=True)
class LogRank:
    chi2: float
    p: float
    observed: tuple[int, int]
    expected: tuple[float, float]


def logrank(
    group_a: Iterable[tuple[int, int, int]], group_b: Iterable[tuple[int, int, int]]
) -> LogRank | None:
    """Two-group log-rank test from per-time counts (Mantel 1966; chi-square with 1 df).

    None when it is undefined (no events, or a group is empty).
    """
    a = {t: (d, c) for t, d, c in _counts(group_a)}
    b = {t: (d, c) for t, d, c in _counts(group_b)}
    n_a = sum(d + c for d, c in a.values())
    n_b = sum(d + c for d, c in b.values())
    if n_a == 0 or n_b == 0:
        return None
    obs_a = exp_a = var = 0.0
    total_events = 0
    for t in sorted(set(a) | set(b)):
        d_a, c_a = a.get(t, (0, 0))
        d_b, c_b = b.get(t, (0, 0))
        d = d_a + d_b
        n = n_a + n_b
        if d and n > 1:
            exp_a += d * n_a / n
            var += d * (n_a / n) * (1 - n_a / n) * (n - d) / (n - 1)
        obs_a += d_a
        total_events += d
        n_a -= d_a + c_a
        n_b -= d_b + c_b
    if total_events == 0 or var <= 0:
        return None
    chi2 = (obs_a - exp_a) ** 2 / var
    p = math.erfc(math.sqrt(chi2 / 2))  # survival function of chi-square with 1 df
    return LogRank(chi2, p, (int(obs_a), total_events - int(obs_a)), (exp_a, total_events - exp_a))


def funnel_limits(p0: float, n: int, z: float) -> tuple[float, float]:
    """Control limits of a funnel plot for a proportion: p0 ± z·√(p0(1−p0)/n), within [0, 1]
    (Spiegelhalter 2005, Stat Med 24:1185; z = 1.96 for 95 %, 3.09 for 99.8 %)."""
    if n <= 0:
        raise InvalidInput("n", "must be positive")
    if not 0 <= p0 <= 1:
        raise InvalidInput("p0", "must be in [0, 1]")
    half = z * math.sqrt(p0 * (1 - p0) / n)
    return (max(0.0, p0 - half), min(1.0, p0 + half))


def complementary_suppression(cells: Sequence[int]) -> list[bool]:
    """Which cells of one column to suppress (True) so none under 11 can be recovered (§9).

    Primary: every cell under 11 (0 included: §9 says "under 11"). Complementary: the column's
    total is published, so when exactly one cell is suppressed, the smallest other cell is
    suppressed too; neither can then be derived by subtraction (CMS cell-size policy).
    """
    marks = [n <= SMALL_CELL_MAX for n in cells]
    if sum(marks) == 1:
        others = [(n, i) for i, n in enumerate(cells) if not marks[i]]
        if others:
            marks[min(others)[1]] = True
    return marks


def maintenance_index(doses: int, exposure_days: int) -> float | None:
    """Booster and maintenance doses per patient-year after the induction (§9); None if no
    follow-up time."""
    if doses < 0 or exposure_days < 0:
        raise InvalidInput("maintenance_index", "counts must not be negative")
    if exposure_days == 0:
        return None
    return doses / (exposure_days / DAYS_PER_YEAR)


def cost_per_durable_remission(gross: Decimal, durable: int) -> Decimal | None:
    """Gross charges of the durable-remission denominator ÷ its durable remissions (§9)."""
    if durable < 0:
        raise InvalidInput("durable", "must not be negative")
    if durable == 0:
        return None
    return (gross / durable).quantize(Decimal("0.01"))


def rate(k: int, n: int) -> float | None:
    """k / n as a fraction in [0, 1]; None when n = 0 (undefined)."""
    return None if n == 0 else k / n


def suppressed_table(
    rows: Sequence[Mapping[str, int]], columns: Sequence[str]
) -> list[dict[str, bool]]:
    """Per row, per column: suppressed? Complementary suppression runs down each column."""
    marks = {c: complementary_suppression([r[c] for r in rows]) for c in columns}
    return [{c: marks[c][i] for c in columns} for i in range(len(rows))]

"""Outcomes (CLINICAL.md §3): baseline, response, remission, relapse, warning, status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.outcomes import (
    STATUSES,
    Assessment,
    Event,
    Outcome,
    OutcomeThresholds,
    durable_remission,
    evaluate_outcomes,
    thresholds_for,
)

D0 = dt.date(2026, 3, 2)  # first dose (synthetic)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def run(
    series: list[tuple[int, int]], events: Sequence[tuple[int, str]] = (), **kw: Any
) -> Outcome:
    return evaluate_outcomes(
        D0, [(day(d), s) for d, s in series], [(day(d), k) for d, k in events], **kw
    )


# Baseline
def test_no_baseline_is_undetermined() -> None:
    out = run([(3, 4), (10, 2)])
    assert out.baseline is None
    assert out.status == "undetermined"
    assert (out.response, out.remission, out.relapse, out.relapse_warning) == (None,) * 4


def test_baseline_15_days_before_is_none_14_is_kept() -> None:
    assert run([(-15, 20), (7, 5)]).baseline is None
    out = run([(-14, 20), (7, 5)])
    assert out.baseline is not None
    assert (out.baseline.date, out.baseline.score) == (day(-14), 20)


def test_baseline_is_latest_in_window_and_same_day_counts() -> None:
    out = run([(-10, 22), (-3, 18), (0, 16), (7, 4)])
    assert out.baseline is not None
    assert (out.baseline.date, out.baseline.score) == (D0, 16)


def test_same_day_assessment_is_not_post_dose() -> None:
    # A score of 2 on the first-dose day is the baseline, not a remission.
    out = run([(-5, 20), (0, 2)])
    assert out.remission is None
    assert out.response is None
    assert out.status == "no_response"


# Response and remission
@pytest.mark.parametrize(
    ("baseline", "score", "responds"),
    [(20, 10, True), (20, 11, False), (15, 7, True), (15, 8, False), (10, 5, True)],
)
def test_response_at_exactly_50_percent(baseline: int, score: int, responds: bool) -> None:
    out = run([(-1, baseline), (7, score)])
    assert (out.response == day(7)) is responds


def test_response_is_first_qualifying_assessment() -> None:
    out = run([(-1, 20), (3, 15), (7, 10), (14, 8)])
    assert out.response == day(7)


@pytest.mark.parametrize(("score", "remits"), [(4, True), (5, False)])
def test_phq9_remission_4_vs_5(score: int, remits: bool) -> None:
    out = run([(-1, 20), (7, score)])
    assert (out.remission == day(7)) is remits
    assert out.status == ("remission" if remits else "response")


# Relapse by scores (gap 4 / 5 / 15 / 16 days)
@pytest.mark.parametrize(("gap", "relapses"), [(4, False), (5, True), (15, True), (16, False)])
def test_relapse_gap(gap: int, relapses: bool) -> None:
    out = run([(-1, 20), (7, 8), (30, 12), (30 + gap, 13)])
    assert out.response == day(7)
    assert out.relapse == (day(30) if relapses else None)
    assert out.status == ("relapse" if relapses else "no_response")
    if relapses:
        assert out.relapse_reason == "scores"


def test_gap_4_then_later_pair_uses_earliest_a() -> None:
    # 30, 34, 40 all at relapse level: a=30 pairs with 40 (10 days): relapse dated day 30.
    out = run([(-1, 20), (7, 8), (30, 12), (34, 12), (40, 12)])
    assert out.relapse == day(30)


def test_intervening_low_score_breaks_the_pair() -> None:
    out = run([(-1, 20), (7, 8), (30, 12), (33, 9), (38, 12)])
    assert out.relapse is None


def test_intervening_score_with_50_percent_reduction_breaks_the_pair() -> None:
    # Baseline 24: a score of 12 is >= 10 but a 50 % reduction, so not relapse level.
    out = run([(-1, 24), (7, 6), (30, 14), (33, 12), (38, 14)])
    assert out.relapse is None


def test_relapse_needs_reduction_below_50_percent() -> None:
    # Baseline 20: scores of 10 are >= 10 but exactly 50 % reduction: not relapse.
    out = run([(-1, 20), (7, 6), (20, 10), (27, 10)])
    assert out.relapse is None
    out = run([(-1, 20), (7, 6), (20, 11), (27, 11)])
    assert out.relapse == day(20)


def test_relapse_only_after_response() -> None:
    out = run([(-1, 20), (5, 15), (12, 16), (30, 8)])
    assert out.response == day(30)
    assert out.relapse is None


def test_remitted_then_relapsed_is_relapse() -> None:
    out = run([(-1, 20), (7, 3), (40, 15), (47, 16), (60, 3)])
    assert out.remission == day(7)
    assert out.relapse == day(40)
    assert out.status == "relapse"


# Relapse by events
@pytest.mark.parametrize("kind", ["hospitalization", "suicide_attempt"])
def test_event_after_response_is_relapse(kind: str) -> None:
    out = run([(-1, 20), (7, 8), (20, 6)], events=[(25, kind)])
    assert out.relapse == day(25)
    assert out.relapse_reason == kind
    assert out.status == "relapse"


def test_event_before_response_is_ignored() -> None:
    out = run([(-1, 20), (7, 15), (20, 6)], events=[(10, "hospitalization")])
    assert out.relapse is None
    assert out.status == "response"


def test_event_on_response_day_counts() -> None:
    out = run([(-1, 20), (7, 8)], events=[(7, "suicide_attempt")])
    assert out.relapse == day(7)


def test_earliest_relapse_wins() -> None:
    scores = [(-1, 20), (7, 8), (30, 12), (36, 12)]
    assert run(scores, events=[(40, "hospitalization")]).relapse == day(30)
    out = run(scores, events=[(20, "hospitalization")])
    assert out.relapse == day(20)
    assert out.relapse_reason == "hospitalization"


# Relapse warning
def test_warning_by_five_point_rise() -> None:
    out = run([(-1, 20), (7, 6), (14, 3), (21, 7), (28, 8)])
    assert out.relapse_warning == day(28)  # 8 >= 3 + 5; 7 is only +4
    assert out.relapse is None


def test_warning_by_relapse_criterion() -> None:
    # Lowest since response 8; 11 is only +3 but meets the relapse score criterion.
    out = run([(-1, 20), (7, 8), (14, 11)])
    assert out.relapse_warning == day(14)


def test_no_warning_before_response() -> None:
    out = run([(-1, 20), (7, 14), (14, 19)])
    assert out.relapse_warning is None


# Status
def test_status_responder_whose_latest_no_longer_meets_response() -> None:
    out = run([(-1, 20), (7, 8), (14, 12)])
    assert out.response == day(7)
    assert out.relapse is None
    assert out.status == "no_response"


def test_status_baseline_only() -> None:
    assert run([(-1, 20)]).status == "no_response"


# Other instruments
def test_madrs_thresholds() -> None:
    out = run([(-1, 34), (7, 12), (30, 22), (36, 23)], instrument="madrs")
    assert out.remission == day(7)
    assert out.relapse == day(30)
    out = run([(-1, 34), (7, 13), (30, 21), (36, 21)], instrument="madrs")
    assert out.remission is None
    assert out.response == day(7)
    assert out.relapse is None


def test_qids_remission_at_5() -> None:
    assert run([(-1, 16), (7, 5)], instrument="qids-sr16").remission == day(7)
    assert run([(-1, 16), (7, 6)], instrument="qids-sr16").remission is None


@pytest.mark.parametrize(("score", "responds"), [(13, True), (14, False)])
def test_ybocs_35_percent_response(score: int, responds: bool) -> None:
    out = run([(-1, 20), (7, score)], instrument="ybocs")
    assert (out.response is not None) is responds
    assert out.remission is None
    assert out.status == ("response" if responds else "no_response")


def test_custom_thresholds_madrs_remission_10() -> None:
    th = OutcomeThresholds(remission_max=10, relapse_min=22)
    assert run([(-1, 30), (7, 11)], instrument="madrs", thresholds=th).remission is None


def test_thresholds_validate() -> None:
    with pytest.raises(InvalidInput):
        OutcomeThresholds(response_reduction=Fraction(0))
    with pytest.raises(InvalidInput):
        OutcomeThresholds(relapse_gap_days=(10, 5))
    with pytest.raises(InvalidInput, match="supported"):
        thresholds_for("gad7")


# Validation
@pytest.mark.parametrize(
    ("series", "events", "field"),
    [
        ([(day(-1), 28)], [], "series"),
        ([(day(-1), -1)], [], "series"),
        ([(day(-1), True)], [], "series"),
        ([("2026-03-01", 5)], [], "series"),
        ([(dt.datetime(2026, 3, 1, 9), 5)], [], "series"),
        ([(day(-1), 5, 1)], [], "series"),
        ([(day(-1), 5)], [(day(3), "fall")], "events"),
        ([(day(-1), 5)], [("x", "hospitalization")], "events"),
    ],
)
def test_invalid_input(series: list[object], events: list[object], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        evaluate_outcomes(D0, series, events)  # type: ignore[arg-type]
    assert exc.value.field == field


def test_invalid_first_dose_and_instrument() -> None:
    with pytest.raises(InvalidInput) as exc:
        evaluate_outcomes("2026-03-02", [])  # type: ignore[arg-type]
    assert exc.value.field == "first_dose"
    with pytest.raises(InvalidInput) as exc:
        evaluate_outcomes(D0, [], instrument="cssrs")
    assert exc.value.field == "instrument"


def test_accepts_dataclasses_and_unsorted_input() -> None:
    out = evaluate_outcomes(
        D0,
        [Assessment(day(7), 8), Assessment(day(-1), 20)],
        [Event(day(9), "hospitalization")],
    )
    assert out.response == day(7)
    assert out.relapse == day(9)


def test_to_dict_contract() -> None:
    out = run([(-1, 20), (7, 4)]).to_dict()
    assert out["baseline"] == {"date": day(-1).isoformat(), "score": 20}
    assert out["response"] == day(7).isoformat()
    assert out["status"] == "remission"
    assert {"response", "remission", "relapse_warning", "relapse", "status"} <= set(out)


# Durable remission
def test_durable_remission() -> None:
    end = day(14)
    series = [(day(-1), 20), (day(7), 3), (day(100), 4)]
    assert durable_remission(D0, series, end) is True
    assert durable_remission(D0, [(day(-1), 20), (day(7), 3), (day(104), 5)], end) is False
    # Relapse in between → not durable even though remitted again by day 104.
    relapsing = [(day(-1), 20), (day(7), 3), (day(40), 14), (day(47), 14), (day(104), 2)]
    assert durable_remission(D0, relapsing, end) is False
    # Nothing near day 104 → cannot tell.
    assert durable_remission(D0, [(day(-1), 20), (day(7), 3), (day(60), 2)], end) is None
    assert durable_remission(D0, [(day(7), 3), (day(104), 2)], end) is None
    with pytest.raises(InvalidInput):
        durable_remission(D0, series, end, instrument="ybocs")


# Properties
def naive_score_relapse(
    post: list[tuple[int, int]], baseline: int, response_idx: int
) -> int | None:
    """CLINICAL §3 read literally: every (a, b) pair after response, earliest a."""
    after = post[response_idx + 1 :]

    def level(s: int) -> bool:
        return s >= 10 and 2 * s > baseline

    for i in range(len(after)):
        for j in range(i + 1, len(after)):
            gap = after[j][0] - after[i][0]
            if 5 <= gap <= 15 and all(level(s) for _, s in after[i : j + 1]):
                return after[i][0]
    return None


@st.composite
def series_strategy(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    baseline = draw(st.integers(0, 27))
    n = draw(st.integers(0, 12))
    days = sorted(draw(st.lists(st.integers(1, 120), min_size=n, max_size=n, unique=True)))
    return baseline, [(d, draw(st.integers(0, 27))) for d in days]


@settings(max_examples=200, deadline=None)
@given(series_strategy())
def test_matches_literal_reading(case: tuple[int, list[tuple[int, int]]]) -> None:
    baseline, post = case
    out = run([(-1, baseline), *post])
    assert out.status in STATUSES
    resp_idx = next((i for i, (_, s) in enumerate(post) if 2 * s <= baseline), None)
    assert out.response == (day(post[resp_idx][0]) if resp_idx is not None else None)
    rem = next((d for d, s in post if s < 5), None)
    assert out.remission == (day(rem) if rem is not None else None)
    expected = naive_score_relapse(post, baseline, resp_idx) if resp_idx is not None else None
    assert out.relapse == (day(expected) if expected is not None else None)
    if out.relapse is not None:
        assert out.response is not None
        assert out.relapse > out.response
        assert out.relapse_warning is not None
        assert out.relapse_warning <= out.relapse
        assert out.status == "relapse"


# --- PCL-5 (CLINICAL.md §3) ---------------------------------------------------------------


@pytest.mark.parametrize(("score", "responded"), [(41, True), (40, True), (42, False)])
def test_pcl5_response_is_a_drop_of_10_points(score: int, responded: bool) -> None:
    out = run([(-1, 51), (7, score)], instrument="pcl5")
    assert (out.response == day(7)) is responded


@pytest.mark.parametrize(("score", "remitted"), [(32, True), (33, False)])
def test_pcl5_remission_below_33(score: int, remitted: bool) -> None:
    out = run([(-1, 45), (7, score)], instrument="pcl5")
    assert (out.remission == day(7)) is remitted
    assert out.status == ("remission" if remitted else "response")


def test_pcl5_relapse_is_undetermined_whatever_the_scores_or_events() -> None:
    """Relapse is not defined for PCL-5 (CLINICAL.md §3): reported ``undetermined``."""
    series = [(-1, 60), (7, 30), (14, 58), (21, 59), (28, 60)]
    out = run(series, [(10, "hospitalization")], instrument="pcl5")
    assert out.response == day(7)
    assert out.relapse is None
    assert out.relapse_reason is None
    assert out.status == "no_response"
    assert out.to_dict()["relapse"] == "undetermined"
    assert out.relapse_warning == day(14)  # 28 points above the lowest: booster and review

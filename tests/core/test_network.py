"""Network measures (CLINICAL.md §3, §9) at their boundaries, against hand-computed cases."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core import network as nw
from trellis.core.deid import pseudonym, top_coded_age, zip3
from trellis.core.errors import InvalidInput

IND = [(0, "induction"), (2, "induction"), (4, "induction")]  # L = 4


def ep(phq9, doses=IND, integration=(), events=(), last_day=None):
    last = last_day if last_day is not None else max([d for d, _ in phq9] + [4])
    return nw.episode_measures(nw.EpisodeInput(last, phq9, doses, integration, events))


# --- baseline and evaluable ------------------------------------------------------------------


def test_baseline_is_the_latest_in_days_minus_14_to_0():
    assert ep([(-15, 20), (14, 20)]).baseline is None
    assert ep([(-14, 20), (14, 20)]).baseline == 20
    assert ep([(-14, 20), (0, 16), (14, 8)]).baseline == 16  # day 0 counts as before the dose


def test_no_baseline_no_outcomes():
    m = ep([(-20, 20), (7, 2), (14, 2)])
    assert (m.evaluable, m.response_day, m.remission_day, m.rfs_time) == (False, None, None, None)


@pytest.mark.parametrize(("day", "evaluable"), [(13, False), (14, True), (31, True), (32, False)])
def test_evaluable_needs_an_assessment_on_days_14_to_31(day, evaluable):
    assert ep([(-1, 20), (day, 18)]).evaluable is evaluable


# --- response, remission -----------------------------------------------------------------------


def test_response_is_score_at_most_half_of_baseline():
    assert ep([(0, 20), (7, 11), (14, 11)]).response_day is None
    assert ep([(0, 20), (7, 11), (14, 10)]).response_day == 14
    assert ep([(0, 19), (7, 9)]).response_day == 7  # 9 <= 9.5


def test_remission_is_phq9_below_5_after_day_0():
    assert ep([(0, 4), (14, 5)]).remission_day is None  # a day-0 score is baseline, not outcome
    assert ep([(0, 20), (14, 5), (21, 4)]).remission_day == 21


@pytest.mark.parametrize(("day", "counted"), [(31, True), (32, False)])
def test_rates_count_response_and_remission_on_or_before_day_31(day, counted):
    m = ep([(0, 20), (14, 15), (day, 3)])
    assert m.responded_by_31 is counted
    assert m.remitted_by_31 is counted


# --- relapse -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("gap", "relapse"), [(4, None), (5, 21), (15, 21), (16, None)])
def test_relapse_needs_two_relapse_level_scores_5_to_15_days_apart(gap, relapse):
    m = ep([(0, 20), (14, 8), (21, 12), (21 + gap, 12)])
    assert m.relapse_day == relapse


def test_relapse_level_needs_phq9_10_and_reduction_below_half():
    # Baseline 20: 10 is exactly 50 % → not relapse level; 11 is.
    assert ep([(0, 20), (14, 8), (21, 10), (28, 10)]).relapse_day is None
    assert ep([(0, 20), (14, 8), (21, 11), (28, 11)]).relapse_day == 21
    # Baseline 14: 9 is > 7 but below 10 → not relapse level.
    assert ep([(0, 14), (14, 6), (21, 9), (28, 9)]).relapse_day is None


def test_a_lower_score_between_breaks_the_run():
    m = ep([(0, 20), (14, 8), (21, 12), (24, 6), (30, 12)])
    assert m.relapse_day is None
    m = ep([(0, 20), (14, 8), (21, 12), (24, 12), (30, 12)])
    assert m.relapse_day == 21  # 21 → 30 is 9 days, 24 between is relapse level too


def test_relapse_is_only_looked_for_after_the_response_day():
    m = ep([(0, 20), (7, 12), (12, 12), (14, 8)])
    assert m.response_day == 14
    assert m.relapse_day is None


def test_hospitalisation_or_attempt_on_or_after_response_is_relapse_emergency_visit_is_not():
    base = [(0, 20), (14, 8), (28, 6)]
    assert ep(base, events=[(13, "hospitalization")]).relapse_day is None
    assert ep(base, events=[(14, "hospitalization")]).relapse_day == 14
    assert ep(base, events=[(20, "suicide_attempt")]).relapse_day == 20
    assert ep(base, events=[(20, "emergency_visit")]).relapse_day is None


def test_relapse_free_survival_origin_event_and_censoring():
    m = ep([(0, 20), (14, 8), (21, 12), (28, 12), (40, 12)])
    assert (m.rfs_time, m.rfs_event) == (7, True)
    m = ep([(0, 20), (14, 8), (60, 6)])
    assert (m.rfs_time, m.rfs_event) == (46, False)  # censored at the last assessment
    m = ep([(0, 20), (14, 8), (60, 6)], events=[(90, "hospitalization")], last_day=90)
    assert (m.rfs_time, m.rfs_event) == (76, True)  # an event after the last assessment


# --- engagement --------------------------------------------------------------------------------


def test_engaged_is_done_at_least_80_percent_of_done_or_missed_on_days_0_to_l_plus_7():
    four_of_five = [(1, "done")] * 4 + [(3, "missed")]
    three_of_four = [(1, "done")] * 3 + [(3, "missed")]
    assert ep([(0, 20)], integration=four_of_five).engaged is True
    assert ep([(0, 20)], integration=three_of_four).engaged is False
    cancelled = [*four_of_five, (2, "cancelled"), (2, "cancelled")]
    assert ep([(0, 20)], integration=cancelled).engaged is True  # cancelled do not count
    outside = [*four_of_five, (12, "missed"), (-1, "missed")]  # L + 7 = 11; before day 0
    assert ep([(0, 20)], integration=outside).engaged is True
    edge = [*four_of_five, (11, "missed")]
    assert ep([(0, 20)], integration=edge).engaged is False
    assert ep([(0, 20)], integration=[]).engaged is False
    assert ep([(0, 20)], integration=[(1, "cancelled")]).engaged is False


# --- durable remission -------------------------------------------------------------------------


def durable(phq9, events=(), last_day=200):
    return ep([(0, 20), (14, 8), *phq9], events=events, last_day=last_day)


@pytest.mark.parametrize(("day", "expected"), [(79, False), (80, True), (108, True), (109, False)])
def test_durable_window_is_l_plus_76_to_l_plus_104(day, expected):
    # L = 4: target day 94, window 80 … 108.
    assert durable([(day, 3)]).durable is expected


def test_durable_denominator_needs_follow_up_to_l_plus_90():
    assert durable([(94, 3)], last_day=93).durable_denominator is False
    m = durable([(94, 3)], last_day=94)
    assert (m.durable_denominator, m.durable) == (True, True)


def test_durable_tie_takes_the_later_assessment():
    assert durable([(90, 3), (98, 6)]).durable is False  # 4 days either side: the later (6)
    assert durable([(90, 6), (98, 3)]).durable is True


def test_durable_needs_no_relapse_on_or_before_the_chosen_day():
    assert durable([(94, 3)], events=[(94, "hospitalization")]).durable is False
    assert durable([(94, 3)], events=[(95, "hospitalization")]).durable is True


def test_no_assessment_in_the_window_is_in_the_denominator_but_not_durable():
    m = durable([(150, 2)])
    assert (m.durable_denominator, m.durable) == (True, False)


def test_maintenance_counts_and_exposure():
    doses = [*IND, (30, "booster"), (60, "maintenance")]
    m = ep([(0, 20)], doses=doses, last_day=369)
    assert (m.boosters, m.exposure_days, m.induction_end) == (2, 365, 4)
    m = ep([(0, 20)], doses=[(30, "booster")], last_day=40)
    assert (m.induction_end, m.exposure_days, m.engaged, m.durable_denominator) == (
        None,
        0,
        False,
        False,
    )


def test_two_assessments_on_one_day_are_refused():
    with pytest.raises(InvalidInput):
        ep([(0, 20), (0, 18)])


# --- statistics from counts -------------------------------------------------------------------


def test_wilson_hand_computed():
    lo, hi = nw.wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.27753, abs=1e-5)
    lo, hi = nw.wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))
    assert nw.wilson(0, 0) is None
    with pytest.raises(InvalidInput):
        nw.wilson(3, 2)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_the_estimate(k, n):
    k = min(k, n)
    lo, hi = nw.wilson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1


def test_kaplan_meier_hand_computed():
    # 5 subjects: events at 2, 4; censored at 3, 5, 5.
    c = nw.kaplan_meier([(2, 1, 0), (3, 0, 1), (4, 1, 0), (5, 0, 2)])
    assert c.at_risk == (5, 4, 3, 2)
    assert c.at(1) == 1.0
    assert c.at(2) == pytest.approx(0.8)  # S(t) includes the events at t
    assert c.at(4) == pytest.approx(0.8 * 2 / 3)
    assert c.at(6) is None  # past the last follow-up
    assert c.median is None  # 0.533 never ≤ 0.5
    assert nw.kaplan_meier([(2, 1, 0), (4, 1, 0)]).median == 2  # S(2) = 0.5 exactly


def test_kaplan_meier_pooled_counts_equal_the_whole():
    a = [(2, 1, 0), (5, 0, 2)]
    b = [(2, 1, 1), (7, 1, 0)]
    assert nw.kaplan_meier(a + b) == nw.kaplan_meier([(2, 2, 1), (5, 0, 2), (7, 1, 0)])


def test_kaplan_meier_and_logrank_match_lifelines():
    from lifelines import KaplanMeierFitter
    from lifelines.statistics import logrank_test

    t_a = [3, 5, 5, 8, 10, 12, 15, 15, 20, 25]
    e_a = [1, 1, 0, 1, 0, 1, 1, 0, 1, 0]
    t_b = [2, 2, 4, 6, 6, 7, 9, 11, 14, 30]
    e_b = [1, 1, 1, 0, 1, 1, 1, 1, 0, 1]

    def counts(ts, es):
        return [(t, e, 1 - e) for t, e in zip(ts, es, strict=True)]

    c = nw.kaplan_meier(counts(t_a, e_a))
    kmf = KaplanMeierFitter().fit(t_a, e_a)
    ci = kmf.confidence_interval_survival_function_
    for t in (3, 8, 12, 20, 25):
        assert c.at(t) == pytest.approx(float(kmf.survival_function_at_times(t).iloc[0]))
        lo, hi = c.ci_at(t)
        assert lo == pytest.approx(float(ci.loc[t].iloc[0]), abs=1e-9)
        assert hi == pytest.approx(float(ci.loc[t].iloc[1]), abs=1e-9)
    lr = nw.logrank(counts(t_a, e_a), counts(t_b, e_b))
    ref = logrank_test(t_a, t_b, e_a, e_b)
    assert lr.chi2 == pytest.approx(ref.test_statistic, rel=1e-9)
    assert lr.p == pytest.approx(ref.p_value, rel=1e-9)
    assert nw.logrank([(1, 0, 3)], [(2, 0, 1)]) is None  # no events: undefined
    assert nw.logrank([], [(2, 1, 0)]) is None


def test_funnel_limits():
    lo, hi = nw.funnel_limits(0.5, 100, nw.Z95)
    assert (lo, hi) == (pytest.approx(0.5 - 0.0979982, abs=1e-6), pytest.approx(0.5979982, 1e-6))
    lo, hi = nw.funnel_limits(0.5, 100, nw.Z998)
    assert hi == pytest.approx(0.5 + 3.090232 * 0.05, abs=1e-6)
    assert nw.funnel_limits(0.02, 4, nw.Z998)[0] == 0.0  # clipped at 0
    with pytest.raises(InvalidInput):
        nw.funnel_limits(0.5, 0, nw.Z95)


def test_suppression_primary_and_complementary():
    assert nw.complementary_suppression([50, 40, 30]) == [False, False, False]
    assert nw.complementary_suppression([50, 10, 30]) == [False, True, True]  # + smallest other
    assert nw.complementary_suppression([50, 11, 30]) == [False, False, False]
    assert nw.complementary_suppression([50, 3, 4]) == [False, True, True]
    assert nw.complementary_suppression([0, 40, 30]) == [True, False, True]  # 0 is under 11
    assert nw.complementary_suppression([5]) == [True]


@given(st.lists(st.integers(0, 60), min_size=1, max_size=8))
def test_no_suppressed_cell_is_alone(cells):
    marks = nw.complementary_suppression(cells)
    assert all(m for c, m in zip(cells, marks, strict=True) if c <= 10)
    assert sum(marks) != 1 or len(cells) == 1


def test_maintenance_index_and_cost():
    assert nw.maintenance_index(6, 730) == pytest.approx(6 / (730 / 365.25))
    assert nw.maintenance_index(3, 0) is None
    assert nw.cost_per_durable_remission(Decimal("10000.00"), 3) == Decimal("3333.33")
    assert nw.cost_per_durable_remission(Decimal("10000.00"), 0) is None
    assert nw.rate(0, 0) is None
    assert math.isclose(nw.rate(1, 4), 0.25)


# --- de-identification rules -------------------------------------------------------------------


def test_deid_rules():
    assert top_coded_age(89) == 89
    assert top_coded_age(90) == 90
    assert top_coded_age(104) == 90
    assert zip3("02139") == "021"
    assert zip3("03601") == "000"  # restricted three-digit area (population < 20,000)
    assert zip3("89301-1234") == "000"
    assert zip3("") == "000"
    assert zip3("abc") == "000"
    key = b"k" * 32
    assert pseudonym(key, "patient", "1") == pseudonym(key, "patient", "1")
    assert pseudonym(key, "patient", "1") != pseudonym(key, "episode", "1")
    assert pseudonym(b"x" * 32, "patient", "1") != pseudonym(key, "patient", "1")
    assert len(pseudonym(key, "patient", "1")) == 64
    with pytest.raises(InvalidInput):
        pseudonym(b"short", "patient", "1")

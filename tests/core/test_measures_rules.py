"""Pure measures rules: patient-reportable instruments, suicide-risk signal, track schedules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core.instruments import score, score_total
from trellis.core.measures_rules import (
    TrackMeasure,
    open_now,
    patient_reportable,
    suicide_risk,
    track_schedule,
)

UTC = dt.UTC
D1 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
DOSES = [D1 + dt.timedelta(days=3 * k) for k in range(6)]


@pytest.mark.parametrize(
    ("instrument", "expected"),
    [
        ("phq9", True),
        ("gad7", True),
        ("pcl5", True),
        ("madrs", False),
        ("ybocs", False),
        ("cadss", False),
        ("cssrs", False),
        ("qids-sr16", False),
        ("moaas", False),
    ],
)
def test_only_licensed_self_report_instruments_go_to_patients(
    instrument: str, expected: bool
) -> None:
    assert patient_reportable(instrument) is expected


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_item_9_alone_decides_the_signal(answers: list[int]) -> None:
    # CLINICAL.md §2: item 9 >= 1 whatever the total; never the total alone.
    assert suicide_risk(score("phq9", answers)) is (answers[8] >= 1)


@pytest.mark.parametrize(
    ("answers", "signal"),
    [
        (["yes", "yes", "yes", "no", "no", "no", "no"], True),  # moderate
        (["yes", "yes", "no", "yes", "no", "no", "no"], True),  # high
        (["no", "no", "not_asked", "not_asked", "not_asked", "yes", "no"], True),  # moderate
        (["yes", "no", "not_asked", "not_asked", "not_asked", "no", "no"], False),  # low
        (["no", "no", "not_asked", "not_asked", "not_asked", "no", "no"], False),  # none
    ],
)
def test_cssrs_moderate_and_high_are_signals(answers: list[str], signal: bool) -> None:
    assert suicide_risk(score("cssrs", answers)) is signal


def test_clinician_totals_never_signal() -> None:
    assert suicide_risk(score_total("madrs", 50)) is False


def test_track_schedule_maps_protocol_timepoints() -> None:
    m = TrackMeasure("phq9", ("baseline", "before_each_dose", "end_of_series"), 12, 12)
    during = track_schedule([m], D1, DOSES[:3], None)
    labels = [d.timepoint for d in during]
    assert labels == ["baseline", "pre_dose_1", "pre_dose_2", "pre_dose_3"]
    after = track_schedule([m], D1, DOSES, DOSES[-1])
    labels = [d.timepoint for d in after]
    assert "end_of_series" in labels
    assert "week_12" in labels
    assert "month_12" in labels
    eos = next(d for d in after if d.timepoint == "end_of_series")
    assert eos.due_at == DOSES[-1] + dt.timedelta(hours=24)
    assert eos.window_end == DOSES[-1] + dt.timedelta(days=7)
    week1 = next(d for d in after if d.timepoint == "week_1")
    assert week1.due_at == DOSES[-1] + dt.timedelta(weeks=1)


def test_every_visit_is_not_a_reminder_and_post_dose_is() -> None:
    visit = TrackMeasure("cssrs", ("every_visit",))
    assert track_schedule([visit], D1, DOSES[:1], None) == []
    post = TrackMeasure("phq9", ("after_each_dose_24h",))
    due = track_schedule([post], D1, DOSES[:2], None)
    assert [d.timepoint for d in due] == ["post_dose_1", "post_dose_2"]
    assert due[0].due_at == D1 + dt.timedelta(hours=24)


def test_open_now_needs_an_open_window_and_no_administration_in_it() -> None:
    sched = track_schedule([TrackMeasure("phq9", ("baseline",))], D1, [], None)
    before = D1 - dt.timedelta(days=2)
    assert [d.timepoint for d in open_now(sched, before)] == ["baseline"]
    assert open_now(sched, D1 - dt.timedelta(days=15)) == []  # window not open yet
    assert open_now(sched, D1 + dt.timedelta(hours=1)) == []  # closed at the dose
    taken = [("phq9", D1 - dt.timedelta(days=5))]
    assert open_now(sched, before, taken) == []
    other = [("gad7", D1 - dt.timedelta(days=5)), ("phq9", D1 - dt.timedelta(days=20))]
    assert len(open_now(sched, before, other)) == 1


def test_track_thresholds_take_the_tracks_response_level() -> None:
    from fractions import Fraction

    from trellis.core.errors import InvalidInput
    from trellis.core.measures_rules import track_thresholds

    phq = track_thresholds("phq9", 50)
    assert (phq.response_reduction, phq.remission_max, phq.relapse_min) == (Fraction(1, 2), 4, 10)
    assert track_thresholds("ybocs", 35).response_reduction == Fraction(35, 100)
    pcl = track_thresholds("pcl5", 50)
    # CLINICAL.md §3 PCL-5: response a drop of >= 10 (not a percentage), remission < 33.
    assert pcl.remission_max == 32
    assert pcl.relapse_min is None
    assert not pcl.relapse_defined
    assert pcl.warning_rise == 10  # the PCL-5 clinically meaningful change (CLINICAL.md §1)
    assert pcl.meets_response(52, 42)
    assert not pcl.meets_response(52, 43)
    with pytest.raises(InvalidInput):
        track_thresholds("cssrs", 50)
    with pytest.raises(InvalidInput):
        track_thresholds("phq9", 0)

"""Assessment schedule: default timepoints, windows, per-track spec and validation."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.assessment_schedule import (
    TIMEPOINT_KINDS,
    DueAssessment,
    ScheduleRules,
    add_months,
    assessment_schedule,
    parse_schedule_spec,
)
from trellis.core.errors import InvalidInput

TZ = ZoneInfo("America/New_York")
FIRST = dt.datetime(2026, 1, 5, 9, 30, tzinfo=TZ)
DOSES = [FIRST + dt.timedelta(days=d) for d in (0, 2, 4, 7, 9, 11)]  # 6 infusions, 12 days
END = DOSES[-1]


def default(*instruments: str) -> list[DueAssessment]:
    return assessment_schedule(FIRST, DOSES, END, instruments=list(instruments))


def test_default_counts_per_kind() -> None:
    due = default("phq9")
    kinds = Counter(d.kind for d in due)
    assert kinds == {
        "baseline": 1,
        "pre_dose": 6,
        "post_dose": 6,
        "weekly": 12,
        "monthly": 9,  # months 4-12: month 3 would fall a week after week 12
    }
    assert [d.timepoint for d in due if d.kind == "monthly"][0] == "month_4"
    assert due[-1].timepoint == "month_12"


def test_baseline_window_is_the_outcome_baseline_window() -> None:
    base = next(d for d in default("phq9") if d.kind == "baseline")
    assert base.due_at == FIRST
    assert base.window_end == FIRST
    assert base.window_start == FIRST - dt.timedelta(days=14)


def test_pre_and_post_dose_times() -> None:
    due = {d.timepoint: d for d in default("phq9")}
    assert due["pre_dose_3"].due_at == DOSES[2]
    assert due["pre_dose_3"].window_start == DOSES[2] - dt.timedelta(hours=24)
    post = due["post_dose_3"]
    assert post.due_at == DOSES[2] + dt.timedelta(hours=24)
    assert post.window_start < post.due_at < post.window_end


def test_weekly_after_induction_end() -> None:
    due = {d.timepoint: d for d in default("phq9")}
    assert due["week_1"].due_at == END + dt.timedelta(weeks=1)
    assert due["week_12"].due_at == END + dt.timedelta(weeks=12)
    assert "week_13" not in due
    assert due["month_12"].due_at.date() == dt.date(2027, 1, 16)


def test_first_dose_added_when_missing_and_sorted() -> None:
    due = assessment_schedule(FIRST, list(reversed(DOSES[1:])), END, instruments=["phq9"])
    pre = [d for d in due if d.kind == "pre_dose"]
    assert [d.due_at for d in pre] == DOSES
    assert [d.timepoint for d in pre] == [f"pre_dose_{n}" for n in range(1, 7)]


def test_sorted_by_due_time_and_instruments_interleaved() -> None:
    due = default("phq9", "gad7")
    assert [d.due_at for d in due] == sorted(d.due_at for d in due)
    assert Counter(d.instrument for d in due) == {"phq9": 34, "gad7": 34}


def test_per_track_spec() -> None:
    spec = [
        {"instrument": "pcl5", "timepoints": ["baseline", "monthly"]},
        {"instrument": "phq9", "timepoints": ["weekly"]},
    ]
    due = assessment_schedule(FIRST, DOSES, END, spec=spec)
    assert Counter((d.instrument, d.kind) for d in due) == {
        ("pcl5", "baseline"): 1,
        ("pcl5", "monthly"): 9,
        ("phq9", "weekly"): 12,
    }


def test_rules_are_configurable() -> None:
    rules = ScheduleRules(weekly_count=4, monthly_until=6)
    due = assessment_schedule(FIRST, DOSES, END, instruments=["phq9"], rules=rules)
    labels = [d.timepoint for d in due if d.kind in ("weekly", "monthly")]
    assert labels == ["week_1", "week_2", "week_3", "week_4", "month_2", "month_3", "month_4"] + [
        "month_5",
        "month_6",
    ]


def test_to_dict_iso() -> None:
    d = default("phq9")[0].to_dict()
    assert set(d) == {"instrument", "timepoint", "kind", "due_at", "window_start", "window_end"}
    assert dt.datetime.fromisoformat(d["due_at"]) == FIRST


@pytest.mark.parametrize(
    ("when", "months", "expected"),
    [
        (dt.datetime(2026, 1, 31, 9), 1, dt.datetime(2026, 2, 28, 9)),
        (dt.datetime(2028, 1, 31, 9), 1, dt.datetime(2028, 2, 29, 9)),
        (dt.datetime(2026, 11, 15, 9), 3, dt.datetime(2027, 2, 15, 9)),
        (dt.datetime(2026, 12, 1), 12, dt.datetime(2027, 12, 1)),
    ],
)
def test_add_months(when: dt.datetime, months: int, expected: dt.datetime) -> None:
    assert add_months(when, months) == expected


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("pcl5", "schedule"),
        ([], "schedule"),
        (["pcl5"], "schedule[0]"),
        ([{"instrument": "pcl6", "timepoints": ["baseline"]}], "schedule[0].instrument"),
        ([{"timepoints": ["baseline"]}], "schedule[0].instrument"),
        ([{"instrument": "pcl5", "timepoints": []}], "schedule[0].timepoints"),
        ([{"instrument": "pcl5", "timepoints": "baseline"}], "schedule[0].timepoints"),
        ([{"instrument": "pcl5", "timepoints": ["daily"]}], "schedule[0].timepoints[0]"),
        ([{"instrument": "pcl5", "timepoints": ["weekly", "weekly"]}], "schedule[0].timepoints"),
        ([{"instrument": "pcl5", "timepoints": ["weekly"], "x": 1}], "schedule[0]"),
        (
            [
                {"instrument": "pcl5", "timepoints": ["weekly"]},
                {"instrument": "pcl5", "timepoints": ["monthly"]},
            ],
            "schedule[1].instrument",
        ),
    ],
)
def test_bad_spec(spec: object, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_schedule_spec(spec)
    assert exc.value.field == field


def test_bad_times() -> None:
    naive = dt.datetime(2026, 1, 5, 9, 30)
    cases: list[tuple[dict[str, object], str]] = [
        ({"first_dose": dt.date(2026, 1, 5)}, "first_dose"),
        ({"induction_end": FIRST - dt.timedelta(days=1)}, "induction_end"),
        ({"doses": [FIRST - dt.timedelta(hours=1)]}, "doses[0]"),
        ({"doses": [naive]}, "doses[0]"),
        ({"doses": "2026-01-05"}, "doses"),
        (
            {"instruments": ["phq9"], "spec": [{"instrument": "phq9", "timepoints": ["weekly"]}]},
            "instruments",
        ),
        ({"instruments": None}, "instruments"),
        ({"instruments": ["nope"]}, "instruments[0].instrument"),
    ]
    for override, field in cases:
        kwargs: dict[str, object] = {
            "first_dose": FIRST,
            "doses": DOSES,
            "induction_end": END,
            "instruments": ["phq9"],
        }
        kwargs.update(override)
        with pytest.raises(InvalidInput) as exc:
            assessment_schedule(**kwargs)  # type: ignore[arg-type]
        assert exc.value.field == field, override


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(0, 60), min_size=0, max_size=10),
    st.integers(0, 90),
    st.sets(st.sampled_from(TIMEPOINT_KINDS), min_size=1),
)
def test_windows_contain_due_time(offsets: list[int], end_day: int, kinds: set[str]) -> None:
    doses = [FIRST + dt.timedelta(days=o) for o in offsets]
    end = FIRST + dt.timedelta(days=end_day)
    spec = [{"instrument": "phq9", "timepoints": sorted(kinds)}]
    due = assessment_schedule(FIRST, doses, end, spec=spec)
    assert {d.kind for d in due} == kinds
    assert [d.due_at for d in due] == sorted(d.due_at for d in due)
    assert len({d.timepoint for d in due}) == len(due)
    for d in due:
        assert d.window_start <= d.due_at <= d.window_end
        if d.kind == "monthly":
            assert d.due_at <= add_months(end, 12)

"""Integration adherence and gaps (pinned clock), relapse booster and re-dose rules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.pathway import (
    booster_for_relapse_warning,
    doses_needing_integration,
    integration_adherence,
    redose_blockers,
    relapse_response,
)
from trellis.core.protocols import load_protocol

PINNED = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@time_machine.travel(PINNED, tick=False)
def test_statuses_percent_and_gaps_with_pinned_clock() -> None:
    now = datetime.now(UTC)
    assert now == PINNED
    d1 = now - 200 * H  # integration 10 h later: in window
    d2 = now - 150 * H  # integration 80 h later: late → gap
    d3 = now - 100 * H  # none, window closed 28 h ago → missing → gap
    d4 = now - 10 * H  # none, window open → open (not counted)
    report = integration_adherence(
        [(1, d1), (2, d2), (3, d3), (4, d4)],
        [(1, d1 + 10 * H), (2, d2 + 80 * H)],
        72,
        now,
    )
    assert [d.status for d in report.doses] == ["done_in_window", "done_late", "missing", "open"]
    assert report.percent == pytest.approx(33.3)
    assert report.adherence_percent == report.percent
    assert [(g.dose_index, g.window_closed_at) for g in report.gaps] == [
        (2, d2 + 72 * H),
        (3, d3 + 72 * H),
    ]


@pytest.mark.parametrize(
    ("offset_hours", "now_after_dose_hours", "status"),
    [
        (72, 100, "done_in_window"),  # exactly at the window's end counts
        (73, 100, "done_late"),
        (None, 72, "open"),  # window closes at dose + 72 h: not yet closed
        (None, 73, "missing"),
    ],
)
def test_window_boundary(offset_hours: int | None, now_after_dose_hours: int, status: str) -> None:
    dose = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    integrations = [] if offset_hours is None else [(1, dose + offset_hours * H)]
    report = integration_adherence([(1, dose)], integrations, 72, dose + now_after_dose_hours * H)
    assert report.doses[0].status == status
    assert bool(report.gaps) == (status in ("done_late", "missing"))


def test_unindexed_integration_goes_to_the_latest_earlier_dose() -> None:
    d1 = datetime(2026, 3, 2, 9, tzinfo=UTC)
    d2 = d1 + 72 * H
    report = integration_adherence(
        [(1, d1), (2, d2)], [(None, d1 + 20 * H), (None, d2 + 5 * H)], 72, d2 + 100 * H
    )
    assert [d.status for d in report.doses] == ["done_in_window", "done_in_window"]
    assert report.percent == 100.0
    assert report.gaps == ()


def test_no_closed_windows_means_no_percent() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    report = integration_adherence([(1, now - H)], [], 72, now)
    assert report.percent is None
    assert integration_adherence([], [], 72, now).percent is None


def test_time_zones_are_compared_as_instants() -> None:
    est = timezone(timedelta(hours=-5))
    dose = datetime(2026, 3, 2, 9, tzinfo=UTC)
    integ = datetime(2026, 3, 5, 4, 0, tzinfo=est)  # = 09:00 UTC on the 5th = dose + 72 h
    report = integration_adherence([(1, dose)], [(1, integ)], 72, dose + 200 * H)
    assert report.doses[0].status == "done_in_window"


@pytest.mark.parametrize(
    ("doses", "integrations", "hours", "field"),
    [
        ([(1, datetime(2026, 3, 2, 9))], [], 72, "doses[0].at"),  # naive
        ([(0, datetime(2026, 3, 2, 9, tzinfo=UTC))], [], 72, "doses[0].index"),
        (
            [(1, datetime(2026, 3, 2, tzinfo=UTC)), (1, datetime(2026, 3, 3, tzinfo=UTC))],
            [],
            72,
            "doses[1].index",
        ),
        (
            [(1, datetime(2026, 3, 2, tzinfo=UTC))],
            [(2, datetime(2026, 3, 3, tzinfo=UTC))],
            72,
            "integrations[0].index",
        ),
        (
            [(1, datetime(2026, 3, 2, tzinfo=UTC))],
            [(1, datetime(2026, 3, 1, tzinfo=UTC))],
            72,
            "integrations[0].at",
        ),
        (
            [(1, datetime(2026, 3, 2, tzinfo=UTC))],
            [(None, datetime(2026, 3, 1, tzinfo=UTC))],
            72,
            "integrations[0].at",
        ),
        ([(1, datetime(2026, 3, 2, tzinfo=UTC))], [], 0, "within_hours"),
        ([(1, datetime(2026, 4, 2, tzinfo=UTC))], [], 72, "doses[0].at"),  # future dose
        (
            [(1, datetime(2026, 3, 2, tzinfo=UTC))],
            [(1, datetime(2026, 4, 2, tzinfo=UTC))],
            72,
            "integrations[0].at",
        ),  # future integration
    ],
)
def test_bad_adherence_input(
    doses: list[tuple[int, datetime]],
    integrations: list[tuple[int | None, datetime]],
    hours: int,
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as info:
        integration_adherence(doses, integrations, hours, datetime(2026, 3, 20, tzinfo=UTC))
    assert info.value.field == field


@settings(max_examples=150, deadline=None)
@given(
    dose_hours=st.lists(st.integers(0, 2000), min_size=1, max_size=8, unique=True),
    lags=st.lists(st.one_of(st.none(), st.integers(0, 200)), min_size=8, max_size=8),
    now_hours=st.integers(2000, 2400),
)
def test_adherence_properties(
    dose_hours: list[int], lags: list[int | None], now_hours: int
) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    doses = [(i + 1, base + h * H) for i, h in enumerate(dose_hours)]
    integ = [
        (i + 1, base + (h + lag) * H)
        for (i, h), lag in zip(enumerate(dose_hours), lags, strict=False)
        if lag is not None and h + lag <= now_hours
    ]
    report = integration_adherence(doses, integ, 72, base + now_hours * H)
    counted = [d for d in report.doses if d.status != "open"]
    if report.percent is not None:
        assert 0 <= report.percent <= 100
    assert {g.dose_index for g in report.gaps} == {
        d.dose_index for d in report.doses if d.status in ("done_late", "missing")
    }
    for g in report.gaps:
        assert g.window_closed_at < base + now_hours * H
    assert len(counted) >= len(report.gaps)


def test_doses_needing_integration() -> None:
    assert doses_needing_integration(load_protocol("iv-trd"), range(1, 7)) == [1, 2, 3, 4, 5, 6]


def test_relapse_warning_creates_booster_within_72h_and_prescriber_review() -> None:
    # CLINICAL.md §3: relapse warning → integration booster within 72 h + prescriber review.
    warning = date(2026, 5, 4)
    proto = load_protocol("iv-trd")
    booster = booster_for_relapse_warning(warning, proto)
    assert booster.kind == "integration"
    assert booster.name == "relapse-booster"
    assert booster.earliest == warning
    assert booster.latest == warning + timedelta(days=3)
    assert booster.earliest <= booster.target <= booster.latest
    same, review = relapse_response(warning, proto)
    assert same == booster
    assert review.name == "prescriber-review"
    assert review.kind == "follow_up"
    assert review.latest <= booster.latest


@pytest.mark.parametrize(
    ("reviewed", "reason", "n_blockers"),
    [
        (False, None, 2),
        (True, None, 1),
        (True, "  ", 1),
        (False, "relapse warning 4 May", 1),
        (True, "relapse warning 4 May", 0),
    ],
)
def test_redose_needs_review_and_reason(
    reviewed: bool, reason: str | None, n_blockers: int
) -> None:
    assert len(redose_blockers(load_protocol("iv-trd"), reviewed, reason)) == n_blockers

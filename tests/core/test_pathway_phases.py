"""Episode phases from recorded events (ARCHITECTURE.md data model; CLINICAL.md §3, §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.pathway import PHASES, Event, phase_from_events
from trellis.core.protocols import load_protocol

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
IV = load_protocol("iv-trd")  # 2 preparation sessions, 6 doses, 5 check-ins


def ev(kind: str, day: int, index: int | None = None, outcome: str | None = None) -> Event:
    return Event(kind, T0 + timedelta(days=day), index, outcome)


def through_series() -> list[Event]:
    events = [
        ev("referred", 0),
        ev("screened", 1, outcome="eligible"),
        ev("preparation_done", 2),
        ev("preparation_done", 5),
    ]
    events += [ev("dose_given", 8 + 3 * i, index=i + 1) for i in range(6)]
    return events


def test_phase_names_are_exact() -> None:
    assert PHASES == (
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


@pytest.mark.parametrize(
    ("n_events", "phase"),
    [
        (0, "referred"),
        (1, "referred"),
        (2, "screening"),
        (3, "preparing"),
        (4, "preparing"),
        (5, "dosing"),
        (9, "dosing"),
        (10, "integrating"),  # the last dose given, its integration pending
    ],
)
def test_phases_advance_with_events(n_events: int, phase: str) -> None:
    assert phase_from_events(through_series()[:n_events], IV) == phase


def test_sustaining_completed_and_maintenance() -> None:
    events = [*through_series(), ev("integration_done", 25, index=6)]
    assert phase_from_events(events, IV) == "sustaining"
    checks = [ev("check_in_done", 30 + 7 * i) for i in range(5)]
    assert phase_from_events(events + checks[:4], IV) == "sustaining"
    assert phase_from_events(events + checks, IV) == "completed"
    assert phase_from_events([*events, ev("maintenance_dose", 40)], IV) == "maintenance"
    assert phase_from_events([*events, ev("completed", 40)], IV) == "completed"


def test_integration_of_an_earlier_dose_does_not_end_integrating() -> None:
    events = [*through_series(), ev("integration_done", 25, index=5)]
    assert phase_from_events(events, IV) == "integrating"


def test_withdrawn_at_any_point_and_final() -> None:
    series = through_series()
    for cut in range(len(series) + 1):
        assert phase_from_events([*series[:cut], ev("withdrawn", 40)], IV) == "withdrawn"
    with pytest.raises(InvalidInput, match="after the episode was withdrawn"):
        phase_from_events([ev("withdrawn", 1), ev("screened", 2, outcome="eligible")], IV)


def test_events_are_applied_in_time_order() -> None:
    assert phase_from_events(list(reversed(through_series()[:5])), IV) == "dosing"


def test_excluded_track_cannot_start() -> None:
    events = [ev("screened", 1, outcome="excluded"), ev("preparation_done", 2)]
    with pytest.raises(InvalidInput) as info:
        phase_from_events(events, IV)
    assert info.value.field == "events[1]"
    assert "eligible screening" in info.value.detail


def test_review_needs_approval_before_preparation() -> None:
    review = [ev("screened", 1, outcome="needs_review"), ev("preparation_done", 3)]
    with pytest.raises(InvalidInput):
        phase_from_events(review, IV)
    approved = [review[0], ev("review_approved", 2), review[1]]
    assert phase_from_events(approved, IV) == "preparing"


@pytest.mark.parametrize(
    ("events", "field"),
    [
        ([ev("teleported", 1)], "events[0].kind"),
        ([ev("screened", 1, outcome="probably")], "events[0].outcome"),
        ([ev("dose_given", 1)], "events[0]"),
        ([ev("review_approved", 1)], "events[0]"),
        ([ev("maintenance_dose", 1)], "events[0]"),
    ],
)
def test_contradictory_events_are_refused(events: list[Event], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        phase_from_events(events, IV)
    assert info.value.field == field

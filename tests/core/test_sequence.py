"""Preparation sessions in order (issue 13 §4: preparation 2 was accepted before 1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from trellis.core.sequence import out_of_order

T = datetime(2026, 3, 2, 10, 0)


def test_session_one_needs_nothing() -> None:
    assert out_of_order("preparation", 1, T, {}) is None


def test_session_two_needs_session_one_first() -> None:
    assert out_of_order("preparation", 2, T, {}) == (
        "preparation 1 must be recorded before preparation 2"
    )
    assert out_of_order("preparation", 2, T, {1: T - timedelta(days=3)}) is None


def test_session_two_cannot_be_dated_before_session_one() -> None:
    problem = out_of_order("preparation", 2, T, {1: T + timedelta(minutes=1)})
    assert problem is not None
    assert "cannot be dated before preparation 1" in problem
    assert out_of_order("preparation", 2, T, {1: T}) is None  # the same moment is allowed
    assert out_of_order("preparation", 2, T, {1: None}) is None  # time unknown


def test_other_activities_are_not_ordered_here() -> None:
    assert out_of_order("integration", 3, T, {}) is None


@given(st.integers(min_value=2, max_value=12))
def test_any_session_needs_exactly_its_predecessor(index: int) -> None:
    before = {i: T - timedelta(days=index - i) for i in range(1, index - 1)}
    assert out_of_order("preparation", index, T, before) is not None
    assert out_of_order("preparation", index, T, {**before, index - 1: T}) is None

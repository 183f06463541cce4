"""A CP-SAT cumulative whose capacity changes slot by slot (shared by the optimiser's models)."""

from __future__ import annotations

from collections.abc import Iterable

from ortools.sat.python import cp_model


def segments(profile: list[int]) -> Iterable[tuple[int, int, int]]:
    """Maximal runs (start, length, value) of a per-slot profile with value > 0."""
    t, n = 0, len(profile)
    while t < n:
        v = profile[t]
        u = t
        while u < n and profile[u] == v:
            u += 1
        if v > 0:
            yield t, u - t, v
        t = u


def add_profile_cumulative(
    m: cp_model.CpModel,
    intervals: list[cp_model.IntervalVar],
    capacity: list[int],
    name: str,
    offset: int = 0,
) -> None:
    """At most ``capacity[t]`` of ``intervals`` (demand 1 each) in progress at slot
    ``offset + t``: one cumulative at the profile's top, its dips filled by fixed intervals."""
    if not intervals:
        return
    top = max(capacity) if capacity else 0
    runs = list(segments([top - c for c in capacity]))
    fixed = [
        m.new_interval_var(offset + s, n, offset + s + n, f"{name}_cap_{s}") for s, n, _ in runs
    ]
    m.add_cumulative(intervals + fixed, [1] * len(intervals) + [v for _, _, v in runs], max(top, 0))

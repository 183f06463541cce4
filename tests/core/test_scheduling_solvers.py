"""Greedy and CP-SAT: every plan verifies; whole courses only; CP-SAT never below greedy."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.core.errors import Conflict
from trellis.core.scheduling import generate_instance, parse_instance, solve_greedy, verify
from trellis.core.scheduling.cpsat import solve_cpsat
from trellis.core.scheduling.examples import tiny_instance


def _courses(plan: Any) -> set[str]:
    return {a.patient for a in plan.appointments}


def _small(seed: int, patients: int, chairs: int = 2, therapists: int = 2) -> Any:
    data = generate_instance(
        seed, days=14, chairs=chairs, nurses=1, therapists=therapists, patients=patients
    )
    return parse_instance(data)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    patients=st.integers(0, 8),
    chairs=st.integers(1, 3),
    therapists=st.integers(1, 3),
)
def test_greedy_plans_always_verify(seed: int, patients: int, chairs: int, therapists: int) -> None:
    inst = _small(seed, patients, chairs, therapists)
    plan = solve_greedy(inst)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    assert result.courses_complete == len(_courses(plan))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), patients=st.integers(1, 6), chairs=st.integers(1, 2))
def test_cpsat_plans_always_verify_and_match_greedy_at_least(
    seed: int, patients: int, chairs: int
) -> None:
    inst = _small(seed, patients, chairs)
    greedy = solve_greedy(inst)
    plan = solve_cpsat(inst, time_limit=3)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    assert plan.status in ("optimal", "feasible")
    assert (plan.objective or 0) >= (greedy.objective or 0)
    if plan.bound is not None:
        assert (plan.objective or 0) <= plan.bound


def test_tiny_instance_cpsat_books_every_course_greedy_misses_one() -> None:
    inst = parse_instance(tiny_instance())
    greedy, best = solve_greedy(inst), solve_cpsat(inst, time_limit=5)
    for plan in (greedy, best):
        result = verify(inst, plan)
        assert result.valid, [v.to_json() for v in result.violations]
    # Greedy books B (priority) first, its dose takes the only nurse on Monday morning, and A
    # (free Monday-Tuesday mornings only) can no longer fit both doses.
    assert _courses(greedy) == {"B", "C"}
    assert _courses(best) == {"A", "B", "C"}
    assert best.status == "optimal"


def test_suicidal_track_gets_the_chair_when_only_one_course_fits() -> None:
    data = tiny_instance()
    data["nurse_ratio"] = 1
    data["rooms"] = [r for r in data["rooms"] if r["id"] != "chair-2"]
    # Only Monday and Tuesday open: one chair-day each, room for one course only.
    data["opening_hours"] = {"mon": ["08:00", "13:00"], "tue": ["08:00", "13:00"]}
    data["patients"] = [
        {"id": "early", "track": "mini-iv", "release": "2026-02-02"},
        {"id": "crisis", "track": "mini-esk", "release": "2026-02-02", "language": "es"},
    ]
    inst = parse_instance(data)
    greedy, best = solve_greedy(inst), solve_cpsat(inst, time_limit=5)
    assert verify(inst, best).valid
    assert _courses(best) == {"crisis"}
    assert best.status == "optimal"
    assert (best.objective or 0) >= (greedy.objective or 0)


def test_cpsat_beats_first_come_first_fit_when_a_long_course_comes_first() -> None:
    data = tiny_instance()
    data["rooms"] = [r for r in data["rooms"] if r["id"] != "chair-2"]
    data["opening_hours"] = {wd: ["08:00", "16:00"] for wd in ("mon", "tue", "wed", "thu", "fri")}
    data["tracks"]["long"] = {
        **data["tracks"]["mini-iv"],
        "dose_count": 4,
        "dose_spacing_days": {"min": 1, "max": 1},
        "minutes": {"preparation": 60, "dose": 420, "integration": 60},
    }
    data["patients"] = [
        {"id": "L", "track": "long", "release": "2026-02-02"},
        {"id": "s1", "track": "mini-iv", "release": "2026-02-03"},
        {"id": "s2", "track": "mini-iv", "release": "2026-02-03"},
    ]
    inst = parse_instance(data)
    greedy, best = solve_greedy(inst), solve_cpsat(inst, time_limit=5)
    # First come, first served: L's 7-hour doses hold the only chair Monday to Thursday.
    assert _courses(greedy) == {"L"}
    assert _courses(best) == {"s1", "s2"}
    assert verify(inst, best).valid
    assert best.status == "optimal"


def test_prebooked_appointments_stay_and_the_course_is_completed() -> None:
    data = tiny_instance()
    booked = {
        "patient": "A",
        "kind": "preparation",
        "index": 1,
        "start": "2026-02-02T10:00",
        "room": "room-2",
        "staff": ["th-1"],
    }
    data["patients"][0]["booked"] = [booked]
    inst = parse_instance(data)
    for plan in (solve_greedy(inst), solve_cpsat(inst, time_limit=5)):
        result = verify(inst, plan)
        assert result.valid, [v.to_json() for v in result.violations]
        assert inst.patients[0].booked[0] in plan.appointments


def test_impossible_prebooked_course_is_a_conflict() -> None:
    data = tiny_instance()
    # Pre-booked dose 1 on Friday: dose 2 would fall on the weekend (closed).
    data["patients"][0]["booked"] = [
        {"patient": "A", "kind": "dose", "index": 1, "start": "2026-02-06T09:00", "room": "chair-1"}
    ]
    inst = parse_instance(data)
    with pytest.raises(Conflict, match="A"):
        solve_greedy(inst)
    with pytest.raises(Conflict, match="A"):
        solve_cpsat(inst, time_limit=3)


def _prebook(data: dict[str, Any], whole: int, partial: int) -> Any:
    """Pre-book the greedy plan's first ``whole`` courses whole and the next ``partial``
    courses' first three sessions, as a clinic re-planning around accepted bookings would."""
    from trellis.core.scheduling.model import plan_to_json

    inst = parse_instance(data)
    plan = plan_to_json(inst, solve_greedy(inst))
    by: dict[str, list[dict[str, Any]]] = {}
    for a in plan["appointments"]:
        keys = ("patient", "kind", "index", "start", "room", "staff")
        by.setdefault(a["patient"], []).append({k: a[k] for k in keys})
    pids = sorted(by)
    for p in data["patients"]:
        if p["id"] in pids[:whole]:
            p["booked"] = by[p["id"]]
        elif p["id"] in pids[whole : whole + partial]:
            p["booked"] = sorted(by[p["id"]], key=lambda a: a["start"])[:3]
    return parse_instance(data)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cpsat_plans_around_pre_booked_courses(seed: int) -> None:
    data = generate_instance(seed, days=21, chairs=3, nurses=2, therapists=3, patients=70)
    inst = _prebook(data, whole=8, partial=3)
    greedy = solve_greedy(inst)
    plan = solve_cpsat(inst, time_limit=5, seed=seed)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    assert (plan.objective or 0) >= (greedy.objective or 0)
    # Every pre-booked course is completed, its booked sessions unmoved.
    booked = {p.id for p in inst.patients if p.booked}
    assert booked <= _courses(plan)

"""The day-level master (a valid bound, and the optimiser's guide) and the construction on it."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.core.scheduling import generate_instance, parse_instance, solve_greedy, verify
from trellis.core.scheduling.cpsat import colour, solve_cpsat
from trellis.core.scheduling.decompose import Occupancy, master_guided, pack_day
from trellis.core.scheduling.examples import tiny_instance
from trellis.core.scheduling.grid import build_grid
from trellis.core.scheduling.master import dose_options, master_bound, master_days
from trellis.core.scheduling.model import Plan


def _one_day_clinic(patients: int, hours: tuple[str, str] = ("08:00", "14:00")) -> Any:
    """One chair, one therapist, open on Monday only: a single-dose track, everyone released
    on Monday, so preparation, dose and integration all happen that day."""
    data = tiny_instance()
    data["days"] = 1
    data["opening_hours"] = {"mon": list(hours)}
    data["rooms"] = [
        {"id": "chair-1", "kind": "dosing_chair"},
        {"id": "room-1", "kind": "therapy_room"},
        {"id": "room-2", "kind": "therapy_room"},
    ]
    data["staff"] = [
        {"id": "rn-1", "roles": ["nurse"]},
        {"id": "th-1", "roles": ["therapist"], "languages": ["en"]},
        {"id": "th-2", "roles": ["therapist"], "languages": ["en"]},
    ]
    data["circles"] = []
    data["tracks"] = {
        "single": {
            "drug": "ketamine_iv",
            "preparation_count": 1,
            "dose_count": 1,
            "dose_spacing_days": {"min": 1, "max": 1},
            "integration_within_hours": 24,
            "minutes": {"preparation": 60, "dose": 120, "integration": 60},
            "priority": 1,
        }
    }
    data["patients"] = [
        {"id": f"p{i}", "track": "single", "release": "2026-02-02"} for i in range(patients)
    ]
    return parse_instance(data)


def test_dose_days_follow_release_spacing_hours_and_preparation() -> None:
    inst = parse_instance(tiny_instance())
    grid = build_grid(inst)
    a = inst.patient("A")  # Mon–Tue mornings, two doses 1–2 days apart
    assert a is not None
    opts = dose_options(grid, a)
    assert opts is not None
    assert opts.layers == [[0], [1]]
    # Dose 1 comes after the 60-min preparation (from 09:00) and ends by 13:00.
    assert opts.footprint[(0, True)] == frozenset(range(18, 26))
    assert min(opts.first_starts[0]) == grid.slot(0, 9 * 60)
    c = inst.patient("C")  # released Wednesday
    assert c is not None
    opts_c = dose_options(grid, c)
    assert opts_c is not None
    assert min(opts_c.layers[0]) >= 2


def test_a_patient_who_cannot_finish_in_the_horizon_has_no_options() -> None:
    data = tiny_instance()
    data["patients"][2]["release"] = "2026-02-06"  # Friday: dose 2 would fall on the weekend
    inst = parse_instance(data)
    c = inst.patient("C")
    assert c is not None
    assert dose_options(build_grid(inst), c) is None


def test_master_bound_is_exact_on_a_one_chair_day() -> None:
    # 08:00–14:00: preparation first (≥ 09:00), integration after (dose ends ≤ 13:00):
    # doses fit only in 09:00–13:00, two of them on the one chair.
    inst = _one_day_clinic(5)
    bound, optimal = master_bound(inst)
    assert optimal
    assert bound == 2
    plan = solve_cpsat(inst, time_limit=5)
    assert verify(inst, plan).courses_complete == 2
    # An hour more at the end makes room for a third dose (13:00–15:00, integration at 15:00).
    longer = _one_day_clinic(5, ("08:00", "16:00"))
    assert master_bound(longer)[0] == 3


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    patients=st.integers(0, 14),
    chairs=st.integers(1, 3),
    therapists=st.integers(1, 3),
)
def test_master_bound_is_at_least_every_plan(
    seed: int, patients: int, chairs: int, therapists: int
) -> None:
    inst = parse_instance(
        generate_instance(
            seed, days=14, chairs=chairs, nurses=1, therapists=therapists, patients=patients
        )
    )
    bound, _ = master_bound(inst, time_limit=5)
    assert 0 <= bound <= patients
    for plan in (solve_greedy(inst), solve_cpsat(inst, time_limit=2)):
        assert verify(inst, plan).courses_complete <= bound


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), patients=st.integers(1, 16), chairs=st.integers(1, 3))
def test_master_guided_courses_are_whole_and_verify(seed: int, patients: int, chairs: int) -> None:
    inst = parse_instance(
        generate_instance(seed, days=14, chairs=chairs, nurses=1, therapists=2, patients=patients)
    )
    grid = build_grid(inst)
    courses, bound = master_guided(inst, grid, time_limit=5, seed=seed)
    plan = Plan(tuple(colour(grid, courses, set())), method="test", status="feasible")
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    assert bound is not None
    prio = {p.id: p.priority for p in inst.patients}
    assert sum(prio[pid] for pid in courses) <= bound + 1e-6


def test_master_days_respect_spacing() -> None:
    inst = parse_instance(generate_instance(4, days=21, chairs=2, nurses=1, patients=12))
    grid = build_grid(inst)
    days, bound = master_days(inst, grid, time_limit=5)
    assert days
    assert bound is not None
    assert bound >= len(days)
    for pid, ks in days.items():
        p = inst.patient(pid)
        assert p is not None
        track = inst.tracks[p.track]
        assert sorted(ks) == list(range(1, track.dose_count + 1))
        assert ks[1] >= p.release_day
        for k in range(2, track.dose_count + 1):
            assert track.dose_spacing_min_days <= ks[k] - ks[k - 1] <= track.dose_spacing_max_days


def test_pack_day_leaves_out_only_what_does_not_fit() -> None:
    inst = _one_day_clinic(3)
    grid = build_grid(inst)
    doses = []
    for p in inst.patients:
        opts = dose_options(grid, p)
        assert opts is not None
        doses.append((opts, 1, 1))
    capacity = grid.nurse_capacity[: grid.spd]
    placed, _ = pack_day(grid, 0, doses[:2], capacity)
    assert len(placed) == 2  # both fit: 09:00 and 11:00
    starts = sorted(placed.values())
    assert starts[1] - starts[0] >= 4
    placed, _ = pack_day(grid, 0, doses, capacity)
    assert len(placed) == 2  # the third does not fit on the one chair


def test_occupancy_counts_free_therapy_capacity() -> None:
    inst = _one_day_clinic(1)
    grid = build_grid(inst)
    occ = Occupancy.empty(grid)
    t = grid.slot(0, 9 * 60)
    before = occ.therapy_capacity(t, t + 1, {"en"})
    assert before == {None: [2], "en": [2]}
    occ.take("p0", "th-1", t, 2)
    assert occ.therapy_capacity(t, t + 1, {"en"}) == {None: [1], "en": [1]}
    assert not occ.fits("p0", "th-2", t, 2)  # the patient is busy
    assert occ.fits("p1", "th-2", t, 2)
    assert not occ.fits("p1", "th-1", t, 2)

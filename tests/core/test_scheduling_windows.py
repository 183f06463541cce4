"""Care-plan date windows: every solver and the bound keep each session inside its window."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.core import pathway
from trellis.core.protocols import load_protocol
from trellis.core.scheduling import generate_instance, parse_instance, solve_greedy, verify
from trellis.core.scheduling.cpsat import solve_cpsat
from trellis.core.scheduling.examples import tiny_instance
from trellis.core.scheduling.master import master_bound
from trellis.core.scheduling.repair import repair
from trellis.core.scheduling.windows import pathway_windows


def _windowed(seed: int, patients: int, chairs: int = 2) -> Any:
    data = generate_instance(
        seed, days=21, chairs=chairs, nurses=1, therapists=2, patients=patients, windows=True
    )
    return parse_instance(data)


def _in_windows(inst: Any, plan: Any) -> None:
    """Every appointment on a day its patient's window allows (checked here, not via verify;
    a track longer than its protocol has no window for the extra doses)."""
    for a in plan.appointments:
        w = inst.patient(a.patient).window(a.kind, a.index)
        assert w is not None or a.kind != "preparation"
        assert w is None or w.holds(a.day), (a, w)


def test_generated_windows_come_from_the_pathway_plan() -> None:
    found = pathway_windows("iv-trd", 1, 6, date(2026, 2, 2), frozenset(range(5)))
    # iv-trd plans 2 preparations 3 days apart; a 1-preparation course takes the second one's
    # slot, opening on the release day, and dose 1 after it.
    protocol = load_protocol("iv-trd")
    plan = pathway.plan(
        protocol, date(2026, 1, 30), calendar=pathway.ClinicCalendar(frozenset(range(5)))
    )
    doses = plan.of_kind("dose")
    assert found[0] == {
        "kind": "preparation",
        "index": 1,
        "earliest": "2026-02-02",
        "latest": "2026-02-04",
    }
    got = [w for w in found if w["kind"] == "dose"]
    assert [(w["earliest"], w["latest"]) for w in got] == [
        (d.earliest.isoformat(), d.latest.isoformat()) for d in doses
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), patients=st.integers(1, 8))
def test_greedy_keeps_every_session_in_its_window(seed: int, patients: int) -> None:
    inst = _windowed(seed, patients)
    plan = solve_greedy(inst)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    _in_windows(inst, plan)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), patients=st.integers(1, 6))
def test_cpsat_keeps_every_session_in_its_window_and_the_bound_holds(
    seed: int, patients: int
) -> None:
    inst = _windowed(seed, patients)
    plan = solve_cpsat(inst, time_limit=3)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    _in_windows(inst, plan)
    bound, _ = master_bound(inst)
    assert result.courses_complete <= bound


def _late_dose_one(data: dict[str, Any]) -> dict[str, Any]:
    # B (esketamine) has preparation on Monday and may not have dose 1 before Tuesday: without
    # the window every solver books the dose on Monday, two hours after the preparation.
    b = next(p for p in data["patients"] if p["id"] == "B")
    b["windows"] = [
        {"kind": "preparation", "index": 1, "latest": "2026-02-02"},
        {"kind": "dose", "index": 1, "earliest": "2026-02-03"},
    ]
    return data


@pytest.mark.parametrize("method", ["greedy", "cpsat"])
def test_dose_one_waits_for_its_window_after_the_preparation(method: str) -> None:
    inst = parse_instance(_late_dose_one(tiny_instance()))
    plan = solve_greedy(inst) if method == "greedy" else solve_cpsat(inst, time_limit=5)
    result = verify(inst, plan)
    assert result.valid, [v.to_json() for v in result.violations]
    mine = {(a.kind, a.index): a for a in plan.appointments if a.patient == "B"}
    assert mine[("dose", 1)].day >= 1
    assert mine[("preparation", 1)].day == 0


def test_repair_stays_inside_the_window() -> None:
    inst = parse_instance(_late_dose_one(tiny_instance()))
    plan = solve_cpsat(inst, time_limit=5)
    fixed = repair(inst, plan, "B", cancelled=("dose", 1))
    result = verify(inst, fixed)
    assert result.valid, [v.to_json() for v in result.violations]
    moved = next(a for a in fixed.appointments if a.key == ("B", "dose", 1))
    assert moved.day >= 1


def test_a_window_no_session_can_meet_leaves_the_course_unbooked() -> None:
    data = tiny_instance()
    b = next(p for p in data["patients"] if p["id"] == "B")
    b["windows"] = [{"kind": "dose", "index": 2, "earliest": "2026-02-20"}]
    inst = parse_instance(data)
    for plan in (solve_greedy(inst), solve_cpsat(inst, time_limit=3)):
        assert "B" not in {a.patient for a in plan.appointments}
        assert verify(inst, plan).valid
    assert master_bound(inst)[0] <= 2


def test_exact_room_assignment_keeps_the_most_weight_around_pinned_rooms() -> None:
    from trellis.core.scheduling.cpsat import _assign_exact
    from trellis.core.scheduling.grid import build_grid

    grid = build_grid(parse_instance(tiny_instance()))
    t0 = grid.slot(0, 8 * 60)
    busy = {r: bytearray(grid.horizon) for r in ("chair-1", "chair-2")}
    busy["chair-1"][t0 + 4 : t0 + 6] = b"\x01\x01"  # a pre-booked dose pins chair-1
    items = [
        (("X", "dose", 1), t0, 5, 1),  # fits chair-2 only
        (("Y", "dose", 1), t0 + 2, 4, 5),  # fits chair-2 only, and weighs more
        (("Z", "dose", 1), t0, 2, 1),  # fits either
    ]
    got = _assign_exact(grid, busy, items, ["chair-1", "chair-2"])
    assert got == {("Y", "dose", 1): "chair-2", ("Z", "dose", 1): "chair-1"}

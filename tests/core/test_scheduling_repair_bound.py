"""Repair changes no other appointment; the bound is an upper bound; the generator is seeded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trellis.core.errors import Conflict, InvalidInput
from trellis.core.scheduling import (
    generate_instance,
    parse_instance,
    parse_plan,
    plan_to_json,
    solve_greedy,
    verify,
)
from trellis.core.scheduling.bound import upper_bound
from trellis.core.scheduling.cpsat import solve_cpsat
from trellis.core.scheduling.examples import tiny_instance, tiny_plan
from trellis.core.scheduling.generate import default_tracks
from trellis.core.scheduling.master import master_bound
from trellis.core.scheduling.repair import repair

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _tiny() -> tuple[Any, Any]:
    inst = parse_instance(tiny_instance())
    return inst, parse_plan(tiny_plan(), inst)


def test_repair_moves_only_the_cancelled_session() -> None:
    inst, plan = _tiny()
    new = repair(inst, plan, "B", cancelled=("dose", 2))
    assert verify(inst, new).valid
    changed = set(new.appointments) - set(plan.appointments)
    assert {(a.patient, a.kind, a.index) for a in changed} == {("B", "dose", 2)}
    others = [a for a in plan.appointments if a.patient != "B"]
    assert all(a in new.appointments for a in others)
    moved = next(iter(changed))
    old = next(a for a in plan.appointments if a.key == ("B", "dose", 2))
    assert (moved.day, moved.minute) != (old.day, old.minute)


def test_repair_keeps_sessions_before_not_before() -> None:
    inst, plan = _tiny()
    new = repair(inst, plan, "B", cancelled=("dose", 2), not_before=(2, 0))
    kept = [a for a in plan.appointments if a.patient == "B" and a.day < 2]
    assert all(a in new.appointments for a in kept)
    assert verify(inst, new).valid


def test_repair_without_room_for_the_course_is_a_conflict() -> None:
    inst, plan = _tiny()
    # A is free only Monday and Tuesday until 13:00; from Tuesday noon a 2-hour dose no longer fits.
    with pytest.raises(Conflict):
        repair(inst, plan, "A", cancelled=("dose", 2), not_before=(1, 720))


def test_repair_rejects_unknown_patient_and_session() -> None:
    inst, plan = _tiny()
    with pytest.raises(InvalidInput) as err:
        repair(inst, plan, "nobody")
    assert err.value.field == "patient"
    with pytest.raises(InvalidInput) as err:
        repair(inst, plan, "C", cancelled=("dose", 1))
    assert err.value.field == "appointment"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), pick=st.integers(0, 1000), which=st.integers(1, 3))
def test_repair_changes_no_other_appointment(seed: int, pick: int, which: int) -> None:
    inst = parse_instance(
        generate_instance(seed, days=14, chairs=2, nurses=1, therapists=2, patients=8)
    )
    plan = solve_greedy(inst)
    booked = sorted({a.patient for a in plan.appointments})
    if not booked:
        return
    pid = booked[pick % len(booked)]
    try:
        new = repair(inst, plan, pid, cancelled=("dose", min(which, 3)) if which <= 1 else None)
    except Conflict:
        return
    assert verify(inst, new).valid
    before = {a for a in plan.appointments if a.patient != pid}
    after = {a for a in new.appointments if a.patient != pid}
    assert before == after


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), patients=st.integers(0, 10))
def test_bound_is_at_least_every_solution(seed: int, patients: int) -> None:
    inst = parse_instance(
        generate_instance(seed, days=14, chairs=1, nurses=1, therapists=1, patients=patients)
    )
    result = upper_bound(inst, time_limit=5)
    assert result.method in {"capacity-knapsack", "day-master-mip"}
    assert 0 <= result.bound <= patients
    for plan in (solve_greedy(inst), solve_cpsat(inst, time_limit=2)):
        assert verify(inst, plan).courses_complete <= result.bound


@pytest.mark.parametrize(("seed", "patients"), [(11, 8), (12, 12), (13, 16), (14, 20)])
def test_day_master_is_at_least_every_solution(seed: int, patients: int) -> None:
    inst = parse_instance(
        generate_instance(seed, days=14, chairs=2, nurses=1, therapists=2, patients=patients)
    )
    day, optimal = master_bound(inst, time_limit=5)
    assert optimal
    assert 0 <= day <= patients
    for plan in (solve_greedy(inst), solve_cpsat(inst, time_limit=2)):
        assert verify(inst, plan).courses_complete <= day


def test_upper_bound_is_the_min_of_the_two_relaxations() -> None:
    inst = parse_instance(
        generate_instance(5, days=14, chairs=1, nurses=1, therapists=1, patients=12)
    )
    result = upper_bound(inst, time_limit=5)
    day, _ = master_bound(inst, time_limit=5)
    assert result.bound <= day
    if result.method == "day-master-mip":
        assert result.bound == day


def test_bound_is_tight_on_the_chair_capacity() -> None:
    data = tiny_instance()
    data["rooms"] = [r for r in data["rooms"] if r["id"] != "chair-2"]
    data["opening_hours"] = {"mon": ["08:00", "12:00"], "tue": ["08:00", "12:00"]}
    data["patients"] = [
        {"id": f"p{i}", "track": "mini-iv", "release": "2026-02-02"} for i in range(4)
    ]
    inst = parse_instance(data)
    # One chair, 4 h a day on two days: two 2-hour doses a day → at most 2 two-dose courses;
    # prep before dose 1 on Monday leaves room for only one Monday dose after 09:00.
    assert upper_bound(inst).bound <= 2


def test_generator_is_seeded_and_valid() -> None:
    a = generate_instance(7, days=14, patients=20)
    assert a == generate_instance(7, days=14, patients=20)
    assert a != generate_instance(8, days=14, patients=20)
    inst = parse_instance(a)
    assert len(inst.patients) == 20
    assert sum(1 for r in inst.rooms if r.kind == "dosing_chair") == 6
    assert sum(1 for s in inst.staff if "nurse" in s.roles) == 3
    assert sum(1 for s in inst.staff if "therapist" in s.roles) == 5
    assert inst.opening_hours[5] is None
    assert inst.opening_hours[6] is None


def test_generator_rejects_bad_sizes() -> None:
    with pytest.raises(InvalidInput) as err:
        generate_instance(1, chairs=0)
    assert err.value.field == "--chairs"


def test_packaged_tracks_validate() -> None:
    tracks = default_tracks()
    assert {"iv-trd", "esketamine-trd", "esketamine-suicidal", "iv-aud"} <= set(tracks)
    assert tracks["esketamine-suicidal"]["start_within_hours"] == 48
    assert tracks["esketamine-trd"]["dose_count"] == 8


def test_generated_instance_and_plans_match_the_json_schemas() -> None:
    instance_schema = json.loads((DOCS / "scheduling-instance.schema.json").read_text())
    plan_schema = json.loads((DOCS / "scheduling-plan.schema.json").read_text())
    data = generate_instance(3, days=14, patients=10)
    jsonschema.validate(data, instance_schema)
    windowed = generate_instance(3, days=14, patients=10, windows=True)
    assert all(p.get("windows") for p in windowed["patients"])
    jsonschema.validate(windowed, instance_schema)
    parse_instance(windowed)
    tiny = tiny_instance()
    tiny["patients"][0]["booked"] = [tiny_plan()["appointments"][0]]
    jsonschema.validate(tiny, instance_schema)
    parse_instance(tiny)
    inst = parse_instance(data)
    jsonschema.validate(plan_to_json(inst, solve_greedy(inst)), plan_schema)
    jsonschema.validate(tiny_plan(), plan_schema)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("days",), 0, "days"),
        (("slot_minutes",), 7, "slot_minutes"),
        (("patients", 0, "track"), "nope", "patients[0].track"),
        (
            ("tracks", "mini-iv", "dose_spacing_days"),
            {"min": 3, "max": 2},
            "tracks.mini-iv.dose_spacing_days.max",
        ),
        (("tracks", "mini-iv", "minutes", "dose"), 45, "tracks.mini-iv.minutes.dose"),
        (("rooms", 0, "kind"), "sofa", "rooms[0].kind"),
        (("staff", 0, "roles"), ["wizard"], "staff[0].roles[0]"),
        (("opening_hours", "mon"), ["18:00", "08:00"], "opening_hours.mon[1]"),
        (("patients", 1, "release"), "2026-03-30", "patients[1].release"),
    ],
)
def test_instance_errors_name_the_field(path: tuple[Any, ...], value: Any, field: str) -> None:
    data = tiny_instance()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InvalidInput) as err:
        parse_instance(data)
    assert err.value.field == field

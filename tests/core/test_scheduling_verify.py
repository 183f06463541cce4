"""Verifier: the hand-made plan is valid; one hand-made violation of each hard constraint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.scheduling import CONSTRAINTS, parse_instance, parse_plan, verify
from trellis.core.scheduling.examples import tiny_instance, tiny_plan

Data = dict[str, Any]


def _appt(plan: Data, patient: str, kind: str, index: int) -> Data:
    found: Data = next(
        a
        for a in plan["appointments"]
        if (a["patient"], a["kind"], a["index"]) == (patient, kind, index)
    )
    return found


def _check(instance: Data, plan: Data) -> Any:
    inst = parse_instance(instance)
    return verify(inst, parse_plan(plan, inst))


def test_hand_made_plan_is_valid() -> None:
    result = _check(tiny_instance(), tiny_plan())
    assert result.valid, [v.to_json() for v in result.violations]
    assert result.courses_complete == 2
    assert result.patients == 3
    assert result.therapist_changes == 0


def _set(patient: str, kind: str, index: int, **changes: Any) -> Callable[[Data, Data], None]:
    def mutate(instance: Data, plan: Data) -> None:
        _appt(plan, patient, kind, index).update(changes)

    return mutate


def _add(appt: Data) -> Callable[[Data, Data], None]:
    def mutate(instance: Data, plan: Data) -> None:
        plan["appointments"].append(appt)

    return mutate


def _track(track: str, **changes: Any) -> Callable[[Data, Data], None]:
    def mutate(instance: Data, plan: Data) -> None:
        instance["tracks"][track].update(changes)

    return mutate


def _patient(pid: str, **changes: Any) -> Callable[[Data, Data], None]:
    def mutate(instance: Data, plan: Data) -> None:
        next(p for p in instance["patients"] if p["id"] == pid).update(changes)

    return mutate


def _drop(patient: str, kind: str, index: int) -> Callable[[Data, Data], None]:
    def mutate(instance: Data, plan: Data) -> None:
        plan["appointments"].remove(_appt(plan, patient, kind, index))

    return mutate


A_PREP = {"patient": "A", "kind": "preparation", "index": 1}

# constraint → (mutation, whether it is the only violation the mutation causes)
CASES: dict[str, tuple[Callable[[Data, Data], None], bool]] = {
    "unknown_patient": (_add({**A_PREP, "patient": "Z", "start": "2026-02-05T08:00"}), True),
    "unknown_room": (_set("A", "preparation", 1, room="nowhere"), True),
    "unknown_staff": (_set("A", "preparation", 1, staff=["nobody"]), True),
    "unknown_session": (
        _add({"patient": "C", "kind": "peer_circle", "index": 1, "start": "2026-02-04T16:00"}),
        True,
    ),
    "not_on_slot_grid": (_set("B", "preparation", 1, start="2026-02-02T08:10"), True),
    "outside_horizon": (_set("A", "dose", 2, start="2026-02-10T09:00"), False),
    # th-2's shift also ends at 18:00, so staff_unavailable comes with it.
    "outside_opening_hours": (_set("B", "integration", 1, start="2026-02-02T17:30"), False),
    "room_unavailable": (
        _set("B", "integration", 1, start="2026-02-02T16:30", room="room-1"),
        True,
    ),
    "room_wrong_kind": (_set("A", "preparation", 1, room="chair-2"), True),
    "room_double_booked": (_set("B", "preparation", 1, room="room-1"), True),
    "staff_unavailable": (_set("B", "integration", 2, start="2026-02-05T09:00"), True),
    "staff_wrong_role": (_set("A", "preparation", 1, staff=["rn-1"]), True),
    "staff_double_booked": (_set("A", "preparation", 1, staff=["th-2"]), True),
    "staff_language_mismatch": (_set("B", "integration", 1, staff=["th-1"]), True),
    "nurse_ratio_exceeded": (_set("B", "dose", 1, start="2026-02-02T09:00"), True),
    "prescriber_not_on_site": (
        lambda i, p: (
            _set("B", "dose", 2, start="2026-02-04T13:00")(i, p),
            _set("B", "integration", 2, start="2026-02-04T15:30")(i, p),
        ),
        True,
    ),
    "patient_unavailable": (_set("A", "integration", 2, start="2026-02-03T13:00"), True),
    "patient_double_booked": (_set("A", "integration", 1, start="2026-02-03T08:30"), True),
    "before_release": (_patient("A", release="2026-02-03"), True),
    "preparation_after_dose": (_set("A", "preparation", 1, start="2026-02-02T12:00"), True),
    "dose_spacing_too_short": (_track("mini-iv", dose_spacing_days={"min": 2, "max": 3}), True),
    "dose_spacing_too_long": (_track("mini-esk", dose_spacing_days={"min": 1, "max": 1}), True),
    "integration_outside_window": (_set("A", "integration", 2, start="2026-02-03T08:00"), True),
    "partial_course": (_drop("A", "integration", 2), True),
    "start_deadline_missed": (_track("mini-esk", start_within_hours=8), True),
    "booked_appointment_moved": (
        _patient(
            "A",
            booked=[{**A_PREP, "start": "2026-02-02T08:00", "room": "room-2", "staff": ["th-1"]}],
        ),
        True,
    ),
    "wrong_session_count": (
        _add(
            {
                "patient": "B",
                "kind": "dose",
                "index": 3,
                "start": "2026-02-05T09:00",
                "room": "chair-1",
            }
        ),
        True,
    ),
    "outside_pathway_window": (
        _patient("A", windows=[{"kind": "dose", "index": 2, "earliest": "2026-02-04"}]),
        True,
    ),
    "preparation_out_of_order": (
        lambda i, p: (
            _track("mini-esk", preparation_count=2)(i, p),
            _set("B", "preparation", 1, start="2026-02-02T10:00")(i, p),
            _add(
                {
                    "patient": "B",
                    "kind": "preparation",
                    "index": 2,
                    "start": "2026-02-02T08:00",
                    "room": "room-2",
                    "staff": ["th-2"],
                }
            )(i, p),
        ),
        True,
    ),
}


def test_every_constraint_has_a_case() -> None:
    assert set(CASES) == set(CONSTRAINTS)


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_one_violation_of_each_constraint(constraint: str) -> None:
    mutate, alone = CASES[constraint]
    instance, plan = tiny_instance(), tiny_plan()
    mutate(instance, plan)
    result = _check(instance, plan)
    assert not result.valid
    names = result.constraints()
    assert constraint in names, [v.to_json() for v in result.violations]
    if alone:
        assert names == {constraint}, [v.to_json() for v in result.violations]
    for v in result.violations:
        assert v.to_json()["constraint"] in CONSTRAINTS
        assert v.message


def test_partial_course_does_not_count_as_complete() -> None:
    instance, plan = tiny_instance(), tiny_plan()
    _drop("B", "dose", 2)(instance, plan)
    result = _check(instance, plan)
    assert result.courses_complete == 1
    assert [v.patient for v in result.violations if v.constraint == "partial_course"] == ["B"]


def test_violation_json_names_patient_and_appointment() -> None:
    instance, plan = tiny_instance(), tiny_plan()
    _set("A", "preparation", 1, room="chair-2")(instance, plan)
    (violation,) = _check(instance, plan).to_json()["violations"]
    assert violation == {
        "constraint": "room_wrong_kind",
        "patient": "A",
        "appointment": "A/preparation#1",
        "message": violation["message"],
    }
    assert "therapy_room" in violation["message"]


def test_therapist_change_is_counted_not_a_violation() -> None:
    instance, plan = tiny_instance(), tiny_plan()
    _set("A", "integration", 2, staff=["th-2"])(instance, plan)
    result = _check(instance, plan)
    assert result.valid
    assert result.therapist_changes == 1


def test_plan_structure_errors_name_the_field() -> None:
    inst = parse_instance(tiny_instance())
    plan = tiny_plan()
    plan["appointments"][3]["start"] = "tuesday"
    with pytest.raises(InvalidInput) as err:
        parse_plan(plan, inst)
    assert err.value.field == "appointments[3].start"


def _shifts(instance: Data, *shifts: tuple[str, str]) -> None:
    """Replace the nurse by one nurse per (start, end) shift on every weekday (ratio 1)."""
    instance["staff"] = [s for s in instance["staff"] if "nurse" not in s["roles"]]
    for i, (start, end) in enumerate(shifts, start=1):
        instance["staff"].append(
            {
                "id": f"rn-{i}",
                "roles": ["nurse"],
                "availability": [
                    {"weekday": wd, "start": start, "end": end}
                    for wd in ("mon", "tue", "wed", "thu", "fri")
                ],
            }
        )


def test_nurse_cover_is_pooled_across_a_shift_change() -> None:
    # A's dose 1 runs 09:00-11:00; rn-1 leaves at 10:30 and rn-2 comes at 10:00: at every
    # minute one nurse is on duty for the one dose in progress (ratio 1), though no single
    # nurse covers the whole dose.
    instance, plan = tiny_instance(), tiny_plan()
    _shifts(instance, ("08:00", "10:30"), ("10:00", "18:00"))
    result = _check(instance, plan)
    assert result.valid, [v.to_json() for v in result.violations]


def test_nurse_gap_between_shifts_is_a_violation() -> None:
    instance, plan = tiny_instance(), tiny_plan()
    _shifts(instance, ("08:00", "09:30"), ("10:00", "18:00"))
    result = _check(instance, plan)
    assert "nurse_ratio_exceeded" in result.constraints()
    assert {v.appointment for v in result.violations} >= {"A/dose#1"}


def test_pathway_windows_hold_on_the_day_bounds() -> None:
    instance, plan = tiny_instance(), tiny_plan()
    # A's dose 2 is on 2026-02-03: a window ending that day holds, one ending the day before
    # does not.
    _patient("A", windows=[{"kind": "dose", "index": 2, "latest": "2026-02-03"}])(instance, plan)
    assert _check(instance, plan).valid
    _patient("A", windows=[{"kind": "dose", "index": 2, "latest": "2026-02-02"}])(instance, plan)
    assert _check(instance, plan).constraints() == {"outside_pathway_window"}


@pytest.mark.parametrize(
    ("window", "field"),
    [
        ({"kind": "dose", "index": 3, "earliest": "2026-02-03"}, "patients[0].windows[0].index"),
        (
            {"kind": "peer_circle", "index": 1, "earliest": "2026-02-03"},
            "patients[0].windows[0].kind",
        ),
        ({"kind": "dose", "index": 1}, "patients[0].windows[0]"),
        (
            {"kind": "dose", "index": 1, "earliest": "2026-02-05", "latest": "2026-02-03"},
            "patients[0].windows[0].latest",
        ),
        ({"kind": "dose", "index": 1, "earliest": "soon"}, "patients[0].windows[0].earliest"),
    ],
)
def test_bad_windows_name_the_field(window: Data, field: str) -> None:
    instance = tiny_instance()
    instance["patients"][0]["windows"] = [window]
    with pytest.raises(InvalidInput) as err:
        parse_instance(instance)
    assert err.value.field == field

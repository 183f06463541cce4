"""Sliding-fee schedules: parsing, HRSA validation (one failing schedule per rule), the default."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.fees import (
    check_schedule,
    classify,
    default_schedule,
    parse_schedule,
    validate_schedule,
)

GOOD: dict[str, Any] = {
    "name": "test schedule",
    "criteria": ["income", "household_size"],
    "classes": [
        {"label": "A", "max_percent": 100, "discount_percent": 100, "nominal_fee": 20},
        {"label": "B", "max_percent": 125, "discount_percent": 80, "nominal_fee": None},
        {"label": "C", "max_percent": 150, "discount_percent": 60, "nominal_fee": None},
        {"label": "D", "max_percent": 175, "discount_percent": 40, "nominal_fee": None},
        {"label": "E", "max_percent": 200, "discount_percent": 20, "nominal_fee": None},
        {"label": "F", "max_percent": None, "discount_percent": 0, "nominal_fee": None},
    ],
}


def _schedule(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data.update(changes)
    return data


def _with_classes(*classes: tuple[str, Any, int, Any]) -> dict[str, Any]:
    return _schedule(
        classes=[
            {"label": lab, "max_percent": mx, "discount_percent": d, "nominal_fee": fee}
            for lab, mx, d, fee in classes
        ]
    )


def _rules(data: dict[str, Any]) -> set[str]:
    return {v.rule for v in validate_schedule(parse_schedule(data, "test.yaml"))}


def test_default_schedule_is_clinical_md_section_8() -> None:
    s = default_schedule()
    got = [(c.label, c.max_percent, c.discount_percent, c.nominal_fee) for c in s.classes]
    assert got == [
        ("A", Fraction(100), 100, Decimal(20)),
        ("B", Fraction(125), 80, None),
        ("C", Fraction(150), 60, None),
        ("D", Fraction(175), 40, None),
        ("E", Fraction(200), 20, None),
        ("F", None, 0, None),
    ]
    assert validate_schedule(s) == []
    assert set(s.criteria) == {"income", "household_size"}


def test_good_schedule_passes() -> None:
    assert _rules(GOOD) == set()


def test_full_discount_with_zero_nominal_fee_passes() -> None:
    data = _schedule()
    data["classes"][0]["nominal_fee"] = None
    assert _rules(data) == set()


def test_finer_bounds_and_more_classes_pass() -> None:
    data = _with_classes(
        ("A", 100, 100, 10),
        ("B", "112.5", 90, None),
        ("C", 150, 70, None),
        ("D", 200, 50, None),
        ("E", None, 0, None),
    )
    assert _rules(data) == set()


# One failing schedule per HRSA rule (Health Center Program Compliance Manual ch. 9).


def test_rule_1_partial_discount_at_or_below_100_percent() -> None:
    data = _schedule()
    data["classes"][0].update(discount_percent=90, nominal_fee=None)
    assert "hrsa_full_discount" in _rules(data)


def test_rule_1_class_straddling_100_percent_without_full_discount() -> None:
    data = _with_classes(
        ("A", 90, 100, 20),
        ("B", 125, 80, None),  # covers 90–100 % too: must be a full discount
        ("C", 150, 60, None),
        ("D", 200, 40, None),
        ("F", None, 0, None),
    )
    assert "hrsa_full_discount" in _rules(data)


def test_rule_2_fewer_than_three_graduated_classes() -> None:
    data = _with_classes(
        ("A", 100, 100, 20),
        ("B", 150, 60, None),
        ("C", 200, 30, None),
        ("F", None, 0, None),
    )
    violations = validate_schedule(parse_schedule(data, "t.yaml"))
    assert [v.rule for v in violations] == ["hrsa_graduated"]
    assert "at least 3" in violations[0].message


def test_rule_2_three_classes_with_the_same_discount_are_not_graduated() -> None:
    data = _with_classes(
        ("A", 100, 100, 20),
        ("B", 125, 50, None),
        ("C", 150, 50, None),
        ("D", 200, 50, None),
        ("F", None, 0, None),
    )
    assert _rules(data) == {"hrsa_graduated"}


def test_rule_2_no_discount_for_part_of_101_to_200() -> None:
    data = _with_classes(
        ("A", 100, 100, 20),
        ("B", 125, 80, None),
        ("C", 150, 60, None),
        ("D", 175, 40, None),
        ("F", None, 0, None),  # 175–200 % gets nothing
    )
    assert "hrsa_graduated" in _rules(data)


def test_rule_3_discount_above_200_percent() -> None:
    data = _schedule()
    data["classes"][5]["discount_percent"] = 10
    assert "hrsa_no_discount_above_200" in _rules(data)


def test_rule_3_class_straddling_200_percent_with_a_discount() -> None:
    data = _schedule()
    data["classes"][4]["max_percent"] = 250
    assert _rules(data) == {"hrsa_no_discount_above_200"}


def test_rule_4_other_criteria_are_refused() -> None:
    data = _schedule(criteria=["income", "household_size", "assets"])
    violations = validate_schedule(parse_schedule(data, "t.yaml"))
    assert [v.rule for v in violations] == ["hrsa_criteria"]
    assert "assets" in violations[0].message


# Structural checks.


def test_gap_at_the_top_last_class_must_be_open_ended() -> None:
    data = _schedule()
    data["classes"][5]["max_percent"] = 300
    assert "structure_coverage" in _rules(data)


def test_overlap_bounds_must_increase() -> None:
    data = _schedule()
    data["classes"][2]["max_percent"] = 125  # same as B: an empty class
    assert "structure_bounds" in _rules(data)


def test_decreasing_bounds() -> None:
    data = _schedule()
    data["classes"][3]["max_percent"] = 140
    assert "structure_bounds" in _rules(data)


def test_open_ended_class_must_be_last() -> None:
    data = _schedule()
    data["classes"][3]["max_percent"] = None
    assert "structure_bounds" in _rules(data)


def test_first_bound_must_be_positive() -> None:
    data = _schedule()
    data["classes"][0]["max_percent"] = -1
    assert "structure_bounds" in _rules(data)


@pytest.mark.parametrize("discount", [-5, 101, 150])
def test_discount_outside_0_100(discount: int) -> None:
    data = _schedule()
    data["classes"][5]["discount_percent"] = discount
    assert "structure_discount" in _rules(data)


def test_nominal_fee_only_with_full_discount() -> None:
    data = _schedule()
    data["classes"][1]["nominal_fee"] = 10
    assert "structure_nominal_fee" in _rules(data)


def test_discount_must_not_rise_with_income() -> None:
    data = _schedule()
    data["classes"][2]["discount_percent"] = 90
    assert "structure_monotone" in _rules(data)


def test_duplicate_labels() -> None:
    data = _schedule()
    data["classes"][1]["label"] = "A"
    assert "structure_labels" in _rules(data)


def test_all_violations_are_reported_together() -> None:
    data = _with_classes(("A", 100, 50, None), ("B", None, 30, None))
    data["criteria"] = ["income", "zip_code"]
    assert _rules(data) >= {
        "hrsa_full_discount",
        "hrsa_graduated",
        "hrsa_no_discount_above_200",
        "hrsa_criteria",
    }


def test_check_schedule_raises_naming_the_rule() -> None:
    data = _schedule()
    data["classes"][5]["discount_percent"] = 10
    with pytest.raises(InvalidInput) as info:
        check_schedule(parse_schedule(data, "t.yaml"), "my.yaml")
    assert info.value.field == "my.yaml"
    assert "hrsa_no_discount_above_200" in info.value.detail


def test_violation_to_dict() -> None:
    data = _schedule(criteria=["income", "age"])
    [violation] = validate_schedule(parse_schedule(data, "t.yaml"))
    assert violation.to_dict() == {"rule": "hrsa_criteria", "message": violation.message}


# Parsing: type errors name the file and the key.


@pytest.mark.parametrize(
    ("mutate", "mentions"),
    [
        (lambda d: d.pop("classes"), "classes"),
        (lambda d: d.update(classes=[]), "classes"),
        (lambda d: d.update(criteria="income"), "criteria"),
        (lambda d: d.update(extra=1), "unknown keys"),
        (lambda d: d["classes"][1].pop("max_percent"), "classes[1].max_percent"),
        (lambda d: d["classes"][1].update(max_percent="lots"), "classes[1].max_percent"),
        (lambda d: d["classes"][1].update(discount_percent=80.5), "classes[1].discount_percent"),
        (lambda d: d["classes"][1].update(discount_percent="80"), "classes[1].discount_percent"),
        (lambda d: d["classes"][0].update(nominal_fee=-1), "classes[0].nominal_fee"),
        (lambda d: d["classes"][0].update(nominal_fee="0.001"), "classes[0].nominal_fee"),
        (lambda d: d["classes"][0].update(label=""), "classes[0].label"),
        (lambda d: d["classes"][0].update(colour="red"), "unknown keys"),
        (lambda d: d["classes"].append("G"), "classes[6]"),
    ],
)
def test_parse_schedule_names_file_and_key(mutate: Any, mentions: str) -> None:
    data = copy.deepcopy(GOOD)
    mutate(data)
    with pytest.raises(InvalidInput) as info:
        parse_schedule(data, "custom.yaml")
    assert info.value.field == "custom.yaml"
    assert mentions in info.value.detail


def test_parse_schedule_refuses_non_mapping() -> None:
    with pytest.raises(InvalidInput):
        parse_schedule([1, 2], "custom.yaml")


def test_parse_schedule_reads_decimal_bounds_exactly() -> None:
    data = _schedule()
    data["classes"][1]["max_percent"] = 125.5
    data["classes"][2]["max_percent"] = "150.25"
    parsed = parse_schedule(data, "t.yaml")
    assert parsed.classes[1].max_percent == Fraction(251, 2)
    assert parsed.classes[2].max_percent == Fraction(601, 4)


# Property: whatever schedule the validator accepts treats every income as HRSA requires.


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    """Schedules near the HRSA rules (often valid, often broken in one way)."""
    bounds = set(draw(st.lists(st.sampled_from([50, 90, 250]))))
    bounds |= set(draw(st.lists(st.sampled_from([110, 125, 150, 175, 190]), min_size=2)))
    likely = st.integers(0, 3).map(bool)  # true three times in four
    if draw(likely):
        bounds |= {100, 200}
    uppers: list[int | None] = [*sorted(bounds), None]
    discounts = draw(
        st.lists(
            st.sampled_from([0, 10, 20, 25, 40, 50, 60, 75, 80, 100]),
            min_size=len(uppers),
            max_size=len(uppers),
        )
    )
    if draw(likely):
        lows = [0, *sorted(bounds)]
        for i, hi in enumerate(uppers):
            if hi is not None and hi <= 100:
                discounts[i] = 100
            elif lows[i] >= 200:
                discounts[i] = 0
            else:
                discounts[i] = draw(st.sampled_from([10, 20, 25, 40, 50, 60, 75, 80]))
    if draw(likely):
        discounts.sort(reverse=True)
    return {
        "classes": [
            {"label": f"K{i}", "max_percent": mx, "discount_percent": d}
            for i, (mx, d) in enumerate(zip(uppers, discounts, strict=True))
        ]
    }


GRID = [Fraction(n, 4) for n in range(0, 1201)]  # 0 % to 300 % in quarter-percent steps


@settings(max_examples=150, deadline=None)
@given(schedules())
def test_accepted_schedules_meet_hrsa_everywhere(data: dict[str, Any]) -> None:
    schedule = parse_schedule(data, "random.yaml")
    if validate_schedule(schedule):
        return
    previous = 100
    for pct in GRID:
        discount = classify(pct, schedule).discount_percent
        if pct <= 100:
            assert discount == 100
        elif pct <= 200:
            assert 0 < discount
        else:
            assert discount == 0
        assert discount <= previous
        previous = discount
    partial = {c.discount_percent for c in schedule.classes if 0 < c.discount_percent < 100}
    assert len(partial) >= 3


def test_some_random_schedule_is_accepted() -> None:
    # Guards the property above against vacuity: the strategy can produce valid schedules.
    data = {
        "classes": [
            {"label": "K0", "max_percent": 100, "discount_percent": 100},
            {"label": "K1", "max_percent": 150, "discount_percent": 75},
            {"label": "K2", "max_percent": 180, "discount_percent": 50},
            {"label": "K3", "max_percent": 200, "discount_percent": 25},
            {"label": "K4", "max_percent": None, "discount_percent": 0},
        ]
    }
    assert validate_schedule(parse_schedule(data, "random.yaml")) == []

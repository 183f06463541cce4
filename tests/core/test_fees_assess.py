"""assess_fee: class boundaries compared unrounded, rounding, bad input, properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.fees import (
    assess_fee,
    classify,
    default_schedule,
    parse_schedule,
    percent_of_poverty,
    poverty_guideline,
    round_percent,
)

# 2025, contiguous, household of 4: guideline $32,150 (FR Doc 2025-01377).
G = 32150


def _pct_income(pct: int) -> Decimal:
    return Decimal(G) * pct / 100


BOUNDARIES = [
    (Decimal(0), "A", 100, Decimal(20)),
    (_pct_income(100), "A", 100, Decimal(20)),  # exactly 100 % is A
    (_pct_income(100) + Decimal("0.01"), "B", 80, None),  # 100 % + 1 cent is B
    (_pct_income(125), "B", 80, None),  # $40,187.50: exactly 125 % is B
    (_pct_income(125) + Decimal("0.01"), "C", 60, None),
    (_pct_income(150), "C", 60, None),
    (_pct_income(150) + Decimal("0.01"), "D", 40, None),
    (_pct_income(175), "D", 40, None),
    (_pct_income(175) + Decimal("0.01"), "E", 20, None),
    (_pct_income(200), "E", 20, None),  # exactly 200 % is E
    (_pct_income(200) + Decimal("0.01"), "F", 0, None),  # 200 % + 1 cent is F
    (Decimal(1_000_000), "F", 0, None),
]


@pytest.mark.parametrize(("income", "label", "discount", "nominal"), BOUNDARIES)
def test_class_boundaries(income: Decimal, label: str, discount: int, nominal: Any) -> None:
    a = assess_fee(2025, "contiguous", 4, income)
    assert a.poverty_guideline == G
    assert (a.fee_class, a.discount_percent, a.nominal_fee) == (label, discount, nominal)


def test_boundary_plus_one_cent_reports_rounded_but_classifies_unrounded() -> None:
    a = assess_fee(2025, "contiguous", 4, Decimal("32150.01"))
    assert a.percent_of_poverty == Decimal("100.0")  # reported rounded…
    assert a.fee_class == "B"  # …classified on the exact value
    assert a.percent_exact > 100


@pytest.mark.parametrize(
    ("year", "region", "size", "income"),
    [(2026, "contiguous", 3, "27320"), (2026, "alaska", 1, "19950"), (2026, "hawaii", 1, "18360")],
)
def test_exactly_100_percent_every_year_region(
    year: int, region: str, size: int, income: str
) -> None:
    a = assess_fee(year, region, size, income)
    assert a.fee_class == "A"
    assert a.percent_of_poverty == Decimal("100.0")


def test_report_fields() -> None:
    a = assess_fee(2025, "contiguous", 3, "34000")
    assert a.to_dict() == {
        "year": 2025,
        "region": "contiguous",
        "household_size": 3,
        "poverty_guideline": 26650,
        "percent_of_poverty": 127.6,
        "class": "C",
        "discount_percent": 60,
        "nominal_fee": None,
    }


@pytest.mark.parametrize(
    ("exact", "rounded"),
    [
        (Fraction(12345, 100), "123.5"),  # half up, not half even
        (Fraction(12335, 100), "123.4"),
        (Fraction(1001, 8), "125.1"),  # 125.125
        (Fraction(2499, 20), "125.0"),  # 124.95
        (Fraction(0), "0.0"),
        (Fraction(199999, 1000), "200.0"),
    ],
)
def test_round_percent_half_up(exact: Fraction, rounded: str) -> None:
    assert round_percent(exact) == Decimal(rounded)
    assert str(round_percent(exact)) == rounded


@pytest.mark.parametrize("income", ["-1", "-0.01", Decimal("-5"), -3])
def test_negative_income_refused(income: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        assess_fee(2025, "contiguous", 2, income)
    assert info.value.field == "annual_income"
    assert "negative" in info.value.detail


@pytest.mark.parametrize(
    "income", ["abc", "1e5x", "NaN", "Infinity", "10.001", "", None, True, [1]]
)
def test_malformed_income_refused(income: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        assess_fee(2025, "contiguous", 2, income)
    assert info.value.field == "annual_income"


def test_income_accepts_commas_and_dollar_sign() -> None:
    assert assess_fee(2025, "contiguous", 1, "$15,650.00").fee_class == "A"


def test_household_size_zero_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        assess_fee(2025, "contiguous", 0, "100")
    assert info.value.field == "household_size"


def test_unknown_year_and_region_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        assess_fee(2019, "contiguous", 1, "100")
    assert info.value.field == "year"
    with pytest.raises(InvalidInput) as info:
        assess_fee(2025, "mars", 1, "100")
    assert info.value.field == "region"


def test_custom_schedule_is_used_and_checked() -> None:
    data = {
        "classes": [
            {"label": "1", "max_percent": 100, "discount_percent": 100, "nominal_fee": None},
            {"label": "2", "max_percent": 150, "discount_percent": 75},
            {"label": "3", "max_percent": 175, "discount_percent": 50},
            {"label": "4", "max_percent": 200, "discount_percent": 25},
            {"label": "5", "max_percent": None, "discount_percent": 0},
        ]
    }
    schedule = parse_schedule(data, "t.yaml")
    a = assess_fee(2025, "contiguous", 4, _pct_income(140), schedule)
    assert (a.fee_class, a.discount_percent, a.nominal_fee) == ("2", 75, None)
    data["classes"][4]["discount_percent"] = 5  # type: ignore[index]
    with pytest.raises(InvalidInput) as info:
        assess_fee(2025, "contiguous", 4, "1", parse_schedule(data, "t.yaml"))
    assert info.value.field == "schedule"
    assert "hrsa_no_discount_above_200" in info.value.detail


# Properties.

incomes = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)
sizes = st.integers(min_value=1, max_value=12)
year_regions = st.sampled_from(
    [(2025, "contiguous"), (2025, "alaska"), (2025, "hawaii"), (2026, "contiguous")]
)


@settings(max_examples=200, deadline=None)
@given(year_regions, sizes, incomes, incomes)
def test_discount_never_increases_as_income_rises(
    yr: tuple[int, str], size: int, a: Decimal, b: Decimal
) -> None:
    low, high = sorted((a, b))
    fa = assess_fee(yr[0], yr[1], size, low)
    fb = assess_fee(yr[0], yr[1], size, high)
    assert fb.discount_percent <= fa.discount_percent
    assert fb.percent_exact >= fa.percent_exact
    assert fb.percent_of_poverty >= fa.percent_of_poverty
    order = [c.label for c in default_schedule().classes]
    assert order.index(fb.fee_class) >= order.index(fa.fee_class)


@settings(max_examples=200, deadline=None)
@given(year_regions, sizes, incomes)
def test_percent_is_monotone_down_in_household_size_and_rounded_within_half_tenth(
    yr: tuple[int, str], size: int, income: Decimal
) -> None:
    small = assess_fee(yr[0], yr[1], size, income)
    large = assess_fee(yr[0], yr[1], size + 1, income)
    assert large.poverty_guideline > small.poverty_guideline
    assert large.percent_exact <= small.percent_exact
    assert large.discount_percent >= small.discount_percent
    assert abs(Fraction(small.percent_of_poverty) - small.percent_exact) <= Fraction(1, 20)


@settings(max_examples=200, deadline=None)
@given(year_regions, sizes, incomes)
def test_class_is_the_first_bound_at_or_above_the_exact_percent(
    yr: tuple[int, str], size: int, income: Decimal
) -> None:
    a = assess_fee(yr[0], yr[1], size, income)
    exact = percent_of_poverty(income, poverty_guideline(yr[0], yr[1], size))
    chosen = classify(exact, default_schedule())
    assert chosen.label == a.fee_class
    classes = default_schedule().classes
    index = [c.label for c in classes].index(chosen.label)
    assert chosen.max_percent is None or exact <= chosen.max_percent
    if index > 0:
        below = classes[index - 1].max_percent
        assert below is not None
        assert exact > below

"""Strict numbers (issue 18): ASCII digits only, so a typo never becomes a score."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.numbers import parse_decimal, parse_whole, strict_decimal, strict_whole

LOOSE = [
    "0_1",
    "+1",
    "-1",
    "١",
    "１２",
    "²",
    "1.0",
    "",
    " ",
    "1e2",
    "0x1",
    "1 2",
    "٣\u200f",
    "\u00a012",
]


@pytest.mark.parametrize("text", LOOSE)
def test_loose_whole_numbers_are_refused(text: str) -> None:
    assert strict_whole(text) is None
    with pytest.raises(InvalidInput) as info:
        parse_whole(text, "--total", 0, 20)
    assert info.value.field == "--total"


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("7", 7), (" 12 ", 12), ("007", 7)])
def test_ascii_digits_are_taken(text: str, value: int) -> None:
    assert strict_whole(text) == value


@pytest.mark.parametrize("text", ["7_2.5", "+72", ".5", "72.", "inf", "nan", "72,5", "٧٢.٥"])
def test_loose_decimals_are_refused(text: str) -> None:
    assert strict_decimal(text) is None
    with pytest.raises(InvalidInput):
        parse_decimal(text, "--weight", 30, 300)


def test_decimals() -> None:
    assert strict_decimal("72.5") == Decimal("72.5")
    assert parse_decimal("72", "--weight", 30, 300) == 72.0


@given(st.text(max_size=6))
def test_whatever_is_taken_is_plain_ascii_digits(text: str) -> None:
    value = strict_whole(text)
    if value is not None:
        assert text.strip(" \t").isascii()
        assert str(value) == text.strip(" \t").lstrip("0") or value == 0


@given(st.integers(min_value=0, max_value=10**9))
def test_every_written_number_round_trips(n: int) -> None:
    assert strict_whole(str(n)) == n

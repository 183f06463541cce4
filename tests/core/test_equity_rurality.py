"""Rurality: RUCA dichotomy and a program-supplied ZIP table; unknown is never guessed."""

from __future__ import annotations

from typing import Any

import pytest

from trellis.core.equity import (
    UNKNOWN,
    parse_rurality_table,
    rurality_for_zip,
    rurality_from_ruca,
)
from trellis.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (1, "urban"),
        (3, "urban"),
        (3.9, "urban"),  # secondary code of primary 3
        ("2.1", "urban"),
        (4, "rural"),
        (4.1, "rural"),
        (7, "rural"),
        (10, "rural"),
        (10.6, "rural"),
        (99, UNKNOWN),
        (None, UNKNOWN),
    ],
)
def test_ruca_primary_code_dichotomy(code: Any, expected: str) -> None:
    assert rurality_from_ruca(code) == expected


@pytest.mark.parametrize("code", [0, 11, -1, "x", True, [4], float("nan")])
def test_ruca_refuses_non_codes(code: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        rurality_from_ruca(code)
    assert info.value.field == "ruca"


# Synthetic demo table: these keys are made up for the test, not real classifications.
TABLE = parse_rurality_table({"00001": "rural", "000": "urban", "999": "rural"}, "demo.yaml")


@pytest.mark.parametrize(
    ("zip_code", "expected"),
    [
        ("00001", "rural"),  # exact match wins over the prefix
        ("00002", "urban"),  # prefix 000
        ("00002-1234", "urban"),  # ZIP+4
        ("99950", "rural"),
        ("12345", UNKNOWN),  # not in the table: unknown, never a guess
        (None, UNKNOWN),
        ("  ", UNKNOWN),
    ],
)
def test_zip_lookup(zip_code: str | None, expected: str) -> None:
    assert rurality_for_zip(zip_code, TABLE) == expected


def test_no_table_means_unknown() -> None:
    assert rurality_for_zip("00001") == UNKNOWN


@pytest.mark.parametrize("zip_code", ["1234", "123456", "ABCDE", "12345-12"])
def test_malformed_zip_refused(zip_code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        rurality_for_zip(zip_code, TABLE)
    assert info.value.field == "zip_code"


@pytest.mark.parametrize(
    ("data", "mentions"),
    [({"1234": "rural"}, "1234"), ({"12345": "suburban"}, "12345"), (["12345"], "mapping")],
)
def test_table_validation_names_file_and_key(data: Any, mentions: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_rurality_table(data, "zips.yaml")
    assert info.value.field == "zips.yaml"
    assert mentions in info.value.detail

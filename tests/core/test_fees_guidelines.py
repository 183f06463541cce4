"""HHS poverty guidelines: packaged data, the household-size formula, refusals (CLINICAL.md §8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.fees import (
    REGIONS,
    known_years,
    load_guideline_year,
    parse_guideline_year,
    poverty_guideline,
)

# Published figures (FR Doc 2025-01377; FR Doc 2026-00755) written out for sizes 1–10, so that a
# typo in a data file or the formula fails here: base + (n − 1) × increment.
PUBLISHED = {
    (2025, "contiguous"): [15650, 21150, 26650, 32150, 37650, 43150, 48650, 54150, 59650, 65150],
    (2025, "alaska"): [19550, 26430, 33310, 40190, 47070, 53950, 60830, 67710, 74590, 81470],
    (2025, "hawaii"): [17990, 24320, 30650, 36980, 43310, 49640, 55970, 62300, 68630, 74960],
    (2026, "contiguous"): [15960, 21640, 27320, 33000, 38680, 44360, 50040, 55720, 61400, 67080],
}
TABLE = [
    (year, region, size, amount)
    for (year, region), amounts in PUBLISHED.items()
    for size, amount in enumerate(amounts, start=1)
]


@pytest.mark.parametrize(("year", "region", "size", "expected"), TABLE)
def test_published_guidelines_sizes_1_to_10(
    year: int, region: str, size: int, expected: int
) -> None:
    assert poverty_guideline(year, region, size) == expected


@pytest.mark.parametrize(("region", "one_person"), [("alaska", 19950), ("hawaii", 18360)])
def test_2026_alaska_hawaii_one_person_is_known(region: str, one_person: int) -> None:
    assert poverty_guideline(2026, region, 1) == one_person


@pytest.mark.parametrize("region", ["alaska", "hawaii"])
@pytest.mark.parametrize("size", range(2, 11))
def test_2026_alaska_hawaii_larger_households_are_refused(region: str, size: int) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(2026, region, size)
    assert info.value.field == "household_size"
    assert "not verified" in info.value.detail
    assert f"household of {size}" in info.value.detail


def test_2026_data_marks_alaska_hawaii_increments_unknown() -> None:
    year = load_guideline_year(2026)
    assert year.regions["alaska"].per_additional_person is None
    assert year.regions["hawaii"].per_additional_person is None
    assert year.regions["contiguous"].per_additional_person == 5680
    assert year.effective == dt.date(2026, 1, 13)
    assert "2026-00755" in year.source


def test_known_years_are_the_packaged_files() -> None:
    assert {2025, 2026} <= set(known_years())
    for year in known_years():
        loaded = load_guideline_year(year)
        assert loaded.year == year
        assert set(loaded.regions) == set(REGIONS)


@pytest.mark.parametrize("year", [1999, 2024, 2027, 3000])
def test_unknown_year_is_an_error_never_a_fallback(year: int) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(year, "contiguous", 1)
    assert info.value.field == "year"
    assert str(year) in info.value.detail
    assert "2025" in info.value.detail
    assert "2026" in info.value.detail


@pytest.mark.parametrize("region", ["guam", "Contiguous", "", "puerto_rico"])
def test_unknown_region_is_an_error(region: str) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(2025, region, 1)
    assert info.value.field == "region"


@pytest.mark.parametrize("size", [0, -1, -10])
def test_household_size_below_one_is_refused(size: int) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(2025, "contiguous", size)
    assert info.value.field == "household_size"
    assert "at least 1" in info.value.detail


@pytest.mark.parametrize("size", [True, 2.0, "3", None])
def test_household_size_must_be_an_int(size: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(2025, "contiguous", size)
    assert info.value.field == "household_size"


def _good() -> dict[str, Any]:
    return {
        "year": 2030,
        "source": "FR Doc test",
        "effective": dt.date(2030, 1, 15),
        "regions": {
            "contiguous": {"label": "48", "base": 100, "per_additional_person": 10},
            "alaska": {"label": "AK", "base": 120, "per_additional_person": None},
        },
    }


def test_parse_guideline_year_accepts_a_good_file() -> None:
    parsed = parse_guideline_year(_good(), "poverty/2030.yaml")
    assert parsed.year == 2030
    assert parsed.regions["contiguous"].base == 100
    assert parsed.regions["alaska"].per_additional_person is None


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    keys = path.split(".")
    target = data
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "mentions"),
    [
        ("year", "2030", "year"),
        ("year", 30, "year"),
        ("source", "", "source"),
        ("effective", "soon", "effective"),
        ("regions", {}, "regions"),
        ("regions.guam", {"label": "G", "base": 1, "per_additional_person": 1}, "regions.guam"),
        ("regions.contiguous.base", -5, "regions.contiguous.base"),
        ("regions.contiguous.base", 0, "regions.contiguous.base"),
        ("regions.contiguous.base", 10.5, "regions.contiguous.base"),
        ("regions.contiguous.base", True, "regions.contiguous.base"),
        ("regions.contiguous.per_additional_person", "ten", "per_additional_person"),
        ("regions.contiguous.per_additional_person", _DELETE, "per_additional_person"),
        ("regions.contiguous.label", None, "regions.contiguous.label"),
        ("regions.contiguous.extra", 1, "unknown keys"),
        ("surprise", 1, "unknown keys"),
    ],
)
def test_parse_guideline_year_names_file_field_and_problem(
    path: str, value: Any, mentions: str
) -> None:
    data = _set(_good(), path, value)
    with pytest.raises(InvalidInput) as info:
        parse_guideline_year(data, "poverty/2030.yaml")
    assert info.value.field == "poverty/2030.yaml"
    assert mentions in info.value.detail


def test_parse_guideline_year_refuses_a_non_mapping() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_guideline_year(["not", "a", "mapping"], "poverty/2030.yaml")
    assert info.value.field == "poverty/2030.yaml"


@pytest.mark.parametrize("year", [[2025], "2025", 2025.0, True])
def test_year_must_be_an_int(year: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        poverty_guideline(year, "contiguous", 1)
    assert info.value.field == "year"

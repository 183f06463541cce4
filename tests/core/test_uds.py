"""UDS-style tables: bands at their boundaries, payers, languages, and small-cell suppression."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from trellis.core import uds


def p(**kw: object) -> uds.UdsPatient:
    base: dict[str, object] = {
        "birth_date": dt.date(1990, 1, 1),
        "sex": "female",
        "race_ethnicity": ("white",),
        "language": "en",
        "percent_of_poverty": Fraction(150),
        "payer": "medicaid",
    }
    base.update(kw)
    return uds.UdsPatient(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (Fraction(100), "100_and_below"),
        (Fraction(10001, 100), "101_150"),
        (Fraction(150), "101_150"),
        (Fraction(15001, 100), "151_200"),
        (Fraction(200), "151_200"),
        (Fraction(20001, 100), "over_200"),
        (None, "unknown"),
    ],
)
def test_income_bands_compare_unrounded(percent: Fraction | None, band: str) -> None:
    assert uds.income_band(percent) == band


def test_age_on_30_june_and_bands() -> None:
    assert uds.age_on_june_30(dt.date(2007, 6, 30), 2025) == 18
    assert uds.age_on_june_30(dt.date(2007, 7, 1), 2025) == 17
    assert uds.age_band(17) == "0–17"
    assert uds.age_band(18) == "18–24"
    assert uds.age_band(75) == "75+"


def test_payers_map_to_uds_insurance() -> None:
    assert uds.insurance("va_tricare") == "other_public"
    assert uds.insurance("commercial") == "private"
    assert uds.insurance("") == "other_or_unknown"


def test_small_cells_are_suppressed_with_a_complement() -> None:
    rows = [p()] * 12 + [p(language="es", payer="uninsured")] * 3
    tables = {t.name: t for t in uds.tables(rows, 2025)}
    language = {c.group: c.shown for c in tables["language"].cells}
    assert language == {"english": "suppressed", "other_than_english": "<11"}
    assert tables["language"].total_shown == "15"
    big = [p()] * 30 + [p(language="es")] * 20
    shown = {c.group: c.shown for c in uds.tables(big, 2025)[2].cells}
    assert shown == {"english": "30", "other_than_english": "20"}


def test_every_table_adds_up_to_the_patients() -> None:
    rows = [p(), p(sex="male", race_ethnicity=("hispanic", "black")), p(sex="", payer="other")]
    for table in uds.tables(rows, 2025):
        assert table.total == 3
        assert sum(c.n for c in table.cells) == 3

"""UDS-style tables of a program's patients in a year (issue 16), for health centres.

HRSA's Uniform Data System asks health centres for their patients by age and sex (Table 3A),
race and ethnicity and language (Table 3B), income as a percent of the poverty guideline and
insurance (Table 4), and clinical measures such as depression remission (Table 6B, CMS159).
Trellis builds the same kind of tables from its own records:

- age on 30 June of the year (the UDS convention for age in the reporting year), in bands;
- sex as recorded; race and ethnicity tabulated as OMB SPD 15 (2024) asks (one combined
  question: one category, "multiracial and/or multiethnic", or unknown), as the equity view does;
- patients best served in a language other than English;
- income: at or below 100 %, 101–150 %, 151–200 %, over 200 % of the HHS poverty guideline
  (compared unrounded, like the sliding fee: exactly 100 % is the first band), or unknown;
- insurance: uninsured, Medicaid, Medicare, other public (VA/TRICARE), private, other/unknown.

Small cells: a count of 1–10 is shown as "<11", with complementary suppression in its column so
it cannot be recovered from the total (the CMS cell-size policy the equity view applies).
Pure: patients in, counted tables out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from trellis.core.access_rules import omb_categories
from trellis.core.equity import race_ethnicity_group, suppress_column
from trellis.core.errors import InvalidInput

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0–17", 0, 17),
    ("18–24", 18, 24),
    ("25–34", 25, 34),
    ("35–44", 35, 44),
    ("45–54", 45, 54),
    ("55–64", 55, 64),
    ("65–74", 65, 74),
    ("75+", 75, 200),
)
SEXES = ("female", "male", "other_or_unknown")
INCOME_BANDS = ("100_and_below", "101_150", "151_200", "over_200", "unknown")
INSURANCE = ("uninsured", "medicaid", "medicare", "other_public", "private", "other_or_unknown")
_PAYER_TO_UDS = {
    "uninsured": "uninsured",
    "medicaid": "medicaid",
    "medicare": "medicare",
    "va_tricare": "other_public",
    "commercial": "private",
}


@dataclass(frozen=True)
class UdsPatient:
    """What the tables read of one patient (race and ethnicity as the patient record's codes)."""

    birth_date: dt.date
    sex: str
    race_ethnicity: tuple[str, ...]
    language: str
    percent_of_poverty: Fraction | None
    payer: str


def age_on_june_30(birth: dt.date, year: int) -> int:
    day = dt.date(year, 6, 30)
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(age: int) -> str:
    if age < 0:
        raise InvalidInput("age", "is negative (born after 30 June of the year)")
    return next(name for name, lo, hi in AGE_BANDS if lo <= age <= hi)


def income_band(percent: Fraction | None) -> str:
    """UDS Table 4 bands, compared unrounded (100 % exactly is "100 % and below")."""
    if percent is None:
        return "unknown"
    if percent <= 100:
        return "100_and_below"
    if percent <= 150:
        return "101_150"
    if percent <= 200:
        return "151_200"
    return "over_200"


def insurance(payer: str) -> str:
    return _PAYER_TO_UDS.get(payer, "other_or_unknown")


@dataclass(frozen=True)
class Cell:
    group: str
    n: int
    shown: str  # the count, "<11" or "suppressed"


@dataclass(frozen=True)
class Table:
    name: str
    cells: tuple[Cell, ...]
    total: int
    total_shown: str

    def as_rows(self) -> list[dict[str, str]]:
        rows = [{"table": self.name, "group": c.group, "patients": c.shown} for c in self.cells]
        rows.append({"table": self.name, "group": "total", "patients": self.total_shown})
        return rows


def _table(name: str, groups: Sequence[str], counts: Counter[str]) -> Table:
    cells = [counts.get(g, 0) for g in groups]
    total = sum(cells)
    marks, total_mark = suppress_column(cells, total)
    return Table(
        name=name,
        cells=tuple(
            Cell(g, n, m if m is not None else str(n))
            for g, n, m in zip(groups, cells, marks, strict=True)
        ),
        total=total,
        total_shown=total_mark if total_mark is not None else str(total),
    )


def tables(patients: Iterable[UdsPatient], year: int) -> list[Table]:
    """The UDS-style tables for the patients seen in ``year`` (each table one column)."""
    rows = list(patients)
    ages = Counter(
        f"{age_band(age_on_june_30(p.birth_date, year))} "
        f"{p.sex if p.sex in SEXES[:2] else SEXES[2]}"
        for p in rows
    )
    age_groups = [f"{band} {sex}" for band, _lo, _hi in AGE_BANDS for sex in SEXES]
    races = Counter(race_ethnicity_group(omb_categories(p.race_ethnicity)) for p in rows)
    race_groups = sorted(races) if races else ["unknown"]
    language = Counter("english" if p.language == "en" else "other_than_english" for p in rows)
    income = Counter(income_band(p.percent_of_poverty) for p in rows)
    payers = Counter(insurance(p.payer) for p in rows)
    return [
        _table("age_and_sex", age_groups, ages),
        _table("race_and_ethnicity", race_groups, races),
        _table("language", ["english", "other_than_english"], language),
        _table("income_percent_of_poverty", list(INCOME_BANDS), income),
        _table("insurance", list(INSURANCE), payers),
    ]

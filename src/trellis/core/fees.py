"""Poverty guidelines, sliding-fee schedules (with HRSA validation) and the fee assessment.

Sources (CLINICAL.md §8 "Money"):

* HHS poverty guidelines, published yearly in the Federal Register: 2025 (FR Doc 2025-01377) and
  2026 (FR Doc 2026-00755, effective 13 Jan 2026). They are **data**: one YAML file per year in
  ``trellis/core/data/poverty/``; adding a year is adding a file. The guideline for a household of
  ``n`` people is ``base + (n - 1) × per_additional_person`` (HHS publishes sizes 1–8 and "for each
  additional person, add"; the published table follows the same formula). An increment recorded as
  ``null`` is *unknown* and the code refuses households larger than one instead of guessing
  (Alaska and Hawaii 2026, CLINICAL.md §8 [verify]).
* HRSA Health Center Program Compliance Manual, chapter 9 (Sliding Fee Discount Program): full
  discount at or below 100 % of the guideline (a flat nominal charge allowed); graduated partial
  discounts from 101 % to 200 % with at least three pay classes; no discount above 200 %; based only
  on income and household size. :func:`validate_schedule` checks a schedule against these rules.
* Trellis default schedule (CLINICAL.md §8 ★), ``trellis/core/data/fees/default_schedule.yaml``:
  A ≤ 100 % → nominal $20 per visit; B ≤ 125 % → 80 % discount; C ≤ 150 % → 60 %; D ≤ 175 % → 40 %;
  E ≤ 200 % → 20 %; F above 200 % → 0 %.

Percent of poverty is ``income ÷ guideline × 100`` kept as an exact :class:`fractions.Fraction`
and compared **unrounded** with each class's inclusive upper bound (exactly 100 % is class A,
100 % plus one cent is class B). Only the reported ``percent_of_poverty`` is rounded (one decimal,
half up).

This module is pure: the loaders read packaged data files through :mod:`importlib.resources`
(cached); everything else takes values in and returns values out.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from importlib import resources
from typing import Any

import yaml

from trellis.core.errors import InvalidInput

__all__ = [
    "ALLOWED_CRITERIA",
    "REGIONS",
    "FeeAssessment",
    "FeeClass",
    "FeeSchedule",
    "GuidelineYear",
    "RegionGuideline",
    "Violation",
    "assess_fee",
    "check_schedule",
    "classify",
    "default_schedule",
    "known_years",
    "load_guideline_year",
    "parse_dollars",
    "parse_guideline_year",
    "parse_schedule",
    "percent_of_poverty",
    "poverty_guideline",
    "round_percent",
    "validate_schedule",
]

#: Regions of the HHS poverty guidelines: the 48 contiguous states and DC, Alaska, Hawaii.
REGIONS: tuple[str, ...] = ("contiguous", "alaska", "hawaii")

#: HRSA ch. 9: a sliding-fee schedule may be based only on income and household size.
ALLOWED_CRITERIA: frozenset[str] = frozenset({"income", "household_size"})

_HUNDRED = Fraction(100)
_TWO_HUNDRED = Fraction(200)
_CENT = Decimal("0.01")


# --------------------------------------------------------------------------------------------
# Small parsers shared by the loaders and the CLI
# --------------------------------------------------------------------------------------------


def parse_dollars(value: object, field: str, *, allow_none: bool = False) -> Decimal | None:
    """Parse a non-negative amount of dollars with at most two decimals (cents).

    Accepts ints, decimal strings and Decimals (floats are accepted only when they round-trip
    through their shortest ``repr``, e.g. YAML ``12.5``). Raises :class:`InvalidInput` naming
    ``field`` on anything else: negative, not a number, infinite, or finer than a cent.
    """
    if value is None:
        if allow_none:
            return None
        raise InvalidInput(field, "is required (an amount in dollars)")
    if isinstance(value, bool):
        raise InvalidInput(field, f"must be an amount in dollars, got {value!r}")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("$")
        # ASCII digits only ([0-9], not \d: "١٢" is not an amount; trellis.core.numbers).
        if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", text):
            raise InvalidInput(
                field, f"must be an amount in dollars like 23500 or 23500.50, got {value!r}"
            )
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the regex already excludes this
            raise InvalidInput(field, f"must be an amount in dollars, got {value!r}") from exc
    else:
        raise InvalidInput(field, f"must be an amount in dollars, got {type(value).__name__}")
    if not amount.is_finite():
        raise InvalidInput(field, f"must be a finite amount in dollars, got {value!r}")
    if amount < 0:
        raise InvalidInput(field, f"must not be negative, got {value!r}")
    if amount != amount.quantize(_CENT, rounding=ROUND_HALF_UP):
        raise InvalidInput(field, f"must be whole cents (at most two decimals), got {value!r}")
    return amount


def _parse_percent(value: object, field: str) -> Fraction:
    """Parse a percentage bound (int, decimal string or YAML float) into an exact Fraction."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidInput(field, f"must be a number (percent of poverty), got {value!r}")
    try:
        dec = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput(field, f"must be a number (percent of poverty), got {value!r}") from exc
    if not dec.is_finite():
        raise InvalidInput(field, f"must be a finite number, got {value!r}")
    return Fraction(dec)


# --------------------------------------------------------------------------------------------
# Poverty guidelines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionGuideline:
    """One region's guideline for one year; ``per_additional_person`` None means *unknown*."""

    region: str
    label: str
    base: int
    per_additional_person: int | None


@dataclass(frozen=True)
class GuidelineYear:
    """The HHS poverty guidelines of one year, as loaded from ``data/poverty/<year>.yaml``."""

    year: int
    source: str
    effective: dt.date | None
    regions: Mapping[str, RegionGuideline]


def _positive_int(value: object, where: str, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(
            where, f"{field}: must be a positive whole number of dollars, got {value!r}"
        )
    return value


def parse_guideline_year(data: object, where: str) -> GuidelineYear:
    """Validate the parsed content of a poverty-guideline file; ``where`` names the file.

    Errors are :class:`InvalidInput` with ``field`` = the file and a message naming the key and
    the problem, e.g. ``poverty/2026.yaml: regions.alaska.base: must be a positive whole number``.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(where, "must be a mapping with year, source, effective and regions")
    unknown = set(data) - {"year", "source", "effective", "regions"}
    if unknown:
        raise InvalidInput(where, f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
    year = data.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2200:
        raise InvalidInput(where, f"year: must be a four-digit year, got {year!r}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(where, "source: must name the Federal Register notice")
    effective = data.get("effective")
    if effective is not None and (
        not isinstance(effective, dt.date) or isinstance(effective, dt.datetime)
    ):
        raise InvalidInput(
            where, f"effective: must be an ISO date (YYYY-MM-DD) or null, got {effective!r}"
        )
    regions_raw = data.get("regions")
    if not isinstance(regions_raw, Mapping) or not regions_raw:
        raise InvalidInput(where, "regions: must be a non-empty mapping of region to guideline")
    regions: dict[str, RegionGuideline] = {}
    for name, entry in regions_raw.items():
        if name not in REGIONS:
            raise InvalidInput(
                where, f"regions.{name}: unknown region (known: {', '.join(REGIONS)})"
            )
        key = f"regions.{name}"
        if not isinstance(entry, Mapping):
            raise InvalidInput(
                where, f"{key}: must be a mapping with label, base, per_additional_person"
            )
        extra = set(entry) - {"label", "base", "per_additional_person"}
        if extra:
            raise InvalidInput(where, f"{key}: unknown keys: {', '.join(sorted(map(str, extra)))}")
        if "per_additional_person" not in entry:
            raise InvalidInput(
                where, f"{key}.per_additional_person: is required (use null when not verified)"
            )
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput(where, f"{key}.label: must be a non-empty string")
        base = _positive_int(entry.get("base"), where, f"{key}.base")
        inc_raw = entry["per_additional_person"]
        increment = (
            None
            if inc_raw is None
            else _positive_int(inc_raw, where, f"{key}.per_additional_person")
        )
        regions[name] = RegionGuideline(name, label.strip(), base, increment)
    return GuidelineYear(year, source.strip(), effective, regions)


def _poverty_dir() -> Any:
    return resources.files("trellis.core").joinpath("data", "poverty")


@functools.cache
def known_years() -> tuple[int, ...]:
    """Years for which a poverty-guideline file is packaged, ascending."""
    years = []
    for entry in _poverty_dir().iterdir():
        match = re.fullmatch(r"(\d{4})\.yaml", entry.name)
        if match:
            years.append(int(match.group(1)))
    return tuple(sorted(years))


def load_guideline_year(year: int) -> GuidelineYear:
    """Load and validate the packaged guidelines of ``year`` (cached).

    An unknown year is an :class:`InvalidInput` on ``year`` listing the known years; there is
    never a silent fallback to another year.
    """
    if isinstance(year, bool) or not isinstance(year, int):
        raise InvalidInput("year", f"must be a whole year like 2026, got {year!r}")
    known = known_years()
    if year not in known:
        raise InvalidInput(
            "year",
            f"unknown poverty-guideline year {year} (known: {', '.join(map(str, known))})",
        )
    return _load_guideline_year(year)


@functools.cache
def _load_guideline_year(year: int) -> GuidelineYear:
    where = f"poverty/{year}.yaml"
    text = _poverty_dir().joinpath(f"{year}.yaml").read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(where, f"is not valid YAML: {exc}") from exc
    loaded = parse_guideline_year(data, where)
    if loaded.year != year:
        raise InvalidInput(where, f"year: says {loaded.year} but the file is named {year}")
    return loaded


def poverty_guideline(year: int, region: str, household_size: int) -> int:
    """HHS poverty guideline in whole dollars for a household (CLINICAL.md §8).

    ``base + (household_size - 1) × per_additional_person`` for the year's region (HHS poverty
    guidelines, FR Doc 2025-01377 / 2026-00755). Raises :class:`InvalidInput` for an unknown year
    (``year``), an unknown region (``region``), a household size below one (``household_size``),
    and for a household larger than one where the region's increment is not verified (Alaska and
    Hawaii 2026): never a guess.
    """
    if isinstance(household_size, bool) or not isinstance(household_size, int):
        raise InvalidInput("household_size", f"must be a whole number, got {household_size!r}")
    if household_size < 1:
        raise InvalidInput("household_size", f"must be at least 1, got {household_size}")
    guidelines = load_guideline_year(year)
    if region not in guidelines.regions:
        raise InvalidInput(
            "region",
            f"unknown region {region!r} for {year} (known: {', '.join(guidelines.regions)})",
        )
    entry = guidelines.regions[region]
    if household_size == 1:
        return entry.base
    if entry.per_additional_person is None:
        raise InvalidInput(
            "household_size",
            f"the {year} {entry.label} guideline is only known for a household of 1: the "
            f"per-person increment is not verified in Trellis's data ({guidelines.source}), "
            f"so a household of {household_size} cannot be assessed; use the published figure "
            "once it is added to the data file",
        )
    return entry.base + (household_size - 1) * entry.per_additional_person


# --------------------------------------------------------------------------------------------
# Sliding-fee schedules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeeClass:
    """One pay class: covers percents above the previous class's bound up to ``max_percent``.

    ``max_percent`` is an inclusive upper bound (None: no upper bound, the top class).
    ``nominal_fee`` is a flat charge per billable visit (dollars), only with a 100 % discount.
    """

    label: str
    max_percent: Fraction | None
    discount_percent: int
    nominal_fee: Decimal | None


@dataclass(frozen=True)
class FeeSchedule:
    """A sliding-fee discount schedule: pay classes in ascending order of income."""

    name: str
    source: str
    criteria: tuple[str, ...]
    classes: tuple[FeeClass, ...]

    def lower_bound(self, index: int) -> Fraction:
        """Exclusive lower bound of class ``index`` (0 for the first class, which includes 0 %)."""
        if index == 0:
            return Fraction(0)
        previous = self.classes[index - 1].max_percent
        return previous if previous is not None else Fraction(0)


@dataclass(frozen=True)
class Violation:
    """A reason a schedule is refused: ``rule`` is a stable identifier, ``message`` explains."""

    rule: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def parse_schedule(data: object, where: str) -> FeeSchedule:
    """Turn parsed YAML/JSON into a :class:`FeeSchedule`, checking types and required keys.

    ``where`` names the file. Shape::

        name: str            (optional)
        source: str          (optional)
        criteria: [income, household_size]   (optional; default these two)
        classes:
          - {label: A, max_percent: 100, discount_percent: 100, nominal_fee: 20}
          - ...
          - {label: F, max_percent: null, discount_percent: 0, nominal_fee: null}

    Type errors raise :class:`InvalidInput` (field = the file, message = the key and problem).
    The clinical/HRSA rules are checked separately by :func:`validate_schedule`.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(where, "must be a mapping with a 'classes' list")
    unknown = set(data) - {"name", "source", "criteria", "classes"}
    if unknown:
        raise InvalidInput(where, f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
    name = data.get("name", "sliding-fee schedule")
    source = data.get("source", "")
    if not isinstance(name, str) or not isinstance(source, str):
        raise InvalidInput(where, "name and source must be strings")
    criteria_raw = data.get("criteria", ["income", "household_size"])
    if not isinstance(criteria_raw, list) or not all(isinstance(c, str) for c in criteria_raw):
        raise InvalidInput(where, f"criteria: must be a list of strings, got {criteria_raw!r}")
    classes_raw = data.get("classes")
    if not isinstance(classes_raw, list) or not classes_raw:
        raise InvalidInput(where, "classes: must be a non-empty list of pay classes")
    classes: list[FeeClass] = []
    for i, entry in enumerate(classes_raw):
        key = f"classes[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput(where, f"{key}: must be a mapping")
        extra = set(entry) - {"label", "max_percent", "discount_percent", "nominal_fee"}
        if extra:
            raise InvalidInput(where, f"{key}: unknown keys: {', '.join(sorted(map(str, extra)))}")
        for required in ("label", "max_percent", "discount_percent"):
            if required not in entry:
                raise InvalidInput(where, f"{key}.{required}: is required")
        label = entry["label"]
        if not isinstance(label, str) or not label.strip():
            raise InvalidInput(where, f"{key}.label: must be a non-empty string")
        max_raw = entry["max_percent"]
        try:
            max_percent = None if max_raw is None else _parse_percent(max_raw, "max_percent")
        except InvalidInput as exc:
            raise InvalidInput(where, f"{key}.max_percent: {exc.detail}") from exc
        discount = entry["discount_percent"]
        if isinstance(discount, bool) or not isinstance(discount, int):
            raise InvalidInput(
                where, f"{key}.discount_percent: must be a whole number, got {discount!r}"
            )
        try:
            nominal = parse_dollars(entry.get("nominal_fee"), "nominal_fee", allow_none=True)
        except InvalidInput as exc:
            raise InvalidInput(where, f"{key}.nominal_fee: {exc.detail}") from exc
        classes.append(FeeClass(label.strip(), max_percent, discount, nominal))
    return FeeSchedule(name, source, tuple(criteria_raw), tuple(classes))


def _fmt_pct(value: Fraction) -> str:
    return (
        f"{Decimal(value.numerator) / Decimal(value.denominator):f}".rstrip("0").rstrip(".") + " %"
    )


def validate_schedule(schedule: FeeSchedule) -> list[Violation]:
    """Every reason ``schedule`` breaks the structural or HRSA rules (empty list: acceptable).

    Structural (a schedule must classify every income exactly once):

    * ``structure_labels``: labels unique.
    * ``structure_bounds``: upper bounds positive and strictly increasing (no overlap, no empty
      class); only the last class may be open-ended.
    * ``structure_coverage``: the last class has no upper bound, so the classes cover 0 % → ∞
      without gaps (each class starts where the previous one ends).
    * ``structure_discount``: discount between 0 and 100.
    * ``structure_nominal_fee``: a nominal fee is ≥ 0 and only on a class with a 100 % discount.
    * ``structure_monotone``: discounts never increase as income rises.

    HRSA Health Center Program Compliance Manual ch. 9 (CLINICAL.md §8):

    * ``hrsa_full_discount``: every income at or below 100 % gets a full discount (100 %, a flat
      nominal fee allowed).
    * ``hrsa_graduated``: every income above 100 % and at or below 200 % gets a discount, and those
      incomes span at least 3 partial-discount classes (0 < discount < 100) with distinct,
      decreasing discounts.
    * ``hrsa_no_discount_above_200``: no discount and no nominal fee for any income above 200 %.
    * ``hrsa_criteria``: the schedule uses only income and household size.
    """
    out: list[Violation] = []
    classes = schedule.classes
    labels = [c.label for c in classes]
    dupes = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dupes:
        out.append(Violation("structure_labels", f"duplicate class labels: {', '.join(dupes)}"))
    for c in classes:
        if not 0 <= c.discount_percent <= 100:
            out.append(
                Violation(
                    "structure_discount",
                    f"class {c.label}: discount_percent must be 0–100, got {c.discount_percent}",
                )
            )
        if c.nominal_fee is not None and c.discount_percent != 100:
            out.append(
                Violation(
                    "structure_nominal_fee",
                    f"class {c.label}: a nominal fee replaces a full (100 %) discount; this class "
                    f"has a {c.discount_percent} % discount",
                )
            )
    previous: Fraction | None = Fraction(0)
    for i, c in enumerate(classes):
        last = i == len(classes) - 1
        if c.max_percent is None:
            if not last:
                out.append(
                    Violation(
                        "structure_bounds",
                        f"class {c.label}: only the last class may have no upper bound "
                        "(max_percent null)",
                    )
                )
            previous = None
            continue
        if previous is None:
            continue  # already reported: an open-ended class before this one
        if c.max_percent <= previous:
            what = "positive" if i == 0 else f"above the previous class's {_fmt_pct(previous)}"
            out.append(
                Violation(
                    "structure_bounds",
                    f"class {c.label}: max_percent {_fmt_pct(c.max_percent)} must be {what} "
                    "(bounds strictly increasing: no overlaps, no empty classes)",
                )
            )
        previous = c.max_percent
    if classes[-1].max_percent is not None:
        out.append(
            Violation(
                "structure_coverage",
                f"the last class ({classes[-1].label}) must have max_percent null so that incomes "
                f"above {_fmt_pct(classes[-1].max_percent)} are classified (classes must cover "
                "0 % to no upper limit without gaps)",
            )
        )
    for a, b in zip(classes, classes[1:], strict=False):
        if b.discount_percent > a.discount_percent:
            out.append(
                Violation(
                    "structure_monotone",
                    f"class {b.label} has a larger discount ({b.discount_percent} %) than class "
                    f"{a.label} ({a.discount_percent} %) although its incomes are higher",
                )
            )
    # The HRSA rules need well-formed bounds; skip them if the bounds are broken.
    if any(v.rule in {"structure_bounds", "structure_coverage"} for v in out):
        out.extend(_criteria_violations(schedule))
        return out

    graduated: list[FeeClass] = []
    for i, c in enumerate(classes):
        lo = schedule.lower_bound(i)
        hi = c.max_percent
        covers_at_or_below_100 = lo < _HUNDRED or i == 0
        covers_101_to_200 = lo < _TWO_HUNDRED and (hi is None or hi > _HUNDRED)
        covers_above_200 = hi is None or hi > _TWO_HUNDRED
        if covers_at_or_below_100 and c.discount_percent != 100:
            out.append(
                Violation(
                    "hrsa_full_discount",
                    f"class {c.label} covers incomes at or below 100 % of poverty but has a "
                    f"{c.discount_percent} % discount; HRSA requires a full discount there "
                    "(a flat nominal fee is allowed)",
                )
            )
        if covers_101_to_200:
            if c.discount_percent == 0:
                out.append(
                    Violation(
                        "hrsa_graduated",
                        f"class {c.label} covers incomes between 101 % and 200 % of poverty but "
                        "gives no discount; HRSA requires partial discounts there",
                    )
                )
            elif c.discount_percent < 100:
                graduated.append(c)
        if covers_above_200 and (c.discount_percent != 0 or c.nominal_fee is not None):
            out.append(
                Violation(
                    "hrsa_no_discount_above_200",
                    f"class {c.label} covers incomes above 200 % of poverty but gives a "
                    f"{c.discount_percent} % discount"
                    + ("" if c.nominal_fee is None else " with a nominal fee")
                    + "; HRSA allows no discount above 200 %",
                )
            )
    distinct = sorted({c.discount_percent for c in graduated}, reverse=True)
    if len(distinct) < 3:
        out.append(
            Violation(
                "hrsa_graduated",
                "HRSA requires at least 3 graduated partial-discount classes between 101 % and "
                f"200 % of poverty with decreasing discounts; this schedule has {len(distinct)}"
                + (f" ({', '.join(f'{d} %' for d in distinct)})" if distinct else ""),
            )
        )
    out.extend(_criteria_violations(schedule))
    return out


def _criteria_violations(schedule: FeeSchedule) -> list[Violation]:
    other = [c for c in schedule.criteria if c not in ALLOWED_CRITERIA]
    if not other:
        return []
    return [
        Violation(
            "hrsa_criteria",
            f"the schedule uses {', '.join(other)}; HRSA allows only income and household size",
        )
    ]


def check_schedule(schedule: FeeSchedule, field: str = "schedule") -> FeeSchedule:
    """Return ``schedule`` if :func:`validate_schedule` finds nothing, else raise.

    The :class:`InvalidInput` (on ``field``) names every broken rule, e.g.
    ``hrsa_no_discount_above_200: class F covers incomes above 200 % …``.
    """
    violations = validate_schedule(schedule)
    if violations:
        raise InvalidInput(field, "; ".join(f"{v.rule}: {v.message}" for v in violations))
    return schedule


@functools.cache
def default_schedule() -> FeeSchedule:
    """The Trellis default schedule (CLINICAL.md §8 ★), loaded from packaged data and checked."""
    where = "fees/default_schedule.yaml"
    text = (
        resources.files("trellis.core")
        .joinpath("data", "fees", "default_schedule.yaml")
        .read_text(encoding="utf-8")
    )
    return check_schedule(parse_schedule(yaml.safe_load(text), where), where)


# --------------------------------------------------------------------------------------------
# Assessment
# --------------------------------------------------------------------------------------------


def percent_of_poverty(annual_income: Decimal | int, guideline: int) -> Fraction:
    """Exact ``income ÷ guideline × 100`` (CLINICAL.md §8: compared unrounded)."""
    if guideline <= 0:
        raise InvalidInput("poverty_guideline", f"must be positive, got {guideline}")
    return Fraction(annual_income) * 100 / guideline


def round_percent(value: Fraction) -> Decimal:
    """Round a non-negative percent to one decimal, half up (exact, no float)."""
    scaled = value * 10
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return Decimal(q).scaleb(-1).quantize(Decimal("0.1"))


def classify(percent: Fraction, schedule: FeeSchedule) -> FeeClass:
    """The pay class whose inclusive upper bound is the first at or above ``percent``.

    HRSA ch. 9 / CLINICAL.md §8 ★: exactly 100 % is the ≤ 100 % class; anything above a bound, by
    however little, is the next class.
    """
    for c in schedule.classes:
        if c.max_percent is None or percent <= c.max_percent:
            return c
    raise InvalidInput(
        "schedule", "no class covers this income: the last class needs max_percent null"
    )


@dataclass(frozen=True)
class FeeAssessment:
    """The sliding-fee class of a household (the ``class`` of the JSON is ``fee_class``)."""

    year: int
    region: str
    household_size: int
    annual_income: Decimal
    poverty_guideline: int
    percent_exact: Fraction
    percent_of_poverty: Decimal
    fee_class: str
    discount_percent: int
    nominal_fee: Decimal | None

    def to_dict(self) -> dict[str, Any]:
        """The CLI/API contract: year, region, household_size, poverty_guideline,
        percent_of_poverty (one decimal), class, discount_percent, nominal_fee (or None)."""
        return {
            "year": self.year,
            "region": self.region,
            "household_size": self.household_size,
            "poverty_guideline": self.poverty_guideline,
            "percent_of_poverty": float(self.percent_of_poverty),
            "class": self.fee_class,
            "discount_percent": self.discount_percent,
            "nominal_fee": _json_number(self.nominal_fee),
        }


def _json_number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def assess_fee(
    year: int,
    region: str,
    household_size: int,
    annual_income: Decimal | int | str,
    schedule: FeeSchedule | None = None,
) -> FeeAssessment:
    """Sliding-fee class for a household (CLINICAL.md §8; HRSA Compliance Manual ch. 9).

    ``annual_income`` is dollars (≥ 0, whole cents). The percent of the HHS poverty guideline is
    compared unrounded with the schedule's inclusive class bounds; the reported percent is
    rounded to one decimal, half up. ``schedule`` defaults to :func:`default_schedule`; any other
    schedule is checked with :func:`check_schedule` first. Bad input raises
    :class:`InvalidInput` naming ``year``, ``region``, ``household_size``, ``annual_income`` or
    ``schedule``.
    """
    income = parse_dollars(annual_income, "annual_income")
    assert income is not None  # allow_none is False
    guideline = poverty_guideline(year, region, household_size)
    chosen = default_schedule() if schedule is None else check_schedule(schedule)
    exact = percent_of_poverty(income, guideline)
    fee_class = classify(exact, chosen)
    return FeeAssessment(
        year=year,
        region=region,
        household_size=household_size,
        annual_income=income,
        poverty_guideline=guideline,
        percent_exact=exact,
        percent_of_poverty=round_percent(exact),
        fee_class=fee_class.label,
        discount_percent=fee_class.discount_percent,
        nominal_fee=fee_class.nominal_fee,
    )

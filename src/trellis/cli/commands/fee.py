"""``trellis fee``: the sliding-fee class of a household (CLINICAL.md §8, HRSA ch. 9).

    trellis fee --year 2026 --household-size 3 --annual-income 27500 [--region contiguous]
                [--schedule FILE] --format json

JSON: ``year, region, household_size, poverty_guideline, percent_of_poverty, class,
discount_percent, nominal_fee``. Bad input (household size < 1, negative income, unknown year or
region, a schedule that breaks an HRSA rule) exits 2 with one line naming the flag.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from trellis.cli.common import add_format_argument, emit, sub
from trellis.core.errors import InvalidInput
from trellis.core.fees import (
    REGIONS,
    FeeAssessment,
    FeeSchedule,
    assess_fee,
    check_schedule,
    parse_dollars,
    parse_schedule,
)
from trellis.core.numbers import strict_whole

# Core fields → the flag a person typed, so the one-line error names what to fix.
_FLAGS = {
    "year": "--year",
    "region": "--region",
    "household_size": "--household-size",
    "annual_income": "--annual-income",
    "schedule": "--schedule",
}


def register(subparsers: Any) -> None:
    p = sub(subparsers, "fee", "Sliding-fee class for a household (HHS poverty guidelines, HRSA)")
    p.add_argument("--year", required=True, help="poverty-guideline year, e.g. 2026")
    p.add_argument("--household-size", required=True, help="people in the household (≥ 1)")
    p.add_argument("--annual-income", required=True, help="household income in dollars (≥ 0)")
    p.add_argument(
        "--region",
        default="contiguous",
        help=f"poverty-guideline region: {', '.join(REGIONS)} (default: %(default)s)",
    )
    p.add_argument(
        "--schedule",
        metavar="FILE",
        help="sliding-fee schedule (YAML or JSON); default: the Trellis default of CLINICAL.md §8",
    )
    add_format_argument(p)
    p.set_defaults(func=run)


def _whole_number(raw: str, flag: str, what: str) -> int:
    value = strict_whole(raw)  # ASCII digits only (trellis.core.numbers)
    if value is None:
        raise InvalidInput(flag, f"must be a whole number ({what}), got {raw!r}")
    return value


def _read_schedule(path: str) -> FeeSchedule:
    p = Path(path)
    if not p.is_file():
        raise InvalidInput("--schedule", f"no such file: {path}")
    try:
        raw = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput("--schedule", f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(raw) if p.suffix.lower() == ".json" else yaml.safe_load(raw)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = "JSON" if p.suffix.lower() == ".json" else "YAML"
        raise InvalidInput("--schedule", f"{path} is not valid {kind}: {exc}") from exc
    try:
        return check_schedule(parse_schedule(data, path), path)
    except InvalidInput as exc:
        raise InvalidInput("--schedule", exc.message) from exc


def _text(a: FeeAssessment) -> str:
    pay = (
        f"nominal fee ${a.nominal_fee} per visit"
        if a.nominal_fee is not None
        else f"{a.discount_percent} % discount"
    )
    return (
        f"Class {a.fee_class}: {pay}\n"
        f"Income ${a.annual_income:,} is {a.percent_of_poverty} % of the {a.year} poverty "
        f"guideline (${a.poverty_guideline:,}) for a household of {a.household_size} "
        f"({a.region})."
    )


def run(args: argparse.Namespace) -> int:
    year = _whole_number(args.year, "--year", "a year like 2026")
    household_size = _whole_number(args.household_size, "--household-size", "people")
    try:
        income = parse_dollars(args.annual_income, "--annual-income")
    except InvalidInput as exc:
        raise InvalidInput("--annual-income", exc.detail) from exc
    region = args.region.strip().lower()
    if region not in REGIONS:
        raise InvalidInput(
            "--region", f"unknown region {args.region!r} (known: {', '.join(REGIONS)})"
        )
    schedule = _read_schedule(args.schedule) if args.schedule else None
    assert income is not None
    try:
        assessment = assess_fee(year, region, household_size, income, schedule)
    except InvalidInput as exc:
        flag = _FLAGS.get(exc.field)
        if flag is None:
            raise
        raise InvalidInput(flag, exc.detail) from exc
    emit(assessment.to_dict(), args.format, text=_text(assessment))
    return 0

"""Equity aggregation: the care funnel by group, with small-cell suppression; rurality helpers.

Why: ketamine trial participants were 73.7 % non-Hispanic White (CLINICAL.md §6, J Stud Alcohol
Drugs 2022;83:596); a program should see who reaches each step of its own funnel, by poverty
class (CLINICAL.md §8), race and ethnicity, preferred language, payer and rurality.

**Funnel** (one record per patient episode): referred → screened → started →
completed_series_with_80pct_integration → response → remission → durable_remission_90d
(CLINICAL.md §3 definitions). A record that skips a step (e.g. started but not screened) is refused.
A stage's **rate** is its count ÷ the group's episodes. The **disparity ratio** of a group at a
stage is its rate ÷ the highest *shown* rate among the dimension's known groups (the best-served
group); "unknown" groups are never the reference, and a suppressed rate is never used as one.

**Race and ethnicity** (OMB SPD 15, revised March 2024: one combined question, seven minimum
categories, several may be selected): a person who selects exactly one category is counted in
it; a person who selects two or more is counted once in "Multiracial and/or Multiethnic" (the
"alone" / "multiple" tabulation), so that each person is counted exactly once and the groups add
up to the total; no selection is "unknown". (Detailed "alone or in combination" counts are not
produced here.)

**Small-cell suppression** (CMS cell-size suppression policy: no cell of 1–10 is shown): a count
from 1 to 10 is shown as ``"<11"``; 0 is shown (CMS suppresses 1–10; a true zero discloses no
one). **Complementary suppression**: within one dimension and one column (episodes or a
stage) the group cells add up to the shown total, so when exactly one cell is suppressed the
smallest other non-zero cell is suppressed too, shown as ``"suppressed"`` (not ``"<11"``: its
value may be larger), so neither can be back-calculated from the total. When the total itself
is 1–10 it is suppressed. Rates, disparity ratios and medians derived from a suppressed count
are suppressed as well; a median out-of-pocket of fewer than 11 people is suppressed. Stages
within one group are nested, not additive, so rows need no complementary suppression.
Cross-dimension inference (the same total in every dimension) is out of scope: release one
dimension at a time if that matters. The report carries display values only; the raw small
counts never leave this module.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.fees import parse_dollars

__all__ = [
    "DIMENSIONS",
    "FUNNEL",
    "MULTIPLE",
    "OMB_CATEGORIES",
    "PAYERS",
    "SUPPRESSED_COUNT",
    "SUPPRESSED_VALUE",
    "UNKNOWN",
    "DimensionStats",
    "EpisodeRecord",
    "EquityReport",
    "GroupStats",
    "StageStats",
    "aggregate",
    "parse_episode",
    "parse_rurality_table",
    "race_ethnicity_group",
    "rurality_for_zip",
    "rurality_from_ruca",
]

FUNNEL: tuple[str, ...] = (
    "referred",
    "screened",
    "started",
    "completed_series_with_80pct_integration",
    "response",
    "remission",
    "durable_remission_90d",
)
# Each stage requires this earlier one (the funnel's logic; CLINICAL.md §3 for the outcomes).
_REQUIRES: Mapping[str, str] = {
    "screened": "referred",
    "started": "screened",
    "completed_series_with_80pct_integration": "started",
    "response": "started",
    "remission": "started",
    "durable_remission_90d": "remission",
}
DIMENSIONS: tuple[str, ...] = ("poverty_class", "race_ethnicity", "language", "payer", "rurality")

#: OMB SPD 15 (2024) minimum categories, in the standard's order.
OMB_CATEGORIES: Mapping[str, str] = {
    "american_indian_or_alaska_native": "American Indian or Alaska Native",
    "asian": "Asian",
    "black_or_african_american": "Black or African American",
    "hispanic_or_latino": "Hispanic or Latino",
    "middle_eastern_or_north_african": "Middle Eastern or North African",
    "native_hawaiian_or_pacific_islander": "Native Hawaiian or Pacific Islander",
    "white": "White",
}
MULTIPLE = "multiracial_and_or_multiethnic"
UNKNOWN = "unknown"
PAYERS: tuple[str, ...] = ("medicaid", "medicare", "commercial", "va_tricare", "uninsured", "other")
RURALITY: tuple[str, ...] = ("urban", "rural", UNKNOWN)

#: Counts from 1 to this are suppressed (CMS: cells under 11).
SMALL_CELL_MAX = 10
SUPPRESSED_COUNT = "<11"
SUPPRESSED_VALUE = "suppressed"


@dataclass(frozen=True)
class EpisodeRecord:
    """One patient episode: group attributes, funnel flags, and what the patient paid."""

    poverty_class: str | None
    race_ethnicity: tuple[str, ...]
    language: str | None
    payer: str | None
    rurality: str | None
    referred: bool
    screened: bool
    started: bool
    completed_series_with_80pct_integration: bool
    response: bool
    remission: bool
    durable_remission_90d: bool
    out_of_pocket: Decimal | None = None

    def group(self, dimension: str) -> str:
        """This episode's group in ``dimension`` (see the module docstring for race/ethnicity)."""
        if dimension == "race_ethnicity":
            return race_ethnicity_group(self.race_ethnicity)
        value: str | None = getattr(self, dimension)
        return value if value else UNKNOWN

    def reached(self, stage: str) -> bool:
        value: bool = getattr(self, stage)
        return value


def race_ethnicity_group(selected: Sequence[str]) -> str:
    """OMB SPD 15 (2024) tabulation: one category → it; two or more → Multiracial and/or
    Multiethnic; none → unknown. Unknown categories raise :class:`InvalidInput`."""
    unique = set(selected)
    for category in unique:
        if category not in OMB_CATEGORIES:
            raise InvalidInput(
                "race_ethnicity",
                f"unknown category {category!r} (OMB SPD 15: {', '.join(OMB_CATEGORIES)})",
            )
    if not unique:
        return UNKNOWN
    if len(unique) == 1:
        return next(iter(unique))
    return MULTIPLE


_RECORD_KEYS = {"poverty_class", "race_ethnicity", "language", "payer", "rurality", "out_of_pocket"}


def parse_episode(data: object, index: int = 0) -> EpisodeRecord:
    """Validate one episode from a person or file (fields named ``episodes[i].<key>``).

    Group attributes may be null (→ "unknown"); funnel flags are booleans (missing = false) and
    must follow the funnel (a stage without its prerequisite is refused); ``out_of_pocket`` is
    dollars ≥ 0 or null.
    """
    where = f"episodes[{index}]"
    if not isinstance(data, Mapping):
        raise InvalidInput(where, "must be a mapping")
    extra = set(data) - _RECORD_KEYS - set(FUNNEL)
    if extra:
        raise InvalidInput(where, f"unknown keys: {', '.join(sorted(map(str, extra)))}")
    texts: dict[str, str | None] = {}
    for key in ("poverty_class", "language", "payer", "rurality"):
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidInput(
                f"{where}.{key}", f"must be a non-empty string or null, got {value!r}"
            )
        texts[key] = value.strip() if isinstance(value, str) else None
    if texts["payer"] is not None and texts["payer"] not in PAYERS:
        raise InvalidInput(f"{where}.payer", f"unknown payer (known: {', '.join(PAYERS)})")
    if texts["rurality"] is not None and texts["rurality"] not in RURALITY:
        raise InvalidInput(f"{where}.rurality", f"must be one of {', '.join(RURALITY)}")
    if texts["language"] is not None:
        texts["language"] = texts["language"].lower()
    race = data.get("race_ethnicity", [])
    if race is None:
        race = []
    if not isinstance(race, list | tuple) or not all(isinstance(r, str) for r in race):
        raise InvalidInput(f"{where}.race_ethnicity", "must be a list of OMB category keys")
    try:
        race_ethnicity_group(race)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.race_ethnicity", exc.detail) from exc
    flags: dict[str, bool] = {}
    for stage in FUNNEL:
        value = data.get(stage, False)
        if not isinstance(value, bool):
            raise InvalidInput(f"{where}.{stage}", f"must be true or false, got {value!r}")
        flags[stage] = value
    for stage, needed in _REQUIRES.items():
        if flags[stage] and not flags[needed]:
            raise InvalidInput(f"{where}.{stage}", f"is true but {needed} is false")
    try:
        oop = parse_dollars(data.get("out_of_pocket"), "out_of_pocket", allow_none=True)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}.out_of_pocket", exc.detail) from exc
    return EpisodeRecord(
        poverty_class=texts["poverty_class"],
        race_ethnicity=tuple(sorted(set(race))),
        language=texts["language"],
        payer=texts["payer"],
        rurality=texts["rurality"],
        out_of_pocket=oop,
        **flags,
    )


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

Shown = int | str  # a count, "<11" (1–10) or "suppressed" (complementary)
Derived = Decimal | str | None  # a value, "suppressed", or None when undefined


@dataclass(frozen=True)
class StageStats:
    count: Shown
    rate: Derived
    disparity_ratio: Derived


@dataclass(frozen=True)
class GroupStats:
    group: str
    episodes: Shown
    stages: Mapping[str, StageStats]
    median_out_of_pocket: Derived


@dataclass(frozen=True)
class DimensionStats:
    dimension: str
    groups: tuple[GroupStats, ...]
    total: GroupStats
    #: Per stage, the best-served group used as the disparity reference (None: no reference).
    reference_group: Mapping[str, str | None]


@dataclass(frozen=True)
class EquityReport:
    episodes: Shown
    dimensions: Mapping[str, DimensionStats]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: counts as ints or "<11"; rates and ratios as numbers or "suppressed"."""

        def val(v: Derived | Shown) -> Any:
            return float(v) if isinstance(v, Decimal) else v

        def group(g: GroupStats) -> dict[str, Any]:
            return {
                "group": g.group,
                "episodes": g.episodes,
                "median_out_of_pocket": val(g.median_out_of_pocket),
                "stages": {
                    name: {
                        "count": s.count,
                        "rate": val(s.rate),
                        "disparity_ratio": val(s.disparity_ratio),
                    }
                    for name, s in g.stages.items()
                },
            }

        return {
            "episodes": self.episodes,
            "suppression": {
                "small_cell": f"counts 1–{SMALL_CELL_MAX} shown as {SUPPRESSED_COUNT}",
                "complementary": (
                    f"one more cell per column, shown as {SUPPRESSED_VALUE}, when exactly one "
                    "is suppressed"
                ),
            },
            "dimensions": {
                name: {
                    "groups": [group(g) for g in d.groups],
                    "total": group(d.total),
                    "reference_group": dict(d.reference_group),
                }
                for name, d in self.dimensions.items()
            },
        }


def _small(n: int) -> bool:
    return 1 <= n <= SMALL_CELL_MAX


def suppress_column(cells: list[int], total: int) -> tuple[list[str | None], str | None]:
    """Primary and complementary suppression of one column.

    Returns a mark per cell and for the total: None (shown), ``"<11"`` (a count of 1–10) or
    ``"suppressed"`` (complementary: hidden so that the ``"<11"`` cell cannot be recovered from
    the total; not labelled "<11" because its value may well be larger).
    """
    marks: list[str | None] = [SUPPRESSED_COUNT if _small(n) else None for n in cells]
    total_mark = SUPPRESSED_COUNT if _small(total) else None
    if sum(m is not None for m in marks) == 1 and total_mark is None:
        candidates = [(n, i) for i, n in enumerate(cells) if marks[i] is None and n > 0]
        if candidates:
            marks[min(candidates)[1]] = SUPPRESSED_VALUE
        else:  # cannot happen when the total is > 10 (see the module docstring); be safe anyway
            total_mark = SUPPRESSED_VALUE
    return marks, total_mark


def _decimal(value: Fraction, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        quantum, rounding=ROUND_HALF_UP
    )


def _median(values: list[Decimal]) -> Decimal:
    return Decimal(statistics.median(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _group_order(dimension: str, groups: set[str]) -> list[str]:
    if dimension == "race_ethnicity":
        order = [*OMB_CATEGORIES, MULTIPLE, UNKNOWN]
        return [g for g in order if g in groups]
    return sorted(groups - {UNKNOWN}) + ([UNKNOWN] if UNKNOWN in groups else [])


def _dimension(dimension: str, records: Sequence[EpisodeRecord]) -> DimensionStats:
    groups = _group_order(dimension, {r.group(dimension) for r in records})
    members = {g: [r for r in records if r.group(dimension) == g] for g in groups}
    columns = ["episodes", *FUNNEL]
    raw: dict[str, list[int]] = {
        "episodes": [len(members[g]) for g in groups],
        **{s: [sum(r.reached(s) for r in members[g]) for g in groups] for s in FUNNEL},
    }
    marks: dict[str, list[str | None]] = {}
    total_marks: dict[str, str | None] = {}
    for col in columns:
        marks[col], total_marks[col] = suppress_column(raw[col], sum(raw[col]))
    shown = {col: [m is None for m in marks[col]] for col in columns}
    total_shown = {col: total_marks[col] is None for col in columns}

    def display(col: str, i: int | None) -> Shown:
        mark = total_marks[col] if i is None else marks[col][i]
        value = sum(raw[col]) if i is None else raw[col][i]
        return value if mark is None else mark

    def rate(count: int, count_ok: bool, n: int, n_ok: bool) -> Fraction | str | None:
        if not (count_ok and n_ok):
            return SUPPRESSED_VALUE
        return None if n == 0 else Fraction(count, n)

    rates: dict[str, list[Fraction | str | None]] = {
        s: [
            rate(raw[s][i], shown[s][i], raw["episodes"][i], shown["episodes"][i])
            for i in range(len(groups))
        ]
        for s in FUNNEL
    }
    reference: dict[str, str | None] = {}
    ref_rate: dict[str, Fraction | None] = {}
    for s in FUNNEL:
        best: tuple[Fraction, str] | None = None
        for i, g in enumerate(groups):
            r = rates[s][i]
            if g == UNKNOWN or not isinstance(r, Fraction):
                continue
            if best is None or r > best[0]:
                best = (r, g)
        reference[s] = None if best is None else best[1]
        ref_rate[s] = None if best is None else best[0]

    def derived(r: Fraction | str | None, places: int) -> Derived:
        return _decimal(r, places) if isinstance(r, Fraction) else r

    def ratio(r: Fraction | str | None, s: str) -> Derived:
        ref = ref_rate[s]
        if isinstance(r, str):
            return SUPPRESSED_VALUE
        if r is None or ref is None or ref == 0:
            return None
        return _decimal(r / ref, 2)

    def median_oop(rs: Sequence[EpisodeRecord], n_ok: bool) -> Derived:
        values = [r.out_of_pocket for r in rs if r.out_of_pocket is not None]
        if not n_ok or _small(len(values)):
            return SUPPRESSED_VALUE
        return _median(values) if values else None

    out_groups = []
    for i, g in enumerate(groups):
        stages = {
            s: StageStats(
                count=display(s, i),
                rate=derived(rates[s][i], 3),
                disparity_ratio=ratio(rates[s][i], s),
            )
            for s in FUNNEL
        }
        n_ok = shown["episodes"][i]
        out_groups.append(
            GroupStats(
                group=g,
                episodes=display("episodes", i),
                stages=stages,
                median_out_of_pocket=median_oop(members[g], n_ok),
            )
        )
    n_total = len(records)
    total_stages = {}
    for s in FUNNEL:
        count = sum(raw[s])
        r = rate(count, total_shown[s], n_total, total_shown["episodes"])
        total_stages[s] = StageStats(
            count=display(s, None),
            rate=derived(r, 3),
            disparity_ratio=None,
        )
    total = GroupStats(
        group="total",
        episodes=display("episodes", None),
        stages=total_stages,
        median_out_of_pocket=median_oop(records, total_shown["episodes"]),
    )
    return DimensionStats(dimension, tuple(out_groups), total, reference)


def aggregate(records: Sequence[EpisodeRecord]) -> EquityReport:
    """The equity funnel per dimension and group, suppressed for release (see module docstring).

    Sources: CMS cell-size suppression policy (cells 1–10 not shown); OMB SPD 15 (2024) for race
    and ethnicity; CLINICAL.md §3 (response, remission, durable remission), §6 (equity), §8
    (poverty classes).
    """
    n = len(records)
    return EquityReport(
        episodes=SUPPRESSED_COUNT if _small(n) else n,
        dimensions={d: _dimension(d, records) for d in DIMENSIONS},
    )


# --------------------------------------------------------------------------------------------
# Rurality
# --------------------------------------------------------------------------------------------

_ZIP = re.compile(r"(\d{5})(-\d{4})?")


def rurality_from_ruca(code: object) -> str:
    """Urban/rural from a USDA ERS RUCA code: primary codes 1–3 (metropolitan) are urban, 4–10
    (micropolitan, small town, rural) are rural; 99 (not coded) or None → "unknown".

    Source: USDA ERS Rural-Urban Commuting Area codes (the common ZIP-level dichotomy; HRSA's
    FORHP also counts some large census tracts with codes 2–3 as rural, which cannot be done at
    ZIP level). Secondary codes such as 4.1 use their primary code (the whole part).
    """
    if code is None:
        return UNKNOWN
    if isinstance(code, bool) or not isinstance(code, int | float | str | Decimal):
        raise InvalidInput("ruca", f"must be a RUCA code 1–10 (or 99), got {code!r}")
    try:
        value = float(code)
    except ValueError as exc:
        raise InvalidInput("ruca", f"must be a RUCA code 1–10 (or 99), got {code!r}") from exc
    if value == 99:
        return UNKNOWN
    if not math.isfinite(value) or not 1 <= value < 11:
        raise InvalidInput("ruca", f"must be a RUCA code 1–10 (or 99), got {code!r}")
    return "urban" if math.floor(value) <= 3 else "rural"


def parse_rurality_table(data: object, where: str) -> Mapping[str, str]:
    """Validate a program-supplied table of 5-digit ZIP codes or 3-digit prefixes → urban/rural
    (e.g. derived from RUCA with :func:`rurality_from_ruca`). Trellis ships no table: without
    one, every ZIP code is "unknown" (never guessed)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(where, "must be a mapping of ZIP code or 3-digit prefix to urban/rural")
    table: dict[str, str] = {}
    for key, value in data.items():
        k = str(key)
        if not re.fullmatch(r"\d{3}|\d{5}", k):
            raise InvalidInput(where, f"{k}: keys must be 5-digit ZIP codes or 3-digit prefixes")
        if value not in ("urban", "rural"):
            raise InvalidInput(where, f"{k}: must be urban or rural, got {value!r}")
        table[k] = value
    return table


def rurality_for_zip(zip_code: str | None, table: Mapping[str, str] | None = None) -> str:
    """ "urban", "rural" or "unknown" for a ZIP code, by the program's ``table``.

    Exact 5-digit match first, then the 3-digit prefix; no table, no match or no ZIP code →
    "unknown" (never a guess). A malformed ZIP code (not 5 digits or ZIP+4) raises
    :class:`InvalidInput` on ``zip_code``.
    """
    if zip_code is None or not zip_code.strip():
        return UNKNOWN
    match = _ZIP.fullmatch(zip_code.strip())
    if not match:
        raise InvalidInput("zip_code", f"must be a 5-digit ZIP code or ZIP+4, got {zip_code!r}")
    if not table:
        return UNKNOWN
    zip5 = match.group(1)
    return table.get(zip5) or table.get(zip5[:3]) or UNKNOWN

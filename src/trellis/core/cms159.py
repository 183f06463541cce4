"""CMS159, Depression Remission at Twelve Months, as health centres report it (issue 16).

The eCQM (CMS159, "Depression Remission at Twelve Months", used in HRSA's UDS Table 6B) counts
patients with major depression or dysthymia whose PHQ-9 was above 9 and checks whether they
reached remission (PHQ-9 below 5) twelve months later, give or take 60 days. Trellis codes the
measure as the issue states it:

- **Index event**: the first PHQ-9 with a total > 9 dated in the measurement period (a calendar
  year), on a day when a depression diagnosis (major depression or dysthymia) is active. The
  patient is at least 12 years old on that day (the measure covers adolescents and adults).
- **Remission window**: 12 months ± 60 days after the index event: days index + 305 … index + 425
  (365 ± 60).
- **Numerator**: the last PHQ-9 in the remission window is below 5 (PHQ-9 < 5, "remission").
- **Denominator exclusions** (from the record, on or before the end of the remission window):
  bipolar disorder, personality disorder (emotionally labile), schizophrenia or psychotic
  disorder, pervasive developmental disorder, death, hospice care, palliative care, permanent
  long-term care. An excluded patient leaves the denominator and is counted under the first
  reason found, in that order.

Diagnoses are classified from ICD-10-CM codes by :func:`classify_icd10`, after the measure's value
sets ("Major Depression Including Remission", "Dysthymia", "Bipolar Disorder", "Personality
Disorder Emotionally Labile", "Schizophrenia or Psychotic Disorder", "Pervasive Developmental
Disorder"). Pure: records in, counts out; the app turns its tables into :class:`PatientRecord`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from trellis.core.errors import InvalidInput

Category = Literal[
    "depression",
    "dysthymia",
    "bipolar",
    "personality_disorder",
    "psychotic_disorder",
    "pervasive_developmental_disorder",
]
StatusKind = Literal["death", "hospice", "palliative_care", "long_term_care"]

#: Exclusion reasons in the order they are attributed (one reason per excluded patient).
EXCLUSION_REASONS: tuple[str, ...] = (
    "bipolar",
    "personality_disorder",
    "psychotic_disorder",
    "pervasive_developmental_disorder",
    "death",
    "hospice",
    "palliative_care",
    "long_term_care",
)
DIAGNOSIS_EXCLUSIONS = frozenset(EXCLUSION_REASONS[:4])
STATUS_KINDS: tuple[str, ...] = EXCLUSION_REASONS[4:]

INDEX_ABOVE = 9  # PHQ-9 > 9 (a total of 10 or more) makes an index event
REMISSION_BELOW = 5  # PHQ-9 < 5 is remission
WINDOW_CENTRE_DAYS = 365  # twelve months
WINDOW_HALF_DAYS = 60  # ± 60 days
MIN_AGE = 12

# ICD-10-CM prefixes of each category (the measure's value sets). A code matches a prefix when it
# starts with it once the dot is removed: F33.1 -> F331.
_PREFIXES: Mapping[Category, tuple[str, ...]] = {
    # Major depression including remission: single episode F32.0-F32.5, F32.9, F32.A; recurrent
    # F33.0-F33.3, F33.4x, F33.8, F33.9 (not F32.8x, "other depressive episodes").
    "depression": (
        "F320", "F321", "F322", "F323", "F324", "F325", "F329", "F32A",
        "F330", "F331", "F332", "F333", "F334", "F338", "F339",
    ),
    "dysthymia": ("F341",),
    "bipolar": ("F31",),
    "personality_disorder": ("F603",),
    "psychotic_disorder": ("F20", "F22", "F23", "F24", "F25", "F28", "F29"),
    "pervasive_developmental_disorder": ("F84",),
}  # fmt: skip
_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


def classify_icd10(code: str) -> Category | None:
    """The CMS159 category of an ICD-10-CM code (None when the measure does not use it).

    Raises :class:`InvalidInput` for a string that is not an ICD-10-CM code."""
    text = code.strip().upper()
    if not _ICD10.match(text):
        raise InvalidInput("code", f"{code!r} is not an ICD-10-CM code (e.g. F33.1)")
    flat = text.replace(".", "")
    for category, prefixes in _PREFIXES.items():
        if flat.startswith(prefixes):
            return category
    return None


@dataclass(frozen=True)
class Diagnosis:
    category: Category
    onset: dt.date
    resolved: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.onset <= day and (self.resolved is None or day <= self.resolved)


@dataclass(frozen=True)
class PatientRecord:
    """What CMS159 reads of one patient: birth date, diagnoses, status events, PHQ-9 totals."""

    key: str
    birth_date: dt.date
    diagnoses: tuple[Diagnosis, ...] = ()
    status: tuple[tuple[StatusKind, dt.date], ...] = ()
    phq9: tuple[tuple[dt.date, int], ...] = ()


@dataclass(frozen=True)
class PatientResult:
    key: str
    index_date: dt.date
    excluded: str | None
    last_in_window: tuple[dt.date, int] | None

    @property
    def in_denominator(self) -> bool:
        return self.excluded is None

    @property
    def in_numerator(self) -> bool:
        return (
            self.excluded is None
            and self.last_in_window is not None
            and self.last_in_window[1] < REMISSION_BELOW
        )


@dataclass(frozen=True)
class Cms159Result:
    year: int
    denominator: int
    numerator: int
    rate: float | None
    exclusions: Mapping[str, int]
    patients: tuple[PatientResult, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "measure": "CMS159",
            "year": self.year,
            "denominator": self.denominator,
            "numerator": self.numerator,
            "rate": self.rate,
            "exclusions": dict(self.exclusions),
        }


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def remission_window(index_date: dt.date) -> tuple[dt.date, dt.date]:
    """Twelve months ± 60 days after the index event, both ends included."""
    centre = index_date + dt.timedelta(days=WINDOW_CENTRE_DAYS)
    half = dt.timedelta(days=WINDOW_HALF_DAYS)
    return centre - half, centre + half


def index_event(record: PatientRecord, year: int) -> dt.date | None:
    """The first PHQ-9 > 9 in ``year`` on a day with an active depression or dysthymia
    diagnosis, the patient aged 12 or more (None: the patient is not in the measure)."""
    for day, total in sorted(record.phq9):
        if day.year != year or total <= INDEX_ABOVE:
            continue
        if age_on(record.birth_date, day) < MIN_AGE:
            continue
        if any(d.category in ("depression", "dysthymia") and d.active_on(day)
               for d in record.diagnoses):  # fmt: skip
            return day
    return None


def exclusion(record: PatientRecord, until: dt.date) -> str | None:
    """The first exclusion reason on record on or before ``until`` (the window's end)."""
    found: set[str] = {d.category for d in record.diagnoses if d.onset <= until}
    found &= DIAGNOSIS_EXCLUSIONS
    found |= {kind for kind, day in record.status if day <= until}
    return next((reason for reason in EXCLUSION_REASONS if reason in found), None)


def _check(record: PatientRecord) -> None:
    for day, total in record.phq9:
        if not 0 <= total <= 27:
            raise InvalidInput("phq9", f"{total} on {day} is outside 0-27 ({record.key})")
    for kind, _day in record.status:
        if kind not in STATUS_KINDS:
            raise InvalidInput("status", f"{kind!r} is not one of: {', '.join(STATUS_KINDS)}")


def evaluate(record: PatientRecord, year: int) -> PatientResult | None:
    """One patient's place in the measure for ``year`` (None: no index event)."""
    _check(record)
    index = index_event(record, year)
    if index is None:
        return None
    start, end = remission_window(index)
    in_window = sorted((d, t) for d, t in record.phq9 if start <= d <= end)
    return PatientResult(
        key=record.key,
        index_date=index,
        excluded=exclusion(record, end),
        last_in_window=in_window[-1] if in_window else None,
    )


def cms159(records: Iterable[PatientRecord], year: int) -> Cms159Result:
    """CMS159 for a measurement ``year``: denominator, numerator, rate and exclusions by reason."""
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", f"{year} is not a measurement year (2000-2100)")
    results = [r for r in (evaluate(rec, year) for rec in records) if r is not None]
    denominator = [r for r in results if r.in_denominator]
    numerator = [r for r in denominator if r.in_numerator]
    counts = dict.fromkeys(EXCLUSION_REASONS, 0)
    for r in results:
        if r.excluded is not None:
            counts[r.excluded] += 1
    return Cms159Result(
        year=year,
        denominator=len(denominator),
        numerator=len(numerator),
        rate=len(numerator) / len(denominator) if denominator else None,
        exclusions=counts,
        patients=tuple(results),
    )


def categories(codes: Sequence[str]) -> set[Category]:
    """The categories of a list of ICD-10-CM codes (codes the measure does not use are left out)."""
    return {c for c in (classify_icd10(code) for code in codes) if c is not None}

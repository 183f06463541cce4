"""Frozen dataclasses for instruments (built by :mod:`.loader`) and their score results.

An :class:`Instrument` is parsed from one YAML file in ``trellis/core/data/instruments/`` and
validated at load (CLINICAL.md §1 is the source of every range, band and flag in those files).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AnswerValue = int | str
"""An item answer: an integer for rating items, a code (``yes``/``no``/``not_asked``) for C-SSRS."""


@dataclass(frozen=True)
class Option:
    """One answer option: the stored value and its label per language."""

    value: AnswerValue
    label: Mapping[str, str]


@dataclass(frozen=True)
class Item:
    """One item. ``text`` is the official wording per language, empty when the licence forbids
    shipping it (then ``label`` holds a short neutral name of the construct)."""

    id: str
    options: tuple[Option, ...]
    text: Mapping[str, str]
    label: Mapping[str, str]

    @property
    def values(self) -> tuple[AnswerValue, ...]:
        return tuple(o.value for o in self.options)

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, int) for v in self.values)

    @property
    def min_value(self) -> int:
        return min(int(v) for v in self.values)

    @property
    def max_value(self) -> int:
        return max(int(v) for v in self.values)

    @property
    def field_name(self) -> str:
        """How errors name this item: ``item 3`` for numbered items, ``q6_3mo`` for coded ones."""
        return f"item {self.id}" if self.id.isdigit() else self.id


@dataclass(frozen=True)
class Band:
    """A severity band: ``token`` applies when ``min <= total <= max`` (inclusive)."""

    token: str
    min: int
    max: int


@dataclass(frozen=True)
class Cluster:
    """A symptom cluster (PCL-5 B/C/D/E): items and how many must be endorsed."""

    id: str
    items: tuple[str, ...]
    min_endorsed: int


@dataclass(frozen=True)
class Domain:
    """A scoring domain (QIDS-SR16): the domain score is the maximum of its items."""

    id: str
    items: tuple[str, ...]
    combine: str = "max"


@dataclass(frozen=True)
class FlagRule:
    """A flag raised by a score.

    ``rule`` is one of ``item_at_least`` (answer to ``item`` >= ``min``), ``total_at_least``
    (total >= ``min``) or ``cluster_pattern`` (every cluster has its ``min_endorsed`` items).
    """

    token: str
    rule: str
    item: str | None = None
    min: int | None = None


@dataclass(frozen=True)
class LoincCode:
    """A LOINC code; ``verify`` is true when it was not confirmed against loinc.org."""

    code: str
    verify: bool


@dataclass(frozen=True)
class Loinc:
    panel: LoincCode | None = None
    total: LoincCode | None = None
    items: Mapping[str, LoincCode] = field(default_factory=dict)


@dataclass(frozen=True)
class Instrument:
    """A validated instrument definition (one data file)."""

    id: str
    title: str
    version: str
    languages: tuple[str, ...]
    ship_item_text: bool
    licence: str
    source: str
    source_file: str
    scoring_method: str  # sum | domains | total_only | cssrs_screener
    items: tuple[Item, ...]
    preamble: Mapping[str, str]
    range_min: int | None
    range_max: int | None
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]
    loinc: Loinc
    domains: tuple[Domain, ...] = ()
    clusters: tuple[Cluster, ...] = ()
    endorsed_min: int | None = None
    item_count: int | None = None  # total_only: how many items the clinician's form has
    item_max: int | None = None
    levels: tuple[Option, ...] = ()
    thresholds: Mapping[str, int] = field(default_factory=dict)
    meaningful_change: int | None = None
    risk_levels: tuple[str, ...] = ()

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def band_for(self, total: int) -> str | None:
        """The band token for ``total``, or None if the instrument has no bands."""
        for band in self.bands:
            if band.min <= total <= band.max:
                return band.token
        return None

    @property
    def band_tokens(self) -> tuple[str, ...]:
        return tuple(b.token for b in self.bands)


@dataclass(frozen=True)
class ScoreResult:
    """The outcome of scoring one administration.

    ``total`` is None for the C-SSRS screener (which has a ``risk`` instead). ``subtotals`` holds
    PCL-5 cluster sums (B, C, D, E) or QIDS-SR16 domain scores. ``answers`` are the validated
    answers keyed by item id (empty when a clinician entered a total only).
    """

    instrument: str
    version: str
    total: int | None
    band: str | None
    flags: tuple[str, ...]
    subtotals: Mapping[str, int] = field(default_factory=dict)
    risk: str | None = None
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    entered_as_total: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; C-SSRS results carry ``risk`` and no ``total``/``band``."""
        data: dict[str, Any] = {"instrument": self.instrument, "version": self.version}
        if self.risk is not None:
            data["risk"] = self.risk
        else:
            data["total"] = self.total
            data["band"] = self.band
        data["flags"] = list(self.flags)
        if self.subtotals:
            data["subtotals"] = dict(self.subtotals)
        if self.answers:
            data["answers"] = dict(self.answers)
        data["entered_as_total"] = self.entered_as_total
        return data

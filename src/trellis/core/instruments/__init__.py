"""Measurement instruments: definitions as data, scoring, C-SSRS screener risk.

Public API (CLINICAL.md §1-2):

- :func:`get_instrument`, :func:`load_all`, :func:`instrument_ids`: validated definitions from
  ``trellis/core/data/instruments/*.yaml``.
- :func:`score` (item answers → :class:`ScoreResult`), :func:`score_total` (clinician totals).
- :func:`cssrs_risk`: C-SSRS screener risk level.
"""

from trellis.core.instruments.cssrs import (
    CRISIS_TEXT_EN,
    RISK_LEVELS,
    cssrs_risk,
    normalise_answers,
)
from trellis.core.instruments.loader import (
    get_instrument,
    instrument_ids,
    load_all,
    parse_instrument,
    parse_instrument_yaml,
)
from trellis.core.instruments.model import (
    Band,
    Instrument,
    Item,
    Option,
    ScoreResult,
)
from trellis.core.instruments.scoring import (
    dsm5_pattern,
    level_label,
    score,
    score_imported_total,
    score_total,
    validate_answers,
    validate_total,
)

__all__ = [
    "CRISIS_TEXT_EN",
    "RISK_LEVELS",
    "Band",
    "Instrument",
    "Item",
    "Option",
    "ScoreResult",
    "cssrs_risk",
    "dsm5_pattern",
    "get_instrument",
    "instrument_ids",
    "level_label",
    "load_all",
    "normalise_answers",
    "parse_instrument",
    "parse_instrument_yaml",
    "score",
    "score_imported_total",
    "score_total",
    "validate_answers",
    "validate_total",
]

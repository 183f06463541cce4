"""Scoring of self-report instruments and clinician-entered totals (CLINICAL.md §1, §2).

Every function validates its input fully before computing anything and raises
:class:`~trellis.core.errors.InvalidInput` naming the item (``item 3: must be an integer from 0
to 3, got 5``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trellis.core.errors import InvalidInput
from trellis.core.instruments.cssrs import cssrs_risk, normalise_answers
from trellis.core.instruments.loader import get_instrument
from trellis.core.instruments.model import AnswerValue, Instrument, ScoreResult

Answers = Sequence[AnswerValue] | Mapping[str, AnswerValue]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_answers(instrument: Instrument, answers: Answers) -> dict[str, int]:
    """Check an instrument's integer answers (count, each within its item's options).

    Item counts and answer ranges come from the instrument's data file (CLINICAL.md §1: PHQ-9
    9 x 0-3, GAD-7 7 x 0-3, PCL-5 20 x 0-4, QIDS-SR16 16 x 0-3). ``answers`` is either a
    sequence in item order or a mapping keyed by item id. Booleans are refused (``True`` is
    not an answer). Raises InvalidInput naming the item: ``item 3: must be an integer from 0
    to 3, got 5``.
    """
    items = instrument.items
    if isinstance(answers, Mapping):
        unknown = [k for k in answers if k not in {it.id for it in items}]
        if unknown:
            raise InvalidInput("answers", f"unknown item {unknown[0]!r} for {instrument.id}")
        missing = [it.id for it in items if it.id not in answers]
        if missing:
            raise InvalidInput(
                "answers", f"{instrument.id} is missing answer(s) to item(s) {', '.join(missing)}"
            )
        raw = [answers[it.id] for it in items]
    else:
        raw = list(answers)
        if len(raw) != len(items):
            raise InvalidInput(
                "answers",
                f"{instrument.id} needs exactly {len(items)} answers "
                f"(items {items[0].id} to {items[-1].id}), got {len(raw)}",
            )
    result: dict[str, int] = {}
    for item, value in zip(items, raw, strict=True):
        if not _is_int(value) or value not in item.values:
            raise InvalidInput(
                item.field_name,
                f"must be an integer from {item.min_value} to {item.max_value}, got {value!r}",
            )
        result[item.id] = int(value)
    return result


def _flags(instrument: Instrument, answers: Mapping[str, int], total: int) -> tuple[str, ...]:
    raised: list[str] = []
    for rule in instrument.flags:
        if rule.rule == "item_at_least":
            assert rule.item is not None
            assert rule.min is not None
            hit = answers[rule.item] >= rule.min
        elif rule.rule == "total_at_least":
            assert rule.min is not None
            hit = total >= rule.min
        else:  # cluster_pattern
            hit = dsm5_pattern(instrument, answers)
        if hit:
            raised.append(rule.token)
    return tuple(raised)


def dsm5_pattern(instrument: Instrument, answers: Mapping[str, int]) -> bool:
    """True when every cluster has at least its ``min_endorsed`` endorsed items.

    PCL-5 (CLINICAL.md §1, ★; VA National Center for PTSD scoring guidance; Weathers 2013):
    an item rated >= 2 ("Moderately") is endorsed; the DSM-5 pattern needs >= 1 B item (1-5),
    >= 1 C item (6-7), >= 2 D items (8-14) and >= 2 E items (15-20).
    """
    assert instrument.endorsed_min is not None
    return all(
        sum(1 for i in c.items if answers[i] >= instrument.endorsed_min) >= c.min_endorsed
        for c in instrument.clusters
    )


def score(instrument_id: str, answers: Answers) -> ScoreResult:
    """Score one administration of ``instrument_id`` from its item answers.

    - phq9 (Kroenke 2001), gad7 (Spitzer 2006), pcl5 (Weathers 2013): total = sum of items.
    - qids-sr16 (Rush AJ et al. 2003, Biol Psychiatry 54:573): 9 domains, each the max of its
      items (sleep 1-4, appetite/weight 6-9, psychomotor 15-16) or a single item (5, 10-14);
      total 0-27.
    - Bands from the data file (CLINICAL.md §1); flags from the data file: ``suicidal_ideation``
      when PHQ-9 item 9 or QIDS-SR16 item 12 >= 1 whatever the total (CLINICAL.md §2),
      ``probable_ptsd`` at PCL-5 total >= 33 and ``dsm5_pattern`` (CLINICAL.md §1).
    - PCL-5 subtotals are the cluster sums B, C, D, E; QIDS-SR16 subtotals are the domains.
    - cssrs: validated answers and ``risk`` (see :func:`~.cssrs.cssrs_risk`); no total, and
      ``flags`` stays empty: the risk level is the signal (CLINICAL.md §2).

    Totals-only instruments (madrs, ybocs, moaas, cadss, asrm) are scored with
    :func:`score_total`.
    """
    instrument = get_instrument(instrument_id)
    if instrument.scoring_method == "cssrs_screener":
        coded = normalise_answers(answers)  # type: ignore[arg-type]
        return ScoreResult(
            instrument=instrument.id,
            version=instrument.version,
            total=None,
            band=None,
            flags=(),
            risk=cssrs_risk(coded),
            answers=dict(coded),
        )
    if instrument.scoring_method == "total_only":
        raise InvalidInput(
            "answers",
            f"{instrument.id} item answers are not stored (licence); enter the total instead",
        )
    values = validate_answers(instrument, answers)
    subtotals: dict[str, int] = {}
    if instrument.scoring_method == "domains":
        for d in instrument.domains:
            subtotals[d.id] = max(values[i] for i in d.items)
        total = sum(subtotals.values())
    else:
        total = sum(values.values())
        for c in instrument.clusters:
            subtotals[c.id] = sum(values[i] for i in c.items)
    return ScoreResult(
        instrument=instrument.id,
        version=instrument.version,
        total=total,
        band=instrument.band_for(total),
        flags=_flags(instrument, values, total),
        subtotals=subtotals,
        answers=dict(values),
    )


def validate_total(instrument: Instrument, total: object, field: str = "total") -> int:
    """Check that ``total`` is an integer within the instrument's range (CLINICAL.md §1)."""
    lo, hi = instrument.range_min, instrument.range_max
    if lo is None or hi is None:
        raise InvalidInput(field, f"{instrument.id} has no total score")
    if not _is_int(total) or not lo <= total <= hi:  # type: ignore[operator]
        raise InvalidInput(
            field, f"{instrument.id} total must be an integer from {lo} to {hi}, got {total!r}"
        )
    assert isinstance(total, int)
    return total


def score_total(instrument_id: str, total: object) -> ScoreResult:
    """Record a clinician-entered total for a totals-only instrument.

    madrs 0-60 (Montgomery & Åsberg 1979; item text under RCPsych copyright), ybocs 0-40
    (Goodman 1989; copyrighted), moaas 0-5 (Chernik 1990; one rating), cadss 0-92
    (Bremner 1998; licence [verify]), asrm 0-20 (Altman 1997, Biol Psychiatry 42:948; licence
    [verify]): CLINICAL.md §1. Total flags come from the data file: ``possible_mania`` at ASRM
    total >= 6 (CLINICAL.md §1: a prescriber review before the next dose). Remission and
    relapse thresholds (MADRS <= 12 / >= 22, Y-BOCS >= 35 % reduction) belong to
    :mod:`trellis.core.outcomes`.

    Instruments scored from items (phq9, gad7, pcl5, qids-sr16) are refused: their item flags
    (e.g. PHQ-9 item 9, CLINICAL.md §2) cannot be derived from a total.
    """
    instrument = get_instrument(instrument_id)
    if instrument.scoring_method != "total_only":
        raise InvalidInput(
            "total",
            f"{instrument.id} is scored from its item answers, not a total "
            "(item-level flags such as suicidal ideation need them)",
        )
    value = validate_total(instrument, total)
    return ScoreResult(
        instrument=instrument.id,
        version=instrument.version,
        total=value,
        band=instrument.band_for(value),
        flags=_flags(instrument, {}, value),
        entered_as_total=True,
    )


def level_label(instrument_id: str, value: int, language: str = "en") -> str | None:
    """The published definition of a single-rating level (MOAA/S 0-5, Chernik 1990)."""
    instrument = get_instrument(instrument_id)
    for lv in instrument.levels:
        if lv.value == value:
            return lv.label.get(language)
    return None


def score_imported_total(instrument_id: str, total: object) -> ScoreResult:
    """A total received from another record (a FHIR Observation imported as score history).

    Range and band come from the data file (CLINICAL.md §1), e.g. PHQ-9 0-27, GAD-7 0-21.
    Unlike a new administration, the item answers are not available, so item flags (PHQ-9
    item 9, CLINICAL.md §2) cannot be derived: ``flags`` stays empty and ``entered_as_total``
    marks the result, and the import report says that no suicide-item check was possible. New
    answers are scored from items (:func:`score`); this is only for history.
    """
    instrument = get_instrument(instrument_id)
    if instrument.scoring_method not in ("sum", "domains", "total_only"):
        raise InvalidInput("total", f"{instrument.id} has no total score")
    value = validate_total(instrument, total)
    return ScoreResult(
        instrument=instrument.id,
        version=instrument.version,
        total=value,
        band=instrument.band_for(value),
        flags=(),
        entered_as_total=True,
    )

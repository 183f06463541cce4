"""``trellis score INSTRUMENT --answers LIST`` (or ``--total N`` for clinician totals).

Scores through :mod:`trellis.core.instruments` (CLINICAL.md §1-2). Answers are comma-separated
integers in item order (phq9, gad7, pcl5, qids-sr16) or, for cssrs, seven of ``y``/``n``/``-``
in the order q1,q2,q3,q4,q5,q6,q6_3mo (``-`` = not asked). A list that starts with ``-`` is
given as ``--answers=-,…`` (argparse reads ``--answers -,…`` as a missing value). An incomplete
C-SSRS screen (a required question not asked, CLINICAL.md §2) is refused naming the question.
"""

from __future__ import annotations

import argparse
from typing import Any

from trellis.cli.common import add_format_argument, emit, sub
from trellis.core.errors import InvalidInput
from trellis.core.instruments import (
    CRISIS_TEXT_EN,
    ScoreResult,
    get_instrument,
    level_label,
    score,
    score_total,
)
from trellis.core.instruments.cssrs import ITEMS as CSSRS_ITEMS
from trellis.core.instruments.model import Instrument
from trellis.core.numbers import strict_whole

CSSRS_CODES = {"y": "yes", "n": "no", "-": "not_asked"}


def register(subparsers: Any) -> None:
    p = sub(subparsers, "score", "Score an instrument (PHQ-9, GAD-7, PCL-5, C-SSRS, QIDS-SR16…)")
    p.add_argument(
        "instrument",
        metavar="INSTRUMENT",
        help="phq9, gad7, pcl5, cssrs, qids-sr16; totals only: madrs, ybocs, moaas, cadss, asrm",
    )
    p.add_argument(
        "--answers",
        metavar="LIST",
        help=(
            "comma-separated item answers in order; cssrs: seven of y/n/- (q1..q5,q6,q6_3mo); "
            "write --answers=-,... when the list starts with -"
        ),
    )
    p.add_argument("--total", metavar="N", help="clinician-entered total (madrs, ybocs, ...)")
    add_format_argument(p)
    p.set_defaults(func=run)


def _parse_int_answers(instrument: Instrument, raw: str) -> list[int]:
    parts = [s.strip() for s in raw.split(",")]
    n = len(instrument.items)
    if len(parts) != n:
        raise InvalidInput(
            "--answers",
            f"{instrument.id} needs {n} comma-separated answers "
            f"(items {instrument.items[0].id} to {instrument.items[-1].id}), got {len(parts)}",
        )
    values: list[int] = []
    for item, part in zip(instrument.items, parts, strict=True):
        value = strict_whole(part)  # ASCII digits only: "0_1", "+1", "١" are typos
        if value is None:
            raise InvalidInput(
                item.field_name,
                f"must be an integer from {item.min_value} to {item.max_value}, got {part!r}",
            )
        values.append(value)
    return values


def _parse_cssrs(raw: str) -> list[str]:
    parts = [s.strip().lower() for s in raw.split(",")]
    if len(parts) != len(CSSRS_ITEMS):
        raise InvalidInput(
            "--answers",
            f"cssrs needs {len(CSSRS_ITEMS)} comma-separated answers "
            f"({','.join(CSSRS_ITEMS)}), each y, n or - (not asked), got {len(parts)}",
        )
    codes: list[str] = []
    for item, part in zip(CSSRS_ITEMS, parts, strict=True):
        if part not in CSSRS_CODES:
            raise InvalidInput(item, f"must be y, n or - (not asked), got {part!r}")
        codes.append(CSSRS_CODES[part])
    return codes


def _text(result: ScoreResult, instrument: Instrument) -> str:
    lines = [f"{instrument.title}"]
    if result.risk is not None:
        lines.append(f"Risk: {result.risk}")
        if result.risk != "none":
            lines.append(CRISIS_TEXT_EN)
    else:
        lines.append(f"Total: {result.total} (range {instrument.range_min}-{instrument.range_max})")
        if result.band is not None:
            lines.append(f"Band: {result.band}")
        if instrument.levels and result.total is not None:
            lines.append(f"Level: {level_label(instrument.id, result.total)}")
        for key, value in result.subtotals.items():
            lines.append(f"  {key}: {value}")
    if result.flags:
        lines.append(f"Flags: {', '.join(result.flags)}")
    if "possible_mania" in result.flags:
        lines.append("Prescriber review before the next dose (CLINICAL.md §1, §6).")
    if "suicidal_ideation" in result.flags:
        lines.append("Same-day C-SSRS and clinician contact (CLINICAL.md §2).")
        lines.append(CRISIS_TEXT_EN)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    instrument = get_instrument(args.instrument, field="INSTRUMENT")
    if args.answers is not None and args.total is not None:
        raise InvalidInput("--total", "give either --answers or --total, not both")
    if instrument.scoring_method == "total_only":
        if args.total is None:
            raise InvalidInput(
                "--total", f"{instrument.id} takes a clinician-entered total (--total N)"
            )
        total = strict_whole(args.total)
        if total is None:
            raise InvalidInput(
                "--total",
                f"must be an integer from {instrument.range_min} to {instrument.range_max}, "
                f"got {args.total!r}",
            )
        try:
            result = score_total(instrument.id, total)
        except InvalidInput as exc:
            raise InvalidInput("--total", exc.detail) from None
    else:
        if args.answers is None:
            raise InvalidInput("--answers", f"{instrument.id} is scored from its item answers")
        if instrument.scoring_method == "cssrs_screener":
            result = score(instrument.id, _parse_cssrs(args.answers))
        else:
            result = score(instrument.id, _parse_int_answers(instrument, args.answers))
    emit(result.to_dict(), args.format, text=_text(result, instrument))
    return 0

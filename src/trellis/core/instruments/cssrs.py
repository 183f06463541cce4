"""C-SSRS screener risk level (CLINICAL.md §2, ★ Trellis rule).

Source: Columbia Lighthouse Project screener triage guidance; Posner K et al., Am J Psychiatry
2011;168:1266-1277. Answers are stored as codes (``yes``, ``no``, ``not_asked``); the Columbia
wording is not shipped (CLINICAL.md §1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trellis.core.errors import InvalidInput

YES = "yes"
NO = "no"
NOT_ASKED = "not_asked"
CODES = (YES, NO, NOT_ASKED)
ITEMS = ("q1", "q2", "q3", "q4", "q5", "q6", "q6_3mo")
RISK_LEVELS = ("none", "low", "moderate", "high")
"""Risk levels from lowest to highest."""

CRISIS_TEXT_EN = (
    "If you are thinking about suicide or are in crisis, call or text 988 (Suicide & Crisis "
    "Lifeline). In an emergency, call 911."
)
"""Patient-facing crisis text (US), shown at once whenever answers raise a flag (CLINICAL §2)."""


def normalise_answers(answers: Sequence[str] | Mapping[str, str]) -> dict[str, str]:
    """Check the seven answers (q1, q2, q3, q4, q5, q6, q6_3mo) and key them by item.

    Rules (CLINICAL.md §2): each answer is yes, no or not_asked; q3-q5 are asked only after a
    "yes" to q2, so a "yes" to any of them needs q2 = yes; q6_3mo (behaviour in the past 3
    months) can only be yes when q6 (behaviour ever) is yes.
    """
    if isinstance(answers, Mapping):
        unknown = [k for k in answers if k not in ITEMS]
        if unknown:
            raise InvalidInput(
                "answers", f"unknown C-SSRS item {unknown[0]!r} (items: {', '.join(ITEMS)})"
            )
        missing = [k for k in ITEMS if k not in answers]
        if missing:
            raise InvalidInput("answers", f"missing C-SSRS item(s) {', '.join(missing)}")
        by_item = {k: answers[k] for k in ITEMS}
    else:
        values = list(answers)
        if len(values) != len(ITEMS):
            raise InvalidInput(
                "answers",
                f"cssrs needs exactly {len(ITEMS)} answers ({', '.join(ITEMS)}), got {len(values)}",
            )
        by_item = dict(zip(ITEMS, values, strict=True))
    for item, value in by_item.items():
        if not isinstance(value, str) or value not in CODES:
            raise InvalidInput(item, f"must be one of yes, no, not_asked, got {value!r}")
    if by_item["q2"] != YES:
        for item in ("q3", "q4", "q5"):
            if by_item[item] == YES:
                raise InvalidInput(
                    item,
                    f"must be no or not_asked when q2 is {by_item['q2']} "
                    "(q3-q5 are asked only after yes to q2), got yes",
                )
    if by_item["q6_3mo"] == YES and by_item["q6"] != YES:
        raise InvalidInput(
            "q6_3mo",
            f"must be no or not_asked when q6 (behaviour ever) is {by_item['q6']}, got yes",
        )
    return by_item


def cssrs_risk(answers: Sequence[str] | Mapping[str, str]) -> str:
    """C-SSRS screener risk level: ``high``, ``moderate``, ``low`` or ``none``.

    CLINICAL.md §2 (★, after the Columbia screener triage guidance): ``high`` if q4 or q5 or
    q6_3mo is yes; else ``moderate`` if q3 is yes, or q6 is yes but not in the past 3 months;
    else ``low`` if q1 or q2 is yes; else ``none``. Answers are validated first
    (:func:`normalise_answers`).
    """
    a = normalise_answers(answers)
    if YES in (a["q4"], a["q5"], a["q6_3mo"]):
        return "high"
    if a["q3"] == YES or a["q6"] == YES:
        # q6 yes here means behaviour ever but not in the past 3 months (q6_3mo is not yes).
        return "moderate"
    if YES in (a["q1"], a["q2"]):
        return "low"
    return "none"

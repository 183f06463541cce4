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

    A screen with a required answer missing is **incomplete** and refused (InvalidInput naming
    the first missing question): q1, q2 and q6 are always asked, q3-q5 when q2 is yes, q6_3mo
    when q6 is yes. "Not asked" is never read as "no", so an incomplete screen gets no risk
    level at all.
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
    missing = required_unanswered(by_item)
    if missing:
        raise InvalidInput(
            missing[0],
            "is required: the screen is incomplete, so no risk level is given "
            f"(unanswered: {', '.join(missing)}; {_WHY[missing[0]]})",
        )
    return by_item


_WHY = {
    "q1": "q1 is always asked",
    "q2": "q2 is always asked",
    "q3": "q3 is asked after yes to q2",
    "q4": "q4 is asked after yes to q2",
    "q5": "q5 is asked after yes to q2",
    "q6": "q6 is always asked",
    "q6_3mo": "q6_3mo is asked after yes to q6",
}


def required_items(answers: Mapping[str, str]) -> tuple[str, ...]:
    """The questions that must be answered yes or no (CLINICAL.md §2 skip logic): q1, q2, q6
    always; q3-q5 when q2 is yes; q6_3mo when q6 is yes."""
    required = ["q1", "q2"]
    if answers.get("q2") == YES:
        required += ["q3", "q4", "q5"]
    required.append("q6")
    if answers.get("q6") == YES:
        required.append("q6_3mo")
    return tuple(required)


def required_unanswered(answers: Mapping[str, str]) -> list[str]:
    """Required questions (:func:`required_items`) answered neither yes nor no, in order."""
    return [k for k in required_items(answers) if answers.get(k) not in (YES, NO)]


def cssrs_risk(answers: Sequence[str] | Mapping[str, str]) -> str:
    """C-SSRS screener risk level: ``high``, ``moderate``, ``low`` or ``none``.

    CLINICAL.md §2 (★, after the Columbia screener triage guidance): ``high`` if q4 or q5 or
    q6_3mo is yes; else ``moderate`` if q3 is yes, or q6 is yes but not in the past 3 months;
    else ``low`` if q1 or q2 is yes; else ``none``. Answers are validated first
    (:func:`normalise_answers`): an incomplete screen raises InvalidInput naming the missing
    question and has no risk level.
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

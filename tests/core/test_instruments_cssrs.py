"""C-SSRS screener risk (CLINICAL.md §2): exhaustive over every answer combination."""

from __future__ import annotations

import itertools

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.instruments import cssrs_risk, score
from trellis.core.instruments.cssrs import CODES, ITEMS


def is_valid(a: dict[str, str]) -> bool:
    """Independent statement of the screener's skip logic and of a complete screen."""
    if a["q2"] != "yes" and "yes" in (a["q3"], a["q4"], a["q5"]):
        return False
    if a["q6_3mo"] == "yes" and a["q6"] != "yes":
        return False
    return not missing_required(a)


def missing_required(a: dict[str, str]) -> list[str]:
    """CLINICAL.md §2: q1, q2, q6 always asked; q3-q5 after yes to q2; q6_3mo after yes to q6."""
    asked = ["q1", "q2"] + (["q3", "q4", "q5"] if a["q2"] == "yes" else []) + ["q6"]
    asked += ["q6_3mo"] if a["q6"] == "yes" else []
    return [k for k in asked if a[k] == "not_asked"]


def expected_risk(a: dict[str, str]) -> str:
    """CLINICAL §2 written as a severity ladder (highest matching rung wins)."""
    yes = {k for k, v in a.items() if v == "yes"}
    rungs = [
        ("high", {"q4", "q5", "q6_3mo"}),
        ("moderate", {"q3", "q6"}),
        ("low", {"q1", "q2"}),
    ]
    for level, triggers in rungs:
        if yes & triggers:
            return level
    return "none"


ALL = [dict(zip(ITEMS, combo, strict=True)) for combo in itertools.product(CODES, repeat=7)]
VALID = [a for a in ALL if is_valid(a)]
INVALID = [a for a in ALL if not is_valid(a)]


def test_enumeration_sizes() -> None:
    assert len(ALL) == 3**7
    assert VALID
    assert INVALID


def test_exhaustive_valid_combinations() -> None:
    seen = set()
    for a in VALID:
        got = cssrs_risk(a)
        assert got == expected_risk(a), a
        assert cssrs_risk([a[k] for k in ITEMS]) == got
        seen.add(got)
    assert seen == {"none", "low", "moderate", "high"}


def test_exhaustive_invalid_combinations_name_the_item() -> None:
    for a in INVALID:
        with pytest.raises(InvalidInput) as exc:
            cssrs_risk(a)
        field = exc.value.field
        skip_broken = a["q2"] != "yes" and "yes" in (a["q3"], a["q4"], a["q5"])
        skip_broken = skip_broken or (a["q6_3mo"] == "yes" and a["q6"] != "yes")
        if skip_broken:
            assert field in {"q3", "q4", "q5", "q6_3mo"}, a
            assert a[field] == "yes"
        else:  # incomplete: the first required question left unanswered, never a risk level
            assert field == missing_required(a)[0], a
            assert "incomplete" in exc.value.detail


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        # A "yes" to suicidal thoughts with the follow-up questions unanswered is not "low".
        (["yes", "yes", "not_asked", "not_asked", "not_asked", "no", "not_asked"], "q3"),
        # Nothing answered is not "none".
        (["not_asked"] * 7, "q1"),
        (["no", "no", "not_asked", "not_asked", "not_asked", "not_asked", "not_asked"], "q6"),
        (["no", "no", "not_asked", "not_asked", "not_asked", "yes", "not_asked"], "q6_3mo"),
        (["yes", "yes", "yes", "no", "not_asked", "no", "no"], "q5"),
    ],
)
def test_incomplete_screen_has_no_risk_level(answers: list[str], field: str) -> None:
    """CLINICAL.md §2: a screen with a required answer missing is incomplete; "not asked" is
    never read as "no"."""
    with pytest.raises(InvalidInput) as exc:
        score("cssrs", answers)
    assert exc.value.field == field
    assert "incomplete" in exc.value.detail


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        (["no", "no", "not_asked", "not_asked", "not_asked", "no", "no"], "none"),
        (["yes", "no", "not_asked", "not_asked", "not_asked", "no", "not_asked"], "low"),
        (["yes", "yes", "no", "no", "no", "no", "not_asked"], "low"),
        (["yes", "yes", "yes", "no", "no", "no", "no"], "moderate"),
        (["no", "no", "not_asked", "not_asked", "not_asked", "yes", "no"], "moderate"),
        (["yes", "yes", "yes", "yes", "no", "no", "no"], "high"),
        (["yes", "yes", "yes", "no", "yes", "no", "no"], "high"),
        (["no", "no", "not_asked", "not_asked", "not_asked", "yes", "yes"], "high"),
    ],
)
def test_published_triage_examples(answers: list[str], risk: str) -> None:
    assert cssrs_risk(answers) == risk
    result = score("cssrs", answers)
    assert result.risk == risk
    assert result.total is None
    assert result.flags == ()


def test_q3_yes_when_q2_no_is_invalid() -> None:
    with pytest.raises(InvalidInput) as exc:
        cssrs_risk(["yes", "no", "yes", "not_asked", "not_asked", "no", "no"])
    assert exc.value.field == "q3"
    assert "q2 is no" in exc.value.detail


def test_q6_3mo_yes_when_q6_no_is_invalid() -> None:
    with pytest.raises(InvalidInput) as exc:
        cssrs_risk(["no", "no", "no", "no", "no", "no", "yes"])
    assert exc.value.field == "q6_3mo"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (["yes"] * 6, "answers"),
        (["maybe", "no", "no", "no", "no", "no", "no"], "q1"),
        ({"q1": "no"}, "answers"),
        ({**dict.fromkeys(ITEMS, "no"), "q7": "no"}, "answers"),
    ],
)
def test_malformed_answers(answers: object, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        cssrs_risk(answers)  # type: ignore[arg-type]
    assert exc.value.field == field

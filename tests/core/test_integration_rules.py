"""Integration rules: a complete safety plan, commitment review carry-forward, HRSN positives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.integration_rules import (
    HRSN_QUESTIONS,
    CommitmentReview,
    SafetyPlanContent,
    hrsn_positive_domains,
    hrsn_safety_score,
    review_commitments,
    safety_plan_complete,
    safety_plan_missing,
)

COMPLETE = SafetyPlanContent(
    warning_signs=("Not sleeping",),
    coping_strategies=("Walk",),
    help_contacts=("Sister",),
    professionals=("Call or text 988",),
)
TODAY = date(2026, 3, 10)


def test_complete_plan_needs_the_four_sections_and_988() -> None:
    assert safety_plan_complete(COMPLETE)
    assert safety_plan_missing(SafetyPlanContent()) == [
        "warning_signs",
        "coping_strategies",
        "help_contacts",
        "professionals",
    ]


def test_crisis_contacts_without_988_are_not_enough() -> None:
    plan = SafetyPlanContent(**{**COMPLETE.__dict__, "professionals": ("Dr Smith 555-0100",)})
    assert safety_plan_missing(plan) == ["professionals"]
    spaced = SafetyPlanContent(**{**COMPLETE.__dict__, "professionals": ("Lifeline 9-8-8",)})
    assert safety_plan_complete(spaced)


def test_blank_entries_do_not_count() -> None:
    plan = SafetyPlanContent(**{**COMPLETE.__dict__, "warning_signs": ("  ", "")})
    assert safety_plan_missing(plan) == ["warning_signs"]


def test_review_carries_partly_and_not_yet_forward() -> None:
    result = review_commitments(
        [1, 2, 3, 4],
        [
            CommitmentReview(1, "done"),
            CommitmentReview(2, "partly", "only twice"),
            CommitmentReview(3, "not_yet", "was ill"),
            CommitmentReview(4, "dropped", "no longer fits"),
        ],
        TODAY,
        {3: TODAY + timedelta(days=3)},
    )
    assert result.carried == ((2, TODAY + timedelta(days=7)), (3, TODAY + timedelta(days=3)))
    assert result.closed == ((1, "done"), (4, "dropped"))


@pytest.mark.parametrize(
    ("reviews", "message"),
    [
        ([CommitmentReview(1, "done")], "every open commitment"),
        ([CommitmentReview(1, "done"), CommitmentReview(1, "done")], "twice"),
        ([CommitmentReview(9, "done")], "not open"),
        ([CommitmentReview(1, "partly")], "why"),
        ([CommitmentReview(1, "maybe", "x")], "choose"),  # type: ignore[arg-type]
    ],
)
def test_review_refuses_gaps_and_nonsense(reviews: list[CommitmentReview], message: str) -> None:
    ids = [1, 2] if message == "every open commitment" else [1]
    with pytest.raises(InvalidInput, match=message):
        review_commitments(ids, reviews, TODAY)


@given(st.lists(st.sampled_from(["done", "partly", "not_yet", "dropped"]), max_size=8))
def test_every_open_commitment_ends_carried_or_closed(outcomes: list[str]) -> None:
    reviews = [CommitmentReview(i, o, "because") for i, o in enumerate(outcomes)]  # type: ignore[arg-type]
    result = review_commitments(list(range(len(outcomes))), reviews, TODAY)
    ids = sorted([c for c, _ in result.carried] + [c for c, _ in result.closed])
    assert ids == list(range(len(outcomes)))
    assert all(when >= TODAY for _, when in result.carried)


NO_NEEDS = {
    "housing_situation": "steady",
    "housing_problems": "no",
    "food_worry": "never",
    "food_ran_out": "never",
    "transport": "no",
    "utilities": "no",
    "safety_hurt": "never",
    "safety_insult": "never",
    "safety_threaten": "never",
    "safety_scream": "never",
}


def test_no_needs_is_negative() -> None:
    assert hrsn_positive_domains(NO_NEEDS) == ()
    assert hrsn_safety_score(NO_NEEDS) == 4


def test_each_domain_turns_positive() -> None:
    answers = {
        **NO_NEEDS,
        "housing_situation": "worried",
        "food_ran_out": "sometimes",
        "transport": "yes",
        "utilities": "already_off",
    }
    assert hrsn_positive_domains(answers) == ("housing", "food", "transport", "utilities")


def test_interpersonal_safety_is_scored_at_11() -> None:
    ten = {**NO_NEEDS, "safety_insult": "frequently", "safety_scream": "frequently"}
    assert hrsn_safety_score(ten) == 12
    assert hrsn_positive_domains(ten) == ("safety",)
    below = {**NO_NEEDS, "safety_insult": "sometimes", "safety_scream": "sometimes"}
    assert hrsn_safety_score(below) == 8
    assert hrsn_positive_domains(below) == ()


def test_unanswered_or_unknown_answers_are_refused() -> None:
    with pytest.raises(InvalidInput, match="transport"):
        hrsn_positive_domains({k: v for k, v in NO_NEEDS.items() if k != "transport"})
    with pytest.raises(InvalidInput, match="food_worry"):
        hrsn_positive_domains({**NO_NEEDS, "food_worry": "always"})
    with pytest.raises(InvalidInput, match="shoe_size"):
        hrsn_positive_domains({**NO_NEEDS, "shoe_size": "9"})


def test_every_question_has_choices() -> None:
    for q in HRSN_QUESTIONS:
        assert q.choices
        assert q.positive or q.scores

"""Integration record rules: safety plan completeness, commitment review, HRSN screening, window.

Pure functions (no Django, no I/O, the clock passed in):

- :func:`safety_plan_missing` / :func:`safety_plan_complete`: what a written safety plan needs
  before it counts as "on file" for the first-dose gate. The six sections follow the Stanley-Brown
  Safety Planning Intervention (Stanley & Brown, Cogn Behav Pract 2012;19:256): warning signs,
  internal coping strategies, people and social settings that provide distraction, people to ask
  for help, professionals and agencies to contact in a crisis, making the environment safe.
  ★ Trellis definition of *complete*: at least one warning sign, one coping strategy, one person
  to ask for help, and the 988 Suicide & Crisis Lifeline among the crisis contacts
  (CLINICAL.md §2: call or text 988).
- :func:`review_commitments`: the next integration session reviews every open commitment
  (done / partly / not yet / dropped, each but "done" with a word why); "partly" and "not yet"
  are carried forward (stay open, with a new review date), "done" and "dropped" close.
- :func:`hrsn_positive_domains`: a short health-related social needs screening modelled on the
  CMS Accountable Health Communities (AHC) HRSN Screening Tool core domains (housing
  instability and quality, food insecurity, transportation problems, utility help needs,
  interpersonal safety). The question wording below is Trellis's own plain-language version,
  not the official CMS text; the positive rules follow the tool's logic (any at-risk answer in a
  domain is positive; interpersonal safety is positive from a summed frequency score ≥ 11 of the
  four HITS-style items, as in the AHC tool) [verify against the AHC HRSN tool before relying].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from trellis.core.errors import InvalidInput

# --- safety plan --------------------------------------------------------------------------------

SAFETY_PLAN_SECTIONS: tuple[str, ...] = (
    "warning_signs",
    "coping_strategies",
    "distraction",
    "help_contacts",
    "professionals",
    "environment",
)
CRISIS_LINE = "988"


@dataclass(frozen=True)
class SafetyPlanContent:
    """The six sections of a safety plan, each a list of short entries in the patient's words."""

    warning_signs: tuple[str, ...] = ()
    coping_strategies: tuple[str, ...] = ()
    distraction: tuple[str, ...] = ()
    help_contacts: tuple[str, ...] = ()
    professionals: tuple[str, ...] = ()
    environment: tuple[str, ...] = ()


def _filled(entries: Iterable[str]) -> list[str]:
    return [e for e in (str(x).strip() for x in entries) if e]


def safety_plan_missing(plan: SafetyPlanContent) -> list[str]:
    """The sections that keep ``plan`` from being complete (empty list: complete). ★ rule above."""
    missing: list[str] = []
    if not _filled(plan.warning_signs):
        missing.append("warning_signs")
    if not _filled(plan.coping_strategies):
        missing.append("coping_strategies")
    if not _filled(plan.help_contacts):
        missing.append("help_contacts")
    if not any(CRISIS_LINE in _digits_and_text(e) for e in _filled(plan.professionals)):
        missing.append("professionals")
    return missing


def _digits_and_text(entry: str) -> str:
    # "9-8-8" or "9 8 8" written by hand still names the lifeline.
    return entry + " " + "".join(ch for ch in entry if ch.isdigit())


def safety_plan_complete(plan: SafetyPlanContent) -> bool:
    """True when the plan has every section :func:`safety_plan_missing` checks."""
    return not safety_plan_missing(plan)


# --- commitments --------------------------------------------------------------------------------

ReviewOutcome = Literal["done", "partly", "not_yet", "dropped"]
REVIEW_OUTCOMES: tuple[ReviewOutcome, ...] = ("done", "partly", "not_yet", "dropped")
CARRIED: frozenset[str] = frozenset({"partly", "not_yet"})
# ★ A carried commitment is reviewed again one week later unless the therapist sets a date.
DEFAULT_REVIEW_DAYS = 7


@dataclass(frozen=True)
class CommitmentReview:
    commitment_id: int
    outcome: ReviewOutcome
    reason: str = ""


@dataclass(frozen=True)
class ReviewResult:
    """What a review does: ids that stay open (with their next review date) and ids that close."""

    carried: tuple[tuple[int, date], ...]
    closed: tuple[tuple[int, ReviewOutcome], ...]


def review_commitments(
    open_ids: Sequence[int],
    reviews: Iterable[CommitmentReview],
    today: date,
    next_review: Mapping[int, date] | None = None,
) -> ReviewResult:
    """Review every open commitment once: each of ``open_ids`` needs exactly one review.

    ``partly``/``not_yet`` stay open with a review date (``next_review`` or today + 7 days);
    ``done``/``dropped`` close. Every outcome except ``done`` needs a word why. Missing, unknown
    or repeated reviews raise :class:`InvalidInput` naming ``review.<id>``.
    """
    given: dict[int, CommitmentReview] = {}
    open_set = set(open_ids)
    for review in reviews:
        key = f"review.{review.commitment_id}"
        if review.commitment_id not in open_set:
            raise InvalidInput(key, "this commitment is not open for review")
        if review.commitment_id in given:
            raise InvalidInput(key, "reviewed twice")
        if review.outcome not in REVIEW_OUTCOMES:
            raise InvalidInput(key, f"choose one of: {', '.join(REVIEW_OUTCOMES)}")
        if review.outcome != "done" and not review.reason.strip():
            raise InvalidInput(key, "say in a word why (for partly, not yet or dropped)")
        given[review.commitment_id] = review
    for cid in open_ids:
        if cid not in given:
            raise InvalidInput(f"review.{cid}", "every open commitment needs a review")
    dates = next_review or {}
    carried = []
    closed = []
    for cid in open_ids:
        outcome = given[cid].outcome
        if outcome in CARRIED:
            when = dates.get(cid) or today + timedelta(days=DEFAULT_REVIEW_DAYS)
            if when < today:
                raise InvalidInput(f"review.{cid}", "the next review date cannot be in the past")
            carried.append((cid, when))
        else:
            closed.append((cid, outcome))
    return ReviewResult(tuple(carried), tuple(closed))


# --- health-related social needs (AHC HRSN core domains) -----------------------------------------

HRSN_DOMAINS: tuple[str, ...] = ("housing", "food", "transport", "utilities", "safety")


@dataclass(frozen=True)
class HrsnQuestion:
    id: str
    domain: str
    text: str
    choices: tuple[tuple[str, str], ...]
    positive: frozenset[str]  # answers that count as a need (empty: scored, see safety)
    scores: tuple[tuple[str, int], ...] = ()


OFTEN = (
    ("never", "Never"),
    ("rarely", "Rarely"),
    ("sometimes", "Sometimes"),
    ("fairly_often", "Fairly often"),
    ("frequently", "Frequently"),
)
FREQ_SCORES = (
    ("never", 1),
    ("rarely", 2),
    ("sometimes", 3),
    ("fairly_often", 4),
    ("frequently", 5),
)
FOOD = (("often", "Often true"), ("sometimes", "Sometimes true"), ("never", "Never true"))
YES_NO = (("yes", "Yes"), ("no", "No"))

# Plain-language questions modelled on the CMS AHC HRSN Screening Tool (not its official text).
HRSN_QUESTIONS: tuple[HrsnQuestion, ...] = (
    HrsnQuestion(
        "housing_situation",
        "housing",
        "What is your living situation today?",
        (
            ("steady", "I have a steady place to live"),
            ("worried", "I have a place to live today, but I am worried about losing it"),
            ("none", "I do not have a steady place to live"),
        ),
        frozenset({"worried", "none"}),
    ),
    HrsnQuestion(
        "housing_problems",
        "housing",
        "Do you have problems where you live, like pests, mold, no heat, or broken appliances?",
        YES_NO,
        frozenset({"yes"}),
    ),
    HrsnQuestion(
        "food_worry",
        "food",
        "In the last 12 months, did you worry that your food would run out before you got money "
        "to buy more?",
        FOOD,
        frozenset({"often", "sometimes"}),
    ),
    HrsnQuestion(
        "food_ran_out",
        "food",
        "In the last 12 months, did the food you bought run out and you did not have money to "
        "get more?",
        FOOD,
        frozenset({"often", "sometimes"}),
    ),
    HrsnQuestion(
        "transport",
        "transport",
        "In the last 12 months, has a lack of reliable transportation kept you from medical "
        "appointments, work, or getting things you need?",
        YES_NO,
        frozenset({"yes"}),
    ),
    HrsnQuestion(
        "utilities",
        "utilities",
        "In the last 12 months, has a company shut off or threatened to shut off your electric, "
        "gas, oil, or water?",
        (("yes", "Yes"), ("no", "No"), ("already_off", "Already shut off")),
        frozenset({"yes", "already_off"}),
    ),
    HrsnQuestion(
        "safety_hurt",
        "safety",
        "How often does anyone hurt you physically?",
        OFTEN,
        frozenset(),
        FREQ_SCORES,
    ),
    HrsnQuestion(
        "safety_insult",
        "safety",
        "How often does anyone insult or talk down to you?",
        OFTEN,
        frozenset(),
        FREQ_SCORES,
    ),
    HrsnQuestion(
        "safety_threaten",
        "safety",
        "How often does anyone threaten you with harm?",
        OFTEN,
        frozenset(),
        FREQ_SCORES,
    ),
    HrsnQuestion(
        "safety_scream",
        "safety",
        "How often does anyone scream or curse at you?",
        OFTEN,
        frozenset(),
        FREQ_SCORES,
    ),
)
QUESTIONS_BY_ID: Mapping[str, HrsnQuestion] = {q.id: q for q in HRSN_QUESTIONS}
# AHC tool: interpersonal safety is positive at a summed score of 11 or more (range 4–20).
SAFETY_POSITIVE_AT = 11


def validate_hrsn_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """Every question answered with one of its choices; raises InvalidInput naming the question."""
    unknown = sorted(set(answers) - set(QUESTIONS_BY_ID))
    if unknown:
        raise InvalidInput(unknown[0], "not a question of this screening")
    clean: dict[str, str] = {}
    for q in HRSN_QUESTIONS:
        value = answers.get(q.id, "")
        if value == "":
            raise InvalidInput(q.id, "please answer this question")
        if value not in {c for c, _ in q.choices}:
            raise InvalidInput(q.id, f"{value!r} is not one of the choices")
        clean[q.id] = value
    return clean


def hrsn_safety_score(answers: Mapping[str, str]) -> int:
    total = 0
    for q in HRSN_QUESTIONS:
        if q.domain == "safety":
            total += dict(q.scores)[answers[q.id]]
    return total


def hrsn_positive_domains(answers: Mapping[str, str]) -> tuple[str, ...]:
    """The domains with a need, in :data:`HRSN_DOMAINS` order (answers validated first)."""
    clean = validate_hrsn_answers(answers)
    positive = {q.domain for q in HRSN_QUESTIONS if q.positive and clean[q.id] in q.positive}
    if hrsn_safety_score(clean) >= SAFETY_POSITIVE_AT:
        positive.add("safety")
    return tuple(d for d in HRSN_DOMAINS if d in positive)

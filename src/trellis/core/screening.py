"""Screening a patient for a protocol track, and what blocks the first dose.

Pure rules over a :class:`~trellis.core.protocols.Protocol`:

- :func:`screen` evaluates the track's screening items: any ``hard`` item present → ``excluded``;
  otherwise any ``review`` item present → ``needs_review``; otherwise ``eligible``
  (CLINICAL.md §5 "Screening exclusions").
- :func:`can_start` says whether a track may be started for that result: never when excluded;
  after a recorded prescriber approval when review was needed.
- :func:`first_dose_blockers` lists what still prevents dose 1 (requirements such as REMS
  enrolment or a safety plan, screening, preparation sessions).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from trellis.core.errors import InvalidInput
from trellis.core.protocols import REQUIREMENTS, Protocol, ScreeningItem

Outcome = Literal["eligible", "needs_review", "excluded"]
OUTCOMES: tuple[Outcome, ...] = ("eligible", "needs_review", "excluded")
MAX_AGE = 130


@dataclass(frozen=True)
class ScreeningReason:
    """A screening item that is present for this patient."""

    item_id: str
    kind: Literal["hard", "review"]
    question: str

    def __str__(self) -> str:
        verdict = "excludes" if self.kind == "hard" else "needs prescriber review"
        return f"{self.item_id} ({verdict}): {self.question}"


@dataclass(frozen=True)
class ScreeningResult:
    protocol_id: str
    outcome: Outcome
    reasons: tuple[ScreeningReason, ...]

    @property
    def hard_reasons(self) -> tuple[ScreeningReason, ...]:
        return tuple(r for r in self.reasons if r.kind == "hard")

    @property
    def review_reasons(self) -> tuple[ScreeningReason, ...]:
        return tuple(r for r in self.reasons if r.kind == "review")


def _item_present(item: ScreeningItem, answers: Mapping[str, bool], age: int | None) -> bool | None:
    """True/False for the item; None when an age item cannot be computed (age unknown)."""
    if item.age_below is not None:
        return None if age is None else age < item.age_below
    return answers[item.id]


def screen(
    protocol: Protocol,
    answers: Mapping[str, bool],
    age: int | None,
) -> ScreeningResult:
    """Evaluate ``protocol``'s screening items for one patient.

    ``answers`` maps every answered item id to True when the condition is present (e.g.
    ``{"pregnancy": False, "current_psychosis": False, …}``); items with ``age_below`` are
    computed from ``age`` and must not be answered. Unknown or missing item ids raise
    :class:`InvalidInput` (a screening with gaps must not read as eligible). An unknown age makes
    an age item a review reason, never a silent pass.

    Source: CLINICAL.md §5 (hard exclusions: esketamine contraindications per the Spravato label,
    current psychosis, mania or hypomania now, pregnancy on IV/IM tracks; relative: history of
    psychosis or mania, uncontrolled hypertension, active SUD, raised ICP, glaucoma, recent
    seizures, age < 18, which is hard for esketamine: not approved under 18, CLINICAL.md §4).
    """
    if age is not None:
        if isinstance(age, bool) or not isinstance(age, int):
            raise InvalidInput("age", f"must be a whole number of years, not {age!r}")
        if not 0 <= age <= MAX_AGE:
            raise InvalidInput("age", f"must be between 0 and {MAX_AGE} (got {age})")
    items = {i.id: i for i in protocol.screening}
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise InvalidInput(
            "answers",
            f"unknown screening item(s) for {protocol.id}: {', '.join(unknown)} "
            f"(known: {', '.join(items)})",
        )
    computed = sorted(k for k in answers if items[k].age_below is not None)
    if computed:
        raise InvalidInput(
            "answers", f"{', '.join(computed)} is computed from age; pass age instead"
        )
    for key, value in answers.items():
        if not isinstance(value, bool):
            raise InvalidInput(f"answers.{key}", f"must be true or false, not {value!r}")
    missing = [i.id for i in protocol.screening if i.age_below is None and i.id not in answers]
    if missing:
        raise InvalidInput("answers", f"unanswered screening item(s): {', '.join(missing)}")

    reasons: list[ScreeningReason] = []
    for item in protocol.screening:
        present = _item_present(item, answers, age)
        if present is None:
            reasons.append(ScreeningReason(item.id, "review", f"age not recorded; {item.question}"))
        elif present:
            reasons.append(ScreeningReason(item.id, item.kind, item.question))
    outcome: Outcome
    if any(r.kind == "hard" for r in reasons):
        outcome = "excluded"
    elif reasons:
        outcome = "needs_review"
    else:
        outcome = "eligible"
    return ScreeningResult(protocol.id, outcome, tuple(reasons))


@dataclass(frozen=True)
class StartCheck:
    allowed: bool
    reasons: tuple[str, ...]


def can_start(
    protocol: Protocol, screening: ScreeningResult, review_approved: bool = False
) -> StartCheck:
    """May the track be started (preparation booked) after this screening?

    An ``excluded`` patient can never start this track (CLINICAL.md §5, hard exclusions);
    ``needs_review`` can start only once a prescriber's approval is recorded
    (``review_approved``); ``eligible`` can start.
    """
    if screening.protocol_id != protocol.id:
        raise InvalidInput(
            "screening",
            f"was done for {screening.protocol_id}, not {protocol.id}: screen for this track",
        )
    if screening.outcome == "excluded":
        return StartCheck(False, tuple(f"excluded: {r}" for r in screening.hard_reasons))
    if screening.outcome == "needs_review" and not review_approved:
        return StartCheck(
            False,
            tuple(f"prescriber review needed: {r}" for r in screening.review_reasons),
        )
    return StartCheck(True, ())


@dataclass(frozen=True)
class FirstDoseFacts:
    """What is on record before dose 1 (booleans default to the safe "not on file")."""

    screening_outcome: Outcome
    review_approved: bool = False
    safety_plan_on_file: bool = False
    rems_enrolled: bool = False
    part2_consent: bool = False
    mood_stabiliser_documented: bool = False
    consent_to_touch_documented: bool = False
    teach_back_answered: bool = False
    preparation_sessions_done: int = 0
    hours_since_referral: float | None = None


_REQUIREMENT_FACT: Mapping[str, str] = {
    "rems_patient_enrolment": "rems_enrolled",
    "safety_plan": "safety_plan_on_file",
    "part2_consent": "part2_consent",
    "mood_stabiliser_documented": "mood_stabiliser_documented",
    "consent_to_touch_documented": "consent_to_touch_documented",
    "preparation_teach_back": "teach_back_answered",
}
assert set(_REQUIREMENT_FACT) == set(REQUIREMENTS)


def requirement_fact(requirement: str) -> str | None:
    """The :class:`FirstDoseFacts` field that tells whether ``requirement`` is met (None when
    the name is not a known requirement)."""
    return _REQUIREMENT_FACT.get(requirement)


def first_dose_blockers(
    protocol: Protocol, facts: FirstDoseFacts, extra_preparation: int = 0
) -> list[str]:
    """Everything that still blocks the first dose of ``protocol``; empty means none.

    - screening: excluded, or needs review without a recorded approval (CLINICAL.md §5);
    - each of ``requirements_before_first_dose`` not on file: REMS patient enrolment before the
      first treatment (Spravato REMS, CLINICAL.md §4), safety plan (e.g. ``esketamine-suicidal``
      refuses dose 1 without one), 42 CFR Part 2 consent (CLINICAL.md §6), mood stabiliser on the
      bipolar track (Bahji 2021, CLINICAL.md §6), consent to touch (trauma tracks), the
      preparation guide's teach-back answered (issue 17; a track may require it);
    - fewer preparation sessions than the track (plus ``extra_preparation`` from adaptations,
      e.g. 1 for ``medical-distrust``) requires.

    Being past ``start_within_hours_of_referral`` does not block a dose (late care beats none);
    :func:`referral_deadline_missed` reports it as an alert instead.
    """
    if facts.screening_outcome not in OUTCOMES:
        raise InvalidInput(
            "screening_outcome",
            f"{facts.screening_outcome!r} is not one of: {', '.join(OUTCOMES)}",
        )
    if facts.preparation_sessions_done < 0:
        raise InvalidInput("preparation_sessions_done", "must be ≥ 0")
    if extra_preparation < 0:
        raise InvalidInput("extra_preparation", "must be ≥ 0")
    blockers: list[str] = []
    if facts.screening_outcome == "excluded":
        blockers.append("screening: excluded from this track")
    elif facts.screening_outcome == "needs_review" and not facts.review_approved:
        blockers.append("screening: prescriber review not yet recorded")
    for req in protocol.requirements_before_first_dose:
        if not getattr(facts, _REQUIREMENT_FACT[req]):
            blockers.append(f"{req}: {REQUIREMENTS[req]} is required before the first dose")
    needed = protocol.preparation.count + extra_preparation
    if facts.preparation_sessions_done < needed:
        blockers.append(
            f"preparation: {facts.preparation_sessions_done} of {needed} session(s) done"
        )
    return blockers


def referral_deadline_missed(protocol: Protocol, hours_since_referral: float) -> bool:
    """True when the track's ``start_within_hours_of_referral`` (48 h on ``esketamine-suicidal``,
    a Trellis ★ rule) has passed without a first dose; an alert for the team, not a blocker."""
    if hours_since_referral < 0:
        raise InvalidInput("hours_since_referral", "must be ≥ 0")
    limit = protocol.start_within_hours_of_referral
    return limit is not None and hours_since_referral > limit

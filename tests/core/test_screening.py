"""Screening (CLINICAL.md §5) and what blocks the first dose (§4 REMS, §6)."""

from __future__ import annotations

import pytest

from trellis.core.errors import InvalidInput
from trellis.core.protocols import Protocol, load_protocol, protocol_ids
from trellis.core.screening import (
    FirstDoseFacts,
    can_start,
    first_dose_blockers,
    referral_deadline_missed,
    screen,
)


def all_no(p: Protocol) -> dict[str, bool]:
    return {i.id: False for i in p.screening if i.age_below is None}


def hard_items() -> list[tuple[str, str]]:
    return [
        (pid, item.id)
        for pid in protocol_ids()
        for item in load_protocol(pid).screening
        if item.kind == "hard" and item.age_below is None
    ]


def review_items() -> list[tuple[str, str]]:
    return [
        (pid, item.id)
        for pid in protocol_ids()
        for item in load_protocol(pid).screening
        if item.kind == "review" and item.age_below is None
    ]


@pytest.mark.parametrize("track", protocol_ids())
def test_all_clear_adult_is_eligible(track: str) -> None:
    p = load_protocol(track)
    result = screen(p, all_no(p), age=40)
    assert (result.outcome, result.reasons) == ("eligible", ())
    assert can_start(p, result).allowed


@pytest.mark.parametrize(("track", "item"), hard_items())
def test_each_hard_item_excludes(track: str, item: str) -> None:
    p = load_protocol(track)
    answers = all_no(p) | {item: True}
    result = screen(p, answers, age=40)
    assert result.outcome == "excluded"
    assert [r.item_id for r in result.reasons] == [item]
    check = can_start(p, result, review_approved=True)  # approval cannot lift a hard exclusion
    assert not check.allowed
    assert item in check.reasons[0]


@pytest.mark.parametrize(("track", "item"), review_items())
def test_each_review_item_needs_review(track: str, item: str) -> None:
    p = load_protocol(track)
    result = screen(p, all_no(p) | {item: True}, age=40)
    assert result.outcome == "needs_review"
    assert [(r.item_id, r.kind) for r in result.reasons] == [(item, "review")]
    assert not can_start(p, result).allowed
    assert can_start(p, result, review_approved=True).allowed


def test_hard_wins_over_review_and_all_reasons_are_listed() -> None:
    p = load_protocol("iv-trd")
    result = screen(p, all_no(p) | {"glaucoma": True, "pregnancy": True}, age=40)
    assert result.outcome == "excluded"
    assert {r.item_id for r in result.reasons} == {"glaucoma", "pregnancy"}
    assert [r.item_id for r in result.hard_reasons] == ["pregnancy"]


@pytest.mark.parametrize(
    ("track", "age", "outcome"),
    [
        ("esketamine-trd", 17, "excluded"),  # not approved under 18 (CLINICAL.md §4)
        ("esketamine-trd", 18, "eligible"),
        ("esketamine-suicidal", 17, "excluded"),
        ("iv-trd", 17, "needs_review"),  # relative on IV (CLINICAL.md §5)
        ("iv-trd", 18, "eligible"),
        ("iv-trd", None, "needs_review"),  # unknown age is never a silent pass
        ("esketamine-trd", None, "needs_review"),
    ],
)
def test_age_boundary(track: str, age: int | None, outcome: str) -> None:
    p = load_protocol(track)
    assert screen(p, all_no(p), age=age).outcome == outcome


def test_pregnancy_is_review_on_esketamine_but_hard_on_iv() -> None:
    esk = load_protocol("esketamine-trd")
    iv = load_protocol("iv-trd")
    assert screen(esk, all_no(esk) | {"pregnancy": True}, 30).outcome == "needs_review"
    assert screen(iv, all_no(iv) | {"pregnancy": True}, 30).outcome == "excluded"


@pytest.mark.parametrize(
    ("answers_change", "age", "field", "fragment"),
    [
        ({"telepathy": False}, 40, "answers", "unknown screening item(s) for iv-trd: telepathy"),
        ({"age_under_18": False}, 40, "answers", "computed from age"),
        ({"glaucoma": "no"}, 40, "answers.glaucoma", "true or false"),
        ({}, -1, "age", "between 0 and 130"),
        ({}, 200, "age", "between 0 and 130"),
    ],
)
def test_bad_screening_input(
    answers_change: dict[str, object], age: int, field: str, fragment: str
) -> None:
    p = load_protocol("iv-trd")
    with pytest.raises(InvalidInput) as info:
        screen(p, all_no(p) | answers_change, age)  # type: ignore[operator]
    assert info.value.field == field
    assert fragment in info.value.detail


def test_missing_answer_is_refused_not_passed() -> None:
    p = load_protocol("iv-trd")
    answers = all_no(p)
    del answers["glaucoma"]
    with pytest.raises(InvalidInput, match="unanswered screening item"):
        screen(p, answers, 40)


def test_screening_for_another_track_cannot_start_this_one() -> None:
    iv, esk = load_protocol("iv-trd"), load_protocol("esketamine-trd")
    result = screen(iv, all_no(iv), 40)
    with pytest.raises(InvalidInput, match="was done for iv-trd"):
        can_start(esk, result)


READY = FirstDoseFacts(
    screening_outcome="eligible",
    safety_plan_on_file=True,
    rems_enrolled=True,
    part2_consent=True,
    mood_stabiliser_documented=True,
    consent_to_touch_documented=True,
    preparation_sessions_done=3,
)


@pytest.mark.parametrize("track", protocol_ids())
def test_nothing_blocks_when_everything_is_on_file(track: str) -> None:
    assert first_dose_blockers(load_protocol(track), READY) == []


def test_suicidal_track_refuses_first_dose_without_safety_plan() -> None:
    p = load_protocol("esketamine-suicidal")
    facts = FirstDoseFacts(**{**READY.__dict__, "safety_plan_on_file": False})
    blockers = first_dose_blockers(p, facts)
    assert len(blockers) == 1
    assert blockers[0].startswith("safety_plan:")


@pytest.mark.parametrize(
    ("track", "fact", "requirement"),
    [
        ("esketamine-trd", "rems_enrolled", "rems_patient_enrolment"),
        ("esketamine-suicidal", "rems_enrolled", "rems_patient_enrolment"),
        ("iv-aud", "part2_consent", "part2_consent"),
        ("iv-bipolar", "mood_stabiliser_documented", "mood_stabiliser_documented"),
        ("iv-ptsd", "consent_to_touch_documented", "consent_to_touch_documented"),
    ],
)
def test_each_requirement_blocks(track: str, fact: str, requirement: str) -> None:
    facts = FirstDoseFacts(**{**READY.__dict__, fact: False})
    blockers = first_dose_blockers(load_protocol(track), facts)
    assert [b.split(":")[0] for b in blockers] == [requirement]


def test_requirement_not_on_track_does_not_block() -> None:
    facts = FirstDoseFacts(**{**READY.__dict__, "rems_enrolled": False, "part2_consent": False})
    assert first_dose_blockers(load_protocol("iv-trd"), facts) == []


def test_screening_and_preparation_block() -> None:
    p = load_protocol("iv-trd")
    excluded = FirstDoseFacts(**{**READY.__dict__, "screening_outcome": "excluded"})
    assert first_dose_blockers(p, excluded) == ["screening: excluded from this track"]
    review = FirstDoseFacts(**{**READY.__dict__, "screening_outcome": "needs_review"})
    assert first_dose_blockers(p, review) == ["screening: prescriber review not yet recorded"]
    approved = FirstDoseFacts(**{**review.__dict__, "review_approved": True})
    assert first_dose_blockers(p, approved) == []
    short = FirstDoseFacts(**{**READY.__dict__, "preparation_sessions_done": 1})
    assert first_dose_blockers(p, short) == ["preparation: 1 of 2 session(s) done"]
    # medical-distrust adds one preparation session
    two = FirstDoseFacts(**{**READY.__dict__, "preparation_sessions_done": 2})
    assert first_dose_blockers(p, two, extra_preparation=1) == [
        "preparation: 2 of 3 session(s) done"
    ]
    with pytest.raises(InvalidInput):
        first_dose_blockers(p, FirstDoseFacts(screening_outcome="maybe"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("hours", "missed"), [(0, False), (48, False), (48.5, True), (72, True)])
def test_referral_deadline_on_suicidal_track(hours: float, missed: bool) -> None:
    assert referral_deadline_missed(load_protocol("esketamine-suicidal"), hours) is missed
    assert referral_deadline_missed(load_protocol("iv-trd"), hours) is False

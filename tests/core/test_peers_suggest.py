"""New-circle suggestions for waitlisted patients (CLINICAL.md §7: 6–12 participants, cap 12)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.peers import MatchOptions, Patient, Window, suggest_circles


def waiting(pid: str, language: str = "es", *windows: tuple[int, int, int]) -> Patient:
    wins = windows or ((2, 18 * 60, 21 * 60),)
    return Patient(pid, language, "trd", tuple(Window(*w) for w in wins))


def as_dicts(suggestions: Any) -> list[dict[str, Any]]:
    return [s.to_dict() for s in suggestions]


def test_threshold_is_min_new_circle() -> None:
    five = [waiting(f"p{i}") for i in range(5)]
    assert suggest_circles(five) == ()  # default 6 (§7: 6–12 participants)
    six = [*five, waiting("p5")]
    assert as_dicts(suggest_circles(six)) == [
        {
            "language": "es",
            "weekday": 2,
            "start": "18:00",
            "end": "19:30",
            "patients": ["p0", "p1", "p2", "p3", "p4", "p5"],
        }
    ]
    assert len(suggest_circles(five, MatchOptions(min_new_circle=5))) == 1


def test_languages_are_not_mixed() -> None:
    group = [waiting(f"e{i}", "en") for i in range(3)] + [waiting(f"s{i}") for i in range(3)]
    assert suggest_circles(group) == ()
    assert [s.language for s in suggest_circles(group, MatchOptions(min_new_circle=3))] == [
        "en",
        "es",
    ]


def test_cap_of_twelve_then_repeat() -> None:
    group = [waiting(f"p{i:02d}") for i in range(19)]
    found = suggest_circles(group)
    assert [len(s.patients) for s in found] == [12, 7]
    assert found[0].patients == tuple(f"p{i:02d}" for i in range(12))
    assert set(found[0].patients).isdisjoint(found[1].patients)


def test_slot_must_fit_everyone_and_start_on_half_hour() -> None:
    # windows start at 18:10: the first 30-minute boundary is 18:30; 18:30 + 90 = 20:00
    group = [waiting(f"p{i}", "es", (4, 18 * 60 + 10, 20 * 60)) for i in range(6)]
    assert as_dicts(suggest_circles(group))[0]["start"] == "18:30"
    # one patient leaves at 19:59: no 90-minute slot holds all six
    group[5] = waiting("p5", "es", (4, 18 * 60 + 10, 20 * 60 - 1))
    assert suggest_circles(group) == ()


def test_largest_group_first() -> None:
    tue = [waiting(f"t{i}", "es", (1, 600, 720)) for i in range(6)]
    thu = [waiting(f"u{i}", "es", (3, 600, 720)) for i in range(7)]
    # one person free on both days goes with the larger group
    both = waiting("b", "es", (1, 600, 720), (3, 600, 720))
    found = suggest_circles([*tue, *thu, both])
    assert [(s.weekday, len(s.patients)) for s in found] == [(3, 8), (1, 6)]
    assert "b" in found[0].patients


def test_length_option() -> None:
    exact = [waiting(f"p{i}", "es", (0, 600, 690)) for i in range(6)]  # 10:00–11:30
    assert len(suggest_circles(exact)) == 1
    assert suggest_circles(exact, MatchOptions(length_minutes=120)) == ()
    short = [waiting(f"p{i}", "es", (0, 600, 689)) for i in range(6)]
    assert suggest_circles(short) == ()


@st.composite
def crowds(draw: st.DrawFn) -> list[Patient]:
    people = []
    for i in range(draw(st.integers(0, 30))):
        wins = tuple(
            Window(draw(st.integers(0, 1)), s * 30, s * 30 + draw(st.sampled_from([90, 120, 180])))
            for s in draw(st.lists(st.integers(30, 36), min_size=0, max_size=2))
        )
        people.append(Patient(f"p{i:02d}", draw(st.sampled_from(["en", "es"])), "trd", wins))
    return people


@settings(max_examples=100, deadline=None)
@given(crowds(), st.integers(2, 8))
def test_suggestion_properties(people: list[Patient], minimum: int) -> None:
    opts = MatchOptions(min_new_circle=minimum)
    by_id = {p.id: p for p in people}
    seen: set[str] = set()
    for s in suggest_circles(people, opts):
        assert minimum <= len(s.patients) <= 12
        assert s.end - s.start == 90
        assert s.start % 30 == 0
        assert seen.isdisjoint(s.patients)
        seen.update(s.patients)
        for pid in s.patients:
            assert by_id[pid].language == s.language
            assert by_id[pid].available(s.weekday, s.start, s.end)


@settings(max_examples=100, deadline=None)
@given(crowds(), st.integers(2, 8))
def test_first_suggestion_is_the_largest_group(people: list[Patient], minimum: int) -> None:
    # brute force over every half-hour start that crowds() can produce (Mon–Tue, 15:00–21:00),
    # independent of the slot index inside suggest_circles
    largest = 0
    for language in {p.language for p in people}:
        for weekday in range(2):
            for start in range(15 * 60, 21 * 60 - 90 + 1, 30):
                group = [
                    p
                    for p in people
                    if p.language == language and p.available(weekday, start, start + 90)
                ]
                largest = max(largest, len(group))
    found = suggest_circles(people, MatchOptions(min_new_circle=minimum))
    if largest < minimum:
        assert found == ()
    else:
        assert len(found[0].patients) == min(largest, 12)

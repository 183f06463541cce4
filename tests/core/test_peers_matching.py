"""Peer-circle matching (trellis.core.peers.matching; CLINICAL.md §7).

Hard rules never broken, maximum placement (vs first-fit and vs brute force), the lexicographic
preferences, the waitlist property and determinism under input shuffling.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.peers import (
    Circle,
    MatchOptions,
    Patient,
    Window,
    affinity,
    check_assignment,
    fits,
    is_feasible,
    match,
    match_patients,
    parse_match_input,
)

EVENING = [{"weekday": 1, "start": "17:00", "end": "21:00"}]


def patient(pid: str, **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": pid, "language": "en", "track": "trd", "availability": EVENING}
    doc.update(kw)
    return doc


def circle(cid: str, **kw: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": cid,
        "language": "en",
        "focus": None,
        "identity": None,
        "weekday": 1,
        "start": "18:00",
        "end": "19:30",
        "capacity": 10,
        "enrolled": 0,
    }
    doc.update(kw)
    return doc


def run(patients: list[dict[str, Any]], circles: list[dict[str, Any]], **options: Any) -> Any:
    doc: dict[str, Any] = {"patients": patients, "circles": circles}
    if options:
        doc["options"] = options
    return match(parse_match_input(doc))


def first_fit(patients: list[Patient], circles: list[Circle]) -> dict[str, str]:
    """The naive baseline: each patient, in id order, takes the first circle with room."""
    used: dict[str, int] = {}
    out = {}
    for p in sorted(patients, key=lambda p: p.id):
        for c in sorted(circles, key=lambda c: c.id):
            if fits(p, c) and c.room - used.get(c.id, 0) > 0:
                out[p.id] = c.id
                used[c.id] = used.get(c.id, 0) + 1
                break
    return out


# --- hard rules, one at a time ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("patient_kw", "circle_kw", "placed"),
    [
        ({}, {}, True),
        ({"language": "EN"}, {"language": "en"}, True),  # case-insensitive
        ({"language": "es"}, {}, False),  # language is hard
        ({"language": "es-MX"}, {"language": "es"}, False),  # whole tag, by design
        # slot must lie inside a window: [18:00, 19:30) inside [17:00, 21:00)
        ({"availability": [{"weekday": 1, "start": "18:00", "end": "19:30"}]}, {}, True),
        ({"availability": [{"weekday": 1, "start": "18:01", "end": "21:00"}]}, {}, False),
        ({"availability": [{"weekday": 1, "start": "17:00", "end": "19:29"}]}, {}, False),
        ({"availability": [{"weekday": 2, "start": "17:00", "end": "21:00"}]}, {}, False),
        # two windows that together cover the slot do not count: one window must hold it
        (
            {
                "availability": [
                    {"weekday": 1, "start": "17:00", "end": "18:45"},
                    {"weekday": 1, "start": "18:45", "end": "21:00"},
                ]
            },
            {},
            False,
        ),
        # identity-focused circles only with opt-in (case-insensitive label)
        ({}, {"identity": "lgbtq+"}, False),
        ({"identity_opt_in": ["LGBTQ+"]}, {"identity": "lgbtq+"}, True),
        ({"identity_opt_in": ["veterans"]}, {"identity": "lgbtq+"}, False),
        ({"identity_opt_in": ["veterans"]}, {}, True),  # opt-in does not bar open circles
        # capacity: a full circle takes no one
        ({}, {"capacity": 8, "enrolled": 8}, False),
        ({}, {"capacity": 8, "enrolled": 7}, True),
        # focus is a preference, not a rule
        ({"track": "ptsd"}, {"focus": "trd"}, True),
    ],
)
def test_single_rule(patient_kw: dict[str, Any], circle_kw: dict[str, Any], placed: bool) -> None:
    result = run([patient("p1", **patient_kw)], [circle("c1", **circle_kw)])
    assert (result.assignments == {"p1": "c1"}) is placed
    assert (result.waitlist == ()) is placed


def test_capacity_is_never_exceeded() -> None:
    patients = [patient(f"p{i}") for i in range(5)]
    result = run(patients, [circle("c1", capacity=5, enrolled=3)])
    assert len(result.assignments) == 2
    assert result.assignments == {"p0": "c1", "p1": "c1"}  # ties go to lower ids
    assert result.waitlist == ("p2", "p3", "p4")


# --- maximum placement -------------------------------------------------------------------------


def test_matching_places_more_than_first_fit() -> None:
    # p1 fits both circles, p2 only the Tuesday one; one place each. First-fit gives p1 the
    # Tuesday circle and leaves p2 out; the matching places both.
    doc = {
        "patients": [
            patient(
                "p1",
                availability=[
                    {"weekday": 1, "start": "17:00", "end": "21:00"},
                    {"weekday": 3, "start": "09:00", "end": "12:00"},
                ],
            ),
            patient("p2"),
        ],
        "circles": [
            circle("c1", capacity=10, enrolled=9),
            circle("c2", weekday=3, start="10:00", end="11:30", capacity=6, enrolled=5),
        ],
    }
    instance = parse_match_input(doc)
    naive = first_fit(list(instance.patients), list(instance.circles))
    assert naive == {"p1": "c1"}
    result = match(instance)
    assert result.assignments == {"p1": "c2", "p2": "c1"}
    assert result.waitlist == ()


def test_placement_beats_affinity() -> None:
    # p2 (PTSD) would prefer the PTSD circle, but it is the only circle that fits p1, so p2
    # takes the open one: placing both outranks the focus preference.
    result = run(
        [
            patient("p1", availability=[{"weekday": 1, "start": "18:00", "end": "19:30"}]),
            patient(
                "p2",
                track="ptsd",
                availability=[
                    {"weekday": 1, "start": "17:00", "end": "21:00"},
                    {"weekday": 4, "start": "09:00", "end": "12:00"},
                ],
            ),
        ],
        [
            circle("c1", focus="ptsd", capacity=1),
            circle("c2", weekday=4, start="09:30", end="11:00", capacity=1),
        ],
    )
    assert result.assignments == {"p1": "c1", "p2": "c2"}


# --- preferences -----------------------------------------------------------------------------


def test_affinity_preferred_when_placement_equal() -> None:
    result = run(
        [patient("p1", track="ptsd"), patient("p2", track="trd")],
        [circle("a", focus="trd", capacity=1), circle("b", focus="PTSD", capacity=1)],
    )
    assert result.assignments == {"p1": "b", "p2": "a"}


def test_affinity_decides_who_gets_the_last_place() -> None:
    result = run(
        [patient("p1", track="trd"), patient("p2", track="ocd")],
        [circle("c1", focus="ocd", capacity=1)],
    )
    assert result.assignments == {"p2": "c1"}
    assert result.waitlist == ("p1",)


def test_earliest_start_preferred_after_affinity() -> None:
    circles = [
        circle("a", start_date="2026-03-02", capacity=1),
        circle("b", start_date="2026-02-16", capacity=1),
        circle("c", capacity=1),  # undated counts as latest
    ]
    result = run([patient("p1")], circles)
    assert result.assignments == {"p1": "b"}
    # affinity outranks the start date
    circles[0]["focus"] = "trd"
    result = run([patient("p1")], circles)
    assert result.assignments == {"p1": "a"}
    # a dated circle beats an undated one
    result = run([patient("p1")], [circles[2], circle("z", start_date="2027-01-04")])
    assert result.assignments == {"p1": "z"}


def test_ties_go_to_lower_ids() -> None:
    result = run([patient("p2"), patient("p1")], [circle("c2"), circle("c1")])
    assert result.assignments == {"p1": "c1", "p2": "c1"}


def test_empty_inputs() -> None:
    assert run([], []).to_dict() == {"assignments": {}, "waitlist": [], "suggested_circles": []}
    assert run([patient("p1")], []).waitlist == ("p1",)


# --- verifier ----------------------------------------------------------------------------------


def test_check_assignment_finds_each_problem() -> None:
    inst = parse_match_input(
        {
            "patients": [patient("p1"), patient("p2", language="es"), patient("p3")],
            "circles": [circle("c1", capacity=2)],
        }
    )
    ps, cs = list(inst.patients), list(inst.circles)
    assert check_assignment(ps, cs, {"p1": "c1", "p3": "c1"}) == []
    assert check_assignment(ps, cs, {"p2": "c1"}) == [
        "'p2' does not fit circle 'c1'",
        "waitlisted 'p1' fits circle 'c1', which has room",
        "waitlisted 'p3' fits circle 'c1', which has room",
    ]
    assert check_assignment(ps, cs, {"p1": "c1"}) == [
        "waitlisted 'p3' fits circle 'c1', which has room"
    ]
    small = list(parse_match_input({"patients": [], "circles": [circle("c1", capacity=1)]}).circles)
    assert check_assignment(ps, small, {"p1": "c1", "p3": "c1"}) == ["circle 'c1' over capacity"]
    assert check_assignment(ps, cs, {"p9": "c1", "p1": "zz"})[:2] == [
        "'p1' assigned to unknown circle 'zz'",
        "unknown patient 'p9'",
    ]


# --- properties --------------------------------------------------------------------------------

LANGS = ["en", "es"]
TRACKS = ["trd", "ptsd"]
DATES = [None, date(2026, 3, 2), date(2026, 3, 9)]


@st.composite
def windows(draw: st.DrawFn) -> tuple[Window, ...]:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        weekday = draw(st.integers(0, 1))
        start = draw(st.sampled_from([16, 17, 18])) * 60
        end = start + draw(st.sampled_from([60, 90, 120, 180]))
        out.append(Window(weekday, start, end))
    return tuple(sorted(out))


@st.composite
def instances(
    draw: st.DrawFn, max_patients: int = 6, max_circles: int = 3
) -> tuple[list[Patient], list[Circle]]:
    n_p = draw(st.integers(0, max_patients))
    n_c = draw(st.integers(0, max_circles))
    patients = [
        Patient(
            id=f"p{i:02d}",
            language=draw(st.sampled_from(LANGS)),
            track=draw(st.sampled_from(TRACKS)),
            availability=draw(windows()),
            identity_opt_in=frozenset(draw(st.sets(st.sampled_from(["lgbtq+", "bipoc"])))),
        )
        for i in range(n_p)
    ]
    circles = []
    for j in range(n_c):
        start = draw(st.sampled_from([16, 17, 18])) * 60
        capacity = draw(st.integers(1, 3))
        circles.append(
            Circle(
                id=f"c{j:02d}",
                language=draw(st.sampled_from(LANGS)),
                weekday=draw(st.integers(0, 1)),
                start=start,
                end=start + draw(st.sampled_from([60, 90])),
                capacity=capacity,
                enrolled=draw(st.integers(0, capacity)),
                focus=draw(st.sampled_from([None, *TRACKS])),
                identity=draw(st.sampled_from([None, None, "lgbtq+"])),
                start_date=draw(st.sampled_from(DATES)),
            )
        )
    return patients, circles


def objective(
    assignments: dict[str, str], patients: list[Patient], circles: list[Circle]
) -> tuple[int, int, int]:
    """(placed, affinity matches, −Σ start rank): larger is better, compared in order."""
    by_p = {p.id: p for p in patients}
    by_c = {c.id: c for c in circles}
    dates = sorted({c.start_date for c in circles if c.start_date is not None})
    rank = {d: i for i, d in enumerate(dates)}
    placed = len(assignments)
    aff = sum(affinity(by_p[p], by_c[c]) for p, c in assignments.items())
    start = sum(
        len(dates) if by_c[c].start_date is None else rank[by_c[c].start_date]
        for c in assignments.values()
    )
    return placed, aff, -start


def brute_force_best(patients: list[Patient], circles: list[Circle]) -> tuple[int, int, int]:
    options = [[None, *[c for c in circles if is_feasible(p, c)]] for p in patients]
    best = (0, 0, 0)
    for combo in itertools.product(*options):
        used: dict[str, int] = {}
        for c in combo:
            if c is not None:
                used[c.id] = used.get(c.id, 0) + 1
        if any(c.enrolled + used.get(c.id, 0) > c.capacity for c in circles):
            continue
        assignment = {p.id: c.id for p, c in zip(patients, combo, strict=True) if c is not None}
        best = max(best, objective(assignment, patients, circles))
    return best


@settings(max_examples=150, deadline=None)
@given(instances(max_patients=8, max_circles=4))
def test_hard_rules_never_broken(inst: tuple[list[Patient], list[Circle]]) -> None:
    patients, circles = inst
    result = match_patients(patients, circles)
    # independent re-check of every rule, not through check_assignment
    by_p = {p.id: p for p in patients}
    by_c = {c.id: c for c in circles}
    load: dict[str, int] = {}
    for pid, cid in result.assignments.items():
        p, c = by_p[pid], by_c[cid]
        assert p.language == c.language
        assert any(
            w.weekday == c.weekday and w.start <= c.start and c.end <= w.end for w in p.availability
        )
        assert c.identity is None or c.identity in p.identity_opt_in
        load[cid] = load.get(cid, 0) + 1
    for cid, n in load.items():
        assert by_c[cid].enrolled + n <= by_c[cid].capacity
    # every patient is either placed or waitlisted, never both
    assert sorted([*result.assignments, *result.waitlist]) == sorted(by_p)
    assert list(result.waitlist) == sorted(result.waitlist)
    # waitlisted only when no fitting circle has room left
    for pid in result.waitlist:
        for c in circles:
            if fits(by_p[pid], c):
                assert c.enrolled + load.get(c.id, 0) == c.capacity


@settings(max_examples=150, deadline=None)
@given(instances(max_patients=5, max_circles=3))
def test_optimal_against_brute_force(inst: tuple[list[Patient], list[Circle]]) -> None:
    patients, circles = inst
    result = match_patients(patients, circles)
    got = objective(dict(result.assignments), patients, circles)
    assert got == brute_force_best(patients, circles)
    naive = first_fit(patients, circles)
    assert len(result.assignments) >= len(naive)


@settings(max_examples=60, deadline=None)
@given(instances(), st.randoms(use_true_random=False))
def test_deterministic_under_shuffling(inst: Any, rnd: Any) -> None:
    patients, circles = inst
    expected = match_patients(patients, circles).to_dict()
    shuffled_p, shuffled_c = list(patients), list(circles)
    rnd.shuffle(shuffled_p)
    rnd.shuffle(shuffled_c)
    assert match_patients(shuffled_p, shuffled_c).to_dict() == expected


def test_options_reach_suggestions() -> None:
    patients = [patient(f"p{i}", language="es") for i in range(3)]
    assert run(patients, []).suggested_circles == ()
    result = run(patients, [], min_new_circle=3, length_minutes=120)
    assert [s.to_dict() for s in result.suggested_circles] == [
        {
            "language": "es",
            "weekday": 1,
            "start": "17:00",
            "end": "19:00",
            "patients": ["p0", "p1", "p2"],
        }
    ]
    assert MatchOptions.from_defaults() == MatchOptions(6, 12, 90, 30)


def test_every_waiting_patient_has_a_reason() -> None:
    """Issue 19: a Spanish-speaking patient waited while a Spanish circle had 8 free places and
    nobody said why. Each rule that turns circles away is named."""
    from trellis.core.peers.matching import not_placed_reasons
    from trellis.core.peers.model import Circle, Patient, Window

    es_tue = Circle(
        id="c1", language="es", weekday=1, start=18 * 60, end=19 * 60 + 30, capacity=10, enrolled=2
    )
    en_wed = Circle(
        id="c2", language="en", weekday=2, start=18 * 60, end=19 * 60 + 30, capacity=10, enrolled=0
    )
    no_times = Patient(id="p", language="es", track="trd", availability=())
    reasons = dict(not_placed_reasons(no_times, [es_tue, en_wed]))
    assert set(reasons) == {"language", "slot"}
    assert "no times given" in reasons["slot"]
    assert "Tue 18:00" in reasons["slot"]
    evenings = tuple(Window(1, 17 * 60, 21 * 60) for _ in range(1))
    fits_now = Patient(id="p", language="es", track="trd", availability=evenings)
    assert not_placed_reasons(fits_now, [es_tue, en_wed]) == []  # not waiting: it fits
    full = dict(not_placed_reasons(fits_now, [es_tue], placed={f"x{i}": "c1" for i in range(8)}))
    assert list(full) == ["capacity"]
    assert not_placed_reasons(fits_now, []) == [("none", "no open circle")]

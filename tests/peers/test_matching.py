"""Matching as the issue asks: hard rules never broken, maximum placement where first-fit fails,
hypothesis properties (CLINICAL.md §7)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core import peers as rules
from trellis.core.peers_rules import names_in_note

EVENING = (rules.Window(1, 17 * 60, 21 * 60),)


def patient(pid: str, *windows: rules.Window, language: str = "en", ids: frozenset = frozenset()):
    return rules.Patient(pid, language, "iv-trd", windows or EVENING, ids)


def circle(cid: str, weekday: int = 1, start: int = 18 * 60, capacity: int = 1, **kw):
    return rules.Circle(cid, kw.pop("language", "en"), weekday, start, start + 90, capacity, **kw)


def first_fit(patients, circles):
    room = {c.id: c.room for c in circles}
    out = {}
    for p in patients:
        for c in circles:
            if room[c.id] > 0 and rules.fits(p, c):
                out[p.id] = c.id
                room[c.id] -= 1
                break
    return out


def test_maximum_placement_where_first_fit_fails() -> None:
    # p1 fits both circles, p2 only circle A; first-fit puts p1 in A and strands p2.
    a, b = circle("a", weekday=1), circle("b", weekday=2)
    p1 = patient("p1", rules.Window(1, 17 * 60, 21 * 60), rules.Window(2, 17 * 60, 21 * 60))
    p2 = patient("p2", rules.Window(1, 17 * 60, 21 * 60))
    assert len(first_fit([p1, p2], [a, b])) == 1
    result = rules.match_patients([p1, p2], [a, b])
    assert result.assignments == {"p1": "b", "p2": "a"}
    assert result.waitlist == ()


windows = st.builds(
    lambda d, s, n: rules.Window(d, s * 30, min(24 * 60, s * 30 + n * 30)),
    st.integers(0, 2),
    st.integers(30, 40),
    st.integers(1, 8),
)
patients_st = st.lists(
    st.tuples(
        st.sampled_from(["en", "es"]), st.lists(windows, min_size=1, max_size=3), st.booleans()
    ),
    max_size=14,
)
circles_st = st.lists(
    st.tuples(
        st.sampled_from(["en", "es"]),
        st.integers(0, 2),
        st.integers(34, 38),
        st.integers(1, 4),
        st.integers(0, 2),
        st.booleans(),
    ),
    max_size=5,
)


def build(ps, cs):
    patients = [
        rules.Patient(f"p{i:02d}", lang, "t", tuple(sorted(ws)), frozenset({"x"} if opt else ()))
        for i, (lang, ws, opt) in enumerate(ps)
    ]
    circles = [
        rules.Circle(
            f"c{j}", lang, d, s * 30, s * 30 + 90, cap, min(enr, cap), None, "x" if ident else None
        )
        for j, (lang, d, s, cap, enr, ident) in enumerate(cs)
    ]
    return patients, circles


@settings(max_examples=150, deadline=None)
@given(patients_st, circles_st)
def test_hard_rules_never_broken(ps, cs) -> None:
    patients, circles = build(ps, cs)
    result = rules.match_patients(patients, circles)
    assert rules.check_assignment(patients, circles, result.assignments) == []
    by_p = {p.id: p for p in patients}
    by_c = {c.id: c for c in circles}
    for pid, cid in result.assignments.items():
        p, c = by_p[pid], by_c[cid]
        assert p.language == c.language
        assert p.available(c.weekday, c.start, c.end)
        assert c.identity is None or c.identity in p.identity_opt_in
    for c in circles:
        placed = sum(1 for v in result.assignments.values() if v == c.id)
        assert c.enrolled + placed <= c.capacity
    assert set(result.assignments) | set(result.waitlist) == {p.id for p in patients}


@settings(max_examples=150, deadline=None)
@given(patients_st, circles_st)
def test_never_fewer_than_first_fit_and_order_free(ps, cs) -> None:
    patients, circles = build(ps, cs)
    result = rules.match_patients(patients, circles)
    assert len(result.assignments) >= len(first_fit(patients, circles))
    again = rules.match_patients(list(reversed(patients)), list(reversed(circles)))
    assert again.assignments == result.assignments


def test_note_check_finds_full_names_only() -> None:
    members = [("Ana", "Quintero"), ("José", "Núñez")]
    assert names_in_note("ana QUINTERO shared a lot", members) == ["Ana Quintero"]
    assert names_in_note("Nunez, Jose arrived late", members) == ["José Núñez"]
    assert names_in_note("Ana shared; the group was warm", members) == []

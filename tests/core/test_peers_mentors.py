"""Peer-mentor pairing (trellis.core.peers.mentors)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trellis.core.errors import InvalidInput
from trellis.core.peers import Mentee, Mentor, pair_mentors, parse_mentor_input


def mentor(mid: str, language: str = "en", track: str = "trd", **kw: Any) -> Mentor:
    flags = {"opted_in": True, "training_done": True, "finished_course": True}
    flags.update(kw)
    return Mentor(mid, language, track, **flags)


@pytest.mark.parametrize("missing", ["opted_in", "training_done", "finished_course"])
def test_each_eligibility_condition_is_required(missing: str) -> None:
    result = pair_mentors([mentor("m1", **{missing: False})], [Mentee("e1", "en", "trd")])
    assert result.pairs == {}
    assert result.unpaired == ("e1",)
    assert result.ineligible_mentors == ("m1",)


def test_language_is_hard_track_is_preferred() -> None:
    mentors = [mentor("m1", "en", "trd"), mentor("m2", "en", "ptsd"), mentor("m3", "es", "ptsd")]
    mentees = [Mentee("e1", "en", "ptsd"), Mentee("e2", "fr", "ptsd")]
    result = pair_mentors(mentors, mentees)
    assert result.pairs == {"e1": "m2"}
    assert result.unpaired == ("e2",)


def test_at_most_three_mentees_counting_current() -> None:
    mentees = [Mentee(f"e{i}", "en", "trd") for i in range(5)]
    result = pair_mentors([mentor("m1")], mentees)
    assert result.pairs == {"e0": "m1", "e1": "m1", "e2": "m1"}
    assert result.unpaired == ("e3", "e4")
    busy = Mentor("m1", "en", "trd", True, True, True, current_mentees=2)
    assert pair_mentors([busy], mentees).pairs == {"e0": "m1"}
    full = Mentor("m1", "en", "trd", True, True, True, current_mentees=3)
    assert pair_mentors([full], mentees).pairs == {}


def test_each_mentee_gets_own_track_when_possible() -> None:
    # first-come would give e1 the first mentor by id (m1, PTSD); the optimum swaps them
    m1 = Mentor("m1", "es", "ptsd", True, True, True, current_mentees=2)
    m2 = Mentor("m2", "es", "trd", True, True, True, current_mentees=2)
    result = pair_mentors([m1, m2], [Mentee("e1", "es", "trd"), Mentee("e2", "es", "ptsd")])
    assert result.pairs == {"e1": "m2", "e2": "m1"}


def test_parse_mentor_input_errors() -> None:
    good = {
        "mentors": [
            {
                "id": "m1",
                "language": "en",
                "track": "trd",
                "opted_in": True,
                "training_done": True,
                "finished_course": True,
                "current_mentees": 1,
            }
        ],
        "mentees": [{"id": "e1", "language": "en", "track": "trd"}],
    }
    mentors, mentees = parse_mentor_input(good)
    assert mentors[0].current_mentees == 1
    assert mentees[0].id == "e1"
    bad = [
        (("mentors", 0, "opted_in"), "yes", "mentors[0].opted_in"),
        (("mentors", 0, "current_mentees"), 4, "mentors[0].current_mentees"),
        (("mentors", 0, "language"), "??", "mentors[0].language"),
        (("mentees", 0, "track"), "", "mentees[0].track"),
        (("mentees", 0, "id"), None, "mentees[0].id"),
    ]
    for (section, index, key), value, field in bad:
        doc: dict[str, Any] = {k: [dict(x) for x in v] for k, v in good.items()}
        doc[section][index][key] = value
        with pytest.raises(InvalidInput) as info:
            parse_mentor_input(doc)
        assert info.value.field == field


@st.composite
def pools(draw: st.DrawFn) -> tuple[list[Mentor], list[Mentee]]:
    mentors = [
        Mentor(
            f"m{i}",
            draw(st.sampled_from(["en", "es"])),
            draw(st.sampled_from(["trd", "ptsd"])),
            draw(st.booleans()),
            draw(st.booleans()),
            True,
            draw(st.integers(0, 3)),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    mentees = [
        Mentee(f"e{i}", draw(st.sampled_from(["en", "es"])), draw(st.sampled_from(["trd", "ptsd"])))
        for i in range(draw(st.integers(0, 5)))
    ]
    return mentors, mentees


def best_by_brute_force(mentors: list[Mentor], mentees: list[Mentee]) -> tuple[int, int]:
    options = [
        [None, *[m for m in mentors if m.eligible and m.language == e.language]] for e in mentees
    ]
    best = (0, 0)
    for combo in itertools.product(*options):
        load = {m.id: m.current_mentees for m in mentors}
        for m in combo:
            if m is not None:
                load[m.id] += 1
        if any(n > 3 for n in load.values()):
            continue
        pairs = [(e, m) for e, m in zip(mentees, combo, strict=True) if m is not None]
        best = max(best, (len(pairs), sum(e.track == m.track for e, m in pairs)))
    return best


@settings(max_examples=150, deadline=None)
@given(pools())
def test_pairing_is_valid_and_optimal(pool: tuple[list[Mentor], list[Mentee]]) -> None:
    mentors, mentees = pool
    result = pair_mentors(mentors, mentees)
    by_m = {m.id: m for m in mentors}
    by_e = {e.id: e for e in mentees}
    load = {m.id: m.current_mentees for m in mentors}
    for eid, mid in result.pairs.items():
        assert by_m[mid].eligible
        assert by_m[mid].language == by_e[eid].language
        load[mid] += 1
    assert all(n <= 3 for mid, n in load.items() if by_m[mid].eligible)
    got = (len(result.pairs), sum(by_e[e].track == by_m[m].track for e, m in result.pairs.items()))
    assert got == best_by_brute_force(mentors, mentees)
    assert pair_mentors(list(reversed(mentors)), list(reversed(mentees))) == result

"""Peer-mentor pairing (CLINICAL.md §7 on trained peer support; the Trellis peer-mentor rule).

A mentor is *eligible* when all three hold: they finished a course of treatment
(``finished_course``), they opted in (``opted_in``) and the program marked their mentor training
done (``training_done``) — CLINICAL.md §7: "trained facilitator". Pairing rules:

Hard: same language (whole tag, case-insensitive); eligible mentor; one mentor has at most
``max_mentees`` mentees at a time (default 3, ``data/peers/defaults.yaml``), counting the ones
they already have (``current_mentees``).

Objective, lexicographic: (1) pair as many new patients as possible; (2) then as many pairs as
possible on the same track; (3) then lower ids first. Solved exactly as a min-cost max-flow
(:mod:`trellis.core.peers.flow`); deterministic whatever the input order.

Contacts between mentor and mentee are logged by the Django ``peers`` app; they count toward the
episode summary in :mod:`trellis.core.peers.connection`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.peers.defaults import load_defaults
from trellis.core.peers.flow import max_assignment_min_cost
from trellis.core.peers.model import (
    MAX_PATIENTS,
    expect_list,
    expect_object,
    label,
    language_tag,
    show,
    unique_id,
    whole_number,
)


@dataclass(frozen=True)
class Mentor:
    id: str
    language: str
    track: str
    opted_in: bool
    training_done: bool
    finished_course: bool
    current_mentees: int = 0

    @property
    def eligible(self) -> bool:
        """Finished a course, opted in and trained (see module docstring)."""
        return self.opted_in and self.training_done and self.finished_course


@dataclass(frozen=True)
class Mentee:
    id: str
    language: str
    track: str


@dataclass(frozen=True)
class MentorPairing:
    """Proposed pairs (mentee → mentor) for the coordinator to accept or change."""

    pairs: Mapping[str, str]
    unpaired: tuple[str, ...]
    ineligible_mentors: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pairs": dict(self.pairs),
            "unpaired": list(self.unpaired),
            "ineligible_mentors": list(self.ineligible_mentors),
        }


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, f"must be true or false, got {show(value)}")
    return value


def parse_mentor_input(
    data: Any, max_mentees: int | None = None
) -> tuple[tuple[Mentor, ...], tuple[Mentee, ...]]:
    """Validate ``{"mentors": [...], "mentees": [...]}``; errors name the JSON path."""
    cap = max_mentees if max_mentees is not None else load_defaults().max_mentees
    obj = expect_object(data, "", {"mentors", "mentees"}, set())
    seen: dict[str, str] = {}
    mentors = []
    for i, raw in enumerate(expect_list(obj["mentors"], "mentors", MAX_PATIENTS)):
        f = f"mentors[{i}]"
        m = expect_object(
            raw,
            f,
            {"id", "language", "track", "opted_in", "training_done", "finished_course"},
            {"current_mentees"},
        )
        mentors.append(
            Mentor(
                id=unique_id(m["id"], f"{f}.id", seen, "mentor"),
                language=language_tag(m["language"], f"{f}.language"),
                track=label(m["track"], f"{f}.track"),
                opted_in=_bool(m["opted_in"], f"{f}.opted_in"),
                training_done=_bool(m["training_done"], f"{f}.training_done"),
                finished_course=_bool(m["finished_course"], f"{f}.finished_course"),
                current_mentees=whole_number(
                    m.get("current_mentees", 0), f"{f}.current_mentees", 0, cap
                ),
            )
        )
    seen_e: dict[str, str] = {}
    mentees = []
    for i, raw in enumerate(expect_list(obj["mentees"], "mentees", MAX_PATIENTS)):
        f = f"mentees[{i}]"
        e = expect_object(raw, f, {"id", "language", "track"}, set())
        mentees.append(
            Mentee(
                id=unique_id(e["id"], f"{f}.id", seen_e, "mentee"),
                language=language_tag(e["language"], f"{f}.language"),
                track=label(e["track"], f"{f}.track"),
            )
        )
    return tuple(mentors), tuple(mentees)


def pair_mentors(
    mentors: Sequence[Mentor], mentees: Sequence[Mentee], max_mentees: int | None = None
) -> MentorPairing:
    """Pair new patients with eligible peer mentors (rules and objective: module docstring).

    Source: CLINICAL.md §7 (trained peer facilitation; Cheung et al., Int Rev Psychiatry 2024)
    and the Trellis peer-mentor rule (one mentor, at most 3 mentees, by language and track).
    """
    cap = max_mentees if max_mentees is not None else load_defaults().max_mentees
    ms = sorted(mentors, key=lambda m: m.id)
    es = sorted(mentees, key=lambda e: e.id)
    bound_ids = len(es) * (len(es) + len(ms))
    w_track = bound_ids + 1
    edges = [
        (i, j, (0 if e.track == m.track else w_track) + j)
        for i, e in enumerate(es)
        for j, m in enumerate(ms)
        if m.eligible and m.language == e.language
    ]
    caps = [max(0, cap - m.current_mentees) if m.eligible else 0 for m in ms]
    chosen = max_assignment_min_cost(len(es), caps, edges, list(range(len(es))))
    pairs = {es[i].id: ms[j].id for i, j in sorted(chosen.items())}
    return MentorPairing(
        pairs=pairs,
        unpaired=tuple(e.id for e in es if e.id not in pairs),
        ineligible_mentors=tuple(m.id for m in ms if not m.eligible),
    )

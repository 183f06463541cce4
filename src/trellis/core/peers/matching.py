"""Peer-circle matching: a circle for each patient due to join, a waitlist, new-circle ideas.

Rules (CLINICAL.md §7, peer integration circles; Cheung et al., Int Rev Psychiatry 2024):

Hard — never broken (:func:`fits` and :func:`is_feasible`):
  1. same language (whole BCP-47 tag, case-insensitive; see :mod:`trellis.core.peers.model`);
  2. the circle's weekly slot ``[start, end)`` lies inside one of the patient's availability
     windows on that weekday;
  3. an identity-focused circle (``identity`` not null) only for a patient who opted in to that
     identity;
  4. capacity is never exceeded: ``enrolled + newly placed ≤ capacity`` (capacity ≤ 12, §7 cap).

Track ``focus`` is a *preference*, not a rule: a circle focused on, say, PTSD is still open to a
patient of another track when it is the only circle that fits. Peer integration circles share
the experience of treatment, which is not track-specific (§7), and a hard focus rule would leave
people without any circle; the coordinator sees every proposal and may change it.

Objective, lexicographic:
  1. place as many patients as possible (maximum bipartite matching, not first-fit);
  2. then as many placements as possible where the circle's focus equals the patient's track;
  3. then the earliest circles: least total start-date rank over the placements (circles'
     optional ``start_date`` ranked ascending; undated circles rank after every dated one);
  4. then by ids (lower patient ids first, then lower circle ids), so ties are deterministic.
It is solved exactly as a min-cost max-flow with integer costs weighted so that each level
outweighs everything below it. Input is sorted by id first, so the result does not depend on
input order.

Waitlist: the unplaced patients, sorted. In a maximum matching a waitlisted patient never has a
fitting circle with room left (otherwise source → patient → circle → sink would be an augmenting
path); :func:`match_patients` still verifies this, and every hard rule, before returning.

New circles (:func:`suggest_circles`): waitlisted patients who share a language and a weekly
slot of ``length_minutes`` (default 90, §7 ★) starting on a ``slot_step_minutes`` boundary
(default 30) are grouped; while the largest group has at least ``min_new_circle`` (default 6, §7:
6–12 participants) patients, it is suggested (at most ``max_new_circle`` = 12 patients, §7 cap,
lowest ids first) and its patients are removed. Ties go to the lowest language, weekday, start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trellis.core.peers.flow import max_assignment_min_cost
from trellis.core.peers.model import Circle, MatchInput, MatchOptions, Patient, hhmm

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class SuggestedCircle:
    """A new circle worth opening for waitlisted patients (CLINICAL.md §7)."""

    language: str
    weekday: int
    start: int
    end: int
    patients: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "weekday": self.weekday,
            "start": hhmm(self.start),
            "end": hhmm(self.end),
            "patients": list(self.patients),
        }


@dataclass(frozen=True)
class MatchResult:
    """Proposals for the coordinator, who accepts or changes each one."""

    assignments: Mapping[str, str]
    waitlist: tuple[str, ...]
    suggested_circles: tuple[SuggestedCircle, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``trellis peers match``."""
        return {
            "assignments": dict(self.assignments),
            "waitlist": list(self.waitlist),
            "suggested_circles": [s.to_dict() for s in self.suggested_circles],
        }


def fits(patient: Patient, circle: Circle) -> bool:
    """Hard rules 1–3 of the module docstring (language, slot, identity opt-in), ignoring room.

    CLINICAL.md §7 (Cheung et al. 2024): circles are joined by consent and in a shared language.
    """
    if patient.language != circle.language:
        return False
    if circle.identity is not None and circle.identity not in patient.identity_opt_in:
        return False
    return patient.available(circle.weekday, circle.start, circle.end)


def is_feasible(patient: Patient, circle: Circle) -> bool:
    """:func:`fits` and the circle has room now (``capacity − enrolled > 0``; §7 cap 12)."""
    return circle.room > 0 and fits(patient, circle)


def affinity(patient: Patient, circle: Circle) -> bool:
    """The circle's focus is the patient's track: a preference, never a rule (module docstring).

    Trellis rule built on CLINICAL.md §6 (differentiated tracks) and §7 (peer circles).
    """
    return circle.focus is not None and circle.focus == patient.track


def check_assignment(
    patients: Sequence[Patient], circles: Sequence[Circle], assignments: Mapping[str, str]
) -> list[str]:
    """Independent verifier: every problem with ``assignments``, as sentences (empty = valid).

    Checks the hard rules of CLINICAL.md §7 as coded here (language, slot, identity, capacity),
    that ids exist, and the waitlist property: no unplaced patient fits a circle with room left.
    """
    problems: list[str] = []
    by_p = {p.id: p for p in patients}
    by_c = {c.id: c for c in circles}
    used: dict[str, int] = {}
    for pid, cid in sorted(assignments.items()):
        if pid not in by_p:
            problems.append(f"unknown patient {pid!r}")
            continue
        if cid not in by_c:
            problems.append(f"{pid!r} assigned to unknown circle {cid!r}")
            continue
        if not fits(by_p[pid], by_c[cid]):
            problems.append(f"{pid!r} does not fit circle {cid!r}")
        used[cid] = used.get(cid, 0) + 1
    for cid, n in sorted(used.items()):
        if by_c[cid].enrolled + n > by_c[cid].capacity:
            problems.append(f"circle {cid!r} over capacity")
    for p in sorted(patients, key=lambda p: p.id):
        if p.id in assignments:
            continue
        for c in circles:
            if fits(p, c) and c.room - used.get(c.id, 0) > 0:
                problems.append(f"waitlisted {p.id!r} fits circle {c.id!r}, which has room")
    return problems


def _ceil_to(value: int, step: int) -> int:
    return -(-value // step) * step


def suggest_circles(
    waitlisted: Iterable[Patient], options: MatchOptions | None = None
) -> tuple[SuggestedCircle, ...]:
    """New circles for waitlisted patients sharing a language and a slot (see module doc).

    CLINICAL.md §7: 6–12 participants (cap 12), 90–120 min (Cheung et al. 2024).
    """
    opts = options or MatchOptions.from_defaults()
    length, step = opts.length_minutes, opts.slot_step_minutes
    # Index once: every (language, weekday, start) slot → the patients whose availability holds
    # [start, start + length) in one window. Placing a group removes its patients everywhere.
    members: dict[tuple[str, int, int], set[str]] = {}
    slots_of: dict[str, set[tuple[str, int, int]]] = {}
    for p in waitlisted:
        mine = slots_of.setdefault(p.id, set())
        for w in p.availability:
            t = _ceil_to(w.start, step)
            while t + length <= w.end:
                key = (p.language, w.weekday, t)
                members.setdefault(key, set()).add(p.id)
                mine.add(key)
                t += step
    found: list[SuggestedCircle] = []
    while True:
        best = min(((-len(m), key) for key, m in members.items() if m), default=None)
        if best is None or -best[0] < opts.min_new_circle:
            return tuple(found)
        language, weekday, start = best[1]
        chosen = tuple(sorted(members[best[1]])[: opts.max_new_circle])
        found.append(SuggestedCircle(language, weekday, start, start + length, chosen))
        for pid in chosen:
            for key in slots_of[pid]:
                members[key].discard(pid)


def match_patients(
    patients: Sequence[Patient],
    circles: Sequence[Circle],
    options: MatchOptions | None = None,
) -> MatchResult:
    """Propose a circle for each patient due to join; waitlist the rest; suggest new circles.

    Pure and deterministic (same result for any order of the inputs). Rules, objective and the
    waitlist guarantee: see the module docstring (CLINICAL.md §7; Cheung et al., Int Rev
    Psychiatry 2024). Ids must be unique (``parse_match_input`` checks this).
    """
    ps = sorted(patients, key=lambda p: p.id)
    cs = sorted(circles, key=lambda c: c.id)
    n_p, n_c = len(ps), len(cs)
    dates = sorted({c.start_date for c in cs if c.start_date is not None})
    date_rank = {d: i for i, d in enumerate(dates)}
    undated = len(dates)
    # Integer weights: each objective level outweighs the largest possible total of all the
    # levels below it, so minimising the sum is minimising the levels in order.
    bound_ids = n_p * (n_p + n_c)  # Σ (patient rank + circle rank) over all placements
    w_start = bound_ids + 1
    bound_start = n_p * undated * w_start
    w_affinity = bound_start + bound_ids + 1
    edges: list[tuple[int, int, int]] = []
    for i, p in enumerate(ps):
        for j, c in enumerate(cs):
            if is_feasible(p, c):
                rank = undated if c.start_date is None else date_rank[c.start_date]
                cost = (0 if affinity(p, c) else w_affinity) + rank * w_start + j
                edges.append((i, j, cost))
    chosen = max_assignment_min_cost(n_p, [c.room for c in cs], edges, list(range(n_p)))
    assignments = {ps[i].id: cs[j].id for i, j in sorted(chosen.items())}
    problems = check_assignment(ps, cs, assignments)
    if problems:  # pragma: no cover - a maximum flow cannot break these; guard against bugs
        raise RuntimeError("matching broke a rule: " + "; ".join(problems))
    waiting = [p for p in ps if p.id not in assignments]
    return MatchResult(
        assignments=assignments,
        waitlist=tuple(p.id for p in waiting),
        suggested_circles=suggest_circles(waiting, options),
    )


def match(instance: MatchInput) -> MatchResult:
    """:func:`match_patients` on a validated document from ``parse_match_input``."""
    return match_patients(instance.patients, instance.circles, instance.options)


def describe(result: MatchResult) -> str:
    """A readable summary of a match for the coordinator (``--format text``)."""
    lines = [f"Placed {len(result.assignments)}, waitlisted {len(result.waitlist)}."]
    for pid, cid in result.assignments.items():
        lines.append(f"  {pid} → circle {cid}")
    if result.waitlist:
        lines.append("Waitlist: " + ", ".join(result.waitlist))
    for s in result.suggested_circles:
        lines.append(
            f"Suggest a new {s.language} circle {WEEKDAY_NAMES[s.weekday]} "
            f"{hhmm(s.start)}–{hhmm(s.end)} for {len(s.patients)}: {', '.join(s.patients)}"
        )
    return "\n".join(lines)


#: Why a waiting patient was not placed, in the order the hard rules are checked.
NOT_PLACED_CODES = ("language", "identity", "slot", "capacity")


def not_placed_reasons(
    patient: Patient,
    circles: Sequence[Circle],
    placed: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """For a patient left waiting: why each open circle does not take them, grouped by rule.

    Source: the hard rules of the module docstring (CLINICAL.md §7). Each circle is charged to
    the first rule it breaks, in the order language, identity, slot (the patient's availability;
    "no times given" when they gave none), capacity (room left after ``placed``, the proposals
    of this run). Returns ``(code, sentence)`` pairs, one per rule that turned circles away,
    plus ``("none", …)`` when there is no open circle at all; empty when a circle fits with
    room (then the patient is not waiting).
    """
    used: dict[str, int] = {}
    for cid in (placed or {}).values():
        used[cid] = used.get(cid, 0) + 1
    if not circles:
        return [("none", "no open circle")]
    charged: dict[str, list[Circle]] = {code: [] for code in NOT_PLACED_CODES}
    for c in sorted(circles, key=lambda c: c.id):
        if patient.language != c.language:
            charged["language"].append(c)
        elif c.identity is not None and c.identity not in patient.identity_opt_in:
            charged["identity"].append(c)
        elif not patient.available(c.weekday, c.start, c.end):
            charged["slot"].append(c)
        elif c.room - used.get(c.id, 0) <= 0:
            charged["capacity"].append(c)
        else:
            return []
    out: list[tuple[str, str]] = []

    def when(c: Circle) -> str:
        return f"{WEEKDAY_NAMES[c.weekday]} {hhmm(c.start)}–{hhmm(c.end)}"

    if charged["language"]:
        langs = sorted({c.language for c in charged["language"]})
        out.append(
            (
                "language",
                f"{len(charged['language'])} circle(s) in another language "
                f"({', '.join(langs)}; the patient's is {patient.language})",
            )
        )
    if charged["identity"]:
        out.append(
            (
                "identity",
                f"{len(charged['identity'])} circle(s) for an identity the patient has not "
                "opted in to",
            )
        )
    if charged["slot"]:
        times = ", ".join(when(c) for c in charged["slot"])
        if not patient.availability:
            text = f"no times given by the patient; circles in their language meet {times}"
        else:
            text = f"circle times outside the patient's availability: {times}"
        out.append(("slot", text))
    if charged["capacity"]:
        out.append(
            (
                "capacity",
                f"{len(charged['capacity'])} fitting circle(s) full: "
                + ", ".join(when(c) for c in charged["capacity"]),
            )
        )
    return out

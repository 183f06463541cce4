"""Peer integration circles and peer mentors (CLINICAL.md §7): pure rules.

- :func:`match_patients` / :func:`match`: a circle for each patient due to join, a waitlist
  and suggested new circles (:mod:`trellis.core.peers.matching`).
- :func:`pair_mentors`: new patients with trained peer mentors (:mod:`.mentors`).
- :func:`connection_index`, :func:`episode_connection`, :func:`circle_window`
  (:mod:`.connection`).
- :func:`parse_match_input`, :func:`parse_mentor_input`: validate the JSON documents.
"""

from trellis.core.peers.connection import (
    ConnectionSummary,
    circle_window,
    connection_index,
    episode_connection,
)
from trellis.core.peers.defaults import PeerDefaults, load_defaults
from trellis.core.peers.matching import (
    MatchResult,
    SuggestedCircle,
    affinity,
    check_assignment,
    describe,
    fits,
    is_feasible,
    match,
    match_patients,
    not_placed_reasons,
    suggest_circles,
)
from trellis.core.peers.mentors import (
    Mentee,
    Mentor,
    MentorPairing,
    pair_mentors,
    parse_mentor_input,
)
from trellis.core.peers.model import (
    Circle,
    MatchInput,
    MatchOptions,
    Patient,
    Window,
    hhmm,
    parse_match_input,
    parse_time,
)

__all__ = [
    "Circle",
    "ConnectionSummary",
    "MatchInput",
    "MatchOptions",
    "MatchResult",
    "Mentee",
    "Mentor",
    "MentorPairing",
    "Patient",
    "PeerDefaults",
    "SuggestedCircle",
    "Window",
    "affinity",
    "check_assignment",
    "circle_window",
    "connection_index",
    "describe",
    "episode_connection",
    "fits",
    "hhmm",
    "is_feasible",
    "load_defaults",
    "match",
    "match_patients",
    "not_placed_reasons",
    "pair_mentors",
    "parse_match_input",
    "parse_mentor_input",
    "parse_time",
    "suggest_circles",
]

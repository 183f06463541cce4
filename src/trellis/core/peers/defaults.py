"""Packaged defaults for peer circles and mentors (``data/peers/defaults.yaml``, CLINICAL.md §7).

The file is read once through :mod:`importlib.resources`, validated, and turned into a frozen
:class:`PeerDefaults`. A bad value is an :class:`~trellis.core.errors.InvalidInput` whose field
names the file and the key (``peers/defaults.yaml: circle.max_participants``), so whoever edits
the file knows what to fix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from trellis.core.errors import InvalidInput

DEFAULTS_FILE = "peers/defaults.yaml"

# CLINICAL.md §7: "6–12 participants (cap 12)". No configuration may raise the cap above this.
ABSOLUTE_CIRCLE_CAP = 12


@dataclass(frozen=True)
class PeerDefaults:
    """Validated defaults (CLINICAL.md §7; Cheung et al., Int Rev Psychiatry 2024)."""

    source: str
    max_participants: int
    min_new_circle: int
    meeting_minutes: int
    slot_step_minutes: int
    from_week: int
    weeks: int
    max_mentees: int


def _int_in(data: dict[str, Any], section: str, key: str, low: int, high: int, where: str) -> int:
    field = f"{where}: {section}.{key}"
    if key not in data:
        raise InvalidInput(field, "is missing")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}, got {value}")
    return int(value)


def _section(data: dict[str, Any], name: str, keys: set[str], where: str) -> dict[str, Any]:
    section = data.get(name)
    if not isinstance(section, dict):
        raise InvalidInput(f"{where}: {name}", "must be a mapping")
    unknown = sorted(set(section) - keys)
    if unknown:
        raise InvalidInput(f"{where}: {name}", f"unknown key(s): {', '.join(map(str, unknown))}")
    return section


def parse_defaults(data: Any, where: str = DEFAULTS_FILE) -> PeerDefaults:
    """Validate the parsed YAML of a defaults file; errors name ``where`` and the key."""
    if not isinstance(data, dict):
        raise InvalidInput(where, "must be a mapping at the top level")
    unknown = sorted(set(data) - {"source", "circle", "enrolment", "mentors"})
    if unknown:
        raise InvalidInput(where, f"unknown key(s): {', '.join(map(str, unknown))}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise InvalidInput(f"{where}: source", "must name the clinical source")
    circle = _section(
        data,
        "circle",
        {"max_participants", "min_new_circle", "meeting_minutes", "slot_step_minutes"},
        where,
    )
    enrol = _section(data, "enrolment", {"from_week", "weeks"}, where)
    mentors = _section(data, "mentors", {"max_mentees"}, where)
    max_participants = _int_in(circle, "circle", "max_participants", 2, ABSOLUTE_CIRCLE_CAP, where)
    min_new = _int_in(circle, "circle", "min_new_circle", 2, ABSOLUTE_CIRCLE_CAP, where)
    if min_new > max_participants:
        raise InvalidInput(
            f"{where}: circle.min_new_circle",
            f"{min_new} is above circle.max_participants ({max_participants})",
        )
    step = _int_in(circle, "circle", "slot_step_minutes", 5, 60, where)
    if 60 % step:
        raise InvalidInput(f"{where}: circle.slot_step_minutes", f"must divide 60, got {step}")
    return PeerDefaults(
        source=" ".join(source.split()),
        max_participants=max_participants,
        min_new_circle=min_new,
        meeting_minutes=_int_in(circle, "circle", "meeting_minutes", 30, 240, where),
        slot_step_minutes=step,
        from_week=_int_in(enrol, "enrolment", "from_week", 1, 52, where),
        weeks=_int_in(enrol, "enrolment", "weeks", 1, 52, where),
        max_mentees=_int_in(mentors, "mentors", "max_mentees", 1, 10, where),
    )


@functools.cache
def load_defaults() -> PeerDefaults:
    """The packaged defaults of CLINICAL.md §7, validated (cached)."""
    text = (
        resources.files("trellis.core")
        .joinpath("data", "peers", "defaults.yaml")
        .read_text(encoding="utf-8")
    )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(DEFAULTS_FILE, f"is not valid YAML: {exc}") from exc
    return parse_defaults(data, DEFAULTS_FILE)

"""Values of peer-circle matching and their validation (CLINICAL.md §7).

``parse_match_input`` turns the JSON document of ``trellis peers match`` (the same shape the
Django side builds from its tables) into frozen dataclasses, or raises
:class:`~trellis.core.errors.InvalidInput` whose field is the JSON path of the first bad value,
e.g. ``patients[3].availability[0].start: must be HH:MM, got "25:00"``. Nothing is half-parsed.

Conventions (documented once, relied on everywhere):

- Weekdays are 0–6 with 0 = Monday (Python's ``date.weekday()``).
- Times are ``"HH:MM"`` in the program's local time; ``"24:00"`` is accepted as an *end* only.
  Internally a time is minutes past midnight; a slot is the half-open interval ``[start, end)``.
- Languages are BCP-47-style tags (``en``, ``es``, ``es-MX``) compared whole and
  case-insensitively: ``es`` and ``es-MX`` are different languages here, so the coordinator
  decides whether a regional tag joins a general circle (the match is a hard rule).
- Tracks, circle focus and identity labels are compared case-insensitively (``casefold``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.peers.defaults import ABSOLUTE_CIRCLE_CAP, load_defaults

# Size limits keep the integer costs of the flow model far inside 64 bits (see matching.py) and
# catch a runaway export; a real program's weekly matching is a few hundred people at most.
MAX_PATIENTS = 2000
MAX_CIRCLES = 200
MAX_WINDOWS = 50

_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, order=True)
class Window:
    """A weekly availability window ``[start, end)`` on ``weekday`` (minutes past midnight)."""

    weekday: int
    start: int
    end: int

    def covers(self, weekday: int, start: int, end: int) -> bool:
        """True when ``[start, end)`` on ``weekday`` lies inside this window."""
        return self.weekday == weekday and self.start <= start and end <= self.end


@dataclass(frozen=True)
class Patient:
    """A patient due to join a circle. ``language`` is lower-case; labels are casefolded."""

    id: str
    language: str
    track: str
    availability: tuple[Window, ...]
    identity_opt_in: frozenset[str] = frozenset()

    def available(self, weekday: int, start: int, end: int) -> bool:
        return any(w.covers(weekday, start, end) for w in self.availability)


@dataclass(frozen=True)
class Circle:
    """A peer circle with its weekly slot; ``focus``/``identity`` None means open to all."""

    id: str
    language: str
    weekday: int
    start: int
    end: int
    capacity: int
    enrolled: int = 0
    focus: str | None = None
    identity: str | None = None
    start_date: date | None = None

    @property
    def room(self) -> int:
        """Places left before the circle reaches its capacity."""
        return self.capacity - self.enrolled


@dataclass(frozen=True)
class MatchOptions:
    """Knobs of matching; defaults from ``data/peers/defaults.yaml`` (CLINICAL.md §7)."""

    min_new_circle: int = 6
    max_new_circle: int = 12
    length_minutes: int = 90
    slot_step_minutes: int = 30

    @classmethod
    def from_defaults(cls) -> MatchOptions:
        d = load_defaults()
        return cls(d.min_new_circle, d.max_participants, d.meeting_minutes, d.slot_step_minutes)


@dataclass(frozen=True)
class MatchInput:
    patients: tuple[Patient, ...]
    circles: tuple[Circle, ...]
    options: MatchOptions


def hhmm(minutes: int) -> str:
    """Minutes past midnight as ``"HH:MM"`` (1440 is ``"24:00"``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def parse_time(value: Any, field: str, *, is_end: bool = False) -> int:
    """``"HH:MM"`` → minutes past midnight; ``"24:00"`` only when ``is_end``."""
    if isinstance(value, str):
        if is_end and value == "24:00":
            return 24 * 60
        m = _HHMM.fullmatch(value)
        if m:
            return int(m.group(1)) * 60 + int(m.group(2))
    hint = " (00:00–24:00)" if is_end else " (00:00–23:59)"
    raise InvalidInput(field, f"must be HH:MM{hint}, got {show(value)}")


def expect_object(value: Any, field: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(field, f"must be an object, got {show(value)}")
    for key in sorted(required):
        if key not in value:
            raise InvalidInput(f"{field}.{key}" if field else key, "is missing")
    unknown = sorted(set(value) - required - optional, key=str)
    if unknown:
        where = field or "input"
        allowed = ", ".join(sorted(required | optional))
        raise InvalidInput(where, f"unknown key {show(unknown[0])} (allowed: {allowed})")
    return value


def expect_list(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidInput(field, f"must be a list, got {show(value)}")
    if len(value) > limit:
        raise InvalidInput(field, f"at most {limit} entries, got {len(value)}")
    return value


def text_value(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, f"must be a non-empty string, got {show(value)}")
    if len(value) > 200:
        raise InvalidInput(field, f"at most 200 characters, got {len(value)}")
    return value.strip()


def label(value: Any, field: str) -> str:
    return text_value(value, field).casefold()


def _optional_label(value: Any, field: str) -> str | None:
    return None if value is None else label(value, field)


def language_tag(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value.strip()):
        raise InvalidInput(
            field, f'must be a language tag like "en", "es" or "es-MX", got {show(value)}'
        )
    return value.strip().lower()


def whole_number(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number, got {show(value)}")
    if not low <= value <= high:
        raise InvalidInput(field, f"must be between {low} and {high}, got {value}")
    return int(value)


def _weekday(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise InvalidInput(field, f"must be a weekday 0–6 (0 = Monday), got {show(value)}")
    return int(value)


def _slot(obj: Mapping[str, Any], field: str) -> tuple[int, int, int]:
    weekday = _weekday(obj["weekday"], f"{field}.weekday")
    start = parse_time(obj["start"], f"{field}.start")
    end = parse_time(obj["end"], f"{field}.end", is_end=True)
    if end <= start:
        raise InvalidInput(
            f"{field}.end", f"must be after start {hhmm(start)}, got {show(obj['end'])}"
        )
    return weekday, start, end


def unique_id(value: Any, field: str, seen: dict[str, str], kind: str) -> str:
    ident = text_value(value, field)
    if ident in seen:
        raise InvalidInput(field, f"duplicate {kind} id {show(ident)} (also {seen[ident]})")
    seen[ident] = field
    return ident


def parse_patient(value: Any, field: str, seen: dict[str, str]) -> Patient:
    obj = expect_object(
        value, field, {"id", "language", "track", "availability"}, {"identity_opt_in"}
    )
    ident = unique_id(obj["id"], f"{field}.id", seen, "patient")
    windows = []
    for j, raw in enumerate(expect_list(obj["availability"], f"{field}.availability", MAX_WINDOWS)):
        wf = f"{field}.availability[{j}]"
        expect_object(raw, wf, {"weekday", "start", "end"}, set())
        windows.append(Window(*_slot(raw, wf)))
    opt_in = set()
    for j, raw in enumerate(
        expect_list(obj.get("identity_opt_in", []), f"{field}.identity_opt_in", 50)
    ):
        opt_in.add(label(raw, f"{field}.identity_opt_in[{j}]"))
    return Patient(
        id=ident,
        language=language_tag(obj["language"], f"{field}.language"),
        track=label(obj["track"], f"{field}.track"),
        availability=tuple(sorted(windows)),
        identity_opt_in=frozenset(opt_in),
    )


def parse_circle(value: Any, field: str, seen: dict[str, str]) -> Circle:
    obj = expect_object(
        value,
        field,
        {"id", "language", "weekday", "start", "end", "capacity"},
        {"focus", "identity", "enrolled", "start_date"},
    )
    ident = unique_id(obj["id"], f"{field}.id", seen, "circle")
    weekday, start, end = _slot(obj, field)
    # CLINICAL.md §7: 6–12 participants, cap 12 (Cheung et al. 2024).
    capacity = whole_number(obj["capacity"], f"{field}.capacity", 1, ABSOLUTE_CIRCLE_CAP)
    enrolled = whole_number(obj.get("enrolled", 0), f"{field}.enrolled", 0, capacity)
    start_date = None
    raw_date = obj.get("start_date")
    if raw_date is not None:
        try:
            if not isinstance(raw_date, str):
                raise ValueError
            start_date = date.fromisoformat(raw_date)
        except ValueError:
            raise InvalidInput(
                f"{field}.start_date", f"must be an ISO date YYYY-MM-DD, got {show(raw_date)}"
            ) from None
    return Circle(
        id=ident,
        language=language_tag(obj["language"], f"{field}.language"),
        weekday=weekday,
        start=start,
        end=end,
        capacity=capacity,
        enrolled=enrolled,
        focus=_optional_label(obj.get("focus"), f"{field}.focus"),
        identity=_optional_label(obj.get("identity"), f"{field}.identity"),
        start_date=start_date,
    )


def parse_options(value: Any, field: str = "options") -> MatchOptions:
    """``{"min_new_circle": N, "length_minutes": M, "max_new_circle": K}``, all optional."""
    base = MatchOptions.from_defaults()
    obj = expect_object(value, field, set(), {"min_new_circle", "length_minutes", "max_new_circle"})
    max_new = whole_number(
        obj.get("max_new_circle", base.max_new_circle),
        f"{field}.max_new_circle",
        2,
        ABSOLUTE_CIRCLE_CAP,
    )
    min_new = whole_number(
        obj.get("min_new_circle", min(base.min_new_circle, max_new)),
        f"{field}.min_new_circle",
        2,
        max_new,
    )
    length = whole_number(
        obj.get("length_minutes", base.length_minutes), f"{field}.length_minutes", 30, 240
    )
    return MatchOptions(min_new, max_new, length, base.slot_step_minutes)


def parse_match_input(data: Any) -> MatchInput:
    """Validate the matching document (see module docstring); errors name the JSON path."""
    obj = expect_object(data, "", {"patients", "circles"}, {"options"})
    seen_p: dict[str, str] = {}
    patients = tuple(
        parse_patient(raw, f"patients[{i}]", seen_p)
        for i, raw in enumerate(expect_list(obj["patients"], "patients", MAX_PATIENTS))
    )
    seen_c: dict[str, str] = {}
    circles = tuple(
        parse_circle(raw, f"circles[{i}]", seen_c)
        for i, raw in enumerate(expect_list(obj["circles"], "circles", MAX_CIRCLES))
    )
    options = parse_options(obj.get("options", {}))
    return MatchInput(patients, circles, options)

"""The scheduling instance and plan: frozen dataclasses, parsed and validated from JSON.

The JSON formats are documented in ``docs/scheduling.md`` with JSON Schemas in
``docs/scheduling-instance.schema.json`` and ``docs/scheduling-plan.schema.json``.

Time model: the horizon is ``days`` consecutive calendar days from ``start_date``; a time inside it
is (day index, minute of the day) in clinic-local time. Every appointment starts on the slot grid
(``slot_minutes``, which divides 1440) and every session lasts a whole number of slots, so the
solvers work in integer slot indices (``day * slots_per_day + minute // slot_minutes``). In the
plan, start times are ISO 8601 local date-times without a zone (``2026-02-02T08:30``).

Every problem in the input raises :class:`~trellis.core.errors.InvalidInput` naming the field by its
JSON path (``patients[3].track``) so a person can find and fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from trellis.core.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLES = frozenset({"prescriber", "nurse", "therapist", "peer_facilitator"})
ROOM_KINDS = frozenset({"dosing_chair", "therapy_room", "circle_room"})
DRUGS = frozenset({"ketamine_iv", "esketamine"})
KINDS = ("preparation", "dose", "integration", "peer_circle")
COURSE_KINDS = ("preparation", "dose", "integration")
ROOM_KIND_FOR = {
    "preparation": "therapy_room",
    "integration": "therapy_room",
    "dose": "dosing_chair",
    "peer_circle": "circle_room",
}
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


# --------------------------------------------------------------------------- dataclasses
@dataclass(frozen=True)
class Window:
    """Available from ``start`` to ``end`` (minutes of the day) on one horizon day or weekday."""

    start: int
    end: int
    day: int | None = None
    weekday: int | None = None  # 0 = Monday

    def applies(self, day: int, weekday: int) -> bool:
        return self.day == day if self.day is not None else self.weekday == weekday


@dataclass(frozen=True)
class Room:
    id: str
    kind: str
    availability: tuple[Window, ...] | None = None  # None: whenever the clinic is open


@dataclass(frozen=True)
class Staff:
    id: str
    roles: frozenset[str]
    languages: frozenset[str]
    availability: tuple[Window, ...] | None = None


@dataclass(frozen=True)
class Track:
    """Course rules for one protocol track (copied into the instance from the protocol library)."""

    id: str
    drug: str
    preparation_count: int
    dose_count: int
    dose_spacing_min_days: int
    dose_spacing_max_days: int
    integration_within_hours: int
    preparation_minutes: int
    dose_minutes: int
    integration_minutes: int
    start_within_hours: int | None
    priority: int

    def minutes(self, kind: str) -> int:
        return {
            "preparation": self.preparation_minutes,
            "dose": self.dose_minutes,
            "integration": self.integration_minutes,
        }[kind]

    def count(self, kind: str) -> int:
        return {
            "preparation": self.preparation_count,
            "dose": self.dose_count,
            "integration": self.dose_count,
        }[kind]

    def sessions(self) -> list[tuple[str, int]]:
        """The course's sessions in booking order: preparations, then each dose + integration."""
        out = [("preparation", i) for i in range(1, self.preparation_count + 1)]
        for k in range(1, self.dose_count + 1):
            out += [("dose", k), ("integration", k)]
        return out


@dataclass(frozen=True)
class Appointment:
    patient: str
    kind: str
    index: int
    day: int
    minute: int
    room: str | None
    staff: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.patient, self.kind, self.index)


@dataclass(frozen=True)
class DateWindow:
    """The days (horizon day indices, inclusive; may lie outside the horizon) one session of a
    course may start on, from the patient's care plan (``trellis.core.pathway.plan``). ``None``
    leaves that side open."""

    kind: str
    index: int
    earliest: int | None = None
    latest: int | None = None

    def holds(self, day: int) -> bool:
        return (self.earliest is None or day >= self.earliest) and (
            self.latest is None or day <= self.latest
        )


@dataclass(frozen=True)
class Patient:
    id: str
    track: str
    release_day: int
    language: str
    priority: int
    availability: tuple[Window, ...] | None = None
    booked: tuple[Appointment, ...] = ()
    windows: tuple[DateWindow, ...] = ()

    def window(self, kind: str, index: int) -> DateWindow | None:
        """The care-plan date window of session ``kind#index`` (None: only the track's rules)."""
        return next((w for w in self.windows if w.kind == kind and w.index == index), None)


@dataclass(frozen=True)
class Circle:
    """A fixed weekly peer integration circle (CLINICAL.md §7); blocks its room and facilitator."""

    id: str
    room: str
    facilitator: str
    weekday: int
    start: int
    minutes: int


@dataclass(frozen=True)
class Instance:
    name: str
    start_date: date
    days: int
    slot_minutes: int
    opening_hours: tuple[tuple[int, int] | None, ...]  # per weekday, Monday first
    nurse_ratio: int
    prescriber_on_site_for_esketamine: bool
    rooms: tuple[Room, ...]
    staff: tuple[Staff, ...]
    tracks: Mapping[str, Track]
    patients: tuple[Patient, ...]
    circles: tuple[Circle, ...] = ()

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.slot_minutes

    def weekday(self, day: int) -> int:
        return (self.start_date + timedelta(days=day)).weekday()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rooms", {r.id: r for r in self.rooms})
        object.__setattr__(self, "_staff", {s.id: s for s in self.staff})
        object.__setattr__(self, "_patients", {p.id: p for p in self.patients})

    def room(self, room_id: str) -> Room | None:
        found: Room | None = self.__dict__["_rooms"].get(room_id)
        return found

    def staff_member(self, staff_id: str) -> Staff | None:
        found: Staff | None = self.__dict__["_staff"].get(staff_id)
        return found

    def patient(self, patient_id: str) -> Patient | None:
        found: Patient | None = self.__dict__["_patients"].get(patient_id)
        return found

    def iso(self, day: int, minute: int) -> str:
        moment = datetime.combine(self.start_date, datetime.min.time())
        return (moment + timedelta(days=day, minutes=minute)).strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Plan:
    """A set of appointments plus how it was found (``status``: optimal, feasible, heuristic…)."""

    appointments: tuple[Appointment, ...]
    method: str = "unknown"
    status: str = "unknown"
    objective: int | None = None
    bound: int | None = None
    solve_seconds: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- parsing helpers
def _fail(path: str, message: str) -> InvalidInput:
    return InvalidInput(path, message)


def _obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"must be an object, got {type(value).__name__}")
    return value


def _keys(obj: Mapping[str, Any], path: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise _fail(f"{path}.{missing[0]}" if path else missing[0], "is required")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        where = f"{path}.{unknown[0]}" if path else unknown[0]
        raise _fail(where, "unknown field (check the spelling against docs/scheduling.md)")


def _int(value: Any, path: str, lo: int | None = None, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"must be an integer, got {value!r}")
    if lo is not None and value < lo:
        raise _fail(path, f"must be at least {lo}, got {value}")
    if hi is not None and value > hi:
        raise _fail(path, f"must be at most {hi}, got {value}")
    number: int = value
    return number


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"must be a non-empty string, got {value!r}")
    return value


def _ident(value: Any, path: str) -> str:
    text = _str(value, path)
    if not _ID.match(text):
        raise _fail(path, f"{text!r} is not a valid id (letters, digits, _ . : -; at most 64)")
    return text


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, f"must be a list, got {type(value).__name__}")
    return value


def parse_hhmm(value: Any, path: str) -> int:
    """``"08:30"`` → 510 minutes; ``"24:00"`` is allowed as an end of day."""
    text = _str(value, path)
    match = _HHMM.match(text)
    if not match:
        raise _fail(path, f"must be a time HH:MM, got {text!r}")
    minutes = int(match.group(1)) * 60 + int(match.group(2))
    if minutes > 1440:
        raise _fail(path, f"must be at most 24:00, got {text!r}")
    return minutes


def _date(value: Any, path: str) -> date:
    text = _str(value, path)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _fail(path, f"must be an ISO date YYYY-MM-DD, got {text!r}") from None


def _weekday(value: Any, path: str) -> int:
    text = _str(value, path).lower()
    if text not in WEEKDAYS:
        raise _fail(path, f"must be one of {', '.join(WEEKDAYS)}, got {value!r}")
    return WEEKDAYS.index(text)


def _windows(value: Any, path: str, days: int) -> tuple[Window, ...] | None:
    if value is None:
        return None
    out = []
    for i, raw in enumerate(_list(value, path)):
        p = f"{path}[{i}]"
        obj = _obj(raw, p)
        _keys(obj, p, {"start", "end"}, {"day", "weekday"})
        if ("day" in obj) == ("weekday" in obj):
            raise _fail(p, "give exactly one of 'day' (horizon day index) or 'weekday'")
        start = parse_hhmm(obj["start"], f"{p}.start")
        end = parse_hhmm(obj["end"], f"{p}.end")
        if end <= start:
            raise _fail(f"{p}.end", f"must be after start ({obj['start']}), got {obj['end']}")
        if "day" in obj:
            out.append(Window(start, end, day=_int(obj["day"], f"{p}.day", 0, days - 1)))
        else:
            out.append(Window(start, end, weekday=_weekday(obj["weekday"], f"{p}.weekday")))
    return tuple(out)


def _date_windows(value: Any, path: str, start_date: date, track: Track) -> tuple[DateWindow, ...]:
    """A patient's care-plan windows: ``[{"kind", "index", "earliest"?, "latest"?}]`` with ISO
    dates (inclusive; they may lie outside the horizon)."""
    if value is None:
        return ()
    out: list[DateWindow] = []
    seen: set[tuple[str, int]] = set()
    for i, raw in enumerate(_list(value, path)):
        p = f"{path}[{i}]"
        obj = _obj(raw, p)
        _keys(obj, p, {"kind", "index"}, {"earliest", "latest", "after", "name"})
        kind = _str(obj["kind"], f"{p}.kind")
        if kind not in COURSE_KINDS:
            raise _fail(f"{p}.kind", f"must be one of {', '.join(COURSE_KINDS)}, got {kind!r}")
        index = _int(obj["index"], f"{p}.index", 1, track.count(kind))
        if (kind, index) in seen:
            raise _fail(f"{p}.index", f"{kind}#{index} has two windows")
        seen.add((kind, index))
        if "earliest" not in obj and "latest" not in obj:
            raise _fail(p, "give 'earliest', 'latest' or both")
        lo = hi = None
        if "earliest" in obj:
            lo = (_date(obj["earliest"], f"{p}.earliest") - start_date).days
        if "latest" in obj:
            hi = (_date(obj["latest"], f"{p}.latest") - start_date).days
        if lo is not None and hi is not None and hi < lo:
            raise _fail(f"{p}.latest", f"must not be before earliest ({obj['earliest']})")
        out.append(DateWindow(kind, index, lo, hi))
    return tuple(out)


def window_to_json(instance: Instance, w: DateWindow) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": w.kind, "index": w.index}
    for name, day in (("earliest", w.earliest), ("latest", w.latest)):
        if day is not None:
            out[name] = (instance.start_date + timedelta(days=day)).isoformat()
    return out


def _unique(ids: list[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise _fail(f"{path}[{i}].id", f"duplicate {what} id {ident!r}")
        seen.add(ident)


def _minutes_on_grid(value: Any, path: str, slot: int) -> int:
    minutes = _int(value, path, 1, 1440)
    if minutes % slot:
        raise _fail(path, f"must be a multiple of slot_minutes ({slot}), got {minutes}")
    return minutes


def parse_start(value: Any, path: str, start_date: date) -> tuple[int, int]:
    """An ISO local date-time (no zone) → (horizon day index, minute of the day)."""
    text = _str(value, path)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(path, f"must be an ISO date-time YYYY-MM-DDTHH:MM, got {text!r}") from None
    if moment.tzinfo is not None:
        raise _fail(path, f"must be clinic-local time without a zone offset, got {text!r}")
    if moment.second or moment.microsecond:
        raise _fail(path, f"must be on a whole minute, got {text!r}")
    return (moment.date() - start_date).days, moment.hour * 60 + moment.minute


# --------------------------------------------------------------------------- tracks
TRACK_FIELDS = {
    "drug",
    "preparation_count",
    "dose_count",
    "dose_spacing_days",
    "integration_within_hours",
    "minutes",
    "priority",
}


def parse_track(track_id: str, raw: Any, path: str, slot: int) -> Track:
    """Validate one track's rules; ``path`` names it in error messages."""
    obj = _obj(raw, path)
    _keys(obj, path, TRACK_FIELDS, {"start_within_hours", "description", "source"})
    drug = _str(obj["drug"], f"{path}.drug")
    if drug not in DRUGS:
        raise _fail(f"{path}.drug", f"must be one of {', '.join(sorted(DRUGS))}, got {drug!r}")
    spacing = _obj(obj["dose_spacing_days"], f"{path}.dose_spacing_days")
    _keys(spacing, f"{path}.dose_spacing_days", {"min", "max"}, set())
    lo = _int(spacing["min"], f"{path}.dose_spacing_days.min", 1, 366)
    hi = _int(spacing["max"], f"{path}.dose_spacing_days.max", 1, 366)
    if hi < lo:
        raise _fail(f"{path}.dose_spacing_days.max", f"must be at least min ({lo}), got {hi}")
    minutes = _obj(obj["minutes"], f"{path}.minutes")
    _keys(minutes, f"{path}.minutes", set(COURSE_KINDS), set())
    start_within = obj.get("start_within_hours")
    return Track(
        id=track_id,
        drug=drug,
        preparation_count=_int(obj["preparation_count"], f"{path}.preparation_count", 0, 20),
        dose_count=_int(obj["dose_count"], f"{path}.dose_count", 1, 40),
        dose_spacing_min_days=lo,
        dose_spacing_max_days=hi,
        integration_within_hours=_int(
            obj["integration_within_hours"], f"{path}.integration_within_hours", 1, 24 * 60
        ),
        preparation_minutes=_minutes_on_grid(
            minutes["preparation"], f"{path}.minutes.preparation", slot
        ),
        dose_minutes=_minutes_on_grid(minutes["dose"], f"{path}.minutes.dose", slot),
        integration_minutes=_minutes_on_grid(
            minutes["integration"], f"{path}.minutes.integration", slot
        ),
        start_within_hours=None
        if start_within is None
        else _int(start_within, f"{path}.start_within_hours", 1, 24 * 366),
        priority=_int(obj["priority"], f"{path}.priority", 1, 100),
    )


# --------------------------------------------------------------------------- instance
INSTANCE_FIELDS = {
    "start_date",
    "days",
    "slot_minutes",
    "opening_hours",
    "nurse_ratio",
    "rooms",
    "staff",
    "tracks",
    "patients",
}


def parse_appointment(raw: Any, path: str, start_date: date) -> Appointment:
    obj = _obj(raw, path)
    _keys(obj, path, {"patient", "kind", "index", "start"}, {"room", "staff", "end"})
    kind = _str(obj["kind"], f"{path}.kind")
    if kind not in KINDS:
        raise _fail(f"{path}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    day, minute = parse_start(obj["start"], f"{path}.start", start_date)
    room = obj.get("room")
    if room is not None:
        room = _str(room, f"{path}.room")
    staff = tuple(
        _str(s, f"{path}.staff[{i}]") for i, s in enumerate(_list(obj.get("staff", []), path))
    )
    return Appointment(
        patient=_str(obj["patient"], f"{path}.patient"),
        kind=kind,
        index=_int(obj["index"], f"{path}.index", 1),
        day=day,
        minute=minute,
        room=room,
        staff=staff,
    )


def parse_instance(data: Any) -> Instance:
    """Validate a JSON instance (already decoded) and return the frozen :class:`Instance`.

    Raises :class:`InvalidInput` naming the first wrong field by its JSON path.
    """
    obj = _obj(data, "instance")
    _keys(
        obj,
        "",
        INSTANCE_FIELDS,
        {"name", "circles", "prescriber_on_site_for_esketamine", "format", "description"},
    )
    start_date = _date(obj["start_date"], "start_date")
    days = _int(obj["days"], "days", 1, 366)
    slot = _int(obj["slot_minutes"], "slot_minutes", 5, 240)
    if 1440 % slot:
        raise _fail("slot_minutes", f"must divide a day (1440 minutes) evenly, got {slot}")

    hours_obj = _obj(obj["opening_hours"], "opening_hours")
    unknown = sorted(set(hours_obj) - set(WEEKDAYS))
    if unknown:
        raise _fail(f"opening_hours.{unknown[0]}", f"must be a weekday ({', '.join(WEEKDAYS)})")
    opening: list[tuple[int, int] | None] = []
    for wd in WEEKDAYS:
        value = hours_obj.get(wd)
        if value is None:
            opening.append(None)
            continue
        pair = _list(value, f"opening_hours.{wd}")
        if len(pair) != 2:
            raise _fail(f"opening_hours.{wd}", 'must be ["HH:MM", "HH:MM"] or null (closed)')
        o = parse_hhmm(pair[0], f"opening_hours.{wd}[0]")
        c = parse_hhmm(pair[1], f"opening_hours.{wd}[1]")
        if c <= o:
            raise _fail(f"opening_hours.{wd}[1]", "closing time must be after opening time")
        if o % slot or c % slot:
            raise _fail(f"opening_hours.{wd}", f"times must be on the {slot}-minute slot grid")
        opening.append((o, c))

    nurse_ratio = _int(obj["nurse_ratio"], "nurse_ratio", 1, 20)
    prescriber_rule = obj.get("prescriber_on_site_for_esketamine", True)
    if not isinstance(prescriber_rule, bool):
        raise _fail("prescriber_on_site_for_esketamine", "must be true or false")

    rooms = []
    for i, raw in enumerate(_list(obj["rooms"], "rooms")):
        p = f"rooms[{i}]"
        r = _obj(raw, p)
        _keys(r, p, {"id", "kind"}, {"availability", "name"})
        kind = _str(r["kind"], f"{p}.kind")
        if kind not in ROOM_KINDS:
            raise _fail(
                f"{p}.kind", f"must be one of {', '.join(sorted(ROOM_KINDS))}, got {kind!r}"
            )
        rooms.append(
            Room(
                _ident(r["id"], f"{p}.id"),
                kind,
                _windows(r.get("availability"), f"{p}.availability", days),
            )
        )
    _unique([r.id for r in rooms], "rooms", "room")

    staff = []
    for i, raw in enumerate(_list(obj["staff"], "staff")):
        p = f"staff[{i}]"
        s = _obj(raw, p)
        _keys(s, p, {"id", "roles"}, {"languages", "availability", "name"})
        roles = [_str(x, f"{p}.roles[{j}]") for j, x in enumerate(_list(s["roles"], f"{p}.roles"))]
        if not roles:
            raise _fail(f"{p}.roles", "must name at least one role")
        for j, role in enumerate(roles):
            if role not in ROLES:
                raise _fail(
                    f"{p}.roles[{j}]", f"must be one of {', '.join(sorted(ROLES))}, got {role!r}"
                )
        langs = [
            _str(x, f"{p}.languages[{j}]")
            for j, x in enumerate(_list(s.get("languages", ["en"]), f"{p}.languages"))
        ]
        staff.append(
            Staff(
                _ident(s["id"], f"{p}.id"),
                frozenset(roles),
                frozenset(lang.lower() for lang in langs),
                _windows(s.get("availability"), f"{p}.availability", days),
            )
        )
    _unique([s.id for s in staff], "staff", "staff")
    room_ids = {r.id for r in rooms}
    if room_ids & {s.id for s in staff}:
        clash = sorted(room_ids & {s.id for s in staff})[0]
        raise _fail("staff", f"id {clash!r} is used by a room and a staff member")

    tracks_obj = _obj(obj["tracks"], "tracks")
    if not tracks_obj:
        raise _fail("tracks", "must define at least one track")
    tracks = {
        _ident(tid, f"tracks.{tid}"): parse_track(tid, raw, f"tracks.{tid}", slot)
        for tid, raw in tracks_obj.items()
    }

    patients = []
    for i, raw in enumerate(_list(obj["patients"], "patients")):
        p = f"patients[{i}]"
        po = _obj(raw, p)
        _keys(
            po,
            p,
            {"id", "track", "release"},
            {"language", "priority", "availability", "booked", "windows"},
        )
        pid = _ident(po["id"], f"{p}.id")
        track = _str(po["track"], f"{p}.track")
        if track not in tracks:
            raise _fail(
                f"{p}.track", f"unknown track {track!r} (defined: {', '.join(sorted(tracks))})"
            )
        release_day = (_date(po["release"], f"{p}.release") - start_date).days
        if release_day >= days:
            raise _fail(
                f"{p}.release", f"is after the planning horizon ({days} days from {start_date})"
            )
        booked = tuple(
            parse_appointment(b, f"{p}.booked[{j}]", start_date)
            for j, b in enumerate(_list(po.get("booked", []), f"{p}.booked"))
        )
        for j, b in enumerate(booked):
            if b.patient != pid:
                raise _fail(f"{p}.booked[{j}].patient", f"must be this patient ({pid!r})")
            if b.kind not in COURSE_KINDS:
                raise _fail(f"{p}.booked[{j}].kind", "only course sessions can be pre-booked")
        windows = _date_windows(po.get("windows"), f"{p}.windows", start_date, tracks[track])
        priority = po.get("priority")
        patients.append(
            Patient(
                id=pid,
                track=track,
                release_day=release_day,
                language=_str(po.get("language", "en"), f"{p}.language").lower(),
                priority=tracks[track].priority
                if priority is None
                else _int(priority, f"{p}.priority", 1, 100),
                availability=_windows(po.get("availability"), f"{p}.availability", days),
                booked=booked,
                windows=windows,
            )
        )
    _unique([p.id for p in patients], "patients", "patient")

    circles = []
    for i, raw in enumerate(_list(obj.get("circles", []), "circles")):
        p = f"circles[{i}]"
        co = _obj(raw, p)
        _keys(co, p, {"id", "room", "facilitator", "weekday", "start", "minutes"}, {"name"})
        room_id = _str(co["room"], f"{p}.room")
        room = next((r for r in rooms if r.id == room_id), None)
        if room is None or room.kind != "circle_room":
            raise _fail(f"{p}.room", f"{room_id!r} is not a circle_room of this instance")
        fac = _str(co["facilitator"], f"{p}.facilitator")
        member = next((s for s in staff if s.id == fac), None)
        if member is None or "peer_facilitator" not in member.roles:
            raise _fail(f"{p}.facilitator", f"{fac!r} is not a peer_facilitator of this instance")
        circles.append(
            Circle(
                _ident(co["id"], f"{p}.id"),
                room_id,
                fac,
                _weekday(co["weekday"], f"{p}.weekday"),
                parse_hhmm(co["start"], f"{p}.start"),
                _minutes_on_grid(co["minutes"], f"{p}.minutes", slot),
            )
        )
    return Instance(
        name=str(obj.get("name", "")),
        start_date=start_date,
        days=days,
        slot_minutes=slot,
        opening_hours=tuple(opening),
        nurse_ratio=nurse_ratio,
        prescriber_on_site_for_esketamine=prescriber_rule,
        rooms=tuple(rooms),
        staff=tuple(staff),
        tracks=tracks,
        patients=tuple(patients),
        circles=tuple(circles),
    )


# --------------------------------------------------------------------------- plan
def parse_plan(data: Any, instance: Instance) -> Plan:
    """Validate a JSON plan's structure (not its feasibility: that is :func:`verify`'s job)."""
    obj = _obj(data, "plan")
    _keys(
        obj,
        "",
        {"appointments"},
        {
            "method",
            "status",
            "objective",
            "bound",
            "solve_seconds",
            "courses_complete",
            "instance",
            "format",
        },
    )
    appts = tuple(
        parse_appointment(a, f"appointments[{i}]", instance.start_date)
        for i, a in enumerate(_list(obj["appointments"], "appointments"))
    )
    return Plan(
        appts, method=str(obj.get("method", "unknown")), status=str(obj.get("status", "unknown"))
    )


def appointment_to_json(instance: Instance, appt: Appointment) -> dict[str, Any]:
    minutes = _duration(instance, appt)
    out: dict[str, Any] = {
        "patient": appt.patient,
        "kind": appt.kind,
        "index": appt.index,
        "start": instance.iso(appt.day, appt.minute),
    }
    if minutes is not None:
        out["end"] = instance.iso(appt.day, appt.minute + minutes)
    out["room"] = appt.room
    out["staff"] = list(appt.staff)
    return out


def _duration(instance: Instance, appt: Appointment) -> int | None:
    patient = instance.patient(appt.patient)
    if patient is None or appt.kind not in COURSE_KINDS:
        return None
    return instance.tracks[patient.track].minutes(appt.kind)


def sort_appointments(appts: Sequence[Appointment]) -> tuple[Appointment, ...]:
    order = {k: i for i, k in enumerate(KINDS)}
    return tuple(sorted(appts, key=lambda a: (a.day, a.minute, a.patient, order[a.kind], a.index)))


def plan_to_json(
    instance: Instance, plan: Plan, courses_complete: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": "trellis-schedule-plan/1",
        "instance": instance.name,
        "method": plan.method,
        "status": plan.status,
        "objective": plan.objective,
        "bound": plan.bound,
        "solve_seconds": None if plan.solve_seconds is None else round(plan.solve_seconds, 3),
    }
    if courses_complete is not None:
        out["courses_complete"] = courses_complete
    out["appointments"] = [
        appointment_to_json(instance, a) for a in sort_appointments(plan.appointments)
    ]
    return out

"""Seeded generator of realistic clinic-month instances (synthetic data only).

A clinic open on weekdays 08:00–18:00 (closed at weekends), dosing chairs, therapy rooms and a
circle room with one weekly peer circle (CLINICAL.md §7: 90 min); nurses on day shifts (one works
four days a week), two prescribers (one mornings only, so esketamine needs planning around the
REMS on-site rule, CLINICAL.md §4), therapists of whom about one in five also speaks Spanish, and
patients with a realistic track mix, a waiting list at the start and referrals over the first
half of the month, ~10 % Spanish
speakers, a few esketamine-suicidal patients released on weekdays, and varied availability.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

from trellis.core.errors import InvalidInput
from trellis.core.scheduling.model import WEEKDAYS, parse_track
from trellis.core.scheduling.windows import pathway_windows

TRACK_MIX = (
    ("iv-trd", 34),
    ("esketamine-trd", 18),
    ("esketamine-suicidal", 4),
    ("iv-ptsd", 12),
    ("iv-ocd", 8),
    ("iv-aud", 12),
    ("complex-trauma", 12),
)
DEFAULT_START = date(2026, 2, 2)  # a Monday


@lru_cache(maxsize=1)
def default_tracks() -> dict[str, Any]:
    """The packaged track rules (``data/tracks.json``), validated at load."""
    name = "trellis.core.scheduling/data/tracks.json"
    text = (
        resources.files("trellis.core.scheduling").joinpath("data/tracks.json").read_text("utf-8")
    )
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(name, f"not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise InvalidInput(name, "must be an object of tracks")
    for tid, body in raw.items():
        parse_track(tid, body, f"{name}: {tid}", 30)  # raises naming file, track and field
    return raw


def generate_instance(
    seed: int,
    days: int = 28,
    chairs: int = 6,
    nurses: int = 3,
    therapists: int = 5,
    patients: int = 150,
    start_date: date = DEFAULT_START,
    windows: bool = False,
) -> dict[str, Any]:
    """A JSON-ready instance; the same arguments always give the same instance.

    ``windows``: every patient also carries the date windows its care plan gives each session
    (:func:`trellis.core.scheduling.windows.pathway_windows`, from the pathway engine on the
    clinic's weekdays), as the booking app's instances do."""
    for flag, value, lo, hi in (
        ("--days", days, 1, 366),
        ("--chairs", chairs, 1, 200),
        ("--nurses", nurses, 1, 200),
        ("--therapists", therapists, 1, 200),
        ("--patients", patients, 0, 20000),
    ):
        if value < lo or value > hi:
            raise InvalidInput(flag, f"must be between {lo} and {hi}, got {value}")
    rng = random.Random(seed)
    tracks = default_tracks()
    rooms: list[dict[str, Any]] = [
        {"id": f"chair-{i + 1}", "kind": "dosing_chair"} for i in range(chairs)
    ]
    rooms += [{"id": f"room-{i + 1}", "kind": "therapy_room"} for i in range(therapists)]
    rooms.append({"id": "circle-room", "kind": "circle_room"})

    staff: list[dict[str, Any]] = [
        {"id": "rx-1", "roles": ["prescriber"], "languages": ["en"]},
        {
            "id": "rx-2",
            "roles": ["prescriber"],
            "languages": ["en", "es"],
            "availability": [
                {"weekday": wd, "start": "08:00", "end": "13:00"} for wd in WEEKDAYS[:5]
            ],
        },
    ]
    for i in range(nurses):
        nurse: dict[str, Any] = {"id": f"rn-{i + 1}", "roles": ["nurse"], "languages": ["en"]}
        if i == nurses - 1 and nurses > 1:
            off = rng.choice(WEEKDAYS[:5])
            nurse["availability"] = [
                {"weekday": wd, "start": "08:00", "end": "18:00"}
                for wd in WEEKDAYS[:5]
                if wd != off
            ]
        staff.append(nurse)
    spanish = max(1, round(therapists / 5))
    for i in range(therapists):
        staff.append(
            {
                "id": f"th-{i + 1}",
                "roles": ["therapist"],
                "languages": ["en", "es"] if i < spanish else ["en"],
            }
        )
    staff.append({"id": "peer-1", "roles": ["peer_facilitator"], "languages": ["en", "es"]})
    circles = [
        {
            "id": "circle-wed",
            "room": "circle-room",
            "facilitator": "peer-1",
            "weekday": "wed",
            "start": "16:00",
            "minutes": 90,
        }
    ]

    names = [t for t, _ in TRACK_MIX]
    weights = [w for _, w in TRACK_MIX]
    release_span = max(1, days // 2)
    pts: list[dict[str, Any]] = []
    for i in range(patients):
        track = rng.choices(names, weights)[0]
        # A waiting list at the start of the month, then new referrals over its first half.
        release = 0 if rng.random() < 0.45 else rng.randrange(release_span)
        if track == "esketamine-suicidal":
            while (start_date + timedelta(days=release)).weekday() > 2:  # Mon–Wed
                release = (release + 1) % release_span
        p: dict[str, Any] = {
            "id": f"P{i + 1:04d}",
            "track": track,
            "release": (start_date + timedelta(days=release)).isoformat(),
            "language": "es" if rng.random() < 0.10 else "en",
        }
        shape = rng.random()
        if shape < 0.15:
            p["availability"] = [
                {"weekday": wd, "start": "08:00", "end": "13:00"} for wd in WEEKDAYS[:5]
            ]
        elif shape < 0.30:
            p["availability"] = [
                {"weekday": wd, "start": "12:00", "end": "18:00"} for wd in WEEKDAYS[:5]
            ]
        elif shape < 0.40:
            off = rng.choice(WEEKDAYS[:5])
            p["availability"] = [
                {"weekday": wd, "start": "08:00", "end": "18:00"}
                for wd in WEEKDAYS[:5]
                if wd != off
            ]
        if windows:
            found = pathway_windows(
                track,
                tracks[track]["preparation_count"],
                tracks[track]["dose_count"],
                start_date + timedelta(days=release),
                frozenset(range(5)),
            )
            if found:
                p["windows"] = found
        pts.append(p)

    return {
        "format": "trellis-schedule-instance/1",
        "name": f"clinic-month seed={seed} days={days} chairs={chairs} nurses={nurses} "
        f"therapists={therapists} patients={patients}",
        "start_date": start_date.isoformat(),
        "days": days,
        "slot_minutes": 30,
        "opening_hours": {
            **{wd: ["08:00", "18:00"] for wd in WEEKDAYS[:5]},
            "sat": None,
            "sun": None,
        },
        "nurse_ratio": 2,
        "prescriber_on_site_for_esketamine": True,
        "rooms": rooms,
        "staff": staff,
        "circles": circles,
        "tracks": tracks,
        "patients": pts,
    }

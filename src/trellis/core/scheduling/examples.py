"""A tiny hand-made instance and a valid plan for it (synthetic): documentation and tests.

One clinic week from Monday 2026-02-02: two chairs, two therapy rooms, one nurse (ratio 1), a
prescriber on site 08:00–14:00, an English-speaking and a bilingual therapist (the latter Mon–Wed
only), a peer circle on Wednesdays. Patient A (IV, English, free Mon–Tue mornings) and patient B
(esketamine, Spanish, priority) are booked; patient C (released Wednesday) is not.
"""

from __future__ import annotations

import copy
from typing import Any

_WEEK = ("mon", "tue", "wed", "thu", "fri")

TINY_INSTANCE: dict[str, Any] = {
    "format": "trellis-schedule-instance/1",
    "name": "tiny week",
    "start_date": "2026-02-02",
    "days": 7,
    "slot_minutes": 30,
    "opening_hours": {
        **{wd: ["08:00", "18:00"] for wd in _WEEK},
        "sat": None,
        "sun": None,
    },
    "nurse_ratio": 1,
    "prescriber_on_site_for_esketamine": True,
    "rooms": [
        {"id": "chair-1", "kind": "dosing_chair"},
        {"id": "chair-2", "kind": "dosing_chair"},
        {
            "id": "room-1",
            "kind": "therapy_room",
            "availability": [{"weekday": wd, "start": "08:00", "end": "17:00"} for wd in _WEEK],
        },
        {"id": "room-2", "kind": "therapy_room"},
        {"id": "circle-room", "kind": "circle_room"},
    ],
    "staff": [
        {
            "id": "rx-1",
            "roles": ["prescriber"],
            "availability": [{"weekday": wd, "start": "08:00", "end": "14:00"} for wd in _WEEK],
        },
        {"id": "rn-1", "roles": ["nurse"]},
        {"id": "th-1", "roles": ["therapist"], "languages": ["en"]},
        {
            "id": "th-2",
            "roles": ["therapist"],
            "languages": ["en", "es"],
            "availability": [
                {"weekday": wd, "start": "08:00", "end": "18:00"} for wd in ("mon", "tue", "wed")
            ],
        },
        {"id": "peer-1", "roles": ["peer_facilitator"], "languages": ["en", "es"]},
    ],
    "circles": [
        {
            "id": "circle-wed",
            "room": "circle-room",
            "facilitator": "peer-1",
            "weekday": "wed",
            "start": "16:00",
            "minutes": 90,
        }
    ],
    "tracks": {
        "mini-iv": {
            "drug": "ketamine_iv",
            "preparation_count": 1,
            "dose_count": 2,
            "dose_spacing_days": {"min": 1, "max": 2},
            "integration_within_hours": 24,
            "minutes": {"preparation": 60, "dose": 120, "integration": 60},
            "priority": 1,
        },
        "mini-esk": {
            "drug": "esketamine",
            "preparation_count": 1,
            "dose_count": 2,
            "dose_spacing_days": {"min": 1, "max": 2},
            "integration_within_hours": 24,
            "minutes": {"preparation": 60, "dose": 150, "integration": 60},
            "start_within_hours": 48,
            "priority": 5,
        },
    },
    "patients": [
        {
            "id": "A",
            "track": "mini-iv",
            "release": "2026-02-02",
            "language": "en",
            "availability": [
                {"weekday": wd, "start": "08:00", "end": "13:00"} for wd in ("mon", "tue")
            ],
        },
        {"id": "B", "track": "mini-esk", "release": "2026-02-02", "language": "es"},
        {"id": "C", "track": "mini-iv", "release": "2026-02-04", "language": "en"},
    ],
}


def _a(patient: str, kind: str, index: int, start: str, room: str, *staff: str) -> dict[str, Any]:
    return {
        "patient": patient,
        "kind": kind,
        "index": index,
        "start": start,
        "room": room,
        "staff": list(staff),
    }


TINY_PLAN: dict[str, Any] = {
    "method": "hand",
    "status": "feasible",
    "appointments": [
        _a("A", "preparation", 1, "2026-02-02T08:00", "room-1", "th-1"),
        _a("A", "dose", 1, "2026-02-02T09:00", "chair-1"),
        _a("A", "integration", 1, "2026-02-02T11:00", "room-1", "th-1"),
        _a("A", "dose", 2, "2026-02-03T09:00", "chair-1"),
        _a("A", "integration", 2, "2026-02-03T11:00", "room-1", "th-1"),
        _a("B", "preparation", 1, "2026-02-02T08:00", "room-2", "th-2"),
        _a("B", "dose", 1, "2026-02-02T11:00", "chair-2"),
        _a("B", "integration", 1, "2026-02-02T14:00", "room-2", "th-2"),
        _a("B", "dose", 2, "2026-02-04T09:00", "chair-2"),
        _a("B", "integration", 2, "2026-02-04T12:00", "room-2", "th-2"),
    ],
}


def tiny_instance() -> dict[str, Any]:
    """A fresh deep copy of :data:`TINY_INSTANCE` (safe to mutate)."""
    return copy.deepcopy(TINY_INSTANCE)


def tiny_plan() -> dict[str, Any]:
    """A fresh deep copy of :data:`TINY_PLAN`, valid for :func:`tiny_instance`."""
    return copy.deepcopy(TINY_PLAN)
